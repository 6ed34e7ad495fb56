// MoA (docs/layers.md, "MoA"): attention experts with their own W_q and W_o over one shared key
// and value projection. Counts derived by hand from the layer's definition (Zhang et al. 2022;
// shawntan/SUT moa_attention.py).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { activeParams, storedParams } from '../../../src/core/layers/weight-specs.js';
import { buildLayer } from './build-layer.js';

test('MoA: E experts stored, top_k active, one shared K/V head whatever E', () => {
  // MoA's own setting: one head per expert (expert_dim = head_dim), a linear router.
  const d = 512;
  const cost = buildLayer('MoA', { d, experts: 8, top_k: 2, head_dim: 64 });
  assert.equal(storedParams(cost), BigInt(8 * d + 2 * 8 * d * 64 + 2 * d * 64));
  assert.equal(activeParams(cost), BigInt(8 * d + 2 * 2 * d * 64 + 2 * d * 64));
  assert.equal(cost.flopsPerToken, BigInt(2 * d * 8 + 2 * 2 * (2 * d * 64) + 2 * (2 * d * 64)));
  assert.deepEqual([cost.attention?.queryHeads, cost.attention?.kvHeads, cost.attention?.kvElementsPerToken], [2, 1, 128]);
  // Twice the experts: twice the query/output banks, the same cache and the same active count.
  const wider = buildLayer('MoA', { d, experts: 16, top_k: 2, head_dim: 64 });
  assert.equal(wider.attention?.kvElementsPerToken, 128);
  assert.equal(activeParams(wider) - activeParams(cost), BigInt(8 * d));
});

test('MoA: a borrowing instance drops the shared K and V; bad arguments are located errors', () => {
  const text = (args: string) => `model M {\n  d = 64\n  body = [MoA(d, 4, ${args}) for i in 2]\n  share kv body: every(2)\n}\n`;
  const ok = analyze(text('2, head_dim: 16'));
  assert.deepEqual(ok.diagnostics, []);
  // The second instance borrows: its k and v (16×64 each) are not stored.
  const one = 64 * 4 + 2 * 4 * 64 * 16 + 2 * 64 * 16;
  assert.equal(ok.models[0]!.params.stored, BigInt(2 * one - 2 * 64 * 16));
  for (const [args, message] of [
    ['5, head_dim: 16', /top_k \(5\) must not exceed experts/],
    ['0, head_dim: 16', /positive|at least 1|must be/],
    ['2, head_dim: 16, expert_dim: 24', /multiple of head_dim/],
  ] as const) {
    const r = analyze(text(args));
    assert.ok(r.diagnostics.some((x) => x.severity === 'error' && message.test(x.message)), `${args}: ${r.diagnostics.map((x) => x.message).join('; ')}`);
  }
});
