// Self-attention on ORT's com.microsoft contrib ops (the 'fused' ops mode), which the CPU and
// CUDA providers both implement:
// - causal (MHA, GQA, MQA, sliding window): GroupQueryAttention. Prefill: no past, the causal
//   mask and the window are the kernel's (flash attention on CUDA, causal half only on CPU).
//   Decode step: past_key/past_value are the KV-cache initializers `kv_cache.<path>.k|v` in GQA's
//   [B, kv_heads, L, head_dim] layout (L = past, window-capped, as the standard graph holds it;
//   same elements, so kvCacheElements still equals the engine's KV cache).
// - bidirectional with kv_heads = heads (BERT, ViT): MultiHeadAttention.
// A head size that is not a multiple of 8 is refused by GroupQueryAttention and falls back too.
// Bidirectional GQA/MQA has no contrib op (MultiHeadAttention needs as many K/V heads as query
// heads, GroupQueryAttention is causal only), so it falls back to the standard ops.
//
// Borrowed K/V (CLA, MLKV: `share kv`) need nothing special: GroupQueryAttention takes K and V
// as inputs, so a borrower passes the producer's projected (and k-normed) K and V in a prefill,
// and the producer's cache initializers plus its new K and V in a decode step.
// Rotary (Attention's rope): GroupQueryAttention rotates q and k itself (do_rotary, rotate-half:
// rotary_interleaved 0) from cos_cache/sin_cache [rows, rope_dim/2] it indexes by position: token
// s in a prefill, seqlens_k (= the cached length L) in a decode step. The cached length is
// window-capped while the token's position is `past`, so a decode step's tables start at
// past − L: row L is position past. ORT 1.29 wants head_size % 16 == 0 and rope_dim/2 a multiple
// of 8 (rope_dim < head_size is partial rotary, the rest passes through); other layers, and a
// borrower whose producer's K is already rotated, rotate with RotaryEmbedding before the op
// (attention.ts, rotary.ts).
// CUDA registers GroupQueryAttention for fp16/bf16 only: an fp32 graph on CUDA places it on
// the CPU (the probe then reopens with fallback and reports the placement).

import type { LayerNode } from '../engine-bridge.js';
import type { AttentionInfo } from '../../src/core/layers/layer-kind.js';
import { attr, DataType, type AttributeValue } from '../onnx-writer.js';
import { fusedAttentionOps, positions, reshape, type EmitContext } from './context.js';
import { ropeTables, type Rope } from './rotary.js';

/** Whether this layer's GroupQueryAttention can rotate q and k itself (do_rotary). */
export function gqaRotary(ctx: EmitContext, info: AttentionInfo): boolean {
  const rope = info.rope;
  return fusedAttentionOps(ctx) && rope !== undefined && info.causal && info.scoreDim % 16 === 0 && rope.dim % 16 === 0;
}

/** GroupQueryAttention's cos_cache/sin_cache inputs and do_rotary attributes for `rope`. */
function rotaryInputs(ctx: EmitContext, rope: Rope | undefined, cached: number): { inputs: string[]; attrs: Record<string, AttributeValue> } {
  if (!rope) return { inputs: [], attrs: {} };
  const g = ctx.g;
  let tables: { cos: string; sin: string };
  if (ctx.decode) {
    const first = ctx.decode.past - cached;
    const pos = g.op('Range', [g.ints([first], true), g.ints([ctx.decode.past + 1], true), g.ints([1], true)], undefined, { hint: 'pos' });
    tables = ropeTables(ctx, rope, pos, `from ${first} to ${ctx.decode.past}`);
  } else tables = ropeTables(ctx, rope, positions(ctx), 'prefill');
  return { inputs: [tables.cos, tables.sin], attrs: { do_rotary: attr.int(1), rotary_interleaved: attr.int(0) } };
}

/**
 * seqlens_k ([B], total length − 1 per sequence) and total_sequence_length (scalar), int32, once
 * per graph and cached length (a decode step's windowed layers cache fewer positions).
 */
const lengthsByGraph = new WeakMap<object, Map<number, { readonly seqlensK: string; readonly total: string }>>();

function lengths(ctx: EmitContext, cached: number): { seqlensK: string; total: string } {
  let byCached = lengthsByGraph.get(ctx.g);
  if (!byCached) lengthsByGraph.set(ctx.g, (byCached = new Map()));
  const hit = byCached.get(cached);
  if (hit) return hit;
  const g = ctx.g;
  const int32 = (x: string, hint: string) => g.op('Cast', [x], { to: attr.int(DataType.INT32) }, { hint });
  let out: { seqlensK: string; total: string };
  if (ctx.decode) {
    // Every sequence has `cached` positions plus the new token. int32 Constants, not Casts of
    // int64 ones: ORT's shape inference then sizes present_key/present_value (cached + 1) from
    // total_sequence_length instead of guessing the past length and warning when they differ.
    const c32 = (values: number[], dims: number[]) => g.op('Constant', [], { value: { kind: 'tensor', value: { name: 'c', dataType: DataType.INT32, dims, raw: new Uint8Array(new Int32Array(values).buffer) } } });
    out = { seqlensK: c32(new Array<number>(ctx.decode.batch).fill(cached), [ctx.decode.batch]), total: c32([cached + 1], []) };
  } else {
    // A prefill of S tokens per sequence, no padding: S − 1 for each of the B sequences.
    const batch = g.op('Gather', [ctx.idsShape, g.ints([0])], { axis: attr.int(0) }, { hint: 'batch' });
    const last = g.op('Sub', [ctx.seqLen, g.ints([1], true)]);
    out = { seqlensK: int32(g.op('Expand', [last, batch]), 'seqlens_k'), total: int32(ctx.seqLen, 'total_len') };
  }
  byCached.set(cached, out);
  return out;
}

/**
 * Attention of q [B, S, H, hd] over k, v [B, S, KV, hd] (plus, in a decode step, the cache of
 * `cacheKey`) with a contrib op: returns the heads merged, [T, H·hd], for the o projection;
 * undefined when no contrib op expresses the layer (the caller builds standard ops). With
 * `rotary`, q and k are unrotated and GroupQueryAttention rotates them (only when gqaRotary).
 */
export function fusedAttention(ctx: EmitContext, node: LayerNode, cacheKey: string, q: string, k: string, v: string, rotary?: Rope): string | undefined {
  const g = ctx.g;
  const info = node.cost.attention!;
  const H = info.queryHeads;
  const KV = info.kvHeads;
  const hd = info.scoreDim;
  const scale = attr.float(1 / Math.sqrt(hd));
  const heads = attr.int(H);
  const q3 = reshape(ctx, q, [0, 0, H * hd]);
  const k3 = reshape(ctx, k, [0, 0, KV * hd]);
  const v3 = reshape(ctx, v, [0, 0, KV * hd]);
  // ORT's GroupQueryAttention refuses a head size that is not a multiple of 8 (CPU: "head_size
  // must be a multiple of 8"; CUDA's flash kernels need it too): such layers use standard ops.
  if (info.causal && hd % 8 !== 0) return undefined;
  if (rotary && !gqaRotary(ctx, info)) throw new Error('internal: fusedAttention asked to rotate where GroupQueryAttention cannot');
  if (!info.causal) {
    if (ctx.decode || KV !== H || info.window !== undefined) return undefined;
    const y = g.op('MultiHeadAttention', [q3, k3, v3], { num_heads: heads, scale }, { domain: 'com.microsoft', hint: 'mha' });
    return reshape(ctx, y, [-1, H * hd]);
  }
  let past: [string, string] | ['', ''] = ['', ''];
  let window = -1;
  if (ctx.decode) {
    const { batch: B, past: P } = ctx.decode;
    const L = Math.min(P, info.window ?? P);
    past = [g.cache(`${cacheKey}.k`, [B, KV, L, hd]), g.cache(`${cacheKey}.v`, [B, KV, L, hd])];
    // The cache already holds only the window's positions: attend all of them and the new token,
    // as the standard decode graph does.
    const { seqlensK, total } = lengths(ctx, L);
    const rot = rotaryInputs(ctx, rotary, L);
    const y = g.op('GroupQueryAttention', [q3, k3, v3, past[0], past[1], seqlensK, total, ...rot.inputs], { num_heads: heads, kv_num_heads: attr.int(KV), scale, local_window_size: attr.int(window), ...rot.attrs }, { domain: 'com.microsoft', outputs: 3, hint: 'gqa' });
    return reshape(ctx, y, [-1, H * hd]);
  }
  // The standard mask lets a query see `window` positions, itself included, as does GQA's
  // local_window_size in ORT 1.29 (checked on CPU; the CUDA kernel passes flash attention a
  // left window of local_window_size − 1).
  if (info.window !== undefined) window = info.window;
  const { seqlensK, total } = lengths(ctx, 0);
  const rot = rotaryInputs(ctx, rotary, 0);
  const y = g.op('GroupQueryAttention', [q3, k3, v3, past[0], past[1], seqlensK, total, ...rot.inputs], { num_heads: heads, kv_num_heads: attr.int(KV), scale, local_window_size: attr.int(window), ...rot.attrs }, { domain: 'com.microsoft', outputs: 3, hint: 'gqa' });
  return reshape(ctx, y, [-1, H * hd]);
}
