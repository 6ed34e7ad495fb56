// What the recurrent mixers (Mamba, Mamba2, GatedDeltaNet) share: the arguments that read the
// same in each, their depthwise causal convolution, and their cost, which has no KV cache but a
// recurrent state per sequence in the dtype `state_dtype` names.

import { BOOL, DIM, optional } from './arg-specs.js';
import type { ArgSpec, ArgValue, LayerCost, WeightSpec } from './layer-kind.js';
import { stateBits } from './state-dtype.js';
import { denseCost } from './weight-specs.js';

export const EXPAND_ARG: ArgSpec = optional('expand', DIM, 'Inner width = expand · d.', { default: 2 });
export const CONV_ARG: ArgSpec = optional('conv', DIM, 'Depthwise causal convolution kernel (d_conv).', { default: 4 });
export const PROJ_BIAS_ARG: ArgSpec = optional('bias', BOOL, 'Biases on in_proj and out_proj.', { default: false });
export const CONV_BIAS_ARG: ArgSpec = optional('conv_bias', BOOL, 'A bias on the convolution.', { default: true });

/** A depthwise Conv1d(channels, channels, taps, groups=channels): one kernel of `taps` per channel. */
export function depthwiseConv(channels: number, taps: number): WeightSpec {
  return { name: 'conv', shape: [channels, 1, taps], role: 'conv', copies: 1, activeCopies: 1 };
}

/** The cost of a recurrent mixer: no attention, no KV, and `stateElements` kept per sequence. */
export function recurrentCost(
  weights: readonly WeightSpec[],
  flopsPerToken: bigint,
  activationElementsPerToken: bigint,
  stateElements: bigint,
  values: ReadonlyMap<string, ArgValue>,
): LayerCost {
  return {
    ...denseCost(weights, flopsPerToken, activationElementsPerToken),
    recurrentState: { elements: stateElements, bits: stateBits(values.get('state_dtype') as string | undefined) },
  };
}
