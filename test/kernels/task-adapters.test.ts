// Per-task adapters exported to ONNX (kernels/layers/adapters.ts): every task's LoRA factors are
// stored ([T, r, d_in], [T, d_out, r]), so initializer elements equal params.stored, and the graph
// runs task 0's; with one task the graph computes what a plain LoRA does. Per-task full-rank
// deltas (TAPS) likewise ([T, d_out, d_in]); hyper adapters store their generator once. Other per-task
// methods are refused by name. A model with both kinds is probed on CPU.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { join } from 'node:path';
import { runProbe } from '../../kernels/probe-client.js';
import { modelReport } from '../fixtures/model-report.js';
import { assertClose, runSynthetic } from './helpers.js';

const spec = (adapter: string) => `
model M {
  embed = Embedding(61, 16)
  block B {
    n = RMSNorm(16)
    a = Attention(16, 2)
  }
  body = B * 2
  head = Linear(16, 61)
}
variant V of M { adapt body.a: ${adapter} }
`;

test('per-task LoRA: every task stored, task 0 run; initializers = params.stored', async () => {
  const tasks = exportModel(spec('lora(rank: 2, targets: [q, v], tasks: 4)'), 'V');
  assert.equal(tasks.initializerElements, tasks.storedParams);
  // Task 0's factors are the first rows of the stacked initializers: a fill that gives the plain
  // LoRA's A and B those values makes the two graphs compute the same.
  const first: WeightFill = (key, shape, dtype, scale, offset) => {
    if (/\.lora_[ab]$/.test(key) && shape.length === 2) {
      const stacked = new Float32Array(defaultFill(key, [4, ...shape], dtype, scale, offset).buffer);
      return new Uint8Array(stacked.slice(0, shape[0]! * shape[1]!).buffer);
    }
    return defaultFill(key, shape, dtype, scale, offset);
  };
  const plain = exportModel(spec('lora(rank: 2, targets: [q, v])'), 'V', { fill: first });
  assertClose(await runSynthetic(tasks, 2, 5), await runSynthetic(plain, 2, 5), 1e-5);
  assert.throws(() => exportModel(spec('tied_lora(rank: 2, tasks: 4)'), 'V'), /per-task tied_lora adapters/);
  // Per-task hyper adapters export (their generator once, the task table [T, t]): hyper-adapters.test.ts.
  const hyper = exportModel(spec('hyper(bottleneck: 2, targets: [o], tasks: 4)'), 'V');
  assert.equal(hyper.initializerElements, hyper.storedParams);
});

test('per-task full-rank deltas (TAPS): every task\'s ΔW stored, task 0\'s added; initializers = params.stored', async () => {
  const tasks = exportModel(spec('delta(targets: [q, o], tasks: 3, merged: true)'), 'V');
  assert.equal(tasks.initializerElements, tasks.storedParams);
  // params.stored: the base plus 3 tasks × 2 layers × 2 targets × 16·16.
  assert.equal(tasks.storedParams - exportModel(spec('delta'), 'M').storedParams, 3n * 2n * 2n * 256n);
  const first: WeightFill = (key, shape, dtype, scale, offset) => {
    if (/\.delta$/.test(key) && shape.length === 2) {
      const stacked = new Float32Array(defaultFill(key, [3, ...shape], dtype, scale, offset).buffer);
      return new Uint8Array(stacked.slice(0, shape[0]! * shape[1]!).buffer);
    }
    return defaultFill(key, shape, dtype, scale, offset);
  };
  const single = exportModel(spec('delta(targets: [q, o])'), 'V', { fill: first });
  assert.equal(single.initializerElements, single.storedParams);
  assertClose(await runSynthetic(tasks, 2, 5), await runSynthetic(single, 2, 5), 1e-5);
});

// A model serving four tasks with both per-task adapter kinds: LoRA on the attention's q and v,
// a full-rank delta (TAPS) on the MLP's up projection.
const TWO_KINDS = `
model M {
  embed = Embedding(61, 16)
  block B {
    n = RMSNorm(16)
    a = Attention(16, 2)
    m = RMSNorm(16)
    f = MLP(16, 32)
  }
  body = B * 2
  head = Linear(16, 61)
}
variant Tasks of M {
  adapt body.a: lora(rank: 2, targets: [q, v], tasks: 4)
  adapt body.f: delta(targets: [up], tasks: 4)
}
`;

test('per-task LoRA and delta adapters: exported and probed on CPU with initializer elements = params.stored; per-task and shared counts derived by hand', async () => {
  // Each task owns, per layer: LoRA on q and v, rank 2 — 2 · 2·(16 + 16) = 128; the delta on up
  // [32, 16] — 512. Two layers: 1,280 per task; the base is what every task shares.
  const perTask = 2n * (2n * 2n * (16n + 16n) + 32n * 16n);
  assert.equal(perTask, 1_280n);
  const base = modelReport(TWO_KINDS, 'M').params.stored;
  const tasks = modelReport(TWO_KINDS, 'Tasks');
  assert.equal(tasks.params.stored, base + 4n * perTask);
  assert.deepEqual(tasks.tasks, { tasks: 4, perTask, shared: base });
  const out = await runProbe({ specText: TWO_KINDS, model: 'Tasks', ep: 'cpu', batch: 2, seq: 8, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(process.cwd(), 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  assert.equal(r.storedParams, String(base + 4n * perTask));
  assert.equal(r.initializerElements, r.storedParams);
  assert.ok(r.prefill.medianMs > 0);
  assert.ok(!('unavailable' in r.decode), 'the decode step is measured');
  // The decode step's cache is the base model's: 2 layers × 8 positions × 2·16 per sequence, batch 2.
  if (!('unavailable' in r.decode)) assert.equal(r.decode.kvCacheElements, String(2 * 2 * 8 * 2 * 16));
});

// TAPS's per-task layer subsets (`for_tasks`): each statement stores one ΔW per owning task,
// [|owners|, d_out, d_in] (the first row the lowest task's), and the graph runs task 0's — its
// delta where task 0 owns one, the base weight where it does not.
test('per-task subsets (TAPS for_tasks): only the owning tasks\' deltas stored; task 0 runs its own or the base; initializers = params.stored', async () => {
  const subsets = `${spec('delta(targets: [q], tasks: 3, for_tasks: [0, 2], merged: true)')}
variant W of M {
  adapt body[0].a: delta(targets: [q], tasks: 3, for_tasks: [0, 2], merged: true)
  adapt body[1].a: delta(targets: [o], tasks: 3, for_tasks: [1], merged: true)
}
variant Z of M { adapt body.a: delta(targets: [q], tasks: 3, for_tasks: [1, 2]) }
`;
  const base = exportModel(subsets, 'M');
  const owned = exportModel(subsets, 'W');
  assert.equal(owned.initializerElements, owned.storedParams);
  // Layer 0's q: tasks 0 and 2 (2 × 16·16); layer 1's o: task 1 (16·16).
  assert.equal(owned.storedParams - base.storedParams, 2n * 256n + 256n);
  // Task 0 owns layer 0's q alone: the graph equals a single delta there whose ΔW is the first row.
  const first: WeightFill = (key, shape, dtype, scale, offset) => {
    if (/\.delta$/.test(key) && shape.length === 2) {
      const stacked = new Float32Array(defaultFill(key, [2, ...shape], dtype, scale, offset).buffer);
      return new Uint8Array(stacked.slice(0, shape[0]! * shape[1]!).buffer);
    }
    return defaultFill(key, shape, dtype, scale, offset);
  };
  const single = exportModel(`${spec('delta')}\nvariant S of M { adapt body[0].a: delta(targets: [q]) }\n`, 'S', { fill: first });
  assertClose(await runSynthetic(owned, 2, 5), await runSynthetic(single, 2, 5), 1e-5);
  // Task 0 owns nothing in Z: 2 layers × 2 tasks × 256 stored, and the graph is the base model's.
  const none = exportModel(subsets, 'Z');
  assert.equal(none.initializerElements, none.storedParams);
  assert.equal(none.storedParams - base.storedParams, 2n * 2n * 256n);
  assertClose(await runSynthetic(none, 2, 5), await runSynthetic(base, 2, 5), 1e-6);
});
