// Hashed weights (`hash PATHS: roast(memory: m)` / `rps(memory: m)`): every matmul/conv weight
// under the paths reads its entries from one global memory M of m parameters (one initializer
// per statement, as the engine counts it: stored = m, plus one scale per weight with
// `scales: true`). The indices are computed in the graph from Range and int64 arithmetic — never
// stored, never built element by element in JavaScript — so a 100M-entry weight costs a few nodes.
//
// ROAST (Desai, Zhou & Shrivastava, ICML 2023; apd10/RzLinear): W, viewed as [R, C], is cut into
// bk×bn tiles (32×32, smaller for a smaller weight); tile t reads the contiguous chunk
// M[h(t) : h(t) + bk·bn] with the universal hash h(t) = ((A·(t + salt) + B) mod P) mod (m − bk·bn + 1),
// and each entry takes a hashed sign s(j) = 1 − 2·(((A₂·(j + salt) + B₂) mod P) mod 2) of its
// flat index j. `salt` is the FNV-1a hash of the weight's store key (below 2²⁰), so weights differ.
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
import { advance, iota, source, tally } from './state.js';

/** The hash constants (a Mersenne prime and multipliers below it: every product fits int64). */
export const HASH = { P: 2147483647, A: 1103515245, B: 12345, A2: 69069, B2: 1013904223, tile: 32 } as const;

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

/** Emits the hashed weight of store `key`; returns the [shape] tensor. */
export function hashedWeight(ctx: EmitContext, where: string, w: WeightSpec, key: string, h: HashStatement): string {
  const g = ctx.g;
  const [R, C] = matrixShape(w);
  const n = R * C;
  const m = h.memory;
  const mem = g.weight(memoryKey(h), [m], h.scales ? 1 : scaleOf(w).scale);
  const M = source(ctx, mem.name);
  const salt = hashSalt(key);
  let flat: string; // int64 indices into M, [R, C]
  if (h.method === 'roast') {
    const bk = Math.min(HASH.tile, R);
    const bn = Math.min(HASH.tile, C);
    const chunk = bk * bn;
    if (m < chunk) throw new ExportError(`${where}: a ROAST memory of ${m} parameters is smaller than one ${bk}×${bn} tile of ${w.name}`);
    const TR = Math.ceil(R / bk);
    const TC = Math.ceil(C / bn);
    const t = g.op('Add', [iota(ctx, 0, TR * TC), g.ints([salt], true)], undefined, { hint: 'tile' });
    const hashed = g.op('Mod', [g.op('Add', [g.op('Mul', [t, g.ints([HASH.A], true)]), g.ints([HASH.B], true)]), g.ints([HASH.P], true)]);
    const start = g.op('Reshape', [g.op('Mod', [hashed, g.ints([m - chunk + 1], true)]), g.ints([TR, 1, TC, 1])], undefined, { hint: 'chunk' });
    const offset = g.op('Reshape', [iota(ctx, 0, chunk), g.ints([1, bk, 1, bn])], undefined, { hint: 'in_tile' });
    flat = g.op('Reshape', [g.op('Add', [start, offset]), g.ints([TR * bk, TC * bn])], undefined, { hint: 'roast_idx' });
    if (TR * bk !== R || TC * bn !== C) flat = g.op('Slice', [flat, g.ints([0, 0]), g.ints([R, C]), g.ints([0, 1])]);
  } else {
    const base = advance(ctx, `rps:${h.statement}`, n);
    const p = g.op('Reshape', [iota(ctx, base, base + n), g.ints([R, C])], undefined, { hint: 'rps_pos' });
    const o = g.op('Mod', [p, g.ints([m], true)], undefined, { hint: 'rps_off' });
    const fold = g.op('Mod', [g.op('Sub', [p, o]), g.ints([HASH.P], true)], undefined, { hint: 'rps_part' }); // q·m mod P
    const rot = g.op('Mod', [g.op('Mod', [g.op('Add', [g.op('Mul', [fold, g.ints([HASH.A], true)]), g.ints([HASH.B], true)]), g.ints([HASH.P], true)]), g.ints([m], true)]);
    flat = g.op('Mod', [g.op('Add', [o, rot]), g.ints([m], true)], undefined, { hint: 'rps_idx' });
  }
  let W = g.op('Gather', [M, flat], { axis: { kind: 'int', value: 0 } }, { hint: `${w.name}_hashed` }); // [R, C]
  if (h.method === 'roast') {
    const j = g.op('Add', [g.op('Reshape', [iota(ctx, 0, n), g.ints([R, C])]), g.ints([salt], true)]);
    const bit = g.op('Mod', [g.op('Mod', [g.op('Add', [g.op('Mul', [j, g.ints([HASH.A2], true)]), g.ints([HASH.B2], true)]), g.ints([HASH.P], true)]), g.ints([2], true)]);
    const sign = g.op('Sub', [g.ints([1], true), g.op('Mul', [bit, g.ints([2], true)])], undefined, { hint: 'sign' });
    W = g.op('Mul', [W, g.op('Cast', [sign], { to: { kind: 'int', value: g.floatType } })], undefined, { hint: `${w.name}_signed` });
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
