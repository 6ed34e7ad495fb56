// T5's relative position bias (`RelativePositionBias(buckets, heads)`): a [buckets, heads] table
// whose row for bucket(key − query) is added to every self-attention's scores.
//
// Scope: as in T5, the first table of a token stream (the encoder's, the decoder's, or a
// decoder-only model's) serves every self-attention of that stream; T5 puts it in layer 0
// (`rel: i == 0`) and later layers reuse it. The data flow registers it before the stream's first
// attention (the table is a member *after* attn in T5's block); the layer itself is then a no-op
// in the sequence. A second table in the same stream is refused, not silently ignored.
//
// Buckets (HF T5Attention._relative_position_bucket, max_distance 128) are computed in the graph
// with int64 and float32 ops on the [S_q, S_k] relative positions, never per element in JS:
//   bidirectional: n_b = buckets/2, offset n_b where key > query, n = |key − query|;
//   causal: n_b = buckets, n = max(query − key, 0);
//   bucket = n when n < n_b/2, else min(n_b/2 + ⌊ln(n/(n_b/2)) / ln(128/(n_b/2)) · (n_b − n_b/2)⌋, n_b − 1).
// Cross-attention reads no bias (T5's cross-attention has none).

import type { AttentionInfo } from '../../src/core/index.js';
import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { attr, DataType } from '../onnx-writer.js';
import { positions, reshape, storeFor, type EmitContext, type Hidden } from './context.js';

const MAX_DISTANCE = 128;

interface Table {
  readonly path: string;
  readonly store: string;
  readonly buckets: number;
  readonly heads: number;
}

const tables = new WeakMap<EmitContext, Table>();
const built = new WeakMap<EmitContext, Map<string, string>>();

/** Registers the table of the RelativePositionBias at `steps` for every self-attention emitted with `ctx`. */
export function setRelativeBias(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[]): void {
  const w = node.cost.weights[0]!;
  const [buckets, heads] = w.shape as [number, number];
  const store = storeFor(ctx, node, steps, w).name;
  tables.set(ctx, { path: pathText(steps), store, buckets, heads });
}

/** The layer in the member sequence: its table was registered for the stream; it does not change the hidden state. */
export function relativePositionLayer(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const t = tables.get(ctx);
  const store = storeFor(ctx, node, steps, node.cost.weights[0]!).name;
  if (!t || t.store !== store) {
    throw new ExportError(`${pathText(steps)}: a second relative position bias table in one token stream (the exporter adds the stream's first table${t ? `, ${t.path},` : ''} to every self-attention, as T5 does)`);
  }
  return h;
}

/** True when a table was registered for the token stream of `ctx` (whatever the attention). */
export function streamHasRelativeBias(ctx: EmitContext): boolean {
  return tables.has(ctx);
}

/** True when self-attention emitted with `ctx` adds a relative position bias to its scores. */
export function hasRelativeBias(ctx: EmitContext, info: AttentionInfo): boolean {
  return !info.cross && tables.has(ctx);
}

/**
 * The additive score bias for a self-attention layer: [1, heads, S, S] in a prefill,
 * [1, kv_heads, heads/kv_heads, L + 1] in a decode step (the new token's query against the L
 * cached keys and itself, laid out as the decode graph's joined scores); undefined without a table.
 */
export function relativeScoreBias(ctx: EmitContext, steps: readonly PathStep[], info: AttentionInfo): string | undefined {
  const t = tables.get(ctx);
  if (!t || info.cross) return undefined;
  if (t.heads !== info.queryHeads) throw new ExportError(`${pathText(steps)}: the relative position bias ${t.path} has ${t.heads} heads, the attention ${info.queryHeads}`);
  let memo = built.get(ctx);
  if (!memo) built.set(ctx, (memo = new Map()));
  const L = ctx.decode ? Math.min(ctx.decode.past, info.window ?? ctx.decode.past) : 0;
  const key = `${info.causal ? 'c' : 'b'}|${L}|${info.kvHeads}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const g = ctx.g;
  const int64 = (x: string) => g.op('Cast', [x], { to: attr.int(DataType.INT64) });
  const f32 = (v: number) => g.op('Constant', [], { value: { kind: 'tensor', value: { name: 'c', dataType: DataType.FLOAT, dims: [], raw: new Uint8Array(new Float32Array([v]).buffer) } } }, { hint: 'const' });
  const query = positions(ctx);
  const keys = ctx.decode ? g.op('Range', [g.ints([ctx.decode.past - L], true), g.ints([ctx.decode.past + 1], true), g.ints([1], true)], undefined, { hint: 'kpos' }) : query;
  const rel = g.op('Sub', [g.op('Unsqueeze', [keys, g.ints([0])]), g.op('Unsqueeze', [query, g.ints([1])])], undefined, { hint: 'relpos' }); // [S_q, S_k]: key − query
  let nb = t.buckets;
  let offset: string | undefined;
  let n: string;
  if (info.causal) {
    n = g.op('Max', [g.op('Sub', [g.ints([0], true), rel]), g.ints([0], true)], undefined, { hint: 'reldist' });
  } else {
    nb = Math.floor(nb / 2);
    offset = g.op('Mul', [int64(g.op('Greater', [rel, g.ints([0], true)])), g.ints([nb], true)], undefined, { hint: 'reloffset' });
    n = g.op('Abs', [rel], undefined, { hint: 'reldist' });
  }
  const exact = Math.floor(nb / 2);
  if (exact < 1) throw new ExportError(`${t.path}: ${t.buckets} buckets are too few for T5's bucketing`);
  const small = g.op('Greater', [g.ints([exact], true), n], undefined, { hint: 'relsmall' });
  // ⌊ln(n/exact) / ln(max/exact) · (nb − exact)⌋ = ⌊a·ln n + b⌋; n ≥ 1 keeps the log finite (small n take the exact branch).
  const a = (nb - exact) / Math.log(MAX_DISTANCE / exact);
  const logn = g.op('Log', [g.op('Cast', [g.op('Max', [n, g.ints([1], true)])], { to: attr.int(DataType.FLOAT) })]);
  const scaled = g.op('Add', [g.op('Mul', [logn, f32(a)]), f32(-Math.log(exact) * a)]);
  const large = g.op('Min', [g.op('Add', [int64(scaled), g.ints([exact], true)]), g.ints([nb - 1], true)], undefined, { hint: 'rellarge' });
  let bucket = g.op('Where', [small, n, large], undefined, { hint: 'bucket' });
  if (offset) bucket = g.op('Add', [bucket, offset]);
  const rows = g.op('Gather', [t.store, bucket], { axis: attr.int(0) }, { hint: 'relbias' }); // [S_q, S_k, H]
  let bias = g.op('Unsqueeze', [g.op('Transpose', [rows], { perm: attr.ints([2, 0, 1]) }), g.ints([0])], undefined, { hint: 'relbias' }); // [1, H, S_q, S_k]
  if (ctx.decode) bias = reshape(ctx, bias, [1, info.kvHeads, info.queryHeads / info.kvHeads, L + 1]);
  memo.set(key, bias);
  return bias;
}
