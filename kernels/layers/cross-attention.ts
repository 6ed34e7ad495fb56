// Cross-attention (`Attention(…, cross: true)`): the decoder's queries attend the encoder output.
//
// Prefill: K and V are projected from the encoder output [B·S_src, kv_dim] (once per source
// token, as the engine charges kvProjectionFlopsPerToken per source token) and every target
// token attends every source token: no mask (fused ops with kv_heads = heads: MultiHeadAttention). Decode step: the encoder does not run (the engine
// counts it in the prefill only); the source's K and V are a cache of S_src positions per
// cross-attention instance, initializers `kv_cache.<path>.k|v` like self-attention's, so the
// graph's cache elements equal the engine's cross KV (src_seq × 2·kv_heads·head_dim each).
// `share kv` never makes a cross-attention layer borrow (the engine keeps its cross KV per
// instance), so this builder never reads another layer's K/V.

import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { heads, normedHeads, queries } from './attention-heads.js';
import { reshape, weightNamed, type EmitContext } from './context.js';
import { projection } from './projection.js';
import { attr } from '../onnx-writer.js';

/** What a decoder's cross-attention reads: the encoder output (prefill), or the cached source length (decode). */
export type CrossSource =
  | { readonly kind: 'encoder'; readonly x: string; readonly width: number; /** Shape of the source ids: [B, S_src]. */ readonly idsShape: string }
  | { readonly kind: 'cache'; readonly length: number };

const sources = new WeakMap<EmitContext, CrossSource>();

/** Makes `source` what the cross-attention layers emitted with `ctx` read. */
export function setCrossSource(ctx: EmitContext, source: CrossSource): void {
  sources.set(ctx, source);
}

/** What the cross-attention layers emitted with `ctx` read (undefined: no encoder before them). */
export function crossSourceOf(ctx: EmitContext): CrossSource | undefined {
  return sources.get(ctx);
}

export function crossAttention(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { y: string; width: number } {
  const where = pathText(steps);
  const source = crossSourceOf(ctx);
  if (!source) throw new ExportError(`${where}: cross-attention needs an encoder before it (a member with only bidirectional self-attention, as the engine classifies encoders)`);
  const g = ctx.g;
  const { H, KV, hd, G } = heads(node);
  const bias = (n: string) => (weightNamed(node, n) ? n : undefined);
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  const q = queries(ctx, node, steps, x); // [B, S, H, hd]

  if (source.kind === 'cache') {
    const B = ctx.decode!.batch;
    const L = source.length;
    const key = `kv_cache.${where}`;
    const kPast = g.cache(`${key}.k`, [B, KV, hd, L]); // keys stored transposed for q·kᵀ, as self-attention's
    const vPast = g.cache(`${key}.v`, [B, KV, L, hd]);
    const qg = g.op('Mul', [reshape(ctx, q, [B, KV, G, hd]), g.float(1 / Math.sqrt(hd))], undefined, { hint: 'xqscaled' });
    const probs = g.op('Softmax', [g.op('MatMul', [qg, kPast], undefined, { hint: 'xscores' })], { axis: attr.int(-1) }); // [B, KV, G, L]
    const out = g.op('MatMul', [probs, vPast], undefined, { hint: 'xctx' }); // [B, KV, G, hd]
    return projection(ctx, node, steps, reshape(ctx, out, [B, H * hd]), 'o', bias('o_bias'));
  }

  const kvIn = weightNamed(node, 'k')!.shape[1]!;
  if (kvIn !== source.width) throw new ExportError(`${where}: cross-attention reads keys and values of width ${kvIn} but the encoder produces ${source.width}`);
  const srcShape = (rest: number[]) => g.op('Concat', [source.idsShape, g.ints(rest)], { axis: attr.int(0) }, { hint: 'src_shape' });
  const k = normedHeads(ctx, node, steps, projection(ctx, node, steps, source.x, 'k', bias('k_bias')).y, KV, hd, 'k_norm', (t) => g.op('Reshape', [t, srcShape([KV, hd])], undefined, { hint: 'xk' })); // [B, S_src, KV, hd]
  const v = g.op('Reshape', [projection(ctx, node, steps, source.x, 'v', bias('v_bias')).y, srcShape([KV, hd])], undefined, { hint: 'xv' });
  if (ctx.ops === 'fused' && KV === H) {
    // com.microsoft MultiHeadAttention takes a key/value sequence of another length than the
    // query's: the fused kernel (CPU and CUDA) for a prefill's cross-attention. GQA has no
    // unmasked contrib op, so kv_heads < heads stays on the standard ops below.
    const y = g.op('MultiHeadAttention', [reshape(ctx, q, [0, 0, H * hd]), reshape(ctx, k, [0, 0, KV * hd]), reshape(ctx, v, [0, 0, KV * hd])], { num_heads: attr.int(H), scale: attr.float(1 / Math.sqrt(hd)) }, { domain: 'com.microsoft', hint: 'xmha' });
    g.parts.fusedCrossAttention++;
    return projection(ctx, node, steps, reshape(ctx, y, [-1, H * hd]), 'o', bias('o_bias'));
  }
  const qh = g.op('Mul', [perm(q, [0, 2, 1, 3]), g.float(1 / Math.sqrt(hd))], undefined, { hint: 'xqscaled' }); // [B, H, S, hd]
  // Heads h = kv·G + g: [B, H, S, hd] → [B, KV, G·S, hd] groups each KV head's queries (GQA without repeating K/V).
  const qg = G > 1 ? reshape(ctx, qh, [0, KV, -1, hd]) : qh;
  const scores = g.op('MatMul', [qg, perm(k, [0, 2, 3, 1])], undefined, { hint: 'xscores' }); // [B, KV, G·S, S_src]
  const probs = g.op('Softmax', [scores], { axis: attr.int(-1) });
  let out = g.op('MatMul', [probs, perm(v, [0, 2, 1, 3])], undefined, { hint: 'xctx' }); // [B, KV, G·S, hd]
  if (G > 1) out = reshape(ctx, out, [0, H, -1, hd]);
  const merged = reshape(ctx, perm(out, [0, 2, 1, 3]), [-1, H * hd]); // [T, H·hd]
  return projection(ctx, node, steps, merged, 'o', bias('o_bias'));
}
