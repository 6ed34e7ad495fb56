// MomentProbe (src/core/layers/moment-probe.ts) as mingzeG/Moment-Probing's Moment_Probing_ViT
// runs it (models/representation/MP.py, forward and Covariance), on the token stream [T, d] of
// one batch [B, S]: position 0 is the class token, positions 1..S−1 the tokens.
//   mean   = classifier_mean · x[:, 0] + b                                     [B, C]
//   z      = proj · x[:, 1:] + b, split into `heads` groups of k, each LayerNorm(k) with one norm
//   cov_ij = (1/N) · (z_i − m_i)ᵀ (z_j − m_j), m the mean over all of a sample's group entries
//            (Covariance._remove_mean: adaptive_avg_pool2d over [k, N])          [B, k, k]
//   near / half: each cov L2-normalised along its rows index (F.normalize dim 2 of [B, 1, k, k]);
//   all (cn2): not normalised, as the reference's cn2 branch
//   c      = Conv(GELU(Conv(stack of the P covs)))   (3×3, stride 2, no padding, no bias)
//   out    = (mean + classifier_cov · flatten(c) + b) / 2                        [B, C]
// One row per sample leaves the layer (Hidden.samples), as after a GlobalPool.

import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { activation } from './activation.js';
import { layerWeights, numberArg, textArg, toBatchSeq, type EmitContext, type Hidden } from './context.js';
import { attr } from '../onnx-writer.js';

/** The group pairs each covariance crosses, in the reference's order. */
function pairList(pairs: string, heads: number): [number, number][] {
  if (pairs === 'near') return Array.from({ length: heads - 1 }, (_, i) => [i, i + 1]);
  if (pairs === 'half') return Array.from({ length: heads / 2 }, (_, i) => [i, i + heads / 2]);
  const all: [number, number][] = [];
  for (let i = 0; i < heads - 1; i++) for (let j = i + 1; j < heads; j++) all.push([i, j]);
  return all;
}

export function momentProbe(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const g = ctx.g;
  if (ctx.decode) throw new ExportError(`${pathText(steps)}: MomentProbe classifies a whole sequence and has no decode step`);
  const w = layerWeights(ctx, node, steps);
  const d = numberArg(node, 'd');
  const classes = numberArg(node, 'classes');
  const hidden = numberArg(node, 'hidden');
  const heads = numberArg(node, 'heads');
  const pairs = textArg(node, 'pairs', 'near');
  const k = hidden / heads;
  const x = toBatchSeq(ctx, h.x!, [d]); // [B, S, d]
  const gemmT = (a: string, weight: string, bias: string, hint: string) => g.op('Add', [g.op('MatMul', [a, g.op('Transpose', [w.store(weight)], { perm: attr.ints([1, 0]) })]), w.store(bias)], undefined, { hint });
  const cls = g.op('Gather', [x, g.ints([0], true)], { axis: attr.int(1) }, { hint: 'mp_cls' }); // [B, d]
  const mean = gemmT(cls, 'classifier_mean', 'classifier_mean_bias', 'mp_mean');
  const tokens = g.op('Slice', [x, g.ints([1]), g.ints([2 ** 31 - 1]), g.ints([1])], undefined, { hint: 'mp_tokens' }); // [B, N, d]
  const z = gemmT(tokens, 'proj', 'proj_bias', 'mp_proj'); // [B, N, hidden]
  const groups = g.op('Reshape', [z, g.ints([0, -1, heads, k])], undefined, { hint: 'mp_groups' }); // [B, N, heads, k]
  const normed = g.op('LayerNormalization', [groups, w.store('norm'), w.store('norm_bias')], { axis: attr.int(-1), epsilon: attr.float(1e-5) }, { hint: 'mp_ln' });
  const n = g.op('Cast', [g.op('Sub', [g.op('Gather', [ctx.idsShape, g.ints([1], true)], { axis: attr.int(0) }), g.ints([1], true)])], { to: attr.int(g.floatType) }, { hint: 'mp_n' }); // N as float
  const centred = (i: number): string => {
    const gi = g.op('Gather', [normed, g.ints([i], true)], { axis: attr.int(2) }); // [B, N, k]
    return g.op('Sub', [gi, g.op('ReduceMean', [gi], { axes: attr.ints([1, 2]), keepdims: attr.int(1) })], undefined, { hint: `mp_centred${i}` });
  };
  const covs = pairList(pairs, heads).map(([i, j]) => {
    const cov = g.op('Div', [g.op('MatMul', [g.op('Transpose', [centred(i)], { perm: attr.ints([0, 2, 1]) }), centred(j)]), n], undefined, { hint: `mp_cov${i}${j}` }); // [B, k, k]
    const c = g.op('Unsqueeze', [cov, g.ints([1])]); // [B, 1, k, k]
    if (pairs === 'all') return c;
    const norm = g.op('Max', [g.op('ReduceL2', [c], { axes: attr.ints([2]), keepdims: attr.int(1) }), g.float(1e-12)]);
    return g.op('Div', [c, norm], undefined, { hint: 'mp_l2' });
  });
  const stacked = covs.length === 1 ? covs[0]! : g.op('Concat', covs, { axis: attr.int(1) }, { hint: 'mp_covs' }); // [B, P, k, k]
  const conv = (input: string, kernel: string) => g.op('Conv', [input, w.store(kernel)], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]) }, { hint: `mp_${kernel}` });
  const down = conv(activation(ctx, conv(stacked, 'down1'), 'gelu'), 'down2');
  const features = w.spec('classifier_cov').shape[1]!;
  const cov = gemmT(g.op('Reshape', [down, g.ints([0, features])]), 'classifier_cov', 'classifier_cov_bias', 'mp_cov_logits');
  return { x: g.op('Mul', [g.op('Add', [mean, cov]), g.float(0.5)], undefined, { hint: 'moment_probe' }), width: classes, samples: true };
}
