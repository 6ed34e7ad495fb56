// Tasks as a dimension of a model: adapters with `tasks: T` keep one adapter per task. Expected
// values derived by hand here: LoRA of rank r on a [d_out, d_in] matrix stores r·(d_in + d_out);
// T tasks store T of them and train T of them, while a token (of one task) runs one, so
// effective, active and FLOPs are one adapter's. Stored = task_shared + T × per_task.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type ModelReport } from '../../../src/core/index.js';
import { modelMarkdown } from '../../../src/core/service/hover.js';

function model(src: string, name: string): ModelReport {
  const r = analyze(src);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`), []);
  return r.models.find((m) => m.name === name)!;
}

// d = 32: q and v are [32, 32] (1,024 each), the MLP up [64, 32] and down [32, 64]; 4 layers.
const BASE = `
model M {
  d = 32
  block B {
    attn = Attention(d, 4)
    mlp  = MLP(d, 64, bias: false)
  }
  embed = Embedding(100, d)
  body  = B * 4
}
`;
const BASE_PARAMS = 100n * 32n + 4n * (4n * 1_024n + 2n * 2_048n);

test('tasks: T LoRA adapters are stored and trained T times, run once per token', () => {
  const src = `${BASE}
variant One of M { adapt body.attn: lora(rank: 2, targets: [q, v]) }
variant Eight of M { adapt body.attn: lora(rank: 2, targets: [q, v], tasks: 8) }
`;
  const one = model(src, 'One');
  const eight = model(src, 'Eight');
  // One adapter: 4 layers × 2 targets × 2·(32 + 32) = 1,024.
  const adapter = 4n * 2n * 2n * (32n + 32n);
  assert.equal(one.params.stored, BASE_PARAMS + adapter);
  assert.equal(eight.params.stored, BASE_PARAMS + 8n * adapter);
  assert.equal(eight.params.trainable, 8n * adapter, 'every task trains its adapter; the base stays frozen');
  assert.equal(eight.params.effective, one.params.effective);
  assert.equal(eight.params.active, one.params.active);
  assert.equal(eight.flops.decode, one.flops.decode);
  assert.deepEqual(eight.tasks, { tasks: 8, perTask: adapter, shared: BASE_PARAMS });
  assert.equal(one.tasks, undefined);
});

test('adapters without tasks are shared by every task; budgets bound per task and shared', () => {
  // A shared LoRA on the MLP (4 × 2·((32 + 64) + (64 + 32)) = 1,536) and per-task LoRA on q.
  const src = `${BASE}
variant Multi of M {
  adapt body.mlp: lora(rank: 2)
  adapt body.attn.q: lora(rank: 4, tasks: 3)
}
budget Multi {
  params.per_task <= 1024
  params.task_shared < ${BASE_PARAMS + 1_536n}
}
`;
  const r = analyze(src);
  // The second constraint is violated on purpose (strictly below what is shared).
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['npas-budget-violated']);
  const m = r.models.find((x) => x.name === 'Multi')!;
  const sharedAdapter = 4n * 2n * ((32n + 64n) + (64n + 32n));
  const perTask = 4n * 4n * (32n + 32n); // 1,024
  assert.equal(m.params.stored, BASE_PARAMS + sharedAdapter + 3n * perTask);
  assert.deepEqual(m.tasks, { tasks: 3, perTask, shared: BASE_PARAMS + sharedAdapter });
  assert.deepEqual(m.budgets.map((b) => [b.metric, b.ok, b.value]), [
    ['params.per_task', true, '1024'],
    ['params.task_shared', false, String(BASE_PARAMS + sharedAdapter)],
  ]);
  assert.match(modelMarkdown(m), /\*\*Tasks\*\*: 3 — each task owns 1,024 stored params/);
});

test('per-task adapters on shared banks (tied LoRA) and on relaxed shared stacks', () => {
  // Tied-LoRA: A and B shared per shape (one [32,32] shape: 2·(32 + 32) = 128), u (2) and v (32)
  // per target: 8 targets × 34 = 272. Per task: 128 + 272 = 400.
  const tied = model(`${BASE}\nvariant T of M { adapt body.attn: tied_lora(rank: 2, targets: [q, v], tasks: 5) }`, 'T');
  assert.deepEqual(tied.tasks, { tasks: 5, perTask: 400n, shared: BASE_PARAMS });
  assert.equal(tied.params.stored, BASE_PARAMS + 5n * 400n);
  // share body: all relax lora(rank: 1, tasks: 2): one stored block, a relaxation per instance and
  // task on every matrix: 4 instances × (4·(32 + 32) + (32 + 64) + (64 + 32)) = 1,792 per task.
  const relaxed = model(`${BASE}\nvariant R of M { share body: all relax lora(rank: 1, tasks: 2) }`, 'R');
  const block = 4n * 1_024n + 2n * 2_048n;
  assert.deepEqual(relaxed.tasks, { tasks: 2, perTask: 1_792n, shared: 100n * 32n + block });
});

test('one number of tasks per model, a positive integer: npas-adapter otherwise', () => {
  const codes = (stmts: string): string[] => analyze(`${BASE}\nvariant V of M {\n${stmts}\n}`).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
  assert.deepEqual(codes('adapt body.attn.q: lora(rank: 2, tasks: 4)\nadapt body.attn.v: lora(rank: 2, tasks: 3)'), ['npas-adapter']);
  assert.deepEqual(codes('adapt body.attn.q: lora(rank: 2, tasks: 0)'), ['npas-adapter']);
  assert.deepEqual(codes('adapt body.attn.q: lora(rank: 2, tasks: 4)\nadapt body.attn.v: lora(rank: 2, tasks: 4)'), []);
});
