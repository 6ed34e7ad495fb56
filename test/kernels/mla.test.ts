// MLA (DeepSeek-V2 multi-head latent attention) in the ONNX export, on the CPU provider: tiny MLA +
// DeepSeekMoE models validate and run; initializer elements equal params.stored; the decode graph's
// cache holds the engine's MLA KV (kv_rank + rope_dim per token and layer); and the decode step,
// which attends to the compressed latent in the absorbed form, gives the prefill's last position
// when its cache holds the latents the prefill computed for the prefix.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExportError, exportModel, onnxBytes, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows } from './helpers.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';

const SPEC = `
model TinyDeepSeek(vocab = 60, d = 32) {
  block DenseLayer {
    attn_norm = RMSNorm(d)
    attn      = MLA(d, 4, kv_rank: 12, rope_dim: 4, nope_dim: 6, v_dim: 5)
    mlp_norm  = RMSNorm(d)
    mlp       = GatedMLP(d, 48)
  }
  block MoELayer {
    attn_norm = RMSNorm(d)
    attn      = MLA(d, 4, kv_rank: 12, rope_dim: 4, nope_dim: 6, v_dim: 5, q_rank: 10, bias: true)
    mlp_norm  = RMSNorm(d)
    moe       = MoE(d, 16, experts: 4, top_k: 2, shared: 1)
  }
  embed   = Embedding(vocab, d)
  body    = DenseLayer + MoELayer * 2
  norm    = RMSNorm(d)
  lm_head = Linear(d, vocab)
}
model Split(vocab = 60, d = 32) {
  block MoELayer {
    attn_norm = RMSNorm(d)
    attn      = MLA(d, 4, kv_rank: 12, rope_dim: 4, nope_dim: 6, v_dim: 5, q_rank: 10)
    mlp_norm  = RMSNorm(d)
    moe       = MoE(d, 16, experts: 4, top_k: 2, shared: 1)
  }
  embed   = Embedding(vocab, d)
  dense   = MoELayer
  body    = MoELayer * 2
  lm_head = Linear(d, vocab)
}
variant Shared of Split { share body: all }
`;

async function runIds(r: ExportResult, rows: number[][], extra: string[] = []): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(onnxBytes(r));
  try {
    return await session.run({ input_ids: idRows(rows) }, ['last_token', ...extra]);
  } finally {
    await session.release();
  }
}

test('MLA + DeepSeekMoE (first layer dense, q low-rank, biases): initializers = params.stored, prefill and decode run', async () => {
  for (const name of ['TinyDeepSeek', 'Split', 'Shared']) {
    const r = exportModel(SPEC, name);
    assert.equal(r.initializerElements, r.storedParams, name);
    const y = (await runIds(r, [[1, 2, 3, 4, 5], [9, 8, 7, 6, 5]])).last_token!;
    assert.deepEqual(y.dims, [2, 60]);
    assert.ok((y.data as Float32Array).every(Number.isFinite));
    const d = exportModel(SPEC, name, { decode: { batch: 2, past: 7 }, analysis: { seq: 7, batch: 2, dtype: 'fp32' } });
    assert.equal(d.initializerElements, d.storedParams, name);
    // The cache is the latent + rope key: 3 layers · 2 sequences · 7 positions · (12 + 4).
    assert.equal(d.kvCacheElements, 3n * 2n * 7n * 16n);
    assert.equal(d.kvCacheElements * 4n, d.report.kvCacheBytes, name);
    const z = (await runIds(d, [[3], [4]])).last_token!;
    assert.ok((z.data as Float32Array).every(Number.isFinite));
  }
});

test('the MLA decode step over the latent cache equals the prefill\'s last position', async () => {
  const tokens = [[3, 17, 5, 29, 11, 40], [8, 1, 52, 7, 33, 21]];
  const S = tokens[0]!.length - 1;
  // The prefill over the first S tokens, with every layer's latent and rope key as extra outputs.
  const prefix = exportModel(SPEC, 'TinyDeepSeek');
  const taps: string[] = [];
  for (const n of prefix.spec.graph.nodes) if (n.op === 'Identity' && /^mla_(latent|kpe)_/.test(n.outputs[0]!)) taps.push(n.outputs[0]!);
  assert.equal(taps.length, 6);
  const spec = { ...prefix.spec, graph: { ...prefix.spec.graph, outputs: [...prefix.spec.graph.outputs, ...taps.map((name) => ({ name, dataType: 1 as const, dims: ['t', 'w'] }))] } };
  const outs = await runIds({ ...prefix, spec }, tokens.map((t) => t.slice(0, S)), taps);
  // Layer i's taps are the i-th latent and i-th rope key, in emission order.
  const caches = new Map<string, Uint8Array>();
  for (let layer = 0; layer < 3; layer++) {
    const lat = outs[taps[2 * layer]!]!.data as Float32Array; // [B·S, 12] = [B, S, 12]
    const kpe = outs[taps[2 * layer + 1]!]!.data as Float32Array; // [B·S, 4] → cache [B, 4, S]
    const kpeT = new Float32Array(2 * 4 * S);
    for (let b = 0; b < 2; b++) for (let s = 0; s < S; s++) for (let j = 0; j < 4; j++) kpeT[(b * 4 + j) * S + s] = kpe[(b * S + s) * 4 + j]!;
    caches.set(`kv_cache.body[${layer}].attn.latent`, new Uint8Array(lat.slice().buffer));
    caches.set(`kv_cache.body[${layer}].attn.k_pe`, new Uint8Array(kpeT.buffer));
  }
  const fill: WeightFill = (key, shape, dtype, scale, offset) => caches.get(key) ?? defaultFill(key, shape, dtype, scale, offset);
  const decode = exportModel(SPEC, 'TinyDeepSeek', { decode: { batch: 2, past: S }, fill });
  const full = (await runIds(exportModel(SPEC, 'TinyDeepSeek'), tokens)).last_token!.data as Float32Array;
  const step = (await runIds(decode, tokens.map((t) => [t[S]!]))).last_token!.data as Float32Array;
  assertClose(step, full, 1e-4);
  // A cache of other values changes the answer: the step really reads the cache.
  const synthetic = (await runIds(exportModel(SPEC, 'TinyDeepSeek', { decode: { batch: 2, past: S } }), tokens.map((t) => [t[S]!]))).last_token!.data as Float32Array;
  assert.ok(synthetic.some((v, i) => Math.abs(v - full[i]!) > 1e-3));
});

test('DeepSeek-V2-Lite exports as a graph (no weights drawn) with its exact stored parameters', () => {
  // Graph only: a fill that draws nothing keeps this fast; the elements are counted from shapes.
  const empty: WeightFill = () => new Uint8Array(0);
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'deepseek-v2.npas'), 'utf8');
  const r = exportModel(text, 'DeepSeekV2Lite', { fill: empty });
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.storedParams, 15_706_484_224n);
});

test('MLA reading another layer\'s KV is refused by name', () => {
  assert.throws(() => exportModel(`${SPEC}\nvariant Kv of Split { share kv body: every(2) }`, 'Kv'), (e: unknown) => e instanceof ExportError && /body\[1\]\.attn: MLA reading another layer's KV/.test(e.message));
});
