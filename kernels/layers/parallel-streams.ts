// Parallel streams (ParScale; `parallel streams(P, prefix: m, merge: NAME, aggregate: …)`,
// src/core/analysis/parallel-streams.ts) in the graph: the P streams are the batch dimension of
// one forward pass over the same weights, as ParScale's reference runs them.
//   - the token ids are tiled P times, stream-major: row p·B + b is stream p of sequence b;
//   - every causal self-attention before the merge has per stream m learned keys and values in
//     front of its own (prefix tuning): initializers `parallel.<path>.prefix_k|prefix_v`
//     [P, m, kv_heads, head_dim], unrotated, seen by every query; a decode step's cache holds them
//     (m + L positions per stream, the engine's KV), so the step reads no prefix initializer;
//   - before the merge member, the P hidden states of a token become one: `mlp` (ParScale's
//     aggregate_layer) scores them with Linear(P·w, w) · SiLU · Linear(w, P) on their
//     stream-major concatenation [h_0 | … | h_{P−1}], softmax over the streams, weighted sum
//     (initializers `parallel.aggregate.w1|b1|w2|b2`); `mean` averages them.
// Initializer elements = params.stored: the engine counts P·m·2·kv_heads·head_dim per
// KV-producing application and P·w² + w + w·P + P for the aggregator.

import { ExportError, pathText, type PathStep, type StreamsPlan } from '../engine-bridge.js';
import { reshape, tokenRowsContext, type EmitContext, type Hidden } from './context.js';
import { attr } from '../onnx-writer.js';

/** The context of the members run per stream: ids tiled P times, the decode batch P·B. */
export function streamContext(ctx: EmitContext, plan: StreamsPlan): EmitContext {
  const g = ctx.g;
  const ids = g.op('Tile', [ctx.ids, g.ints([plan.count, 1])], undefined, { hint: 'stream_ids' });
  g.parts.parallelStreams = true;
  const idsShape = g.op('Shape', [ids], undefined, { hint: 'ids_shape' });
  return {
    ...ctx,
    ids,
    idsShape,
    masks: new Map(),
    positions: undefined,
    decode: ctx.decode ? { batch: ctx.decode.batch * plan.count, past: ctx.decode.past } : undefined,
    streams: { count: plan.count, prefixTokens: plan.prefixTokens },
  };
}

/**
 * The context of a Hogwild! decode step (`parallel workers(P)`): the input ids [B, P] are the P
 * workers' new tokens of each sequence, run as B·P rows (row b·P + p is worker p of sequence b)
 * over the sequence's one KV cache, [B, …] (attention.ts's decodeAttention broadcasts it over the
 * workers): FLOPs ×P, the cache ×1, as the engine counts them.
 */
export function workersContext(ctx: EmitContext, workers: number): EmitContext {
  return { ...tokenRowsContext(ctx, workers, 'worker_ids'), streams: { count: workers, prefixTokens: 0, sharedCache: true } };
}

/** The workers sharing each sequence's KV cache in a Hogwild! decode step, or 1. */
export function cacheSharers(ctx: EmitContext): number {
  return ctx.streams?.sharedCache ? ctx.streams.count : 1;
}

/** The streams' hidden states [P·T, w] (stream-major) made one [T, w] by the plan's aggregate. */
export function mergeStreams(ctx: EmitContext, plan: StreamsPlan, h: Hidden): Hidden {
  const g = ctx.g;
  const P = plan.count;
  if (h.x === undefined || h.spatial !== undefined || h.samples) throw new ExportError('parallel streams: the streams must merge on a token stream');
  if (P === 1) return h;
  const w = h.width;
  const perToken = g.op('Transpose', [reshape(ctx, h.x, [P, -1, w])], { perm: attr.ints([1, 0, 2]) }, { hint: 'streams' }); // [T, P, w]
  if (plan.aggregate === 'mean') return { x: g.op('ReduceMean', [perToken], { axes: attr.ints([1]), keepdims: attr.int(0) }, { hint: 'stream_mean' }), width: w };
  if (w !== plan.width) throw new ExportError(`parallel streams: the aggregator reads width ${plan.width} but the streams carry ${w} before the merge`);
  const scale = (fanIn: number) => Math.sqrt(3 / fanIn);
  const w1 = g.weight('parallel.aggregate.w1', [w, P * w], scale(P * w)).name;
  const b1 = g.weight('parallel.aggregate.b1', [w], 0.02).name;
  const w2 = g.weight('parallel.aggregate.w2', [P, w], scale(w)).name;
  const b2 = g.weight('parallel.aggregate.b2', [P], 0.02).name;
  const gemm = (x: string, weight: string, bias: string) => g.op('Gemm', [x, weight, bias], { transB: attr.int(1) });
  const hidden = gemm(reshape(ctx, perToken, [-1, P * w]), w1, b1);
  const silu = g.op('Mul', [hidden, g.op('Sigmoid', [hidden])], undefined, { hint: 'silu' });
  const weights = g.op('Softmax', [gemm(silu, w2, b2)], { axis: attr.int(-1) }, { hint: 'stream_weights' }); // [T, P]
  const merged = g.op('ReduceSum', [g.op('Mul', [perToken, g.op('Unsqueeze', [weights, g.ints([2])])]), g.ints([1])], { keepdims: attr.int(0) }, { hint: 'stream_merge' });
  return { x: merged, width: w };
}

/** Whether a self-attention layer emitted with `ctx` keeps learned prefixes (ParScale's prefix_k/prefix_v). */
export function prefixTokens(ctx: EmitContext): number {
  return ctx.streams?.prefixTokens ?? 0;
}

/**
 * A prefill's keys and values [P·B, S, KV, hd] with each stream's m prefix rows in front:
 * [P·B, m + S, KV, hd]. The prefixes are the layer application's own initializers.
 */
export function withPrefix(ctx: EmitContext, steps: readonly PathStep[], k: string, v: string, kvHeads: number, hd: number): { k: string; v: string } {
  const g = ctx.g;
  const { count: P, prefixTokens: m } = ctx.streams!;
  // B: the tiled batch over P, as a 1-element shape piece.
  const batch = g.op('Div', [g.op('Slice', [ctx.idsShape, g.ints([0]), g.ints([1])]), g.ints([P])], undefined, { hint: 'batch' });
  const shape = g.op('Concat', [g.ints([P]), batch, g.ints([m, kvHeads, hd])], { axis: attr.int(0) }, { hint: 'prefix_shape' });
  const rows = (name: string) => {
    const table = g.weight(`parallel.${pathText(steps)}.${name}`, [P, m, kvHeads, hd], 1).name;
    return reshape(ctx, g.op('Expand', [g.op('Unsqueeze', [table, g.ints([1])]), shape], undefined, { hint: name }), [-1, m, kvHeads, hd]); // [P·B, m, KV, hd]
  };
  const axis1 = { axis: attr.int(1) };
  return { k: g.op('Concat', [rows('prefix_k'), k], axis1, { hint: 'k_prefixed' }), v: g.op('Concat', [rows('prefix_v'), v], axis1, { hint: 'v_prefixed' }) };
}

/** The causal mask [S, m + S] of a prefixed layer: every query sees the m prefix keys, then the causal part. */
export function prefixedMask(ctx: EmitContext, causal: string): string {
  const g = ctx.g;
  const m = prefixTokens(ctx);
  const key = `prefix:${m}`;
  const hit = ctx.masks.get(key);
  if (hit) return hit;
  const seq = g.op('Unsqueeze', [ctx.seqLen, g.ints([0])]);
  const open = g.op('Expand', [g.float(0), g.op('Concat', [seq, g.ints([m])], { axis: attr.int(0) })], undefined, { hint: 'prefix_open' });
  const mask = g.op('Concat', [open, causal], { axis: attr.int(1) }, { hint: 'prefix_mask' });
  ctx.masks.set(key, mask);
  return mask;
}
