// Expert parallelism (docs/plans.md): Mixtral-8x7B's expert banks split over ep GPUs of the
// data-parallel group (expert-TP over etp), the dense rest over tp; ZeRO shards experts over the
// expert data-parallel group tp·dp/(ep·etp); four all-to-alls (dispatch and combine, forward and
// backward) of each token's top-k copies per MoE layer and micro-batch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEVICES, planServing } from '../../../src/core/index.js';
import { plan, settings, source } from './fixtures.js';

const MIXTRAL = `model Mixtral8x7B {
  vocab = 32_000
  d = 4096
  block Decoder {
    attn_norm = RMSNorm(d)
    attn      = Attention(d, 32, kv_heads: 8, head_dim: 128, rope: true)
    moe_norm  = RMSNorm(d)
    moe       = MoE(d, 14_336, experts: 8, top_k: 2)
  }
  embed   = Embedding(vocab, d)
  body    = Decoder * 32
  norm    = RMSNorm(d)
  lm_head = Linear(d, vocab)
}
`;
const total = 46_702_792_704n;
const experts = 32n * 8n * 3n * 4096n * 14_336n;
const dense = total - experts;
const src = source(MIXTRAL, 4096);

test('Mixtral: 46.7B params, of which 45.1B in expert banks', () => {
  assert.equal(src.report.params.stored, total);
  assert.equal(experts, 45_097_156_608n);
});

test('ep 8: experts split 8 ways, the dense rest replicated; ZeRO-1 shards states per group', () => {
  const p = plan(src, settings({ dp: 8, ep: 8 }, { seq: 4096 })).perGpuBytes;
  assert.equal(p.weights, 2n * (dense + experts / 8n));
  const z = plan(src, settings({ dp: 8, ep: 8, zero: 1 }, { seq: 4096 })).perGpuBytes;
  // Dense states over dp = 8; each expert shard is held by one GPU of its expert-DP group (8/8 = 1).
  assert.equal(z.optimizer, (12n * dense) / 8n + 12n * (experts / 8n));
  const t = plan(src, settings({ tp: 2, dp: 4, ep: 4, etp: 1 }, { seq: 4096 })).perGpuBytes;
  assert.equal(t.weights, 2n * (dense / 2n + experts / 4n));
});

test('the all-to-all: 4 × (ep − 1)/ep × tokens × top_k × d × 2 bytes per MoE layer and micro-batch', () => {
  const p = plan(src, settings({ dp: 8, ep: 8 }, { seq: 4096 }));
  const perLayer = (4 * 7 * 4096 * 2 * 4096 * 2) / (8 * 450e9);
  const expected = 32 * perLayer;
  assert.ok(Math.abs(p.step.expertParallel - expected) <= 1e-12 * expected, `${p.step.expertParallel} vs ${expected}`);
});

test('serving Mixtral at batch 8: a decode step reads the experts the batch touches, 8·(1 − (6/8)^8) per layer', () => {
  // At batch 1 a step reads the active weights less the embedding table: 12,879,925,248 −
  // 32,000·4,096 = 12,748,853,248. Each of the 32 layers' experts holds 3·4,096·14,336 weights,
  // 5,637,144,576 per expert over the model. At batch 8 a layer touches 8·(1 − (3/4)^8) =
  // 58,975/8,192 experts instead of 2: (58,975 − 16,384)/8,192 · 5,637,144,576 = 42,591 · 688,128
  // more weights. bf16: 2 bytes each.
  const reads = 2n * (12_748_853_248n + 42_591n * 688_128n);
  assert.equal(src.decodeReadsAt(8), reads);
  assert.equal(src.decodeReadsAt(1), 2n * 12_748_853_248n);
  const o = planServing(src.model, src.report, src.kvAt, { device: 'H100', tp: 2, pp: 1, ep: 1, batch: 8, seq: 4096, dtype: 'bf16' }, src.decodeReadsAt);
  assert.ok(o.ok);
  // Per GPU (tp 2): half the reads and half the KV of 8 sequences (32 layers · 2·8·128 · 4,096 · 8 · 2 bytes).
  const kv = 32n * 2048n * 4096n * 8n * 2n;
  const H100 = DEVICES.find((d) => d.name === 'H100')!;
  const flops = (Number(src.report.flops.decode) * 8) / 2;
  const step = Math.max(flops / H100.peakFlops.bf16, (Number(reads) / 2 + Number(kv / 2n)) / H100.bandwidth);
  const expected = 8 / step;
  assert.ok(Math.abs(o.plan.decodeTokensPerSecond - expected) <= 1e-9 * expected, `${o.plan.decodeTokensPerSecond} vs ${expected}`);
  // Without the engine at the batch (the old reading), the same step reads only the top-2: faster.
  const batch1 = planServing(src.model, src.report, src.kvAt, { device: 'H100', tp: 2, pp: 1, ep: 1, batch: 8, seq: 4096, dtype: 'bf16' });
  assert.ok(batch1.ok && batch1.plan.decodeTokensPerSecond > 2 * o.plan.decodeTokensPerSecond);
});
