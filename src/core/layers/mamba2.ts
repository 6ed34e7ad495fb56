// Mamba-2's state-space-duality mixer (Dao & Gu 2024; Transformers' Mamba2Mixer): one in_proj
// to the gate z, x, the grouped B and C and one step Δ per head; a depthwise causal conv1d over
// x, B and C; per head a scalar decay A (A_log), a step bias and a skip D; the SSD recurrence
// h ← exp(Δ·A)·h + Δ·B·xᵀ, y = C·h per head of head_dim × state; a gated RMSNorm and out_proj.
// Per sequence it keeps the conv inputs (x, B, C over `conv` taps) and heads × head_dim × state
// SSM elements, constant in the length.

import { BOOL, DIM, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind, WeightSpec } from './layer-kind.js';
import { CONV_ARG, CONV_BIAS_ARG, EXPAND_ARG, PROJ_BIAS_ARG, depthwiseConv, recurrentCost } from './recurrent-mixer.js';
import { STATE_DTYPE_ARG } from './state-dtype.js';
import { biasWeight, checkShapesExact, matmulFlops, normWeight, projection } from './weight-specs.js';

const ARGS = [
  positional('d', DIM, 'Model width.'),
  optional('head_dim', DIM, 'Channels per head; heads = expand · d / head_dim.', { default: 64 }),
  optional('state', DIM, 'SSM state size N per head channel (d_state).', { default: 128 }),
  optional('groups', DIM, 'Groups sharing B and C (n_groups); must divide heads.', { default: 1 }),
  EXPAND_ARG,
  optional('inner', DIM, 'Inner width when it is not a multiple of d (Nemotron-H: mamba_num_heads · mamba_head_dim); replaces expand · d.'),
  CONV_ARG,
  PROJ_BIAS_ARG,
  CONV_BIAS_ARG,
  optional('norm', BOOL, 'The gated RMSNorm of the inner width before out_proj (rmsnorm).', { default: true }),
  STATE_DTYPE_ARG,
];

export const MAMBA2: LayerKind = {
  name: 'Mamba2',
  doc:
    'Mamba-2 (SSD) mixer: in_proj [2·inner + 2·groups·state + heads, d], depthwise conv1d over x, B and C, per-head A_log, dt_bias and D, gated RMSNorm, out_proj. ' +
    'Keeps a constant recurrent state of (inner + 2·groups·state)·conv + inner·state elements per sequence.',
  args: ARGS,
  build(values, report) {
    const a = readArgs(ARGS, values);
    const d = a.number('d');
    const n = a.number('state');
    const g = a.number('groups');
    const k = a.number('conv');
    const innerArg = a.optionalNumber('inner');
    if (innerArg !== undefined && a.number('expand') !== 2) {
      report('inner', `inner (${innerArg}) and expand (${a.number('expand')}) both set the inner width; give one`);
      return undefined;
    }
    const inner = innerArg ?? a.number('expand') * d;
    const headDim = a.number('head_dim');
    if (inner % headDim !== 0) {
      report('head_dim', `head_dim (${headDim}) must divide the inner width ${innerArg === undefined ? 'expand · d' : 'inner'} (${inner})`);
      return undefined;
    }
    const heads = inner / headDim;
    if (heads % g !== 0) {
      report('groups', `groups (${g}) must divide the heads (${heads} = ${inner} / ${headDim})`);
      return undefined;
    }
    const convWidth = inner + 2 * g * n;
    const weights: WeightSpec[] = [
      ...projection('in_proj', d, 2 * inner + 2 * g * n + heads, a.bool('bias')),
      depthwiseConv(convWidth, k),
      ...(a.bool('conv_bias') ? [biasWeight('conv_bias', convWidth)] : []),
      biasWeight('dt_bias', heads),
      biasWeight('A_log', heads),
      biasWeight('D', heads),
      ...(a.bool('norm') ? [normWeight('norm', inner)] : []),
      ...projection('out_proj', inner, d, a.bool('bias')),
    ];
    if (!checkShapesExact(weights, report)) return undefined;
    const I = BigInt(inner);
    const N = BigInt(n);
    // Projections, the convolution, and the recurrence counted in its recurrent form: the state
    // update's multiply-add and the readout C·h per channel and state element.
    const flops = matmulFlops(d, 2 * inner + 2 * g * n + heads) + 2n * BigInt(convWidth) * BigInt(k) + 4n * I * N + matmulFlops(inner, d);
    // Saved per token: the input, in_proj's output, the conv output, the scan output y and the
    // gated norm's output (out_proj's input).
    const activations = BigInt(d) + BigInt(2 * inner + 2 * g * n + heads) + BigInt(convWidth) + I + I;
    return recurrentCost(weights, flops, activations, BigInt(convWidth) * BigInt(k) + I * N, values);
  },
};
