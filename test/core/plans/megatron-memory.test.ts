// Megatron-LM's theoretical memory (megatron/training/theoretical_memory_usage.py,
// compute_weight_and_optimizer_memory), reproduced for GPT-3 175B (Brown et al. 2020: L 96,
// h 12288, a 96; vocabulary padded to 51,200 as in Korthikanti et al. 2022, Table 3) at
// TP 8 · PP 8 · DP 4, with and without the distributed optimizer. Megatron keeps bf16 weights,
// fp32 main gradients and fp32 master weights + Adam moments: 18 bytes per parameter, or
// 6 + 12/DP with the distributed optimizer, on the most loaded shard
// ((transformer block / PP) + embedding) / TP.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { megatronGpt, plan, settings, source } from './fixtures.js';

const L = 96n;
const h = 12288n;
const V = 51200n;
const tp = 8n;
const pp = 8n;
const dp = 4n;
const src = source(megatronGpt(96, 12288, 96, 51200), 2048);

// Megatron's parameter formula for this layout (MHA, kv_channels·heads = h, no gating, LayerNorm
// with a bias: norm_size 2): 2h·(ffn + 2) + 2h²·(1 + 1) = 12h² + 4h with ffn = 4h.
const perLayer = 12n * h * h + 4n * h;
const block = perLayer * L + 2n * h; // + the final LayerNorm
const embedding = V * h;

test('the spec counts what Megatron counts: 12h² + 4h per layer, a final LayerNorm, one tied V×h table', () => {
  assert.equal(src.report.params.stored, block + embedding);
});

test('without the distributed optimizer: 18 bytes per parameter of the most loaded shard', () => {
  const p = plan(src, settings({ tp: 8, pp: 8, dp: 4 }, { seq: 2048, dtypes: { weights: 'bf16', activations: 'bf16', gradients: 'fp32', master: 'fp32' } }));
  const megatron = ((block / pp + embedding) * 18n) / tp; // exact: every term divides
  // The engine places the final LayerNorm on the last stage (where it runs) instead of spreading
  // it over the stages: the last stage holds 2h·(1 − 1/PP) more params than Megatron's average.
  const finalNormOnLastStage = (2n * h - (2n * h) / pp) * 18n / tp;
  const last = p.stages[p.stages.length - 1]!.bytes;
  assert.equal(last.weights + last.gradients + last.optimizer, megatron + finalNormOnLastStage);
  // The first stage holds the table and its 12 layers: Megatron's shard less the final norm's share.
  const first = p.stages[0]!.bytes;
  assert.equal(first.weights + first.gradients + first.optimizer, ((perLayer * (L / pp) + embedding) * 18n) / tp);
  // And the split: 2 (bf16 weights) + 4 (fp32 main grads) + 12 (fp32 master, m, v).
  assert.equal(last.weights * 9n, last.weights + last.gradients + last.optimizer);
  assert.equal(last.gradients, last.weights * 2n);
  // The tied table is stored on both the first and the last stage, its gradient all-reduced.
  assert.deepEqual(p.replicated.map((r) => [r.store, r.params, [...r.ranks]]), [['tie:wte', embedding, [0, 7]]]);
});

test('with the distributed optimizer (ZeRO-1): 6 + 12/DP bytes per parameter', () => {
  const p = plan(src, settings({ tp: 8, pp: 8, dp: 4, zero: 1 }, { seq: 2048, dtypes: { weights: 'bf16', activations: 'bf16', gradients: 'fp32', master: 'fp32' } }));
  const shard = block / pp + embedding;
  const megatron = (shard * 6n) / tp + (shard * 12n) / (dp * tp);
  const extra = 2n * h - (2n * h) / pp;
  const last = p.stages[p.stages.length - 1]!.bytes;
  assert.equal(last.weights + last.gradients + last.optimizer, megatron + (extra * 6n) / tp + (extra * 12n) / (dp * tp));
  assert.equal(last.optimizer, ((shard + extra) * 12n) / (dp * tp));
});
