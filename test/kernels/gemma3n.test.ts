// Gemma 3n's layers in the ONNX export: a small Gemma 3n written as npas import-hf writes it
// (per-layer embeddings, AltUp over 3 copies, LAuReL, KV sharing with kept weights) exports with
// initializer elements equal to params.stored, on standard and fused ops, and runs on the CPU
// provider, as a prefill and as a decode step: the KV-sharing tail reads the caches of the last
// layers of its type that keep one, whose elements are derived here from the config, and the step
// over the prefill's own cache equals the prefill's last position. AltUpProjections and Laurel are
// checked against the formulas of Transformers' Gemma3nTextModel and Gemma3nTextLaurelBlock
// written out here on the exported weights.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { importHfConfig } from '../../src/core/hf/import-hf.js';
import { join } from 'node:path';
import { runProbe } from '../../kernels/probe-client.js';
import { assertClose, chainDecode, fusedTwin, idRows, initializer, matvec, maxRelDiff, prefillCacheFill, runChecked, syntheticIds } from './helpers.js';

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

/**
 * KV elements per sequence of a Gemma 3n decode step at context `past`, from the config alone:
 * only the first num_hidden_layers − num_kv_shared_layers layers keep a cache (the shared tail
 * reads theirs), a sliding layer min(past, sliding_window) positions and a full one all `past`,
 * each position 2 (K and V) · num_key_value_heads · head_dim elements.
 */
function gemma3nKvPerSequence(config: typeof TINY, past: number): number {
  const own = config.num_hidden_layers - config.num_kv_shared_layers;
  let positions = 0;
  for (let i = 0; i < own; i++) positions += config.layer_types[i] === 'sliding_attention' ? Math.min(past, config.sliding_window) : past;
  return 2 * config.num_key_value_heads * config.head_dim * positions;
}

const imported = (config: typeof TINY) => {
  const r = importHfConfig(JSON.stringify(config));
  if (!r.ok) assert.fail(r.message);
  return { spec: r.spec, model: r.modelName };
};

test('Gemma 3n decode step: initializers = params.stored, the KV cache of the layers that keep one = the config\'s and the engine\'s, fused = standard, steps run', async () => {
  const { spec, model } = imported(TINY);
  const past = 6; // past the sliding window (3): the sliding caches hold 3 positions, the full one 6
  const decode = { batch: 2, past };
  const ops = await fusedTwin(spec, model, { decode }, 2, 1);
  assert.equal(ops.get('GroupQueryAttention'), 5, 'every layer, the sharing tail included, attends on GroupQueryAttention');
  const r = exportModel(spec, model, { ops: 'standard', decode, analysis: { seq: past, batch: 2, dtype: 'fp32' } });
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.kvCacheElements, BigInt(2 * gemma3nKvPerSequence(TINY, past)));
  assert.equal(r.kvCacheElements * 4n, r.report.kvCacheBytes);
  // Caches exist for layers 0–2 only; layers 3 and 4 read those of layers 1 (sliding) and 2 (full).
  const caches = r.spec.graph.initializers.map((t) => t.name).filter((n) => n.startsWith('kv_cache.')).sort();
  assert.deepEqual(caches, ['kv_cache.body[0].attn.k', 'kv_cache.body[0].attn.v', 'kv_cache.body[1].attn.k', 'kv_cache.body[1].attn.v', 'kv_cache.body[2].attn.k', 'kv_cache.body[2].attn.v']);
  assert.equal(r.stateInputs.length, 0, 'attention only: no recurrent state to chain');
  const steps = await chainDecode(r, [[1, 30, 9], [4, 20, 2]]);
  for (const y of steps) assert.equal(y.length, 2 * V);
});

test('Gemma 3n decode step over the prefill\'s own cache equals the prefill\'s last position (KV sharing, AltUp, LAuReL, per-layer inputs)', async () => {
  // A window wider than the prompt, so the prefill and the step see the same keys on every layer.
  const config = { ...TINY, sliding_window: 16 };
  const { spec, model } = imported(config);
  const tokens = [[3, 17, 5, 29, 11, 30], [8, 1, 22, 7, 33, 21]];
  const past = tokens[0]!.length - 1;
  const { fill, caches } = await prefillCacheFill(spec, model, tokens.map((t) => t.slice(0, past)));
  assert.equal(caches, 3, 'the prefill names the caches of the three layers that keep one');
  const last = (ids: number[][], r = exportModel(spec, model, { ops: 'standard' })) => runChecked(r, { input_ids: idRows(ids) });
  const full = await last(tokens);
  const stepGraph = exportModel(spec, model, { ops: 'standard', decode: { batch: 2, past }, fill });
  assert.equal(stepGraph.kvCacheElements, BigInt(2 * gemma3nKvPerSequence(config, past)));
  const next = idRows(tokens.map((t) => [t[past]!]));
  assertClose(await runChecked(stepGraph, { input_ids: next }), full, 1e-4, 'decode = prefill');
  // A cache of other values changes the answer: the step (and its sharing tail) reads the cache.
  const synthetic = await runChecked(exportModel(spec, model, { ops: 'standard', decode: { batch: 2, past } }), { input_ids: next });
  assert.ok(maxRelDiff(synthetic, full) > 1e-3);
});

test('the probe measures the Gemma 3n decode step on CPU with the engine\'s KV cache', async () => {
  const { spec, model } = imported(TINY);
  const host = join(process.cwd(), 'kernels', 'probe-host.ts');
  const out = await runProbe({ specText: spec, model, ep: 'cpu', batch: 2, seq: 6, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: host, timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const d = out.result.decode;
  assert.ok(!('unavailable' in d), 'unavailable' in d ? d.unavailable : '');
  if ('unavailable' in d) return;
  assert.ok(d.medianMs > 0);
  assert.equal(d.kvCacheElements, String(2 * gemma3nKvPerSequence(TINY, 6)));
});
