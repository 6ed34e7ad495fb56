// AllenAI's OLMo decoders. OLMo (v1) is Llama's layout with LayerNorms that have no parameters
// at all (OlmoLayerNorm: no scale, no shift), the final norm included. OLMo-2 moves the norms
// after each sublayer (x + norm(attn(x)), x + norm(mlp(x))) and normalises queries and keys over
// their full width (RMSNorm(heads·head_dim), RMSNorm(kv_heads·head_dim)). OLMoE keeps pre-norms,
// has full-width q/k norms, and routes num_experts gated experts of intermediate_size.
// clip_qkv clamps activations and has no parameters.

import type { Family } from '../family.js';
import { DECODER_BASE, llamaLike } from './llama-like.js';

const OLMO_BASE = {
  ...DECODER_BASE,
  vocab: 50_304,
  hidden: 4096,
  ff: 11_008,
  layers: 32,
  heads: 32,
  kvHeads: undefined,
  headDim: undefined,
  attentionBias: 'config',
} as const;

export const OLMO: Family = llamaLike({
  ...OLMO_BASE,
  modelType: 'olmo',
  prefix: 'Olmo',
  configClass: 'OlmoConfig',
  norm: 'plain',
});

export const OLMO2: Family = llamaLike({
  ...OLMO_BASE,
  modelType: 'olmo2',
  prefix: 'Olmo2',
  configClass: 'Olmo2Config',
  normPlacement: 'post',
  qkNorm: 'full',
});

export const OLMOE: Family = llamaLike({
  ...OLMO_BASE,
  modelType: 'olmoe',
  prefix: 'Olmoe',
  configClass: 'OlmoeConfig',
  hidden: 2048,
  ff: 2048,
  layers: 16,
  heads: 16,
  qkNorm: 'full',
  experts: { countKey: 'num_experts', count: 64, topK: 8, normTopKDefault: false },
});
