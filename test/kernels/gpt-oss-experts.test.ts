// GPT-OSS's clamped expert GLU in the ONNX export (MoE's glu_limit): Transformers' GptOssExperts
// computes gate = min(gate, L), up = clip(up, −L, L), (up + 1)·gate·σ(1.702·gate), then down.
// Written out here on the exported weights for a one-expert layer, with a limit small enough that
// the clamp is active; initializer elements equal params.stored.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { assertClose, idRows, initializer, matvec, runChecked } from './helpers.js';

const D = 8;
const F = 12;
const V = 23;
const L = 0.5;

test('MoE(…, act: quick_gelu, glu_limit: L): (clip(up, ±L) + 1)·quick_gelu(min(gate, L)), on standard and fused ops', async () => {
  const spec = `model M {\n  embed = Embedding(${V}, ${D})\n  moe = MoE(${D}, ${F}, experts: 1, top_k: 1, bias: true, router_bias: true, act: quick_gelu, glu_limit: ${L})\n}\n`;
  for (const ops of ['standard', 'fused'] as const) {
    const r = exportModel(spec, 'M', { ops });
    assert.equal(r.initializerElements, r.storedParams, ops);
    const ids = [4, 17, 9];
    const y = await runChecked(r, { input_ids: idRows([ids]) });
    const x = Array.from(initializer(r, 'embed.weight').subarray(ids[2]! * D, (ids[2]! + 1) * D));
    const w = (name: string) => initializer(r, `moe.expert_${name}[0]`);
    const gate = matvec(w('gate'), x, F, w('gate_bias'));
    const up = matvec(w('up'), x, F, w('up_bias'));
    const quickGelu = (v: number) => v / (1 + Math.exp(-1.702 * v));
    const clamped = gate.map((g, i) => quickGelu(Math.min(g, L)) * (Math.min(Math.max(up[i]!, -L), L) + 1));
    const plain = gate.map((g, i) => quickGelu(g) * up[i]!);
    // The one expert takes every token with gate weight 1; the layer is a residual branch.
    const expected = matvec(w('down'), clamped, D, w('down_bias')).map((v, i) => v + x[i]!);
    assertClose(y, expected, 1e-4, ops);
    // The clamp was active: the unclamped product differs.
    assert.ok(plain.some((v, i) => Math.abs(v - clamped[i]!) > 1e-3), 'the limit clamps some values');
  }
});
