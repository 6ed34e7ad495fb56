// npas/budgetReport: Export Budget Report's JSON, written by the server from the compilation and
// settings its diagnostics use, equal byte for byte to `npas budget FILE --json` at the same
// settings — the per-path weight dtypes and the devices file included, which the extension host's
// old in-process report ignored. The numbers are checked against a derivation written out here.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUDGET_REPORT_METHOD, type BudgetReportAnswer } from '../../src/protocol/lsp-extensions.js';
import { runInProcess } from '../cli/run-in-process.js';
import { MINIMAL_CAPABILITIES, startSession, type TestSession } from './harness.js';

// Attention(64, heads: 4): q, k, v, o of 64·64 = 16,384 weights a layer, no biases; two layers.
// The library's model Base is reported too (an imported model names its file).
const LIB = ['block B {', '  a = Attention(64, heads: 4)', '}', 'model Base {', '  body = B * 2', '}', ''].join('\n');
const MAIN = ['import "lib/blocks.npas"', 'model M {', '  body = B * 2', '}', 'budget M {', '  kv <= 1MiB', '}', ''].join('\n');
const WEIGHTS = 2n * 4n * 64n * 64n;
// KV at seq 4,096, batch 1, bf16: 2 layers · (k + v: 2 · 64) elements · 4,096 tokens · 2 bytes = 2 MiB.
const KV_BYTES = 2n * 2n * 64n * 4096n * 2n;
// A made-up accelerator of the devices file: 100 TFLOP/s in bf16, 1 TB/s.
const DEVICES = { devices: [{ name: 'MyChip', description: 'test', source: 'test', peakFlops: { fp32: 25e12, bf16: 100e12, fp16: 100e12 }, bandwidth: 1e12, memoryBytes: 16e9 }] };

let dir: string;
let mainPath: string;
let devicesPath: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'npas-budget-report-'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'blocks.npas'), LIB);
  mainPath = join(dir, 'main.npas');
  writeFileSync(mainPath, MAIN);
  devicesPath = join(dir, 'devices.json');
  writeFileSync(devicesPath, JSON.stringify(DEVICES));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function withSession<T>(analysis: Record<string, unknown>, body: (s: TestSession, uri: string) => Promise<T>): Promise<T> {
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES, initializationOptions: { analysis } });
  try {
    const uri = pathToFileURL(mainPath).href;
    const opened = s.nextDiagnostics(uri);
    await s.open(uri, MAIN);
    await opened;
    return await body(s, uri);
  } finally {
    await s.close();
  }
}

interface ReportJson {
  readonly models: readonly { name: string; source?: string; memory: { weightBytes: number; kvCacheBytes: number }; latency: { device: string; decode: { seconds: number } }; budgets: { ok: boolean }[] }[];
}

test('the report honours weightsDtypeByPath and devicesFile, and is byte for byte what `npas budget --json` prints at the same settings', async () => {
  const answer = await withSession({ devicesFile: devicesPath, device: 'MyChip', weightsDtypeByPath: { 'body.a': 'fp8' } }, (s, uri) => s.client.sendRequest<BudgetReportAnswer | null>(BUDGET_REPORT_METHOD, { uri }));
  assert.ok(answer && answer.kind === 'report', JSON.stringify(answer));
  const cli = runInProcess('budget', mainPath, '--json', '--devices', devicesPath, '--device', 'MyChip', '--weights-dtype', 'body.a=fp8');
  assert.equal(cli.code, 1, 'M violates its budget');
  assert.equal(answer.json, cli.stdout);

  const report = JSON.parse(answer.json) as ReportJson;
  assert.deepEqual(report.models.map((m) => [m.name, m.source]), [['Base', join(dir, 'lib', 'blocks.npas')], ['M', undefined]], 'the imported file by path, as the CLI names it');
  for (const m of report.models) {
    // body.a's weights in fp8 (1 byte each), by the setting: half of bf16's.
    assert.equal(BigInt(m.memory.weightBytes), WEIGHTS);
    assert.equal(m.latency.device, 'MyChip');
    // A decode step reads the weights and the cache once: memory-bound on MyChip's 1 TB/s.
    assert.equal(m.latency.decode.seconds, Number(WEIGHTS + KV_BYTES) / 1e12);
  }
  assert.equal(answer.models, 2);
  assert.equal(answer.violated, 1, "M's kv <= 1MiB against 2 MiB");
  assert.deepEqual(answer.settings.weightsDtypeByPath, { 'body.a': 'fp8' });
});

test('at the default settings it is the default report (bf16 weights, H100), still the CLI\'s bytes', async () => {
  const answer = await withSession({}, (s, uri) => s.client.sendRequest<BudgetReportAnswer | null>(BUDGET_REPORT_METHOD, { uri }));
  assert.ok(answer && answer.kind === 'report');
  assert.equal(answer.json, runInProcess('budget', mainPath, '--json').stdout);
  const report = JSON.parse(answer.json) as ReportJson;
  assert.deepEqual(report.models.map((m) => [BigInt(m.memory.weightBytes), m.latency.device]), [[WEIGHTS * 2n, 'H100'], [WEIGHTS * 2n, 'H100']]);
});

test('a spec with errors answers its located errors, as the CLI refuses it; a document that is not open answers null; a bad request is an empty answer', async () => {
  await withSession({}, async (s, uri) => {
    await s.replace(uri, MAIN.replace('B * 2', 'B * 2.5'), 2);
    const answer = await s.client.sendRequest<BudgetReportAnswer | null>(BUDGET_REPORT_METHOD, { uri });
    assert.ok(answer && answer.kind === 'errors', JSON.stringify(answer));
    assert.deepEqual(answer.errors.map((e) => [e.code, e.range.start.line]), [['npas-eval-not-integer', 2]]);
    assert.equal(await s.client.sendRequest(BUDGET_REPORT_METHOD, { uri: 'file:///not-open.npas' }), null);
    assert.equal(await s.client.sendRequest(BUDGET_REPORT_METHOD, { nope: 1 }), null);
  });
});
