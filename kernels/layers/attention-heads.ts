// What self-attention (attention.ts, prefill and decode step) and cross-attention
// (cross-attention.ts) read alike: the head geometry the engine computed for the layer
// (AttentionInfo) and the queries [B, S, H, hd] — the q projection, then q_norm over each head
// (or, full width as OLMo-2's, over all heads before the split); and attention sinks (GPT-OSS).

import type { LayerNode, PathStep } from '../engine-bridge.js';
import { reshape, storeFor, toBatchSeq, weightNamed, type EmitContext } from './context.js';
import { norm } from './norm.js';
import { projection } from './projection.js';
import { attr } from '../onnx-writer.js';

/** H query heads, KV key/value heads, hd dims per head in the scores, G = H / KV queries per KV head. */
export interface Heads {
  readonly H: number;
  readonly KV: number;
  readonly hd: number;
  readonly G: number;
}

export function heads(node: LayerNode): Heads {
  const info = node.cost.attention!;
  return { H: info.queryHeads, KV: info.kvHeads, hd: info.scoreDim, G: info.queryHeads / info.kvHeads };
}

/**
 * A q or k projection's output [T, n·hd] split into `n` heads by `split`, normalised by
 * `normName` where the layer has that norm: over the full width before the split when the norm
 * spans every head (qk_norm_width: full), over each head after it otherwise.
 */
export function normedHeads(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], y: string, n: number, hd: number, normName: string, split: (y: string) => string): string {
  const w = weightNamed(node, normName);
  if (w === undefined) return split(y);
  if (w.shape[0] !== hd) return split(norm(ctx, node, steps, y, n * hd, normName, `${normName}_bias`));
  return norm(ctx, node, steps, split(y), hd, normName, `${normName}_bias`);
}

/** Queries [B, S, H, hd]: the q projection (with q_bias where the layer stores one), then q_norm where it has one. */
export function queries(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): string {
  return gatedQueries(ctx, node, steps, x).q;
}

/**
 * The queries and, for an attention with an output gate (Qwen3-Next's `gate: true`), the gate:
 * q projects 2·head_dim per head, the query first and then its gate (Qwen3NextAttention chunks a
 * view of [H, 2·head_dim]); the gate comes back as [T, H·head_dim].
 */
export function gatedQueries(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { q: string; gate: string | undefined } {
  const { H, hd } = heads(node);
  let y = projection(ctx, node, steps, x, 'q', weightNamed(node, 'q_bias') ? 'q_bias' : undefined).y;
  let gate: string | undefined;
  if (weightNamed(node, 'q')!.shape[0] === 2 * H * hd) {
    const perHead = reshape(ctx, y, [-1, H, 2 * hd]);
    const part = (from: number) => reshape(ctx, ctx.g.op('Slice', [perHead, ctx.g.ints([from]), ctx.g.ints([from + hd]), ctx.g.ints([2])]), [-1, H * hd]);
    y = part(0);
    gate = part(hd);
  }
  return { q: normedHeads(ctx, node, steps, y, H, hd, 'q_norm', (t) => toBatchSeq(ctx, t, [H, hd])), gate };
}

/**
 * Softmax over the last axis of `scores` with GPT-OSS's attention sinks where the layer has
 * them: the head's sink logit joins each row as one more column and its probability is dropped,
 * so the row sums to less than 1. `sinkShape` places the [H] sinks against the scores' leading
 * axes ([1, H, 1, 1] for [B, H, S, S]; [1, KV, G, 1] for a decode step's [B, KV, G, L]); the
 * result keeps the scores' shape.
 */
export function softmaxWithSinks(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], scores: string, sinkShape: readonly number[]): string {
  const g = ctx.g;
  const last = { axis: attr.int(-1) };
  const w = weightNamed(node, 'sinks');
  if (w === undefined) return g.op('Softmax', [scores], last);
  const sinks = reshape(ctx, storeFor(ctx, node, steps, w).name, sinkShape);
  const rows = g.op('Slice', [g.op('Shape', [scores]), g.ints([0]), g.ints([3])], undefined, { hint: 'rows' });
  const column = g.op('Expand', [sinks, g.op('Concat', [rows, g.ints([1])], { axis: attr.int(0) })], undefined, { hint: 'sinks' });
  const probs = g.op('Softmax', [g.op('Concat', [scores, column], last)], last);
  return g.op('Slice', [probs, g.ints([0]), g.ints([-1]), g.ints([-1])], undefined, { hint: 'probs' });
}
