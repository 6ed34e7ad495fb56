// Graph builders per layer kind. The hidden state is always a 2-D [T, width] tensor (T = batch ·
// seq), so every projection is one Gemm against a weight stored as torch.nn.Linear does,
// [d_out, d_in] with transB = 1 (a transposed tie flips transB instead of copying the table).
// Attention reshapes to heads and back. Ops are ai.onnx opset 17 plus com.microsoft's Gelu and
// FastGelu, which both the CPU and the CUDA providers implement.

import { findLayerKind } from '../src/core/index.js';
import { ExportError, adaptersFor, kvProducerPath, mainWeight, nodeAt, pathText, storePath, type LayerNode, type LoadedModel, type PathStep, type WeightSpec } from './engine-bridge.js';
import type { GraphBuilder, StoredWeight } from './graph-builder.js';
import { toHalf } from './weights.js';

export interface EmitContext {
  readonly g: GraphBuilder;
  readonly model: LoadedModel;
  /** Graph input: token ids [batch, seq], int64. */
  readonly ids: string;
  /** Shape(ids): [B, S]. */
  readonly idsShape: string;
  /** S as an int64 scalar. */
  readonly seqLen: string;
  /** Additive attention masks [S, S] by window ('full' or the window size). */
  readonly masks: Map<string, string>;
  /** Positions 0..S-1, int64 [S], made on first use. */
  positions?: string;
  /** K and V of every attention layer emitted so far, by path, for layers that borrow them. */
  readonly kv: Map<string, { readonly k: string; readonly v: string; readonly kvHeads: number; readonly headDim: number; readonly window: number | undefined }>;
  /** Set for a decode-step graph: one new token per sequence after `past` cached positions. */
  readonly decode?: { readonly batch: number; readonly past: number };
}

/** The hidden state: a [T, width] tensor, or undefined before the first embedding. */
export interface Hidden {
  readonly x: string | undefined;
  readonly width: number;
}

/** Where a layer's main weight is tied to another store: the concrete path of the tied module. */
export interface TieTarget {
  readonly steps: readonly PathStep[];
  readonly weight: string | undefined;
}

export const SUPPORTED_LAYERS = ['Embedding', 'PositionEmbedding', 'Linear', 'LayerNorm', 'RMSNorm', 'Attention', 'MLP', 'GatedMLP', 'MoE', 'Activation', 'Dropout', 'Identity'] as const;

/** Evaluated arguments of a layer: the ones written (argsText) over the kind's defaults. */
export function layerArgs(node: LayerNode): Map<string, string> {
  const out = new Map<string, string>();
  for (const spec of findLayerKind(node.layerKind)?.args ?? []) if (spec.default !== undefined) out.set(spec.name, String(spec.default));
  if (node.argsText !== '') {
    for (const part of node.argsText.split(', ')) {
      const i = part.indexOf(': ');
      if (i > 0) out.set(part.slice(0, i), part.slice(i + 2));
    }
  }
  return out;
}

function scaleOf(w: WeightSpec): { scale: number; offset: number } {
  switch (w.role) {
    case 'matmul':
    case 'router':
      return { scale: Math.sqrt(3 / (w.matmul?.dIn ?? w.shape[w.shape.length - 1] ?? 1)), offset: 0 };
    case 'embedding':
      return { scale: 1, offset: 0 };
    case 'position':
      return { scale: 0.1, offset: 0 };
    case 'norm':
      return { scale: 0.1, offset: 1 };
    default:
      return { scale: 0.02, offset: 0 };
  }
}

/** The initializer a weight of the layer at `steps` reads (shared, tied or its own). */
function storeFor(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], w: WeightSpec, tie: TieTarget | undefined): StoredWeight {
  const { scale, offset } = scaleOf(w);
  let key = `${storePath(ctx.model, steps)}.${w.name}`;
  if (tie && mainWeight(node)?.name === w.name) {
    const targetNode = nodeAt(ctx.model, tie.steps);
    const targetWeight = tie.weight ?? (targetNode?.kind === 'layer' ? mainWeight(targetNode)?.name : undefined);
    if (!targetWeight) throw new ExportError(`cannot find the weight '${pathText(steps)}' is tied to`);
    key = `${storePath(ctx.model, tie.steps)}.${targetWeight}`;
  }
  return ctx.g.weight(key, w.shape, scale, offset);
}

function weightNamed(node: LayerNode, name: string): WeightSpec | undefined {
  return node.cost.weights.find((w) => w.name === name);
}

/** y = x · Wᵀ (+ b) for a [d_out, d_in] weight (or its transposed tie). */
function projection(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, name: string, biasName: string | undefined, tie?: TieTarget): { y: string; width: number } {
  const w = weightNamed(node, name)!;
  const [dOut, dIn] = w.shape as [number, number];
  const stored = storeFor(ctx, node, steps, w, tie);
  const transB = stored.shape[0] === dOut && stored.shape[1] === dIn ? 1 : 0;
  const inputs = [x, stored.name];
  const b = biasName ? weightNamed(node, biasName) : undefined;
  if (b) inputs.push(storeFor(ctx, node, steps, b, undefined).name);
  let y = ctx.g.op('Gemm', inputs, { transB: { kind: 'int', value: transB } }, { hint: name });
  // LoRA adapters, applied unmerged: y += (x·Aᵀ)·Bᵀ with A [r, d_in], B [d_out, r] owned by this
  // instance (the engine stores r·(d_in + d_out) per adapted weight per instance).
  for (const [i, lora] of adaptersFor(ctx.model, steps, name).entries()) {
    const key = `${pathText(steps)}.${name}.lora${i === 0 ? '' : i}`;
    const a = ctx.g.weight(`${key}_a`, [lora.rank, dIn], Math.sqrt(3 / dIn));
    const bw = ctx.g.weight(`${key}_b`, [dOut, lora.rank], 0.01);
    const low = ctx.g.op('Gemm', [x, a.name], { transB: { kind: 'int', value: 1 } }, { hint: `${name}_lora_a` });
    y = ctx.g.op('Add', [y, ctx.g.op('Gemm', [low, bw.name], { transB: { kind: 'int', value: 1 } }, { hint: `${name}_lora_b` })]);
  }
  return { y, width: dOut };
}

function reshape(ctx: EmitContext, x: string, shape: readonly number[]): string {
  return ctx.g.op('Reshape', [x, ctx.g.ints(shape)], undefined, { hint: 'r' });
}

/** [T, w] → [B, S, ...rest] using the runtime batch and sequence. */
function toBatchSeq(ctx: EmitContext, x: string, rest: readonly number[]): string {
  const shape = ctx.g.op('Concat', [ctx.idsShape, ctx.g.ints(rest)], { axis: { kind: 'int', value: 0 } }, { hint: 'shape' });
  return ctx.g.op('Reshape', [x, shape], undefined, { hint: 'r' });
}

function positions(ctx: EmitContext): string {
  if (ctx.decode) return ctx.g.ints([ctx.decode.past]);
  if (!ctx.positions) ctx.positions = ctx.g.op('Range', [ctx.g.ints([0], true), ctx.seqLen, ctx.g.ints([1], true)], undefined, { hint: 'pos' });
  return ctx.positions;
}

export function activation(ctx: EmitContext, x: string, kind: string): string {
  const g = ctx.g;
  switch (kind) {
    case 'relu':
      return g.op('Relu', [x]);
    case 'gelu':
      return g.op('Gelu', [x], undefined, { domain: 'com.microsoft' });
    case 'gelu_tanh':
      return g.op('FastGelu', [x], undefined, { domain: 'com.microsoft' });
    case 'silu':
      return g.op('Mul', [x, g.op('Sigmoid', [x])], undefined, { hint: 'silu' });
    case 'softmax':
      return g.op('Softmax', [x], { axis: { kind: 'int', value: -1 } });
    default:
      throw new ExportError(`activation '${kind}' is not supported by the ONNX exporter`);
  }
}

/** Norm over the last axis of `x` with the layer's weights (RMSNorm or LayerNorm). */
export function norm(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, width: number, scaleName = 'weight', biasName = 'bias'): string {
  const g = ctx.g;
  const scaleW = weightNamed(node, scaleName);
  const biasW = weightNamed(node, biasName);
  const scale = scaleW ? storeFor(ctx, node, steps, scaleW, undefined).name : undefined;
  const bias = biasW ? storeFor(ctx, node, steps, biasW, undefined).name : undefined;
  const rms = node.layerKind === 'RMSNorm' || (node.layerKind === 'Attention' && !bias);
  if (!rms) {
    const inputs = [x, scale ?? g.float(1, width)];
    if (bias) inputs.push(bias);
    return g.op('LayerNormalization', inputs, { axis: { kind: 'int', value: -1 }, epsilon: { kind: 'float', value: 1e-5 } }, { hint: 'ln' });
  }
  // Pow → ReduceMean → Add → Sqrt → Div → Mul: the pattern ORT fuses into SimplifiedLayerNormalization.
  const ms = g.op('ReduceMean', [g.op('Pow', [x, g.float(2)])], { axes: { kind: 'ints', value: [-1] }, keepdims: { kind: 'int', value: 1 } });
  const y = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.float(1e-6)])])], undefined, { hint: 'rms' });
  return scale ? g.op('Mul', [y, scale], undefined, { hint: 'rms' }) : y;
}

function mask(ctx: EmitContext, window: number | undefined): string {
  const key = window === undefined ? 'full' : String(window);
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
  const m = g.op('Where', [blocked, g.float(g.dtype === 'fp16' ? -1e4 : -1e9), g.float(0)], undefined, { hint: 'mask' });
  ctx.masks.set(key, m);
  return m;
}

/** Self-attention with GQA by grouping queries (keys and values are never repeated). */
function attention(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { y: string; width: number } {
  const info = node.cost.attention!;
  if (info.cross) throw new ExportError(`${pathText(steps)}: cross-attention is not supported by the ONNX exporter yet`);
  const g = ctx.g;
  const H = info.queryHeads;
  const KV = info.kvHeads;
  const hd = info.scoreDim;
  const G = H / KV;
  const bias = (n: string) => (weightNamed(node, n) ? n : undefined);
  let q = projection(ctx, node, steps, x, 'q', bias('q_bias')).y;
  q = toBatchSeq(ctx, q, [H, hd]); // [B, S, H, hd]
  if (weightNamed(node, 'q_norm')) q = norm(ctx, node, steps, q, hd, 'q_norm', 'q_norm_bias');
  // A borrower (CLA, MLKV, recursive KV sharing) reads the producer's K and V and has no K/V
  // projections of its own, so their stores are never read (and not stored) for it.
  const producer = kvProducerPath(ctx.model, steps);
  let k: string;
  let v4: string;
  if (producer) {
    const borrowed = ctx.kv.get(pathText(producer));
    if (!borrowed) throw new ExportError(`${pathText(steps)} borrows the KV of ${pathText(producer)}, which has none`);
    if (borrowed.kvHeads !== KV || borrowed.headDim !== hd || borrowed.window !== info.window) throw new ExportError(`${pathText(steps)} borrows KV of another geometry from ${pathText(producer)}`);
    k = borrowed.k;
    v4 = borrowed.v;
  } else {
    k = toBatchSeq(ctx, projection(ctx, node, steps, x, 'k', bias('k_bias')).y, [KV, hd]);
    v4 = toBatchSeq(ctx, projection(ctx, node, steps, x, 'v', bias('v_bias')).y, [KV, hd]);
    if (weightNamed(node, 'k_norm')) k = norm(ctx, node, steps, k, hd, 'k_norm', 'k_norm_bias');
    ctx.kv.set(pathText(steps), { k, v: v4, kvHeads: KV, headDim: hd, window: info.window });
  }
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: { kind: 'ints', value: p } });
  if (ctx.decode) return decodeAttention(ctx, node, steps, producer ?? steps, q, k, v4, perm);
  let qh = perm(q, [0, 2, 1, 3]); // [B, H, S, hd]
  qh = g.op('Mul', [qh, g.float(1 / Math.sqrt(hd))], undefined, { hint: 'qscaled' });
  const kT = perm(k, [0, 2, 3, 1]); // [B, KV, hd, S]
  const vh = perm(v4, [0, 2, 1, 3]); // [B, KV, S, hd]
  // Heads h = kv·G + g: [B, H, S, hd] → [B, KV, G·S, hd] groups each KV head's queries.
  const qg = G > 1 ? reshape(ctx, qh, [0, KV, -1, hd]) : qh;
  let scores = g.op('MatMul', [qg, kT], undefined, { hint: 'scores' }); // [B, KV, G·S, S]
  if (G > 1) scores = reshape(ctx, scores, [0, H, -1, 0]); // [B, H, S, S]
  if (info.causal) scores = g.op('Add', [scores, mask(ctx, info.window)]);
  else if (info.window !== undefined) throw new ExportError(`${pathText(steps)}: a bidirectional sliding window is not supported by the ONNX exporter`);
  let probs = g.op('Softmax', [scores], { axis: { kind: 'int', value: -1 } });
  if (G > 1) probs = reshape(ctx, probs, [0, KV, -1, 0]);
  let ctxv = g.op('MatMul', [probs, vh], undefined, { hint: 'ctx' }); // [B, KV, G·S, hd]
  if (G > 1) ctxv = reshape(ctx, ctxv, [0, H, -1, hd]);
  const merged = reshape(ctx, perm(ctxv, [0, 2, 1, 3]), [-1, H * hd]); // [T, H·hd]
  return projection(ctx, node, steps, merged, 'o', bias('o_bias'));
}

/**
 * One decode step: the new token's query against a KV cache of `past` positions (window-capped)
 * held in initializers, plus its own key and value. Past and new scores are computed apart and
 * joined ([…, L] + [… , 1]), so the cache is read once and never copied.
 */
function decodeAttention(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], cachePath: readonly PathStep[], q: string, k: string, v: string, perm: (t: string, p: number[]) => string): { y: string; width: number } {
  const g = ctx.g;
  const info = node.cost.attention!;
  if (!info.causal) throw new ExportError(`${pathText(steps)}: bidirectional attention has no decode step`);
  const { batch: B, past } = ctx.decode!;
  const H = info.queryHeads;
  const KV = info.kvHeads;
  const hd = info.scoreDim;
  const G = H / KV;
  const L = Math.min(past, info.window ?? past);
  const cacheKey = `kv_cache.${pathText(cachePath)}`; // a borrower reads its producer's cache
  const kPast = g.cache(`${cacheKey}.k`, [B, KV, hd, L]); // keys stored transposed for q·kᵀ
  const vPast = g.cache(`${cacheKey}.v`, [B, KV, L, hd]);
  // q [B, 1, H, hd] → [B, KV, G, hd]; k, v [B, 1, KV, hd] → kᵀ [B, KV, hd, 1], v [B, KV, 1, hd].
  const qg = g.op('Mul', [reshape(ctx, q, [B, KV, G, hd]), g.float(1 / Math.sqrt(hd))], undefined, { hint: 'qscaled' });
  const kNew = perm(k, [0, 2, 3, 1]);
  const vNew = perm(v, [0, 2, 1, 3]);
  const sPast = g.op('MatMul', [qg, kPast], undefined, { hint: 'scores_past' }); // [B, KV, G, L]
  const sNew = g.op('MatMul', [qg, kNew], undefined, { hint: 'scores_new' }); // [B, KV, G, 1]
  const probs = g.op('Softmax', [g.op('Concat', [sPast, sNew], { axis: { kind: 'int', value: -1 } })], { axis: { kind: 'int', value: -1 } });
  const axis = g.ints([3]);
  const pPast = g.op('Slice', [probs, g.ints([0]), g.ints([L]), axis]);
  const pNew = g.op('Slice', [probs, g.ints([L]), g.ints([L + 1]), axis]);
  const out = g.op('Add', [g.op('MatMul', [pPast, vPast]), g.op('MatMul', [pNew, vNew])], undefined, { hint: 'ctx' }); // [B, KV, G, hd]
  return projection(ctx, node, steps, reshape(ctx, out, [B, H * hd]), 'o', weightNamed(node, 'o_bias') ? 'o_bias' : undefined);
}

/**
 * One expert of a bank: each copy of a bank is its own initializer (`<store>.expert_up[3]`), so
 * the file still holds exactly the stored elements and no Gather on a bank is constant-folded
 * into a second copy. Returns [T', d] for the rows it is given.
 */
function expert(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, prefix: string, index: number, gated: boolean, act: string): string {
  const g = ctx.g;
  const proj = (part: string, input: string): string => {
    const w = weightNamed(node, `${prefix}_${part}`)!;
    const { scale, offset } = scaleOf(w);
    const base = `${storePath(ctx.model, steps)}.${w.name}[${index}]`;
    const stored = g.weight(base, w.shape, scale, offset);
    const inputs = [input, stored.name];
    const b = weightNamed(node, `${prefix}_${part}_bias`);
    if (b) inputs.push(g.weight(`${storePath(ctx.model, steps)}.${b.name}[${index}]`, b.shape, 0.02).name);
    return g.op('Gemm', inputs, { transB: { kind: 'int', value: 1 } }, { hint: `${prefix}${index}_${part}` });
  };
  const hidden = gated ? g.op('Mul', [activation(ctx, proj('gate', x), act), proj('up', x)]) : activation(ctx, proj('up', x), act);
  return proj('down', hidden);
}

/**
 * Mixture of experts with sparse dispatch: the router's top-k per token (softmax over the k
 * logits, as Mixtral), then per expert the rows that chose it (NonZero → Gather), the expert on
 * those rows only, scaled by their gate and scattered back (ScatterND, reduction add). Shared
 * experts run on every row. Computes what the engine counts: top_k routed experts per token.
 */
function moe(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, args: Map<string, string>): string {
  const g = ctx.g;
  const experts = node.cost.weights.find((w) => w.name === 'expert_up')!.copies;
  const topK = Number(args.get('top_k'));
  const gated = args.get('gated') !== 'false';
  const act = args.get('act') ?? 'silu';
  const logits = projection(ctx, node, steps, x, 'router', weightNamed(node, 'router_bias') ? 'router_bias' : undefined).y; // [T, E]
  const top = g.op('TopK', [logits, g.ints([topK])], { axis: { kind: 'int', value: -1 } }, { outputs: 2, hint: 'topk' });
  const topIdx = g.nodes[g.nodes.length - 1]!.outputs[1]!;
  const gates = g.op('Softmax', [top], { axis: { kind: 'int', value: -1 } }, { hint: 'gates' }); // [T, k]
  let out = g.op('Mul', [x, g.float(0)], undefined, { hint: 'moe_zero' }); // zeros [T, d] without a shape computation
  for (let e = 0; e < experts; e++) {
    const chose = g.op('Equal', [topIdx, g.ints([e], true)], undefined, { hint: `chose${e}` }); // [T, k]
    const gate = g.op('ReduceSum', [g.op('Where', [chose, gates, g.float(0)]), g.ints([1])], { keepdims: { kind: 'int', value: 0 } }, { hint: `gate${e}` }); // [T]
    const any = g.op('ReduceMax', [g.op('Cast', [chose], { to: { kind: 'int', value: 6 } })], { axes: { kind: 'ints', value: [1] }, keepdims: { kind: 'int', value: 0 } });
    const rows = g.op('Transpose', [g.op('NonZero', [any])], { perm: { kind: 'ints', value: [1, 0] } }, { hint: `rows${e}` }); // [n, 1]
    const xe = g.op('GatherND', [x, rows], undefined, { hint: `x${e}` }); // [n, d]
    const ye = expert(ctx, node, steps, xe, 'expert', e, gated, act);
    const ge = g.op('Unsqueeze', [g.op('GatherND', [gate, rows]), g.ints([1])]); // [n, 1]
    out = g.op('ScatterND', [out, rows, g.op('Mul', [ye, ge])], { reduction: { kind: 'string', value: 'add' } }, { hint: `moe${e}` });
  }
  const shared = node.cost.weights.find((w) => w.name === 'shared_up')?.copies ?? 0;
  for (let s = 0; s < shared; s++) out = g.op('Add', [out, expert(ctx, node, steps, x, 'shared', s, gated, act)]);
  return out;
}

/**
 * Input features for a model whose first layer is a Linear (ViT patches, feature vectors): made
 * on the device from the token ids, sin(0.37·id + j/width) for feature j, so the graph's input
 * stays [batch, seq] int64 and nothing large crosses the bus.
 */
function features(ctx: EmitContext, width: number): string {
  const g = ctx.g;
  const ids = g.op('Cast', [reshape(ctx, ctx.ids, [-1, 1])], { to: { kind: 'int', value: g.floatType } }, { hint: 'idsf' });
  const cols = new Float32Array(width).map((_, j) => j / width);
  const colsName = g.op('Constant', [], { value: { kind: 'tensor', value: { name: 'c', dataType: g.floatType, dims: [width], raw: g.dtype === 'fp16' ? halfBytes(cols) : new Uint8Array(cols.buffer) } } }, { hint: 'cols' });
  return g.op('Sin', [g.op('Add', [g.op('Mul', [ids, g.float(0.37)]), colsName])], undefined, { hint: 'features' });
}

function halfBytes(values: Float32Array): Uint8Array {
  const h = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) h[i] = toHalf(values[i]!);
  return new Uint8Array(h.buffer);
}

/** The width a layer reads, from its weights (undefined: any width). */
function inputWidth(node: LayerNode): number | undefined {
  const w = (name: string) => node.cost.weights.find((x) => x.name === name);
  switch (node.layerKind) {
    case 'Linear':
      return w('weight')!.shape[1];
    case 'Attention':
      return w('q')!.shape[1];
    case 'MLP':
      return w('up')!.shape[1];
    case 'GatedMLP':
      return w('gate')!.shape[1];
    case 'MoE':
      return w('router')!.shape[1];
    case 'LayerNorm':
    case 'RMSNorm':
      return w('weight')?.shape[0];
    case 'PositionEmbedding':
      return w('weight')!.shape[1];
    default:
      return undefined;
  }
}

/** Emits one layer on the hidden state; returns the new hidden state. */
export function emitLayer(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden, tie: TieTarget | undefined): Hidden {
  const g = ctx.g;
  const args = layerArgs(node);
  const where = pathText(steps);
  if (h.x === undefined && node.layerKind === 'Linear') h = { x: features(ctx, node.cost.weights[0]!.shape[1]!), width: node.cost.weights[0]!.shape[1]! };
  if (h.x === undefined && node.layerKind !== 'Embedding') throw new ExportError(`${where}: the exported graph reads token ids, so the first layer must be an Embedding or a Linear (found ${node.layerKind})`);
  const input = inputWidth(node);
  if (h.x !== undefined && input !== undefined && input !== h.width) {
    throw new ExportError(`${where}: ${node.layerKind} reads width ${input} but the layers before it produce ${h.width}; the exporter runs a block's members in sequence (docs/probes.md, "Data flow") and cannot wire this model`);
  }
  switch (node.layerKind) {
    case 'Embedding': {
      const w = node.cost.weights[0]!;
      const [rows, width] = w.shape as [number, number];
      const table = storeFor(ctx, node, steps, w, tie);
      if (table.shape[1] !== width) throw new ExportError(`${where}: an embedding tied to a transposed table is not supported`);
      const ids = h.x === undefined ? ctx.ids : g.op('Mod', [ctx.ids, g.ints([rows], true)], undefined, { hint: 'ids' });
      const e = reshape(ctx, g.op('Gather', [table.name, ids], { axis: { kind: 'int', value: 0 } }, { hint: 'emb' }), [-1, width]);
      return { x: h.x === undefined ? e : g.op('Add', [h.x, e]), width };
    }
    case 'PositionEmbedding': {
      const w = node.cost.weights[0]!;
      const width = w.shape[1]!;
      const table = storeFor(ctx, node, steps, w, tie);
      const pe = g.op('Gather', [table.name, positions(ctx)], { axis: { kind: 'int', value: 0 } }, { hint: 'pos_emb' });
      const sum = g.op('Add', [toBatchSeq(ctx, h.x!, [width]), pe]);
      return { x: reshape(ctx, sum, [-1, width]), width };
    }
    case 'Linear': {
      const p = projection(ctx, node, steps, h.x!, 'weight', 'bias', tie);
      return { x: p.y, width: p.width };
    }
    case 'LayerNorm':
    case 'RMSNorm':
      return { x: norm(ctx, node, steps, h.x!, h.width), width: h.width };
    case 'Attention': {
      const a = attention(ctx, node, steps, h.x!);
      return { x: a.y, width: a.width };
    }
    case 'MLP': {
      const up = projection(ctx, node, steps, h.x!, 'up', 'up_bias');
      const act = activation(ctx, up.y, args.get('act') ?? 'gelu');
      const down = projection(ctx, node, steps, act, 'down', 'down_bias');
      return { x: down.y, width: down.width };
    }
    case 'GatedMLP': {
      const gate = projection(ctx, node, steps, h.x!, 'gate', 'gate_bias');
      const up = projection(ctx, node, steps, h.x!, 'up', 'up_bias');
      const prod = g.op('Mul', [activation(ctx, gate.y, args.get('act') ?? 'silu'), up.y], undefined, { hint: 'glu' });
      const down = projection(ctx, node, steps, prod, 'down', 'down_bias');
      return { x: down.y, width: down.width };
    }
    case 'MoE':
      return { x: moe(ctx, node, steps, h.x!, args), width: h.width };
    case 'Activation':
      return { x: activation(ctx, h.x!, args.get('kind') ?? 'relu'), width: h.width };
    case 'Dropout':
    case 'Identity':
      return h;
    default:
      throw new ExportError(`${where}: layer kind ${node.layerKind} is not supported by the ONNX exporter yet (supported: ${SUPPORTED_LAYERS.join(', ')})`);
  }
}
