// Additive totals of a subtree of the model. Counts that only ever grow by whole instances are
// bigint; quantities a routing capacity can scale (active params, FLOPs, activations,
// attention instances) are exact rationals, so Mixture-of-Recursions stays exact too.

import type { AttentionInfo } from '../layers/layer-kind.js';
import * as Q from '../numbers/rational.js';

/** Attention layers of one geometry, aggregated: how many run and how many write a KV cache. */
export interface AttentionEntry {
  readonly info: AttentionInfo;
  /** Layer applications per token (instances × routing capacity). */
  readonly instances: Q.Rational;
  /** Applications that write their own KV cache (not borrowing another layer's). */
  readonly producers: Q.Rational;
}

/**
 * The part of a subtree that only produces its self-attention K and V: the K/V projections and
 * whatever adapts them. An instance that borrows another's KV (CLA, MLKV, recursive KV sharing)
 * computes none of it, and stores none of its per-instance part.
 */
export interface SelfKv {
  /** Stored params of the K/V projections themselves (a shared store keeps them while any
   * producing instance reads it; walk.ts decides). */
  readonly stored: bigint;
  /** Adapters on the K/V projections, owned per instance: a borrower never stores them. */
  readonly perInstanceStored: bigint;
  readonly perInstanceTrainable: bigint;
  readonly effective: bigint;
  readonly active: Q.Rational;
  /** FLOPs per token of the K/V projections and their adapters. */
  readonly flops: Q.Rational;
}

export const NO_SELF_KV: SelfKv = { stored: 0n, perInstanceStored: 0n, perInstanceTrainable: 0n, effective: 0n, active: Q.ZERO, flops: Q.ZERO };

export interface Totals {
  readonly stored: bigint;
  readonly effective: bigint;
  readonly trainable: bigint;
  /** Part of `stored` that belongs to each instance even when the instance's weights are
   * shared (adapters, relaxation LoRA): weight sharing never deduplicates it. */
  readonly perInstanceStored: bigint;
  readonly perInstanceTrainable: bigint;
  readonly active: Q.Rational;
  /** Forward FLOPs per token of weight operations (no attention context term). */
  readonly flops: Q.Rational;
  /** FLOPs of cross-attention K/V projections per source token (charged once per source token). */
  readonly crossKvFlops: Q.Rational;
  /** Active params of cross-attention K/V projections: applied to the source once, never by a decode step. */
  readonly crossKvActive: Q.Rational;
  /** What producing its own self-attention K and V costs (dropped when an instance borrows KV). */
  readonly selfKv: SelfKv;
  readonly activation: Q.Rational;
  /** Params of embedding tables (a decode step reads one row, not the table). */
  readonly embeddingParams: bigint;
  /** Weight-generation MACs per training step (SSN templates, MASA atoms). */
  readonly generationMacs: bigint;
  /** Bytes of integer indices stored beside the weights (VB-LoRA top-k indices), as params. */
  readonly perSample: boolean;
  /** Attention entries keyed by their geometry. */
  readonly attention: ReadonlyMap<string, AttentionEntry>;
  /**
   * Stores shared across the whole model (an adapter bank, a hashed memory, an SSN bank):
   * key → size. Counted once however many subtrees report them.
   */
  readonly globals: ReadonlyMap<string, bigint>;
}

export const EMPTY_TOTALS: Totals = {
  stored: 0n,
  effective: 0n,
  trainable: 0n,
  perInstanceStored: 0n,
  perInstanceTrainable: 0n,
  active: Q.ZERO,
  flops: Q.ZERO,
  crossKvFlops: Q.ZERO,
  crossKvActive: Q.ZERO,
  selfKv: NO_SELF_KV,
  activation: Q.ZERO,
  embeddingParams: 0n,
  generationMacs: 0n,
  perSample: false,
  attention: new Map(),
  globals: new Map(),
};

export function attentionKey(info: AttentionInfo): string {
  return `${info.variant}|${info.queryHeads}|${info.kvHeads}|${info.scoreDim}|${info.valueDim}|${info.kvElementsPerToken}|${info.window ?? '-'}|${info.causal ? 'c' : 'b'}|${info.cross ? 'x' : 's'}`;
}

function mergeAttention(a: ReadonlyMap<string, AttentionEntry>, b: ReadonlyMap<string, AttentionEntry>): ReadonlyMap<string, AttentionEntry> {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const out = new Map(a);
  for (const [k, e] of b) {
    const prev = out.get(k);
    out.set(k, prev ? { info: e.info, instances: Q.add(prev.instances, e.instances), producers: Q.add(prev.producers, e.producers) } : e);
  }
  return out;
}

function mergeGlobals(a: ReadonlyMap<string, bigint>, b: ReadonlyMap<string, bigint>): ReadonlyMap<string, bigint> {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, v);
  return out;
}

export function addTotals(a: Totals, b: Totals): Totals {
  return {
    stored: a.stored + b.stored,
    effective: a.effective + b.effective,
    trainable: a.trainable + b.trainable,
    perInstanceStored: a.perInstanceStored + b.perInstanceStored,
    perInstanceTrainable: a.perInstanceTrainable + b.perInstanceTrainable,
    active: Q.add(a.active, b.active),
    flops: Q.add(a.flops, b.flops),
    crossKvFlops: Q.add(a.crossKvFlops, b.crossKvFlops),
    crossKvActive: Q.add(a.crossKvActive, b.crossKvActive),
    selfKv: {
      stored: a.selfKv.stored + b.selfKv.stored,
      perInstanceStored: a.selfKv.perInstanceStored + b.selfKv.perInstanceStored,
      perInstanceTrainable: a.selfKv.perInstanceTrainable + b.selfKv.perInstanceTrainable,
      effective: a.selfKv.effective + b.selfKv.effective,
      active: Q.add(a.selfKv.active, b.selfKv.active),
      flops: Q.add(a.selfKv.flops, b.selfKv.flops),
    },
    activation: Q.add(a.activation, b.activation),
    embeddingParams: a.embeddingParams + b.embeddingParams,
    generationMacs: a.generationMacs + b.generationMacs,
    perSample: a.perSample || b.perSample,
    attention: mergeAttention(a.attention, b.attention),
    globals: mergeGlobals(a.globals, b.globals),
  };
}

/**
 * `n` instances of a subtree whose stored part is attributed separately (`storedTimes`, the
 * number of instances that own their store) and whose per-token quantities scale by
 * `capacity` (the fraction of tokens routed through them; 1 without routing).
 */
export function repeatTotals(t: Totals, n: bigint, storedTimes: bigint, capacity: Q.Rational = Q.ONE): Totals {
  const nc = Q.mul(Q.fromBigInt(n), capacity);
  const attention = new Map<string, AttentionEntry>();
  for (const [k, e] of t.attention) attention.set(k, { info: e.info, instances: Q.mul(e.instances, nc), producers: Q.mul(e.producers, nc) });
  return {
    stored: t.stored * storedTimes,
    effective: t.effective * n,
    trainable: t.trainable * storedTimes,
    perInstanceStored: t.perInstanceStored * n,
    perInstanceTrainable: t.perInstanceTrainable * n,
    active: Q.mul(t.active, nc),
    flops: Q.mul(t.flops, nc),
    crossKvFlops: Q.mul(t.crossKvFlops, nc),
    crossKvActive: Q.mul(t.crossKvActive, nc),
    selfKv: {
      stored: t.selfKv.stored * n,
      perInstanceStored: t.selfKv.perInstanceStored * n,
      perInstanceTrainable: t.selfKv.perInstanceTrainable * n,
      effective: t.selfKv.effective * n,
      active: Q.mul(t.selfKv.active, nc),
      flops: Q.mul(t.selfKv.flops, nc),
    },
    activation: Q.mul(t.activation, nc),
    embeddingParams: t.embeddingParams * n,
    generationMacs: t.generationMacs * n,
    perSample: t.perSample,
    attention,
    globals: t.globals,
  };
}

/** The same subtree's per-token quantities when it borrows its self-attention KV (CLA, MLKV). */
export function borrowKv(t: Totals): Totals {
  const attention = new Map<string, AttentionEntry>();
  for (const [k, e] of t.attention) attention.set(k, e.info.cross ? e : { info: e.info, instances: e.instances, producers: Q.ZERO });
  return {
    ...t,
    effective: t.effective - t.selfKv.effective,
    active: Q.sub(t.active, t.selfKv.active),
    flops: Q.sub(t.flops, t.selfKv.flops),
    selfKv: NO_SELF_KV,
    attention,
  };
}
