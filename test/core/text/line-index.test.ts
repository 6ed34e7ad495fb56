// LineIndex answers what lineColumn answers, by binary search over line starts: the CLI prints
// one FILE:LINE:COL per diagnostic, and scanning from the start for each made a spec with an
// error on every line quadratic (issue 12: 8,000 unknown names in a 300 KB spec took 8 s).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineIndex, lineColumn } from '../../../src/core/index.js';
import { prng } from '../../fixtures/prng.js';

test('LineIndex agrees with lineColumn at every offset, before, inside and past the text', () => {
  const texts = ['', '\n', 'a', 'ab\n', '\n\nx\n', 'line one\nline two\r\n\nlast'];
  const random = prng(12);
  for (let k = 0; k < 20; k++) {
    let t = '';
    const n = Math.floor(random() * 60);
    for (let i = 0; i < n; i++) t += random() < 0.25 ? '\n' : 'x';
    texts.push(t);
  }
  for (const text of texts) {
    const index = new LineIndex(text);
    for (let offset = -2; offset <= text.length + 2; offset++) assert.deepEqual(index.lineColumn(offset), lineColumn(text, offset), `${JSON.stringify(text)} at ${offset}`);
  }
});

test('the last of 100,000 lines is found without a scan: line 100,000, column 1', () => {
  const text = 'x\n'.repeat(100_000);
  const index = new LineIndex(text);
  assert.deepEqual(index.lineColumn(text.length - 2), { line: 100_000, column: 1 });
  assert.deepEqual(index.lineColumn(text.length), { line: 100_001, column: 1 });
});
