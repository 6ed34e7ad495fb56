// AltUp (Gemma 3n's alternating updates; src/core/layers/altup.ts) on the exporter's data flow.
// The n copies of the hidden state travel as one [T, n·d] tensor (copy i in columns i·d…(i+1)·d):
// the first AltUpProjections widens the stream from the embedding to n copies, the second folds
// it back to d, and a block holding an AltUp layer runs as Transformers' Gemma3nTextDecoderLayer
// (`altupDecoder`): predict, the layer on the active copy (norm, LAuReL beside attention, the
// feed-forward), correct, and the per-layer input added to the predicted copies.

import { ExportError, pathText, storePath, type LayerNode, type ModuleNode, type PathStep } from '../engine-bridge.js';
import { copyKey } from '../generated/resolve.js';
import { activation } from './activation.js';
import { reshape, scaleOf, storeFor, textArg, weightNamed, type EmitContext, type Hidden } from './context.js';
import { laurel } from './laurel.js';
import { projection } from './projection.js';
import { perLayerInput } from './per-layer-embedding.js';
import { rmsNormLastAxis } from './norm.js';
import { attr } from '../onnx-writer.js';

/** Transformers' floor on a copy's mean square before rescaling it to the active copy's RMS. */
const MAGNITUDE_EPS = 1e-5;

/** Columns i·d…(i+1)·d of x: copy i, [T, d]. */
function copyOf(ctx: EmitContext, x: string, d: number, i: number): string {
  return ctx.g.op('Slice', [x, ctx.g.ints([i * d]), ctx.g.ints([(i + 1) * d]), ctx.g.ints([1])], undefined, { hint: `copy${i}` });
}

/** √mean(x²) over the last axis, [T, 1]. */
function rms(ctx: EmitContext, x: string, floor?: number): string {
  const g = ctx.g;
  const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  return g.op('Sqrt', [floor === undefined ? ms : g.op('Max', [ms, g.float(floor)])]);
}

/** Copy i of projection proj_i(x), rescaled to `target` RMS (Gemma3nTextModel's altup_projections and unembed). */
function projectedCopy(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, i: number, target: string): string {
  const g = ctx.g;
  const w = node.cost.weights[0]!;
  const { scale, offset } = scaleOf(w);
  const stored = g.weight(copyKey(`${storePath(ctx.model, steps, w.name)}.${w.name}`, i), w.shape, scale, offset);
  const p = g.op('Gemm', [x, stored.name], { transB: attr.int(1) }, { hint: `altup_proj${i}` });
  return g.op('Mul', [p, g.op('Div', [target, rms(ctx, p, MAGNITUDE_EPS)])]);
}

/**
 * AltUpProjections: on a [T, d] stream, the n − 1 projected copies beside the input (widening to
 * n·d); on a [T, n·d] stream, copy i > 0 through proj_{i−1}, each rescaled to copy 0's RMS, and
 * the mean of the n copies.
 */
export function altupProjections(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const g = ctx.g;
  const w = node.cost.weights[0]!;
  const d = w.shape[1]!;
  const n = w.copies + 1;
  if (h.width === d) {
    const target = rms(ctx, h.x!);
    const copies = [h.x!, ...Array.from({ length: n - 1 }, (_, i) => projectedCopy(ctx, node, steps, h.x!, i, target))];
    return { x: g.op('Concat', copies, { axis: attr.int(1) }, { hint: 'altup_copies' }), width: n * d };
  }
  if (h.width !== n * d) throw new ExportError(`${pathText(steps)}: AltUpProjections(${d}, ${n}) reads width ${d} (to make ${n} copies) or ${n * d} (to fold them), but the stream carries ${h.width}`);
  const first = copyOf(ctx, h.x!, d, 0);
  const target = rms(ctx, first);
  let sum = first;
  for (let i = 1; i < n; i++) sum = g.op('Add', [sum, projectedCopy(ctx, node, steps, copyOf(ctx, h.x!, d, i), i - 1, target)]);
  return { x: g.op('Mul', [sum, g.float(1 / n)], undefined, { hint: 'altup_mean' }), width: d };
}

/** tanh(modality_router(router_norm(x) / d)): the per-token coefficients' input, [T, n]. */
function modalities(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, d: number): string {
  const g = ctx.g;
  const normed = rmsNormLastAxis(ctx, x, storeFor(ctx, node, steps, weightNamed(node, 'router_norm')!).name);
  return g.op('Tanh', [projection(ctx, node, steps, g.op('Mul', [normed, g.float(1 / d)]), 'modality_router', undefined).y]);
}

/** One member of a block, by its layer kind, in the order Gemma3nTextDecoderLayer applies them. */
interface Member {
  readonly name: string;
  readonly node: ModuleNode;
}

const LAYOUT = ['AltUp', 'RMSNorm', 'Laurel', 'Attention', 'RMSNorm', 'RMSNorm', 'FFN', 'RMSNorm', 'PerLayerInput'] as const;
const FEED_FORWARD = new Set(['GatedMLP', 'MLP', 'MoE']);

/**
 * A block with an AltUp layer, as Gemma3nTextDecoderLayer: its members must be, in order, AltUp,
 * the input norm, Laurel, Attention, the post-attention norm, the pre- and post-feed-forward
 * norms around a feed-forward layer, and PerLayerInput. `run` emits a generic member (norms,
 * attention, the feed-forward) on a [T, d] input. Undefined for a block without AltUp.
 */
export function altupDecoder(ctx: EmitContext, members: readonly Member[], steps: readonly PathStep[], h: Hidden, run: (index: number, x: Hidden) => Hidden): Hidden | undefined {
  if (!members.some((m) => m.node.kind === 'layer' && m.node.layerKind === 'AltUp')) return undefined;
  const where = pathText(steps);
  const kinds = members.map((m) => (m.node.kind === 'layer' ? (FEED_FORWARD.has(m.node.layerKind) ? 'FFN' : m.node.layerKind) : m.node.kind));
  if (kinds.join(',') !== LAYOUT.join(',')) throw new ExportError(`${where}: a block with AltUp exports as Gemma 3n's decoder layer, whose members are ${LAYOUT.join(', ')} (FFN: GatedMLP, MLP or MoE) in that order; found ${kinds.join(', ')}`);
  const g = ctx.g;
  const at = (i: number): PathStep[] => [...steps, { kind: 'name', name: members[i]!.name }];
  const altup = members[0]!.node as LayerNode;
  const d = weightNamed(altup, 'router_norm')!.shape[0]!;
  const n = weightNamed(altup, 'modality_router')!.shape[0]!;
  if (h.width !== n * d) throw new ExportError(`${where}: AltUp over ${n} copies of ${d} reads a stream of ${n * d} (made by AltUpProjections), but the stream carries ${h.width}`);
  const x = h.x!;
  // Predict: copy i ← copy i + Σⱼ R[i, j]·copy j, R the per-token n×n matrix prediction_coefs(m).
  const copies3 = reshape(ctx, x, [-1, n, d]); // [T, n, d]
  const m = modalities(ctx, altup, at(0), copyOf(ctx, x, d, 0), d);
  const r = reshape(ctx, projection(ctx, altup, at(0), m, 'prediction_coefs', undefined).y, [-1, n, n]);
  const predicted3 = g.op('Add', [g.op('MatMul', [r, copies3]), copies3], undefined, { hint: 'altup_predict' });
  const predicted = reshape(ctx, predicted3, [-1, n * d]);
  const active = copyOf(ctx, predicted, d, 0);
  // The layer on the active copy.
  const normed = run(1, { x: active, width: d }).x!;
  const lau = laurel(ctx, members[2]!.node as LayerNode, at(2), normed);
  const attn = run(4, run(3, { x: normed, width: d })).x!;
  const attnLaurel = g.op('Mul', [g.op('Add', [g.op('Add', [active, attn]), lau]), g.float(Math.SQRT1_2)], undefined, { hint: 'attn_laurel' });
  const ffn = run(7, run(6, run(5, { x: attnLaurel, width: d }))).x!;
  const out = g.op('Add', [attnLaurel, ffn], undefined, { hint: 'layer_out' });
  // Correct: copy i ← predicted i + (out − predicted 0)·(correction_coefs(m') + 1)ᵢ.
  const coefs = g.op('Add', [projection(ctx, altup, at(0), modalities(ctx, altup, at(0), out, d), 'correction_coefs', undefined).y, g.float(1)]); // [T, n]
  const innovation = g.op('Sub', [out, active]);
  const corrected3 = g.op('Add', [predicted3, g.op('Mul', [g.op('Unsqueeze', [innovation, g.ints([1])]), g.op('Unsqueeze', [coefs, g.ints([2])])])], undefined, { hint: 'altup_correct' });
  const corrected = reshape(ctx, corrected3, [-1, n * d]);
  // The per-layer input, from the scaled corrected active copy, added to copies 1…n − 1.
  const scaled = g.op('Mul', [copyOf(ctx, corrected, d, 0), storeFor(ctx, altup, at(0), weightNamed(altup, 'correct_output_scale')!).name]);
  const perLayer = perLayerInput(ctx, members[8]!.node as LayerNode, at(8), scaled, layerIndex(steps), (y) => activation(ctx, y, textArg(members[6]!.node as LayerNode, 'act', 'gelu_tanh')));
  const addend = g.op('Concat', [g.op('Mul', [scaled, g.float(0)]), ...Array.from({ length: n - 1 }, () => perLayer)], { axis: attr.int(1) });
  return { x: g.op('Add', [corrected, addend], undefined, { hint: 'altup_out' }), width: n * d };
}

/** The decoder layer's index in its stack: the last index step of its path. */
function layerIndex(steps: readonly PathStep[]): number {
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    if (s.kind === 'index') return s.index;
  }
  throw new ExportError(`${pathText(steps)}: a Gemma 3n decoder layer reads its per-layer embedding by its index in a stack, and this block is not in one`);
}
