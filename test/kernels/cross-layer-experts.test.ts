// Cross-layer experts exported to ONNX and run on the CPU provider: an expert pool (`share
// experts`) is one initializer per pooled bank copy read by every layer of its pool, while each
// layer keeps its router and shared experts, so the initializers hold exactly params.stored; a
// Chain-of-Experts layer (`iterations: C`) runs C passes over one set of experts with the stacked
// router's row blocks; standard and fused graphs agree. An expert pool's graph is also checked
// against a plain-JS computation from its initializers, with the layer → pool map written out here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { assertClose, idRows, initializer, matvec, maxRelDiff, opCounts, runChecked, runSynthetic, silu } from './helpers.js';

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

// Token-wise (no attention), so each token's output is its own: embed → 4 × (x + MoE(RMSNorm(x))).
const POOLED = (share: string) => `
model P {
  embed = Embedding(61, 16)
  block B {
    n = RMSNorm(16)
    f = MoE(16, 24, experts: 4, top_k: 2, shared: 1)
  }
  body = B * 4
  ${share}
}`;

test('an expert pool computes what its layers compute with the pool\'s experts and their own routers, norms and shared experts (plain-JS reference)', async () => {
  // Which pool each layer reads: sequence(2) groups layers 0–1 and 2–3; map names each layer's pool.
  for (const [share, pools] of [
    ['share experts body.f: sequence(2)', [0, 0, 1, 1]],
    ['share experts body.f: map([0, 1, 0, 2])', [0, 1, 0, 2]],
  ] as const) {
    const r = exportModel(POOLED(share), 'P', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, share);
    // One bank per pool, named by the pool's index; a router, norm and shared expert per layer.
    const w = (name: string) => initializer(r, name);
    // SwiGLU copy `e` of a bank: down(silu(gate·x) ⊙ up·x).
    const swiglu = (prefix: string, bank: string, e: number, x: number[]) => {
      const up = matvec(w(`${prefix}.${bank}_up[${e}]`), x, 24);
      const h = matvec(w(`${prefix}.${bank}_gate[${e}]`), x, 24).map((v, i) => silu(v) * up[i]!);
      return matvec(w(`${prefix}.${bank}_down[${e}]`), h, 16);
    };
    const reference = (id: number): number[] => {
      let x = Array.from(w('embed.weight').subarray(id * 16, (id + 1) * 16));
      pools.forEach((pool, layer) => {
        const own = `body[${layer}]`;
        const g = w(`${own}.n.weight`);
        const rms = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / 16 + 1e-6);
        const xn = x.map((v, i) => (v / rms) * g[i]!);
        // The layer's own router: softmax over its top 2 logits (Mixtral's routing).
        const logits = matvec(w(`${own}.f.router`), xn, 4);
        const chosen = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]!).slice(0, 2);
        const z = chosen.reduce((a, e) => a + Math.exp(logits[e]! - logits[chosen[0]!]!), 0);
        const y = swiglu(own + '.f', 'shared', 0, xn);
        for (const e of chosen) {
          const weight = Math.exp(logits[e]! - logits[chosen[0]!]!) / z;
          swiglu(`body[${pool}].f`, 'expert', e, xn).forEach((v, i) => (y[i]! += weight * v));
        }
        x = x.map((v, i) => v + y[i]!);
      });
      return x;
    };
    const rows = [[5, 17, 40, 2, 33], [9, 9, 60, 1, 12]];
    assertClose(await runChecked(r, { input_ids: idRows(rows) }), rows.flatMap((row) => reference(row.at(-1)!)), 1e-5, share);
  }
});
