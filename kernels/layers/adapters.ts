// Adapters on a projection, applied unmerged: y += (x·Aᵀ)·Bᵀ with the factors each method
// stores or generates, exactly the numbers the engine counts (src/core/analysis/layer-totals.ts,
// adapterCost). Shared parts are keyed like the engine's globals (`<method>@<statement>:…`, one
// initializer per statement and shape); a target's own parts by its instance path, since weight
// sharing never deduplicates an instance's adapter.
//   lora       A [r, d_in], B [d_out, r] per target.
//   tied_lora  A, B shared per (d_in, d_out); u [r], v [d_out] per target: ΔW = diag(v)·B·diag(u)·A.
//   aslora     A [r, d_in] shared per d_in; a bank of g B's [g, d_out, r] per d_out; the targets of
//              a width take the groups in turn (target i → group i mod g), in graph order.
//   vblora     A and Bᵀ mixed from a vector bank (kernels/generated/vector-bank.ts).
//   mos        A and Bᵀ concatenated from shard pools (kernels/generated/shards.ts).
//   delta      ΔW [d_out, d_in] per target (TAPS), per task [tasks, d_out, d_in] with task 0's run.
// Polytropon inventories and sparse masks (FISH) are refused: their positions are no parameter, and a graph would need them.

import { ExportError, adapterModifiersFor, pathText, type PathStep } from '../engine-bridge.js';
import { generationState, source, tally } from '../generated/state.js';
import { shardFactors } from '../generated/shards.js';
import { vectorBankFactors } from '../generated/vector-bank.js';
import type { EmitContext } from './context.js';

const T = { transB: { kind: 'int' as const, value: 1 } };

/** y plus the adapters the spec puts on weight `name` of the layer at `steps` (x: its input [T, d_in]). */
export function withAdapters(ctx: EmitContext, steps: readonly PathStep[], name: string, x: string, y: string, dIn: number, dOut: number): string {
  const g = ctx.g;
  const where = `${pathText(steps)}.${name}`;
  for (const [i, m] of adapterModifiersFor(ctx.model, steps, name).entries()) {
    if (m.effect.kind !== 'adapter') continue;
    const method = m.effect.method;
    if (method.kind === 'poly') throw new ExportError(`${where}: Polytropon inventories (poly(…)) are not supported by the ONNX exporter yet`);
    if (method.kind === 'hyper') throw new ExportError(`${where}: hypernetwork-generated adapters (hyper(…)) are not supported by the ONNX exporter yet`);
    if (method.kind === 'sparse') throw new ExportError(`${where}: sparse masks (sparse(elements: …)) are not supported by the ONNX exporter yet`);
    const tasks = m.effect.tasks;
    if (method.kind === 'delta') {
      // Merged or not, the graph adds x·ΔWᵀ to y: the same function, with ΔW as its own initializer.
      const key = `${where}.delta${i === 0 ? '' : i}`;
      const perTask = tasks > 1 ? g.weight(key, [tasks, dOut, dIn], 0.01) : undefined;
      const dw = perTask
        ? g.op('Reshape', [g.op('Gather', [perTask.name, g.ints([0])], { axis: { kind: 'int', value: 0 } }), g.ints([dOut, dIn])], undefined, { hint: `${name}_task0` })
        : g.weight(key, [dOut, dIn], 0.01).name;
      y = g.op('Add', [y, g.op('Gemm', [x, dw], T, { hint: `${name}_delta` })]);
      continue;
    }
    const r = method.rank;
    const statement = `${method.kind}@${m.range.start}`;
    const key = `${where}.${method.kind === 'lora' ? 'lora' : method.kind}${i === 0 ? '' : i}`;
    if (tasks > 1 && method.kind !== 'lora') throw new ExportError(`${where}: per-task ${method.kind} adapters (tasks: ${tasks}) are not supported by the ONNX exporter; per-task lora is`);
    let delta: string;
    switch (method.kind) {
      case 'lora': {
        if (tasks > 1) {
          // Every task's A and B are stored ([tasks, r, d_in], [tasks, d_out, r]); the graph runs task 0's.
          const a = g.weight(`${key}_a`, [tasks, r, dIn], Math.sqrt(3 / dIn));
          const b = g.weight(`${key}_b`, [tasks, dOut, r], 0.01);
          const first = (w: string, shape: readonly number[]): string => g.op('Reshape', [g.op('Gather', [w, g.ints([0])], { axis: { kind: 'int', value: 0 } }), g.ints(shape)], undefined, { hint: `${name}_task0` });
          delta = g.op('Gemm', [g.op('Gemm', [x, first(a.name, [r, dIn])], T, { hint: `${name}_lora_a` }), first(b.name, [dOut, r])], T, { hint: `${name}_lora_b` });
          break;
        }
        const a = g.weight(`${key}_a`, [r, dIn], Math.sqrt(3 / dIn));
        const b = g.weight(`${key}_b`, [dOut, r], 0.01);
        delta = g.op('Gemm', [g.op('Gemm', [x, a.name], T, { hint: `${name}_lora_a` }), b.name], T, { hint: `${name}_lora_b` });
        break;
      }
      case 'tied_lora': {
        const a = g.weight(`${statement}:A:${dIn}x${dOut}`, [r, dIn], Math.sqrt(3 / dIn));
        const b = g.weight(`${statement}:B:${dIn}x${dOut}`, [dOut, r], 0.01);
        const u = g.weight(`${key}_u`, [r], 0.1, 1);
        const v = g.weight(`${key}_v`, [dOut], 0.1, 1);
        const low = g.op('Mul', [g.op('Gemm', [x, a.name], T, { hint: `${name}_tied_a` }), u.name], undefined, { hint: `${name}_tied_u` });
        delta = g.op('Mul', [g.op('Gemm', [low, b.name], T, { hint: `${name}_tied_b` }), v.name], undefined, { hint: `${name}_tied_v` });
        break;
      }
      case 'aslora': {
        const a = g.weight(`${statement}:A:${dIn}`, [r, dIn], Math.sqrt(3 / dIn));
        const bank = g.weight(`${statement}:B:${dOut}`, [method.groups, dOut, r], 0.01);
        const cursors = generationState(g).cursors;
        const turn = cursors.get(bank.name) ?? 0;
        cursors.set(bank.name, turn + 1);
        // Selecting the group's B is a generation step (a gather ORT folds when materialised).
        const b = g.op('Gather', [source(ctx, bank.name), g.ints([turn % method.groups], true)], { axis: { kind: 'int', value: 0 } }, { hint: `${name}_aslora_b` }); // [d_out, r]
        tally(ctx, 0n);
        delta = g.op('Gemm', [g.op('Gemm', [x, a.name], T, { hint: `${name}_aslora_a` }), b], T, { hint: `${name}_aslora` });
        break;
      }
      case 'vblora': {
        const f = vectorBankFactors(ctx, { statement: m.range.start, rank: r, vectors: method.vectors, length: method.length, topK: method.topK }, key, dIn, dOut);
        delta = g.op('MatMul', [g.op('Gemm', [x, f.a], T, { hint: `${name}_vb_a` }), f.bT], undefined, { hint: `${name}_vblora` });
        break;
      }
      case 'mos': {
        const f = shardFactors(ctx, where, { statement: m.range.start, rank: r, shards: method.shards, pool: method.pool, privateShards: method.privateShards }, key, dIn, dOut);
        delta = g.op('MatMul', [g.op('Gemm', [x, f.a], T, { hint: `${name}_mos_a` }), f.bT], undefined, { hint: `${name}_mos` });
        break;
      }
    }
    y = g.op('Add', [y, delta]);
  }
  return y;
}
