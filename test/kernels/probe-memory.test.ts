// The probe's host-memory pre-check (kernels/probe-memory.ts): the estimate is the engine's bytes
// at the probe's settings (2 × weights + 2 × KV + activations); a model past the available memory
// is refused before any weight is drawn, through the probe host (error kind 'memory', CLI exit 5),
// and --ignore-memory / ignoreMemory skips the check.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../src/core/index.js';
import { memoryRefusal, probeMemoryEstimate } from '../../kernels/probe-memory.js';
import { runProbe } from '../../kernels/probe-client.js';

const root = join(__dirname, '..', '..');
const DEEPSEEK = readFileSync(join(root, 'examples', 'deepseek-v2.npas'), 'utf8');
const GiB = 2 ** 30;

test('the estimate is the engine\'s weights and KV twice plus its activations', () => {
  const report = analyze(DEEPSEEK, { seq: 32, batch: 1, dtype: 'fp32' }).models.find((m) => m.name === 'DeepSeekV2Lite')!;
  const e = probeMemoryEstimate(report);
  assert.equal(e.weights, 15_706_484_224 * 4);
  assert.equal(e.kvCache, Number(report.memory.kvCacheBytes));
  assert.equal(e.need, 2 * e.weights + 2 * e.kvCache + Number(report.memory.activationBytes));
  const msg = memoryRefusal('DeepSeekV2Lite', 'fp32', e, { available: 24 * GiB, total: 32 * GiB });
  assert.match(msg ?? '', /^DeepSeekV2Lite needs about 117\.\d GiB of host memory to probe at fp32 \(weights 58\.5 GiB held twice/);
  assert.match(msg ?? '', /24\.0 GiB is available \(32\.0 GiB total\).*--ignore-memory/);
  // fp16 is suggested only where half the bytes would fit.
  assert.doesNotMatch(msg ?? '', /fp16/);
  assert.match(memoryRefusal('M', 'fp32', e, { available: 60 * GiB, total: 64 * GiB }) ?? '', /or at fp16/);
  assert.equal(memoryRefusal('M', 'fp32', e, { available: 200 * GiB, total: 256 * GiB }), undefined);
});

test('the probe host refuses DeepSeek-V2 (236B) up front with a memory error, drawing nothing', async () => {
  const t0 = Date.now();
  const out = await runProbe({ specText: DEEPSEEK, model: 'DeepSeekV2', ep: 'cpu', batch: 1, seq: 32, dtype: 'fp32' }, { hostPath: join(root, 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(!out.ok);
  if (!out.ok) {
    assert.equal(out.kind, 'memory');
    assert.match(out.message, /^DeepSeekV2 needs about 1757\.\d GiB of host memory to probe at fp32/);
  }
  assert.ok(Date.now() - t0 < 30_000, 'refused before exporting');
});

test('npas export-onnx refuses a model past the machine\'s memory before drawing a weight (exit 5), as the probe does', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const { exportMemoryEstimate, exportMemoryRefusal } = await import('../../kernels/probe-memory.js');
  // 4 × Linear(65,536, 65,536): 4 · 2^32 = 17,179,869,184 params, 64 GiB at fp32 (drawn once, streamed to disk).
  const spec = 'model Big { body = Linear(65536, 65536) * 4 }\n';
  const report = analyze(spec, { dtype: 'fp32' }).models[0]!;
  const e = exportMemoryEstimate(report, false);
  assert.equal(e.need, 4 * 2 ** 32 * 4);
  assert.match(exportMemoryRefusal('Big', 'fp32', e, { available: 16 * GiB, total: 32 * GiB }) ?? '', /^Big needs about 64\.0 GiB of host memory to export at fp32 \(synthetic weights 64\.0 GiB\), but 16\.0 GiB is available/);
  assert.equal(exportMemoryRefusal('Big', 'fp32', e, { available: 80 * GiB, total: 96 * GiB }), undefined);
  // Through the CLI, against this machine: 10^14 params (400 TB) fit nowhere.
  let stderr = '';
  const written: string[] = [];
  const io = { stdout: () => {}, stderr: (t: string) => void (stderr += t), readFile: () => 'model Huge { body = Linear(1_000_000, 1_000_000) * 100 }\n', writeFile: (p: string) => void written.push(p) };
  const t0 = performance.now();
  assert.equal(await mainAsync(['export-onnx', 'huge.npas', '--model', 'Huge', '-o', '/tmp/never-written.onnx'], io), 5, stderr);
  assert.match(stderr, /export-onnx: Huge needs about 372529\.0 GiB of host memory to export at fp32/);
  assert.deepEqual(written, []);
  assert.ok(performance.now() - t0 < 5000);
});
