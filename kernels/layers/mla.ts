// DeepSeek-V2 Multi-head Latent Attention (src/core/layers/mla.ts, docs/layers.md "MLA"): a prefill
// that expands the compressed KV latent per head (as Transformers' DeepseekV2Attention), and a decode
// step whose cache is the latent itself, kv_rank + rope_dim elements per token and layer — the
// engine's MLA KV cache — attended in the absorbed form (DeepSeek-V2 §2.1.2: W_UK folded into the
// query, W_UV applied after attention), so the step never re-expands the cache.
// Rotary embeddings are not emitted (elementwise, counted 0, as for Attention).

import { ExportError, adapterModifiersFor, kvProducerPath, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { mask } from './attention.js';
import { reshape, storeFor, toBatchSeq, weightNamed, type EmitContext } from './context.js';
import { norm } from './norm.js';
import { projection } from './projection.js';
import { attr } from '../onnx-writer.js';

interface Geometry {
  readonly H: number;
  readonly kvRank: number;
  readonly rope: number;
  readonly nope: number;
  readonly vDim: number;
}

function geometry(node: LayerNode): Geometry {
  const info = node.cost.attention!;
  const kvA = weightNamed(node, 'kv_a')!.shape[0]!;
  const kvB = weightNamed(node, 'kv_b')!;
  const H = info.queryHeads;
  const kvRank = kvB.shape[1]!;
  const rope = kvA - kvRank;
  return { H, kvRank, rope, nope: info.scoreDim - rope, vDim: info.valueDim };
}

/** MLA on [T, d]: returns [T, d]. */
export function mla(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { y: string; width: number } {
  const where = pathText(steps);
  if (kvProducerPath(ctx.model, steps)) throw new ExportError(`${where}: MLA reading another layer's KV (share kv) is not supported by the ONNX exporter`);
  const g = ctx.g;
  const { H, kvRank, rope, nope, vDim } = geometry(node);
  const qhd = nope + rope;
  const bias = (n: string) => (weightNamed(node, n) ? n : undefined);
  const slice = (t: string, axis: number, start: number, end: number) => g.op('Slice', [t, g.ints([start]), g.ints([end]), g.ints([axis])]);
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });

  // Queries: direct, or the low-rank q_a → RMSNorm → q_b path.
  let q: string;
  if (weightNamed(node, 'q_a')) {
    const qa = projection(ctx, node, steps, x, 'q_a', bias('q_a_bias')).y;
    q = projection(ctx, node, steps, norm(ctx, node, steps, qa, weightNamed(node, 'q_a')!.shape[0]!, 'q_a_norm', 'q_a_norm_bias'), 'q_b', undefined).y;
  } else {
    q = projection(ctx, node, steps, x, 'q', undefined).y;
  }
  // The compressed KV: kv_a gives the latent (kv_rank, normalised) and one rope key shared by all heads.
  const kva = projection(ctx, node, steps, x, 'kv_a', bias('kv_a_bias')).y; // [T, kv_rank + rope]
  const latent = g.op('Identity', [norm(ctx, node, steps, slice(kva, 1, 0, kvRank), kvRank, 'kv_a_norm', 'kv_a_norm_bias')], undefined, { hint: 'mla_latent' }); // [T, kv_rank]
  const kpe = g.op('Identity', [slice(kva, 1, kvRank, kvRank + rope)], undefined, { hint: 'mla_kpe' }); // [T, rope]
  const scale = g.float(1 / Math.sqrt(qhd));
  if (ctx.decode) return decodeMla(ctx, node, steps, q, latent, kpe, scale);

  const qh = g.op('Mul', [perm(toBatchSeq(ctx, q, [H, qhd]), [0, 2, 1, 3]), scale], undefined, { hint: 'qscaled' }); // [B, H, S, qhd]
  const kv = perm(toBatchSeq(ctx, projection(ctx, node, steps, latent, 'kv_b', undefined).y, [H, nope + vDim]), [0, 2, 1, 3]); // [B, H, S, nope + v]
  const kNopeT = perm(slice(kv, 3, 0, nope), [0, 1, 3, 2]); // [B, H, nope, S]
  const v = slice(kv, 3, nope, nope + vDim); // [B, H, S, v]
  const kpeT = g.op('Unsqueeze', [perm(toBatchSeq(ctx, kpe, [rope]), [0, 2, 1]), g.ints([1])]); // [B, 1, rope, S]: one key for all heads
  const sNope = g.op('MatMul', [slice(qh, 3, 0, nope), kNopeT], undefined, { hint: 'scores_nope' });
  const sRope = g.op('MatMul', [slice(qh, 3, nope, qhd), kpeT], undefined, { hint: 'scores_rope' });
  const scores = g.op('Add', [g.op('Add', [sNope, sRope], undefined, { hint: 'scores' }), mask(ctx, undefined)]); // [B, H, S, S]
  const probs = g.op('Softmax', [scores], { axis: attr.int(-1) });
  const out = g.op('MatMul', [probs, v], undefined, { hint: 'ctx' }); // [B, H, S, v]
  return projection(ctx, node, steps, reshape(ctx, perm(out, [0, 2, 1, 3]), [-1, H * vDim]), 'o', bias('o_bias'));
}

/**
 * One decode step over a cache of `past` positions per layer: the normalised latent [B, L, kv_rank]
 * and the rope key stored transposed [B, rope, L] (initializers `kv_cache.<path>.latent|k_pe`, so
 * their elements equal the engine's KV). Absorbed form: q_lat[h] = q_nope[h]·W_UK[h] scores
 * against the latent directly; the attended latent is expanded by W_UV[h] once per head.
 */
function decodeMla(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], q: string, latent: string, kpe: string, scale: string): { y: string; width: number } {
  const g = ctx.g;
  const where = pathText(steps);
  // Absorption reads kv_b's weight directly, so an adapter on it would be skipped: refuse.
  if (adapterModifiersFor(ctx.model, steps, 'kv_b').length > 0) throw new ExportError(`${where}: an adapter on MLA's kv_b is not supported in the decode graph (its absorbed form reads kv_b directly)`);
  const { H, kvRank, rope, nope, vDim } = geometry(node);
  const { batch: B, past: L } = ctx.decode!;
  const slice = (t: string, axis: number, start: number, end: number) => g.op('Slice', [t, g.ints([start]), g.ints([end]), g.ints([axis])]);
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  const key = `kv_cache.${where}`;
  const cLatent = g.cache(`${key}.latent`, [B, L, kvRank]);
  const cKpeT = g.cache(`${key}.k_pe`, [B, rope, L]);

  const qh = g.op('Mul', [reshape(ctx, q, [B, H, nope + rope]), scale], undefined, { hint: 'qscaled' }); // [B, H, qhd]
  // kv_b [H·(nope + v), kv_rank] → [H, nope + v, kv_rank]: W_UK = rows 0..nope of each head, W_UV the rest.
  const kvB = weightNamed(node, 'kv_b')!;
  const w = reshape(ctx, storeFor(ctx, node, steps, kvB).name, [H, nope + vDim, kvRank]);
  const wUK = slice(w, 1, 0, nope); // [H, nope, kv_rank]
  const wUVT = perm(slice(w, 1, nope, nope + vDim), [0, 2, 1]); // [H, kv_rank, v]
  const qLat = perm(g.op('MatMul', [perm(slice(qh, 2, 0, nope), [1, 0, 2]), wUK], undefined, { hint: 'q_latent' }), [1, 0, 2]); // [B, H, kv_rank]
  const qPe = slice(qh, 2, nope, nope + rope); // [B, H, rope]
  const latNew = g.op('Unsqueeze', [latent, g.ints([1])]); // [B, 1, kv_rank]
  const sPast = g.op('Add', [g.op('MatMul', [qLat, perm(cLatent, [0, 2, 1])]), g.op('MatMul', [qPe, cKpeT])], undefined, { hint: 'scores_past' }); // [B, H, L]
  const sNew = g.op('Add', [g.op('MatMul', [qLat, perm(latNew, [0, 2, 1])]), g.op('MatMul', [qPe, g.op('Unsqueeze', [kpe, g.ints([2])])])], undefined, { hint: 'scores_new' }); // [B, H, 1]
  const probs = g.op('Softmax', [g.op('Concat', [sPast, sNew], { axis: attr.int(-1) })], { axis: attr.int(-1) });
  const ctxLat = g.op('Add', [g.op('MatMul', [slice(probs, 2, 0, L), cLatent]), g.op('MatMul', [slice(probs, 2, L, L + 1), latNew])], undefined, { hint: 'ctx_latent' }); // [B, H, kv_rank]
  const out = perm(g.op('MatMul', [perm(ctxLat, [1, 0, 2]), wUVT], undefined, { hint: 'ctx' }), [1, 0, 2]); // [B, H, v]
  return projection(ctx, node, steps, reshape(ctx, out, [B, H * vDim]), 'o', weightNamed(node, 'o_bias') ? 'o_bias' : undefined);
}
