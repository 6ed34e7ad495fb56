// FISH's pooled sparse masks (`train PATHS: sparse(elements: k)`; Sung et al. 2021, "Training
// Neural Networks with Fixed Sparse Masks"): the mask is a top-k over the Fisher information of
// every weight under the paths together, not k per weight. The walk freezes those weights (the
// `train-sparse` modifier counts as a freeze); the k elements trained in place are counted here,
// once per statement, after the walk. Stored does not change (the trained elements are the
// weights' own); trainable grows by k; training adds their weight gradients, 2·k FLOPs per token
// (as a per-target `sparse` adapter's k entries do). The pool is what the statement froze: the
// trainable elements of a walk without the masks less those of the walk with them, so it follows
// sharing (a shared store counts once) and any later `freeze` / `train`.

import * as Q from '../numbers/rational.js';
import type { ResolvedSharing } from '../sharing/declarations.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import { EMPTY_TOTALS, type Totals } from './totals.js';

export interface PooledMasks {
  /** Σ k over the model's pooled-mask statements (each once, however many paths it names). */
  readonly elements: bigint;
  /** The last statement, where a pool too small for Σ k is reported. */
  readonly range: TextRange;
}

/** The model's pooled sparse masks; undefined when it declares none. */
export function pooledMasks(sharing: ResolvedSharing): PooledMasks | undefined {
  const statements = new Map<string, { readonly elements: number; readonly range: TextRange }>();
  for (const m of sharing.modifiers) {
    if (m.effect.kind === 'train-sparse') statements.set(`${m.range.start}:${m.range.end}`, { elements: m.effect.elements, range: m.range });
  }
  if (statements.size === 0) return undefined;
  let elements = 0n;
  let range: TextRange | undefined;
  for (const s of statements.values()) {
    elements += BigInt(s.elements);
    if (!range || s.range.start > range.start) range = s.range;
  }
  return { elements, range: range! };
}

/** The same sharing without its pooled masks: the walk that says what the masks took from training. */
export function withoutPooledMasks(sharing: ResolvedSharing): ResolvedSharing {
  return { ...sharing, modifiers: sharing.modifiers.filter((m) => m.effect.kind !== 'train-sparse') };
}

/** What k pooled elements add to a model, as totals run once per token: k trainable, 2·k gradient FLOPs per token. */
export function pooledMaskTotals(elements: bigint): Totals {
  return { ...EMPTY_TOTALS, trainable: elements, trainableFlops: Q.fromBigInt(2n * elements) };
}
