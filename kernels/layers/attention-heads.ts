// What self-attention (attention.ts, prefill and decode step) and cross-attention
// (cross-attention.ts) read alike: the head geometry the engine computed for the layer
// (AttentionInfo) and the queries [B, S, H, hd] — the q projection, then q_norm over each head.

import type { LayerNode, PathStep } from '../engine-bridge.js';
import { toBatchSeq, weightNamed, type EmitContext } from './context.js';
import { norm } from './norm.js';
import { projection } from './projection.js';

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

/** Queries [B, S, H, hd]: the q projection (with q_bias where the layer stores one) per head, then q_norm where it has one. */
export function queries(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): string {
  const { H, hd } = heads(node);
  const q = toBatchSeq(ctx, projection(ctx, node, steps, x, 'q', weightNamed(node, 'q_bias') ? 'q_bias' : undefined).y, [H, hd]);
  return weightNamed(node, 'q_norm') ? norm(ctx, node, steps, q, hd, 'q_norm', 'q_norm_bias') : q;
}
