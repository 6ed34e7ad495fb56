// Chunked attention (Llama 4): a prefill of S tokens in chunks of c attends, per chunk, a causal
// prefix of its own tokens; the KV cache and a decode step hold at most one chunk.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';

const spec = (arg: string) => `model M {
  embed = Embedding(10, 64)
  attn  = Attention(64, 4, kv_heads: 2${arg})
}`;

test('chunked prefill keys: whole chunks of c(c+1)/2 plus the partial last chunk; KV and decode capped at one chunk', () => {
  const S = 1000;
  const c = 300;
  const chunked = analyze(spec(`, chunk: ${c}`), { seq: S, batch: 1, dtype: 'bf16' }).models[0]!;
  const full = analyze(spec(''), { seq: S, batch: 1, dtype: 'bf16' }).models[0]!;
  // Three full chunks and one of 100: 3 · 300·301/2 + 100·101/2 keys, against S(S+1)/2 without chunks.
  const keys = (n: number) => BigInt(n * (n + 1)) / 2n;
  const perKey = 2n * 4n * (16n + 16n); // q·k and p·v per head
  assert.equal(full.flops.prefill - chunked.flops.prefill, perKey * (keys(S) - (3n * keys(c) + keys(100))));
  // KV: 2 · kv_heads · head_dim elements for min(S, c) tokens, bf16.
  assert.equal(chunked.kvCacheBytes, BigInt(c) * 2n * 2n * 16n * 2n);
  assert.equal(full.flops.decode - chunked.flops.decode, perKey * BigInt(S - c));
  // A chunk longer than the sequence changes nothing.
  const long = analyze(spec(', chunk: 4096'), { seq: S, batch: 1, dtype: 'bf16' }).models[0]!;
  assert.deepEqual([long.flops.prefill, long.kvCacheBytes], [full.flops.prefill, full.kvCacheBytes]);
});

test('chunk with a window, on cross-attention or bidirectional attention is refused on chunk', () => {
  for (const arg of [', chunk: 8, window: 4', ', chunk: 8, causal: false']) {
    const d = analyze(spec(arg)).diagnostics.filter((x) => x.severity === 'error');
    assert.equal(d.length, 1, arg);
  }
});
