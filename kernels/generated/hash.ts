// Hashed weights (`hash PATHS: roast(memory: m)` / `rps(memory: m)`): every matmul/conv weight
// under the paths reads its entries from one global memory M of m parameters (one initializer
// per statement, as the engine counts it: stored = m, plus one scale per weight with
// `scales: true`). The indices are computed in the graph from Range and int64 arithmetic — never
// stored, never built element by element in JavaScript — so a 100M-entry weight costs a few nodes.
//
// ROAST (Desai, Zhou & Shrivastava, ICML 2023; apd10/RzLinear): W, viewed as [R, C], is cut into
// bk×bn tiles (32×32, smaller for a smaller weight); tile t reads the contiguous chunk
// M[h(t) : h(t) + bk·bn] with the universal hash h(t) = ((A·(t + salt) + B) mod P) mod (m − bk·bn + 1),
// and entry o of tile t takes the sign g₁(t)·g₂(o), each gᵢ(x) = 1 − 2·(((Aᵢ·(x + salt) + Bᵢ) mod P) mod 2).
// `salt` is the FNV-1a hash of the weight's store key (below 2²⁰), so weights differ.
//
// STABLE-RPS (Desai & Shrivastava, ICLR 2024), RANDOMFOLD: the hashed weights of a statement, in
// the order the graph first reads them, form one flat array of n positions; position p lies in
// partition q = ⌊p/m⌋ at offset o = p mod m and reads M[(o + g(q)) mod m] with
// g(q) = ((A·(q·m mod P) + B) mod P) mod m. Each partition is a rotation of M, so every slot is read
// ⌊n/m⌋ or ⌈n/m⌉ times and m ≥ n recovers a plain (bijective) copy. No signs.

import { ExportError, type WeightSpec } from '../engine-bridge.js';
import type { EmitContext } from '../layers/context.js';
import { scaleOf } from '../layers/context.js';
import { seedOf } from '../weights.js';
import { advance, cached, iota, remember, source, tally } from './state.js';
import { attr } from '../onnx-writer.js';

/** The hash constants (a Mersenne prime and multipliers below it: every product fits int64). */
export const HASH = { P: 2147483647, A: 1103515245, B: 12345, A2: 69069, B2: 1013904223, A3: 48271, B3: 11, tile: 32 } as const;

/** The salt of a weight: FNV-1a of its store key, below 2²⁰. */
export function hashSalt(storeKey: string): number {
  return seedOf(storeKey) % (1 << 20);
}

export interface HashStatement {
  /** Where the engine keys the memory: the statement's start offset. */
  readonly statement: number;
  readonly memory: number;
  readonly scales: boolean;
  readonly method: 'roast' | 'rps';
}

/** The memory's initializer name for a statement. */
export function memoryKey(h: HashStatement): string {
  return `hash@${h.statement}`;
}

/** W as a [R, C] matrix: the first axis by the rest (a conv's [c_out, c_in·k·k]). */
function matrixShape(w: WeightSpec): [number, number] {
  const r = w.shape[0]!;
  const n = w.shape.reduce((a, b) => a * b, 1);
  return [r, n / r];
}

/** ±1 from the low bit of a universal hash of `ids` (int64) with salt: 1 − 2·(((a·(id + salt) + b) mod P) mod 2), in the model's float type. */
function hashedSign(ctx: EmitContext, ids: string, salt: number, a: number, b: number): string {
  const g = ctx.g;
  const h = g.op('Mod', [g.op('Add', [g.op('Mul', [g.op('Add', [ids, g.ints([salt], true)]), g.ints([a], true)]), g.ints([b], true)]), g.ints([HASH.P], true)]);
  const bit = g.op('Mod', [h, g.ints([2], true)]);
  return g.op('Cast', [g.op('Sub', [g.ints([1], true), g.op('Mul', [bit, g.ints([2], true)])])], { to: attr.int(g.floatType) }, { hint: 'sign' });
}

/** Emits the hashed weight of store `key`; returns the [shape] tensor. */
export function hashedWeight(ctx: EmitContext, where: string, w: WeightSpec, key: string, h: HashStatement): string {
  const g = ctx.g;
  const [R, C] = matrixShape(w);
  const n = R * C;
  const m = h.memory;
  const mem = g.weight(memoryKey(h), [m], h.scales ? 1 : scaleOf(w).scale);
  const M = source(ctx, mem.name);
  const salt = hashSalt(key);
  // Every full-size intermediate costs |W| elements when ORT folds it (and per run when live), so
  // hashes are computed on small tensors (tiles, in-tile offsets, partitions) and broadcast:
  // one index and a few float tensors of |W| elements per weight.
  let W: string;
  if (h.method === 'roast') {
    const bk = Math.min(HASH.tile, R);
    const bn = Math.min(HASH.tile, C);
    const chunk = bk * bn;
    if (m < chunk) throw new ExportError(`${where}: a ROAST memory of ${m} parameters is smaller than one ${bk}×${bn} tile of ${w.name}`);
    const TR = Math.ceil(R / bk);
    const TC = Math.ceil(C / bn);
    const t = iota(ctx, 0, TR * TC); // tile ids
    const hashed = g.op('Mod', [g.op('Add', [g.op('Mul', [g.op('Add', [t, g.ints([salt], true)]), g.ints([HASH.A], true)]), g.ints([HASH.B], true)]), g.ints([HASH.P], true)]);
    const off = iota(ctx, 0, chunk); // r·bn + c inside a tile
    // The one full-size index is int32 where the memory allows (half the bytes to fold or rebuild);
    // it is built directly in the [TR, bk, TC, bn] layout the gather and the signs broadcast over.
    const narrow = (x: string): string => (m <= 2 ** 31 ? g.op('Cast', [x], { to: attr.int(6) }) : x);
    const start = g.op('Reshape', [narrow(g.op('Mod', [hashed, g.ints([m - chunk + 1], true)])), g.ints([TR, 1, TC, 1])], undefined, { hint: 'chunk' });
    const idx = g.op('Add', [start, g.op('Reshape', [narrow(off), g.ints([1, bk, 1, bn])])], undefined, { hint: 'roast_idx' }); // [TR, bk, TC, bn]
    W = g.op('Gather', [M, idx], { axis: attr.int(0) }, { hint: `${w.name}_hashed` });
    // Sign of entry (t, o): g₁(t)·g₂(o), hashed ±1 of the tile and of the in-tile offset.
    W = g.op('Mul', [W, g.op('Reshape', [hashedSign(ctx, t, salt, HASH.A2, HASH.B2), g.ints([TR, 1, TC, 1])])], undefined, { hint: `${w.name}_tile_signed` });
    W = g.op('Mul', [W, g.op('Reshape', [hashedSign(ctx, off, salt, HASH.A3, HASH.B3), g.ints([1, bk, 1, bn])])], undefined, { hint: `${w.name}_signed` });
    W = g.op('Reshape', [W, g.ints([TR * bk, TC * bn])]);
    if (TR * bk !== R || TC * bn !== C) W = g.op('Slice', [W, g.ints([0, 0]), g.ints([R, C]), g.ints([0, 1])], undefined, { hint: `${w.name}_cut` });
  } else {
    // The weight's flat positions [base, base + n) lie in partitions q0 … q1; slot(q·m + o) =
    // (o + g(q)) mod m. Reading M twice over (MM = M ‖ M, built once per statement) drops the
    // mod: o + g(q) < 2m indexes MM directly, so partition q reads MM[g(q) + o].
    const base = advance(ctx, `rps:${h.statement}`, n);
    const q0 = Math.floor(base / m);
    const q1 = Math.floor((base + n - 1) / m);
    const Q = q1 - q0 + 1;
    const doubled = `rps2:${h.statement}`;
    const MM = cached(ctx, doubled)?.name ?? remember(ctx, doubled, { name: g.op('Concat', [M, M], { axis: attr.int(0) }, { hint: 'rps_mm' }), shape: [2 * m] }).name;
    const fold = g.op('Mod', [g.op('Mul', [iota(ctx, q0, q1 + 1), g.ints([m], true)]), g.ints([HASH.P], true)], undefined, { hint: 'rps_part' }); // q·m mod P
    const rot = g.op('Mod', [g.op('Mod', [g.op('Add', [g.op('Mul', [fold, g.ints([HASH.A], true)]), g.ints([HASH.B], true)]), g.ints([HASH.P], true)]), g.ints([m], true)]);
    let flat: string;
    if (Q * m <= 3 * n) {
      // The [Q, m] grid of slots, int32 where the memory allows (built from the small rot and iota).
      const narrow = (x: string): string => (m <= 2 ** 30 ? g.op('Cast', [x], { to: attr.int(6) }) : x);
      const grid = g.op('Add', [g.op('Reshape', [narrow(rot), g.ints([Q, 1])]), g.op('Reshape', [narrow(iota(ctx, 0, m)), g.ints([1, m])])], undefined, { hint: 'rps_idx' }); // [Q, m]
      const from = base - q0 * m;
      flat = g.op('Slice', [g.op('Reshape', [g.op('Gather', [MM, grid], { axis: attr.int(0) }, { hint: `${w.name}_hashed` }), g.ints([Q * m])]), g.ints([from]), g.ints([from + n]), g.ints([0])]);
    } else {
      // A weight smaller than the memory spans one or two partitions: one Range of offsets each.
      const parts: string[] = [];
      for (let i = 0; i < Q; i++) {
        const q = q0 + i;
        const a = Math.max(base, q * m) - q * m;
        const b = Math.min(base + n, (q + 1) * m) - q * m;
        const shift = g.op('Slice', [rot, g.ints([i]), g.ints([i + 1]), g.ints([0])]);
        parts.push(g.op('Gather', [MM, g.op('Add', [iota(ctx, a, b), shift], undefined, { hint: 'rps_idx' })], { axis: attr.int(0) }, { hint: `${w.name}_hashed` }));
      }
      flat = parts.length === 1 ? parts[0]! : g.op('Concat', parts, { axis: attr.int(0) });
    }
    W = g.op('Reshape', [flat, g.ints([R, C])]);
  }
  if (h.scales) {
    // One scale λ per weight (per store): the magnitude the memory's ±1 values take here.
    const s = scaleOf(w).scale;
    const lambda = g.weight(`${key}.hash_scale`, [1], 0.1 * s, s);
    W = g.op('Mul', [W, source(ctx, lambda.name)], undefined, { hint: `${w.name}_scaled` });
  }
  if (w.shape.length !== 2) W = g.op('Reshape', [W, g.ints(w.shape)], undefined, { hint: w.name });
  tally(ctx, 0n);
  return W;
}
