// The probe host and its client on CPU: a real probe of a tiny model through the child process,
// the missing-provider message and the loud CPU fallback, and the failure paths the parent
// must report as such — a child that hangs (timeout, cancellation) or dies (abort, exit code).
// The CLI commands are checked in-process through mainAsync.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { runProbe, hostInfo } from '../../kernels/probe-client.js';
import { mainAsync } from '../../src/cli/main.js';
import type { ProbeParams, ProbeRequest, ProbeResult } from '../../src/protocol/kernel-rpc.js';
import { CapturedIo } from '../cli/captured-io.js';

const root = join(__dirname, '..', '..');
const host = join(root, 'kernels', 'probe-host.ts');
const fixture = (name: string): string => join(__dirname, 'fixtures', name);

const SPEC = `
model Tiny {
  vocab = 64
  d = 32
  block Decoder {
    attn_norm = RMSNorm(d)
    attn      = Attention(d, 4, kv_heads: 2)
    mlp_norm  = RMSNorm(d)
    mlp       = GatedMLP(d, 64)
  }
  embed   = Embedding(vocab, d)
  body    = Decoder * 4
  norm    = RMSNorm(d)
  lm_head = Linear(d, vocab) tied embed
}
variant Looped of Tiny { share body: cycle(2) }
`;

const params = (over: Partial<ProbeParams> = {}): ProbeParams => ({ specText: SPEC, model: 'Looped', ep: 'cpu', batch: 2, seq: 16, dtype: 'fp32', runs: 3, warmup: 1, ...over });

test('a CPU probe measures the model beside the roofline and says what it did not measure', async () => {
  const stages: string[] = [];
  const out = await runProbe(params({ profile: true }), { hostPath: host, timeoutMs: 60_000, onProgress: (p) => stages.push(p.stage) });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  assert.equal(r.provider, 'cpu');
  assert.equal(r.fallback, undefined);
  assert.equal(r.initializerElements, r.storedParams);
  assert.ok(r.sessionCreateMs > 0 && r.prefill.medianMs > 0 && r.prefill.minMs <= r.prefill.medianMs);
  assert.equal(r.prefill.runs, 3);
  assert.ok(BigInt(r.prefill.flops) > 0n && r.prefill.achievedFlopsPerSecond > 0 && r.prefill.achievedBytesPerSecond > 0);
  assert.equal(r.prefill.roofline.device, 'CPU');
  assert.ok(r.prefill.roofline.seconds > 0 && r.prefill.efficiency > 0);
  assert.ok(!('unavailable' in r.decode), 'the decode step is measured');
  if (!('unavailable' in r.decode)) {
    assert.ok(r.decode.medianMs > 0 && r.decode.roofline.seconds > 0);
    // The cache the decode graph holds is the engine's KV cache: 4 layers · 2 · kv_heads 2 · head_dim 8 · seq 16 · batch 2.
    assert.equal(r.decode.kvCacheElements, String(4 * 2 * 2 * 8 * 16 * 2));
  }
  assert.equal(r.placement.source, 'profile');
  assert.ok((r.placement.nodesByProvider.CPUExecutionProvider ?? 0) > 0);
  assert.deepEqual([...new Set(stages)], ['export', 'session', 'warmup', 'measure', 'profile']);
});

test('a model past the external-data threshold is probed from a file with external data', async () => {
  process.env.NPAS_PROBE_EXTERNAL_THRESHOLD = '4096';
  try {
    const out = await runProbe(params({ runs: 2 }), { hostPath: host, timeoutMs: 60_000 });
    assert.ok(out.ok, out.ok ? '' : out.message);
    assert.equal(out.result.export.externalData, true);
    assert.ok(!('unavailable' in out.result.decode));
  } finally {
    delete process.env.NPAS_PROBE_EXTERNAL_THRESHOLD;
  }
});

test('host info lists the CPU provider and the runtime folder', async () => {
  const out = await hostInfo({ hostPath: host, timeoutMs: 30_000 });
  assert.ok(out.ok);
  assert.equal(out.result.ortVersion, '1.29.0');
  assert.ok(out.result.providers.includes('cpu'));
});

test('a missing CUDA provider is an error that says how to install one; --fallback runs on CPU, loudly', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'npas-providers-'));
  try {
    const missing = await runProbe(params({ ep: 'cuda', dtype: 'fp32' }), { hostPath: host, providerPath: empty, timeoutMs: 60_000 });
    assert.ok(!missing.ok);
    assert.equal(missing.kind, 'provider-missing');
    assert.match(missing.message, /ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install/);
    assert.match(missing.message, /npas\.probe\.providerPath/);
    const fallback = await runProbe(params({ ep: 'cuda', allowCpuFallback: true }), { hostPath: host, providerPath: empty, timeoutMs: 60_000 });
    assert.ok(fallback.ok);
    assert.equal(fallback.result.requestedProvider, 'cuda');
    assert.equal(fallback.result.provider, 'cpu');
    assert.match(fallback.result.fallback ?? '', /^CPU FALLBACK/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
  const nowhere = await runProbe(params({ ep: 'cuda' }), { hostPath: host, providerPath: join(tmpdir(), 'npas-no-such-folder'), timeoutMs: 10_000 });
  assert.ok(!nowhere.ok && nowhere.kind === 'provider-missing' && /does not exist/.test(nowhere.message));
});

test('spec problems come back as spec errors, not crashes', async () => {
  const out = await runProbe(params({ model: 'Nope' }), { hostPath: host, timeoutMs: 30_000 });
  assert.ok(!out.ok && out.kind === 'spec' && /no model or variant named 'Nope'/.test(out.message));
  const long = await runProbe({ ...params(), specText: 'model P { e = Embedding(10, 8)\n p = PositionEmbedding(8, 8) }', model: 'P', seq: 16 }, { hostPath: host, timeoutMs: 30_000 });
  assert.ok(!long.ok && long.kind === 'spec' && /position table/.test(long.message));
  // An encoder has no decode step: measured prefill, decode reported unavailable with the reason.
  const enc = await runProbe({ ...params(), specText: 'model E { e = Embedding(10, 8)\n a = Attention(8, 2, causal: false) }', model: 'E', seq: 4 }, { hostPath: host, timeoutMs: 30_000 });
  assert.ok(enc.ok && 'unavailable' in enc.result.decode && /bidirectional/.test(enc.result.decode.unavailable));
});

test('a hung child is killed at the deadline and reported as a timeout', async () => {
  const t = Date.now();
  const out = await runProbe(params(), { hostPath: fixture('hang-host.js'), timeoutMs: 400 });
  assert.ok(!out.ok && out.kind === 'timeout', JSON.stringify(out));
  assert.match(out.message, /killed/);
  assert.ok(Date.now() - t < 5000);
});

test('cancellation kills the child and is reported as cancelled', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const out = await runProbe(params(), { hostPath: fixture('hang-host.js'), timeoutMs: 30_000, signal: controller.signal });
  assert.ok(!out.ok && out.kind === 'cancelled');
});

test('a child that aborts (native crash) or exits without answering is reported as a crash', async () => {
  const aborted = await runProbe(params(), { hostPath: fixture('abort-host.js'), timeoutMs: 30_000 });
  assert.ok(!aborted.ok && aborted.kind === 'crash', JSON.stringify(aborted));
  assert.match(aborted.message, /SIGABRT/);
  assert.match(aborted.message, /simulated native crash/);
  const exited = await runProbe(params(), { hostPath: fixture('exit-host.js'), timeoutMs: 30_000 });
  assert.ok(!exited.ok && exited.kind === 'crash' && /exited with code 3/.test(exited.message));
});

test('npas export-onnx and npas probe from the command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-cli-onnx-'));
  try {
    const spec = join(dir, 'tiny.npas');
    writeFileSync(spec, SPEC);
    const io = new CapturedIo((p: string) => (p === spec ? SPEC : ''));
    const out = join(dir, 'looped.onnx');
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'Looped', '-o', out, '--dtype', 'fp16'], io), 0, io.err);
    assert.match(io.out, /= params\.stored/);
    const session = await ort.InferenceSession.create(out);
    await session.release();
    io.out = '';
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'Looped'], io), 2);
    assert.match(io.err, /-o OUT\.onnx is required/);

    // probe through the command, with the source host (the CLI forks it like dist/probe-host.js)
    const { runProbeCommand } = await import('../../src/cli/commands/probe.js');
    io.out = '';
    io.err = '';
    assert.equal(await runProbeCommand([spec, '--model', 'Looped', '--ep', 'cpu', '--seq', '8', '--runs', '2', '--json'], io, { hostPath: host }), 0, io.err);
    const result = JSON.parse(io.out) as { provider: string; prefill: { medianMs: number } };
    assert.equal(result.provider, 'cpu');
    // What the extension's Run GPU Probe runs: a typed ProbeRequest in a file, answered in JSON.
    const requestFile = join(dir, 'request.json');
    const request: ProbeRequest = { specPath: spec, model: 'Looped', ep: 'cpu', batch: 1, seq: 8, dtype: 'fp32', runs: 2, timeoutSeconds: 120 };
    writeFileSync(requestFile, JSON.stringify(request));
    const fileIo = { ...io, readFile: (p: string) => (p === requestFile ? JSON.stringify(request) : io.readFile(p)) };
    io.out = '';
    assert.equal(await runProbeCommand(['--request', requestFile], fileIo, { hostPath: host }), 0, io.err);
    const fromRequest = JSON.parse(io.out) as ProbeResult;
    assert.deepEqual([fromRequest.model, fromRequest.provider, fromRequest.seq, fromRequest.prefill.runs], ['Looped', 'cpu', 8, 2]);
    assert.equal(fromRequest.storedParams, fromRequest.initializerElements);
    io.out = '';
    assert.equal(await runProbeCommand([spec, '--model', 'Looped', '--ep', 'cpu', '--seq', '8', '--runs', '2'], io, { hostPath: host }), 0, io.err);
    assert.match(io.out, /prefill .* median.*roofline \(CPU\)/);
    assert.match(io.out, /decode step +[\d.]+ ms median/);
    io.err = '';
    const empty = mkdtempSync(join(dir, 'providers-'));
    assert.equal(await runProbeCommand([spec, '--model', 'Looped', '--ep', 'cuda', '--provider-path', empty], io, { hostPath: host }), 3);
    assert.match(io.err, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
