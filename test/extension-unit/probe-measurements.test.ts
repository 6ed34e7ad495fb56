// What the extension sends the language server after a probe (`npas/probeMeasured`): the
// notification built from a ProbeResult (probeMeasuredParams) is exactly what the server's
// validator accepts, fallback and unmeasured decode included; and the sender
// (ProbeMeasurementSender) keeps the latest per (document, model), bounded, sends them again
// when the server restarts, forgets a closed document, and says why it could not send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProbeResult } from '../../src/protocol/kernel-rpc.js';
import { probeResult } from '../fixtures/probe-results.js';
import { PROBE_MEASURED_NOTIFICATION, type ProbeMeasuredParams } from '../../src/protocol/lsp-extensions.js';
import { ProbeMeasurementSender, type MeasurementTransport } from '../../src/extension/probe-measurements.js';
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

test('the sender sends each measurement, keeps the latest per (document, model) and sends them again to a restarted server', async () => {
  const client = fakeClient();
  const warnings: string[] = [];
  const sender = new ProbeMeasurementSender(() => (client.running ? client : undefined), (m) => warnings.push(m));
  const a = probeMeasuredParams('file:///w/a.npas', 1, result(), AT);
  const a2 = probeMeasuredParams('file:///w/a.npas', 2, result({ seq: 64 }), AT);
  const b = probeMeasuredParams('file:///w/b.npas', 1, result(), AT);
  assert.equal(await sender.send(a), 'sent');
  assert.equal(await sender.send(a2), 'sent');
  assert.equal(await sender.send(b), 'sent');
  assert.deepEqual(client.sent, [a, a2, b]);
  assert.equal(sender.size, 2, 'a2 replaced a');
  client.sent.length = 0;
  assert.equal(await sender.resend(), 2);
  assert.deepEqual(client.sent, [a2, b]);

  // A closed document is forgotten (the server forgets it too).
  sender.forget('file:///w/a.npas');
  client.sent.length = 0;
  await sender.resend();
  assert.deepEqual(client.sent, [b]);

  // Not running, or the send fails: said, never thrown.
  client.running = false;
  assert.equal(await sender.send(a), 'not sent: the language server is not running');
  client.running = true;
  client.failing = true;
  assert.equal(await sender.send(a), 'not sent: connection closed');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /the measurement of TinyGPT could not be sent to the language server/);
  assert.equal(await sender.resend(), 0);
});

test('the sender keeps a bounded number, the oldest dropped first', async () => {
  const client = fakeClient();
  const sender = new ProbeMeasurementSender(() => client, () => undefined, 3);
  for (let i = 0; i < 5; i++) await sender.send(probeMeasuredParams(`file:///w/${i}.npas`, 1, result(), AT));
  assert.equal(sender.size, 3);
  client.sent.length = 0;
  await sender.resend();
  assert.deepEqual(client.sent.map((p) => p.uri), ['file:///w/2.npas', 'file:///w/3.npas', 'file:///w/4.npas']);
});
