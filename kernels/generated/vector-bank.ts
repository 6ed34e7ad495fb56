// VB-LoRA's vector bank (`vblora(rank: r, vectors: h, length: b, top_k: k)`, Li, Han & Ji,
// NeurIPS 2024; HF PEFT with save_only_topk_weights): one bank 𝔅 [h, b] per statement, shared by
// every target; a target's A [r, d_in] and Bᵀ [r, d_out], flattened and concatenated, are
// s = ⌈r·(d_in + d_out)/b⌉ sub-vectors of length b, each Σ_{j<k} w_j·𝔅[i_j]. Per target the
// checkpoint stores k−1 mixing weights and k indices per sub-vector (the last weight is
// 1 − Σ of the others, as top-k softmax weights sum to 1): s·(2k−1) numbers, as the engine counts.
// The indices are stored numbers too: a float initializer of values in [0, h), cast to int64
// in the graph (a truncation, then mod h), so the file's elements still equal params.stored.

import type { EmitContext } from '../layers/context.js';
import { source, tally } from './state.js';
import { attr } from '../onnx-writer.js';

export interface VbLora {
  readonly statement: number;
  readonly rank: number;
  readonly vectors: number;
  readonly length: number;
  readonly topK: number;
}

export function vbBankKey(v: VbLora): string {
  return `vblora@${v.statement}:bank`;
}

/** Sub-vectors of one target. */
export function subVectors(v: VbLora, dIn: number, dOut: number): number {
  return Math.ceil((v.rank * (dIn + dOut)) / v.length);
}

/** A [r, d_in] and Bᵀ [r, d_out] of the target whose own numbers are `${key}_w` / `${key}_idx`. */
export function vectorBankFactors(ctx: EmitContext, v: VbLora, key: string, dIn: number, dOut: number): { a: string; bT: string } {
  const g = ctx.g;
  const { rank: r, vectors: h, length: b, topK: k } = v;
  const s = subVectors(v, dIn, dOut);
  const bank = source(ctx, g.weight(vbBankKey(v), [h, b], Math.sqrt(3 / dIn)).name);
  const stored = g.weight(`${key}_idx`, [s, k], h / 2, h / 2); // uniform in [0, h)
  const idx = g.op('Mod', [g.op('Cast', [stored.name], { to: attr.int(7) }), g.ints([h], true)], undefined, { hint: 'vb_idx' }); // [s, k]
  const rows = g.op('Gather', [bank, idx], { axis: attr.int(0) }, { hint: 'vb_rows' }); // [s, k, b]
  let sub: string;
  if (k === 1) {
    sub = g.op('Reshape', [rows, g.ints([s, b])]);
  } else {
    const w = source(ctx, g.weight(`${key}_w`, [s, k - 1], 0.5 / k, 1 / k).name); // [s, k−1]
    const last = g.op('Sub', [g.float(1), g.op('ReduceSum', [w, g.ints([1])], { keepdims: attr.int(1) })], undefined, { hint: 'vb_last' });
    const weights = g.op('Unsqueeze', [g.op('Concat', [w, last], { axis: attr.int(1) }), g.ints([2])]); // [s, k, 1]
    sub = g.op('ReduceSum', [g.op('Mul', [rows, weights]), g.ints([1])], { keepdims: attr.int(0) }, { hint: 'vb_sub' }); // [s, b]
  }
  const flat = g.op('Reshape', [sub, g.ints([s * b])]);
  const a = g.op('Reshape', [g.op('Slice', [flat, g.ints([0]), g.ints([r * dIn]), g.ints([0])]), g.ints([r, dIn])], undefined, { hint: 'vb_a' });
  const bT = g.op('Reshape', [g.op('Slice', [flat, g.ints([r * dIn]), g.ints([r * (dIn + dOut)]), g.ints([0])]), g.ints([r, dOut])], undefined, { hint: 'vb_bt' });
  tally(ctx, BigInt(s) * BigInt(k) * BigInt(b));
  return { a, bT };
}
