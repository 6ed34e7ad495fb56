// Chunked attention (Llama 4's attention_chunk_size) in the ONNX export: a token attends only the
// earlier tokens of its own chunk, so without positions (no rotary, no position table) a prompt's
// last chunk computes exactly what the same model without chunks computes on that chunk alone;
// a prompt within one chunk is unchanged; the decode step is refused by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExportError, exportModel } from '../../kernels/export.js';
import { assertClose, idRows, maxRelDiff, opCounts, runChecked } from './helpers.js';

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

test('chunked attention: a decode step is refused by name', () => {
  assert.throws(
    () => exportModel(SPECS, 'Chunked', { decode: { batch: 1, past: 4 } }),
    (e: unknown) => e instanceof ExportError && /^body\[0\]\.attn: a decode step of chunked attention \(chunk: 3\) is not supported/.test(e.message),
  );
});
