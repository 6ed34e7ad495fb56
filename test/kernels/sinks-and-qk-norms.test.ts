// Attention sinks (GPT-OSS) and full-width q/k norms (OLMo-2, OLMoE) in the ONNX export: every
// stored element is an initializer, the fused and standard graphs agree, and a sink of −10⁹
// (no probability mass) gives exactly the attention without sinks, in prefill and decode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, fusedTwin, maxRelDiff, opCounts, runSynthetic } from './helpers.js';

const SPECS = `
block Sink(sinks) {
  attn_norm = RMSNorm(32)
  attn      = Attention(32, 4, kv_heads: 2, head_dim: 16, sinks: sinks, window: 4, rope: true)
  mlp_norm  = RMSNorm(32)
  mlp       = GatedMLP(32, 48)
}
model Sinks {
  embed   = Embedding(61, 32)
  body    = Sink(sinks: true) * 2
  norm    = RMSNorm(32)
  lm_head = Linear(32, 61)
}
variant NoSinks of Sinks { body = Sink(sinks: false) * 2 }
model FullNorm {
  embed   = Embedding(61, 32)
  block B {
    attn_norm = RMSNorm(32)
    attn      = Attention(32, 4, kv_heads: 2, head_dim: 16, qk_norm: rms, qk_norm_width: full, rope: true)
    mlp_norm  = RMSNorm(32)
    mlp       = GatedMLP(32, 48)
  }
  body    = B * 2
  lm_head = Linear(32, 61)
}
`;

const decode = { batch: 2, past: 6 };

/** The default synthetic weights, with every sink at −10⁹. */
const silentSinks: WeightFill = (key, shape, dtype, scale, offset) =>
  key.endsWith('.sinks') ? new Uint8Array(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(-1e9).buffer) : defaultFill(key, shape, dtype, scale, offset);

test('sinks: stored as initializers, standard ops in both graphs, a silent sink is no sink at all', async () => {
  // GroupQueryAttention has no sink input: layers with sinks keep MatMul/Softmax in both graphs
  // (fusedTwin's decode feeds GroupQueryAttention's cache layout, so it compares prefills only).
  const ops = await fusedTwin(SPECS, 'Sinks', {}, 2, 7);
  assert.equal(ops.get('GroupQueryAttention'), undefined);
  for (const options of [{}, { decode }]) {
    const s = options.decode ? 1 : 7;
    // Standard ops on both sides, so that both decode graphs read the cache in one layout.
    const sinks = exportModel(SPECS, 'Sinks', { ...options, ops: 'standard', fill: silentSinks });
    const plain = exportModel(SPECS, 'NoSinks', { ...options, ops: 'standard' });
    assert.equal(sinks.storedParams - plain.storedParams, 2n * 4n, 'one logit per head in each layer');
    assert.equal(sinks.initializerElements, sinks.storedParams);
    assertClose(await runSynthetic(sinks, 2, s), await runSynthetic(plain, 2, s), 1e-6, 'silent sinks');
    const live = exportModel(SPECS, 'Sinks', { ...options, ops: 'standard' });
    assert.ok(maxRelDiff(await runSynthetic(live, 2, s), await runSynthetic(plain, 2, s)) > 1e-4, 'sinks take probability mass');
  }
});

test('full-width q/k norms: one norm over all heads before the split, fused equals standard', async () => {
  for (const options of [{}, { decode }]) {
    const ops = await fusedTwin(SPECS, 'FullNorm', options, 2, options.decode ? 1 : 5);
    assert.equal(ops.get('GroupQueryAttention'), 2);
  }
  const r = exportModel(SPECS, 'FullNorm', { ops: 'standard' });
  const norms = r.spec.graph.initializers.filter((i) => /attn\.(q|k)_norm$/.test(i.name)).map((i) => [i.name, i.dims]);
  assert.deepEqual(norms.map(([, dims]) => dims), [[64], [32], [64], [32]]);
  assert.ok((opCounts(r).get('ReduceMean') ?? 0) >= 4);
});
