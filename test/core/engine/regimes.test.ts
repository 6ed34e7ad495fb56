// Numbers outside the default regime (batch 1, everything trainable, one implementation of
// each layer), each expected value derived by hand from the papers' formulas:
// - routing: a batch of B tokens, each choosing k of E experts uniformly, touches
//   E·(1 − ((E − k)/E)^B) distinct experts in expectation (so a decode step reads that many);
// - training: forward + input gradients (every weight operation once more, attention's two
//   activation operands twice) + weight gradients of the trainable weights only;
// - the loss: a cross-entropy saves its fp32 log-softmax, tokens × vocabulary × 4 bytes;
// - dropout: a one-byte mask per dropped element;
// - MLA decode: DeepSeek's absorbed form scores the cached latent (kv_rank + rope_dim per key
//   and head) and weights the latent (kv_rank per key and head);
// - prefill and decode FLOPs cover the whole batch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, expectedDistinct, type AnalysisOptions, type ModelReport } from '../../../src/core/index.js';
import * as Q from '../../../src/core/numbers/rational.js';
import { modelMarkdown } from '../../../src/core/service/hover.js';
import { dashboardData } from '../../../src/core/layout/dashboard-data.js';

const examples = join(__dirname, '..', '..', '..', 'examples');

function model(src: string, name: string | undefined, options: Partial<AnalysisOptions> = {}): ModelReport {
  const r = analyze(src, options);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  return name ? r.models.find((m) => m.name === name)! : r.models[0]!;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

// MoE(64, 32, experts: 16, top_k: 2): router 64·16 = 1,024; each expert gate/up/down 3·64·32
// = 6,144. One token applies the router and 2 experts: 13,312 params, 26,624 FLOPs.
const MOE = 'model M { moe = MoE(64, 32, experts: 16, top_k: 2) }';

test('MoE decode reads the experts the whole batch touches: E·(1 − (1 − k/E)^B)', () => {
  for (const B of [1n, 2n, 8n, 64n]) {
    const m = model(MOE, undefined, { batch: Number(B) });
    // distinct = 16 − 16·(14/16)^B = (16^(B+1) − 16·14^B) / 16^B, exactly.
    const den = 16n ** B;
    const distinctNum = 16n * den - 16n * 14n ** B;
    // bf16 bytes of router + distinct experts: 2·(1,024 + 6,144·distinct), rounded up once.
    const bytes = ceilDiv(2n * (1_024n * den + 6_144n * distinctNum), den);
    assert.equal(m.latency.decode.bytes, bytes, `B = ${B}`);
    assert.equal(m.flops.decode, B * 26_624n, `B = ${B}: FLOPs follow the tokens, not the experts read`);
    assert.equal(m.routing.length, 1);
    assert.equal(m.routing[0]!.experts, 16);
    assert.equal(m.routing[0]!.topK, 2);
  }
  // At batch 1 a step reads exactly k experts.
  assert.equal(model(MOE, undefined).routing[0]!.expectedDistinct, '2');
  // The hover and the dashboard state it: at B = 8, 16·(1 − (7/8)^8) = 10.502 (to 3 places).
  const at8 = model(MOE, undefined, { batch: 8 });
  assert.match(modelMarkdown(at8), /experts read per decode step at batch 8: 10\.502… of 16 \(top-2/);
  const data = dashboardData(MOE, { batch: 8 }, { source: 'm.npas', sweep: false });
  // A prefill of 8 × 4,096 tokens misses an expert with probability (7/8)^32,768 (below 10^-1900): all 16 are read.
  assert.deepEqual(data.models[0]!.routing, [{ experts: 16, topK: 2, expectedDistinct: '10.502…', prefillTouched: '16' }]);
});

test('expected distinct experts: the published shapes (Qwen3-30B-A3B 128/8, DeepSeek-V3 256/8)', () => {
  const approx = (E: number, k: number, B: number): number => E * (1 - Math.pow(1 - k / E, B));
  for (const [E, k, B, shown] of [
    [128, 8, 8, 51.6],
    [128, 8, 64, 125.9],
    [256, 8, 64, 222.4],
  ] as const) {
    const exact = Q.toNumber(expectedDistinct(E, k, BigInt(B)));
    assert.ok(Math.abs(exact - approx(E, k, B)) < 1e-9, `${E}/${k} at ${B}`);
    assert.equal(Math.round(exact * 10) / 10, shown);
  }
  // Past the exact range (B > 1,024) the fixed-point power agrees with the closed form.
  for (const B of [1025, 4096, 1 << 20]) {
    assert.ok(Math.abs(Q.toNumber(expectedDistinct(256, 8, BigInt(B))) - approx(256, 8, B)) < 1e-9, `B = ${B}`);
  }
  assert.equal(Q.toNumber(expectedDistinct(8, 8, 5n)), 8, 'top_k = E reads every expert');
});

test('prefill and decode FLOPs cover the batch; per-token figures do not change', () => {
  // Attention(64, heads: 4) at seq 10: 32,768·10 + 256·55 = 341,760 per sequence.
  const src = 'model A { att = Attention(64, heads: 4) }\nbudget A {\n  flops.prefill_total(seq: 10, batch: 4) == 4 * 341760\n  flops.prefill(seq: 10, batch: 4) == 34176\n  flops.decode(seq: 10, batch: 4) == 4 * 35328\n}\n';
  const m = model(src, 'A', { batch: 4, seq: 10 });
  assert.deepEqual(m.budgets.map((b) => b.ok), [true, true, true]);
  assert.equal(m.flops.prefill, 4n * 341_760n);
  assert.equal(m.flops.prefillPerToken, '34176');
});

test('training FLOPs by trainability: a frozen base computes input gradients only', () => {
  // Two Linear(64, 64): 2·(2·64·64) = 16,384 FLOPs per token, all trainable: 3 × forward.
  const base = 'model M { a = Linear(64, 64); b = Linear(64, 64) }\n';
  assert.equal(model(base, 'M').flops.trainPerToken, String(3 * 16_384));
  // LoRA rank 4 on both: adapters add 2·4·(64 + 64) = 1,024 FLOPs each → forward 18,432.
  // Backward: input gradients through everything (18,432) + weight gradients of the adapters
  // only (2,048): 18,432 + 18,432 + 2,048 = 38,912, not 3 × 18,432 = 55,296.
  const lora = model(`${base}variant L of M { adapt a, b: lora(rank: 4) }\n`, 'L');
  assert.equal(lora.flops.prefillPerToken, '18432');
  assert.equal(lora.flops.trainPerToken, '38912');
  // `freeze a` alone: b still trains: 16,384 · 2 + 8,192 = 40,960.
  assert.equal(model(`${base}variant F of M { freeze a }\n`, 'F').flops.trainPerToken, '40960');
  // Attention's score and value products (both activations) cost twice forward in backward
  // whatever trains: Attention(64, heads: 4) at seq 10: weights 327,680, attention 256·55 =
  // 14,080; frozen (freeze att): 2·327,680 + 3·14,080 = 697,600 per sequence → 69,760 per token.
  assert.equal(model('model A { att = Attention(64, heads: 4) }\nvariant F of A { freeze att }\n', 'F', { seq: 10 }).flops.trainPerToken, '69760');
});

test('training memory includes the loss (fp32 log-softmax over the vocabulary) and dropout masks', () => {
  const gpt2 = readFileSync(join(examples, 'reference-llms.npas'), 'utf8');
  // GPT-2 at S = 128: 128 tokens × 50,257 × 4 bytes = 25,731,584.
  const full = model(gpt2, 'GPT2', { seq: 128 });
  assert.equal(full.memory.lossBytes, 128n * 50_257n * 4n);
  const fused = model(gpt2, 'GPT2', { seq: 128, loss: { kind: 'fused' } });
  assert.equal(fused.memory.lossBytes, 0n);
  assert.equal(full.memory.activationBytes - fused.memory.activationBytes, 25_731_584n);
  assert.equal(full.memory.trainingBytes - fused.memory.trainingBytes, 25_731_584n);
  // Chunked over 32 tokens at batch 2: only 32 tokens' log-softmax at a time.
  assert.equal(model(gpt2, 'GPT2', { seq: 128, batch: 2, loss: { kind: 'chunked', chunk: 32 } }).memory.lossBytes, 32n * 50_257n * 4n);
  // A model that does not end in a projection has no loss to charge.
  assert.equal(model('model N { l = Linear(8, 8); n = LayerNorm(8); m = MLP(8, 32) }', 'N').memory.lossBytes, 0n);
  // Dropout(0.1, d: 768) keeps 768 one-byte mask elements per token: at seq 100, batch 3,
  // 230,400 bytes; without its width it cannot say, and counts none.
  const drop = model('model D { x = Linear(768, 768); drop = Dropout(0.1, d: 768) }', 'D', { seq: 100, batch: 3 });
  assert.equal(drop.memory.maskBytes, 768n * 100n * 3n);
  assert.equal(model('model D { x = Linear(768, 768); drop = Dropout(0.1) }', 'D').memory.maskBytes, 0n);
});

test('MLA decodes in the absorbed form by default; the expanded form caches per-head keys and values', () => {
  const spec = readFileSync(join(examples, 'deepseek-v2.npas'), 'utf8');
  // DeepSeek-V2-Lite, 27 layers, 16 heads, kv_rank 512, rope 64, nope 128, v 128, at S = 1,024.
  // Weights applied per token (matmuls): 2·active − 2·(embedding table, a lookup) − norms… the
  // weight FLOPs are what the expanded form charged too; only the per-key term differs:
  // expanded 2·16·(192 + 128) = 10,240 per key per layer, absorbed 2·16·((512 + 64) + 512) =
  // 34,816. 5,185,732,608 (expanded) + 27·1,024·(34,816 − 10,240) = 5,865,209,856.
  const absorbed = model(spec, 'DeepSeekV2Lite', { seq: 1024 });
  assert.equal(absorbed.flops.decode, 5_865_209_856n);
  // Latent cache: 27 layers × 576 elements × 1,024 tokens × 2 bytes = 31,850,496.
  assert.equal(absorbed.kvCacheBytes, 27n * 576n * 1024n * 2n);
  const expanded = model(spec.replace(/nope_dim: 128, v_dim: 128\)/g, 'nope_dim: 128, v_dim: 128, decode: expanded)'), 'DeepSeekV2Lite', { seq: 1024 });
  assert.equal(expanded.flops.decode, 5_865_209_856n - 27n * 1024n * (34_816n - 10_240n));
  // Expanded cache: per head a 192-element key and a 128-element value: 16·320 = 5,120.
  assert.equal(expanded.kvCacheBytes, 27n * 5_120n * 1024n * 2n);
  // Prefill is the same computation in both (expanded, compute-bound).
  assert.equal(expanded.flops.prefill, absorbed.flops.prefill);
});

test('a sequence past a learned position table is warned about, at the model', () => {
  const gpt2 = readFileSync(join(examples, 'reference-llms.npas'), 'utf8');
  // GPT-2's wpe has 1,024 rows: 8Ki tokens have no position embedding past 1,023.
  const at8k = analyze(gpt2, { seq: 8192 }).diagnostics.filter((d) => d.code === 'npas-seq-beyond-positions');
  assert.equal(at8k.length, 1);
  assert.equal(at8k[0]!.severity, 'warning');
  assert.match(at8k[0]!.message, /seq 8192 exceeds the 1024 positions of GPT2's learned position table/);
  assert.equal(gpt2.slice(at8k[0]!.range.start, at8k[0]!.range.end), 'GPT2');
  assert.deepEqual(analyze(gpt2, { seq: 1024 }).diagnostics.filter((d) => d.code === 'npas-seq-beyond-positions'), []);
});
