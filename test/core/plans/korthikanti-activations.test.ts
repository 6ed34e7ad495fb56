// Activation memory per recomputation mode against Korthikanti et al. 2022 ("Reducing Activation
// Recomputation in Large Transformer Models", Table 2), for their 22B configuration (Table 3:
// h 6144, a 64, L 48, s 2048, t 8) with tensor and sequence parallelism, one micro-batch.
// Per layer, in bytes (16-bit activations, 1-byte dropout masks):
//   no recomputation        sbh/t · (34 + 5as/h)
//   selective recomputation sbh/t · 34
//   full recomputation      sbh/t · 2      (the layer's input only)
// The engine's saved activations (docs/layers.md) assume flash attention and count no dropout
// masks, so per layer they differ from the paper by exactly:
//   − 5as²b/t   the score, softmax-dropout mask and dropout output (flash attention never saves them)
//   − 2sbh/t    the two residual-dropout masks (1 byte each)
//   + 2asb/t    flash attention's per-head softmax statistic (one 16-bit element per head and token)
// Full recomputation keeps the layer input as in the paper, exactly. Outside the layers, the final
// LayerNorm and the head each save their input (2 · 2sbh/t) in every mode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { megatronGpt, plan, settings, source } from './fixtures.js';

const h = 6144n;
const a = 64n;
const L = 48n;
const s = 2048n;
const b = 1n;
const t = 8n;
const src = source(megatronGpt(48, 6144, 64, 51200), 2048);

const paper = {
  // sbh·5as/h written as 5as²b, which stays an integer (5as/h itself is fractional here).
  none: (s * b * h * 34n + 5n * a * s * s * b) / t,
  selective: (s * b * h * 34n) / t,
  full: (s * b * h * 2n) / t,
};
const flashAndNoDropout = (-(5n * a * s * s * b) - 2n * s * b * h + 2n * a * s * b) / t;
const outsideLayers = (2n * 2n * s * b * h) / t;

function activations(recompute: 'none' | 'selective' | 'full'): bigint {
  return plan(src, settings({ tp: 8 }, { seq: 2048, recompute })).perGpuBytes.activations;
}

test('no recomputation: L · sbh(34 + 5as/h)/t less the flash-attention and dropout-mask terms', () => {
  const perLayer = paper.none + flashAndNoDropout;
  assert.equal(activations('none'), L * perLayer + outsideLayers);
});

test('selective recomputation: L · 34sbh/t less the dropout masks, plus the softmax statistics (equal to none under flash attention)', () => {
  const perLayer = paper.selective - (2n * s * b * h) / t + (2n * a * s * b) / t;
  assert.equal(activations('selective'), L * perLayer + outsideLayers);
  assert.equal(activations('selective'), activations('none'));
});

test('full recomputation: L · 2sbh/t, the paper exactly', () => {
  assert.equal(activations('full'), L * paper.full + outsideLayers);
});

test('pipeline: 1F1B keeps p − r micro-batches on rank r; interleaving multiplies by 1 + (p − 1)/(p·v)', () => {
  const p = 4n;
  const m = 8n;
  const one = plan(src, settings({ tp: 8, pp: 4 }, { seq: 2048, recompute: 'full', globalBatch: 8 }));
  const perRankLayers = L / p;
  one.stages.forEach((st, r) => {
    const inFlight = BigInt(Math.min(Number(m), Number(p) - r));
    const outside = r === Number(p) - 1 ? outsideLayers : 0n;
    assert.equal(st.bytes.activations, inFlight * (perRankLayers * paper.full + outside), `rank ${r}`);
  });
  const v = 2n;
  const inter = plan(src, settings({ tp: 8, pp: 4, vpp: 2 }, { seq: 2048, recompute: 'full', globalBatch: 8 }));
  // Rank 0 holds chunks 0 and 4 of 8: six layers each; Megatron's interleaving penalty on p micro-batches.
  const rank0 = (p * perRankLayers * paper.full * (p * v + p - 1n)) / (p * v);
  assert.equal(inter.stages[0]!.bytes.activations, rank0);
});
