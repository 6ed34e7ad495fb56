// Hogwild! Inference (arXiv:2504.06261) in examples/hogwild.npas: QwQ-32B with two and four
// workers over one KV cache, against counts derived here from Qwen/QwQ-32B's config.json and the
// reference's cache layout (github.com/eqimp/hogwild_llm: shared_cache/, full_example.ipynb,
// inference_lib/python/hogwild/attention.py), never from the engine. A multiply-add is 2 FLOPs;
// biases, norms, RoPE rotations and the softmax are not counted (docs/layers.md).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';

const TEXT = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'hogwild.npas'), 'utf8');
const bf16 = 2n;

// Qwen/QwQ-32B config.json.
const V = 152_064n;
const d = 5120n;
const ffn = 27_648n;
const L = 64n;
const heads = 40n;
const kvHeads = 8n;
const hd = d / heads; // 128
const layerMatmuls = d * heads * hd + 2n * d * kvHeads * hd + heads * hd * d + 3n * d * ffn; // q; k, v; o; gate, up, down
const layerParams = layerMatmuls + heads * hd + 2n * kvHeads * hd + 2n * d; // QKV biases, two RMSNorms
const stored = V * d + L * layerParams + d + d * V; // embed, layers, final norm, untied lm_head
const kvPerToken = L * 2n * kvHeads * hd; // elements of one cached position, all layers

/**
 * The reference's cache for a decode step (full_example.ipynb's combined layout): blocks of
 * tokens, each held once, and each worker's view of them — all the blocks, in its own order.
 */
const blocks = { common: 7_000n, stepHeader: 12n, alice: 590n, separator: 6n, bob: 584n };
const views: readonly (keyof typeof blocks)[][] = [
  ['common', 'stepHeader', 'bob', 'separator', 'alice'], // Alice sees Bob's step, then her own
  ['common', 'stepHeader', 'alice', 'separator', 'bob'], // Bob sees Alice's step, then his own
];
/** Positions held: each block once, however many views read it. */
const held = [...new Set(views.flat())].reduce((s, b) => s + blocks[b], 0n);
/** Keys the workers' new tokens attend to in one layer, summed over the workers. */
const attended = views.reduce((s, v) => s + v.reduce((t, b) => t + blocks[b], 0n), 0n);
const S = held; // the engine's seq: the shared cache's tokens

const result = analyze(TEXT, { seq: Number(S), batch: 1, dtype: 'bf16' });
const model = (name: string) => result.models.find((x) => x.name === name) ?? assert.fail(name);

test('QwQ-32B: stored parameters from the released configuration (the card\'s "32.5B", "31.0B")', () => {
  assert.equal(stored, 32_763_876_352n);
  // Without the embedding table and lm_head: 31.2B. The card's 31.0B and 32.5B match no
  // convention exactly (the example's header says so).
  assert.equal(stored - 2n * V * d, 31_206_740_992n);
  for (const name of ['QwQ32B', 'HogwildQwQ32B_2', 'HogwildQwQ32B_4']) assert.equal(model(name).params.stored, stored, name);
});

test('the reference layout holds the context once and every worker reads all of it', () => {
  assert.equal(S, 8192n);
  assert.equal(attended, 2n * S);
  // KV: S positions once, for one worker or for two — the blocks are not duplicated per worker.
  const kv = kvPerToken * held * bf16;
  assert.equal(kv, 2_147_483_648n);
  assert.equal(model('QwQ32B').kvCacheBytes, kv);
  assert.equal(model('HogwildQwQ32B_2').kvCacheBytes, kv);
  assert.equal(model('HogwildQwQ32B_4').kvCacheBytes, kv);
});

test('a decode step: P tokens over the shared cache, the weights read once for all of them', () => {
  // One worker's token: every layer's matmuls, attention over the S cached keys
  // (2·heads·(hd + hd) FLOPs per key), lm_head. The workers' tokens attend to `attended` keys in all.
  const perKey = 2n * heads * (hd + hd);
  const oneToken = L * 2n * layerMatmuls + 2n * d * V;
  const step = (P: bigint, keys: bigint) => P * oneToken + L * perKey * keys;
  assert.equal(step(1n, S), 74_705_797_120n);
  assert.equal(model('QwQ32B').flops.decode, step(1n, S));
  assert.equal(model('HogwildQwQ32B_2').flops.decode, step(2n, attended));
  assert.equal(model('HogwildQwQ32B_4').flops.decode, step(4n, 4n * S));
  // Weight traffic (bf16): every applied weight except the embedding table, once per step
  // whatever P; the step also reads the cache once.
  const weights = (stored - V * d) * bf16;
  assert.equal(weights, 63_970_617_344n);
  for (const name of ['QwQ32B', 'HogwildQwQ32B_2', 'HogwildQwQ32B_4']) {
    assert.equal(model(name).latency.decode.bytes, weights + kvPerToken * S * bf16, name);
  }
  // The prompt is prefilled once: the same prefill as one worker's.
  assert.equal(model('HogwildQwQ32B_4').flops.prefill, model('QwQ32B').flops.prefill);
});

test('the Hogwild! example meets its budget and reports no diagnostics', () => {
  assert.deepEqual(result.diagnostics.map((x) => `${x.code}: ${x.message}`), []);
  assert.deepEqual(model('HogwildQwQ32B_2').parallel, { streams: 2, cache: 'shared', prefixTokens: 0, aggregate: 'mean', merge: undefined, prefixParams: 0n, aggregatorParams: 0n });
});
