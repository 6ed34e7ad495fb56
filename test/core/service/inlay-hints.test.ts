// Inlay hints: evaluated values after constants that are not literals, and stack lengths that
// are not written as a literal count; each listed as `text before the hint⟪label⟫`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, inlayHints } from '../../../src/core/index.js';

function hinted(text: string, range?: { start: number; end: number }): string[] {
  return inlayHints(text, analyze(text), range).map((h) => {
    const lineStart = text.lastIndexOf('\n', h.offset - 1) + 1;
    return `${text.slice(lineStart, h.offset).trim()}⟪${h.label}⟫`;
  });
}

const CASES: readonly { name: string; text: string; hints: readonly string[] }[] = [
  {
    name: 'constants computed from others; literals stay bare',
    text: 'model M {\n  d = 2048\n  big = 8Ki\n  ff = 4 * d\n  half = d / 3\n  flag = d > 1024\n  x = Linear(d, ff)\n}\n',
    hints: ['ff = 4 * d⟪= 8,192⟫', 'half = d / 3⟪= 2,048/3⟫', 'flag = d > 1024⟪= true⟫'],
  },
  {
    name: 'stack lengths from a name, a sum and a comprehension; not from a literal count',
    text: 'model M(L = 6) {\n  block B { x = Linear(8, 8) }\n  a = B * 18\n  b = B * L\n  c = B + B * 2\n  e = [B for i in 0..L + 1]\n}\n',
    hints: ['b = B * L⟪×6⟫', 'c = B + B * 2⟪×3⟫', 'e = [B for i in 0..L + 1]⟪×7⟫'],
  },
  {
    name: 'a block constant with one value across instances is shown; one that varies is not',
    text: 'model M {\n  block B(w = 1) {\n    same = 2 * 4\n    varies = w * 2\n    x = Linear(same, varies)\n  }\n  body = [B(w: i + 1) for i in 0..2]\n}\n',
    hints: ['same = 2 * 4⟪= 8⟫', 'body = [B(w: i + 1) for i in 0..2]⟪×2⟫'],
  },
  {
    name: 'values in the declaring model, not in variants that override their inputs',
    text: 'model M {\n  d = 64\n  ff = 4 * d\n  x = Linear(d, ff)\n}\nvariant V of M {\n  d = 128\n  ff = d * 2\n}\n',
    hints: ['ff = 4 * d⟪= 256⟫', 'ff = d * 2⟪= 256⟫'],
  },
  { name: 'nothing for a broken value', text: 'model M {\n  d = 4 * q\n  x = Linear(8, 8)\n}\n', hints: [] },
];

for (const c of CASES) {
  test(`inlay hints: ${c.name}`, () => {
    assert.deepEqual(hinted(c.text), c.hints);
  });
}

test('inlay hints: only those inside the requested range', () => {
  const text = 'model M {\n  d = 64\n  a = d * 2\n  b = d * 3\n  x = Linear(a, b)\n}\n';
  const start = text.indexOf('b =');
  assert.deepEqual(hinted(text, { start, end: start + 20 }), ['b = d * 3⟪= 192⟫']);
});
