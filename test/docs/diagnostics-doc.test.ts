// docs/diagnostics.md must list every diagnostic code, so the catalogue and its documentation
// cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIAGNOSTIC_CODES } from '../../src/core/index.js';

test('docs/diagnostics.md lists every code', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'diagnostics.md'), 'utf8');
  const missing = Object.keys(DIAGNOSTIC_CODES).filter((c) => !doc.includes(`\`${c}\``));
  assert.deepEqual(missing, []);
});
