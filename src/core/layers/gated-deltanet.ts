// Gated DeltaNet linear attention (Yang, Kautz & Hatamizadeh, "Gated Delta Networks: Improving
// Mamba2 with Delta Rule", 2024; Transformers' Qwen3NextGatedDeltaNet, Qwen3-Next's linear
// layers). One projection in_proj_qkvz gives the queries and keys (k_heads × k_head_dim each),
// the values and the output gate z (v_heads × v_head_dim each); in_proj_ba gives per value head
// the write strength β (through a sigmoid) and the decay input a; a depthwise causal conv1d
// without bias runs over q, k and v; per value head a decay A_log and a step bias dt_bias make
// g = −exp(A_log)·softplus(a + dt_bias). Queries and keys are repeated to the value heads and
// L2-normalised; each value head keeps a k_head_dim × v_head_dim matrix S updated by the gated
// delta rule S ← exp(g)·S, S ← S + k·(β·(v − Sᵀk))ᵀ, read out as o = Sᵀq; a gated RMSNorm of
// v_head_dim (one vector shared by every head) with z, and out_proj. Per sequence it keeps the
// conv inputs (q, k, v over `conv` taps, as Transformers' conv_states) and the matrices S,
// constant in the length: a recurrent state, no KV cache.

import { DIM, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind, WeightSpec } from './layer-kind.js';
import { depthwiseConv, recurrentCost } from './recurrent-mixer.js';
import { STATE_DTYPE_ARG } from './state-dtype.js';
import { biasWeight, checkShapesExact, matmulFlops, matmulWeight, normWeight } from './weight-specs.js';

// Defaults are Qwen3NextConfig's.
const ARGS = [
  positional('d', DIM, 'Model width.'),
  optional('k_heads', DIM, 'Query/key heads (linear_num_key_heads); must divide v_heads.', { default: 16 }),
  optional('v_heads', DIM, 'Value heads (linear_num_value_heads), each with its own recurrent matrix.', { default: 32 }),
  optional('k_head_dim', DIM, 'Width of each query/key head (linear_key_head_dim).', { default: 128 }),
  optional('v_head_dim', DIM, 'Width of each value head (linear_value_head_dim).', { default: 128 }),
  optional('conv', DIM, 'Depthwise causal convolution kernel over q, k and v (linear_conv_kernel_dim).', { default: 4 }),
  STATE_DTYPE_ARG,
];

export const GATED_DELTANET: LayerKind = {
  name: 'GatedDeltaNet',
  doc:
    'Gated DeltaNet linear attention (Qwen3-Next): in_proj_qkvz [2·Kw + 2·Vw, d], in_proj_ba [2·v_heads, d], a bias-free depthwise conv1d over q, k and v, ' +
    'per value head A_log and dt_bias, a gated RMSNorm of v_head_dim, out_proj [d, Vw] (Kw = k_heads·k_head_dim, Vw = v_heads·v_head_dim). ' +
    'Keeps a constant recurrent state of (2·Kw + Vw)·conv + v_heads·k_head_dim·v_head_dim elements per sequence.',
  args: ARGS,
  build(values, report) {
    const a = readArgs(ARGS, values);
    const d = a.number('d');
    const kHeads = a.number('k_heads');
    const vHeads = a.number('v_heads');
    const kDim = a.number('k_head_dim');
    const vDim = a.number('v_head_dim');
    const k = a.number('conv');
    if (vHeads % kHeads !== 0) {
      report('k_heads', `k_heads (${kHeads}) must divide v_heads (${vHeads}): each key head serves v_heads / k_heads value heads`);
      return undefined;
    }
    const keyWidth = kHeads * kDim;
    const valueWidth = vHeads * vDim;
    const convWidth = 2 * keyWidth + valueWidth;
    const weights: WeightSpec[] = [
      matmulWeight('in_proj_qkvz', d, 2 * keyWidth + 2 * valueWidth),
      matmulWeight('in_proj_ba', d, 2 * vHeads),
      depthwiseConv(convWidth, k),
      biasWeight('dt_bias', vHeads),
      biasWeight('A_log', vHeads),
      normWeight('norm', vDim),
      matmulWeight('out_proj', valueWidth, d),
    ];
    if (!checkShapesExact(weights, report)) return undefined;
    // The recurrence in its recurrent form, per value head and element of its k_head_dim ×
    // v_head_dim matrix: the decay exp(g)·S (1 FLOP), the retrieval Sᵀk, the rank-one write
    // k·δᵀ and the readout Sᵀq (a multiply-add each): 7 FLOPs. The chunked form a prefill uses
    // does extra chunk-local work, which is not counted (as for Mamba2).
    const stateElements = BigInt(vHeads) * BigInt(kDim) * BigInt(vDim);
    const flops =
      matmulFlops(d, 2 * keyWidth + 2 * valueWidth) +
      matmulFlops(d, 2 * vHeads) +
      2n * BigInt(convWidth) * BigInt(k) +
      7n * stateElements +
      matmulFlops(valueWidth, d);
    // Saved per token: the input, both projections' outputs, the conv output, the recurrence's
    // output and the gated norm's output (out_proj's input).
    const activations =
      BigInt(d) + BigInt(2 * keyWidth + 2 * valueWidth) + BigInt(2 * vHeads) + BigInt(convWidth) + BigInt(valueWidth) + BigInt(valueWidth);
    return recurrentCost(weights, flops, activations, BigInt(convWidth) * BigInt(k) + stateElements, values);
  },
};
