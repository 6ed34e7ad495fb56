// Dictionary sharing (`dict PATHS: masa(atoms: S)`, MASA): each projection type — a weight name
// and shape under one statement — is a combination of S shared atoms D [S, |W|] (one initializer
// per statement, name and shape, as the engine keys it), and every store owns its S coefficients c:
//   W = Σ_s c_s · D_s   (S·|W| multiply-adds to build, the engine's generation MACs).

import type { WeightSpec } from '../engine-bridge.js';
import type { EmitContext } from '../layers/context.js';
import { scaleOf } from '../layers/context.js';
import { source, tally } from './state.js';

export interface DictStatement {
  readonly statement: number;
  readonly atoms: number;
}

export function atomsKey(d: DictStatement, w: WeightSpec): string {
  return `dict@${d.statement}:${w.name}:${w.shape.join('x')}`;
}

/** Emits the generated weight of store `key`; returns the [shape] tensor. */
export function dictionaryWeight(ctx: EmitContext, w: WeightSpec, key: string, d: DictStatement): string {
  const g = ctx.g;
  const S = d.atoms;
  const n = w.shape.reduce((x, y) => x * y, 1);
  const atoms = g.weight(atomsKey(d, w), [S, n], scaleOf(w).scale);
  // Live mode: the coefficients carry the runtime 1, so the MatMul (the generation) runs per
  // forward without an extra pass over the atoms.
  const c = g.weight(`${key}.atoms`, [S], 0.5 / Math.sqrt(S), 1 / Math.sqrt(S));
  const mix = g.op('MatMul', [g.op('Reshape', [source(ctx, c.name), g.ints([1, S])]), atoms.name], undefined, { hint: `${w.name}_atoms` }); // [1, |W|]
  tally(ctx, BigInt(S) * BigInt(n));
  return g.op('Reshape', [mix, g.ints(w.shape)], undefined, { hint: w.name });
}
