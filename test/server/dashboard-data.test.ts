// npas/dashboardData: the dashboard's data from the server's compilation of the open document,
// so the extension host does no engine work on an edit. Gemma 2B's numbers written out: 18
// layers of multi-query attention (1 KV head of width 256) cache 18 · 2 · 256 = 9,216 elements
// a token, 18,432 bytes at bf16; the relaxed recursive variant still has a KV cache per layer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DashboardData } from '../../src/core/index.js';
import { DASHBOARD_DATA_METHOD, MODEL_REPORTS_METHOD, type DashboardDataParams } from '../../src/protocol/lsp-extensions.js';
import { GEMMA, GEMMA_URI, requestDashboardData, sharedSession, type TestSession } from './harness.js';

const URI = GEMMA_URI;
const KV_BYTES_PER_TOKEN = 18n * 2n * 256n * 2n;

let s: TestSession;
sharedSession([[URI, GEMMA]], (session) => (s = session));

const request = (params: DashboardDataParams): Promise<DashboardData | null> => requestDashboardData(s.client, params);

test('answers the dashboard data of an open document from its compilation, at the settings sent', async () => {
  await s.client.sendRequest(MODEL_REPORTS_METHOD, { uri: URI });
  const runs = s.server.analyses.runs;
  const data = await request({ uri: URI, source: 'gemma.npas', settings: { sequenceLength: 8192, batchSize: 1, dtype: 'bf16', device: 'H100' } });
  assert.ok(data);
  assert.equal(data.source, 'gemma.npas');
  assert.equal(data.options.seq, 8192);
  assert.deepEqual(data.models.map((m) => [m.name, m.params.stored]), [
    ['Gemma2B', '2506172416'],
    ['RecursiveGemma', '1515231232'],
    ['RelaxedRecursiveGemma', '1593677824'],
  ]);
  const relaxed = data.models[2]!;
  assert.equal(relaxed.kvCacheBytes, String(KV_BYTES_PER_TOKEN * 8192n));
  for (const p of relaxed.sweep) assert.equal(p.kvCacheBytes, String(KV_BYTES_PER_TOKEN * BigInt(p.seq)));
  // Same document version: the server measured its existing compilation, it did not analyse again.
  assert.equal(s.server.analyses.runs, runs);
});

test('without settings it uses the server’s; a document that is not open answers null; a bad request is an empty answer', async () => {
  const data = await request({ uri: URI, source: 'gemma.npas' });
  assert.equal(data?.options.seq, 4096);
  assert.equal(data?.models[2]!.kvCacheBytes, String(KV_BYTES_PER_TOKEN * 4096n));
  assert.equal(await request({ uri: 'file:///not-open.npas', source: 'x' }), null);
  assert.equal(await s.client.sendRequest(DASHBOARD_DATA_METHOD, { nope: 1 }), null);
});
