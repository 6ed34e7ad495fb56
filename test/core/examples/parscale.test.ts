// ParScale (arXiv:2505.10475) and Hogwild! workers in examples/parscale.npas, against counts
// derived here from the released configuration (ParScale/ParScale-1.8B-P* config.json) and the
// reference modeling_qwen2_parscale.py, never from the engine:
// - per decoder layer, prefix_k and prefix_v are nn.Parameter([P, kv_heads, parscale_n_tokens, head_dim]);
// - aggregate_layer = Linear(P·hidden, hidden) → SiLU → Linear(hidden, P), biases on both;
// - the P streams are the batch dimension of one forward pass (inputs repeated P times), the
//   prefixes sit in front of every layer's KV cache, and the aggregated hidden state is projected
//   by lm_head once.
// A multiply-add is 2 FLOPs; biases and elementwise operations are not counted (docs/layers.md).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import type { ModelReport } from '../../../src/core/analysis/report-types.js';

const TEXT = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'parscale.npas'), 'utf8');
const S = 4096n;
const result = analyze(TEXT, { seq: Number(S), batch: 1, dtype: 'bf16' });
const model = (name: string): ModelReport => {
  const m = result.models.find((x) => x.name === name);
  assert.ok(m, name);
  return m;
};

// ParScale-1.8B config.json.
const V = 151_936n;
const d = 1536n;
const L = 36n;
const heads = 16n;
const kvHeads = 2n;
const hd = d / heads; // 96
const prefixTokens = 48n;
const layerMatmuls = (ffn: bigint): bigint => d * d + 2n * d * (kvHeads * hd) + d * d + 3n * d * ffn;
// Qwen2: biases on q, k and v; two RMSNorms per layer.
const layerParams = (ffn: bigint): bigint => layerMatmuls(ffn) + heads * hd + 2n * kvHeads * hd + 2n * d;
const base = (ffn: bigint): bigint => V * d + L * layerParams(ffn) + d; // tied lm_head
const prefixes = (P: bigint): bigint => L * 2n * P * kvHeads * prefixTokens * hd;
const aggregator = (P: bigint): bigint => P * d * d + d + d * P + P;
const kvPerToken = L * 2n * kvHeads * hd; // elements per token, all layers

test('ParScale-1.8B: stored parameters of P = 1, 2, 4, 8 from the released configuration', () => {
  assert.equal(base(8320n), 1_804_846_080n); // "1.8B"
  assert.equal(model('ParScale1_8B').params.stored, base(8320n));
  for (const P of [2n, 4n, 8n]) {
    assert.equal(model(`ParScale1_8B_P${P}`).params.stored, base(8320n) + prefixes(P) + aggregator(P), `P${P}`);
  }
  // P = 8: 5,308,416 prefix and 18,888,200 aggregator parameters (1.3% of the model).
  assert.equal(prefixes(8n), 5_308_416n);
  assert.equal(aggregator(8n), 18_888_200n);
  assert.deepEqual(model('ParScale1_8B_P8').parallel, { streams: 8, cache: 'separate', prefixTokens: 48, aggregate: 'mlp', merge: 'lm_head', prefixParams: 5_308_416n, aggregatorParams: 18_888_200n });
});

test('ParScale-1.8B-P8 against parameter scaling to the same stored size: weights read once, compute and KV 8×', () => {
  const P = 8n;
  const p8 = model('ParScale1_8B_P8');
  const p1 = model('ParScale1_8B');
  const wide = model('Dense1_8B_Wider');
  // The dense model scaled to the same stored size (146 more FFN channels per layer): within 0.01%.
  assert.equal(wide.params.stored, base(8466n));
  const gap = wide.params.stored - p8.params.stored;
  assert.ok(gap >= 0n && gap * 10_000n < p8.params.stored, `${gap}`);

  // Decode at context S, batch 1: every layer's matmuls, then attention over the cached keys
  // (score and value products, 2·heads·(hd + hd) FLOPs per key), then lm_head.
  const attentionPerKey = 2n * heads * (hd + hd);
  const decode1 = (ffn: bigint): bigint => L * (2n * layerMatmuls(ffn) + attentionPerKey * S) + 2n * d * V;
  assert.equal(p1.flops.decode, decode1(8320n));
  assert.equal(wide.flops.decode, decode1(8466n));
  // P8: each stream runs the 36 layers and attends to its 48 prefix keys as well; the aggregator
  // and lm_head run once.
  const decode8 = P * L * (2n * layerMatmuls(8320n) + attentionPerKey * (S + prefixTokens)) + 2n * (P * d * d + d * P) + 2n * d * V;
  assert.equal(p8.flops.decode, decode8);
  assert.ok(p8.flops.decode > 7n * wide.flops.decode, 'compute ×P against the wider model');

  // KV cache (bf16): one per stream, each holding its prefix.
  const kv1 = kvPerToken * S * 2n;
  assert.equal(p1.kvCacheBytes, kv1);
  assert.equal(wide.kvCacheBytes, kv1);
  assert.equal(p8.kvCacheBytes, P * kvPerToken * (S + prefixTokens) * 2n);

  // Weight traffic of a decode step (bf16): every applied weight except the embedding table,
  // once for all streams — the P1 model's plus the aggregator; the tied head is read as lm_head.
  const read1 = L * layerParams(8320n) + d + d * V;
  assert.equal(p1.latency.decode.bytes - p1.kvCacheBytes, 2n * read1);
  assert.equal(p8.latency.decode.bytes - p8.kvCacheBytes, 2n * (read1 + aggregator(P)));
  assert.equal(wide.latency.decode.bytes - wide.kvCacheBytes, 2n * (L * layerParams(8466n) + d + d * V));
  // Same weight traffic as the wider model to within 1% (the prefixes are read from the cache,
  // not as weights), at 8× its FLOPs.
  const w8 = p8.latency.decode.bytes - p8.kvCacheBytes;
  const wWide = wide.latency.decode.bytes - wide.kvCacheBytes;
  assert.ok(w8 < wWide && (wWide - w8) * 100n < wWide);
});

test('ParScale: prefill and training FLOPs per token grow P× before the merge, once after it', () => {
  const P = 8n;
  // Causal prefill of S tokens: Σ_t t keys per layer, plus S·48 prefix keys per stream.
  const attentionPerKey = 2n * heads * (hd + hd);
  const keys = (S * (S + 1n)) / 2n;
  const stream = L * (2n * layerMatmuls(8320n) * S + attentionPerKey * (keys + S * prefixTokens));
  const once = (2n * (P * d * d + d * P) + 2n * d * V) * S;
  const prefill = P * stream + once;
  assert.equal(model('ParScale1_8B_P8').flops.prefill, prefill);
  assert.equal(model('ParScale1_8B_P8').flops.prefillPerToken, decimal(prefill, S));
  // Training: forward + input gradients (weights twice, attention three times) + weight gradients.
  const weights = P * L * 2n * layerMatmuls(8320n) * S + once;
  const attention = P * L * attentionPerKey * (keys + S * prefixTokens);
  assert.equal(model('ParScale1_8B_P8').flops.trainPerToken, decimal(3n * weights + 3n * attention, S));
});

test('Hogwild! workers: one shared cache, the prompt prefilled once, each decode step runs P tokens', () => {
  const w = model('Hogwild4');
  const p1 = model('ParScale1_8B');
  assert.equal(w.params.stored, p1.params.stored);
  assert.equal(w.kvCacheBytes, p1.kvCacheBytes);
  assert.equal(w.flops.prefill, p1.flops.prefill);
  assert.equal(w.flops.decode, 4n * p1.flops.decode);
  assert.equal(w.latency.decode.bytes, p1.latency.decode.bytes);
});

test('the ParScale example meets its budget and reports no diagnostics', () => {
  assert.deepEqual(result.diagnostics.map((x) => `${x.code}: ${x.message}`), []);
});

/** n / s as the report writes it: an exact decimal, three places when it has a fraction. */
function decimal(n: bigint, s: bigint): string {
  if (n % s === 0n) return String(n / s);
  const scaled = (n * 1000n + s / 2n) / s;
  return `${scaled / 1000n}.${String(scaled % 1000n).padStart(3, '0')}`;
}
