// Pushed diagnostics for clients that cannot pull, and the analysis settings: read from
// initializationOptions, workspace/configuration or didChangeConfiguration; a change
// re-analyses; an invalid value is ignored with one logged warning and its default used.

import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { CodeLens, CompletionList, DocumentSymbol, Hover, Location, SymbolInformation } from 'vscode-languageserver/node';
import { MODEL_REPORTS_METHOD, type ModelReportsResult } from '../../src/protocol/lsp-extensions.js';
import { FULL_CAPABILITIES, MINIMAL_CAPABILITIES, cursor, positionOf, startSession, until } from './harness.js';

// Attention(64, heads: 4): KV 2·64 elements per token per layer; 2 layers.
const SPEC = 'model M {\n  block B { a = Attention(64, heads: 4) }\n  body = B * 2\n}\nbudget M {\n  kv <= 1MiB\n}\n';
const URI = 'file:///work/settings.npas';

test('a client without pull support gets diagnostics pushed on open, change and close', async () => {
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES });
  try {
    const opened = s.nextDiagnostics(URI);
    await s.open(URI, SPEC);
    // At seq 4,096, batch 1, bf16: 2 layers · 128 elements · 4,096 tokens · 2 bytes = 2 MiB.
    const first = await opened;
    assert.equal(first.version, 1);
    assert.deepEqual(first.diagnostics.map((d) => [d.code, d.source]), [['npas-budget-violated', 'npas']]);
    const changed = s.nextDiagnostics(URI, (p) => p.version === 2);
    await s.replace(URI, SPEC.replace('1MiB', '2MiB'), 2);
    assert.deepEqual((await changed).diagnostics, []);
    const closed = s.nextDiagnostics(URI, (p) => p.version === undefined);
    await s.client.sendNotification('textDocument/didClose', { textDocument: { uri: URI } });
    assert.deepEqual((await closed).diagnostics, []);
  } finally {
    await s.close();
  }
});

test('a burst of changes is analysed once: only the latest version is pushed', async () => {
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES });
  try {
    const opened = s.nextDiagnostics(URI);
    await s.open(URI, SPEC);
    await opened;
    const runs = s.server.analyses.runs;
    const last = s.nextDiagnostics(URI, (p) => p.version === 6);
    // Five edits that reach the server in one chunk, as when typing outpaces the analysis.
    s.burst([2, 3, 4, 5, 6].map((v) => ({ method: 'textDocument/didChange', params: { textDocument: { uri: URI, version: v }, contentChanges: [{ text: SPEC.replace('1MiB', `${v}MiB`) }] } })));
    assert.deepEqual((await last).diagnostics, []);
    assert.equal(s.server.analyses.runs - runs, 1, 'the burst is analysed once, at its last version');
    assert.deepEqual(s.pushed.filter((p) => p.uri === URI).map((p) => p.version), [1, 6]);
  } finally {
    await s.close();
  }
});

test('settings from initializationOptions are used from the first analysis', async () => {
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES, initializationOptions: { analysis: { sequenceLength: 1024, batchSize: 2, dtype: 'fp32', device: 'a100' } } });
  try {
    const opened = s.nextDiagnostics(URI);
    await s.open(URI, SPEC);
    // 2 · 128 · 1,024 · 2 (batch) · 4 (fp32) = 2 MiB again, but over 1 MiB.
    assert.deepEqual((await opened).diagnostics.map((d) => d.message), ['budget violated: kv is 2,097,152 bytes, the limit is <= 1,048,576 bytes']);
    const r = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.deepEqual(r.settings, { sequenceLength: 1024, batchSize: 2, dtype: 'fp32', device: 'A100' });
    assert.equal(r.models[0]!.latency.device, 'A100');
    assert.equal(r.models[0]!.kvCacheBytes, '2097152');
  } finally {
    await s.close();
  }
});

test('invalid settings are ignored with one warning each, and the defaults used', async () => {
  const bad = { analysis: { sequenceLength: -5, batchSize: 'lots', dtype: 'fp64', device: 'TPUv9' } };
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES, initializationOptions: bad });
  try {
    await s.client.sendNotification('workspace/didChangeConfiguration', { settings: { npas: bad } });
    await s.client.sendNotification('workspace/didChangeConfiguration', { settings: { npas: bad } });
    const r = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.deepEqual(r.settings, { sequenceLength: 4096, batchSize: 1, dtype: 'bf16', device: 'H100' });
    const warnings = s.logs.filter((l) => l.type === 2).map((l) => l.message);
    assert.deepEqual(warnings, [
      'npas.analysis.sequenceLength: -5 is not an integer from 1 to 1073741824; using the default 4096',
      'npas.analysis.batchSize: "lots" is not an integer from 1 to 1073741824; using the default 1',
      'npas.analysis.dtype: "fp64" is not one of fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4; using the default bf16',
      'npas.analysis.device: "TPUv9" is not one of H100, H200, H20, B200, A100, A100-40GB, L40S, L4, RTX4090, MI300X, M2Ultra, M4Max, CPU; using the default H100',
    ]);
  } finally {
    await s.close();
  }
});

test('workspace/configuration is read after initialized and on every change; a change re-analyses and asks the client to refresh', async () => {
  const s = await startSession({ capabilities: FULL_CAPABILITIES, configuration: { sequenceLength: 8192 } });
  try {
    await s.open(URI, SPEC);
    await until(() => s.server.settings.current.sequenceLength === 8192, 'the configuration pull');
    const before = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.equal(before.models[0]!.kvCacheBytes, String(2 * 128 * 8192 * 2));
    s.configuration = { sequenceLength: 2048, dtype: 'fp8' };
    const refreshes = s.requests.length;
    await s.client.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await until(() => s.server.settings.current.sequenceLength === 2048, 'the second configuration pull');
    await until(() => s.requests.slice(refreshes).includes('workspace/diagnostic/refresh'), 'a diagnostic refresh');
    assert.ok(s.requests.includes('workspace/inlayHint/refresh'));
    assert.ok(s.requests.includes('workspace/codeLens/refresh'));
    const afterChange = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.equal(afterChange.models[0]!.kvCacheBytes, String(2 * 128 * 2048 * 1));
    assert.deepEqual(afterChange.settings, { sequenceLength: 2048, batchSize: 1, dtype: 'fp8', device: 'H100' });
  } finally {
    await s.close();
  }
});

test('a client that can be asked but has nothing configured keeps the initializationOptions settings', async () => {
  const s = await startSession({ capabilities: FULL_CAPABILITIES, initializationOptions: { npas: { analysis: { sequenceLength: 2048 } } }, configuration: null });
  try {
    await until(() => s.requests.includes('workspace/configuration'), 'the configuration pull');
    const r = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.equal(r.settings.sequenceLength, 2048);
  } finally {
    await s.close();
  }
});

test('didChangeConfiguration without configuration support: its payload is the settings, and open documents are re-pushed', async () => {
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES });
  try {
    const opened = s.nextDiagnostics(URI);
    await s.open(URI, SPEC);
    assert.equal((await opened).diagnostics.length, 1);
    const repushed = s.nextDiagnostics(URI);
    // At seq 1,024 the KV cache is 512 KiB: the budget holds.
    await s.client.sendNotification('workspace/didChangeConfiguration', { settings: { npas: { analysis: { sequenceLength: 1024 } } } });
    assert.deepEqual((await repushed).diagnostics, []);
  } finally {
    await s.close();
  }
});

test('a minimal client gets plain Locations, flat symbols, and snippets as plain text', async () => {
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES });
  try {
    const { text, offset } = cursor('model M {\n  d = 64\n  x = Lin$0\n  y = RMSNorm(d)\n}\n');
    await s.open(URI, text);
    const list = await s.client.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri: URI }, position: positionOf(text, offset) });
    const linear = list.items.find((i) => i.label === 'Linear')!;
    assert.equal(linear.insertTextFormat, 1);
    assert.equal(linear.textEdit && 'newText' in linear.textEdit ? linear.textEdit.newText : '', 'Linear(d_in, d_out)');
    const def = await s.client.sendRequest<Location[]>('textDocument/definition', { textDocument: { uri: URI }, position: positionOf(text, text.indexOf('RMSNorm(d)') + 8) });
    assert.deepEqual(def, [{ uri: URI, range: { start: { line: 1, character: 2 }, end: { line: 1, character: 3 } } }]);
    const symbols = await s.client.sendRequest<SymbolInformation[] | DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: URI } });
    assert.deepEqual(symbols.map((x) => ('containerName' in x ? `${x.containerName}/${x.name}` : x.name)), ['M', 'M/d', 'M/x', 'M/y']);
    const hover = await s.client.sendRequest<Hover>('textDocument/hover', { textDocument: { uri: URI }, position: positionOf(text, text.indexOf('M {')) });
    assert.ok(hover);
    const lenses = await s.client.sendRequest<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: URI } });
    assert.ok(lenses.length > 0);
  } finally {
    await s.close();
  }
});

test('per-class dtype settings reach the analysis over the spec\'s precision statement; a bad one is warned about', async () => {
  // The spec declares an fp8 cache; kvDtype: fp32 in the settings wins: 2 · 128 · 4,096 · 4 bytes = 4 MiB.
  const spec = SPEC.replace('body = B * 2\n', 'body = B * 2\n  precision kv: fp8\n');
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES, initializationOptions: { analysis: { kvDtype: 'fp32', masterDtype: 'fp64' } } });
  try {
    await s.open(URI, spec);
    const r = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.equal(r.models[0]!.kvCacheBytes, String(2 * 128 * 4096 * 4));
    assert.equal(r.settings.kvDtype, 'fp32');
    assert.equal(r.settings.masterDtype, undefined, 'a bad value sets nothing');
    assert.ok(s.logs.some((l) => l.type === 2 && /^npas\.analysis\.masterDtype: "fp64" is not one of default, fp32, .*, none; using the default default$/.test(l.message)));
    // Without the setting the spec's fp8 cache applies: 2 · 128 · 4,096 · 1 byte.
    await s.client.sendNotification('workspace/didChangeConfiguration', { settings: { npas: { analysis: { kvDtype: 'default' } } } });
    await until(() => s.server.settings.current.kvDtype === undefined, 'the settings change');
    const after = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.equal(after.models[0]!.kvCacheBytes, String(2 * 128 * 4096));
  } finally {
    await s.close();
  }
});

test('a devices file and per-path weight dtypes from the settings: the file\'s device is usable, the path\'s weights in their dtype', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-devices-'));
  const file = join(dir, 'devices.json');
  // A made-up accelerator: 100 TFLOP/s in bf16, 1 TB/s.
  writeFileSync(file, JSON.stringify({ devices: [{ name: 'MyChip', description: 'test', source: 'test', peakFlops: { fp32: 25e12, bf16: 100e12, fp16: 100e12 }, bandwidth: 1e12, memoryBytes: 16e9 }] }));
  const s = await startSession({
    capabilities: MINIMAL_CAPABILITIES,
    initializationOptions: { analysis: { devicesFile: file, device: 'MyChip', weightsDtypeByPath: { 'body.a': 'fp8' } } },
  });
  try {
    const opened = s.nextDiagnostics(URI);
    await s.open(URI, SPEC);
    await opened;
    const r = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    const m = r.models[0]!;
    assert.equal(m.latency.device, 'MyChip');
    // Two Attention(64, 4) layers of 4·64·64 = 16,384 weights each, in fp8 (1 byte) by the setting.
    assert.equal(m.memory.weightBytes, String(2 * 16_384));
    // A decode step at seq 4,096 reads the 32,768 weight bytes and the 2 MiB cache: memory-bound
    // on MyChip, (32,768 + 2,097,152) B / 1 TB/s.
    assert.equal(m.latency.decode.seconds, (32_768 + 2_097_152) / 1e12);
    assert.deepEqual(s.logs.filter((l) => l.type === 2).map((l) => l.message).filter((w) => /devicesFile|weightsDtypeByPath|device/.test(w)), []);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a devices file that cannot be read, and a bad per-path dtype, are warned about once and ignored', async () => {
  const s = await startSession({
    capabilities: MINIMAL_CAPABILITIES,
    initializationOptions: { analysis: { devicesFile: '/nonexistent/devices.json', device: 'MyChip', weightsDtypeByPath: { 'body.a': 'fp7' } } },
  });
  try {
    const opened = s.nextDiagnostics(URI);
    await s.open(URI, SPEC);
    await opened;
    const r = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.equal(r.models[0]!.latency.device, 'H100', 'an unknown device falls back to the default');
    assert.equal(r.models[0]!.memory.weightBytes, String(2 * 16_384 * 2), 'bf16: the bad override is ignored');
    assert.equal(s.logs.filter((l) => l.type === 2).map((l) => l.message).filter((w) => w.includes('/nonexistent/devices.json')).length, 1);
    assert.equal(s.logs.filter((l) => l.type === 2).map((l) => l.message).filter((w) => w.includes('weightsDtypeByPath.body.a')).length, 1);
    assert.equal(s.logs.filter((l) => l.type === 2).map((l) => l.message).filter((w) => w.startsWith('npas.analysis.device:')).length, 1);
  } finally {
    await s.close();
  }
});

test('a shared prompt from the settings: its KV cache held once, and a prompt not below the sequence is warned about and ignored', async () => {
  // seq 1,000, a prompt of 600 shared by 3 continuations of 400: each layer caches the prompt's
  // 600 positions once and 3 × 400 of the continuations' = 1,800 positions (not 3 × 1,000 = 3,000),
  // 2·64 elements each in bf16 (2 bytes), 2 layers.
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES, initializationOptions: { analysis: { sequenceLength: 1000, sharedPrefixTokens: 600, continuations: 3 } } });
  try {
    await s.open(URI, SPEC);
    const r = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.equal(r.models[0]!.kvCacheBytes, String((600 + 3 * 400) * 2 * 64 * 2 * 2));
    assert.equal(r.settings.sharedPrefixTokens, 600);
    assert.equal(r.settings.continuations, 3);
    // A prompt of the whole sequence leaves a continuation no token: reported, and no sharing.
    await s.client.sendNotification('workspace/didChangeConfiguration', { settings: { npas: { analysis: { sequenceLength: 1000, sharedPrefixTokens: 1000, continuations: 3 } } } });
    await until(() => s.server.settings.current.sharedPrefixTokens === undefined, 'the settings change');
    const after = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: URI });
    assert.equal(after.models[0]!.kvCacheBytes, String(1000 * 2 * 64 * 2 * 2));
    assert.ok(s.logs.some((l) => l.type === 2 && l.message.startsWith('npas.analysis.sharedPrefixTokens: 1000 is not below npas.analysis.sequenceLength (1000)')));
  } finally {
    await s.close();
  }
});
