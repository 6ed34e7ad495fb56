// Three more Llama-layout decoders. Phi-3 fuses q/k/v into qkv_proj and gate/up into
// gate_up_proj (the same parameters as separate projections, no biases), may rotate only
// partial_rotary_factor of each head, and slides over sliding_window on every layer when set.
// StarCoder2 uses LayerNorms with a shift, a two-matrix MLP (c_fc, c_proj) and one use_bias
// switch for every projection, with a sliding window on every layer. Granite is Llama with
// scalar multipliers (no parameters); GraniteMoE routes num_local_experts experts whose gate and
// up are one fused input_linear.

import type { Family } from '../family.js';
import { DECODER_BASE, llamaLike } from './llama-like.js';

export const PHI3: Family = llamaLike({
  ...DECODER_BASE,
  modelType: 'phi3',
  prefix: 'Phi3',
  configClass: 'Phi3Config',
  vocab: 32_064,
  hidden: 3072,
  ff: 8192,
  layers: 32,
  heads: 32,
  kvHeads: undefined,
  headDim: undefined,
  windows: 'all',
  partialRotary: { key: 'partial_rotary_factor', fraction: 1 },
});

export const STARCODER2: Family = llamaLike({
  ...DECODER_BASE,
  modelType: 'starcoder2',
  prefix: 'Starcoder2',
  configClass: 'Starcoder2Config',
  vocab: 49_152,
  hidden: 3072,
  ff: 12_288,
  layers: 30,
  heads: 24,
  kvHeads: 2,
  headDim: undefined,
  act: 'gelu_pytorch_tanh',
  tie: true,
  attentionBias: 'use_bias',
  windows: 'all',
  norm: 'layer',
  mlp: 'plain',
  // Keys of the original StarCoder2 code that Starcoder2Config does not define and no module reads.
  inert: ['mlp_type', 'norm_type'],
});

const GRANITE_BASE = {
  ...DECODER_BASE,
  vocab: 32_000,
  hidden: 4096,
  layers: 32,
  heads: 32,
  kvHeads: undefined,
  headDim: undefined,
  attentionBias: 'config',
} as const;

export const GRANITE: Family = llamaLike({
  ...GRANITE_BASE,
  modelType: 'granite',
  prefix: 'Granite',
  configClass: 'GraniteConfig',
  ff: 11_008,
  mlpBias: true,
});

export const GRANITE_MOE: Family = llamaLike({
  ...GRANITE_BASE,
  modelType: 'granitemoe',
  prefix: 'GraniteMoe',
  configClass: 'GraniteMoeConfig',
  ff: 11_008,
  experts: { countKey: 'num_local_experts', count: 8, topK: 2 },
});

