// What every layer builder shares: the emit context (graph, model, the runtime batch/sequence
// shape, caches of masks and K/V), the hidden-state type, and how a layer's weight resolves to
// the one initializer of its store (tied, shared or its own), with its synthetic scale.

import type { ArgValue, SharedPrefix } from '../../src/core/index.js';
import { factorStoreAt, sparseMasked, tieAllOwnerSteps, tiedExecution } from '../../src/core/index.js';
import { ExportError, modifiersFor, nodeAt, pathText, tiedWeight, weightStoreKey, type LayerNode, type LoadedModel, type PathStep, type WeightSpec } from '../engine-bridge.js';
import type { GraphBuilder, StoredWeight } from '../graph-builder.js';
import { headSharedWeight } from './head-share.js';
import { generatedWeight } from '../generated/resolve.js';
import type { GenerationMode } from '../generated/state.js';
import { sharedPrefixPositions } from './shared-prefix.js';
import { attr } from '../onnx-writer.js';

export interface EmitContext {
  readonly g: GraphBuilder;
  readonly model: LoadedModel;
  /** Graph input: token ids [batch, seq], int64. */
  readonly ids: string;
  /** Shape(ids): [B, S]. */
  readonly idsShape: string;
  /** S as an int64 scalar. */
  readonly seqLen: string;
  /** Additive attention masks [S, S] by window ('full' or the window size). */
  readonly masks: Map<string, string>;
  /** Positions 0..S-1, int64 [S], made on first use. */
  positions?: string;
  /**
   * K and V of every attention layer emitted so far, by path, for layers that borrow them.
   * `keyPositions`: set when a routed recursion reads the K/V of another selection (routing.ts):
   * the sequence positions of its rows, int64 [B, n] or [n], for a mask by true position.
   */
  readonly kv: Map<string, { readonly k: string; readonly v: string; readonly kvHeads: number; readonly headDim: number; readonly keyPositions?: string }>;
  /**
   * Set for a decode-step graph: one new token per sequence after `past` cached positions.
   * `micro`: a token smashing micro step (layers/token-smashing.ts): the smashed members do not run.
   */
  readonly decode?: { readonly batch: number; readonly past: number; readonly micro?: boolean };
  /** Generated weights (hash, bank, dict, generated adapters): folded once ('materialised', default) or rebuilt every forward ('live'). */
  readonly generation?: GenerationMode;
  /**
   * 'fused': ORT's com.microsoft contrib ops where the CPU and CUDA providers both implement them
   * (GroupQueryAttention, MultiHeadAttention, (Skip)SimplifiedLayerNormalization, …);
   * 'standard' (or unset): ai.onnx ops only, as before the option existed.
   */
  readonly ops?: OpsMode;
  /**
   * Set on a context whose tokens are not the graph's sequence — a routed step's selection
   * (routing.ts), smashed positions (token-smashing.ts): the fused attention ops read sequence
   * lengths and positions made once per graph, so attention there runs on the standard ops
   * (`fusedAttentionOps`). Every other fused op works per row and keeps the graph's mode, so a
   * store read inside and outside such a context (an expert bank of a shared halting step) is
   * one initializer in one layout.
   */
  readonly subsequence?: boolean;
  /**
   * Set on the context of the members a `parallel streams(…)` statement runs per stream: the
   * batch rows are stream-major (row p·B + b is stream p of sequence b) and every causal
   * self-attention keeps `prefixTokens` learned keys and values per stream in front of its own
   * (layers/parallel-streams.ts).
   */
  readonly streams?: { readonly count: number; readonly prefixTokens: number; /** Hogwild! workers over one cache (workersContext). */ readonly sharedCache?: boolean };
  /**
   * Set on a prefill whose rows are a prompt shared by continuations (shared-prefix.ts): the
   * positions restart per continuation and attention masks the other continuations.
   */
  readonly sharedPrefix?: SharedPrefix;
}

export type OpsMode = 'fused' | 'standard';

/** Whether attention emitted with `ctx` may use the fused contrib ops (see `subsequence`). */
export const fusedAttentionOps = (ctx: EmitContext): boolean => ctx.ops === 'fused' && !ctx.subsequence;

/** The hidden state: a [T, width] tensor, or undefined before the first embedding. */
export interface Hidden {
  readonly x: string | undefined;
  readonly width: number;
  /**
   * Convolutional models (conv.ts): x is a feature map [B, width, ...spatial] (width = channels)
   * with these spatial sides.
   */
  readonly spatial?: readonly number[];
  /** x is [B, width], one row per sample (after GlobalPool/Flatten), not per token. */
  readonly samples?: boolean;
}

/** A layer's argument as the engine built the layer (written, or the kind's default); undefined for `none`. */
export function layerArg(node: LayerNode, name: string): ArgValue {
  return node.args.get(name);
}

/** A numeric argument; a missing or non-numeric one is an exporter bug, reported as such. */
export function numberArg(node: LayerNode, name: string): number {
  const v = node.args.get(name);
  if (typeof v !== 'number') throw new ExportError(`${node.layerKind}: argument '${name}' is not a number here (${String(v)})`);
  return v;
}

/** An enum (or other text) argument, or `fallback` when it is `none`. */
export function textArg(node: LayerNode, name: string, fallback: string): string {
  const v = node.args.get(name);
  return typeof v === 'string' ? v : fallback;
}

/** A boolean argument, or `fallback` when it is `none`. */
export function boolArg(node: LayerNode, name: string, fallback: boolean): boolean {
  const v = node.args.get(name);
  return typeof v === 'boolean' ? v : fallback;
}

export function scaleOf(w: WeightSpec): { scale: number; offset: number } {
  switch (w.role) {
    case 'matmul':
    case 'router':
      return { scale: Math.sqrt(3 / (w.matmul?.dIn ?? w.shape[w.shape.length - 1] ?? 1)), offset: 0 };
    case 'conv':
      // Fan-in of one output element: [c_out, c_in/groups, k, …] → (c_in/groups)·k^n.
      return { scale: Math.sqrt(3 / w.shape.slice(1).reduce((a, b) => a * b, 1)), offset: 0 };
    case 'embedding':
      return { scale: 1, offset: 0 };
    case 'position':
      return { scale: 0.1, offset: 0 };
    case 'norm':
      return { scale: 0.1, offset: 1 };
    default:
      return { scale: 0.02, offset: 0 };
  }
}

/**
 * What weight `w` of the layer `node` at `steps` reads: its store's initializer (shared, tied or
 * its own), or the tensor a generator builds from stored ones (hash, bank, dict:
 * kernels/generated), keyed by the same store. Which store, tie included, is the core's store
 * resolver's answer (`weightStoreKey`, `tiedWeight`): the walk counts the same ties.
 */
/** The layer and weight a tied weight reads (`x = … tied y`, a block member tied to a sibling, `tie a = b`) and its store key. */
export interface TiedOwner {
  readonly steps: readonly PathStep[];
  readonly node: LayerNode;
  readonly w: WeightSpec;
  readonly key: string;
}

/**
 * The owner of the store weight `w` of the layer at `steps` reads through a tie: a `tied` main
 * weight's source (the core's store resolver: `tiedWeight`), else a `tie a = b` reaching it (b's
 * path below, the core's tieAllOwnerSteps); undefined for an untied weight. Its key is the
 * resolver's `weightStoreKey`.
 */
export function tiedOwner(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], w: WeightSpec): TiedOwner | undefined {
  let ownerSteps: readonly PathStep[] | undefined;
  let weight = w.name;
  const main = tiedWeight(ctx.model, steps, node, w);
  if (main) {
    if (main.fansOut) throw new ExportError(`'${pathText(steps)}' is tied to '${main.sourceKey}', which fans out over a stack; index one instance`);
    ownerSteps = main.steps;
    weight = main.weight;
  } else {
    const all = modifiersFor(ctx.model, steps, w.name).find((m) => m.effect.kind === 'tie-all');
    ownerSteps = all ? tieAllOwnerSteps(ctx.model, all, steps) : undefined;
  }
  if (!ownerSteps) return undefined;
  const targetNode = nodeAt(ctx.model, ownerSteps);
  const owner = targetNode?.kind === 'layer' ? weightNamed(targetNode, weight) : undefined;
  if (!owner || targetNode?.kind !== 'layer') return undefined;
  return { steps: ownerSteps, node: targetNode, w: owner, key: weightStoreKey(ctx.model, steps, node, w) };
}

/**
 * Whether the tied weight `w` (of the layer `node` at `steps`) applies its owner's factor chain:
 * the core's rule (tied-factors.ts) — the owner applies its factors and this weight applies W as
 * the same projection, under no sparse mask of its own.
 */
export function appliesTiedChain(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], w: WeightSpec, owner: TiedOwner): boolean {
  const store = factorStoreAt(ctx.model, owner.steps, owner.w.name);
  if (!store) return false;
  return tiedExecution(store, w, node.cost.generationMacsPerStep !== undefined, sparseMasked(modifiersFor(ctx.model, steps, w.name), w.name)) === 'factors';
}

export function storeFor(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], w: WeightSpec): StoredWeight {
  const { scale, offset } = scaleOf(w);
  const key = weightStoreKey(ctx.model, steps, node, w);
  const owner = tiedOwner(ctx, node, steps, w);
  if (owner) {
    // The owner's store (generated by the owner's generator, once per key), whichever side of the tie asks first.
    const generated = generatedWeight(ctx, owner.steps, owner.w, owner.key, { steps, w });
    return generated ?? ctx.g.weight(owner.key, w.shape, scale, offset);
  }
  return generatedWeight(ctx, steps, w, key) ?? headSharedWeight(ctx.g, ctx.model, node, steps, w, key, scale, offset) ?? ctx.g.weight(key, w.shape, scale, offset);
}

export function weightNamed(node: LayerNode, name: string): WeightSpec | undefined {
  return node.cost.weights.find((w) => w.name === name);
}

/** A builder's reads of its layer's weights by name (layerWeights). */
export interface LayerWeights {
  /** The weight's spec; a name the layer does not hold is an exporter bug, reported as such. */
  spec(name: string): WeightSpec;
  /** The initializer (or generated tensor) the weight's store resolves to (storeFor). */
  store(name: string): string;
  /** The name back where the layer holds the weight (a bias or norm its arguments may switch off), else undefined. */
  optional(name: string): string | undefined;
}

/** The weight accessors a mixer builder reads its own weights through, one copy for every builder. */
export function layerWeights(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[]): LayerWeights {
  const spec = (name: string): WeightSpec => {
    const w = weightNamed(node, name);
    if (!w) throw new ExportError(`${pathText(steps)}: ${node.layerKind} has no weight '${name}' here`);
    return w;
  };
  return {
    spec,
    store: (name) => storeFor(ctx, node, steps, spec(name)).name,
    optional: (name) => (weightNamed(node, name) ? name : undefined),
  };
}

/**
 * The context of a decode step whose input ids [B, R] hold R new tokens per sequence (a shared
 * prompt's continuations, Hogwild!'s workers), run as B·R rows of one position each (row b·R + r
 * is token r of sequence b): each row's cache is its sequence's, so the decode batch is B·R.
 */
export function tokenRowsContext(ctx: EmitContext, rowsPerSequence: number, hint: string): EmitContext {
  const g = ctx.g;
  const ids = g.op('Reshape', [ctx.ids, g.ints([-1, 1])], undefined, { hint });
  const idsShape = g.op('Shape', [ids], undefined, { hint: 'ids_shape' });
  return {
    ...ctx,
    ids,
    idsShape,
    seqLen: g.op('Gather', [idsShape, g.ints([1], true)], { axis: attr.int(0) }, { hint: 'seq' }),
    masks: new Map(),
    positions: undefined,
    decode: { batch: ctx.decode!.batch * rowsPerSequence, past: ctx.decode!.past },
  };
}

export function reshape(ctx: EmitContext, x: string, shape: readonly number[]): string {
  return ctx.g.op('Reshape', [x, ctx.g.ints(shape)], undefined, { hint: 'r' });
}

/** [T, w] → [B, S, ...rest] using the runtime batch and sequence. */
export function toBatchSeq(ctx: EmitContext, x: string, rest: readonly number[]): string {
  const shape = ctx.g.op('Concat', [ctx.idsShape, ctx.g.ints(rest)], { axis: attr.int(0) }, { hint: 'shape' });
  return ctx.g.op('Reshape', [x, shape], undefined, { hint: 'r' });
}

export function positions(ctx: EmitContext): string {
  if (ctx.decode) return ctx.g.ints([ctx.decode.past]);
  if (!ctx.positions && ctx.sharedPrefix) ctx.positions = sharedPrefixPositions(ctx, ctx.sharedPrefix);
  if (!ctx.positions) ctx.positions = ctx.g.op('Range', [ctx.g.ints([0], true), ctx.seqLen, ctx.g.ints([1], true)], undefined, { hint: 'pos' });
  return ctx.positions;
}

