// The Sparse Universal Transformer (arXiv:2310.07096) in examples/sparse-universal-transformer.npas,
// against counts derived here from its configuration (shawntan/SUT scripts/params_de.sh) and the
// modules of its reference code, never from the engine:
// - moa_attention.py: k_proj, v_proj = Linear(d, expert_dim, bias=False); q_proj = MoE(d,
//   expert_dim, E, k) whose `experts` [E, expert_dim, d] and `output_experts` [E, d, expert_dim]
//   hold the per-expert W_q and W_o; w_gate = Linear(d, d) · tanh · Linear(d, E, bias=False)
//   (mlp_router); rel_pos_emb [expert_dim / head_dim, head_dim, 2·64 + 1] in self-attention;
// - sut_transformer_layer.py: the FFN MoE(d, 512, E, k, bias=True) (up and down per expert with
//   biases, the same MLP router); LayerNorms after attention (and cross-attention) and the FFN;
// - halting.py ACTWrapper: _gate = Linear(d, d) · GELU · Linear(d, 2, bias=False), run before every
//   step after the first;
// - transformer_encoder.py: one universal layer applied `layers` = 6 times.
// A multiply-add is 2 FLOPs; attention costs 2·heads·(score + value dims) per attended key.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import type { ModelReport } from '../../../src/core/analysis/report-types.js';

const TEXT = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'sparse-universal-transformer.npas'), 'utf8');
const S = 128n;
const SRC = 96n;
const result = analyze(TEXT, { seq: Number(S), srcSeq: Number(SRC), batch: 1, dtype: 'bf16' });
const model = (name: string): ModelReport => {
  const m = result.models.find((x) => x.name === name);
  assert.ok(m, name);
  return m;
};

// params_de.sh
const T = 6n;
const d = 512n;
const E = 48n;
const k = 4n;
const expertDim = 256n;
const headDim = 64n;
const heads = expertDim / headDim; // per expert
const ffE = 48n;
const ffK = 4n;
const ff = 512n;
const V = 32_768n;

const mlpRouter = d * d + d + E * d;
const relPos = heads * headDim * (2n * 64n + 1n);
const moaStored = (self: boolean): bigint => mlpRouter + 2n * E * d * expertDim + 2n * d * expertDim + (self ? relPos : 0n);
const moaActive = (self: boolean): bigint => mlpRouter + 2n * k * d * expertDim + 2n * d * expertDim + (self ? relPos : 0n);
const ln = 2n * d;
const ffnStored = d * d + d + ffE * d + 2n * ffE * (d * ff) + ffE * (ff + d);
const ffnActive = d * d + d + ffE * d + 2n * ffK * (d * ff) + ffK * (ff + d);
const encoderStep = moaStored(true) + ln + ffnStored + ln;
const decoderStep = moaStored(true) + ln + moaStored(false) + ln + ffnStored + ln;
const haltingUnit = d * d + d + d * 2n;

test('SUT: stored parameters from the configuration — one encoder step, one decoder step, one shared table', () => {
  assert.equal(encoderStep, 38_669_568n);
  assert.equal(decoderStep, 51_802_880n);
  assert.equal(model('SUT').params.stored, encoderStep + decoderStep + V * d);
  // Unrolled: six applications of each step; the tied tables count once per use (three).
  assert.equal(model('SUT').params.effective, T * (encoderStep + decoderStep) + 3n * V * d);
  // Unrolled, each of the six applications stores its own weights; tying changes no compute.
  assert.equal(model('SUT_Unrolled').params.stored, T * (encoderStep + decoderStep) + V * d);
  assert.equal(model('SUT_Unrolled').flops.decode, model('SUT').flops.decode);
  // Halting adds one unit per stack to what is stored, nothing else.
  assert.equal(model('SUT_Halting').params.stored, model('SUT').params.stored + 2n * haltingUnit);
});

test('SUT: active parameters per token — top-4 of 48 attention and FFN experts at every step', () => {
  const encoderActive = moaActive(true) + ln + ffnActive + ln;
  const decoderActive = moaActive(true) + ln + moaActive(false) + ln + ffnActive + ln;
  assert.equal(model('SUT').params.active, T * (encoderActive + decoderActive) + 3n * V * d);
});

test('SUT: decode FLOPs and KV at the full depth, and at the expected depth with halting', () => {
  // Per decode step of the decoder (the encoder ran once over the source):
  const routerFlops = 2n * (d * d + d * E);
  const moaQueryFlops = k * 2n * (2n * d * expertDim); // W_q and W_o of the k chosen experts
  const kvFlops = 2n * (2n * d * expertDim);
  const relFlops = 2n * k * heads * headDim * (2n * 64n + 1n);
  const perKey = 2n * (k * heads) * (headDim + headDim);
  const ffnFlops = 2n * (d * d) + 2n * (d * ffE) + ffK * 2n * (2n * d * ff);
  const step = (context: bigint, source: bigint): bigint =>
    routerFlops + moaQueryFlops + kvFlops + relFlops + perKey * context + // self-attention
    routerFlops + moaQueryFlops + perKey * source + // cross-attention (its K/V were cached)
    ffnFlops;
  const head = 2n * d * V;
  assert.equal(model('SUT').flops.decode, T * step(S, SRC) + head);
  // One KV entry per executed step: self-attention caches 2·expert_dim per token, cross-attention
  // the source's keys and values, bf16.
  const kvPerStep = (S + SRC) * 2n * expertDim * 2n;
  assert.equal(model('SUT').kvCacheBytes, T * kvPerStep);

  // Halting at expected depth D = 3: every token runs three steps (reach 1, 1, 1, 0, 0, 0), and
  // the halting unit scores the tokens before steps 1 … 5: Σ_{r=1}^{5} reach_{r−1} = 3 times.
  const D = 3n;
  const unitFlops = 2n * (d * d + d * 2n);
  assert.equal(model('SUT_Halting').flops.decode, D * step(S, SRC) + D * unitFlops + head);
  assert.equal(model('SUT_Halting').kvCacheBytes, D * kvPerStep);
  // The steps' compute halves exactly ("around 50% reduction in computation"); the output
  // projection and the halting unit are outside the steps.
  assert.equal(2n * (model('SUT_Halting').flops.decode - head - D * unitFlops), model('SUT').flops.decode - head);
});

test('SUT: a fractional expected depth runs its last partial step on that fraction of the tokens', () => {
  const text = TEXT.replace(/expected_depth: 3,/g, 'expected_depth: 2.5,');
  const r = analyze(text, { seq: Number(S), srcSeq: Number(SRC), batch: 1, dtype: 'bf16' });
  const half = r.models.find((m) => m.name === 'SUT_Halting')!;
  const full = model('SUT');
  // Reach 1, 1, 1/2, 0, 0, 0: 2.5 steps of KV.
  assert.equal(half.kvCacheBytes * T, full.kvCacheBytes * 5n / 2n);
  assert.deepEqual(r.diagnostics.filter((x) => x.severity === 'error'), []);
});

test('the SUT example analyses without diagnostics', () => {
  assert.deepEqual(result.diagnostics.map((x) => `${x.code}: ${x.message}`), []);
});
