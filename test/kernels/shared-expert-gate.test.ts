// The shared expert's sigmoid gate (Qwen2-MoE's and Qwen3-Next's shared_expert_gate) in the ONNX
// export: out = routed + sigmoid(x·wᵀ)·shared(x), w = the [1, d] gate row. Three exports of one
// MoE share their router and expert weights (the synthetic weights are keyed by store): Routed
// (no shared expert), Plain (an ungated shared expert) and Gated. For a bare MoE, a residual
// branch, the last token's outputs satisfy Gated = Routed + σ(x·w)·(Plain − Routed), with x the
// token's embedding row and w read back from the gated graph's initializers: checked in prefill
// and decode, on standard and fused ops; a zero gate gives exactly half the shared expert.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportOptions, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, runChecked } from './helpers.js';

const D = 16;
const SPECS = `
model Gated {
  embed = Embedding(61, ${D})
  moe   = MoE(${D}, 8, 4, 2, shared: 1, shared_expert_gate: true)
}
variant Plain of Gated { moe = MoE(${D}, 8, 4, 2, shared: 1) }
variant Routed of Gated { moe = MoE(${D}, 8, 4, 2) }
`;

function initializer(r: ExportResult, name: string): Float32Array {
  const t = r.spec.graph.initializers.find((i) => i.name === name);
  assert.ok(t, `no initializer ${name}`);
  return new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength));
}

const zeroGate: WeightFill = (key, shape, dtype, scale, offset) => (key.endsWith('moe.shared_expert_gate') ? new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)) : defaultFill(key, shape, dtype, scale, offset));

test('shared_expert_gate: the shared expert scaled by sigmoid(x·w), prefill and decode, standard and fused ops', async () => {
  const rows = [[5, 17, 40, 2, 33], [9, 9, 60, 1, 12]];
  for (const ops of ['standard', 'fused'] as const) {
    for (const decode of [undefined, { batch: 2, past: 4 }]) {
      const options: ExportOptions = { ops, ...(decode ? { decode } : {}) };
      const ids = decode ? rows.map((r) => r.slice(-1)) : rows;
      const run = async (name: string, extra: Partial<ExportOptions> = {}) => {
        const r = exportModel(SPECS, name, { ...options, ...extra });
        assert.equal(r.initializerElements, r.storedParams, name);
        return { r, out: await runChecked(r, { input_ids: idRows(ids) }) };
      };
      const gated = await run('Gated');
      const plain = (await run('Plain')).out;
      const routed = (await run('Routed')).out;
      assert.equal(gated.r.storedParams - exportModel(SPECS, 'Plain', options).storedParams, BigInt(D), 'one gate row of d');
      const E = initializer(gated.r, 'embed.weight');
      const w = initializer(gated.r, 'moe.shared_expert_gate');
      const expected = rows.flatMap((row, b) => {
        const x = E.subarray(row[row.length - 1]! * D, (row[row.length - 1]! + 1) * D);
        const sigma = 1 / (1 + Math.exp(-x.reduce((a, v, i) => a + v * w[i]!, 0)));
        return Array.from({ length: D }, (_, i) => routed[b * D + i]! + sigma * (plain[b * D + i]! - routed[b * D + i]!));
      });
      assertClose(gated.out, expected, 1e-5, `${ops}${decode ? ' decode' : ''}`);
      // A zero gate: σ(0) = ½ of the shared expert.
      const half = (await run('Gated', { fill: zeroGate })).out;
      assertClose(half, Array.from(plain, (v, i) => (v + routed[i]!) / 2), 1e-5, `${ops} zero gate`);
    }
  }
});
