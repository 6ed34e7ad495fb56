// What the extension sends the language server after a probe (`npas/probeMeasured`): the
// notification built from a ProbeResult (probeMeasuredParams) is exactly what the server's
// validator accepts, fallback and unmeasured decode included; and the sender
// (ProbeMeasurementSender) keeps the latest per (document, model), bounded, in a workspace-state
// memento, sends those of open documents again when the server (re)starts and a document's when
// it opens, survives a simulated window reload (a fresh sender on the same memento), and says why
// it could not send or read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProbeResult } from '../../src/protocol/kernel-rpc.js';
import { probeResult } from '../fixtures/probe-results.js';
import { PROBE_MEASURED_NOTIFICATION, type ProbeMeasuredParams } from '../../src/protocol/lsp-extensions.js';
import { MAX_KEPT, ProbeMeasurementSender, STATE_KEY, type MeasurementTransport } from '../../src/extension/probe-measurements.js';
import { probeMeasuredParams } from '../../src/extension/probe-view.js';
import { checkProbeMeasured } from '../../src/server/probe-validation.js';

const result = (over: Partial<ProbeResult> = {}): ProbeResult => probeResult('cuda', over);

const AT = new Date('2026-11-27T09:40:12.000Z');

test('the notification carries the measured numbers beside the roofline, in milliseconds, and the server accepts it as built', () => {
  const p = probeMeasuredParams('file:///w/tiny.npas', 7, result(), AT);
  assert.equal(p.uri, 'file:///w/tiny.npas');
  assert.equal(p.version, 7);
  const m = p.measurement;
  assert.deepEqual([m.model, m.provider, m.requestedProvider, m.fallback, m.device, m.dtype, m.batch, m.seq, m.measuredAt], ['TinyGPT', 'cuda', 'cuda', null, 'H100', 'fp16', 1, 128, '2026-11-27T09:40:12.000Z']);
  assert.deepEqual(m.prefill, { medianMs: 2, minMs: 1.8, rooflineMs: 1.5, bound: 'compute', achievedFlopsPerSecond: 5e8, achievedBytesPerSecond: 1e6, unavailable: null });
  assert.equal(m.decode.rooflineMs, 0.4);
  assert.deepEqual(m.memory, { kind: 'gpu', bytes: 3 * 2 ** 20 });
  // Through JSON, as it travels, and validated as the server validates it: unchanged.
  const travelled = JSON.parse(JSON.stringify(p)) as unknown;
  assert.deepEqual(checkProbeMeasured(travelled), { ok: true, value: p });
});

test('a CPU fallback, an unmeasured decode step and unmeasured memory travel as such', () => {
  const r = result({
    provider: 'cpu',
    fallback: 'CPU FALLBACK: the CUDA provider is not installed',
    decode: { unavailable: 'bidirectional attention has no decode step', roofline: { device: 'H100', seconds: 0.001, bound: 'memory', flops: '1', bytes: '1' } },
    memory: { kind: 'unavailable', reason: 'nvidia-smi is missing' },
  });
  const p = probeMeasuredParams('file:///w/tiny.npas', undefined, r, AT);
  assert.equal('version' in p, false, 'no version: the server assumes its current one');
  assert.equal(p.measurement.fallback, 'CPU FALLBACK: the CUDA provider is not installed');
  assert.deepEqual(p.measurement.decode, { medianMs: null, minMs: null, rooflineMs: 1, bound: 'memory', achievedFlopsPerSecond: null, achievedBytesPerSecond: null, unavailable: 'bidirectional attention has no decode step' });
  assert.deepEqual(checkProbeMeasured(JSON.parse(JSON.stringify(p))), { ok: true, value: p });
  // A provider mismatch the probe did not put in words is still not silent.
  assert.equal(probeMeasuredParams('u', 1, result({ provider: 'cpu' }), AT).measurement.fallback, 'ran on cpu, not the requested cuda');
});

function fakeClient(): MeasurementTransport & { sent: ProbeMeasuredParams[]; running: boolean; failing: boolean } {
  const c = {
    sent: [] as ProbeMeasuredParams[],
    running: true,
    failing: false,
    async sendNotification(method: string, params: unknown): Promise<void> {
      assert.equal(method, PROBE_MEASURED_NOTIFICATION);
      if (c.failing) throw new Error('connection closed');
      c.sent.push(params as ProbeMeasuredParams);
    },
  };
  return c;
}

const FP = (c: string): string => c.repeat(64);
const all = (): boolean => true;

/** A vscode.Memento in memory; `raw` is what the workspace state holds (JSON, as VS Code stores it). */
function memento(): { get<T>(key: string): T | undefined; update(key: string, value: unknown): Promise<void>; raw: Map<string, string>; updates: number } {
  const m = {
    raw: new Map<string, string>(),
    updates: 0,
    get<T>(key: string): T | undefined {
      const v = m.raw.get(key);
      return v === undefined ? undefined : (JSON.parse(v) as T);
    },
    async update(key: string, value: unknown): Promise<void> {
      m.updates++;
      m.raw.set(key, JSON.stringify(value));
    },
  };
  return m;
}

test('the sender sends each measurement, keeps the latest per (document, model) and sends those of open documents again to a restarted server', async () => {
  const client = fakeClient();
  const warnings: string[] = [];
  const sender = new ProbeMeasurementSender(() => (client.running ? client : undefined), (m) => warnings.push(m));
  const a = probeMeasuredParams('file:///w/a.npas', 1, result(), AT, FP('a'));
  const a2 = probeMeasuredParams('file:///w/a.npas', 2, result({ seq: 64 }), AT, FP('b'));
  const b = probeMeasuredParams('file:///w/b.npas', 1, result(), AT, FP('c'));
  assert.equal(await sender.send(a), 'sent');
  assert.equal(await sender.send(a2), 'sent');
  assert.equal(await sender.send(b), 'sent');
  assert.deepEqual(client.sent, [a, a2, b]);
  assert.equal(sender.size, 2, 'a2 replaced a');
  client.sent.length = 0;
  assert.equal(await sender.resend(all), 2);
  assert.deepEqual(client.sent, [a2, b]);
  // Only the open documents' (the server would have nowhere to show the others).
  client.sent.length = 0;
  assert.equal(await sender.resend((uri) => uri === 'file:///w/b.npas'), 1);
  assert.deepEqual(client.sent, [b]);

  // A closed document's measurements with a fingerprint are kept, and sent when it opens again.
  sender.forget('file:///w/a.npas');
  assert.equal(sender.size, 2);
  client.sent.length = 0;
  assert.equal(await sender.opened('file:///w/a.npas'), 1);
  assert.deepEqual(client.sent, [a2]);
  assert.equal(await sender.opened('file:///w/never.npas'), 0);
  // One without a fingerprint is judged by its version, which names nothing after a reopen: dropped.
  const bare = probeMeasuredParams('file:///w/c.npas', 1, result(), AT);
  await sender.send(bare);
  sender.forget('file:///w/c.npas');
  assert.equal(sender.size, 2);

  // Not running, or the send fails: said, never thrown.
  client.running = false;
  assert.equal(await sender.send(a), 'not sent: the language server is not running');
  client.running = true;
  client.failing = true;
  assert.equal(await sender.send(a), 'not sent: connection closed');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /the measurement of TinyGPT could not be sent to the language server/);
  assert.equal(await sender.resend(all), 0);
});

test('the sender keeps a bounded number, the least recently measured dropped first, in memory and in the workspace state', async () => {
  const client = fakeClient();
  const state = memento();
  const sender = new ProbeMeasurementSender(() => client, () => undefined, state, 3);
  for (let i = 0; i < 5; i++) await sender.send(probeMeasuredParams(`file:///w/${i}.npas`, 1, result(), AT, FP(String(i))));
  // Measuring 2 again makes it the most recent: 3 is the oldest now.
  await sender.send(probeMeasuredParams('file:///w/2.npas', 4, result({ seq: 32 }), AT, FP('2')));
  await sender.send(probeMeasuredParams('file:///w/5.npas', 1, result(), AT, FP('5')));
  assert.equal(sender.size, 3);
  client.sent.length = 0;
  await sender.resend(all);
  assert.deepEqual(client.sent.map((p) => p.uri), ['file:///w/4.npas', 'file:///w/2.npas', 'file:///w/5.npas']);
  const stored = state.get<ProbeMeasuredParams[]>(STATE_KEY)!;
  assert.deepEqual(stored.map((p) => p.uri), ['file:///w/4.npas', 'file:///w/2.npas', 'file:///w/5.npas']);
  assert.equal(stored[1]!.measurement.seq, 32, 'the latest measurement of (2.npas, TinyGPT)');
  assert.equal(MAX_KEPT, 64);
  // The default bound.
  const big = new ProbeMeasurementSender(() => client, () => undefined, memento());
  for (let i = 0; i < MAX_KEPT + 5; i++) await big.send(probeMeasuredParams(`file:///w/${i}.npas`, 1, result(), AT, FP('f')));
  assert.equal(big.size, MAX_KEPT);
  assert.equal(big.entries()[0]!.uri, 'file:///w/5.npas');
});

test('a window reload: a fresh sender on the same workspace state sends the stored measurements, without their version, exactly as the server accepts them', async () => {
  const state = memento();
  const before = fakeClient();
  const first = new ProbeMeasurementSender(() => before, () => undefined, state);
  const a = probeMeasuredParams('file:///w/a.npas', 7, result(), AT, FP('a'));
  const wide = probeMeasuredParams('file:///w/a.npas', 9, { ...result(), model: 'Wide' }, AT, FP('d'));
  const bare = probeMeasuredParams('file:///w/b.npas', 3, result(), AT);
  for (const p of [a, wide, bare]) await first.send(p);
  assert.equal(first.size, 3);

  // Reload: the old sender and client are gone; what VS Code kept is the memento's JSON.
  const after = fakeClient();
  const warnings: string[] = [];
  const second = new ProbeMeasurementSender(() => after, (m) => warnings.push(m), state);
  assert.equal(second.size, 2, 'the one without a fingerprint was not stored: its staleness could not be judged after a reload');
  assert.deepEqual(after.sent, [], 'nothing is sent before the client is running and the document open');
  assert.equal(await second.opened('file:///w/b.npas'), 0);
  assert.equal(await second.opened('file:///w/a.npas'), 2);
  const { version: _a, ...aStored } = a;
  const { version: _w, ...wideStored } = wide;
  assert.deepEqual(after.sent, [aStored, wideStored]);
  for (const p of after.sent) assert.deepEqual(checkProbeMeasured(p), { ok: true, value: p });
  assert.deepEqual(warnings, []);
});

test('stored measurements that cannot be read are dropped and counted; a failing memento is said, never thrown', async () => {
  const client = fakeClient();
  const state = memento();
  const good = { uri: 'file:///w/a.npas', modelFingerprint: FP('a'), measurement: probeMeasuredParams('file:///w/a.npas', 1, result(), AT).measurement };
  state.raw.set(STATE_KEY, JSON.stringify([good, null, 42, { uri: 'file:///w/b.npas' }, { ...good, modelFingerprint: undefined }, { ...good, measurement: { model: 7 } }]));
  const warnings: string[] = [];
  const sender = new ProbeMeasurementSender(() => client, (m) => warnings.push(m), state);
  assert.equal(sender.size, 1);
  assert.deepEqual(warnings, ['probe: 5 stored measurement(s) could not be read and were dropped']);

  state.raw.set(STATE_KEY, JSON.stringify({ not: 'a list' }));
  warnings.length = 0;
  assert.equal(new ProbeMeasurementSender(() => client, (m) => warnings.push(m), state).size, 0);
  assert.deepEqual(warnings, ['probe: 1 stored measurement(s) could not be read and were dropped']);

  const broken = { get: (): never => { throw new Error('disk gone'); }, update: async (): Promise<void> => { throw new Error('quota'); } };
  warnings.length = 0;
  const unstored = new ProbeMeasurementSender(() => client, (m) => warnings.push(m), broken);
  assert.equal(await unstored.send(probeMeasuredParams('file:///w/a.npas', 1, result(), AT, FP('a'))), 'sent', 'still sent, and kept for the session');
  assert.equal(unstored.size, 1);
  assert.deepEqual(warnings, [
    'probe: the stored measurements could not be read (disk gone); none are restored',
    'probe: the measurements could not be stored in the workspace state (quota); they are kept for this session',
  ]);
});
