// Cross-layer experts exported to ONNX and run on the CPU provider: an expert pool (`share
// experts`) is one initializer per pooled bank copy read by every layer of its pool, while each
// layer keeps its router and shared experts, so the initializers hold exactly params.stored; a
// Chain-of-Experts layer (`iterations: C`) runs C passes over one set of experts with the stacked
// router's row blocks; standard and fused graphs agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { assertClose, maxRelDiff, opCounts, runSynthetic } from './helpers.js';

const model = (ffn: string, share: string) => `
model M {
  embed = Embedding(61, 16)
  block B {
    n = RMSNorm(16)
    f = ${ffn}
  }
  body = B * 4
  norm = RMSNorm(16)
  head = Linear(16, 61)
  ${share}
}`;

test('an expert pool exports one bank per pool and a router per layer: initializers = params.stored', async () => {
  for (const [ffn, share] of [
    ['MoE(16, 24, experts: 4, top_k: 2, shared: 1)', 'share experts body.f: sequence(2)'],
    ['MoE(16, 8, experts: 6, top_k: 2, gated: false, bias: true, act: relu, router_bias: true)', 'share experts body.f: all'],
    ['MoE(16, 24, experts: 4, top_k: 2)', 'share experts body.f: map([0, 1, 0, 2])'],
  ] as const) {
    const text = model(ffn, share);
    const pooled = exportModel(text, 'M', { ops: 'standard' });
    const fused = exportModel(text, 'M', { ops: 'fused' });
    for (const r of [pooled, fused]) assert.equal(r.initializerElements, r.storedParams, `${ffn} ${share}`);
    // Fewer stored than the unpooled model by exactly the banks the pool saves.
    const unpooled = exportModel(model(ffn, ''), 'M', { ops: 'standard' });
    assert.ok(pooled.storedParams < unpooled.storedParams);
    // Four routers (one per layer) in both.
    const routers = (r: typeof pooled) => r.spec.graph.initializers.filter((i) => /\.f\.router$/.test(i.name)).length;
    assert.equal(routers(pooled), 4);
    assert.equal(routers(unpooled), 4);
    assertClose(await runSynthetic(pooled, 2, 5), await runSynthetic(fused, 2, 5), 1e-5, `${ffn}: fused = standard`);
  }
});

test('Chain-of-Experts exports C passes over one expert bank; initializers = params.stored', async () => {
  for (const ffn of ['MoE(16, 24, experts: 4, top_k: 2, iterations: 2)', 'MoE(16, 24, experts: 6, top_k: 2, shared: 1, iterations: 3, router_bias: true)']) {
    const std = exportModel(model(ffn, ''), 'M', { ops: 'standard' });
    const fused = exportModel(model(ffn, ''), 'M', { ops: 'fused' });
    for (const r of [std, fused]) assert.equal(r.initializerElements, r.storedParams, ffn);
    const iterations = Number(/iterations: (\d+)/.exec(ffn)![1]);
    // One router slice per iteration per layer.
    assert.equal(opCounts(std).get('Slice') ?? 0, 4 * iterations, ffn);
    assertClose(await runSynthetic(std, 2, 5), await runSynthetic(fused, 2, 5), 1e-5, `${ffn}: fused = standard`);
  }
  // A second iteration changes the output (it is not the first pass again).
  const one = await runSynthetic(exportModel(model('MoE(16, 24, experts: 4, top_k: 2)', ''), 'M'), 2, 5);
  const two = await runSynthetic(exportModel(model('MoE(16, 24, experts: 4, top_k: 2, iterations: 2)', ''), 'M'), 2, 5);
  assert.ok(maxRelDiff(one, two) > 1e-4);
});
