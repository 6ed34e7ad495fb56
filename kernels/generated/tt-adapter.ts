// LoRETTA's tensor-train adapters (`loretta_rep`, `loretta_adp`) in the graph: each train's cores
// G_k [r_{k−1}, n_k, r_k] are initializers, merged in-graph in exactly the form the engine counts
// (src/core/sharing/tt-adapter.ts, the one source of shapes and costs):
// - materialised: the cores merged by MatMuls in the engine's sweep into the row-major tensor
//   [n₁…n_d], reshaped to M [rows, cols] (the reference's forward_tt_full_precision), then x·M;
// - split: cores 1…s merged left to right into L [rows, r_s], cores s+1…d right to left into
//   R [r_s, cols], then (x·L)·R — the same function, never forming M.
// LoRETTA_rep adds x·A·B to the projection's output (no lora_alpha/r scaling, as for every
// adapter here); LoRETTA_adp maps h ↦ h + up(ReLU(down(h) + b_down)) + b_up on the output, or on
// the input before the matmul (`side: input`, the reference's mh_adapter). ReLU is the reference
// runs' non_linearity (large_models/run.py, its README); the nonlinearity changes no count.

import { lorettaMatrices, type LorettaMethod, type TtMatrix } from '../../src/core/index.js';
import { ExportError } from '../engine-bridge.js';
import type { EmitContext } from '../layers/context.js';
import { source, tally } from './state.js';

/** Merges cores [from, to) of a train in one sweep: left gives [r_from·∏n, r_to] rows-major, right [r_from, ∏n·r_to]. */
function sweep(ctx: EmitContext, cores: readonly string[], m: TtMatrix, from: number, to: number, order: 'left' | 'right'): string {
  const g = ctx.g;
  const r = m.ranks;
  const n = m.modes;
  if (order === 'left') {
    // cur [P, r_{k+1}] after core k; P = r_from·n_from…n_k.
    let rows = r[from]! * n[from]!;
    let cur = g.op('Reshape', [cores[from]!, g.ints([rows, r[from + 1]!])]);
    for (let k = from + 1; k < to; k++) {
      const core = g.op('Reshape', [cores[k]!, g.ints([r[k]!, n[k]! * r[k + 1]!])]);
      rows *= n[k]!;
      cur = g.op('Reshape', [g.op('MatMul', [cur, core], undefined, { hint: 'tt_merge' }), g.ints([rows, r[k + 1]!])]);
    }
    return cur;
  }
  // cur [r_k, Q] before core k−1; Q = n_k…n_{to−1}·r_to.
  let cols = n[to - 1]! * r[to]!;
  let cur = g.op('Reshape', [cores[to - 1]!, g.ints([r[to - 1]!, cols])]);
  for (let k = to - 2; k >= from; k--) {
    const core = g.op('Reshape', [cores[k]!, g.ints([r[k]! * n[k]!, r[k + 1]!])]);
    cols *= n[k]!;
    cur = g.op('Reshape', [g.op('MatMul', [core, cur], undefined, { hint: 'tt_merge' }), g.ints([r[k]!, cols])]);
  }
  return cur;
}

/** x [T, rows] ↦ x·M [T, cols] for one train, its cores stored under `key`. */
function applyTrain(ctx: EmitContext, key: string, m: TtMatrix, x: string): string {
  const g = ctx.g;
  const d = m.modes.length;
  const scale = Math.pow(Math.sqrt(1 / (m.rows + m.cols)), 1 / d);
  const cores = m.cores.map((shape, k) => source(ctx, g.weight(`${key}.core${k + 1}`, shape, scale / Math.sqrt(Math.max(shape[0]!, shape[2]!))).name));
  tally(ctx, m.setupMacs);
  if (m.execution === 'factors') {
    const s = m.split!;
    const left = sweep(ctx, cores, m, 0, s, 'left'); // [rows, r_s]
    const right = sweep(ctx, cores, m, s, d, 'right'); // [r_s, cols]
    return g.op('MatMul', [g.op('MatMul', [x, left], undefined, { hint: `${m.role}_tt_l` }), right], undefined, { hint: `${m.role}_tt_r` });
  }
  const full = m.reconstructOrder === 'left' ? sweep(ctx, cores, m, 0, d, 'left') : sweep(ctx, cores, m, 0, d, 'right');
  const matrix = g.op('Reshape', [full, g.ints([m.rows, m.cols])], undefined, { hint: `${m.role}_tt_matrix` });
  return g.op('MatMul', [x, matrix], undefined, { hint: `${m.role}_tt` });
}

/** The trains of a LoRETTA adapter on a d_in → d_out weight (the statement check refused modes that do not fit). */
function trains(where: string, method: LorettaMethod, dIn: number, dOut: number): readonly TtMatrix[] {
  const result = lorettaMatrices(method, dIn, dOut);
  if (!result.ok) throw new ExportError(`${where}: ${result.message}`);
  return result.matrices;
}

/** LoRETTA_rep's update x·A·B [T, d_out], to add to the projection's output. */
export function lorettaRepDelta(ctx: EmitContext, where: string, key: string, method: Extract<LorettaMethod, { readonly kind: 'loretta_rep' }>, x: string, dIn: number, dOut: number): string {
  const [a, b] = trains(where, method, dIn, dOut);
  return applyTrain(ctx, `${key}_b`, b!, applyTrain(ctx, `${key}_a`, a!, x));
}

/** LoRETTA_adp on a [T, d] tensor h (the projection's input or output): h + up(ReLU(down(h) + b_down)) + b_up. */
export function lorettaAdapter(ctx: EmitContext, where: string, key: string, method: Extract<LorettaMethod, { readonly kind: 'loretta_adp' }>, h: string, dIn: number, dOut: number): string {
  const g = ctx.g;
  const [down, up] = trains(where, method, dIn, dOut);
  const d = down!.rows;
  const bDown = source(ctx, g.weight(`${key}_down_bias`, [method.bottleneck], 0.01).name);
  const bUp = source(ctx, g.weight(`${key}_up_bias`, [d], 0.01).name);
  const hidden = g.op('Relu', [g.op('Add', [applyTrain(ctx, `${key}_down`, down!, h), bDown])], undefined, { hint: 'loretta_act' });
  return g.op('Add', [h, g.op('Add', [applyTrain(ctx, `${key}_up`, up!, hidden), bUp])], undefined, { hint: 'loretta_adp' });
}
