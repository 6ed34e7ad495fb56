// Per-graph state of weight generation: the mode ('materialised' or 'live'), the runtime scalars
// that keep a live generation subgraph from being constant-folded, the placement cursors that
// generators advance in emission order (STABLE-RPS partitions, SSN bank blocks, AS-LoRA groups),
// the generated tensors by store key, and a tally of what was generated.

import type { GraphBuilder, StoredWeight } from '../graph-builder.js';
import type { EmitContext } from '../layers/context.js';
import { attr } from '../onnx-writer.js';

/**
 * 'materialised' (default): a generated weight depends only on initializers and constants, so
 * ONNX Runtime constant-folds its subgraph once at session creation — inference reads the
 * materialised W, as SSN and MASA intend. 'live': every generation subgraph also reads a scalar
 * computed from the input ids, so it runs on every forward (what weight generation costs per
 * training step).
 */
export type GenerationMode = 'materialised' | 'live';

export interface GenerationTally {
  readonly mode: GenerationMode;
  /** Generated tensors (weights and adapter factors), each built once per store. */
  readonly tensors: number;
  /** Multiply-adds of building them once (template and atom mixes, vector-bank mixes); gathers count 0. */
  readonly macs: bigint;
}

interface GenerationState {
  one?: string;
  zero?: string;
  readonly generated: Map<string, StoredWeight>;
  /** Next free element of a cursor's sequence (RPS: global flattened position; SSN: bank block). */
  readonly cursors: Map<string, number>;
  tensors: number;
  macs: bigint;
}

const states = new WeakMap<GraphBuilder, GenerationState>();

export function generationState(g: GraphBuilder): GenerationState {
  let s = states.get(g);
  if (!s) states.set(g, (s = { generated: new Map(), cursors: new Map(), tensors: 0, macs: 0n }));
  return s;
}

export function generationMode(ctx: EmitContext): GenerationMode {
  return ctx.generation ?? 'materialised';
}

/** What the graph generates (for the export result and the probe's notes). */
export function generationTally(ctx: EmitContext): GenerationTally {
  const s = generationState(ctx.g);
  return { mode: generationMode(ctx), tensors: s.tensors, macs: s.macs };
}

/** Counts one generated tensor and its multiply-adds. */
export function tally(ctx: EmitContext, macs: bigint): void {
  const s = generationState(ctx.g);
  s.tensors++;
  s.macs += macs;
}

/** Takes `n` elements from cursor `key` and returns where they start. */
export function advance(ctx: EmitContext, key: string, n: number): number {
  const s = generationState(ctx.g);
  const at = s.cursors.get(key) ?? 0;
  s.cursors.set(key, at + n);
  return at;
}

/**
 * Live mode's runtime 0 (int64) and 1 (model float): both come from min(input_ids) >= 0, which is
 * true for every run but is a value ONNX Runtime cannot know at session creation (shapes alone
 * could be: a decode graph's input shape is static). Built once per graph.
 */
function runtimeScalars(ctx: EmitContext): { one: string; zero: string } {
  const s = generationState(ctx.g);
  if (!s.one || !s.zero) {
    const g = ctx.g;
    const min = g.op('ReduceMin', [ctx.ids], { keepdims: attr.int(0) }, { hint: 'live_min_id' });
    const valid = g.op('GreaterOrEqual', [min, g.ints([0], true)], undefined, { hint: 'live_valid' });
    s.one = g.op('Cast', [valid], { to: attr.int(g.floatType) }, { hint: 'live_one' });
    s.zero = g.op('Cast', [g.op('Less', [min, g.ints([0], true)], undefined, { hint: 'live_invalid' })], { to: attr.int(7) }, { hint: 'live_zero' });
  }
  return { one: s.one, zero: s.zero };
}

/**
 * A stored float tensor as a generation subgraph reads it: itself when materialised; times the
 * runtime 1 when live, so nothing downstream of it can be folded at session creation.
 */
export function source(ctx: EmitContext, stored: string): string {
  if (generationMode(ctx) === 'materialised') return stored;
  return ctx.g.op('Mul', [stored, runtimeScalars(ctx).one], undefined, { hint: 'live_src' });
}

/** An int64 index tensor from Range: plus the runtime 0 when live, so the index arithmetic runs per forward too. */
export function liveIndex(ctx: EmitContext, index: string): string {
  if (generationMode(ctx) === 'materialised') return index;
  return ctx.g.op('Add', [index, runtimeScalars(ctx).zero], undefined, { hint: 'live_idx' });
}

/** 0, 1, …, n−1 as int64 (a Range of constants; live: plus the runtime 0). */
export function iota(ctx: EmitContext, start: number, end: number): string {
  const g = ctx.g;
  return liveIndex(ctx, g.op('Range', [g.ints([start], true), g.ints([end], true), g.ints([1], true)], undefined, { hint: 'iota' }));
}

/** The generated tensor already built for store `key`, if any. */
export function cached(ctx: EmitContext, key: string): StoredWeight | undefined {
  return generationState(ctx.g).generated.get(key);
}

export function remember(ctx: EmitContext, key: string, w: StoredWeight): StoredWeight {
  generationState(ctx.g).generated.set(key, w);
  return w;
}
