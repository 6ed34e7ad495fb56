// `npas/probeMeasured` through real JSON-RPC, in process: the client reports a probe, and the
// hover on the model's name (its declaration line, a variant's base, a budget's target) and a
// code lens show it beside the roofline; a CPU fallback is said loudly; the staleness rule
// (the model's text, not the document's version); the probed text's identity the client sends
// (`modelFingerprint`, as after a window reload, when versions restart); a malformed
// notification is logged and dropped with the server still serving; the store is bounded and
// forgets a closed document.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeLens, Hover } from 'vscode-languageserver/node';
import { PROBE_MEASURED_NOTIFICATION, SHOW_DASHBOARD_COMMAND, type ProbeMeasuredParams, type ProbeMeasurementJson } from '../../src/protocol/lsp-extensions.js';
import { MAX_MEASUREMENTS } from '../../src/server/probe-measurements.js';
import { modelFingerprint } from '../../src/core/index.js';
import { parse } from '../../src/core/index.js';
import { positionOf, startSession, type TestSession } from './harness.js';

const TINY = readFileSync(join(__dirname, '..', 'fixtures', 'specs', 'tiny-gpt.npas'), 'utf8');
const SPEC = `${TINY}\nvariant Wide of TinyGPT {\n  d = 64\n}\n\nmodel Other {\n  x = Linear(8, 8)\n}\n\nbudget TinyGPT {\n  params.stored <= 1M\n}\n`;

const measurement = (over: Partial<ProbeMeasurementJson> = {}): ProbeMeasurementJson => ({
  model: 'TinyGPT',
  requestedProvider: 'cuda',
  provider: 'cuda',
  fallback: null,
  device: 'H100',
  dtype: 'fp16',
  batch: 1,
  seq: 128,
  ortVersion: '1.29.0',
  prefill: { medianMs: 12.3, minMs: 12.0, rooflineMs: 10.4, bound: 'compute', achievedFlopsPerSecond: 173e12, achievedBytesPerSecond: 1.2e12, unavailable: null },
  decode: { medianMs: 3.4, minMs: 3.3, rooflineMs: 3.3, bound: 'memory', achievedFlopsPerSecond: 2.5e9, achievedBytesPerSecond: 2.9e12, unavailable: null },
  memory: { kind: 'gpu', bytes: 120 * 2 ** 20 },
  sessionCreateMs: 350,
  measuredAt: '2026-11-27T09:40:12.000Z',
  ...over,
});

let s: TestSession;
before(async () => {
  s = await startSession();
});
after(async () => {
  await s.close();
});

let docs = 0;
/** Opens SPEC (or `text`) under a fresh URI. */
async function openSpec(text = SPEC): Promise<string> {
  const uri = `file:///work/probe-${++docs}.npas`;
  await s.open(uri, text, 1);
  return uri;
}

/** Sends the notification and returns once the server handled it (it answers requests in order). */
async function measured(params: ProbeMeasuredParams | unknown): Promise<void> {
  await s.client.sendNotification(PROBE_MEASURED_NOTIFICATION, params);
  await s.client.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///work/not-open.npas' }, position: { line: 0, character: 0 } });
}

/** The hover text at the `delta`th character of `needle` (a request after a notification is answered after it was handled). */
async function hover(uri: string, text: string, needle: string, delta: number): Promise<{ value: string; range: unknown }> {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `'${needle}' not in the text`);
  const h = await s.client.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, i + delta) });
  const contents = h?.contents as { value: string } | undefined;
  return { value: contents?.value ?? '', range: h?.range };
}

const MEASURED_CUDA = 'Measured** (CUDA, fp16, batch 1, seq 128): prefill **12.3 ms** (roofline 10.4 ms, 0.85×), decode **3.40 ms** (roofline 3.30 ms, 0.97×)';

test('the hover on a measured model shows the measurement beside the roofline, after the engine numbers', async () => {
  const uri = await openSpec();
  const before = await hover(uri, SPEC, 'model TinyGPT', 8);
  assert.doesNotMatch(before.value, /Measured/);
  const refreshes = s.requests.filter((m) => m === 'workspace/codeLens/refresh').length;
  await measured({ uri, version: 1, measurement: measurement() });

  const h = await hover(uri, SPEC, 'model TinyGPT', 8);
  assert.ok(h.value.startsWith('**model TinyGPT**'), 'the engine hover comes first');
  assert.ok(h.value.includes(`\n\n---\n\n**${MEASURED_CUDA}`), h.value);
  assert.match(h.value, /Achieved: prefill 173 TFLOP\/s, 1\.2 TB\/s; decode 2\.5 GFLOP\/s, 2\.9 TB\/s · roofline on the H100 profile/);
  assert.match(h.value, /Memory 120\.00 MiB \(GPU memory of the probe process\) · session 350 ms · ONNX Runtime 1\.29\.0 · 2026-11-27 09:40 UTC/);
  assert.doesNotMatch(h.value, /FALLBACK|earlier version|CPU/);
  assert.deepEqual(h.range, { start: positionOf(SPEC, SPEC.indexOf('TinyGPT')), end: positionOf(SPEC, SPEC.indexOf('TinyGPT') + 7) });
  // The keyword of the declaration line, a variant's base and a budget's target name it too.
  assert.ok((await hover(uri, SPEC, 'model TinyGPT', 2)).value.includes(MEASURED_CUDA));
  assert.ok((await hover(uri, SPEC, 'of TinyGPT', 4)).value.includes(MEASURED_CUDA));
  assert.ok((await hover(uri, SPEC, 'budget TinyGPT', 9)).value.includes(MEASURED_CUDA));
  // Not another model, nor a member of the measured one.
  assert.doesNotMatch((await hover(uri, SPEC, 'model Other', 8)).value, /Measured/);
  assert.doesNotMatch((await hover(uri, SPEC, 'variant Wide', 9)).value, /Measured/);
  assert.doesNotMatch((await hover(uri, SPEC, 'mlp  = MLP', 1)).value, /Measured/);

  // A code lens beside the engine's, opening the dashboard's Probe pane; refreshed on receipt.
  assert.equal(s.requests.filter((m) => m === 'workspace/codeLens/refresh').length, refreshes + 1);
  const lenses = await s.client.sendRequest<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
  const probe = lenses.filter((l) => l.command?.arguments?.[2] === 'probe');
  assert.deepEqual(
    probe.map((l) => [l.range.start.line, l.command!.title, l.command!.command, l.command!.arguments]),
    [[positionOf(SPEC, SPEC.indexOf('TinyGPT')).line, 'measured (CUDA, fp16, seq 128): prefill 12.3 ms · decode 3.40 ms', SHOW_DASHBOARD_COMMAND, ['TinyGPT', uri, 'probe']]],
  );
  assert.ok(lenses.some((l) => l.range.start.line === probe[0]!.range.start.line && /params stored/.test(l.command!.title)), 'the engine lens stays');
});

test('a CPU fallback is said loudly in the hover and the lens; a CPU probe is stated as CPU numbers', async () => {
  const uri = await openSpec();
  const fallback = 'CPU FALLBACK: the CUDA execution provider is not installed; these are CPU numbers';
  await measured({ uri, version: 1, measurement: measurement({ provider: 'cpu', fallback, dtype: 'fp32', device: 'H100' }) });
  const h = await hover(uri, SPEC, 'model TinyGPT', 8);
  assert.match(h.value, /^\*\*!!! CPU FALLBACK: the CUDA execution provider is not installed; these are CPU numbers — these are CPU numbers, not CUDA numbers !!!\*\*$/m);
  assert.match(h.value, /Measured\*\* \(CPU fallback!, fp32, batch 1, seq 128\): prefill/);
  const lenses = await s.client.sendRequest<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
  assert.ok(lenses.some((l) => l.command?.title.startsWith('measured (CPU FALLBACK, fp32, seq 128): prefill 12.3 ms')));

  // As a tiny model measures on a CPU: thousands of times off a roofline below a microsecond.
  const prefill = { ...measurement().prefill, medianMs: 3.73, rooflineMs: 0.000904 };
  await measured({ uri, version: 1, measurement: measurement({ requestedProvider: 'cpu', provider: 'cpu', device: 'CPU', dtype: 'fp32', seq: 32, prefill }) });
  const cpu = await hover(uri, SPEC, 'model TinyGPT', 8);
  assert.match(cpu.value, /_CPU provider: CPU numbers, not GPU numbers; the roofline is the engine's CPU profile\._/);
  assert.match(cpu.value, /Measured\*\* \(CPU, fp32, batch 1, seq 32\): prefill \*\*3\.73 ms\*\* \(roofline 0\.90 µs, 0\.00024×\)/);
  assert.doesNotMatch(cpu.value, /FALLBACK/, 'the latest measurement replaced the fallback one');
});

test('a decode step that was not measured says why, with its roofline', async () => {
  const uri = await openSpec();
  const decode = { medianMs: null, minMs: null, rooflineMs: 0.5, bound: 'memory', achievedFlopsPerSecond: null, achievedBytesPerSecond: null, unavailable: 'a bidirectional model has no decode step' } as const;
  await measured({ uri, measurement: measurement({ decode }) });
  const h = await hover(uri, SPEC, 'model TinyGPT', 8);
  assert.match(h.value, /prefill \*\*12\.3 ms\*\* \(roofline 10\.4 ms, 0\.85×\), decode not measured: a bidirectional model has no decode step \(roofline 0\.50 ms\)/);
  assert.match(h.value, /Achieved: prefill 173 TFLOP\/s, 1\.2 TB\/s · roofline/);
});

test('staleness: an edit to the model\'s text marks it "measured on an earlier version" (still shown); other models and budgets do not; undoing makes it current', async () => {
  const uri = await openSpec();
  await measured({ uri, version: 1, measurement: measurement() });
  await measured({ uri, version: 1, measurement: measurement({ model: 'Wide', seq: 64 }) });
  const stale = async (text: string, model: 'TinyGPT' | 'Wide'): Promise<boolean> => {
    const h = await hover(uri, text, model === 'TinyGPT' ? 'model TinyGPT' : 'variant Wide', model === 'TinyGPT' ? 8 : 10);
    assert.match(h.value, /\*\*Measured\*\*/, `${model} still shows its measurement`);
    return /earlier version/.test(h.value);
  };
  let version = 1;
  const edit = async (text: string): Promise<string> => {
    await s.replace(uri, text, ++version);
    return text;
  };
  // Another model, a budget, whitespace: both stay current.
  let text = await edit(SPEC.replace('x = Linear(8, 8)', 'x = Linear(8, 16)'));
  text = await edit(text.replace('params.stored <= 1M', 'params.stored <= 2M'));
  text = await edit(text.replace('  ln_f    = LayerNorm(d)', '  ln_f =   LayerNorm(d)'));
  assert.deepEqual([await stale(text, 'TinyGPT'), await stale(text, 'Wide')], [false, false]);
  // The variant's own text: the variant only.
  text = await edit(text.replace('  d = 64', '  d = 48'));
  assert.deepEqual([await stale(text, 'TinyGPT'), await stale(text, 'Wide')], [false, true]);
  // The base model's text: both (the variant is built from it).
  const changed = await edit(text.replace('act: gelu_tanh', 'act: gelu'));
  assert.deepEqual([await stale(changed, 'TinyGPT'), await stale(changed, 'Wide')], [true, true]);
  const h = await hover(uri, changed, 'model TinyGPT', 8);
  assert.match(h.value, /_Measured on an earlier version of this model's text: the numbers may no longer hold\. Run \*\*NPAS: Run GPU Probe\*\* again\._/);
  assert.match(h.value, /Measured\*\* \(CUDA, fp16, batch 1, seq 128, earlier version\): prefill \*\*12\.3 ms\*\*/);
  const lenses = await s.client.sendRequest<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
  assert.ok(lenses.some((l) => l.command?.title === 'measured on an earlier version (CUDA, fp16, seq 128): prefill 12.3 ms · decode 3.40 ms'));
  // Undo: the measured text is back, so is the measurement's currency.
  await edit(text);
  assert.deepEqual([await stale(text, 'TinyGPT'), await stale(text, 'Wide')], [false, true]);
});

test('a measurement of another version than the server\'s is shown as an earlier version; without a version the current one is assumed', async () => {
  const uri = await openSpec();
  await s.replace(uri, SPEC, 2);
  await measured({ uri, version: 1, measurement: measurement() });
  assert.match((await hover(uri, SPEC, 'model TinyGPT', 8)).value, /earlier version/);
  await measured({ uri, measurement: measurement() });
  assert.doesNotMatch((await hover(uri, SPEC, 'model TinyGPT', 8)).value, /earlier version/);
});

/** The identity the extension sends: the fingerprint of the probed text, computed as probe-commands.ts does. */
const identity = (text: string, model: string): string => modelFingerprint(text, parse(text).file, model)!;

test('the probed text\'s identity decides staleness, whatever the versions: a reload re-sends at another version and is current on the same text; a changed model is an earlier version', async () => {
  const uri = await openSpec();
  // As after a window reload: the document is at version 5 now; the stored measurement has no
  // version (or one from before the reload that means nothing): the fingerprint decides.
  await s.replace(uri, SPEC, 5);
  await measured({ uri, modelFingerprint: identity(SPEC, 'TinyGPT'), measurement: measurement() });
  await measured({ uri, version: 1, modelFingerprint: identity(SPEC, 'Wide'), measurement: measurement({ model: 'Wide', seq: 64 }) });
  const stale = async (text: string, model: 'TinyGPT' | 'Wide'): Promise<boolean> => {
    const h = await hover(uri, text, model === 'TinyGPT' ? 'model TinyGPT' : 'variant Wide', model === 'TinyGPT' ? 8 : 10);
    assert.match(h.value, /\*\*Measured\*\*/, `${model} still shows its measurement`);
    return /earlier version/.test(h.value);
  };
  assert.deepEqual([await stale(SPEC, 'TinyGPT'), await stale(SPEC, 'Wide')], [false, false], 'same text, other versions: current');
  // Another model's text: both current (the model's fingerprint, not the whole text's hash).
  const other = SPEC.replace('x = Linear(8, 8)', 'x = Linear(8, 16)');
  await s.replace(uri, other, 6);
  assert.deepEqual([await stale(other, 'TinyGPT'), await stale(other, 'Wide')], [false, false]);
  // The variant's text: the variant only.
  const narrow = other.replace('  d = 64', '  d = 48');
  await s.replace(uri, narrow, 7);
  assert.deepEqual([await stale(narrow, 'TinyGPT'), await stale(narrow, 'Wide')], [false, true]);

  // Re-sent after a reload onto a text that changed while the window was closed: an earlier
  // version at once, though its (absent) version says nothing, and the log says so.
  const changed = narrow.replace('act: gelu_tanh', 'act: gelu');
  const other2 = await openSpec(changed);
  const logged = s.logs.length;
  await measured({ uri: other2, modelFingerprint: identity(SPEC, 'TinyGPT'), measurement: measurement() });
  assert.match((await hover(other2, changed, 'model TinyGPT', 8)).value, /Measured\*\* \(CUDA, fp16, batch 1, seq 128, earlier version\)/);
  assert.ok(s.logs.slice(logged).some((l) => /TinyGPT in .*probe-\d+\.npas on cuda: prefill 12\.3 ms \(the model's text differs from the probed one: shown as an earlier version\)/.test(l.message)));
  // Undo to the probed text: current again.
  await s.replace(other2, SPEC, 2);
  assert.doesNotMatch((await hover(other2, SPEC, 'model TinyGPT', 8)).value, /earlier version/);
});

test('a measurement with its identity that arrives before the document\'s didOpen is kept and shown when it opens; closing forgets it', async () => {
  const uri = `file:///work/probe-early-${++docs}.npas`;
  const size = s.server.probes.size;
  const logged = s.logs.length;
  await measured({ uri, modelFingerprint: identity(SPEC, 'TinyGPT'), measurement: measurement() });
  assert.equal(s.server.probes.size, size + 1);
  assert.ok(s.logs.slice(logged).some((l) => /the document is not open yet; kept for when it is/.test(l.message)));
  await s.open(uri, SPEC, 1);
  const h = await hover(uri, SPEC, 'model TinyGPT', 8);
  assert.ok(h.value.includes(MEASURED_CUDA), h.value);
  assert.doesNotMatch(h.value, /earlier version/);
  await s.client.sendNotification('textDocument/didClose', { textDocument: { uri } });
  await measured({ uri: 'file:///work/not-open.npas', measurement: measurement() });
  assert.equal(s.server.probes.size, size);
});

test('a malformed notification is logged and dropped; nothing is stored and the server keeps serving', async () => {
  const uri = await openSpec();
  const good = measurement();
  const bad: [unknown, RegExp][] = [
    [undefined, /params: expected an object, got null/],
    [[uri], /params: expected an object, got an array/],
    [{ uri: 42, measurement: good }, /uri: expected a string, got 42/],
    [{ uri, version: -1, measurement: good }, /version: expected an integer ≥ 0, got -1/],
    [{ uri }, /measurement: expected an object, got nothing/],
    [{ uri, measurement: { ...good, provider: 'tpu' } }, /measurement\.provider: expected one of cuda, cpu, got "tpu"/],
    [{ uri, measurement: { ...good, seq: 0 } }, /measurement\.seq: expected an integer ≥ 1, got 0/],
    [{ uri, measurement: { ...good, model: 'x y' } }, /measurement\.model: "x y" is not a model name/],
    [{ uri, measurement: { ...good, fallback: 'x'.repeat(5000) } }, /measurement\.fallback: longer than 2000 characters/],
    [{ uri, measurement: { ...good, decode: { ...good.decode, medianMs: null, unavailable: 'no' } } }, /measurement\.decode\.minMs: must be null when medianMs is/],
    [
      { uri, measurement: { ...good, prefill: { ...good.prefill, medianMs: null, minMs: null, achievedFlopsPerSecond: null, achievedBytesPerSecond: null, unavailable: 'no' } } },
      /measurement\.prefill: the prefill is always measured/,
    ],
    [{ uri, measurement: { ...good, prefill: { ...good.prefill, rooflineMs: 'fast' } } }, /measurement\.prefill\.rooflineMs: expected a finite number ≥ 0, got "fast"/],
    [{ uri, measurement: { ...good, decode: { ...good.decode, unavailable: 'why' } } }, /measurement\.decode\.unavailable: must be null when the phase was measured/],
    [{ uri, measurement: { ...good, memory: { kind: 'gpu' } } }, /measurement\.memory\.bytes: expected a finite number ≥ 0, got nothing/],
    [{ uri, measurement: { ...good, measuredAt: 'yesterday' } }, /measurement\.measuredAt: "yesterday" is not an ISO 8601 time/],
    [{ uri, modelFingerprint: 42, measurement: good }, /modelFingerprint: expected a string, got 42/],
    [{ uri, modelFingerprint: null, measurement: good }, /modelFingerprint: expected a string, got null/],
    [{ uri, modelFingerprint: 'A'.repeat(64), measurement: good }, /modelFingerprint: "AAAAAAAA.*…" is not 64 lowercase hex digits/],
    [{ uri, modelFingerprint: 'a'.repeat(63), measurement: good }, /modelFingerprint: "a+…" is not 64 lowercase hex digits/],
    [{ uri, modelFingerprint: 'a'.repeat(65), measurement: good }, /modelFingerprint: longer than 64 characters/],
    [{ uri, modelFingerprint: 'g'.repeat(64), measurement: good }, /is not 64 lowercase hex digits/],
  ];
  const size = s.server.probes.size;
  for (const [params, why] of bad) {
    const logged = s.logs.length;
    await measured(params);
    const h = await hover(uri, SPEC, 'model TinyGPT', 8);
    assert.ok(h.value.startsWith('**model TinyGPT**'), 'the server still answers');
    assert.doesNotMatch(h.value, /Measured/);
    const warnings = s.logs.slice(logged).filter((l) => l.type === 2 && l.message.startsWith(`${PROBE_MEASURED_NOTIFICATION}: dropped a malformed notification: `));
    assert.equal(warnings.length, 1, `one warning for ${JSON.stringify(params)?.slice(0, 80)}`);
    assert.match(warnings[0]!.message, why);
  }
  assert.equal(s.server.probes.size, size);
  assert.ok(!s.logs.some((l) => l.type === 1 && l.message.includes(PROBE_MEASURED_NOTIFICATION)), 'no handler failure');
});

test('a measurement of a document that is not open is not kept; closing a document forgets its measurements', async () => {
  const logged = s.logs.length;
  const size = s.server.probes.size;
  await measured({ uri: 'file:///work/never-opened.npas', measurement: measurement() });
  assert.equal(s.server.probes.size, size);
  assert.ok(s.logs.slice(logged).some((l) => /never-opened\.npas is not open; the measurement of TinyGPT is not kept/.test(l.message)));

  const uri = await openSpec();
  await measured({ uri, measurement: measurement() });
  await measured({ uri, measurement: measurement({ model: 'Wide' }) });
  assert.equal(s.server.probes.size, size + 2);
  await s.client.sendNotification('textDocument/didClose', { textDocument: { uri } });
  await s.open(uri, SPEC, 1);
  assert.doesNotMatch((await hover(uri, SPEC, 'model TinyGPT', 8)).value, /Measured/);
  assert.equal(s.server.probes.size, size);
});

test(`the store is bounded: at most ${MAX_MEASUREMENTS} measurements, the least recently received dropped first`, async () => {
  const models = Array.from({ length: MAX_MEASUREMENTS + 20 }, (_, i) => `M${i}`);
  const text = models.map((m) => `model ${m} {\n  x = Linear(8, 8)\n}\n`).join('\n');
  const uri = await openSpec(text);
  const logged = s.logs.length;
  for (const model of models) await measured({ uri, measurement: measurement({ model }) });
  const shows = async (model: string): Promise<boolean> => /\*\*Measured\*\*/.test((await hover(uri, text, `model ${model} `, 7)).value);
  assert.equal(s.server.probes.size, MAX_MEASUREMENTS);
  assert.deepEqual([await shows('M0'), await shows('M19'), await shows('M20'), await shows(models.at(-1)!)], [false, false, true, true]);
  assert.ok(s.logs.slice(logged).some((l) => /1 older measurement\(s\) dropped \(at most 256 kept\)/.test(l.message)));
  await s.client.sendNotification('textDocument/didClose', { textDocument: { uri } });
});
