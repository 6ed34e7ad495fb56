// docs/diagnostics.md must list every diagnostic code, so the catalogue and its documentation
// cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIAGNOSTIC_CODES, QUICK_FIX_CATALOGUE, type DiagnosticCode } from '../../src/core/index.js';

test('docs/diagnostics.md lists every code', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'diagnostics.md'), 'utf8');
  const missing = Object.keys(DIAGNOSTIC_CODES).filter((c) => !doc.includes(`\`${c}\``));
  assert.deepEqual(missing, []);
});

test("docs/diagnostics.md's quick-fix column says exactly which codes have a fix, in the catalogue's words", () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'diagnostics.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const m = /^\| `(npas-[a-z-]+)` \| .* \| (.*) \|$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!);
  }
  const wrong = (Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[]).filter((code) => rows.get(code) !== (QUICK_FIX_CATALOGUE[code] ?? '—'));
  assert.deepEqual(wrong, []);
});
