// Probe results as the editor shows them (src/extension/probe-view.ts): measured beside the
// roofline, CPU fallback framed loudly, an unmeasurable decode step stated with its reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProbeResult } from '../../src/protocol/kernel-rpc.js';
import { probeResult } from '../fixtures/probe-results.js';
import { probeLogLines, probeMarkdown, probeRows } from '../../src/extension/probe-view.js';

const result = (over: Partial<ProbeResult> = {}): ProbeResult => probeResult('cpu', over);

test('rows: prefill and decode, measured beside the roofline', () => {
  const rows = probeRows(result());
  assert.deepEqual(rows.map((r) => [r.phase, r.measuredMs, r.rooflineMs]), [
    ['prefill', 2, 0.1],
    ['decode', 0.5, 0.02],
  ]);
  const md = probeMarkdown(result(), 'tiny.npas', undefined);
  assert.match(md, /\| prefill \(1×32 tokens\) \| 2\.00 ms \| 1\.80 ms \| 0\.10 ms \| compute \| 5\.0% \|/);
  assert.match(md, /initializer elements \| 31,360 = params\.stored/);
  assert.doesNotMatch(md, /!!!/);
});

test('a CPU fallback is framed loudly; a CPU provider choice is stated', () => {
  const md = probeMarkdown(result({ requestedProvider: 'cuda', fallback: 'CPU FALLBACK: CUDA provider missing' }), 'tiny.npas', 'CPU provider because the setting says so');
  assert.match(md, /^> \*\*!!! CPU FALLBACK: CUDA provider missing !!!\*\*$/m);
  assert.match(md, /^> CPU provider because the setting says so$/m);
  assert.match(probeLogLines(result({ fallback: 'CPU FALLBACK: x' }))[0]!, /!!! CPU FALLBACK: x/);
});

test('an unmeasurable decode step keeps its roofline and says why', () => {
  const r = result({ decode: { unavailable: 'bidirectional attention has no decode step', roofline: { device: 'CPU', seconds: 0.001, bound: 'memory', flops: '1', bytes: '1' } } });
  const rows = probeRows(r);
  assert.equal(rows[1]!.measuredMs, null);
  assert.equal(rows[1]!.rooflineMs, 1);
  assert.match(probeMarkdown(r, 'x.npas', undefined), /\| decode \| not measured: bidirectional attention has no decode step \| \| 1\.00 ms \| memory \|/);
});
