// `route STACK: halt(…)` (docs/language.md, "Per-token halting"): compute and KV follow the
// expected depth; stored gains one halting unit. Numbers derived by hand here; the SUT
// configuration is checked in test/core/examples/sparse-universal-transformer.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';

const MODEL = (statement: string): string => `model UT {
  d = 64
  block Step {
    attn = Attention(d, heads: 4)
    mlp = MLP(d, 256, bias: false)
  }
  body = Step * 4
  share body: all
  ${statement}
}
`;
const S = 32n;
const opts = { seq: Number(S), batch: 1, dtype: 'bf16' as const };
const stepFlops = 2n * (4n * 64n * 64n) + 2n * (2n * 64n * 256n);
const perKey = 2n * 4n * (16n + 16n);

test('halt(expected_depth: D): FLOPs and KV of D steps; one ACT unit (d + 1) stored, run before each later step', () => {
  const plain = analyze(MODEL(''), opts).models[0]!;
  const r = analyze(MODEL('route body: halt(expected_depth: 2.5)'), opts);
  assert.deepEqual(r.diagnostics, []);
  const m = r.models[0]!;
  assert.equal(m.params.stored, plain.params.stored + 64n + 1n);
  // Reach 1, 1, 1/2, 0: 2.5 steps; the unit scores the tokens after steps 0, 1 and 2: 1 + 1 + 1/2.
  const unit = 2n * 64n;
  assert.equal(m.flops.decode * 2n, 5n * (stepFlops + perKey * S) + 5n * unit);
  assert.equal(m.kvCacheBytes * 2n, 5n * (2n * 64n * S * 2n));
  assert.equal(plain.flops.decode, 4n * (stepFlops + perKey * S));
});

test('halt(reach: […]) takes the reach probabilities as written; steps group instances', () => {
  const m = analyze(MODEL('route body: halt(reach: [1, 3/4, 1/4, 0])'), opts).models[0]!;
  assert.equal(m.kvCacheBytes, 2n * (2n * 64n * S * 2n)); // Σ reach = 2
  const grouped = analyze(MODEL('route body: halt(steps: 2, expected_depth: 1.5, hidden: 64, outputs: 2, out_bias: false)'), opts);
  assert.deepEqual(grouped.diagnostics, []);
  const g = grouped.models[0]!;
  // Two steps of two instances, reach 1, 1/2: three instances' worth; the SUT-style unit
  // Linear(64, 64) + bias, Linear(64, 2) runs once (before step 1) on every token.
  assert.equal(g.kvCacheBytes, 3n * (2n * 64n * S * 2n));
  assert.equal(g.params.stored, analyze(MODEL(''), opts).models[0]!.params.stored + 64n * 64n + 64n + 64n * 2n);
});

test('bad halting declarations are located npas-halt errors', () => {
  const cases: [string, RegExp][] = [
    ['route body: halt(expected_depth: 5)', /\[1, 4\]/],
    ['route body: halt(expected_depth: 0.5)', /\[1, 4\]/],
    ['route body: halt(reach: [1, 1/2, 3/4, 0])', /non-increasing/],
    ['route body: halt(reach: [1/2, 1/2, 0, 0])', /starts at 1/],
    ['route body: halt(reach: [1, 1])', /4 probabilities/],
    ['route body: halt(steps: 8, expected_depth: 2)', /8 steps need at least 8 instances/],
    ['route body: halt()', /one of them/],
    ['route body: halt(expected_depth: 2)\n  route body: halt(expected_depth: 3)', /already routed/],
    // ACT's sigmoid or SUT's stick-breaking pair: a third logit has no meaning (the export refuses it), and was counted.
    ['route body: halt(expected_depth: 2, outputs: 3)', /'outputs' must be at most 2, got 3/],
  ];
  for (const [statement, message] of cases) {
    const r = analyze(MODEL(statement), opts);
    const errors = r.diagnostics.filter((x) => x.code === 'npas-halt');
    assert.equal(errors.length, 1, `${statement}: ${r.diagnostics.map((x) => `${x.code} ${x.message}`).join('; ')}`);
    assert.match(errors[0]!.message, message, statement);
  }
});
