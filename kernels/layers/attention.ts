// Self-attention (MHA/GQA/MQA, windows, borrowed K/V) for a prefill and for one decode step:
// standard ops here; with fused ops, the contrib ops of fused-attention.ts where they apply.

import { ExportError, keepsBorrowedKvWeights, kvProducerPath, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { fusedAttentionOps, positions, reshape, storeFor, toBatchSeq, weightNamed, type EmitContext } from './context.js';
import { gatedQueries, heads, normedHeads, softmaxWithSinks } from './attention-heads.js';
import { fusedAttention, gqaRotary } from './fused-attention.js';
import { cachedPositions, cacheGroup, visiblePast } from './kv-cache-reach.js';
import { cacheSharers, prefixedMask, prefixTokens, withPrefix } from './parallel-streams.js';
import { projection } from './projection.js';
import { continuationCache, otherContinuations } from './shared-prefix.js';
import { hasRelativeBias, relativeScoreBias } from './relative-position.js';
import { hasRelativePosition, relativePositionTerms } from './rel-position-attention.js';
import { rotate, sameRope, type Rope } from './rotary.js';
import { routedPositions } from './routing.js';
import type { AttentionInfo } from '../../src/core/index.js';
import { attr } from '../onnx-writer.js';

/**
 * How each producer's K (ctx.kv, by the producer's path) stands with respect to rotary: its
 * rope, and whether K is already rotated (standard ops, RotaryEmbedding) or left for the
 * producer's GroupQueryAttention to rotate (do_rotary). A borrower attends the producer's K
 * rotated with the producer's rope, as Transformers caches keys after rotation; a routed MoR
 * recursion reads rows of it (routing.ts), rotated or not as the whole was.
 */
const keyRotation = new WeakMap<object, Map<string, { readonly rope: Rope | undefined; readonly rotated: boolean }>>();
function keyStates(ctx: EmitContext): Map<string, { readonly rope: Rope | undefined; readonly rotated: boolean }> {
  let m = keyRotation.get(ctx.g);
  if (!m) keyRotation.set(ctx.g, (m = new Map()));
  return m;
}

/**
 * The additive causal mask of a prefill, [S, S]: the future blocked, and beyond a sliding
 * `window` the keys too old, or, for chunked attention (Llama 4's attention_chunk_size), the keys
 * of an earlier chunk of `chunk` positions (whose chunk starts, p − p mod chunk, come before the query's).
 */
export function mask(ctx: EmitContext, window: number | undefined, chunk?: number): string {
  const key = chunk !== undefined ? `chunk:${chunk}` : window === undefined ? 'full' : String(window);
  const hit = ctx.masks.get(key);
  if (hit) return hit;
  const g = ctx.g;
  const pos = positions(ctx);
  const rows = g.op('Unsqueeze', [pos, g.ints([1])]);
  const cols = g.op('Unsqueeze', [pos, g.ints([0])]);
  let blocked = g.op('Greater', [cols, rows], undefined, { hint: 'future' });
  if (window !== undefined) {
    const old = g.op('GreaterOrEqual', [g.op('Sub', [rows, cols]), g.ints([window], true)], undefined, { hint: 'old' });
    blocked = g.op('Or', [blocked, old]);
  }
  if (chunk !== undefined) {
    // A past key of an earlier chunk: its chunk starts (p − p mod chunk) before the query's.
    const size = g.ints([chunk], true);
    const start = (p: string) => g.op('Sub', [p, g.op('Mod', [p, size])]);
    blocked = g.op('Or', [blocked, g.op('Greater', [start(rows), start(cols)], undefined, { hint: 'earlier_chunk' })]);
  }
  // A shared prompt's continuations (shared-prefix.ts): each sees the prompt and itself only.
  if (ctx.sharedPrefix) blocked = g.op('Or', [blocked, otherContinuations(ctx, ctx.sharedPrefix)]);
  const m = g.op('Where', [blocked, g.float(g.dtype === 'fp16' ? -1e4 : -1e9), g.float(0)], undefined, { hint: 'mask' });
  ctx.masks.set(key, m);
  return m;
}

/**
 * The causal mask [B, 1, k, n] of a routed recursion's queries over another selection's keys: a
 * key is seen when its sequence position is not after the query's (routing.ts's RoutedKv).
 */
function maskByPosition(ctx: EmitContext, steps: readonly PathStep[], info: AttentionInfo, keyPositions: string): string {
  const g = ctx.g;
  const queries = routedPositions(ctx);
  if (!queries || !info.causal || info.window !== undefined || info.chunk !== undefined) throw new ExportError(`${pathText(steps)}: only full causal attention reads another recursion's K/V by position`);
  const rows = g.op('Unsqueeze', [queries, g.ints([2])]); // [B, k, 1]
  const cols = g.op('Unsqueeze', [keyPositions, g.ints([-2])]); // [B, 1, n] or [1, n]
  const blocked = g.op('Greater', [cols, rows], undefined, { hint: 'future_keys' }); // [B, k, n]
  return g.op('Unsqueeze', [g.op('Where', [blocked, g.float(g.dtype === 'fp16' ? -1e4 : -1e9), g.float(0)], undefined, { hint: 'mask' }), g.ints([1])]);
}

/** Self-attention with GQA by grouping queries (keys and values are never repeated). */
export function attention(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { y: string; width: number } {
  const info = node.cost.attention!;
  if (info.cross) throw new ExportError(`${pathText(steps)}: cross-attention is not supported by the ONNX exporter yet`);
  // Chunked attention runs on the standard ops with a chunk mask (in a decode step, over the
  // cache its group holds: decodeAttention), whether it writes its K/V or borrows another layer's.
  const g = ctx.g;
  const { H, KV, hd, G } = heads(node);
  const bias = (n: string) => (weightNamed(node, n) ? n : undefined);
  const asked = gatedQueries(ctx, node, steps, x);
  let q = asked.q; // [B, S, H, hd]
  // Qwen3-Next's output gate: the attention output times sigmoid(gate), before o.
  const gated = (merged: string): string => (asked.gate === undefined ? merged : g.op('Mul', [merged, g.op('Sigmoid', [asked.gate])], undefined, { hint: 'output_gate' }));
  // Rotary (rotary.ts) after the q/k norms: GroupQueryAttention rotates inside itself where it
  // can (gqaRotary); otherwise q and k are rotated here, once per K for all its borrowers.
  const rope = info.rope;
  // GroupQueryAttention takes no sink logits: a layer with sinks runs on the standard ops.
  const sinks = weightNamed(node, 'sinks') !== undefined;
  const chunked = info.chunk !== undefined;
  // ParScale's learned prefixes (parallel-streams.ts) run on the standard ops below: the fused
  // kernels take no keys in front of the causal ones.
  const prefixed = prefixTokens(ctx) > 0 && info.causal;
  if (prefixed && (info.window !== undefined || chunked || sinks || hasRelativeBias(ctx, info) || kvProducerPath(ctx.model, steps))) {
    throw new ExportError(`${pathText(steps)}: parallel streams' prefixes on a windowed, chunked, sink, relative-bias or KV-borrowing attention are not supported by the ONNX exporter`);
  }
  // Hogwild! workers read one cache per sequence for their B·P rows: the standard decode below.
  const workers = cacheSharers(ctx) > 1 && ctx.decode !== undefined;
  // A borrower (CLA, MLKV, recursive KV sharing) reads the producer's K and V and has no K/V
  // projections of its own, so their stores are never read (and not stored) for it.
  const producer = kvProducerPath(ctx.model, steps);
  // A decode step whose cache serves layers of other reaches (a chunked or windowed layer beside
  // a full one), or a chunked layer, runs its group on the standard ops: GroupQueryAttention
  // attends the whole cache it is given, and chunked layers lay their cache out for the standard ops.
  const group = ctx.decode && info.causal ? cacheGroup(ctx, producer ?? steps) : undefined;
  const plainCache = !group || (group.uniform && !group.chunked);
  // A shared prompt's block-sparse mask is the standard ops' (shared-prefix.ts): the fused kernels mask causally only.
  const packed = ctx.sharedPrefix !== undefined;
  // Relative-position attention (rel_pos) adds a position term to the scores: the standard ops.
  const relPos = hasRelativePosition(node);
  if (relPos && (rope || producer || prefixed)) throw new ExportError(`${pathText(steps)}: relative-position attention (rel_pos) with rotary embeddings, a borrowed KV cache or parallel streams' prefixes is not supported by the ONNX exporter`);
  const inGqa = !relPos && gqaRotary(ctx, info) && !hasRelativeBias(ctx, info) && !sinks && !chunked && !prefixed && !workers && !packed && plainCache;
  let k: string;
  let v4: string;
  let kState: { readonly rope: Rope | undefined; readonly rotated: boolean };
  // A routed recursion reading another selection's K/V (routing.ts): the keys' sequence positions.
  let keyPositions: string | undefined;
  if (producer) {
    const borrowed = ctx.kv.get(pathText(producer));
    if (!borrowed) throw new ExportError(`${pathText(steps)} borrows the KV of ${pathText(producer)}, which has none`);
    // Each reader masks the producer's keys with its own window or chunk: only the heads must agree.
    if (borrowed.kvHeads !== KV || borrowed.headDim !== hd) throw new ExportError(`${pathText(steps)} borrows KV of another geometry from ${pathText(producer)}`);
    k = borrowed.k;
    v4 = borrowed.v;
    keyPositions = borrowed.keyPositions;
    // A checkpoint that ships the borrower's K/V projections unused (keep_weights): they are
    // stored, so they are initializers, read by no node.
    if (keepsBorrowedKvWeights(ctx.model, steps)) for (const name of info.kvProducerWeights) storeFor(ctx, node, steps, weightNamed(node, name)!);
    kState = keyStates(ctx).get(pathText(producer)) ?? { rope: undefined, rotated: false };
  } else {
    k = normedHeads(ctx, node, steps, projection(ctx, node, steps, x, 'k', bias('k_bias')).y, KV, hd, 'k_norm', (t) => toBatchSeq(ctx, t, [KV, hd]));
    v4 = toBatchSeq(ctx, projection(ctx, node, steps, x, 'v', bias('v_bias')).y, [KV, hd]);
    if (rope && !inGqa) k = rotate(ctx, k, rope, KV, hd);
    // A prefill names what a decode step's cache of this layer holds, `cache.<path>.k|v`
    // ([B, S, kv_heads, head_dim]; the keys rotated when the graph rotates them, as on the
    // standard ops), so a decode step can be fed the prefill's own cache (test/kernels).
    if (!ctx.decode && info.causal) {
      k = g.op('Identity', [k], undefined, { hint: `cache.${pathText(steps)}.k` });
      v4 = g.op('Identity', [v4], undefined, { hint: `cache.${pathText(steps)}.v` });
    }
    kState = { rope, rotated: rope !== undefined && !inGqa };
    keyStates(ctx).set(pathText(steps), kState);
    ctx.kv.set(pathText(steps), { k, v: v4, kvHeads: KV, headDim: hd });
  }
  // GroupQueryAttention rotates q and k with one rope: only where K is still unrotated and was
  // the producer's under the same rope. Otherwise K takes its producer's rotation here and q
  // its own.
  const gqaRope = inGqa && !kState.rotated && sameRope(kState.rope, rope) ? rope : undefined;
  if (!gqaRope) {
    if (rope) q = rotate(ctx, q, rope, H, hd);
    if (kState.rope && !kState.rotated) k = rotate(ctx, k, kState.rope, KV, hd);
  }
  // A relative position bias (T5) is an additive score input the contrib ops here do not take:
  // such layers use the standard ops below (relative-position.ts).
  // GroupQueryAttention has a local window but no chunks: chunked layers keep the standard ops.
  if (prefixed && !ctx.decode) ({ k, v: v4 } = withPrefix(ctx, steps, k, v4, KV, hd));
  if (fusedAttentionOps(ctx) && !relPos && !hasRelativeBias(ctx, info) && !sinks && !chunked && !prefixed && !workers && !packed && plainCache) {
    const merged = fusedAttention(ctx, node, `kv_cache.${pathText(producer ?? steps)}`, q, k, v4, gqaRope);
    if (merged) return projection(ctx, node, steps, gated(merged), 'o', bias('o_bias'));
  }
  // rel_pos: the content term reads q + u; the position term (q + v)·p_j is added to the scores below.
  let positionScores: string | undefined;
  if (relPos) ({ qContent: q, positionScores } = relativePositionTerms(ctx, node, steps, q, H, hd));
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  if (ctx.decode) return decodeAttention(ctx, node, steps, producer ?? steps, q, k, v4, perm, gated);
  let qh = perm(q, [0, 2, 1, 3]); // [B, H, S, hd]
  qh = g.op('Mul', [qh, g.float(1 / Math.sqrt(hd))], undefined, { hint: 'qscaled' });
  const kT = perm(k, [0, 2, 3, 1]); // [B, KV, hd, S]
  const vh = perm(v4, [0, 2, 1, 3]); // [B, KV, S, hd]
  // Heads h = kv·G + g: [B, H, S, hd] → [B, KV, G·S, hd] groups each KV head's queries.
  const qg = G > 1 ? reshape(ctx, qh, [0, KV, -1, hd]) : qh;
  let scores = g.op('MatMul', [qg, kT], undefined, { hint: 'scores' }); // [B, KV, G·S, S]
  g.parts.standardAttention++;
  if (G > 1) scores = reshape(ctx, scores, [0, H, -1, 0]); // [B, H, S, S]
  if (positionScores) scores = g.op('Add', [scores, positionScores]);
  if (keyPositions !== undefined) scores = g.op('Add', [scores, maskByPosition(ctx, steps, info, keyPositions)]);
  else if (info.causal) scores = g.op('Add', [scores, prefixed ? prefixedMask(ctx, mask(ctx, info.window, info.chunk)) : mask(ctx, info.window, info.chunk)]);
  else if (info.window !== undefined) throw new ExportError(`${pathText(steps)}: a bidirectional sliding window is not supported by the ONNX exporter`);
  const rel = relativeScoreBias(ctx, steps, info); // T5's bias, [1, H, S, S] (relative-position.ts)
  if (rel) scores = g.op('Add', [scores, rel]);
  let probs = softmaxWithSinks(ctx, node, steps, scores, [1, H, 1, 1]);
  if (G > 1) probs = reshape(ctx, probs, [0, KV, -1, 0]);
  let ctxv = g.op('MatMul', [probs, vh], undefined, { hint: 'ctx' }); // [B, KV, G·S, hd]
  if (G > 1) ctxv = reshape(ctx, ctxv, [0, H, -1, hd]);
  const merged = reshape(ctx, perm(ctxv, [0, 2, 1, 3]), [-1, H * hd]); // [T, H·hd]
  return projection(ctx, node, steps, gated(merged), 'o', bias('o_bias'));
}

const pastByGraph = new WeakMap<object, Map<string, number>>();

/** The `past` a decode step's cache `key` was made at: its producer's (the first to read it), else this context's. */
function cachePast(ctx: EmitContext, key: string): number {
  let known = pastByGraph.get(ctx.g);
  if (!known) pastByGraph.set(ctx.g, (known = new Map()));
  const hit = known.get(key);
  if (hit !== undefined) return hit;
  known.set(key, ctx.decode!.past);
  return ctx.decode!.past;
}

/**
 * One decode step: the new token's query against a KV cache of `past` positions (capped at the
 * window or the chunk, as the engine's cache is) held in initializers, plus its own key and value.
 * Past and new scores are computed apart and joined ([…, L] + [… , 1]), so the cache is read once
 * and never copied. A chunked layer (Llama 4) caches the last min(past, chunk) positions but the
 * token at position `past` sees only those of its own chunk, from past − past mod chunk: the
 * older cached positions are masked. The cache is one or two segments (decodeCache): a
 * sequence's one cache, broadcast over its Hogwild! workers, or a shared prompt's positions held
 * once per sequence, broadcast over its k continuations, then each continuation's own.
 */
export function decodeAttention(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], cachePath: readonly PathStep[], q: string, k: string, v: string, perm: (t: string, p: number[]) => string, gated: (merged: string) => string = (m) => m): { y: string; width: number } {
  const g = ctx.g;
  const info = node.cost.attention!;
  if (!info.causal) throw new ExportError(`${pathText(steps)}: bidirectional attention has no decode step`);
  const { batch: rows } = ctx.decode!;
  // A borrower reads its producer's cache as the producer wrote it: in a routed decode step
  // (routing.ts) each recursion's context counts its own cached tokens as `past`, and a layer of a
  // later recursion borrowing an earlier one's K/V (MoR's recursive KV sharing) sees every token
  // the producer cached, so the producer's count is the one that sizes and masks the cache.
  const past = cachePast(ctx, `kv_cache.${pathText(cachePath)}`);
  const { H, KV, hd, G } = heads(node);
  // The cache holds the last min(past, reach) positions, the reach being the furthest among the
  // layers reading it (kv-cache-reach.ts); parallel streams put each stream's m learned prefix
  // positions in front of it.
  const cached = cachedPositions(cacheGroup(ctx, cachePath), past);
  const cacheKey = `kv_cache.${pathText(cachePath)}`; // a borrower reads its producer's cache
  const segments = decodeCache(ctx, cacheKey, rows, past, cached, KV, hd);
  const L = segments.reduce((n, s) => n + s.length, 0);
  // q [rows, 1, H, hd] → [rows, KV, G, hd]; k, v [rows, 1, KV, hd] → kᵀ [rows, KV, hd, 1], v [rows, KV, 1, hd].
  const qg = g.op('Mul', [reshape(ctx, q, [rows, KV, G, hd]), g.float(1 / Math.sqrt(hd))], undefined, { hint: 'qscaled' });
  /** [rows, KV, G, n] × a segment's [rows / sharers, KV, n, m] → [rows, KV, G, m], the segment broadcast over the rows sharing it. */
  const withCache = (a: string, cache: string, sharers: number, m: number, hint: string) =>
    sharers === 1 ? g.op('MatMul', [a, cache], undefined, { hint }) : reshape(ctx, g.op('MatMul', [reshape(ctx, a, [rows / sharers, sharers, KV, G, -1]), g.op('Unsqueeze', [cache, g.ints([1])])], undefined, { hint }), [rows, KV, G, m]);
  const kNew = perm(k, [0, 2, 3, 1]);
  const vNew = perm(v, [0, 2, 1, 3]);
  const pastScores = segments.map((s) => withCache(qg, s.k, s.sharers, s.length, 'scores_past'));
  let sPast = pastScores.length === 1 ? pastScores[0]! : g.op('Concat', pastScores, { axis: attr.int(-1) }); // [rows, KV, G, L]
  // Cached position j holds position past − cached + j: this layer sees the last visiblePast of
  // them (its chunk's, its window's, or all) and the older ones are masked. (Parallel streams'
  // prefixes, in front of the cache, come only on full attention that borrows nothing: never masked.)
  const unseen = cached - visiblePast(info, past);
  if (unseen > 0) {
    const slots = g.op('Range', [g.ints([0], true), g.ints([L], true), g.ints([1], true)], undefined, { hint: 'cached' });
    const blocked = g.op('Less', [slots, g.ints([unseen], true)], undefined, { hint: 'unseen' });
    sPast = g.op('Add', [sPast, g.op('Where', [blocked, g.float(g.dtype === 'fp16' ? -1e4 : -1e9), g.float(0)], undefined, { hint: 'mask' })]);
  }
  const sNew = g.op('MatMul', [qg, kNew], undefined, { hint: 'scores_new' }); // [rows, KV, G, 1]
  const joined = g.op('Concat', [sPast, sNew], { axis: attr.int(-1) });
  const rel = relativeScoreBias(ctx, steps, info); // T5's bias, [1, KV, G, L + 1] (relative-position.ts)
  const probs = softmaxWithSinks(ctx, node, steps, rel ? g.op('Add', [joined, rel]) : joined, [1, KV, G, 1]);
  const axis = g.ints([3]);
  let start = 0;
  const pastValues = segments.map((s) => {
    const p = g.op('Slice', [probs, g.ints([start]), g.ints([(start += s.length)]), axis]);
    return withCache(p, s.v, s.sharers, hd, 'ctx_past');
  });
  const pNew = g.op('Slice', [probs, g.ints([L]), g.ints([L + 1]), axis]);
  const out = g.op('Add', [pastValues.reduce((a, b) => g.op('Add', [a, b])), g.op('MatMul', [pNew, vNew])], undefined, { hint: 'ctx' }); // [rows, KV, G, hd]
  return projection(ctx, node, steps, gated(reshape(ctx, out, [rows, H * hd])), 'o', weightNamed(node, 'o_bias') ? 'o_bias' : undefined);
}

/** One part of a decode step's cache: keys [rows / sharers, KV, hd, length] (stored transposed for q·kᵀ) and values [rows / sharers, KV, length, hd]. */
interface CacheSegment {
  readonly k: string;
  readonly v: string;
  readonly length: number;
  /** Rows of the step reading the same segment (consecutive rows: row r reads entry ⌊r / sharers⌋). */
  readonly sharers: number;
}

/**
 * The cache initializers a decode step of `rows` rows at context `past` reads for `cached` positions, in position
 * order. Hogwild! workers (W rows per sequence) read their sequence's one cache; parallel streams
 * hold their m prefix positions in front of it; a shared prompt's continuations (k rows per
 * sequence, shared-prefix.ts) read the prompt's positions, `<cache>.prompt_k|v` held once per
 * sequence, then their own, `<cache>.k|v` one per continuation.
 */
function decodeCache(ctx: EmitContext, cacheKey: string, rows: number, past: number, cached: number, KV: number, hd: number): CacheSegment[] {
  const g = ctx.g;
  const segment = (name: string, entries: number, length: number): CacheSegment => ({
    k: g.cache(`${cacheKey}.${name}k`, [entries, KV, hd, length]),
    v: g.cache(`${cacheKey}.${name}v`, [entries, KV, length, hd]),
    length,
    sharers: rows / entries,
  });
  if (ctx.sharedPrefix) {
    const split = continuationCache(ctx.sharedPrefix, past, cached);
    const k = ctx.sharedPrefix.continuations;
    const own = segment('', rows, split.own);
    return split.prompt > 0 ? [segment('prompt_', rows / k, split.prompt), own] : [own];
  }
  const W = cacheSharers(ctx);
  return [segment('', rows / W, cached + prefixTokens(ctx))];
}
