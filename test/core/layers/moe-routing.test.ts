// MoE's routing function (docs/layers.md "MoE", "Routing function"; src/core/layers/moe-routing.ts):
// scoring, normalisation, groups and the scale change no count; selection_bias (DeepSeek-V3's
// e_score_correction_bias) stores experts elements per router, always active, and no FLOP. Groups
// that cannot hold the routing are located errors at the argument.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';

const D = 64n;
const H = 96n;
const E = 16n;
const spec = (args: string) => `model M {\n  moe = MoE(${D}, ${H}, experts: ${E}, top_k: 4${args})\n}\n`;

function counts(args: string) {
  const a = analyze(spec(args));
  assert.deepEqual(a.diagnostics, [], args);
  const m = a.models[0]!;
  return { stored: m.params.stored, active: m.params.active, prefill: m.flops.prefill, decode: m.flops.decode };
}

test('the routing changes no count but the selection bias: experts elements per router, stored and active', () => {
  const plain = counts('');
  // The router [E, D] and E gated experts, 4 of them active.
  assert.equal(plain.stored, E * D + E * 3n * D * H);
  assert.equal(plain.active, E * D + 4n * 3n * D * H);
  assert.deepEqual(counts(', scoring: sigmoid, groups: 4, top_groups: 2, normalize: false, route_scale: 2.5'), plain);
  assert.deepEqual(counts(', groups: 8, top_groups: 2, group_score: max'), plain);
  const biased = counts(', scoring: sigmoid, selection_bias: true, groups: 4, top_groups: 2, route_scale: 2.5');
  assert.deepEqual(biased, { ...plain, stored: plain.stored + E, active: plain.active + E });
  // Chain-of-Experts: one router and one selection bias per iteration.
  const chained = counts(', iterations: 3, selection_bias: true');
  assert.equal(chained.stored - counts(', iterations: 3').stored, 3n * E);
});

test('groups that cannot hold the routing are refused at the argument', () => {
  const refused = (args: string, arg: string, pattern: RegExp) => {
    const a = analyze(spec(args));
    const error = a.diagnostics.find((x) => x.severity === 'error');
    assert.ok(error && pattern.test(error.message), `${args}: ${a.diagnostics.map((x) => x.message).join('; ')}`);
    // The range is the argument's own text.
    const text = spec(args);
    assert.ok(text.slice(error.range.start, error.range.end).startsWith(arg), `${args}: at ${text.slice(error.range.start, error.range.end)}`);
  };
  refused(', groups: 3', 'groups', /groups \(3\) must divide experts \(16\)/);
  refused(', groups: 4, top_groups: 5', 'top_groups', /top_groups \(5\) must not exceed groups \(4\)/);
  refused(', groups: 8, top_groups: 1', 'top_groups', /the 1 kept groups hold 2 experts, fewer than top_k \(4\)/);
  refused(', groups: 16, top_groups: 8', 'groups', /group_score: top2_sum adds each group's two best scores/);
  // The same groups of one expert are well formed when a group is scored by its best expert.
  assert.deepEqual(analyze(spec(', groups: 16, top_groups: 8, group_score: max')).diagnostics, []);
});
