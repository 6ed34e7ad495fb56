// PERFT (Liu et al., "PERFT: Parameter-Efficient Routed Fine-Tuning for Mixture-of-Expert Model",
// arXiv:2411.08212): PEFT experts routed inside an MoE block — PERFT-R puts N bottleneck experts
// (d → r → d, LoRA-like) with their own router [N, d], top-K per token, beside the frozen MoE FFN
// of each layer; only they train. The language writes them as a second, ungated MoE member of the
// block that alone trains (docs/language.md, "PEFT experts routed inside an MoE layer").
//
// The base is OLMoE-1B-7B, one of the paper's two models, from its official config
// (test/fixtures/hf/olmoe-1b-7b-0924.json: d 2048, 16 layers, 16 heads with full-width q/k norms,
// 64 experts of width 1024, top-8, vocabulary 50,304, untied head; 6,919,161,856 stored, the
// published total in test/fixtures/hf/SOURCES.md). The (N, K, r) configurations below are chosen
// across PERFT-R's design dimensions (experts, top-K, bottleneck); every count is derived by hand
// from the shapes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelReport } from '../../fixtures/model-report.js';
import { analyze } from '../../../src/core/index.js';

const d = 2048n;
const L = 16n;
const vocab = 50_304n;

/** OLMoE-1B-7B with `moe` as written and the given member after it, and a variant training `trains`. */
const olmoe = (moe: string, extra: string, variant: string, trains: string) => `
model OLMoE {
  d = 2048
  block Decoder {
    attn_norm = RMSNorm(d)
    attn      = Attention(d, 16, qk_norm: rms, qk_norm_width: full, rope: true)
    mlp_norm  = RMSNorm(d)
    moe       = ${moe}${extra}
  }
  embed   = Embedding(50_304, d)
  body    = Decoder * 16
  norm    = RMSNorm(d)
  lm_head = Linear(d, 50_304)
}
variant ${variant} of OLMoE {
  freeze embed, body, norm, lm_head
  train ${trains}
}
`;

const spec = (N: number, K: number, r: number) =>
  olmoe('MoE(d, 1024, 64, 8, normalize: false)', `\n    perft     = MoE(d, ${r}, experts: ${N}, top_k: ${K}, gated: false)`, 'PERFT_R', 'body.perft');

// OLMoE-1B-7B by hand, per layer: two RMSNorms, q/k/v/o, full-width q and k norms, the router
// [64, d] and 64 SwiGLU experts (gate, up, down) of width 1024, of which 8 run per token.
const expert = 3n * d * 1024n;
const layerStored = 2n * d + 4n * d * d + 2n * d + 64n * d + 64n * expert;
const layerActive = layerStored - (64n - 8n) * expert;
const outside = 2n * vocab * d + d; // embedding, untied head, final norm
const baseStored = L * layerStored + outside;
const baseActive = L * layerActive + outside;

test('OLMoE-1B-7B by hand is its published total', () => {
  assert.equal(baseStored, 6_919_161_856n);
});

for (const [N, K, r] of [
  [4, 2, 16],
  [8, 2, 64],
  [2, 1, 128],
] as const) {
  test(`PERFT-R with ${N} bottleneck experts of rank ${r}, top-${K}, in every OLMoE layer: stored, active and trainable by hand`, () => {
    const m = modelReport(spec(N, K, r), 'PERFT_R');
    // Each layer trains its router N·d and N experts d → r → d (down [r, d], up [d, r], no biases).
    const perLayer = BigInt(N) * d + BigInt(N) * 2n * d * BigInt(r);
    assert.equal(m.params.trainable, L * perLayer);
    assert.equal(m.params.stored, baseStored + L * perLayer);
    // A token runs the router and K of the N bottleneck experts, beside OLMoE's 8 of 64.
    assert.equal(m.params.active, baseActive + L * (BigInt(N) * d + BigInt(K) * 2n * d * BigInt(r)));
    // The frozen base is everything but the PEFT experts: its stored count is OLMoE's.
    const base = modelReport(spec(N, K, r), 'OLMoE');
    assert.equal(base.params.stored - L * perLayer, baseStored);
    assert.equal(base.params.trainable, base.params.stored);
  });
}

// PERFT-E (embedded_routing_adapter in the reference's OlmoeMLP): one LoRA-type unit d → r → d
// inside every routed expert, added to the expert's output, so the frozen router picks the units
// with their experts — `MoE(…, expert_adapter: r)`.
const embedded = (r: number | 'none') => olmoe(`MoE(d, 1024, 64, 8, normalize: false, expert_adapter: ${r})`, '', 'PERFT_E', 'body.moe.expert_adapter_down, body.moe.expert_adapter_up');

for (const r of [4, 16, 64]) {
  test(`PERFT-E with rank-${r} units inside each of OLMoE's 64 experts: stored, active, trainable and decode FLOPs by hand`, () => {
    const m = modelReport(embedded(r), 'PERFT_E');
    const unit = 2n * d * BigInt(r); // lora_A [r, d], lora_B [d, r]
    assert.equal(m.params.trainable, L * 64n * unit);
    assert.equal(m.params.stored, baseStored + L * 64n * unit);
    // A token runs the units of its 8 chosen experts.
    assert.equal(m.params.active, baseActive + L * 8n * unit);
    // Each chosen unit is two matmuls d → r → d: 2·unit FLOPs per token, beside the base's.
    // `none`: the argument not given (and no variant training the units that are not there).
    const plain = modelReport(embedded('none').replace(/variant[\s\S]*$/, ''), 'OLMoE');
    assert.equal(plain.params.stored, baseStored);
    assert.equal(m.flops.decode - plain.flops.decode, L * 8n * 2n * unit);
  });
}

test('expert_adapter takes a positive integer width: located range, integer and type diagnostics', () => {
  const codes = (value: string) => {
    const src = `model M {\n  embed = Embedding(100, 64)\n  moe = MoE(64, 32, experts: 8, top_k: 2, expert_adapter: ${value})\n}\n`;
    return analyze(src).diagnostics.map((x) => [x.code, src.slice(x.range.start, x.range.end)]);
  };
  assert.deepEqual(codes('0'), [['npas-eval-range', '0']]);
  assert.deepEqual(codes('2.5'), [['npas-eval-not-integer', '2.5']]);
  assert.deepEqual(codes('true'), [['npas-eval-type', 'true']]);
});
