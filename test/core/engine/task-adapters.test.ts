// Tasks as a dimension of a model: adapters with `tasks: T` keep one adapter per task. Expected
// values derived by hand here: LoRA of rank r on a [d_out, d_in] matrix stores r·(d_in + d_out);
// T tasks store T of them and train T of them, while a token (of one task) runs one, so
// effective, active and FLOPs are one adapter's. Stored = task_shared + T × per_task.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { modelReport } from '../../fixtures/model-report.js';
import { modelMarkdown } from '../../../src/core/service/hover.js';


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
  const one = modelReport(src, 'One');
  const eight = modelReport(src, 'Eight');
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
  const tied = modelReport(`${BASE}\nvariant T of M { adapt body.attn: tied_lora(rank: 2, targets: [q, v], tasks: 5) }`, 'T');
  assert.deepEqual(tied.tasks, { tasks: 5, perTask: 400n, shared: BASE_PARAMS });
  assert.equal(tied.params.stored, BASE_PARAMS + 5n * 400n);
  // share body: all relax lora(rank: 1, tasks: 2): one stored block, a relaxation per instance and
  // task on every matrix: 4 instances × (4·(32 + 32) + (32 + 64) + (64 + 32)) = 1,792 per task.
  const relaxed = modelReport(`${BASE}\nvariant R of M { share body: all relax lora(rank: 1, tasks: 2) }`, 'R');
  const block = 4n * 1_024n + 2n * 2_048n;
  assert.deepEqual(relaxed.tasks, { tasks: 2, perTask: 1_792n, shared: 100n * 32n + block });
});

test('one number of tasks per model, a positive integer: npas-adapter otherwise', () => {
  const codes = (stmts: string): string[] => analyze(`${BASE}\nvariant V of M {\n${stmts}\n}`).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
  assert.deepEqual(codes('adapt body.attn.q: lora(rank: 2, tasks: 4)\nadapt body.attn.v: lora(rank: 2, tasks: 3)'), ['npas-adapter']);
  assert.deepEqual(codes('adapt body.attn.q: lora(rank: 2, tasks: 0)'), ['npas-adapter']);
  assert.deepEqual(codes('adapt body.attn.q: lora(rank: 2, tasks: 4)\nadapt body.attn.v: lora(rank: 2, tasks: 4)'), []);
});

// TAPS (Wallingford et al., "Task Adaptive Parameter Sharing for Multi-Task Learning", CVPR
// 2022): a task keeps its own ΔW on the layers it adapts, W + ΔW; `delta` is that residual, of
// the weight's shape. FISH masks (Sung et al., "Training Neural Networks with Fixed Sparse
// Masks", NeurIPS 2021): k chosen entries of a weight train, the rest stay frozen; `sparse`
// stores k new values per target (the mask's positions are fixed, not parameters).
const MLP_BASE = `
model M {
  d = 32
  block B {
    norm = RMSNorm(d)
    mlp  = MLP(d, 64, bias: false)
  }
  embed = Embedding(100, d)
  body  = B * 4
}
`;
// Per layer: norm 32, up [64, 32] 2,048, down [32, 64] 2,048; embedding 3,200.
const MLP_PARAMS = 3_200n + 4n * (32n + 4_096n);

test('TAPS: a full-rank delta per task on the layers each task adapts', () => {
  const src = `${MLP_BASE}
variant Taps of M { adapt body[1].mlp, body[3].mlp: delta(tasks: 5, merged: true) }
variant Live of M { adapt body[1].mlp.up: delta }
`;
  const taps = modelReport(src, 'Taps');
  // Two layers × (2,048 + 2,048) per task, five tasks.
  const perTask = 2n * 4_096n;
  assert.equal(taps.params.stored, MLP_PARAMS + 5n * perTask);
  assert.equal(taps.params.trainable, 5n * perTask, 'the base stays frozen');
  assert.equal(taps.params.effective, MLP_PARAMS + perTask, 'a token applies its task\'s delta');
  assert.deepEqual(taps.tasks, { tasks: 5, perTask, shared: MLP_PARAMS });
  // Merged: W + ΔW is one matmul, decode FLOPs as the base's: per layer 2·(2,048 + 2,048).
  assert.equal(taps.flops.decode, 4n * 2n * 4_096n);
  // Unmerged, ΔW runs beside W: 2·2,048 more FLOPs per token.
  assert.equal(modelReport(src, 'Live').flops.decode, 4n * 2n * 4_096n + 2n * 2_048n);
});

test('TAPS per-task layer subsets: for_tasks names which tasks own a delta; each task its own layers', () => {
  // Three tasks over the 4-layer MLP model (up [64, 32] and down [32, 64]: 4,096 per layer's MLP).
  // Task 0 adapts layers 1 and 3, task 1 layer 3 alone, task 2 layers 0 and 3's up only, and every
  // task the down projection of layer 2 (no for_tasks: all three own one).
  const src = `${MLP_BASE}
variant Taps of M {
  adapt body[1].mlp, body[3].mlp: delta(tasks: 3, for_tasks: [0], merged: true)
  adapt body[3].mlp: delta(tasks: 3, for_tasks: [2, 1], merged: true)
  adapt body[0].mlp.up: delta(tasks: 3, for_tasks: [2], merged: true)
  adapt body[2].mlp.down: delta(tasks: 3, merged: true)
}
budget Taps {
  params.per_task <= 10240
  params.per_task < 10240
}
`;
  const r = analyze(src);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['npas-budget-violated']);
  const taps = r.models.find((x) => x.name === 'Taps')!;
  const mlp = 2n * 2_048n;
  const own = [2n * mlp + 2_048n, mlp + 2_048n, 2_048n + mlp + 2_048n]; // 10,240, 6,144, 8,192
  const shared = MLP_PARAMS;
  assert.equal(taps.params.stored, shared + own[0]! + own[1]! + own[2]!);
  assert.equal(taps.params.trainable, own[0]! + own[1]! + own[2]!, 'each owned delta trains; the base stays frozen');
  assert.deepEqual(taps.tasks, { tasks: 3, perTask: 10_240n, shared, byTask: own });
  // A token runs its task's deltas: effective counts one of each statement's, as for any per-task adapter.
  assert.equal(taps.params.effective, MLP_PARAMS + 2n * mlp + mlp + 2_048n + 2_048n);
  assert.deepEqual(taps.budgets.map((b) => [b.ok, b.value]), [[true, '10240'], [false, '10240']]);
  assert.match(modelMarkdown(taps), /task 0 10,240, task 1 6,144, task 2 8,192; all share /);
  // The same subsets written as every task: the uniform split, each task owning all of them.
  const all = modelReport(`${MLP_BASE}
variant Every of M { adapt body[1].mlp: delta(tasks: 3, for_tasks: [0, 1, 2], merged: true) }
`, 'Every');
  assert.deepEqual(all.tasks, { tasks: 3, perTask: mlp, shared: MLP_PARAMS, byTask: [mlp, mlp, mlp] });
  // LoRA and sparse masks take for_tasks too: task 1 alone owns a rank-2 LoRA on layer 0's up.
  const lora = modelReport(`${MLP_BASE}
variant L of M {
  adapt body[0].mlp.up: lora(rank: 2, tasks: 2, for_tasks: [1])
  adapt body[1].mlp.up: sparse(elements: 10, tasks: 2, for_tasks: [0])
}
`, 'L');
  assert.deepEqual(lora.tasks, { tasks: 2, perTask: 2n * (32n + 64n), shared: MLP_PARAMS, byTask: [10n, 2n * (32n + 64n)] });
});

test('for_tasks: located npas-adapter errors for a task out of range, twice, an empty list, no tasks, another method', () => {
  const errors = (adapt: string) =>
    analyze(`${MLP_BASE}\nvariant V of M { ${adapt} }\n`).diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.message]);
  assert.deepEqual(errors('adapt body[0].mlp: delta(tasks: 3, for_tasks: [3])'), [['npas-adapter', 'for_tasks: task 3 is not one of the 3 tasks (numbered 0 … 2)']]);
  assert.deepEqual(errors('adapt body[0].mlp: delta(tasks: 3, for_tasks: [1, 1])'), [['npas-adapter', 'for_tasks: task 1 is named twice']]);
  assert.deepEqual(errors('adapt body[0].mlp: delta(tasks: 3, for_tasks: [])'), [['npas-adapter', 'for_tasks is empty: name at least one task (leave the statement out for none)']]);
  assert.deepEqual(errors('adapt body[0].mlp: delta(for_tasks: [0])').map(([c]) => c), ['npas-adapter']);
  assert.deepEqual(errors('adapt body[0].mlp: tied_lora(rank: 2, tasks: 3, for_tasks: [0])').map(([c]) => c), ['npas-layer-unknown-arg']);
  const at = analyze(`${MLP_BASE}\nvariant V of M { adapt body[0].mlp: delta(tasks: 3, for_tasks: [0, 7]) }\n`).diagnostics.find((d) => d.code === 'npas-adapter')!;
  assert.equal(at.range.end - at.range.start, '[0, 7]'.length, 'located at the list');
});

test('FISH: k trainable entries per target weight, merged, their gradients 2·k per token', () => {
  const src = `${MLP_BASE}
variant Fish of M { adapt body.mlp: sparse(elements: 100, tasks: 3) }
`;
  const fish = modelReport(src, 'Fish');
  // 4 layers × 2 matrices × 100 entries per task, three tasks.
  const perTask = 4n * 2n * 100n;
  assert.equal(fish.params.stored, MLP_PARAMS + 3n * perTask);
  assert.equal(fish.params.trainable, 3n * perTask);
  assert.equal(fish.params.effective, MLP_PARAMS, 'merged into the weights: nothing more is applied');
  assert.equal(fish.flops.decode, 4n * 2n * 4_096n);
  assert.deepEqual(fish.tasks, { tasks: 3, perTask, shared: MLP_PARAMS });
  // Training per token: the forward (4 × 8,192), input gradients (the same again: every weight
  // operation once more) and the masked entries' gradients, 2·100 per target, not the frozen base's.
  const forward = 4n * 8_192n;
  assert.equal(fish.flops.trainPerToken, String(2n * forward + perTask * 2n));
});

test('a sparse mask larger than a target is refused at the statement', () => {
  const r = analyze(`${MLP_BASE}\nvariant V of M { adapt body.mlp: sparse(elements: 2_049) }`);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.code), ['npas-adapter']);
  assert.match(errors[0]!.message, /elements \(2049\) exceeds the 2048 elements of target 'up'/);
  assert.deepEqual(analyze(`${MLP_BASE}\nvariant V of M { adapt body.mlp: sparse(elements: 2_048) }`).diagnostics.filter((d) => d.severity === 'error'), []);
});

// Polytropon (Ponti et al., "Combining Parameter-efficient Modules for Task-level
// Generalisation", EACL 2023) as PEFT's PolyLayer writes it: per target, m skills of LoRA A
// [h, m, d_in/h, r] and B [h, m, r, d_out/h] (shared by every task) and a router of
// module_logits [T, h·m]; a token mixes its task's skills into one rank-r adapter.
test('Polytropon: the skill inventory is shared by every task, the routing logits are each task\'s', () => {
  const src = `${MLP_BASE}
variant Poly of M { adapt body.mlp: poly(rank: 2, skills: 4, splits: 2, tasks: 8) }
variant Lora of M { adapt body.mlp: lora(rank: 2) }
`;
  const poly = modelReport(src, 'Poly');
  const lora = modelReport(src, 'Lora');
  // 8 targets (up [64, 32] and down [32, 64] in 4 layers), each r·(d_in + d_out) = 2·96 = 192.
  const inventory = 8n * 4n * 192n; // m = 4 skills of A and B per target
  const perTask = 8n * 2n * 4n; // h·m = 8 logits per target
  assert.equal(poly.params.stored, MLP_PARAMS + inventory + 8n * perTask);
  assert.equal(poly.params.trainable, inventory + 8n * perTask);
  assert.deepEqual(poly.tasks, { tasks: 8, perTask, shared: MLP_PARAMS + inventory });
  // A token applies one mixed rank-2 adapter per target: effective, active and FLOPs are LoRA's.
  assert.equal(poly.params.effective, lora.params.effective);
  assert.equal(poly.params.effective, MLP_PARAMS + 8n * 192n);
  assert.equal(poly.flops.decode, lora.flops.decode);
  // splits must divide every adapted width (PEFT reshapes d_in into h blocks).
  const bad = analyze(`${MLP_BASE}\nvariant V of M { adapt body.mlp: poly(rank: 2, skills: 4, splits: 3) }`).diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(bad.map((d) => d.code), ['npas-adapter']);
  assert.match(bad[0]!.message, /divisible by splits \(3\)/);
});

// PERFT-R (Liu et al., "PERFT: Parameter-Efficient Routed Fine-Tuning for Mixture-of-Expert
// Model", 2024): beside a frozen MoE, N bottleneck PEFT experts (d → r → d) with their own router
// [N, d], top-K per token — written as a second, ungated MoE layer that alone trains.
test('PERFT-R: routed bottleneck experts beside a frozen MoE, counted as an MoE of their own', () => {
  const src = `
model M {
  d = 64
  block Dec {
    norm  = RMSNorm(d)
    moe   = MoE(d, 32, experts: 8, top_k: 2)
    perft = MoE(d, 4, experts: 4, top_k: 2, gated: false)
  }
  embed = Embedding(100, d)
  body  = Dec * 4
}
variant Perft of M {
  freeze embed, body
  train body.perft
}
`;
  const perft = modelReport(src, 'Perft');
  // Per layer: router 4·64 = 256 and 4 experts of down [4, 64] and up [64, 4], 4·512 = 2,048.
  const adapters = 4n * (256n + 4n * 512n);
  assert.equal(perft.params.trainable, adapters);
  // Per token and layer: the router 2·64·4 and two bottleneck experts 2·(2·64·4 + 2·4·64).
  const base = modelReport(src, 'M');
  assert.equal(perft.params.stored, base.params.stored);
  const frozen = 100n * 64n + 4n * (64n + 8n * 64n + 8n * 3n * 64n * 32n);
  assert.equal(perft.params.stored, frozen + adapters);
  assert.equal(perft.params.active - (100n * 64n + 4n * (64n + 8n * 64n + 2n * 3n * 64n * 32n)), 4n * (256n + 2n * 512n));
});

// HyperFormer++ (hyperformer/adapters/adapter_modeling.py, AdapterLayersOneHyperNetController),
// derived by hand on BASE: the adapted weights are attention's o [32, 32] and the MLP's down
// [32, 64], both outputting d = 32, over 4 layers: L = 4 layer and K = 2 block embeddings.
test('HyperFormer: one generator per statement, task embeddings per task, adapters generated per task, layer and target', () => {
  const src = `${BASE}
variant Hyper of M { adapt body.attn.o, body.mlp.down: hyper(bottleneck: 4, embedding: 8, hidden: 16, projected: 6, tasks: 3) }
variant Plain of M { adapt body.attn, body.mlp: hyper(bottleneck: 4, embedding: 8, hidden: 16, projected: 6, norm: false, targets: [o, down]) }
`;
  const d = 32n, r = 4n, t = 8n, h = 16n, p = 6n, L = 4n, K = 2n, T = 3n;
  const embeddings = (L + K) * t;
  const taskMlp = 3n * t * h + h + h * p + p + 2n * p; // Linear(3t, h), Linear(h, p), LayerNorm(p)
  const weightGenerators = 2n * (p * d * r + d * r); // Linear(p, d·r), twice
  const biasGenerators = p * r + r + (p * d + d); // Linear(p, r), Linear(p, d)
  const normGenerators = 2n * (p * d + d); // LayerNorm weight and bias: Linear(p, d), twice
  const generator = embeddings + taskMlp + weightGenerators + biasGenerators + normGenerators;
  const hyper = modelReport(src, 'Hyper');
  assert.equal(hyper.params.stored, BASE_PARAMS + generator + T * t);
  assert.equal(hyper.params.trainable, generator + T * t, 'the base is frozen; the generator and task embeddings train');
  assert.deepEqual(hyper.tasks, { tasks: 3, perTask: t, shared: BASE_PARAMS + generator });
  // Each of the 8 adapted outputs applies a generated d → r → d adapter with biases and a norm.
  const generated = 2n * d * r + r + d + 2n * d;
  assert.equal(hyper.params.effective, BASE_PARAMS + L * K * generated);
  const plain = modelReport(src, 'Plain');
  assert.equal(plain.params.stored, BASE_PARAMS + generator - normGenerators + t, 'one task without tasks:, no norm generators');
  assert.equal(plain.params.effective, BASE_PARAMS + L * K * (2n * d * r + r + d));
  // A decode step runs the 8 generated adapters: 2·d·r + 2·r·d FLOPs each, beside the base.
  const base = modelReport(src, 'M');
  assert.equal(hyper.flops.decode - base.flops.decode, L * K * 4n * d * r);
  // One generator emits one shape: o outputs 32, up 64.
  const mixed = analyze(`${BASE}\nvariant Mixed of M { adapt body.attn.o, body.mlp.up: hyper(bottleneck: 4) }\n`).diagnostics.filter((x) => x.code === 'npas-adapter');
  assert.equal(mixed.length, 1);
  assert.match(mixed[0]!.message, /one generator emits one adapter shape/);
  // After relax, one generator serves the shared stack's 4 instances (L = 4) and the two
  // targets of each (K = 2): the same generator as above, one task, and two unique blocks.
  const relaxed = modelReport(`${BASE}\nvariant R of M { share body: cycle(2) relax hyper(bottleneck: 4, embedding: 8, hidden: 16, projected: 6, targets: [o, down]) }\n`, 'R');
  assert.equal(relaxed.params.stored, 100n * 32n + 2n * (4n * 1_024n + 2n * 2_048n) + generator + t);
  assert.equal(relaxed.params.effective, BASE_PARAMS + L * K * generated);
});
