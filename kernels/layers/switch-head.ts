// MoEUT's layer (Csordás et al. 2024; examples/moeut.npas; methods.md "MoEUT"): SwitchHead
// attention and the σ-MoE FFN, from the generic layers the spec composes them of. The layer library
// has no SwitchHead, so the spec encodes one as three members whose counts match it exactly:
//   attn       = Attention(d, H, head_dim: h)          q, k, and V/O expert 0 of every head
//   vo_experts = MoE(d, h, experts: E, top_k: K, gated: false)   the other V/O experts
//                                                      (up [h, d] = a V expert, down [d, h] = an O expert)
//   selections = Linear(d, n)                          the selection rows the MoE router does not hold
// with N_A = (H + E)/H experts per head, k_A = (H + K)/H chosen per head, and n = 2·H·N_A − E.
// The sequential data flow cannot wire that (the Linear would narrow the stream to n), so this
// narrow rule recognises exactly that triple (optionally after a norm) and emits SwitchHead:
//   scores = [x̂·routerᵀ | x̂·selectionsᵀ] → [T, 2, H, N_A] (sel_v, sel_o), x̂ = norm(x);
//   per head, the top-k_A V experts by sel_v with sigmoid gates compute v_h from the *un-normalised*
//   x (peri-LayerNorm); q, k from x̂; causal attention per head; per head, the top-k_A O experts by
//   sel_o project the head's output back to d, gated, summed over heads. Expert j of head h is
//   attn's head-h slice for j = 0 and MoE expert h·(N_A−1) + j − 1 otherwise.
// Every expert runs on the rows that chose it only, so the graph does H·k_A V and O projections per
// token: what the engine counts (H dense + K routed). Standard ops dispatch per head and expert
// (NonZero/GatherND/ScatterND, as moe.ts): 2·H·N_A data-dependent dispatches a layer, which make
// ORT's session creation quadratic (docs/probes.md). Fused ops gather each token's chosen experts'
// weights instead (`gathered`: static shapes, a node count independent of N_A), at the price of
// T·H·k_A·h·d floats per bank in flight.
// A following norm + un-gated MoE in the same block is the σ-MoE FFN: sigmoid gates from norm(x)
// without renormalisation, experts reading the un-normalised x; in fused ops it is one com.microsoft
// MoE node (moe-fused.ts: σ gates from log σ router_probs and a Σσ rescale), which keeps ORT's
// session creation from growing quadratically with its hundreds of experts.

import { ExportError, kvProducerPath, pathText, storePath, type LayerNode, type ModuleNode, type PathStep } from '../engine-bridge.js';
import { mask } from './attention.js';
import { boolArg, layerArg, numberArg, reshape, textArg, scaleOf, storeFor, toBatchSeq, weightNamed, type EmitContext, type Hidden } from './context.js';
import { residualAdd } from './residual.js';
import { expert } from './moe.js';
import { bank as stackedBank, fusedMoeCovers, fusedSigmaMoe } from './moe-fused.js';
import { projection } from './projection.js';
import { rotate } from './rotary.js';
import { attr } from '../onnx-writer.js';

const NORMS = new Set(['LayerNorm', 'RMSNorm']);

interface Member {
  readonly name: string;
  readonly node: ModuleNode;
}

export interface SwitchHeadSpan {
  /** Index of the norm before the attention, if any. */
  readonly norm: number | undefined;
  readonly attn: number;
  readonly experts: number;
  readonly selections: number;
  /** The σ-MoE FFN after it: its norm and MoE indices. */
  readonly sigma: { readonly norm: number; readonly moe: number } | undefined;
  /** Members covered, from the first index. */
  readonly length: number;
}

const layer = (m: Member | undefined, kind: string): LayerNode | undefined => (m?.node.kind === 'layer' && m.node.layerKind === kind ? m.node : undefined);
const isNorm = (m: Member | undefined) => m?.node.kind === 'layer' && NORMS.has(m.node.layerKind);

/** The SwitchHead geometry of an (Attention, MoE, Linear) triple, or undefined when it is not one. */
function geometry(attn: LayerNode, moe: LayerNode, sel: LayerNode): { H: number; hd: number; d: number; nA: number; kA: number; E: number } | undefined {
  const info = attn.cost.attention;
  if (!info || info.cross || !info.causal || info.window !== undefined || info.kvHeads !== info.queryHeads || info.scoreDim !== info.valueDim) return undefined;
  if (boolArg(moe, 'gated', true) || (layerArg(moe, 'shared') ?? 0) !== 0) return undefined;
  const up = weightNamed(moe, 'expert_up')!;
  const H = info.queryHeads;
  const hd = info.scoreDim;
  const d = weightNamed(attn, 'q')!.shape[1]!;
  const E = up.copies;
  const K = numberArg(moe, 'top_k');
  const n = weightNamed(sel, 'weight')!.shape[0]!;
  if (up.shape[0] !== hd || up.shape[1] !== d || hd > d || weightNamed(sel, 'weight')!.shape[1] !== d) return undefined;
  if ((H + E) % H !== 0 || (H + K) % H !== 0) return undefined;
  const nA = (H + E) / H;
  if (n !== 2 * H * nA - E) return undefined;
  return { H, hd, d, nA, kA: (H + K) / H, E };
}

/** Recognises the SwitchHead triple at `i` (optionally norm-first) and a σ-MoE after it. */
export function switchHeadSpan(items: readonly Member[], i: number): SwitchHeadSpan | undefined {
  const norm = isNorm(items[i]) ? i : undefined;
  const a = norm === undefined ? i : i + 1;
  const attn = layer(items[a], 'Attention');
  const moe = layer(items[a + 1], 'MoE');
  const sel = layer(items[a + 2], 'Linear');
  if (!attn || !moe || !sel || !geometry(attn, moe, sel)) return undefined;
  let sigma: SwitchHeadSpan['sigma'];
  const ffn = layer(items[a + 4], 'MoE');
  if (isNorm(items[a + 3]) && ffn && !boolArg(ffn, 'gated', true)) sigma = { norm: a + 3, moe: a + 4 };
  return { norm, attn: a, experts: a + 1, selections: a + 2, sigma, length: (sigma ? a + 5 : a + 3) - i };
}

/**
 * Sparse top-k dispatch with sigmoid gates: for each of `count` experts, the rows whose top-k over
 * `scores` [T, count] chose it run `run(rows' input)` and add gate·result at their rows of `out`.
 */
function dispatch(ctx: EmitContext, scores: string, k: number, count: number, input: string, zeros: string, run: (x: string, j: number) => string, hint: string): string {
  const g = ctx.g;
  const top = g.op('TopK', [scores, g.ints([k])], { axis: attr.int(-1) }, { outputs: 2, hint: `${hint}_topk` });
  const idx = g.nodes[g.nodes.length - 1]!.outputs[1]!;
  const gates = g.op('Sigmoid', [top], undefined, { hint: `${hint}_gates` }); // [T, k], not renormalised
  let out = zeros;
  for (let j = 0; j < count; j++) {
    const chose = g.op('Equal', [idx, g.ints([j], true)]);
    const gate = g.op('ReduceSum', [g.op('Where', [chose, gates, g.float(0)]), g.ints([1])], { keepdims: attr.int(0) });
    const any = g.op('ReduceMax', [g.op('Cast', [chose], { to: attr.int(6) })], { axes: attr.ints([1]), keepdims: attr.int(0) });
    const rows = g.op('Transpose', [g.op('NonZero', [any])], { perm: attr.ints([1, 0]) }, { hint: `${hint}_rows${j}` });
    const y = run(g.op('GatherND', [input, rows]), j);
    const ge = g.op('Unsqueeze', [g.op('GatherND', [gate, rows]), g.ints([1])]);
    out = g.op('ScatterND', [out, rows, g.op('Mul', [y, ge])], { reduction: attr.string('add') }, { hint: `${hint}${j}` });
  }
  return out;
}

/**
 * SwitchHead on the residual x with the normalised x̂ (x itself without a norm): returns the
 * attention output [T, d] (the caller adds the residual).
 */
export function switchHead(ctx: EmitContext, span: SwitchHeadSpan, items: readonly Member[], parent: readonly PathStep[], x: string, xn: string): string {
  const g = ctx.g;
  const at = (i: number): PathStep[] => [...parent, { kind: 'name', name: items[i]!.name }];
  const attn = items[span.attn]!.node as LayerNode;
  const moe = items[span.experts]!.node as LayerNode;
  const sel = items[span.selections]!.node as LayerNode;
  const { H, hd, d, nA, kA } = geometry(attn, moe, sel)!;
  const aSteps = at(span.attn);
  const mSteps = at(span.experts);
  if (kvProducerPath(ctx.model, aSteps)) throw new ExportError(`${pathText(aSteps)}: SwitchHead (MoEUT) reading another layer's KV (share kv) is not supported by the ONNX exporter`);
  for (const [n, s] of [[attn, aSteps], [moe, mSteps], [sel, at(span.selections)]] as const) {
    if (n.cost.weights.some((w) => w.role === 'bias')) throw new ExportError(`${pathText(s)}: SwitchHead (MoEUT) with biases or attention sinks is not supported by the ONNX exporter`);
  }
  const slice = (t: string, axis: number, start: number, end: number) => g.op('Slice', [t, g.ints([start]), g.ints([end]), g.ints([axis])]);
  // Selection scores [T, 2·H·N_A]: the MoE router's E columns, then the selections Linear's.
  const scores = g.op('Concat', [projection(ctx, moe, mSteps, xn, 'router', undefined).y, projection(ctx, sel, at(span.selections), xn, 'weight', undefined).y], { axis: attr.int(1) }, { hint: 'sel' });
  const sel4 = reshape(ctx, scores, [-1, 2, H, nA]);
  const selOf3 = (which: number) => reshape(ctx, slice(sel4, 1, which, which + 1), [-1, H, nA]); // [T, H, N_A]
  const selOf = (which: number, h: number) => reshape(ctx, slice(slice(sel4, 1, which, which + 1), 2, h, h + 1), [-1, nA]); // [T, N_A]
  // Expert j of head h: attn's head slice for j = 0, else MoE expert h·(N_A−1) + j − 1 (own initializers).
  const vW = storeFor(ctx, attn, aSteps, weightNamed(attn, 'v')!).name; // [H·hd, d]
  const oW = storeFor(ctx, attn, aSteps, weightNamed(attn, 'o')!).name; // [d, H·hd]
  const bank = (name: string, e: number) => {
    const w = weightNamed(moe, name)!;
    const { scale, offset } = scaleOf(w);
    return g.weight(`${storePath(ctx.model, mSteps)}.${name}[${e}]`, w.shape, scale, offset).name;
  };
  const vExpert = (h: number, j: number) => (j === 0 ? slice(vW, 0, h * hd, (h + 1) * hd) : bank('expert_up', h * (nA - 1) + j - 1)); // [hd, d]
  const oExpert = (h: number, j: number) => (j === 0 ? slice(oW, 1, h * hd, (h + 1) * hd) : bank('expert_down', h * (nA - 1) + j - 1)); // [d, hd]
  const gemm = (a: string, w: string) => g.op('Gemm', [a, w], { transB: attr.int(1) });
  const zeros = (t: string) => g.op('Mul', [t, g.float(0)], undefined, { hint: 'zeros' }); // the dispatch's accumulators
  const fused = ctx.ops === 'fused' ? gatheredBanks(ctx, moe, mSteps, vW, oW, H, hd, nA) : undefined;
  // Values per head from the un-normalised x: [T, H, hd].
  const v = fused
    ? gathered(ctx, selOf3(0), kA, nA, H, fused.v, reshape(ctx, x, [-1, 1, 1, d, 1]), [2, 4], 'v')
    : g.op('Concat', Array.from({ length: H }, (_, h) => g.op('Unsqueeze', [dispatch(ctx, selOf(0, h), kA, nA, x, zeros(slice(xn, 1, 0, hd)), (r, j) => gemm(r, vExpert(h, j)), `v${h}_`), g.ints([1])])), { axis: attr.int(1) }, { hint: 'v' });
  // Rotary (the spec's rope; moeut.py's SwitchHeadRope rotates the first rotate_fraction of each
  // head): q and k rotate before the heads attend, the cache holds rotated keys (rotary.ts).
  const rope = attn.cost.attention?.rope;
  const roped = (t: string) => (rope ? reshape(ctx, rotate(ctx, toBatchSeq(ctx, t, [H, hd]), rope, H, hd), [-1, H * hd]) : t);
  const q = roped(projection(ctx, attn, aSteps, xn, 'q', undefined).y);
  const k = roped(projection(ctx, attn, aSteps, xn, 'k', undefined).y);
  const heads = ctx.decode ? decodeHeads(ctx, aSteps, q, k, v, H, hd) : prefillHeads(ctx, q, k, v, H, hd); // [T, H, hd]
  // Output: per head, its top-k_A O experts project the head's [T, hd] back to d.
  if (fused) return gathered(ctx, selOf3(1), kA, nA, H, fused.o, reshape(ctx, heads, [-1, H, 1, hd, 1]), [1, 2, 4], 'switch_out');
  let out = zeros(x);
  for (let h = 0; h < H; h++) {
    const head = reshape(ctx, slice(heads, 1, h, h + 1), [-1, hd]);
    out = dispatch(ctx, selOf(1, h), kA, nA, head, out, (r, j) => gemm(r, oExpert(h, j)), `o${h}_`);
  }
  return out;
}

/**
 * Fused ops: SwitchHead's V and O banks as [H·N_A, out, in], expert j of head h at row h·N_A + j:
 * the attention's head slice, then that head's N_A − 1 MoE experts. Each bank stays ONE stored
 * initializer (the MoE's stacked `<store>.expert_up`/`expert_down`, moe-fused.ts), concatenated
 * with the attention's v/o in the graph (ORT folds the Concat of initializers once, at load).
 */
function gatheredBanks(ctx: EmitContext, moe: LayerNode, steps: readonly PathStep[], vW: string, oW: string, H: number, hd: number, nA: number): { v: string; o: string } {
  const g = ctx.g;
  // Layers that share stores (MoEUT's cycle) share the banks: one Concat per store, so ORT folds
  // each bank once (per-layer Concats would each fold into their own copy of the weights).
  const memo = BANKS.get(g) ?? new Map<string, { v: string; o: string }>();
  BANKS.set(g, memo);
  const key = `${storePath(ctx.model, steps)}|${vW}|${oW}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const d = weightNamed(moe, 'expert_up')!.shape[1]!;
  const axis1 = { axis: attr.int(1) };
  const up = reshape(ctx, stackedBank(ctx, moe, steps, 'expert_up').name, [H, nA - 1, hd, d]);
  const down = reshape(ctx, stackedBank(ctx, moe, steps, 'expert_down').name, [H, nA - 1, d, hd]);
  const v0 = reshape(ctx, vW, [H, 1, hd, d]); // rows h·hd … of v [H·hd, d]
  const o0 = g.op('Unsqueeze', [g.op('Transpose', [reshape(ctx, oW, [d, H, hd])], { perm: attr.ints([1, 0, 2]) }), g.ints([1])]); // [H, 1, d, hd]
  const banks = {
    v: reshape(ctx, g.op('Concat', [v0, up], axis1, { hint: 'bank_v' }), [H * nA, hd, d]),
    o: reshape(ctx, g.op('Concat', [o0, down], axis1, { hint: 'bank_o' }), [H * nA, d, hd]),
  };
  memo.set(key, banks);
  return banks;
}

const BANKS = new WeakMap<EmitContext['g'], Map<string, { v: string; o: string }>>();

/**
 * Fused ops: each head's top-k_A experts by `scores` [T, H, N_A], sigmoid-gated, applied to
 * `input` [T, H|1, 1, in, 1] with static shapes: the chosen experts' weights are gathered per
 * token ([T, H, k_A, out, in], one Gather) and multiplied in one batched MatMul, so the graph
 * does exactly the H·k_A projections per token the dispatch does, and ORT's session creation
 * does not grow with the experts (no NonZero, no data-dependent row counts). The price is memory:
 * T·H·k_A·out·in floats per bank (MoEUT244M: 4 MiB per token, 2 GiB at seq 512). Sums over
 * `axes` of the gated [T, H, k_A, out, 1].
 */
function gathered(ctx: EmitContext, scores: string, kA: number, nA: number, H: number, bankRows: string, input: string, axes: number[], hint: string): string {
  const g = ctx.g;
  const top = g.op('TopK', [scores, g.ints([kA])], { axis: attr.int(-1) }, { outputs: 2, hint: `${hint}_topk` });
  const idx = g.nodes[g.nodes.length - 1]!.outputs[1]!; // [T, H, k_A] in 0 … N_A − 1
  // Row of expert j of head h: h·N_A + j. The offsets come from Range (made on the device, no
  // host constant to copy in the torch twin's captured forward).
  const offsets = g.op('Unsqueeze', [g.op('Range', [g.ints([0], true), g.ints([H * nA], true), g.ints([nA], true)]), g.ints([1])]); // [H, 1]
  const w = g.op('Gather', [bankRows, g.op('Add', [idx, offsets])], { axis: attr.int(0) }, { hint: `${hint}_experts` }); // [T, H, k_A, out, in]
  const gates = g.op('Unsqueeze', [g.op('Sigmoid', [top], undefined, { hint: `${hint}_gates` }), g.ints([3, 4])]); // [T, H, k_A, 1, 1]
  return g.op('ReduceSum', [g.op('Mul', [g.op('MatMul', [w, input]), gates]), g.ints(axes)], { keepdims: attr.int(0) }, { hint });
}

function prefillHeads(ctx: EmitContext, q: string, k: string, v: string, H: number, hd: number): string {
  const g = ctx.g;
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  const qh = g.op('Mul', [perm(toBatchSeq(ctx, q, [H, hd]), [0, 2, 1, 3]), g.float(1 / Math.sqrt(hd))]); // [B, H, S, hd]
  const kT = perm(toBatchSeq(ctx, k, [H, hd]), [0, 2, 3, 1]); // [B, H, hd, S]
  const vh = perm(toBatchSeq(ctx, v, [H, hd]), [0, 2, 1, 3]); // [B, H, S, hd]
  const probs = g.op('Softmax', [g.op('Add', [g.op('MatMul', [qh, kT], undefined, { hint: 'scores' }), mask(ctx, undefined)])], { axis: attr.int(-1) });
  g.parts.standardAttention++;
  return reshape(ctx, perm(g.op('MatMul', [probs, vh], undefined, { hint: 'ctx' }), [0, 2, 1, 3]), [-1, H, hd]);
}

/** One decode step against `kv_cache.<attn>.k` [B, H, hd, L] and `.v` [B, H, L, hd] (the engine's KV). */
function decodeHeads(ctx: EmitContext, steps: readonly PathStep[], q: string, k: string, v: string, H: number, hd: number): string {
  const g = ctx.g;
  const { batch: B, past: L } = ctx.decode!;
  const key = `kv_cache.${pathText(steps)}`;
  const kPast = g.cache(`${key}.k`, [B, H, hd, L]);
  const vPast = g.cache(`${key}.v`, [B, H, L, hd]);
  const qh = g.op('Mul', [reshape(ctx, q, [B, H, 1, hd]), g.float(1 / Math.sqrt(hd))]);
  const kNew = reshape(ctx, k, [B, H, hd, 1]);
  const vNew = reshape(ctx, v, [B, H, 1, hd]);
  const probs = g.op('Softmax', [g.op('Concat', [g.op('MatMul', [qh, kPast]), g.op('MatMul', [qh, kNew])], { axis: attr.int(-1) })], { axis: attr.int(-1) }); // [B, H, 1, L + 1]
  const axis = g.ints([3]);
  const out = g.op('Add', [g.op('MatMul', [g.op('Slice', [probs, g.ints([0]), g.ints([L]), axis]), vPast]), g.op('MatMul', [g.op('Slice', [probs, g.ints([L]), g.ints([L + 1]), axis]), vNew])]); // [B, H, 1, hd]
  return reshape(ctx, out, [B, H, hd]);
}

/** σ-MoE: sigmoid top-k gates from x̂ = norm(x), experts on the un-normalised x; returns [T, d]. */
export function sigmaMoe(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, xn: string): string {
  const g = ctx.g;
  if (node.cost.weights.some((w) => w.role === 'bias') || (layerArg(node, 'shared') ?? 0) !== 0) throw new ExportError(`${pathText(steps)}: a σ-MoE (MoEUT) with biases or shared experts is not supported by the ONNX exporter`);
  // The σ-MoE's routing is its own (σ gates, not renormalised): a group limit or a scale would be dropped.
  if (numberArg(node, 'groups') > 1 || layerArg(node, 'route_scale') !== undefined) throw new ExportError(`${pathText(steps)}: a σ-MoE (MoEUT) with group-limited routing or a route_scale is not supported by the ONNX exporter`);
  const experts = weightNamed(node, 'expert_up')!.copies;
  const logits = projection(ctx, node, steps, xn, 'router', undefined).y;
  // Fused ops: the bank in ORT's MoE op, its softmax turned into σ gates (moe-fused.ts). SwitchHead's
  // V/O experts are not on it (its output width is its input's): they gather per token (`gathered`).
  if (ctx.ops === 'fused' && fusedMoeCovers(node) === undefined) return fusedSigmaMoe(ctx, node, steps, x, logits);
  const zeros = g.op('Mul', [x, g.float(0)], undefined, { hint: 'zeros' });
  return dispatch(ctx, logits, numberArg(node, 'top_k'), experts, x, zeros, (r, e) => expert(ctx, node, steps, r, 'expert', e, false, textArg(node, 'act', 'relu')), 'ffn');
}

/**
 * The recognised span on the hidden state: x + SwitchHead(x, norm(x)), then (σ-MoE) y +
 * σ-MoE(y, norm(y)). `member` emits a member (the norms, through the data flow's own path).
 */
export function moeutLayer(ctx: EmitContext, span: SwitchHeadSpan, items: readonly Member[], parent: readonly PathStep[], h: Hidden, member: (i: number, h: Hidden) => Hidden): Hidden {
  const x = h.x!;
  const xn = span.norm !== undefined ? member(span.norm, h).x! : x;
  let y = residualAdd(ctx, x, switchHead(ctx, span, items, parent, x, xn));
  if (span.sigma) {
    const yn = member(span.sigma.norm, { x: y, width: h.width }).x!;
    const moe = items[span.sigma.moe]!;
    y = residualAdd(ctx, y, sigmaMoe(ctx, moe.node as LayerNode, [...parent, { kind: 'name', name: moe.name }], y, yn));
  }
  return { x: y, width: h.width };
}
