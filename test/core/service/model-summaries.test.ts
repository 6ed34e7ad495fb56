// JSON-safe model summaries: every count a decimal string, exact beyond 2^53, and the tree on
// request.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, summarizeModels } from '../../../src/core/index.js';

test('summaries write exact counts as decimal strings, also above 2^53', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'fixtures', 'specs', 'huge.npas'), 'utf8');
  const [huge] = summarizeModels(analyze(text));
  // 2^40 weights · 10,001 instances.
  assert.equal(huge!.params.stored, '10996215789387776');
  assert.equal(JSON.parse(JSON.stringify(huge)).params.stored, '10996215789387776');
  assert.equal(huge!.tree, undefined);
});

test('summaries keep file order, kinds, bases, budgets, and the tree when asked', () => {
  const text = 'model M {\n  x = Linear(10, 10)\n}\nvariant V of M {\n  share x: none\n}\nbudget V {\n  params.stored <= 100\n}\n';
  const summaries = summarizeModels(analyze(text), { includeTree: true });
  assert.deepEqual(summaries.map((m) => [m.name, m.kind, m.base, m.params.stored, m.flops.prefillPerToken]), [
    ['M', 'model', null, '100', '200'],
    ['V', 'variant', 'M', '100', '200'],
  ]);
  assert.deepEqual(summaries[1]!.budgets.map((b) => [b.constraint, b.value, b.limit, b.ok]), [['params.stored <= 100', '100', '100', true]]);
  assert.equal(summaries[0]!.tree?.children[0]?.name, 'x');
  assert.equal(summaries[0]!.tree?.children[0]?.params.effective, '100');
  assert.doesNotThrow(() => JSON.stringify(summaries));
});
