// Gemma 3n's layers in the ONNX export (prefill): a small Gemma 3n written as npas import-hf
// writes it (per-layer embeddings, AltUp over 3 copies, LAuReL, KV sharing with kept weights)
// exports with initializer elements equal to params.stored, on standard and fused ops, and runs on
// the CPU provider. AltUpProjections and Laurel are checked against the formulas of Transformers'
// Gemma3nTextModel and Gemma3nTextLaurelBlock written out here on the exported weights.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { importHfConfig } from '../../src/core/hf/import-hf.js';
import { assertClose, idRows, initializer, matvec, runChecked, syntheticIds } from './helpers.js';

const D = 16;
const V = 37;

/** A Gemma 3n text config shrunk to test size: 5 layers (the fifth full), the last 2 sharing KV. */
const TINY = {
  model_type: 'gemma3n_text',
  hidden_size: D,
  num_hidden_layers: 5,
  intermediate_size: [32, 32, 48, 48, 24],
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  vocab_size: V,
  vocab_size_per_layer_input: 29,
  hidden_size_per_layer_input: 4,
  altup_num_inputs: 3,
  laurel_rank: 4,
  num_kv_shared_layers: 2,
  sliding_window: 3,
  layer_types: ['sliding_attention', 'sliding_attention', 'full_attention', 'sliding_attention', 'full_attention'],
  activation_sparsity_pattern: [0.95, 0, 0, 0, 0],
};

test('a small Gemma 3n (PLE, AltUp, LAuReL, MatFormer widths, shared KV) exports and runs; initializers = params.stored', async () => {
  const imported = importHfConfig(JSON.stringify(TINY));
  if (!imported.ok) assert.fail(imported.message);
  assert.match(imported.spec, /share kv body: map\(kv_sources, keep_weights: true\)/);
  for (const ops of ['standard', 'fused'] as const) {
    const r = exportModel(imported.spec, undefined, { ops });
    assert.equal(r.initializerElements, r.storedParams, ops);
    assert.equal(r.outputWidth, V);
    await runChecked(r, { input_ids: syntheticIds(2, 6, V) });
  }
});

const EPS = 1e-6;
const rmsOf = (x: readonly number[], floor = 0): number => Math.sqrt(Math.max(x.reduce((a, v) => a + v * v, 0) / x.length, floor));

test('AltUpProjections: copies made from the embedding, folded back by the mean of the rescaled projections', async () => {
  const spec = `model M {\n  embed = Embedding(${V}, ${D})\n  widen = AltUpProjections(${D}, 3)\n  fold = AltUpProjections(${D}, 3)\n}\n`;
  const r = exportModel(spec, 'M', { ops: 'standard' });
  assert.equal(r.initializerElements, r.storedParams);
  const ids = [3, 11, 30];
  const y = await runChecked(r, { input_ids: idRows([ids]) });
  const E = initializer(r, 'embed.weight');
  const P = [0, 1].map((i) => initializer(r, `widen.proj[${i}]`));
  const Q = [0, 1].map((i) => initializer(r, `fold.proj[${i}]`));
  const e = Array.from(E.subarray(ids[2]! * D, (ids[2]! + 1) * D));
  // Gemma3nTextModel.forward: copy i = proj_i(e) · rms(e) / max(rms(proj_i(e)), √1e-5).
  const target = rmsOf(e);
  const copies = [e, ...P.map((p) => {
    const c = matvec(p, e, D);
    const s = target / rmsOf(c, 1e-5);
    return c.map((v) => v * s);
  })];
  // The unembedding: copy i > 0 through unembed_i, rescaled to copy 0's RMS, then the mean.
  const t0 = rmsOf(copies[0]!);
  const folded = [copies[0]!, ...Q.map((q, i) => {
    const c = matvec(q, copies[i + 1]!, D);
    const s = t0 / rmsOf(c, 1e-5);
    return c.map((v) => v * s);
  })];
  const mean = Array.from({ length: D }, (_, j) => folded.reduce((a, c) => a + c[j]!, 0) / 3);
  // The model has no head: the output is the folded stream.
  assertClose(y, mean, 1e-4, 'fold');
});

test('Laurel: x + rmsnorm(right(left(x)))·w', async () => {
  const r = exportModel(`model M {\n  embed = Embedding(${V}, ${D})\n  laurel = Laurel(${D}, 4)\n}\n`, 'M', { ops: 'standard' });
  assert.equal(r.initializerElements, r.storedParams);
  const y = await runChecked(r, { input_ids: idRows([[5, 9]]) });
  const E = initializer(r, 'embed.weight');
  const x = Array.from(E.subarray(9 * D, 10 * D));
  const low = matvec(initializer(r, 'laurel.right'), matvec(initializer(r, 'laurel.left'), x, 4), D);
  const w = initializer(r, 'laurel.norm');
  const rms = Math.sqrt(low.reduce((a, v) => a + v * v, 0) / D + EPS);
  assertClose(y, x.map((v, i) => v + (low[i]! / rms) * w[i]!), 1e-4, 'laurel');
});
