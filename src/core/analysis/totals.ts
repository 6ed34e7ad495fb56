// Additive totals of a subtree of the model. Counts that only ever grow by whole instances are
// bigint; quantities a routing capacity can scale (active params, FLOPs, activations,
// attention instances) are exact rationals, so Mixture-of-Recursions stays exact too.

import type { AttentionInfo, RouterLoad } from '../layers/layer-kind.js';
import * as Q from '../numbers/rational.js';
import type { PathStep } from '../sharing/store-resolver.js';

/**
 * A W that readers of a tied factorised store need formed while its owner applies the factors
 * (tied-factors.ts, `materialise`): built once per step for all of them, `macs` per build. `owner`
 * is the owner's path as the walk looked it up: while it holds the step standing for a run of
 * stack instances, every instance of the run has its own W (the walk counts it per instance there).
 */
export interface WeightBuild {
  readonly macs: bigint;
  readonly owner: readonly PathStep[];
}

/** Attention layers of one geometry, aggregated: how many run and how many write a KV cache. */
export interface AttentionEntry {
  readonly info: AttentionInfo;
  /** Layer applications per token (instances × routing capacity). */
  readonly instances: Q.Rational;
  /** Applications that write their own KV cache (not borrowing another layer's). */
  readonly producers: Q.Rational;
  /**
   * Set on producers whose cache must reach further than their own window or chunk because a
   * layer that borrows their KV attends further (kv-reach.ts): the last `reach` tokens are
   * cached (`undefined`: the whole context).
   */
  readonly cache?: { readonly reach: number | undefined };
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
  /** The part of `flops` whose weights are trainable (their weight gradients cost as much). */
  readonly trainableFlops: Q.Rational;
}

export const NO_SELF_KV: SelfKv = { stored: 0n, perInstanceStored: 0n, perInstanceTrainable: 0n, effective: 0n, active: Q.ZERO, flops: Q.ZERO, trainableFlops: Q.ZERO };

/**
 * A bank of `copies` identical tensors of which `active` run per token (MoE experts): how many
 * of its weights a token applies per copy, summed over instances (× routing capacity). A batch
 * of B tokens touches E·(1 − (1 − k/E)^B) distinct copies of each bank in expectation.
 */
export interface BankUse {
  readonly copies: number;
  /** Copies one selection picks (top_k). */
  readonly active: number;
  /** Independent selections per token and application (Chain-of-Experts iterations; 1 otherwise). */
  readonly draws: number;
  /** A skewed router load (hot experts); undefined: uniform routing. */
  readonly load?: RouterLoad;
  /** Σ over the bank's instances of one copy's weights (adapters included). */
  readonly paramsPerCopy: Q.Rational;
  /** The part of `paramsPerCopy` in the bank's weight matrices: stored in the `experts` dtype. */
  readonly matrixParamsPerCopy: Q.Rational;
  /**
   * Stored params of the bank's weight matrices, all copies, each shared store once (a part of
   * `routedStored`): what a prefill reads of the experts its tokens chose (model-metrics.ts).
   */
  readonly storedMatrix: bigint;
}

/**
 * An expert pool shared by several layers (`share experts`): `uses` lists [layers reading one
 * pool, pools with that many]. Each layer's own reads are in `banks`; the union a batch touches
 * across the layers of one pool is E·(1 − (1 − k/E)^(layers·draws·B)) copies.
 */
export interface PoolUse {
  /** The stack whose instances share the pools (its canonical path). */
  readonly stack: string;
  readonly copies: number;
  readonly active: number;
  readonly draws: number;
  /** A skewed router load (hot experts); undefined: uniform routing. */
  readonly load?: RouterLoad;
  /** One copy's params as one layer applies it (adapters included). */
  readonly paramsPerCopy: Q.Rational;
  readonly uses: readonly (readonly [number, bigint])[];
}

/**
 * What a subtree ends in, for the training loss: `undefined` when it holds no weight-bearing
 * layer (transparent), `null` when its last such layer is not a projection, else the width of
 * the final projection (the vocabulary or the classes a cross-entropy runs over).
 */
export type Tail = number | null | undefined;

export interface Totals {
  readonly stored: bigint;
  /** Part of `stored` that routed banks' weight matrices (MoE experts) hold: stored in the `experts` dtype. */
  readonly routedStored: bigint;
  readonly effective: bigint;
  readonly trainable: bigint;
  /** Part of `stored` that belongs to each instance even when the instance's weights are
   * shared (adapters, relaxation LoRA): weight sharing never deduplicates it. */
  readonly perInstanceStored: bigint;
  readonly perInstanceTrainable: bigint;
  readonly active: Q.Rational;
  /** Forward FLOPs per token of weight operations (no attention context term). */
  readonly flops: Q.Rational;
  /** The part of `flops` that applies trainable weights: their weight gradients cost as much again. */
  readonly trainableFlops: Q.Rational;
  /** Banks of identical tensors (MoE experts) keyed by `bankKey`. */
  readonly banks: ReadonlyMap<string, BankUse>;
  /** Expert pools shared across layers (`share experts`). */
  readonly pools: readonly PoolUse[];
  /** Dropout mask elements per token (one byte each) saved for the backward pass. */
  readonly maskElements: Q.Rational;
  readonly tail: Tail;
  /** The fewest positions any learned absolute position table covers (undefined: no table). */
  readonly positionLimit: number | undefined;
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
  /**
   * Ws built once per step for the tied readers that need them, by store key (`WeightBuild`):
   * counted once however many readers report them, and added to `generationMacs` by the model's
   * whole (`withBuilds`).
   */
  readonly builds: ReadonlyMap<string, WeightBuild>;
  /**
   * The part of `generationMacs` that forms a store's W from its factors (`factorize`): instances
   * reading one store under `share` form it once per step, so the walk counts it per store, as
   * `stored` (a template bank's or dictionary's W differs per instance: not in here).
   */
  readonly storeGenerationMacs: bigint;
  /** MACs computed once before the model serves, independent of tokens (Arrow's prototypes). */
  readonly setupMacs: bigint;
  /** Bytes of integer indices stored beside the weights (VB-LoRA top-k indices), as params. */
  readonly perSample: boolean;
  /** Attention entries keyed by their geometry. */
  readonly attention: ReadonlyMap<string, AttentionEntry>;
  /** Recurrent state per sequence: elements at the analysis dtype, and bits of states with their own dtype. */
  readonly state: RecurrentTotals;
  /**
   * Stores shared across the whole model (an adapter bank, a hashed memory, an SSN bank):
   * key → size. Counted once however many subtrees report them.
   */
  readonly globals: ReadonlyMap<string, bigint>;
}

export interface RecurrentTotals {
  readonly elements: bigint;
  readonly fixedBits: bigint;
}

export const NO_STATE: RecurrentTotals = { elements: 0n, fixedBits: 0n };

export const EMPTY_TOTALS: Totals = {
  stored: 0n,
  routedStored: 0n,
  effective: 0n,
  trainable: 0n,
  perInstanceStored: 0n,
  perInstanceTrainable: 0n,
  active: Q.ZERO,
  flops: Q.ZERO,
  trainableFlops: Q.ZERO,
  banks: new Map(),
  pools: [],
  maskElements: Q.ZERO,
  tail: undefined,
  positionLimit: undefined,
  crossKvFlops: Q.ZERO,
  crossKvActive: Q.ZERO,
  selfKv: NO_SELF_KV,
  activation: Q.ZERO,
  embeddingParams: 0n,
  generationMacs: 0n,
  storeGenerationMacs: 0n,
  builds: new Map(),
  setupMacs: 0n,
  perSample: false,
  attention: new Map(),
  state: NO_STATE,
  globals: new Map(),
};

/** An entry with its cache reach, when it has one (absent keeps entries comparable by shape). */
function withCache(e: AttentionEntry, cache: AttentionEntry['cache']): AttentionEntry {
  return cache ? { ...e, cache } : e;
}

/** The key of a routed bank in `Totals.banks`: banks of one shape of routing are read alike. */
export function bankKey(copies: number, topK: number, draws: number, load?: RouterLoad): string {
  return `${copies}:${topK}:${draws}${load ? `:${load.hot}:${load.share.num}/${load.share.den}` : ''}`;
}

export function attentionKey(info: AttentionInfo): string {
  return `${info.variant}|${info.queryHeads}|${info.kvHeads}|${info.scoreDim}|${info.valueDim}|${info.positionScoreDim ?? '-'}|${info.kvElementsPerToken}|${info.prefixElementsPerToken ?? '-'}|${info.decode ? `${info.decode.scoreDim}+${info.decode.valueDim}` : '-'}|${info.window ?? '-'}|${info.chunk ?? '-'}|${info.causal ? 'c' : 'b'}|${info.cross ? 'x' : 's'}`;
}

/**
 * The sum of any number of totals in one pass. Merging the attention and globals maps into one
 * mutable map keeps a stack of N distinct instances linear: adding pairwise would copy the
 * growing map once per instance (quadratic in the number of distinct attention geometries).
 */
export function sumTotals(parts: Iterable<Totals>): Totals {
  let stored = 0n, routedStored = 0n, effective = 0n, trainable = 0n, perInstanceStored = 0n, perInstanceTrainable = 0n;
  let kvStored = 0n, kvPerInstanceStored = 0n, kvPerInstanceTrainable = 0n, kvEffective = 0n;
  let embeddingParams = 0n, generationMacs = 0n, storeGenerationMacs = 0n, setupMacs = 0n, stateElements = 0n, stateBits = 0n;
  let perSample = false;
  const active: Q.Rational[] = [], flops: Q.Rational[] = [], crossKvFlops: Q.Rational[] = [], crossKvActive: Q.Rational[] = [];
  const kvActive: Q.Rational[] = [], kvFlops: Q.Rational[] = [], activation: Q.Rational[] = [];
  const trainableFlops: Q.Rational[] = [], kvTrainableFlops: Q.Rational[] = [], maskElements: Q.Rational[] = [];
  const banks = new Map<string, { copies: number; active: number; draws: number; load: RouterLoad | undefined; paramsPerCopy: Q.Rational[]; matrixParamsPerCopy: Q.Rational[]; storedMatrix: bigint }>();
  const pools: PoolUse[] = [];
  let tail: Tail = undefined;
  let positionLimit: number | undefined;
  const attention = new Map<string, { info: AttentionEntry['info']; cache: AttentionEntry['cache']; instances: Q.Rational[]; producers: Q.Rational[] }>();
  let globals: Map<string, bigint> | undefined;
  let onlyGlobals: ReadonlyMap<string, bigint> = EMPTY_TOTALS.globals;
  let builds: Map<string, WeightBuild> | undefined;
  let onlyBuilds: ReadonlyMap<string, WeightBuild> = EMPTY_TOTALS.builds;
  let count = 0;
  let only: Totals = EMPTY_TOTALS;
  for (const t of parts) {
    count++;
    only = t;
    stored += t.stored;
    routedStored += t.routedStored;
    effective += t.effective;
    trainable += t.trainable;
    perInstanceStored += t.perInstanceStored;
    perInstanceTrainable += t.perInstanceTrainable;
    kvStored += t.selfKv.stored;
    kvPerInstanceStored += t.selfKv.perInstanceStored;
    kvPerInstanceTrainable += t.selfKv.perInstanceTrainable;
    kvEffective += t.selfKv.effective;
    embeddingParams += t.embeddingParams;
    generationMacs += t.generationMacs;
    storeGenerationMacs += t.storeGenerationMacs;
    setupMacs += t.setupMacs;
    stateElements += t.state.elements;
    stateBits += t.state.fixedBits;
    perSample ||= t.perSample;
    active.push(t.active);
    flops.push(t.flops);
    crossKvFlops.push(t.crossKvFlops);
    crossKvActive.push(t.crossKvActive);
    kvActive.push(t.selfKv.active);
    kvFlops.push(t.selfKv.flops);
    activation.push(t.activation);
    trainableFlops.push(t.trainableFlops);
    kvTrainableFlops.push(t.selfKv.trainableFlops);
    maskElements.push(t.maskElements);
    // Parts come in the model's order: the last one holding a weight-bearing layer sets the tail.
    if (t.tail !== undefined) tail = t.tail;
    if (t.positionLimit !== undefined && (positionLimit === undefined || t.positionLimit < positionLimit)) positionLimit = t.positionLimit;
    for (const p of t.pools) pools.push(p);
    for (const [k, b] of t.banks) {
      const acc = banks.get(k);
      if (acc) {
        acc.paramsPerCopy.push(b.paramsPerCopy);
        acc.matrixParamsPerCopy.push(b.matrixParamsPerCopy);
        acc.storedMatrix += b.storedMatrix;
      } else banks.set(k, { copies: b.copies, active: b.active, draws: b.draws, load: b.load, paramsPerCopy: [b.paramsPerCopy], matrixParamsPerCopy: [b.matrixParamsPerCopy], storedMatrix: b.storedMatrix });
    }
    for (const [k, e] of t.attention) {
      const acc = attention.get(k);
      if (acc) {
        acc.instances.push(e.instances);
        acc.producers.push(e.producers);
      } else attention.set(k, { info: e.info, cache: e.cache, instances: [e.instances], producers: [e.producers] });
    }
    // Globals are shared stores keyed by identity: a later report of the same key replaces it.
    if (t.globals.size > 0) {
      if (!globals && onlyGlobals.size === 0) onlyGlobals = t.globals;
      else {
        globals ??= new Map(onlyGlobals);
        for (const [k, v] of t.globals) globals.set(k, v);
      }
    }
    // Builds too: one W per store key, however many readers report it.
    if (t.builds.size > 0) {
      if (!builds && onlyBuilds.size === 0) onlyBuilds = t.builds;
      else {
        builds ??= new Map(onlyBuilds);
        for (const [k, v] of t.builds) builds.set(k, v);
      }
    }
  }
  if (count === 0) return EMPTY_TOTALS;
  if (count === 1) return only;
  const mergedAttention = new Map<string, AttentionEntry>();
  for (const [k, e] of attention) mergedAttention.set(k, withCache({ info: e.info, instances: Q.sum(e.instances), producers: Q.sum(e.producers) }, e.cache));
  const mergedBanks = new Map<string, BankUse>();
  for (const [k, b] of banks) mergedBanks.set(k, { copies: b.copies, active: b.active, draws: b.draws, ...(b.load ? { load: b.load } : {}), paramsPerCopy: Q.sum(b.paramsPerCopy), matrixParamsPerCopy: Q.sum(b.matrixParamsPerCopy), storedMatrix: b.storedMatrix });
  return {
    stored,
    routedStored,
    effective,
    trainable,
    perInstanceStored,
    perInstanceTrainable,
    active: Q.sum(active),
    flops: Q.sum(flops),
    trainableFlops: Q.sum(trainableFlops),
    banks: mergedBanks,
    pools,
    maskElements: Q.sum(maskElements),
    tail,
    positionLimit,
    crossKvFlops: Q.sum(crossKvFlops),
    crossKvActive: Q.sum(crossKvActive),
    selfKv: {
      stored: kvStored,
      perInstanceStored: kvPerInstanceStored,
      perInstanceTrainable: kvPerInstanceTrainable,
      effective: kvEffective,
      active: Q.sum(kvActive),
      flops: Q.sum(kvFlops),
      trainableFlops: Q.sum(kvTrainableFlops),
    },
    activation: Q.sum(activation),
    embeddingParams,
    generationMacs,
    storeGenerationMacs,
    builds: builds ?? onlyBuilds,
    setupMacs,
    perSample,
    attention: mergedAttention,
    state: { elements: stateElements, fixedBits: stateBits },
    globals: globals ?? onlyGlobals,
  };
}

function scaleBanks(banks: ReadonlyMap<string, BankUse>, by: Q.Rational, storedTimes: bigint): ReadonlyMap<string, BankUse> {
  if (banks.size === 0) return banks;
  const out = new Map<string, BankUse>();
  for (const [k, e] of banks) out.set(k, { ...e, paramsPerCopy: Q.mul(e.paramsPerCopy, by), matrixParamsPerCopy: Q.mul(e.matrixParamsPerCopy, by), storedMatrix: e.storedMatrix * storedTimes });
  return out;
}

/**
 * The banks with their stored matrices replaced: a stack's pieces count their stores apart from
 * their per-token use (walk.ts), `stored` giving each bank key's stored matrix params.
 */
export function withBankStores(banks: ReadonlyMap<string, BankUse>, stored: ReadonlyMap<string, bigint>): ReadonlyMap<string, BankUse> {
  if (banks.size === 0) return banks;
  const out = new Map<string, BankUse>();
  for (const [k, e] of banks) out.set(k, { ...e, storedMatrix: stored.get(k) ?? 0n });
  return out;
}

/**
 * `n` instances of a subtree whose stored part is attributed separately (`storedTimes`, the
 * number of instances that own their store) and whose per-token quantities scale by
 * `capacity` (the fraction of tokens routed through them; 1 without routing).
 */
export function repeatTotals(t: Totals, n: bigint, storedTimes: bigint, capacity: Q.Rational = Q.ONE): Totals {
  const nc = Q.mul(Q.fromBigInt(n), capacity);
  const attention = new Map<string, AttentionEntry>();
  for (const [k, e] of t.attention) attention.set(k, { ...e, instances: Q.mul(e.instances, nc), producers: Q.mul(e.producers, nc) });
  return {
    stored: t.stored * storedTimes,
    routedStored: t.routedStored * storedTimes,
    effective: t.effective * n,
    trainable: t.trainable * storedTimes,
    perInstanceStored: t.perInstanceStored * n,
    perInstanceTrainable: t.perInstanceTrainable * n,
    active: Q.mul(t.active, nc),
    flops: Q.mul(t.flops, nc),
    trainableFlops: Q.mul(t.trainableFlops, nc),
    banks: scaleBanks(t.banks, nc, storedTimes),
    // n copies of a subtree holding pooled stacks hold n times as many pools.
    pools: n === 1n ? t.pools : n === 0n ? [] : t.pools.map((p) => ({ ...p, uses: p.uses.map(([layers, count]) => [layers, count * n] as const) })),
    maskElements: Q.mul(t.maskElements, nc),
    tail: n > 0n ? t.tail : undefined,
    positionLimit: n > 0n ? t.positionLimit : undefined,
    crossKvFlops: Q.mul(t.crossKvFlops, nc),
    crossKvActive: Q.mul(t.crossKvActive, nc),
    selfKv: {
      stored: t.selfKv.stored * n,
      perInstanceStored: t.selfKv.perInstanceStored * n,
      perInstanceTrainable: t.selfKv.perInstanceTrainable * n,
      effective: t.selfKv.effective * n,
      active: Q.mul(t.selfKv.active, nc),
      flops: Q.mul(t.selfKv.flops, nc),
      trainableFlops: Q.mul(t.selfKv.trainableFlops, nc),
    },
    activation: Q.mul(t.activation, nc),
    embeddingParams: t.embeddingParams * n,
    generationMacs: t.generationMacs * n,
    storeGenerationMacs: t.storeGenerationMacs * n,
    // n instances reading a W from outside them read one W (the walk folds a per-instance one first).
    builds: t.builds,
    setupMacs: t.setupMacs * n,
    perSample: t.perSample,
    attention,
    // Every instance keeps its own state per sequence, however few tokens a router sends it.
    state: { elements: t.state.elements * n, fixedBits: t.state.fixedBits * n },
    globals: t.globals,
  };
}

/** The same subtree's per-token quantities when it borrows its self-attention KV (CLA, MLKV). */
export function borrowKv(t: Totals): Totals {
  const attention = new Map<string, AttentionEntry>();
  for (const [k, e] of t.attention) attention.set(k, e.info.cross ? e : { ...e, producers: Q.ZERO });
  return {
    ...t,
    effective: t.effective - t.selfKv.effective,
    active: Q.sub(t.active, t.selfKv.active),
    flops: Q.sub(t.flops, t.selfKv.flops),
    trainableFlops: Q.sub(t.trainableFlops, t.selfKv.trainableFlops),
    selfKv: NO_SELF_KV,
    attention,
  };
}

/**
 * The builds whose owner path holds `step` (the walk's step standing for a run of stack instances)
 * moved into `generationMacs`: each instance of the run has its own such W, so from here on they
 * multiply with the instances (`repeatTotals`) instead of being one W.
 */
export function foldBuilds(t: Totals, step: PathStep): Totals {
  let folded = 0n;
  let kept: Map<string, WeightBuild> | undefined;
  for (const [k, b] of t.builds) {
    if (!b.owner.includes(step)) continue;
    kept ??= new Map(t.builds);
    kept.delete(k);
    folded += b.macs;
  }
  return kept ? { ...t, generationMacs: t.generationMacs + folded, builds: kept } : t;
}

/** A model's whole with its shared builds counted, once each, into `generationMacs`. */
export function withBuilds(t: Totals): Totals {
  if (t.builds.size === 0) return t;
  let macs = 0n;
  for (const b of t.builds.values()) macs += b.macs;
  return { ...t, generationMacs: t.generationMacs + macs, builds: EMPTY_TOTALS.builds };
}
