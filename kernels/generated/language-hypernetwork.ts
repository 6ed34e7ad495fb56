// Hyper-Adapters (`adapt PATHS: hyper_lang(…)`, Baziotis et al. 2022): one hypernetwork per
// statement builds each target's adapter for the language pair (source 0, target min(1, N−1))
// from the concatenated language and layer embeddings, exactly the stores the engine counts
// (src/core/analysis/layer-totals.ts, languageHyperCost) and the computation of
// fairseq/modules/hyper_adapter.py (HyperNetwork; as in
// facebookresearch/fairseq@1ecbb803654fd6641dac8a52de0fb55cf4ede0ba, "added hyperadapters"):
//   e   = [src[0] ‖ tgt[t] ‖ layers[offset + l]]                         [3e]
//   x   = LayerNorm(e) with input_norm; x = ReLU(W_in·x + b_in)          [h]
//   x  += W_2·ReLU(W_1·LayerNorm(x) + b_1) + b_2, per residual block     (pre-norm: normalize_before)
//   x   = LayerNorm(x + W_2·ReLU(W_1·x + b_1) + b_2)                     (post_norm: ResidualBlock with normalize_before false)
//   x   = LayerNorm(x) with output_norm
//   W_d = view(H_dw·x / √h, [r, d]), b_d = H_db·x / √h                   (the rescaling fix)
//   W_u = view(H_uw·x / √h, [d, r]), b_u = H_ub·x / √h
//   γ = 1 + H_γ·x / √h, β = H_β·x / √h with norm (else a LayerNorm without parameters)
//   y  += W_u·ReLU(W_d·LayerNorm_γ,β(y) + b_d) + b_u                     on the target's output y [T, d] (pre-norm)
//   y   = LayerNorm_γ,β(y + W_u·ReLU(W_d·y + b_d) + b_u)                 (post_norm: HyperNetwork.forward with normalize_before false)
// The reference ties its encoder's one LayerNorm to the same flag (LayerNorm(3e) on the input when
// pre-norm, LayerNorm(h) on the output when post-norm — written `nn.LayerNorm(output_dim)`, a name
// HyperNetworkEncoder.__init__ never binds, so its post-norm encoder cannot be built as committed);
// here `input_norm` and `output_norm` choose those norms on their own, `post_norm` the order.
// The reference applies it to a layer's output after that layer's residual add; here it sits on
// the named target's output (`targets: [down]` for the FFN), which costs the same parameters and
// FLOPs. ReLU is the hyper-adapters arguments' default activation. Stores:
// `hyper_lang@<statement>:hypernetwork.*`, once per statement; nothing per target.

import { pathText, type Modifier, type PathStep } from '../engine-bridge.js';
import type { EmitContext } from '../layers/context.js';
import { hyperLayerIndex } from './hypernetwork.js';
import { source, tally } from './state.js';
import { adapterForward } from '../layers/bottleneck-adapter.js';
import { attr } from '../onnx-writer.js';

type LanguageHyper = Extract<Extract<Modifier['effect'], { readonly kind: 'adapter' }>['method'], { readonly kind: 'hyper_lang' }>;

const EPS = 1e-5;

/** y + the adapter the statement's hypernetwork makes at this target (its output y [T, d]). */
export function languageHyperAdapter(ctx: EmitContext, m: Modifier, steps: readonly PathStep[], name: string, y: string, d: number): string {
  if (m.effect.kind !== 'adapter' || m.effect.method.kind !== 'hyper_lang') throw new Error('languageHyperAdapter: not a hyper_lang modifier');
  const c: LanguageHyper = m.effect.method;
  const g = ctx.g;
  const layer = c.offset + hyperLayerIndex(m.pattern, steps);
  if (layer >= c.layers) throw new Error(`${pathText(steps)}.${name}: hyper_lang layer ${layer} outside the hypernetwork's ${c.layers} layer embeddings`);
  const { bottleneck: r, embedding: e, hidden: h } = c;
  const net = `hyper_lang@${m.range.start}:hypernetwork`;
  const T = { transB: attr.int(1) };
  const row = (table: string, index: number) => g.op('Reshape', [g.op('Gather', [source(ctx, table), g.ints([index], true)], { axis: attr.int(0) }), g.ints([1, e])]);
  const tgt = g.weight(`${net}.tgt_lang_emb`, [c.languages, e], 1).name;
  const src = c.tied ? tgt : g.weight(`${net}.src_lang_emb`, [c.languages, e], 1).name;
  const layers = g.weight(`${net}.layer_emb`, [c.layers, e], 1).name;
  let x = g.op('Concat', [row(src, 0), row(tgt, Math.min(1, c.languages - 1)), row(layers, layer)], { axis: attr.int(1) }, { hint: 'hyper_lang_embeddings' }); // [1, 3e]
  const norm = (v: string, part: string, width: number) =>
    g.op('LayerNormalization', [v, source(ctx, g.weight(`${net}.${part}.weight`, [width], 0.1, 1).name), source(ctx, g.weight(`${net}.${part}.bias`, [width], 0.1).name)], { axis: attr.int(-1), epsilon: attr.float(EPS) });
  const linear = (v: string, part: string, out: number, inWidth: number, scale: number) =>
    g.op('Gemm', [v, source(ctx, g.weight(`${net}.${part}.weight`, [out, inWidth], scale).name), source(ctx, g.weight(`${net}.${part}.bias`, [out], scale).name)], T, { hint: `hyper_lang_${part}` });
  if (c.inputNorm) x = norm(x, 'encoder.norm_input', 3 * e);
  x = g.op('Relu', [linear(x, 'encoder.fc_input', h, 3 * e, Math.sqrt(3 / (3 * e)))]);
  for (let b = 0; b < c.encoderLayers; b++) {
    const part = `encoder.layers.${b}`;
    const inner = g.op('Relu', [linear(c.postNorm ? x : norm(x, `${part}.norm`, h), `${part}.fc1`, h, h, Math.sqrt(3 / h))]);
    x = g.op('Add', [x, linear(inner, `${part}.fc2`, h, h, Math.sqrt(3 / h))]);
    if (c.postNorm) x = norm(x, `${part}.norm`, h);
  }
  if (c.outputNorm) x = norm(x, 'encoder.norm_output', h);
  tally(ctx, BigInt(3 * e * h + c.encoderLayers * 2 * h * h));
  // The heads' outputs divided by √h (the paper's rescaling fix).
  const root = g.float(Math.sqrt(h));
  const head = (part: string, out: number, scale: number) => g.op('Div', [linear(x, part, out, h, scale), root]);
  const downW = g.op('Reshape', [head('head_down_weights', d * r, Math.sqrt(3 / d)), g.ints([r, d])]);
  const downB = g.op('Reshape', [head('head_down_bias', r, 0.1), g.ints([r])]);
  const upW = g.op('Reshape', [head('head_up_weights', r * d, Math.sqrt(3 / r)), g.ints([d, r])]);
  const upB = g.op('Reshape', [head('head_up_bias', d, 0.1), g.ints([d])]);
  tally(ctx, BigInt(2 * h * d * r + h * (r + d)));
  let gamma = g.float(1, d);
  let beta = g.float(0, d);
  if (c.norm) {
    gamma = g.op('Add', [g.op('Reshape', [head('head_layer_norm_gamma', d, 0.1), g.ints([d])]), g.float(1)]);
    beta = g.op('Reshape', [head('head_layer_norm_beta', d, 0.1), g.ints([d])]);
    tally(ctx, BigInt(2 * h * d));
  }
  // The generated adapter runs as fairseq's stored one (BottleneckAdapter's forward).
  return adapterForward(g, y, { down: downW, downBias: downB, up: upW, upBias: upB, gamma, beta }, c.postNorm, { sum: `${name}_hyper_lang`, down: `${name}_hyper_lang_down`, up: `${name}_hyper_lang_up`, norm: `${name}_hyper_lang_norm` });
}
