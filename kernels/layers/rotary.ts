// Rotary position embedding (Attention's `rope`) as Transformers applies it (LlamaAttention,
// GPTNeoXAttention, PhiAttention: apply_rotary_pos_emb with rotate_half): the first `dim` dims
// of every query and key head are split in halves x1, x2 and become
//   x1·cos − x2·sin,  x2·cos + x1·sin,   angle(p, i) = p · theta^(−2i/dim), i < dim/2,
// the rest of the head passes through (partial rotary). q and k rotate after any q/k norm
// (Qwen3Attention / Gemma3Attention: norm, then rope; PhiAttention: q/k LayerNorm, then rope).
//
// The cos/sin tables are computed in the graph from the positions (Range, or the decode step's
// `past`) and one Constant of dim/2 inverse frequencies, in float32 as Transformers does, cast to
// the model's dtype afterwards. Standard ops rotate with Slice/Mul/Sub/Add/Concat; with fused ops
// the com.microsoft RotaryEmbedding op rotates (CPU and CUDA both implement it), and
// GroupQueryAttention rotates inside itself where it can (fused-attention.ts, gqaRotary).
//
// A decode step's new token sits at position `past` (its cache holds positions before it, also
// when a window keeps only the last ones), and the cached keys are the rotated ones, as
// Transformers caches them.

import type { AttentionInfo } from '../../src/core/layers/layer-kind.js';
import { attr, DataType } from '../onnx-writer.js';
import { fusedAttentionOps, positions, reshape, type EmitContext } from './context.js';
import { routedPositions } from './routing.js';

export type Rope = NonNullable<AttentionInfo['rope']>;

export function sameRope(a: Rope | undefined, b: Rope | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.dim === b.dim && a.theta === b.theta);
}

/** theta^(−2i/dim) for i < dim/2, as float32 (Transformers' inv_freq). A small Constant. */
function inverseFrequencies(ctx: EmitContext, rope: Rope): string {
  const half = rope.dim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(rope.theta, (2 * i) / rope.dim);
  return ctx.g.op('Constant', [], { value: { kind: 'tensor', value: { name: 'inv_freq', dataType: DataType.FLOAT, dims: [1, half], raw: new Uint8Array(inv.buffer) } } }, { hint: 'inv_freq' });
}

/** Tables per graph, rope and positions tensor, so every layer of one rope reads the same. */
const tablesByGraph = new WeakMap<object, Map<string, { readonly cos: string; readonly sin: string }>>();

/**
 * cos and sin [..., dim/2] in the model's dtype for the int64 positions `pos` [...] ([P], or a
 * routed recursion's [B, k]); `key` names them for sharing between layers.
 */
export function ropeTables(ctx: EmitContext, rope: Rope, pos: string, key: string): { cos: string; sin: string } {
  let byKey = tablesByGraph.get(ctx.g);
  if (!byKey) tablesByGraph.set(ctx.g, (byKey = new Map()));
  const id = `${rope.dim}/${rope.theta}/${key}`;
  const hit = byKey.get(id);
  if (hit) return hit;
  const g = ctx.g;
  const p = g.op('Unsqueeze', [g.op('Cast', [pos], { to: attr.int(DataType.FLOAT) }, { hint: 'pos_f' }), g.ints([-1])]); // [..., 1]
  const angles = g.op('Mul', [p, inverseFrequencies(ctx, rope)], undefined, { hint: 'angles' }); // [..., dim/2], float32
  const model = (x: string) => (g.dtype === 'fp16' ? g.op('Cast', [x], { to: attr.int(DataType.FLOAT16) }) : x);
  const out = { cos: model(g.op('Cos', [angles], undefined, { hint: 'cos' })), sin: model(g.op('Sin', [angles], undefined, { hint: 'sin' })) };
  byKey.set(id, out);
  return out;
}

/**
 * The tables at the positions of this context's tokens, shaped to broadcast over x [B, S, N,
 * dim/2]: [S, 1, dim/2] for positions 0..S−1 (prefill) or `past` (decode step); in a routed MoR
 * recursion, whose context numbers its k selected tokens 0..k−1, the tokens' positions in their
 * sequence ([B, k], routing.ts), so [B, k, 1, dim/2].
 */
function tokenTables(ctx: EmitContext, rope: Rope): { cos: string; sin: string; routed: boolean } {
  const g = ctx.g;
  const routed = routedPositions(ctx);
  if (routed) {
    const t = ropeTables(ctx, rope, routed, `routed ${routed}`); // [B, k, dim/2]
    return { cos: g.op('Unsqueeze', [t.cos, g.ints([2])]), sin: g.op('Unsqueeze', [t.sin, g.ints([2])]), routed: true };
  }
  const t = ropeTables(ctx, rope, positions(ctx), ctx.decode ? `at ${ctx.decode.past}` : 'prefill');
  return { ...t, routed: false };
}

/**
 * Rotates x [B, S, N, head_dim] (queries or keys of N heads): standard ops, or with fused ops
 * the com.microsoft RotaryEmbedding op.
 */
export function rotate(ctx: EmitContext, x: string, rope: Rope, heads: number, headDim: number): string {
  const g = ctx.g;
  if (fusedAttentionOps(ctx)) {
    const { cos, sin } = ropeTables(ctx, rope, positions(ctx), ctx.decode ? `at ${ctx.decode.past}` : 'prefill');
    // RotaryEmbedding reads [B, S, N·head_dim]; position_ids as one offset (0: the tables' row
    // s is the token s of this graph), cos/sin [S, dim/2]; rotary_embedding_dim < head_dim
    // passes the other dims through (num_heads is required with it).
    const flat = reshape(ctx, x, [0, 0, heads * headDim]);
    const y = g.op('RotaryEmbedding', [flat, g.ints([0]), cos, sin], {
      interleaved: attr.int(0),
      num_heads: attr.int(heads),
      rotary_embedding_dim: attr.int(rope.dim),
    }, { domain: 'com.microsoft', hint: 'rope' });
    return reshape(ctx, y, [0, 0, heads, headDim]);
  }
  // Standard ops (also inside a routed recursion, which runs on standard ops).
  const { cos, sin, routed } = tokenTables(ctx, rope);
  const half = rope.dim / 2;
  const axis = g.ints([3]);
  const part = (from: number, to: number) => g.op('Slice', [x, g.ints([from]), g.ints([to]), axis]);
  const x1 = part(0, half);
  const x2 = part(half, rope.dim);
  // [S, dim/2] → [S, 1, dim/2]: broadcast over batch and heads of [B, S, N, dim/2] (routed
  // tables are [B, k, 1, dim/2] already).
  const c = routed ? cos : g.op('Unsqueeze', [cos, g.ints([1])]);
  const s = routed ? sin : g.op('Unsqueeze', [sin, g.ints([1])]);
  const y1 = g.op('Sub', [g.op('Mul', [x1, c]), g.op('Mul', [x2, s])], undefined, { hint: 'rot1' });
  const y2 = g.op('Add', [g.op('Mul', [x2, c]), g.op('Mul', [x1, s])], undefined, { hint: 'rot2' });
  const parts = rope.dim < headDim ? [y1, y2, part(rope.dim, headDim)] : [y1, y2];
  return g.op('Concat', parts, { axis: attr.int(3) }, { hint: 'roped' });
}
