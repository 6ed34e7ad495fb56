// Every activation the language names exports, in both ops modes, as its formula: the graph
// Embedding → Activation(kind) outputs act(row) of the last token's embedding row, computed here
// from the initializer (relu, the erf gelu, the tanh gelu, silu = swish = x·σ(x), tanh, σ,
// quick_gelu = x·σ(1.702·x), relu2 = relu(x)², identity = x, softmax over the row).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { ACTIVATIONS } from '../../src/core/layers/arg-specs.js';
import { assertClose, idRows, runChecked } from './helpers.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
const FORMULAS: Record<string, (v: number) => number> = {
  relu: (v) => Math.max(0, v),
  gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  gelu_tanh: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  silu: (v) => v * sigmoid(v),
  swish: (v) => v * sigmoid(v),
  tanh: Math.tanh,
  sigmoid,
  quick_gelu: (v) => v * sigmoid(1.702 * v),
  relu2: (v) => Math.max(0, v) ** 2,
  identity: (v) => v,
};

test('every activation the language names exports as its formula, standard and fused ops', async () => {
  for (const kind of [...ACTIVATIONS, 'softmax']) {
    for (const ops of ['standard', 'fused'] as const) {
      // Embedding rows drawn at scale 1 span about ±1.7: both signs, beyond gelu's knee.
      const r = exportModel(`model M {\n  e = Embedding(61, 12)\n  a = Activation(${kind})\n}`, 'M', { ops });
      const t = r.spec.graph.initializers.find((i) => i.name === 'e.weight')!;
      const E = new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength));
      const out = await runChecked(r, { input_ids: idRows([[3, 40], [7, 11]]) });
      const expected = [40, 11].flatMap((id) => {
        const row = Array.from(E.subarray(id * 12, (id + 1) * 12));
        if (kind === 'softmax') {
          const m = Math.max(...row);
          const z = row.reduce((a, v) => a + Math.exp(v - m), 0);
          return row.map((v) => Math.exp(v - m) / z);
        }
        const f = FORMULAS[kind];
        assert.ok(f, `a formula for ${kind}`);
        return row.map(f);
      });
      assertClose(out, expected, 1e-5, `${kind} (${ops})`);
    }
  }
});
