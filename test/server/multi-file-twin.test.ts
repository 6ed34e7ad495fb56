// Issue 18, "Done when": the two-file example (examples/multi-file: a library declaring fairseq's
// Transformer and an experiments file of variants and a budget) budgets identically to its
// one-file twin (examples/takase-kiyono.npas) through the language server — the model reports
// the status bar, Compare Variants and Export Report read, with their module trees — and through
// the dashboard's data, which the server computes from the same compilation. The library is read
// from disk (it is not open), as an editor with only the experiments file open would have it.
// The counts are the published ones, checked independently in test/cli/imports.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MODEL_REPORTS_METHOD, type ModelReportsResult } from '../../src/protocol/lsp-extensions.js';
import { requestDashboardData, sharedSession, type TestSession } from './harness.js';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const TWO = join(EXAMPLES, 'multi-file', 'takase-kiyono-experiments.npas');
const ONE = join(EXAMPLES, 'takase-kiyono.npas');
const TWO_URI = pathToFileURL(TWO).href;
const ONE_URI = pathToFileURL(ONE).href;
const SETTINGS = { sequenceLength: 1024, batchSize: 8, dtype: 'bf16', device: 'A100' } as const;

let s: TestSession;
sharedSession(
  [
    [TWO_URI, readFileSync(TWO, 'utf8')],
    [ONE_URI, readFileSync(ONE, 'utf8')],
  ],
  (session) => (s = session),
);

/** An answer without where things are written and which document it is of (the twins differ only there). */
function withoutLocations(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v: unknown) => (['range', 'source', 'uri', 'version', 'nameRange', 'selectionRange'].includes(key) ? undefined : v));
}

test('model reports: the two-file example equals its one-file twin, module trees included', async () => {
  const two = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: TWO_URI, includeTree: true });
  const one = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: ONE_URI, includeTree: true });
  assert.equal(two.errorCount, 0);
  assert.deepEqual(
    two.models.map((m) => [m.name, m.params.stored]),
    [['TransformerWMT', '60915712'], ['Sequence3', '38846464'], ['Cycle3', '38846464'], ['CycleRev3', '38846464'], ['CycleRevPaper', '60915712']],
  );
  assert.deepEqual(withoutLocations(two), withoutLocations(one));
  // The budget of the experiments file is checked there, on a variant of the imported model.
  assert.deepEqual(two.models[4]!.budgets.map((b) => [b.limit, b.ok]), [['60915712', true]]);
});

test('dashboard data: the two-file example equals its one-file twin at the same settings', async () => {
  const two = await requestDashboardData(s.client, { uri: TWO_URI, source: 'twin', settings: SETTINGS });
  const one = await requestDashboardData(s.client, { uri: ONE_URI, source: 'twin', settings: SETTINGS });
  assert.ok(two && one);
  assert.equal(two.diagnostics.errors, 0);
  assert.equal(two.models.length, 5);
  assert.deepEqual(withoutLocations(two), withoutLocations(one));
});
