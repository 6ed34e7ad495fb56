// ScaLearn (`adapt PATHS: scalearn(…)`, Frohmann et al. 2023): N frozen source adapters per
// target, stored once and never trained, and learned scales ω per target task. Expected values
// derived by hand here from CPJKU/ScaLearn's modules: a source adapter is Linear(d, r) · ReLU ·
// Linear(r, d) with biases, 2·d·r + r + d; ω is [N, d] (vector) or [N, 1] (scalar) per layer
// (ScaLearn) or one per model (ScaLearn++, init_shared_parameters_scalearn).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { modelReport } from '../../fixtures/model-report.js';

// d = 32, 4 layers; the MLP's down projection [32, 64] outputs d = 32.
const BASE = `
model M {
  d = 32
  block B {
    attn = Attention(d, 4)
    mlp  = MLP(d, 64, bias: false)
  }
  embed = Embedding(100, d)
  body  = B * 4
}
`;
const BASE_PARAMS = 100n * 32n + 4n * (4n * 1_024n + 2n * 2_048n);
const L = 4n;
const D = 32n;

const variants = `${BASE}
variant S   of M { adapt body.mlp.down: scalearn(bottleneck: 4, sources: 3, tasks: 3) }
variant U   of M { adapt body.mlp.down: scalearn(bottleneck: 4, tasks: 3, scaling: scalar) }
variant SPP of M { adapt body.mlp.down: scalearn(bottleneck: 4, tasks: 3, shared: true) }
variant UPP of M { adapt body.mlp.down: scalearn(bottleneck: 4, tasks: 3, scaling: scalar, shared: true) }
`;

test('scalearn: source adapters stored once and frozen, ω per task and layer (or shared); the four variants', () => {
  const N = 3n;
  const sources = L * N * (2n * D * 4n + 4n + D); // 4 layers × 3 × 292 = 3,504
  const perTask = { S: L * N * D, U: L * N, SPP: N * D, UPP: N }; // 384, 12, 96, 3
  for (const [name, own] of Object.entries(perTask)) {
    const r = modelReport(variants, name);
    assert.equal(r.params.stored, BASE_PARAMS + sources + 3n * own, name);
    assert.equal(r.params.trainable, 3n * own, `${name}: only ω trains, every target task's`);
    assert.deepEqual(r.tasks, { tasks: 3, perTask: own, shared: BASE_PARAMS + sources }, name);
    // A token runs the N adapters and its task's ω (per layer, or the one shared ω in every layer).
    const used = name.endsWith('PP') ? L * own : own;
    assert.equal(r.params.effective, BASE_PARAMS + sources + used, name);
  }
});

test('scalearn: FLOPs per token are the N adapters and the scaled sum; ω\'s gradient in training', () => {
  const base = modelReport(`${BASE}\nvariant F of M { freeze embed, body }`, 'F');
  const s = modelReport(variants, 'S');
  const N = 3n;
  const perLayer = 4n * N * D * 4n + 2n * N * D; // 1,536 + 192
  assert.equal(s.flops.decode - base.flops.decode, L * perLayer);
  // Training adds the forward once more for input gradients and ω's weight gradient, 2·N·d per layer.
  assert.equal(BigInt(s.flops.trainPerToken) - BigInt(base.flops.trainPerToken), L * (2n * perLayer + 2n * N * D));
});

test('scalearn: fewer than two sources, a bad scaling and a missing bottleneck are located npas-adapter errors', () => {
  for (const [bad, message] of [
    ['scalearn(bottleneck: 4)', /at least 2/],
    ['scalearn(bottleneck: 4, sources: 1, tasks: 3)', /at least 2/],
    ['scalearn(bottleneck: 4, sources: 3, scaling: matrix)', /scaling/],
    ['scalearn(sources: 3)', /bottleneck/],
  ] as const) {
    const r = analyze(`${BASE}\nvariant X of M { adapt body.mlp.down: ${bad} }`);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, bad);
    assert.equal(errors[0]!.code, 'npas-adapter', bad);
    assert.match(errors[0]!.message, message, bad);
  }
});
