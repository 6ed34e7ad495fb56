// Qwen 3: Qwen 2's decoder with a per-head RMSNorm on queries and keys (Qwen3RMSNorm(head_dim)
// as q_norm and k_norm), head_dim given by the config (128) rather than derived, and no q/k/v
// biases unless attention_bias. Qwen3-MoE routes num_experts gated experts of
// moe_intermediate_size, num_experts_per_tok per token, without shared experts or router bias;
// decoder_sparse_step and mlp_only_layers keep some layers dense (a GatedMLP of intermediate_size).

import type { Family } from '../family.js';
import { DECODER_BASE, llamaLike } from './llama-like.js';

const QWEN3_BASE = {
  ...DECODER_BASE,
  vocab: 151_936,
  heads: 32,
  headDim: 128,
  attentionBias: 'config',
  windows: 'qwen2',
  slidingWindow: 4096,
  qkNorm: 'head',
} as const;

export const QWEN3: Family = llamaLike({
  ...QWEN3_BASE,
  modelType: 'qwen3',
  prefix: 'Qwen3',
  configClass: 'Qwen3Config',
  hidden: 4096,
  ff: 22_016,
  layers: 32,
  kvHeads: 32,
});

export const QWEN3_MOE: Family = llamaLike({
  ...QWEN3_BASE,
  modelType: 'qwen3_moe',
  prefix: 'Qwen3Moe',
  configClass: 'Qwen3MoeConfig',
  hidden: 2048,
  ff: 6144,
  layers: 24,
  kvHeads: 4,
  experts: { countKey: 'num_experts', count: 128, topK: 8, ffKey: 'moe_intermediate_size', ffDefault: 768, sparseLayers: true, normTopKDefault: false },
});
