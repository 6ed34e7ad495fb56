import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticSink } from '../../src/core/diagnostics/diagnostic.js';

test('sink collects errors', () => {
  const s = new DiagnosticSink();
  s.error('npas-name-unknown', 'x', { start: 0, end: 1 });
  assert.equal(s.hasErrors, true);
});
