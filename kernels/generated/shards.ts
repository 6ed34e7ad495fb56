// MoS, Mixture of Shards (`mos(rank: r, shards: l, pool: n, private: p)`, Wang et al., ICLR
// 2025): every low-rank vector — a row of A [r, d_in] or of Bᵀ [r, d_out] — is the concatenation of
// l shards of length d/l. Shards come from one global pool of n per side and width (n·d/l
// numbers, an initializer per statement, side and width, as the engine keys it) plus p private
// shards per target and side. Which shard fills each of the r·l places is a fixed integer index
// matrix (not a parameter, not counted): a small int64 Constant drawn from the target's key, its
// first p places holding the p private shards (each is used), A and B drawn apart (pair
// dissociation).

import { ExportError } from '../engine-bridge.js';
import type { EmitContext } from '../layers/context.js';
import { seedOf } from '../weights.js';
import { source, tally } from './state.js';
import { attr } from '../onnx-writer.js';

export interface MoS {
  readonly statement: number;
  readonly rank: number;
  readonly shards: number;
  readonly pool: number;
  readonly privateShards: number;
}

export function poolKey(m: MoS, side: 'A' | 'B', width: number): string {
  return `mos@${m.statement}:${side}:${width}`;
}

/**
 * The r·l shard indices of one side: place t < p takes private shard t (index n + t), the rest
 * (seed·(t+1)·2654435761 >>> 0) mod (n + p) with the FNV-1a seed of `key` — 32-bit unsigned math.
 */
export function shardIndices(key: string, r: number, l: number, n: number, p: number): number[] {
  const seed = seedOf(key);
  const out: number[] = [];
  for (let t = 0; t < r * l; t++) out.push(t < p ? n + t : (Math.imul(Math.imul(seed, t + 1), 2654435761) >>> 0) % (n + p));
  return out;
}

/** One side's factor [r, width] of the target `key` (`${key}_a` / `${key}_b` private shards). */
function side(ctx: EmitContext, where: string, m: MoS, key: string, s: 'A' | 'B', width: number, scale: number): string {
  const g = ctx.g;
  const { rank: r, shards: l, pool: n, privateShards: p } = m;
  if (width % l !== 0) throw new ExportError(`${where}: MoS cuts vectors of length ${width} into ${l} shards, which does not divide it`);
  const len = width / l;
  let pool = source(ctx, g.weight(poolKey(m, s, width), [n, len], scale).name);
  if (p > 0) pool = g.op('Concat', [pool, source(ctx, g.weight(`${key}_${s.toLowerCase()}`, [p, len], scale).name)], { axis: attr.int(0) }, { hint: 'mos_shards' });
  if (r * l < p) throw new ExportError(`${where}: MoS has ${p} private shards but only ${r * l} places per side`);
  const idx = g.ints(shardIndices(`${key}:${s}`, r, l, n, p));
  const picked = g.op('Gather', [pool, idx], { axis: attr.int(0) }, { hint: `mos_${s}` }); // [r·l, len]
  return g.op('Reshape', [picked, g.ints([r, width])]);
}

/** A [r, d_in] and Bᵀ [r, d_out] of one target. */
export function shardFactors(ctx: EmitContext, where: string, m: MoS, key: string, dIn: number, dOut: number): { a: string; bT: string } {
  const a = side(ctx, where, m, key, 'A', dIn, Math.sqrt(3 / dIn));
  const bT = side(ctx, where, m, key, 'B', dOut, 0.05);
  tally(ctx, 0n);
  return { a, bT };
}
