// Expert parallelism (docs/plans.md): Mixtral-8x7B's expert banks split over ep GPUs of the
// data-parallel group (expert-TP over etp), the dense rest over tp; ZeRO shards experts over the
// expert data-parallel group tp·dp/(ep·etp); four all-to-alls (dispatch and combine, forward and
// backward) of each token's top-k copies per MoE layer and micro-batch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
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
