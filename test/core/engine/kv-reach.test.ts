// KV shared across attention types (`share kv` between sliding-window and full-attention
// layers). The rule, written out here independently of the engine: a reader attends the keys
// its own geometry allows (window W: min(S, W); chunk C: min(S, C); full: S), reading them
// from its producer's cache, so the producer caches the furthest reach among itself and its
// readers. KV bytes = Σ_producers cached tokens × elements per token × bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type AnalysisOptions, type ModelReport } from '../../../src/core/index.js';

function model(src: string, name: string, options: Partial<AnalysisOptions> = {}): ModelReport {
  const r = analyze(src, options);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  return r.models.find((m) => m.name === name)!;
}

// Gemma-2-2B's attention geometry (Gemma Team, "Gemma 2", 2024; google/gemma-2-2b config.json):
// 26 layers, d 2304, 8 query heads and 4 KV heads of 256, window 4,096 on even layers.
const GEMMA2 = (window: string): string => `model G {
  block Decoder(w = none) { attn = Attention(2304, 8, kv_heads: 4, head_dim: 256, window: w) }
  body = [Decoder(w: ${window}) for i in 26]
}
variant Shared of G { share kv body: every(2) }`;

// Elements per token per layer: 2 (K and V) · 4 KV heads · 256 = 2,048; bf16 = 2 bytes.
const PER_TOKEN_BYTES = 2n * 4n * 256n * 2n;

test('a sliding-window producer read by a full-attention layer caches the whole context', () => {
  const src = GEMMA2('if i % 2 == 0 then 4096 else none');
  const S = 8192n;
  // Unshared: 13 windowed layers cache 4,096 tokens, 13 full layers 8,192.
  assert.equal(model(src, 'G', { seq: 8192 }).kvCacheBytes, 13n * 4096n * PER_TOKEN_BYTES + 13n * S * PER_TOKEN_BYTES);
  // every(2): the 13 even (windowed) layers produce; each is read by a full-attention layer
  // that attends all 8,192 keys, so each caches 8,192 tokens: 436,207,616 bytes.
  const shared = model(src, 'Shared', { seq: 8192 });
  assert.equal(shared.kvCacheBytes, 13n * S * PER_TOKEN_BYTES);
  assert.equal(shared.kvCacheBytes, 436_207_616n, 'the issue figure (window-capped: 218,103,808)');
  // Decode FLOPs attend those keys: per layer and key, 8 heads · (256 + 256) MACs · 2 = 8,192.
  // Windowed layers attend min(S, 4,096), full ones S; the projections are S-independent.
  const base = model(src, 'Shared', { seq: 1 }).flops.decode - 26n * 8192n; // projections only
  assert.equal(shared.flops.decode, base + 13n * 8192n * 4096n + 13n * 8192n * S);
  // Below the window nothing changes: every layer caches S tokens.
  assert.equal(model(src, 'Shared', { seq: 2048 }).kvCacheBytes, 13n * 2048n * PER_TOKEN_BYTES);
  // Batch scales it.
  assert.equal(model(src, 'Shared', { seq: 8192, batch: 3 }).kvCacheBytes, 3n * 13n * S * PER_TOKEN_BYTES);
});

test('a full-attention producer read by a windowed layer keeps its own cache', () => {
  // Odd layers windowed: the even (full) layers produce and cache S; the windowed readers use
  // its last 4,096 keys.
  const src = GEMMA2('if i % 2 == 1 then 4096 else none');
  assert.equal(model(src, 'Shared', { seq: 8192 }).kvCacheBytes, 13n * 8192n * PER_TOKEN_BYTES);
});

test('windows and chunks: the producer caches the longest reach among its readers', () => {
  // Attention(8, heads: 2): 2·8 = 16 elements per token, bf16: 32 bytes per cached token.
  // Groups of three (every(3)) at seq 100: producer window 4, readers window 8 and chunk 16.
  const src = `model M {
  block Loc(w = none) { att = Attention(8, heads: 2, window: w) }
  block Chk { att = Attention(8, heads: 2, chunk: 16) }
  body = Loc(w: 4) + Loc(w: 8) + Chk + Loc(w: 4) + Loc(w: 8) + Loc(w: 4)
}
variant V of M { share kv body: every(3) }`;
  // Base: caches 4 + 8 + 16 + 4 + 8 + 4 = 44 tokens.
  assert.equal(model(src, 'M', { seq: 100 }).kvCacheBytes, 44n * 32n);
  // every(3): producer 0 serves windows 8 and chunk 16 → 16; producer 3 serves 8 and 4 → 8.
  assert.equal(model(src, 'V', { seq: 100 }).kvCacheBytes, (16n + 8n) * 32n);
  // At seq 6 every reach is capped by the context: 6 + 6.
  assert.equal(model(src, 'V', { seq: 6 }).kvCacheBytes, (6n + 6n) * 32n);
  // An explicit map: 1 and 2 read 0, 4 reads 3, 5 reads 0 → producer 0 caches 16, producer 3 caches 8.
  const mapped = src.replace('every(3)', 'map([0, 0, 0, 3, 3, 0])');
  assert.equal(model(mapped, 'V', { seq: 100 }).kvCacheBytes, (16n + 8n) * 32n);
});

test('tied KV across windows and a long stack stay closed-form', () => {
  // 2·N alternating instances tied cycle(2): the first two produce (one windowed, one full);
  // every later instance reads the one of its own parity, so nothing grows.
  const alt = `model M {
  block Blk(w = none) { att = Attention(8, heads: 2, window: w) }
  body = [Blk(w: if i % 2 == 0 then 4 else none) for i in 0..10]
}
variant T of M { share body: cycle(2)
  share kv body: tied }
variant A of M { share body: all
  share kv body: tied }`;
  assert.equal(model(alt, 'T', { seq: 10 }).kvCacheBytes, (4n + 10n) * 32n);
  // share all: instance 0 (window 4) produces for everyone, full readers included → caches 10.
  assert.equal(model(alt, 'A', { seq: 10 }).kvCacheBytes, 10n * 32n);
  // Two runs of about 10⁹ instances, the boundary inside a group of every(2): the full-attention
  // instance 999,999,999 reads windowed 999,999,998; only that group straddles the runs.
  const huge = `model H {
  block Loc { att = Attention(8, heads: 2, window: 4) }
  block Glob { att = Attention(8, heads: 2) }
  body = Loc * 999999999 + Glob * 999999999
}
variant V of H { share kv body: every(2) }`;
  const t0 = Date.now();
  const v = model(huge, 'V', { seq: 10 });
  assert.ok(Date.now() - t0 < 5000, 'closed form, not a scan over 2·10⁹ instances');
  // Producers: 10⁹ (every even instance). Windowed producers 0, 2, …, 999,999,998: 500,000,000,
  // of which the last is read by instance 999,999,999 (full) → caches 10; the rest cache 4.
  // Full producers: 1,000,000,000 … 1,999,999,996 (even): 499,999,999 caching 10.
  assert.equal(v.kvCacheBytes, (499_999_999n * 4n + 1n * 10n + 499_999_999n * 10n) * 32n);
});
