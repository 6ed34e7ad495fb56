// Folding for `.npas` files (src/extension/brace-folding.ts, which the extension registers as a
// folding range provider): multi-line brackets, regions and comment runs, with brackets inside
// strings and comments ignored as the scanner ignores them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { foldingRanges } from '../../src/extension/brace-folding.js';

test('folding: a model, its block and a multi-line call fold up to the line before their closer', () => {
  const text = [
    'model M {', //            0
    '  d = 64',
    '  block B {', //          2
    '    attn = Attention(d,', // 3
    '      heads: 4)',
    '  }', //                  5
    '  body = B * 2',
    '}', //                    7
  ].join('\n');
  assert.deepEqual(foldingRanges(text), [
    { start: 0, end: 6, kind: 'block' },
    { start: 2, end: 4, kind: 'block' },
  ]);
});

test('folding: brackets in strings and comments are not brackets; one-line pairs do not fold', () => {
  const text = ['model M { # }', '  s = "}{\\"}"', '  x = Linear(64, 64)', '}'].join('\n');
  assert.deepEqual(foldingRanges(text), [{ start: 0, end: 2, kind: 'block' }]);
});

test('folding: # region pairs and runs of comment lines', () => {
  const text = ['# a spec', '# about things', '', '# region layers', 'd = 1', '# endregion', '# lone'].join('\n');
  assert.deepEqual(foldingRanges(text), [
    { start: 0, end: 1, kind: 'comment' },
    { start: 3, end: 5, kind: 'region' },
  ]);
});

test('folding: unbalanced text (mid-edit) never throws and still folds what closes', () => {
  assert.deepEqual(foldingRanges('}\n]\nmodel M {\n  x = f(\n'), []);
  assert.deepEqual(foldingRanges('model M {\n  x = (1\n}\n'), [{ start: 0, end: 1, kind: 'block' }]);
});

test('folding: every example spec folds each model, variant and budget', () => {
  const dir = join(__dirname, '..', '..', 'examples');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.npas'))) {
    const spec = readFileSync(join(dir, name), 'utf8');
    const folds = foldingRanges(spec);
    for (const [i, line] of spec.split('\n').entries()) {
      if (/^(model|variant|budget) .*\{\s*(#.*)?$/.test(line)) assert.ok(folds.some((f) => f.start === i && f.kind === 'block'), `${name}:${i + 1}: ${line}`);
    }
  }
});
