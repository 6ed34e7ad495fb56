// PSRP (`adapt PATHS: psrp(rank: r)`), the partially shared recalibration of Moment Probing's
// MP+ (Gao et al. 2023), on a target's output y [T, d], recomputed per token from the residual
// stream x [T, d] of the branch the target runs in (layers/branch-input.ts):
//   y ↦ up_bias(relu(down(x))) + (1 + up_weight(relu(down(x)))) ⊙ y
// as mingzeG/Moment-Probing@0ddc040 models/representation/PSRP.py (down Linear(d, r),
// up_weight and up_bias Linear(r, d), all bias-free; forward runs relu(down(x)) once per up
// projection, and so does the graph: 4·d·r multiply-adds a token, the engine's 8·d·r FLOPs) and
// models/vision_transformer.py, Block.forward with tuning_mode 'psrp' (x: the stream after the
// attention's residual add, before norm2; y: the MLP's output, fc2 and its bias — `adapt
// body.mlp.down` — before the residual add). Stores, exactly what the engine counts
// (src/core/analysis/layer-totals.ts, psrp): per target `<key>_down` [r, d], `<key>_up_weight`
// and `<key>_up_bias` [d, r]; with `tasks: T` each [T, …], task 0's run.
// The reference defines PSRP on a block's sub-layer only: a target outside a residual branch,
// or whose output is not as wide as the stream (the engine counts down as [r, d_out]), is refused.

import { ExportError, type Modifier } from '../engine-bridge.js';
import { attr } from '../onnx-writer.js';
import type { BranchInput } from './branch-input.js';
import type { EmitContext } from './context.js';
import { taskStore } from './task-rows.js';

const T = { transB: attr.int(1) };

/** y with the PSRP recalibration modifier `m` puts on the target `where` (stores under `key`), reading the branch's stream. */
export function psrpAdapter(ctx: EmitContext, m: Modifier, where: string, key: string, name: string, stream: BranchInput | undefined, y: string, dOut: number): string {
  if (m.effect.kind !== 'adapter' || m.effect.method.kind !== 'psrp') throw new Error('psrpAdapter: not a psrp modifier');
  if (!stream) throw new ExportError(`${where}: PSRP (psrp(…)) reads the residual stream of the branch its target runs in (Moment Probing's MP+: the block's stream before norm2, for its MLP output), and this target's layer is no residual branch's (x + f(norm(x)), x + f(x) or norm(x + f(x))) in the exported data flow`);
  if (stream.width !== dOut) throw new ExportError(`${where}: PSRP (psrp(…)) rescales its target's output from the residual stream, and the two must be as wide (the engine counts down as [r, d_out]): the output is ${dOut} wide, the stream ${stream.width}`);
  const g = ctx.g;
  const r = m.effect.method.rank;
  const d = dOut;
  // One [r, d] or [d, r] factor; with tasks, stored [tasks, …] and task 0's taken.
  const effect = m.effect;
  const factor = (suffix: string, shape: readonly [number, number], scale: number): string => taskStore(g, effect, `${key}_${suffix}`, shape, scale, `${name}_psrp_task0`);
  const down = factor('down', [r, d], Math.sqrt(3 / d));
  const upWeight = factor('up_weight', [d, r], 0.01);
  const upBias = factor('up_bias', [d, r], 0.01);
  const hidden = () => g.op('Relu', [g.op('Gemm', [stream.x, down], T, { hint: `${name}_psrp_down` })]);
  const weight = g.op('Gemm', [hidden(), upWeight], T, { hint: `${name}_psrp_weight` });
  const bias = g.op('Gemm', [hidden(), upBias], T, { hint: `${name}_psrp_bias` });
  const scaled = g.op('Mul', [g.op('Add', [weight, g.float(1)]), y], undefined, { hint: `${name}_psrp_scale` });
  return g.op('Add', [bias, scaled], undefined, { hint: `${name}_psrp` });
}
