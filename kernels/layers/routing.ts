// Mixture-of-Recursions routing (`route STACK: mor(recursions: R, capacity: [...])`): expert-choice
// routing per recursion step, as the engine counts it (src/core/analysis/walk.ts).
//
// Instance i of the N-instance stack belongs to recursion ⌊i·R/N⌋. Recursion r has a router, a
// [width, 1] initializer `<stack>.router[r]` (the engine stores width·R router parameters), that
// scores the tokens still active after recursion r − 1 (all tokens for r = 0): g = σ(x·w). Per
// sequence the top k_r = max(1, round(c_r·S)) of them are kept (TopK, then sorted back into
// sequence order so causal attention among them is a plain lower triangle); their rows are
// gathered from the [T, width] hidden state (GatherND), the recursion's instances run on those
// rows only, and the gated update x + g·(f(x) − x) — MoR's H + g·f(H) for a residual block — is
// written back (ScatterND). The others pass through unchanged. So the measured
// work is the engine's: c_r of the tokens through recursion r's layers, the router of r on the
// c_{r−1} tokens that reached it; attention inside recursion r attends over the selected tokens
// (the KV the engine counts: c_r·S positions per layer). Rounding k_r to whole tokens is the only
// difference from the engine's exact c_r·S.
//
// K/V borrowed across recursions (`share kv STACK: tied`: MoR's recursive KV sharing, a halting
// stack's shared cache) are the producer's K/V of every token it cached, the tokens that reached
// its recursion, masked causally by their true positions: a token that left (halted, or was not
// kept) after the producer's recursion stays a key with the K/V it wrote there — the last state
// copied forward, as ACT and SUT carry a halted token's state, at the cache the stack shares — and
// nothing is recomputed for it. This is the reference's recursive KV sharing: with kv_sharing
// every recursion's attention reads the first recursion's cache of all tokens
// (raymin0223/mixture_of_recursions@82c97f2, expert_choice_router.py, "kv_sharing" branch).

// A decode step runs as the reference code runs one (raymin0223/mixture_of_recursions@82c97f2,
// model/mor_model/expert_choice_router.py): each recursion keeps top_k = max(1, int(c_r·seq_len))
// tokens of the forward pass, which for a step of one token is that token, so the new token runs
// every recursion, its update gated by its router's weight; recursion r's layers attend the cache a
// prefill left them, the max(1, round(c_r·past)) tokens it selected (recursion-wise caching), or,
// under `share kv`, the producer's cache (recursive KV sharing: the first recursion's KV, every
// token that reached it). So the step's KV is the engine's (Σ_r c_r·past positions per layer of
// recursion r, up to rounding) and its compute is every recursion in full, where the engine counts
// the expectation Σ_r c_r·F_r (docs/probes.md, "Mixture-of-Recursions"). Per-token halting's
// decode step is the same rule with the halting unit's continue probability as the gate.

import { ExportError, pathText, storePath, type ModuleNode, type PathStep, type StackRoute } from '../engine-bridge.js';
import { attr, DataType } from '../onnx-writer.js';
import { positions, reshape, type EmitContext } from './context.js';
import { crossSourceOf, setCrossSource } from './cross-attention.js';
import { streamHasRelativeBias } from './relative-position.js';

type Rational = StackRoute['capacities'][number];
type KvEntry = EmitContext['kv'] extends Map<string, infer E> ? E : never;

/** Tokens selected by one recursion: sorted positions [B, k] within the sequence, or all of them. */
interface Selection {
  /** Sorted positions [B, k]; undefined: every token of the sequence, in order. */
  readonly positions: string | undefined;
  /** [B, k] as an int64 shape vector (the routed context's idsShape). */
  readonly shape: string;
}

const selectionOf = new WeakMap<KvEntry, Selection>();

/** The contexts of routed recursions and the positions of their tokens. */
const routedContexts = new WeakMap<EmitContext, string>();

/**
 * In a routed recursion's context, the selected tokens' positions in their sequence, [B, k]
 * int64; undefined elsewhere. The context's own positions (`positions(ctx)`, 0..k−1) order the
 * tokens for the causal mask; anything that depends on where a token sits in its sequence
 * (rotary tables) must read these instead.
 */
export function routedPositions(ctx: EmitContext): string | undefined {
  return routedContexts.get(ctx);
}

/**
 * The K/V map of a routed recursion: entries it sets belong to its selection; an entry of another
 * selection (an earlier recursion's, or the unrouted stream's) is read whole, with its rows'
 * sequence positions (`keyPositions`) for the causal mask by true position (attention.ts).
 */
class RoutedKv extends Map<string, KvEntry> {
  private readonly cache = new Map<KvEntry, KvEntry>();

  constructor(
    private readonly ctx: EmitContext,
    private readonly base: Map<string, KvEntry>,
    private readonly sel: Selection,
  ) {
    super();
  }

  override get(key: string): KvEntry | undefined {
    const e = this.base.get(key);
    if (!e) return undefined;
    const from = selectionOf.get(e);
    if (from === this.sel) return e;
    let hit = this.cache.get(e);
    if (!hit) {
      // The producer's rows: its selection's sorted positions, or the whole sequence in order.
      hit = { ...e, keyPositions: from?.positions ?? positions(this.ctx) };
      this.cache.set(e, hit);
    }
    return hit;
  }

  override set(key: string, e: KvEntry): this {
    selectionOf.set(e, this.sel);
    this.base.set(key, e);
    return this;
  }
}

/** Per-sequence rows [B, k] of a [B·n, …] tensor → flat row indices [B·k, 1] for GatherND/ScatterND. */
function flatRows(ctx: EmitContext, rows: string, n: string): string {
  const g = ctx.g;
  const batch = g.op('Gather', [ctx.idsShape, g.ints([0], true)], { axis: attr.int(0) });
  const offsets = g.op('Unsqueeze', [g.op('Range', [g.ints([0], true), g.op('Mul', [batch, n]), n]), g.ints([1])], undefined, { hint: 'row_offsets' }); // [B, 1]
  return reshape(ctx, g.op('Add', [rows, offsets]), [-1, 1]);
}

/** The recursion of instance i of an N-instance stack routed into R recursions (the engine's ⌊i·R/N⌋). */
export function recursionRanges(n: number, r: number): [number, number][] {
  return Array.from({ length: r }, (_, k) => [Math.ceil((k * n) / r), Math.ceil(((k + 1) * n) / r)] as [number, number]);
}

/** Refuses what a routed recursion cannot run on a subset of tokens, naming the layer. */
export function checkRoutable(node: ModuleNode, steps: readonly PathStep[]): void {
  const where = pathText(steps);
  switch (node.kind) {
    case 'layer': {
      const a = node.cost.attention;
      if (a?.window !== undefined) throw new ExportError(`${where}: a sliding window inside a routed recursion would count selected tokens, not positions; not supported by the ONNX exporter`);
      if (['PositionEmbedding', 'RelativePositionBias', 'MLA'].includes(node.layerKind)) throw new ExportError(`${where}: ${node.layerKind} inside a routed recursion is not supported by the ONNX exporter`);
      return;
    }
    case 'block':
      for (const m of node.members) checkRoutable(m.node, [...steps, { kind: 'name', name: m.name }]);
      return;
    case 'stack': {
      let index = 0;
      for (const run of node.runs) {
        checkRoutable(run.node, [...steps, { kind: 'index', index }]);
        // An exported model's instances are built one by one, far below 2⁵³: the index is exact.
        index += Number(run.count);
      }
    }
  }
}

/** One recursion's tokens: their rows, gates and the context the recursion's layers run in. */
export interface Routed {
  /** The selected rows of the hidden state, [B·k, width]. */
  readonly x: string;
  /** The context for the recursion's layers: [B, k] tokens, its own masks and K/V view. */
  readonly ctx: EmitContext;
  /** Flat row indices [B·k, 1] into the [T, width] hidden state; undefined: every row (a halting decode step). */
  readonly rows: string | undefined;
  /** Gates [B·k, 1]. */
  readonly gates: string;
}

/** The routing state of one routed stack across its recursions. */
export class Router {
  private selection: Selection | undefined;
  private scored: string | undefined;

  /**
   * `scorer`: the probabilities [B·n, 1] the still-active rows [B·n, width] are ranked and gated
   * by — per-token halting's continue probability (halting.ts); without it, MoR's router of the
   * recursion, σ(x·w_r).
   */
  constructor(
    private readonly ctx: EmitContext,
    private readonly stackSteps: readonly PathStep[],
    private readonly width: number,
    private readonly scorer?: (active: string) => string,
  ) {
    // T5's table is registered on the stream's context and read by position 0…S − 1; a routed
    // step numbers its selection, so its self-attention would silently lose the bias.
    if (streamHasRelativeBias(ctx)) throw new ExportError(`${pathText(stackSteps)}: a relative position bias table (T5) over a routed stack is not supported by the ONNX exporter`);
  }

  /**
   * A decode step of recursion (or halting step) r, reached by a share c > 0 of the tokens: the
   * prefill's selection for a sequence of one token — k = max(1, round(c·1)) = 1, the new token runs
   * the step, its update weighed by its gate p (MoR's router σ(x·w_r), halting's continue
   * probability), x + p·(f(x) − x). The step's
   * layers read the cache a prefill of the `past` tokens left them: the k = max(1, round(c·past))
   * tokens that reached the step, taken to be the most recent ones (the cache's contents are
   * synthetic; which tokens they were is the data's), so the new token at position `past` sees them
   * at positions past − k … past − 1 (relative offsets) and rotates at `past` itself.
   */
  private decodeStep(r: number, capacity: Rational, h: string): Routed {
    const g = this.ctx.g;
    const ctx = this.ctx;
    const { batch, past } = ctx.decode!;
    const cached = Math.max(1, Math.floor((2 * Number(capacity.num) * past + Number(capacity.den)) / (2 * Number(capacity.den))));
    const gates = this.score(r, h); // [B, 1]
    const inner: EmitContext = { ...ctx, decode: { batch, past: cached }, masks: new Map(), positions: undefined, subsequence: true };
    const source = crossSourceOf(ctx);
    if (source) setCrossSource(inner, source);
    routedContexts.set(inner, reshape(ctx, g.ints(new Array<number>(batch).fill(past)), [batch, 1])); // [B, 1]: the new token's place
    return { x: h, ctx: inner, rows: undefined, gates };
  }

  /** Selects recursion r's tokens from the hidden state h [T, width]: capacity c of the sequence. */
  select(r: number, capacity: Rational, h: string): Routed {
    if (this.ctx.decode) return this.decodeStep(r, capacity, h);
    const g = this.ctx.g;
    const ctx = this.ctx;
    const batch1 = g.op('Gather', [ctx.idsShape, g.ints([0])], { axis: attr.int(0) }, { hint: 'batch' }); // [1]
    const seq1 = g.op('Gather', [ctx.idsShape, g.ints([1])], { axis: attr.int(0) }, { hint: 'seq' }); // [1]
    // k = max(1, round(c·S)) = max(1, ⌊(2·num·S + den) / (2·den)⌋), on the shape's integers.
    const num = Number(capacity.num);
    const den = Number(capacity.den);
    const k = g.op('Max', [g.op('Div', [g.op('Add', [g.op('Mul', [seq1, g.ints([2 * num])]), g.ints([den])]), g.ints([2 * den])]), g.ints([1])], undefined, { hint: `capacity${r}` }); // [1]
    // Scores of the still-active tokens, [B, n]: all of them at r = 0.
    const active = this.scored ?? h;
    const probs = this.score(r, active); // [B·n, 1]
    const scores = g.op('Reshape', [probs, g.op('Concat', [batch1, g.ints([-1])], { axis: attr.int(0) })], undefined, { hint: `route${r}` });
    const top = g.op('TopK', [scores, k], { axis: attr.int(-1) }, { outputs: 2, hint: `top${r}` });
    const topIdx = g.nodes[g.nodes.length - 1]!.outputs[1]!;
    const picked = this.selection?.positions ? g.op('GatherElements', [this.selection.positions, topIdx], { axis: attr.int(1) }, { hint: 'picked' }) : topIdx;
    // Back into sequence order (positions are below 2^24, exact in float32).
    g.op('TopK', [g.op('Cast', [picked], { to: attr.int(DataType.FLOAT) }), k], { axis: attr.int(-1), largest: attr.int(0) }, { outputs: 2, hint: 'order' });
    const order = g.nodes[g.nodes.length - 1]!.outputs[1]!;
    const positions = g.op('GatherElements', [picked, order], { axis: attr.int(1) }, { hint: `sel${r}` }); // [B, k]
    const gates = reshape(ctx, g.op('GatherElements', [top, order], { axis: attr.int(1) }), [-1, 1]); // [B·k, 1]
    const seqScalar = g.op('Gather', [ctx.idsShape, g.ints([1], true)], { axis: attr.int(0) });
    const rows = flatRows(ctx, positions, seqScalar);
    const x = g.op('GatherND', [h, rows], undefined, { hint: `x_rec${r}` }); // [B·k, width]
    g.parts.recursions++;
    const shape = g.op('Concat', [batch1, k], { axis: attr.int(0) }, { hint: 'routed_shape' });
    const selection: Selection = { positions, shape };
    // Its own tokens: [B, k], masks over them, positions 0..k-1 (order is preserved, so the
    // causal mask among the selected tokens is the lower triangle). A subsequence: attention on
    // the standard ops (the fused attention's sequence lengths are made once per graph).
    const inner: EmitContext = {
      ...ctx,
      idsShape: shape,
      seqLen: g.op('Gather', [shape, g.ints([1], true)], { axis: attr.int(0) }, { hint: 'routed_seq' }),
      masks: new Map(),
      positions: undefined,
      kv: new RoutedKv(ctx, ctx.kv, selection),
      subsequence: true,
    };
    // Cross-attention inside the step (SUT's decoder): the selected tokens' queries attend the
    // whole source, which the selection does not change.
    const source = crossSourceOf(ctx);
    if (source) setCrossSource(inner, source);
    this.selection = selection;
    routedContexts.set(inner, positions);
    return { x, ctx: inner, rows, gates };
  }

  /** The gates [B·n, 1] of rows [B·n, width] before recursion r: the scorer's, or MoR's router σ(x·w_r). */
  private score(r: number, rows: string): string {
    if (this.scorer) return this.scorer(rows);
    const g = this.ctx.g;
    return g.op('Sigmoid', [g.op('MatMul', [rows, this.routerWeight(r)], undefined, { hint: `router${r}` })]);
  }

  /** MoR's router of recursion r, [width, 1] (the engine stores width·R router parameters). */
  private routerWeight(r: number): string {
    return this.ctx.g.weight(`${storePath(this.ctx.model, this.stackSteps)}.router[${r}]`, [this.width, 1], Math.sqrt(3 / this.width)).name;
  }

  /** x + g·(y − x) on the selected rows; the rest unchanged. Returns the new hidden state [T, width]. */
  merge(routed: Routed, h: string, y: string): string {
    const g = this.ctx.g;
    const updated = g.op('Add', [routed.x, g.op('Mul', [g.op('Sub', [y, routed.x]), routed.gates])], undefined, { hint: 'routed_rows' });
    if (routed.rows === undefined) return updated;
    // The selected rows are distinct, so writing them (no reduction) is exact, and ScatterND
    // without a reduction runs in fp16 on the CPU provider too (its 'add' does not).
    const out = g.op('ScatterND', [h, routed.rows, updated], undefined, { hint: 'routed' });
    // The next router scores the tokens this recursion kept, after their update.
    this.scored = g.op('GatherND', [out, routed.rows], undefined, { hint: 'active' });
    return out;
  }
}
