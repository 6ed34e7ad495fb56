// Mamba-1's selective state-space mixer (Gu & Dao 2023; Transformers' MambaMixer): in_proj to
// the inner width twice (x and the gate z), a depthwise causal conv1d over x, x_proj to the
// step rank and the input-dependent B and C, dt_proj back to the inner width, the selective scan
// h ← exp(Δ·A)∘h + Δ·B·x, y = C·h + D∘x per channel, gated by silu(z), and out_proj. It keeps
// no KV cache: per sequence, the last `conv` inputs of the convolution and the state h of
// inner × state elements, whatever the length.

import { BOOL, DIM, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind, WeightSpec } from './layer-kind.js';
import { CONV_ARG, CONV_BIAS_ARG, EXPAND_ARG, PROJ_BIAS_ARG, depthwiseConv, recurrentCost } from './recurrent-mixer.js';
import { STATE_DTYPE_ARG } from './state-dtype.js';
import { biasWeight, checkShapesExact, matmulFlops, normWeight, projection } from './weight-specs.js';

const ARGS = [
  positional('d', DIM, 'Model width: the input of in_proj and the output of out_proj.'),
  optional('state', DIM, 'SSM state size N per channel (d_state).', { default: 16 }),
  EXPAND_ARG,
  CONV_ARG,
  optional('dt_rank', DIM, 'Rank of the step Δ (time_step_rank). Default: ceil(d / 16).'),
  PROJ_BIAS_ARG,
  CONV_BIAS_ARG,
  optional('inner_norms', BOOL, "RMSNorms on the step and on B and C after x_proj (Jamba's dt_layernorm, b_layernorm, c_layernorm).", { default: false }),
  STATE_DTYPE_ARG,
];

export const MAMBA: LayerKind = {
  name: 'Mamba',
  doc:
    'Mamba-1 selective state-space mixer: in_proj [2·inner, d], depthwise conv1d, x_proj [dt_rank + 2·state, inner], dt_proj, A_log and D, out_proj. ' +
    'Keeps a constant recurrent state of inner·(conv + state) elements per sequence instead of a KV cache.',
  args: ARGS,
  build(values, report) {
    const a = readArgs(ARGS, values);
    const d = a.number('d');
    const n = a.number('state');
    const inner = a.number('expand') * d;
    const k = a.number('conv');
    const r = a.optionalNumber('dt_rank') ?? Math.ceil(d / 16);
    const weights: WeightSpec[] = [
      ...projection('in_proj', d, 2 * inner, a.bool('bias')),
      depthwiseConv(inner, k),
      ...(a.bool('conv_bias') ? [biasWeight('conv_bias', inner)] : []),
      ...projection('x_proj', inner, r + 2 * n, false),
      ...projection('dt_proj', r, inner, true),
      { name: 'A_log', shape: [inner, n], role: 'bias', copies: 1, activeCopies: 1 },
      biasWeight('D', inner),
      ...projection('out_proj', inner, d, a.bool('bias')),
      ...(a.bool('inner_norms') ? [normWeight('dt_norm', r), normWeight('b_norm', n), normWeight('c_norm', n)] : []),
    ];
    if (!checkShapesExact(weights, report)) return undefined;
    const I = BigInt(inner);
    const N = BigInt(n);
    // Projections, the convolution (a multiply-add per tap and channel), and the scan: the state
    // update's multiply-add and the readout C·h, each per channel and state element.
    const flops =
      matmulFlops(d, 2 * inner) + 2n * I * BigInt(k) + matmulFlops(inner, r + 2 * n) + matmulFlops(r, inner) + 4n * I * N + matmulFlops(inner, d);
    // Saved per token: the input, in_proj's output (x and z), the conv output, x_proj's output
    // (Δ rank, B, C), Δ, and the scan output y (the hardware-aware scan recomputes h).
    // With inner norms, their inputs (the x_proj output again) are saved too.
    const activations = BigInt(d) + 2n * I + I + BigInt(r + 2 * n) * (a.bool('inner_norms') ? 2n : 1n) + I + I;
    return recurrentCost(weights, flops, activations, I * BigInt(k) + I * N, values);
  },
};
