// Chunked attention (Llama 4's attention_chunk_size) in the ONNX export: a token attends only the
// earlier tokens of its own chunk, so without positions (no rotary, no position table) a prompt's
// last chunk computes exactly what the same model without chunks computes on that chunk alone;
// a prompt within one chunk is unchanged. A decode step at position P caches the last min(P, chunk)
// positions (the engine's KV) but reads only the P mod chunk of its own chunk: it computes what
// the unchunked model's decode step computes over a cache of those P mod chunk positions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, maxRelDiff, opCounts, prefillCacheFill, runChecked } from './helpers.js';

const SPECS = `
block Layer(chunk_size = none) {
  attn_norm = RMSNorm(32)
  attn      = Attention(32, 4, kv_heads: 2, head_dim: 8, chunk: chunk_size)
  mlp_norm  = RMSNorm(32)
  mlp       = GatedMLP(32, 48)
}
model Chunked {
  embed   = Embedding(61, 32)
  body    = Layer(chunk_size: 3) * 2
  norm    = RMSNorm(32)
  lm_head = Linear(32, 61)
}
variant Full of Chunked { body = Layer * 2 }
`;

const run = (name: string, rows: number[][], ops: 'standard' | 'fused' = 'standard') => {
  const r = exportModel(SPECS, name, { ops });
  assert.equal(r.initializerElements, r.storedParams);
  return runChecked(r, { input_ids: idRows(rows) });
};

test('chunked attention: the last chunk of a prompt computes what the unchunked model computes on that chunk alone', async () => {
  const prompt = [[5, 17, 29, 41, 53, 8, 20, 32]]; // chunks [0..2], [3..5], [6..7]
  const lastChunk = [[20, 32]];
  assertClose(await run('Chunked', prompt), await run('Full', lastChunk), 1e-5, 'last chunk alone');
  // Within one chunk nothing is masked beyond causality.
  assertClose(await run('Chunked', [[5, 17, 29]]), await run('Full', [[5, 17, 29]]), 1e-5, 'one chunk');
  // Across chunks the masks differ, and so do the outputs.
  assert.ok(maxRelDiff(await run('Chunked', prompt), await run('Full', prompt)) > 1e-4, 'earlier chunks are masked');
  // Fused ops keep the standard attention for chunked layers (GroupQueryAttention has no chunks).
  const fused = exportModel(SPECS, 'Chunked', { ops: 'fused' });
  assert.equal(opCounts(fused).get('GroupQueryAttention'), undefined);
  assertClose(await run('Chunked', prompt, 'fused'), await run('Chunked', prompt), 1e-5, 'fused graph');
});

/**
 * Cached keys and values drawn by their distance from the newest cached position (keys stored
 * [B, KV, hd, L], values [B, KV, L, hd]), so caches of different lengths agree on their newest
 * entries; weights as by default.
 */
const byDistance: WeightFill = (key, shape, dtype, scale, offset) => {
  if (!key.startsWith('kv_cache.')) return defaultFill(key, shape, dtype, scale, offset);
  const keys = key.endsWith('.k');
  const [B, KV, a, b] = shape as [number, number, number, number];
  const [L, hd] = keys ? [b, a] : [a, b];
  const out = new Float32Array(B * KV * L * hd);
  for (let bb = 0; bb < B; bb++)
    for (let kv = 0; kv < KV; kv++)
      for (let j = 0; j < L; j++)
        for (let d = 0; d < hd; d++) {
          const at = keys ? ((bb * KV + kv) * hd + d) * L + j : ((bb * KV + kv) * L + j) * hd + d;
          out[at] = Math.sin(1.3 * (bb + 1) + 0.7 * kv + 0.37 * d + 0.91 * (L - 1 - j) + (keys ? 0.5 : 0) + (key.includes('[1]') ? 0.2 : 0));
        }
  return new Uint8Array(out.buffer);
};

const decode = (name: string, past: number) => {
  const r = exportModel(SPECS, name, { ops: 'standard', fill: byDistance, decode: { batch: 2, past }, analysis: { seq: past, batch: 2, dtype: 'fp32' } });
  assert.equal(r.initializerElements, r.storedParams);
  // The cache the graph holds is the engine's: min(past, chunk) positions per chunked layer.
  assert.equal(r.kvCacheElements * 4n, r.report.kvCacheBytes, `${name} at ${past}`);
  return { r, out: runChecked(r, { input_ids: idRows([[5], [40]]) }) };
};

test('chunked attention decode step: a cache of min(past, chunk) positions, of which the token reads its own chunk\'s', async () => {
  // 2 layers · K and V · kv_heads 2 · head_dim 8 · batch 2 · min(past, 3) positions.
  for (const past of [2, 5, 7, 8]) {
    const chunked = decode('Chunked', past);
    assert.equal(chunked.r.kvCacheElements, BigInt(2 * 2 * 2 * 8 * 2 * Math.min(past, 3)));
    assertClose(await chunked.out, await decode('Full', past % 3).out, 1e-5, `past ${past}: the unchunked step over its chunk's ${past % 3} positions`);
  }
  // At a chunk's first position the token reads itself alone; past 2 chunks the masks matter.
  const first = await decode('Chunked', 6).out;
  assert.ok(maxRelDiff(first, await decode('Chunked', 7).out) > 1e-4);
  assert.ok(maxRelDiff(await decode('Chunked', 7).out, await decode('Full', 3).out) > 1e-4, 'earlier chunks are masked');
  // Fused ops keep the standard attention for chunked layers.
  const fused = exportModel(SPECS, 'Chunked', { ops: 'fused', fill: byDistance, decode: { batch: 2, past: 7 } });
  assert.equal(opCounts(fused).get('GroupQueryAttention'), undefined);
  assertClose(await runChecked(fused, { input_ids: idRows([[5], [40]]) }), await decode('Chunked', 7).out, 1e-5, 'fused graph');
});

// Chunked attention under `share kv` (Llama 4-style chunked layers whose K/V another layer
// reads): every reader masks the producer's keys with its own chunk or window, and the producer
// caches the furthest reach among itself and its readers (docs/language.md, "Sharing across
// windows"), so the cache a decode step holds is still the engine's KV.
const SHARED = `
block Layer(chunk_size = none, win = none) {
  attn_norm = RMSNorm(32)
  attn      = Attention(32, 4, kv_heads: 2, head_dim: 8, chunk: chunk_size, window: win)
  mlp_norm  = RMSNorm(32)
  mlp       = GatedMLP(32, 48)
}
model SharedChunked {
  embed   = Embedding(61, 32)
  body    = Layer(chunk_size: 3) * 4
  norm    = RMSNorm(32)
  lm_head = Linear(32, 61)
  share kv body: every(2)
}
variant SharedFull of SharedChunked { body = Layer * 4 }
model ChunkedReadByFull {
  chunks  = [3, none, 3, none]
  embed   = Embedding(61, 32)
  body    = [Layer(chunk_size: chunks[i]) for i in 4]
  norm    = RMSNorm(32)
  lm_head = Linear(32, 61)
  share kv body: every(2)
}
variant FullReadByChunked of ChunkedReadByFull { chunks = [none, 3, none, 3] }
model WindowReadByFull {
  wins    = [3, none, 3, none]
  embed   = Embedding(61, 32)
  body    = [Layer(win: wins[i]) for i in 4]
  norm    = RMSNorm(32)
  lm_head = Linear(32, 61)
  share kv body: every(2)
}
variant Window4ReadByFull of WindowReadByFull { wins = [4, none, 4, none] }
`;

const sharedDecode = (name: string, past: number, ops: 'standard' | 'fused' = 'standard') => {
  const r = exportModel(SHARED, name, { ops, fill: byDistance, decode: { batch: 2, past }, analysis: { seq: past, batch: 2, dtype: 'fp32' } });
  assert.equal(r.initializerElements, r.storedParams, `${name} at ${past}`);
  assert.equal(r.kvCacheElements * 4n, r.report.kvCacheBytes, `${name} at ${past}: the engine's KV cache`);
  return r;
};

test('chunked attention that borrows KV: prefill — the last chunk computes what the unchunked sharing model computes on it alone', async () => {
  const prompt = [[5, 17, 29, 41, 53, 8, 20, 32]];
  for (const ops of ['standard', 'fused'] as const) {
    const run = async (name: string, rows: number[][]) => {
      const r = exportModel(SHARED, name, { ops });
      assert.equal(r.initializerElements, r.storedParams);
      return runChecked(r, { input_ids: idRows(rows) });
    };
    assertClose(await run('SharedChunked', prompt), await run('SharedFull', [[20, 32]]), 1e-5, `${ops}: last chunk alone`);
    assert.ok(maxRelDiff(await run('SharedChunked', prompt), await run('SharedFull', prompt)) > 1e-4, `${ops}: earlier chunks are masked for the readers too`);
  }
});

test('chunked attention that borrows KV: decode — two producers cache min(past, chunk) positions, the readers read their chunk of them', async () => {
  for (const past of [2, 5, 7, 8]) {
    const chunked = sharedDecode('SharedChunked', past);
    // 2 producers (instances 0 and 2) · K and V · kv_heads 2 · head_dim 8 · batch 2 · min(past, 3).
    assert.equal(chunked.kvCacheElements, BigInt(2 * 2 * 2 * 8 * 2 * Math.min(past, 3)), `past ${past}`);
    const full = sharedDecode('SharedFull', past % 3);
    assert.equal(full.kvCacheElements, BigInt(2 * 2 * 2 * 8 * 2 * (past % 3)));
    const ids = { input_ids: idRows([[5], [40]]) };
    assertClose(await runChecked(chunked, ids), await runChecked(full, ids), 1e-5, `past ${past}: the unchunked sharing step over its chunk's ${past % 3} positions`);
    // Fused ops run the chunked group on the standard ops: same graph, same answer.
    const fused = sharedDecode('SharedChunked', past, 'fused');
    assert.equal(opCounts(fused).get('GroupQueryAttention'), undefined);
    assertClose(await runChecked(fused, ids), await runChecked(chunked, ids), 1e-5, `past ${past}: fused`);
  }
});

test('a chunked producer read by a full-attention layer caches the whole context; each layer masks its own', async () => {
  const past = 7;
  for (const name of ['ChunkedReadByFull', 'FullReadByChunked']) {
    const r = sharedDecode(name, past);
    // 2 producers · 2 · 2 · 8 · batch 2 · past: the full reader (or producer) reaches every position.
    assert.equal(r.kvCacheElements, BigInt(2 * 2 * 2 * 8 * 2 * past), name);
    const std = await runChecked(r, { input_ids: idRows([[5], [40]]) });
    const fused = sharedDecode(name, past, 'fused');
    assert.equal(fused.kvCacheElements, r.kvCacheElements);
    assertClose(await runChecked(fused, { input_ids: idRows([[5], [40]]) }), std, 1e-5, `${name}: fused`);
  }
});

test('decode steps of chunked layers under share kv over the prefill\'s own cache equal the prefill\'s last position', async () => {
  // Positions 0..8: the step at position 8 is in chunk [6, 8], so the chunked layers see 6 and 7
  // of the cache and the full ones all 8; the prefill masks the same keys.
  const tokens = [[5, 17, 29, 41, 53, 8, 20, 32, 11], [40, 2, 33, 9, 14, 60, 21, 3, 7]];
  const past = tokens[0]!.length - 1;
  const next = { input_ids: idRows(tokens.map((t) => [t[past]!])) };
  for (const name of ['SharedChunked', 'ChunkedReadByFull', 'FullReadByChunked', 'Chunked']) {
    const text = name === 'Chunked' ? SPECS : SHARED;
    const full = await runChecked(exportModel(text, name, { ops: 'standard' }), { input_ids: idRows(tokens) });
    const { fill, caches } = await prefillCacheFill(text, name, tokens.map((t) => t.slice(0, past)));
    assert.equal(caches, 2, `${name}: the K/V of the two layers that keep a cache named in the prefill`);
    const step = exportModel(text, name, { ops: 'standard', decode: { batch: 2, past }, fill, analysis: { seq: past, batch: 2, dtype: 'fp32' } });
    assert.equal(step.kvCacheElements * 4n, step.report.kvCacheBytes, name);
    assertClose(await runChecked(step, next), full, 1e-4, `${name}: decode = prefill`);
  }
});

test('a sliding producer read by a full-attention layer (Gemma-2 with every(2)): the cache holds every position, the producer reads its window of it', async () => {
  const tokens = [[5, 17, 29, 41, 53, 8, 20, 32], [40, 2, 33, 9, 14, 60, 21, 3]];
  const past = tokens[0]!.length - 1;
  const step = sharedDecode('WindowReadByFull', past);
  // 2 producers · K and V · kv_heads 2 · head_dim 8 · batch 2 · past: the full readers reach every position.
  assert.equal(step.kvCacheElements, BigInt(2 * 2 * 2 * 8 * 2 * past));
  // A decode step of a window-W layer reads the last min(past, W) cached positions and itself
  // (the engine's W cached keys), W + 1 keys, which a prefill gives a window of W + 1: so the step
  // over that prefill's cache equals that prefill's last position.
  const { fill } = await prefillCacheFill(SHARED, 'Window4ReadByFull', tokens.map((t) => t.slice(0, past)));
  const full = await runChecked(exportModel(SHARED, 'Window4ReadByFull', { ops: 'standard' }), { input_ids: idRows(tokens) });
  const fed = exportModel(SHARED, 'WindowReadByFull', { ops: 'standard', decode: { batch: 2, past }, fill });
  assertClose(await runChecked(fed, { input_ids: idRows(tokens.map((t) => [t[past]!])) }), full, 1e-4, 'decode = prefill');
});
