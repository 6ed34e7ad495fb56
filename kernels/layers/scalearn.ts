// ScaLearn (`adapt PATHS: scalearn(…)`, Frohmann et al. 2023) on a target's output y [T, d]: the
// N frozen source adapters of the target, each Linear(d, r) · ReLU · Linear(r, d) with biases (a
// Pfeiffer adapter), run side by side and their outputs scaled by task 0's learned ω and summed,
//   y += Σ_n ω_n ⊙ (W_u,n · relu(W_d,n · y + b_d,n) + b_u,n)
// as CPJKU/ScaLearn's layer.py (scalearn: the adapters' up outputs stacked) and modeling.py
// (ScaLearn / ScaLearnPlusPlus: omegas * up_list, summed over the adapters, plus the residual).
// Stores, exactly what the engine counts (src/core/analysis/layer-totals.ts, scalearnCost): the
// sources per target, down [N, r, d], down bias [N, r], up [N, d, r], up bias [N, d]; ω per task,
// [tasks, N, d] (scaling: vector) or [tasks, N, 1] (scalar), at the target, or with `shared`
// once per statement and width (`scalearn@<statement>:omega:<d>`, read by every layer: ScaLearn++).

import type { Modifier } from '../engine-bridge.js';
import type { EmitContext } from './context.js';
import { taskZeroRow } from './task-rows.js';
import { attr } from '../onnx-writer.js';

/** y plus the ScaLearn combination modifier `m` puts on the target stored under `key`. */
export function scalearnAdapter(ctx: EmitContext, m: Modifier, key: string, name: string, y: string, d: number): string {
  if (m.effect.kind !== 'adapter' || m.effect.method.kind !== 'scalearn') throw new Error('scalearnAdapter: not a scalearn modifier');
  const { sources: n, bottleneck: r, scaling, shared } = m.effect.method;
  const tasks = m.effect.tasks;
  const g = ctx.g;
  const downW = g.weight(`${key}_down`, [n, r, d], Math.sqrt(3 / d)).name;
  const downB = g.weight(`${key}_down_bias`, [n, r], 0.02).name;
  const upW = g.weight(`${key}_up`, [n, d, r], Math.sqrt(3 / r) * 0.1).name;
  const upB = g.weight(`${key}_up_bias`, [n, d], 0.02).name;
  const width = scaling === 'vector' ? d : 1;
  // ω around 1/N as the reference initialises it (omega_init_type avg: scale / N, std 0.001).
  const omega = g.weight(shared ? `scalearn@${m.range.start}:omega:${d}` : `${key}_omega`, [tasks, n, width], 0.001, 1 / n).name;
  // Every source's down projection at once: [T, d] · [N·r, d]ᵀ → [T, N·r].
  const down = g.op('Gemm', [y, g.op('Reshape', [downW, g.ints([n * r, d])]), g.op('Reshape', [downB, g.ints([n * r])])], { transB: attr.int(1) }, { hint: `${name}_scalearn_down` });
  // [T, N·r] → [N, T, r], then each source's up projection: [N, T, r] · [N, r, d] → [N, T, d].
  const hidden = g.op('Transpose', [g.op('Reshape', [g.op('Relu', [down]), g.ints([0, n, r])])], { perm: attr.ints([1, 0, 2]) });
  const up = g.op('Add', [g.op('MatMul', [hidden, g.op('Transpose', [upW], { perm: attr.ints([0, 2, 1]) })]), g.op('Reshape', [upB, g.ints([n, 1, d])])], undefined, { hint: `${name}_scalearn_up` });
  // Task 0's ω [N, 1, width], broadcast over the tokens (and over d when scalar).
  const scales = taskZeroRow(g, omega, [n, 1, width], `${name}_scalearn_task0`);
  const mixed = g.op('ReduceSum', [g.op('Mul', [up, scales]), g.ints([0])], { keepdims: attr.int(0) }, { hint: `${name}_scalearn_sum` });
  return g.op('Add', [y, mixed], undefined, { hint: `${name}_scalearn` });
}
