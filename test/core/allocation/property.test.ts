// Property tests: over random architectures (stacks of random blocks of linear, convolution,
// attention, MLP, MoE, embedding and norm layers, with a tied head) and budgets from 1% to 400% of
// their demand, every accepted plan stores exactly B with nothing unread, its emitted variant
// budgets to exactly B through the engine, and every refusal names a minimum above B.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allocateSource, type GroupingSpec } from '../../../src/core/index.js';
import { allocateAndEmit, checkPlan, request, storedOf } from './helpers.js';

const layer = fc.oneof(
  fc.record({ kind: fc.constant('Linear'), a: fc.integer({ min: 1, max: 48 }), b: fc.integer({ min: 1, max: 48 }), bias: fc.boolean() }).map((l) => `Linear(${l.a}, ${l.b}, bias: ${l.bias})`),
  fc.record({ c: fc.integer({ min: 1, max: 16 }), o: fc.integer({ min: 1, max: 16 }), k: fc.integer({ min: 1, max: 3 }) }).map((l) => `Conv2d(${l.c}, ${l.o}, ${l.k}, size: 8)`),
  fc.integer({ min: 1, max: 4 }).map((h) => `Attention(${8 * h}, heads: ${h})`),
  fc.integer({ min: 1, max: 40 }).map((w) => `MLP(16, ${w})`),
  fc.record({ e: fc.integer({ min: 2, max: 4 }), w: fc.integer({ min: 1, max: 12 }) }).map((m) => `MoE(16, ${m.w}, experts: ${m.e}, top_k: 1)`),
  fc.integer({ min: 1, max: 32 }).map((d) => `RMSNorm(${d})`),
);

const architecture = fc
  .record({
    block: fc.array(layer, { minLength: 1, maxLength: 5 }),
    repeat: fc.integer({ min: 1, max: 6 }),
    vocab: fc.integer({ min: 2, max: 300 }),
    extra: fc.array(layer, { maxLength: 2 }),
    tiedHead: fc.boolean(),
  })
  .map((a) => {
    const members = a.block.map((l, i) => `    m${i} = ${l}`).join('\n');
    const extra = a.extra.map((l, i) => `  x${i} = ${l}`).join('\n');
    return `model R {
  block B {
${members}
  }
  embed = Embedding(${a.vocab}, 16)
  body = B * ${a.repeat}
${extra}
  head = Linear(16, ${a.vocab})${a.tiedHead ? ' tied embed' : ''}
}
`;
  });

const grouping: fc.Arbitrary<GroupingSpec> = fc.oneof(
  fc.constant<GroupingSpec>({ kind: 'auto' }),
  fc.constant<GroupingSpec>({ kind: 'all' }),
  fc.constant<GroupingSpec>({ kind: 'shape' }),
  fc.constant<GroupingSpec>({ kind: 'role' }),
  fc.integer({ min: 1, max: 5 }).map((k): GroupingSpec => ({ kind: 'depth', k })),
  fc.integer({ min: 1, max: 5 }).map((k): GroupingSpec => ({ kind: 'cluster', k })),
);

test('stored == B and unused == 0 for random architectures, budgets 1%–400%, groupings and methods', () => {
  let accepted = 0;
  fc.assert(
    fc.property(architecture, fc.integer({ min: 1, max: 400 }), grouping, fc.constantFrom('wavg' as const, 'repeat' as const, 'hash' as const), fc.integer({ min: 1, max: 12 }), (text, pct, g, method, cap) => {
      const total = Number(storedOf(text, 'R'));
      const B = Math.max(1, Math.round((total * pct) / 100));
      const r = allocateSource(text, 'R', request(B, g, method, cap));
      if (!r.ok) {
        assert.ok(r.minimum !== undefined && r.minimum > B, `a refusal states a minimum above B: ${r.message}`);
        assert.match(r.message, new RegExp(`below the minimum of ${r.minimum}`));
        return;
      }
      checkPlan(r.plan);
      accepted++;
    }),
    { numRuns: 300, seed: 20261127 },
  );
  assert.ok(accepted > 200, `most requests are plans (${accepted} of 300)`);
});

test('auto accepts every budget above the fixed params, and the emitted variant budgets to exactly B', () => {
  fc.assert(
    fc.property(architecture, fc.integer({ min: 1, max: 400 }), (text, pct) => {
      const total = Number(storedOf(text, 'R'));
      const B = Math.max(1, Math.round((total * pct) / 100));
      const all = allocateSource(text, 'R', request(B, { kind: 'all' }));
      const auto = allocateSource(text, 'R', request(B));
      assert.equal(auto.ok, all.ok, 'auto is feasible exactly when one store is');
      if (!auto.ok) {
        assert.ok(!all.ok && all.minimum! > B);
        return;
      }
      allocateAndEmit(text, 'R', request(B));
    }),
    { numRuns: 120, seed: 7 },
  );
});
