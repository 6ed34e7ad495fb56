// MoE's glu_limit (GPT-OSS's clamped expert GLU, docs/layers.md "MoE"): a clamp and a +1 with no
// parameters and no counted FLOPs, so every count equals the unclamped layer's; ungated experts
// have no gate to clamp, which is a located error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';

test('glu_limit changes no count; with gated: false it is refused at the argument', () => {
  const spec = (args: string) => `model M {\n  moe = MoE(64, 96, experts: 8, top_k: 2, bias: true, act: quick_gelu${args})\n}\n`;
  const plain = analyze(spec('')).models[0]!;
  const clamped = analyze(spec(', glu_limit: 7'));
  assert.deepEqual(clamped.diagnostics, []);
  const m = clamped.models[0]!;
  assert.deepEqual([m.params.stored, m.params.active, m.flops.prefill, m.flops.decode], [plain.params.stored, plain.params.active, plain.flops.prefill, plain.flops.decode]);
  // 8 experts of gate, up [96, 64] and down [64, 96] with biases, and the router [8, 64].
  assert.equal(m.params.stored, 8n * (3n * 64n * 96n + 2n * 96n + 64n) + 8n * 64n);
  const bad = analyze(spec(', gated: false, glu_limit: 7'));
  const error = bad.diagnostics.find((x) => x.severity === 'error');
  assert.ok(error && /glu_limit clamps the gate/.test(error.message), bad.diagnostics.map((x) => x.message).join('; '));
});
