// Relative-position self-attention (`Attention(…, rel_pos: true)`), as WeNet's
// RelPositionMultiHeadedAttention (wenet/transformer/attention.py, v2.0.0; the Conformer's
// rel_selfattn without ESPnet's rel_shift, which WeNet removes): each key position j has the
// sinusoidal encoding pe_j (RelPositionalEncoding: pe[j, 2i] = sin(j·10000^(−2i/d)),
// pe[j, 2i+1] = cos(…)), projected by linear_pos (`pos`, no bias) to p_j per head; the scores are
//   ((q_i + u)·k_j + (q_i + v)·p_j) / √head_dim
// with u = pos_bias_u and v = pos_bias_v ([heads·head_dim], per head). The encoding is computed in
// the graph from the positions (Constant nodes, no initializer), so the initializers stay the
// layer's stores. A prefill only: a decode step would need p of every cached position.

import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { layerWeights, positions, reshape, weightNamed, type EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

/** True when the layer has relative-position weights (rel_pos: true). */
export function hasRelativePosition(node: LayerNode): boolean {
  return weightNamed(node, 'pos') !== undefined;
}

/**
 * For queries q [B, S, H, hd] (unscaled): q + u, the content term's queries ([B, S, H, hd]),
 * and the position term (q + v)·p_jᵀ / √hd as [B, H, S, S], to add to the content scores.
 */
export function relativePositionTerms(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], q: string, H: number, hd: number): { qContent: string; positionScores: string } {
  if (ctx.decode) throw new ExportError(`${pathText(steps)}: relative-position attention (rel_pos) is exported as a prefill only; a decode step would project every cached position again`);
  const g = ctx.g;
  const { spec, store } = layerWeights(ctx, node, steps);
  const d = spec('pos').shape[1]!;
  if (d % 2 !== 0) throw new ExportError(`${pathText(steps)}: the sinusoidal position encoding of rel_pos needs an even width (d = ${d})`);
  const perHead = (name: string) => reshape(ctx, store(name), [H, hd]);
  const qContent = g.op('Add', [q, perHead('pos_bias_u')], undefined, { hint: 'q_u' });
  const qPosition = g.op('Add', [q, perHead('pos_bias_v')], undefined, { hint: 'q_v' });
  // pe [S, d]: angles j·div_i for i < d/2, then sin and cos interleaved (pe[:, 0::2], pe[:, 1::2]).
  const div = g.floats(`rel_pos_div:${d}`, [d / 2], (i) => Math.exp(2 * i * (-Math.log(10000) / d)));
  const j = g.op('Unsqueeze', [g.op('Cast', [positions(ctx)], { to: attr.int(g.floatType) }), g.ints([1])]); // [S, 1]
  const angles = g.op('Mul', [j, div], undefined, { hint: 'pe_angles' }); // [S, d/2]
  const pair = (op: 'Sin' | 'Cos') => g.op('Unsqueeze', [g.op(op, [angles]), g.ints([2])]); // [S, d/2, 1]
  const pe = reshape(ctx, g.op('Concat', [pair('Sin'), pair('Cos')], { axis: attr.int(2) }, { hint: 'pe' }), [-1, d]); // [S, d]
  // p = linear_pos(pe): [S, H·hd] → pᵀ per head [H, hd, S].
  const p = g.op('MatMul', [pe, g.op('Transpose', [store('pos')], { perm: attr.ints([1, 0]) })], undefined, { hint: 'rel_p' });
  const pT = g.op('Transpose', [reshape(ctx, p, [-1, H, hd])], { perm: attr.ints([1, 2, 0]) });
  const qv = g.op('Mul', [g.op('Transpose', [qPosition], { perm: attr.ints([0, 2, 1, 3]) }), g.float(1 / Math.sqrt(hd))]); // [B, H, S, hd]
  const positionScores = g.op('MatMul', [qv, pT], undefined, { hint: 'rel_scores' }); // [B, H, S, S]
  return { qContent, positionScores };
}
