// TAPS on convolutions in the ONNX export (kernels/layers/adapters.ts, kernelWithDeltas): a merged
// full-rank delta on a Conv2d stores ΔW of the kernel's shape — per task [T, c_out, c_in/g, k, k],
// or one row per owning task with for_tasks — and the graph convolves with W + ΔW of task 0, one
// Conv. Checked against a plain model whose kernel holds W + ΔW, and the gallery's TAPS example
// (its CPU-sized twin TAPSSmall) exported and probed with initializer elements = params.stored.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { runProbe } from '../../kernels/probe-client.js';
import { idRows, runChecked } from './helpers.js';
import { modelReport } from '../fixtures/model-report.js';

const SPEC = `
model M {
  c1   = Conv2d(3, 4, 3, padding: 1, bias: false, size: 6)
  a1   = Activation(relu)
  c2   = Conv2d(4, 6, 3, stride: 2, padding: 1, size: 6)
  pool = GlobalPool(avg)
  fc   = Linear(6, 5)
}
variant Tasks of M { adapt c2: delta(tasks: 3, for_tasks: [0, 2], merged: true) }
variant NotZero of M { adapt c1: delta(tasks: 3, for_tasks: [1], merged: true) }
`;
const rows = [[1, 7, 3, 9, 2, 8], [4, 4, 6, 0, 5, 11]];

test('a merged delta on a convolution kernel (TAPS): the owners\' ΔW stored, task 0\'s added to W; initializers = params.stored', async () => {
  const base = exportModel(SPEC, 'M');
  const tasks = exportModel(SPEC, 'Tasks');
  assert.equal(tasks.initializerElements, tasks.storedParams);
  // c2's kernel [6, 4, 3, 3] = 216 per owning task, two owners.
  assert.equal(tasks.storedParams - base.storedParams, 2n * 216n);
  // The twin: c2's kernel filled with W + ΔW (the defaults of both keys, row 0 of the stack).
  const kernelPlusDelta: WeightFill = (key, shape, dtype, scale, offset) => {
    if (key.endsWith('c2.weight')) {
      const w = new Float32Array(defaultFill(key, shape, dtype, scale, offset).buffer.slice(0));
      const stacked = new Float32Array(defaultFill('c2.weight.delta', [2, ...shape], dtype, 0.01, 0).buffer);
      return new Uint8Array(w.map((v, i) => v + stacked[i]!).buffer);
    }
    return defaultFill(key, shape, dtype, scale, offset);
  };
  const twin = exportModel(SPEC, 'M', { fill: kernelPlusDelta });
  const [a, b] = [await runChecked(tasks, { input_ids: idRows(rows) }), await runChecked(twin, { input_ids: idRows(rows) })];
  assert.deepEqual(Array.from(a).map((v) => v.toFixed(4)), Array.from(b).map((v) => v.toFixed(4)));
  assert.notDeepEqual(Array.from(a).map((v) => v.toFixed(4)), Array.from(await runChecked(base, { input_ids: idRows(rows) })).map((v) => v.toFixed(4)));
  // Task 0 owns no delta in NotZero: stored, and the graph is the base's.
  const none = exportModel(SPEC, 'NotZero');
  assert.equal(none.initializerElements, none.storedParams);
  assert.equal(none.storedParams - base.storedParams, 4n * 3n * 9n);
  assert.deepEqual(Array.from(await runChecked(none, { input_ids: idRows(rows) })), Array.from(await runChecked(base, { input_ids: idRows(rows) })));
});

test('examples/taps.npas TAPSSmall: exported and probed on CPU with initializer elements = params.stored (shared + each task\'s own)', async () => {
  const text = readFileSync(join(process.cwd(), 'examples', 'taps.npas'), 'utf8');
  const small = modelReport(text, 'TAPSSmall');
  // base 8: stage 4 of width 64 reading 128; each task's own, from the kernels' shapes.
  const block = (cIn: bigint, w: bigint) => cIn * w + 9n * w * w + 4n * w * w;
  const lastBlock = block(256n, 64n);
  const stage4 = block(128n, 64n) + 128n * 256n + 2n * lastBlock;
  assert.deepEqual(small.tasks!.byTask, [lastBlock, lastBlock, lastBlock, lastBlock + 32n * 128n, stage4]);
  const out = await runProbe({ specText: text, model: 'TAPSSmall', ep: 'cpu', batch: 2, seq: 8, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(process.cwd(), 'kernels', 'probe-host.ts'), timeoutMs: 120_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  assert.equal(out.result.storedParams, String(small.params.stored));
  assert.equal(out.result.initializerElements, out.result.storedParams);
  assert.equal(BigInt(out.result.storedParams), small.tasks!.shared + small.tasks!.byTask!.reduce((x, y) => x + y, 0n));
});
