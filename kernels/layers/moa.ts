// Mixture of attention heads (MoA; the Sparse Universal Transformer's attention; core layer
// src/core/layers/moa.ts): E attention experts, each its own W_q^e [expert_dim, d] and
// W_o^e [d, expert_dim], over one shared key and one shared value projection [expert_dim, d].
// As shawntan/SUT's moa_attention.py and its MoE.map / MoE.reduce:
//   probs = softmax(router(x)) over the E experts (router: Linear, or Linear·tanh·Linear);
//   the top_k experts by probs, gates = their probs renormalised to sum 1;
//   q_s = W_q^{e_s} x (+ bias) for each chosen slot s, split into expert_dim / head_dim heads;
//   each head attends, scaled by head_dim^-½, over the shared keys and values (causal mask,
//   window; SUT's relative-position logits q·rel_pos[h, :, clamp(j − i, −P, P) + P] added);
//   y = Σ_s gate_s · W_o^{e_s} o_s (+ bias).
// The chosen experts' W_q and W_o are gathered per token from the stacked banks (one initializer
// each, moe-fused.ts's `bank`), so the graph does exactly top_k query and output projections per
// token — what the engine counts — with static shapes and a node count independent of E. The
// price is memory: T·top_k·expert_dim·d floats per bank in flight.
// The KV cache is the shared K and V: kv_cache.<path>.k [B, H_e, head_dim, L] (transposed for
// q·kᵀ) and .v [B, H_e, L, head_dim], 2·expert_dim elements per cached token, as the engine.
// Cross-attention (SUT's decoder) projects K and V from the encoder output (once per source
// token) and attends it unmasked; its decode step reads them as a cache of S_src positions.

import { ExportError, kvProducerPath, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { mask } from './attention.js';
import { layerArg, numberArg, positions, reshape, storeFor, toBatchSeq, weightNamed, type EmitContext } from './context.js';
import { crossSourceOf, type CrossSource } from './cross-attention.js';
import { bank, biasBank } from './moe-fused.js';
import { projection } from './projection.js';
import { routedPositions } from './routing.js';
import { attr } from '../onnx-writer.js';

/** MoA on the hidden state x [T, d]: returns [T, d]. */
export function moa(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { y: string; width: number } {
  const g = ctx.g;
  const info = node.cost.attention!;
  const where = pathText(steps);
  const source = info.cross ? crossSourceOf(ctx) : undefined;
  if (info.cross && !source) throw new ExportError(`${where}: MoA cross-attention needs an encoder before it (a member with only bidirectional self-attention, as the engine classifies encoders)`);
  if (kvProducerPath(ctx.model, steps)) throw new ExportError(`${where}: MoA reading another layer's KV (share kv) is not supported by the ONNX exporter`);
  if (!info.causal && info.window !== undefined) throw new ExportError(`${where}: a bidirectional sliding window is not supported by the ONNX exporter`);
  const d = weightNamed(node, 'o')!.shape[0]!;
  const expertDim = weightNamed(node, 'k')!.shape[0]!;
  const hd = info.scoreDim;
  const He = info.kvHeads; // heads per expert, sharing the expert-independent K and V heads
  const k = numberArg(node, 'top_k');
  const axis = (value: number) => ({ axis: attr.int(value) });
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  const has = (name: string) => weightNamed(node, name) !== undefined;

  // Routing: softmax over the experts, the top k, renormalised (SUT's top_k_gating without noise).
  const hidden = layerArg(node, 'router_hidden') === undefined ? x : g.op('Tanh', [projection(ctx, node, steps, x, 'router_hidden', 'router_hidden_bias').y]);
  const probs = g.op('Softmax', [projection(ctx, node, steps, hidden, 'router', undefined).y], axis(-1), { hint: 'moa_probs' }); // [T, E]
  const top = g.op('TopK', [probs, g.ints([k])], axis(-1), { outputs: 2, hint: 'moa_topk' });
  const idx = g.nodes[g.nodes.length - 1]!.outputs[1]!; // [T, k]
  const gates = g.op('Div', [top, g.op('ReduceSum', [top, g.ints([1])], { keepdims: attr.int(1) })], undefined, { hint: 'moa_gates' });

  // The chosen experts' queries: W_q gathered per token [T, k, expert_dim, d] · x [T, 1, d, 1].
  const chosen = (name: string): string => g.op('Gather', [bank(ctx, node, steps, name).name, idx], axis(0), { hint: `moa_${name}` });
  const qBias = biasBank(ctx, node, steps, 'q_bias');
  const qRaw = reshape(ctx, g.op('MatMul', [chosen('q'), reshape(ctx, x, [-1, 1, d, 1])]), [-1, k, expertDim]);
  const q = qBias ? g.op('Add', [qRaw, g.op('Gather', [qBias.name, idx], axis(0))]) : qRaw; // [T, k, expert_dim]
  const scale = g.float(1 / Math.sqrt(hd));
  const merge = (ctxv: string): string => reshape(ctx, perm(ctxv, [0, 3, 1, 2, 4]), [-1, k, expertDim]); // [B, k, H_e, S, hd] → [T, k, expert_dim]
  if (source) {
    // Cross-attention: the experts' queries over the source's K and V (projected once per source
    // token in the prefill, a cache of S_src positions in a decode step), no mask, no positions.
    const heads = source.kind === 'cache' ? crossDecode(ctx, where, q, source.length, He, hd, k, expertDim, scale) : crossPrefill(ctx, node, steps, source, q, He, hd, k, scale, merge);
    return { y: gatedOutputs(ctx, node, steps, heads, idx, gates, k, d), width: d };
  }
  const kProj = projection(ctx, node, steps, x, 'k', has('k_bias') ? 'k_bias' : undefined).y; // [T, expert_dim]
  const vProj = projection(ctx, node, steps, x, 'v', has('v_bias') ? 'v_bias' : undefined).y;
  const rel = weightNamed(node, 'rel_pos');
  const relTable = rel ? storeFor(ctx, node, steps, rel).name : undefined; // [H_e, hd, 2P + 1]
  const P = rel ? (rel.shape[2]! - 1) / 2 : 0;

  let heads: string; // [T, k, expert_dim]: each chosen expert's attention output, heads concatenated
  if (ctx.decode) {
    if (!info.causal) throw new ExportError(`${where}: bidirectional attention has no decode step`);
    const { batch: B, past } = ctx.decode;
    // The cache holds the engine's min(past, window) positions; with the token itself a window
    // of w attends w keys, as the prefill's mask does: the last w − 1 cached ones.
    const L = Math.min(past, info.window ?? past);
    const A = info.window === undefined ? L : Math.min(L, info.window - 1);
    const recent = (t: string, axis: number) => (A === L ? t : g.op('Slice', [t, g.ints([L - A]), g.ints([L]), g.ints([axis])], undefined, { hint: 'window' }));
    const kPast = g.op('Unsqueeze', [recent(g.cache(`kv_cache.${where}.k`, [B, He, hd, L]), 3), g.ints([1])]); // [B, 1, H_e, hd, A]
    const vPast = g.op('Unsqueeze', [recent(g.cache(`kv_cache.${where}.v`, [B, He, L, hd]), 2), g.ints([1])]); // [B, 1, H_e, A, hd]
    const qh = g.op('Mul', [reshape(ctx, q, [B, k, He, 1, hd]), scale], undefined, { hint: 'qscaled' });
    const kNew = reshape(ctx, kProj, [B, 1, He, hd, 1]);
    const vNew = reshape(ctx, vProj, [B, 1, He, 1, hd]);
    let scores = g.op('Concat', [g.op('MatMul', [qh, kPast]), g.op('MatMul', [qh, kNew])], axis(-1), { hint: 'scores' }); // [B, k, H_e, 1, A + 1]
    if (relTable) {
      // The query at position `past` against cached keys at past − A … past − 1 and itself.
      const offsets = Array.from({ length: A + 1 }, (_, j) => Math.min(P, Math.max(-P, j - A)) + P);
      scores = g.op('Add', [scores, g.op('Gather', [g.op('MatMul', [qh, relTable]), g.ints(offsets)], axis(4), { hint: 'rel_logits' })]);
    }
    const p = g.op('Softmax', [scores], axis(-1));
    const at = g.ints([4]);
    const pPast = g.op('Slice', [p, g.ints([0]), g.ints([A]), at]);
    const pNew = g.op('Slice', [p, g.ints([A]), g.ints([A + 1]), at]);
    heads = reshape(ctx, g.op('Add', [g.op('MatMul', [pPast, vPast]), g.op('MatMul', [pNew, vNew])], undefined, { hint: 'ctx' }), [B, k, expertDim]);
  } else {
    const qh = g.op('Mul', [perm(toBatchSeq(ctx, q, [k, He, hd]), [0, 2, 3, 1, 4]), scale], undefined, { hint: 'qscaled' }); // [B, k, H_e, S, hd]
    const kT = g.op('Unsqueeze', [perm(toBatchSeq(ctx, kProj, [He, hd]), [0, 2, 3, 1]), g.ints([1])]); // [B, 1, H_e, hd, S]
    const vh = g.op('Unsqueeze', [perm(toBatchSeq(ctx, vProj, [He, hd]), [0, 2, 1, 3]), g.ints([1])]); // [B, 1, H_e, S, hd]
    let scores = g.op('MatMul', [qh, kT], undefined, { hint: 'scores' }); // [B, k, H_e, S, S]
    g.parts.standardAttention++;
    if (relTable) scores = g.op('Add', [scores, relativeLogits(ctx, g.op('MatMul', [qh, relTable]), scores, P)]);
    if (info.causal) scores = g.op('Add', [scores, mask(ctx, info.window)]);
    const ctxv = g.op('MatMul', [g.op('Softmax', [scores], axis(-1)), vh], undefined, { hint: 'ctx' }); // [B, k, H_e, S, hd]
    heads = merge(ctxv);
  }
  return { y: gatedOutputs(ctx, node, steps, heads, idx, gates, k, d), width: d };
}

/** The chosen experts' outputs: W_o gathered [T, k, d, expert_dim] · o [T, k, expert_dim, 1] (+ bias), gated, summed over k. */
function gatedOutputs(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], heads: string, idx: string, gates: string, k: number, d: number): string {
  const g = ctx.g;
  let out = reshape(ctx, g.op('MatMul', [g.op('Gather', [bank(ctx, node, steps, 'o').name, idx], { axis: attr.int(0) }, { hint: 'moa_o' }), g.op('Unsqueeze', [heads, g.ints([3])])]), [-1, k, d]); // [T, k, d]
  const b = biasBank(ctx, node, steps, 'o_bias');
  if (b) out = g.op('Add', [out, g.op('Gather', [b.name, idx], { axis: attr.int(0) })]);
  return g.op('ReduceSum', [g.op('Mul', [out, g.op('Unsqueeze', [gates, g.ints([2])])]), g.ints([1])], { keepdims: attr.int(0) }, { hint: 'moa' });
}

/** Cross-attention prefill: K and V from the encoder output [B·S_src, kv_dim]; every query attends every source position. */
function crossPrefill(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], source: Extract<CrossSource, { kind: 'encoder' }>, q: string, He: number, hd: number, k: number, scale: string, merge: (ctxv: string) => string): string {
  const g = ctx.g;
  const kvIn = weightNamed(node, 'k')!.shape[1]!;
  if (kvIn !== source.width) throw new ExportError(`${pathText(steps)}: MoA cross-attention reads keys and values of width ${kvIn} but the encoder produces ${source.width}`);
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  const bias = (n: string) => (weightNamed(node, n) ? n : undefined);
  const srcShape = g.op('Concat', [source.idsShape, g.ints([He, hd])], { axis: attr.int(0) }, { hint: 'src_shape' });
  const fromSource = (name: string) => g.op('Reshape', [projection(ctx, node, steps, source.x, name, bias(`${name}_bias`)).y, srcShape]); // [B, S_src, H_e, hd]
  const kT = g.op('Unsqueeze', [perm(fromSource('k'), [0, 2, 3, 1]), g.ints([1])]); // [B, 1, H_e, hd, S_src]
  const vh = g.op('Unsqueeze', [perm(fromSource('v'), [0, 2, 1, 3]), g.ints([1])]); // [B, 1, H_e, S_src, hd]
  const qh = g.op('Mul', [perm(toBatchSeq(ctx, q, [k, He, hd]), [0, 2, 3, 1, 4]), scale], undefined, { hint: 'xqscaled' }); // [B, k, H_e, S, hd]
  const probs = g.op('Softmax', [g.op('MatMul', [qh, kT], undefined, { hint: 'xscores' })], { axis: attr.int(-1) });
  return merge(g.op('MatMul', [probs, vh], undefined, { hint: 'xctx' }));
}

/** Cross-attention decode step: the source's K and V are a cache of S_src positions, kv_cache.<path>.k|v as self-attention's. */
function crossDecode(ctx: EmitContext, where: string, q: string, L: number, He: number, hd: number, k: number, expertDim: number, scale: string): string {
  const g = ctx.g;
  const B = ctx.decode!.batch;
  const kPast = g.op('Unsqueeze', [g.cache(`kv_cache.${where}.k`, [B, He, hd, L]), g.ints([1])]); // [B, 1, H_e, hd, L]
  const vPast = g.op('Unsqueeze', [g.cache(`kv_cache.${where}.v`, [B, He, L, hd]), g.ints([1])]);
  const qh = g.op('Mul', [reshape(ctx, q, [B, k, He, 1, hd]), scale], undefined, { hint: 'xqscaled' });
  const probs = g.op('Softmax', [g.op('MatMul', [qh, kPast], undefined, { hint: 'xscores' })], { axis: attr.int(-1) });
  return reshape(ctx, g.op('MatMul', [probs, vPast], undefined, { hint: 'xctx' }), [B, k, expertDim]);
}

/**
 * SUT's relative-position logits of a prefill: `qr` [B, k, H_e, S, 2P + 1] holds each query's
 * dot product with every offset's row; the logit of query i and key j is qr[…, i, clamp(j − i, −P, P) + P],
 * i and j the tokens' places in their sequence. Inside a routed step (per-token halting, MoR) the
 * context's S tokens are a selection, numbered 0…S − 1 for the causal mask but sitting at the
 * positions routing.ts records per sequence ([B, S]): the offsets are those positions' differences,
 * so a selected token sees its neighbours at their true distances, as it would in the full sequence.
 */
function relativeLogits(ctx: EmitContext, qr: string, scores: string, P: number): string {
  const g = ctx.g;
  const routed = routedPositions(ctx);
  const pos = routed ?? positions(ctx);
  // [S, S], or [B, S, S] over a routed selection: key position minus query position.
  const offset = routed
    ? g.op('Unsqueeze', [g.op('Sub', [g.op('Unsqueeze', [pos, g.ints([1])]), g.op('Unsqueeze', [pos, g.ints([2])])]), g.ints([1, 2])], undefined, { hint: 'rel_offset' }) // [B, 1, 1, S, S]
    : g.op('Sub', [g.op('Unsqueeze', [pos, g.ints([0])]), g.op('Unsqueeze', [pos, g.ints([1])])]);
  const clamped = g.op('Add', [g.op('Min', [g.op('Max', [offset, g.ints([-P], true)]), g.ints([P], true)]), g.ints([P], true)]);
  const index = g.op('Expand', [clamped, g.op('Shape', [scores])], undefined, { hint: 'rel_index' });
  return g.op('GatherElements', [qr, index], { axis: attr.int(4) }, { hint: 'rel_logits' });
}
