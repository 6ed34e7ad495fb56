// parse(text, base): an imported file is parsed at its slot on the compilation's line of offsets
// (src/core/imports/source-set.ts) instead of being parsed at 0 and copied. The tree must be the
// one parse(text) builds with every offset moved by exactly `base`, and the diagnostics the same
// words at moved ranges (a message quoting a token reads it from the text, not at the offset).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '../../../src/core/index.js';

const BASE = 2 ** 26 * 3;

/** The structure with every `start`/`end` number moved by `delta` (a deep copy). */
function moved(value: unknown, delta: number): unknown {
  if (Array.isArray(value)) return value.map((v) => moved(v, delta));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, (k === 'start' || k === 'end') && typeof v === 'number' ? v + delta : moved(v, delta)]));
}

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');
const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.npas')).slice(0, 12);

const CASES: readonly (readonly [string, string])[] = [
  ...examples.map((f) => [f, readFileSync(join(EXAMPLES, f), 'utf8')] as const),
  ['an unexpected character, a bad suffix, an unterminated string', 'x = 3 $ 4\ny = 8Kib\nimport "lib.npas\nmodel M {\n  a = Linear(d, d\n}\n'],
  ['a misplaced keyword and a missing name', 'model {\n  share : all\n  = 4\n}\nvariant V of {\n}\n'],
  ['a long unknown run quoted in a message', `z = ${'@'.repeat(60)}\n`],
  ['an empty file', ''],
];

for (const [name, text] of CASES) {
  test(`parse at a base: ${name}`, () => {
    const at0 = parse(text);
    const atBase = parse(text, BASE);
    assert.deepEqual(atBase.file, moved(at0.file, BASE));
    assert.deepEqual(atBase.diagnostics, moved(at0.diagnostics, BASE));
  });
}
