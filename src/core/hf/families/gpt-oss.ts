// GPT-OSS: pre-RMSNorm decoder layers alternating sliding-window (sliding_window, 128) and full
// attention per layer_types, biased q/k/v/o projections, attention sinks (one learned logit per
// head), and a MoE of num_local_experts experts with biased fused gate_up and down projections
// and a biased router, num_experts_per_tok per token. The experts compute
// (up + 1) · gate · σ(1.702 · gate) with the gate clamped to at most swiglu_limit and up to
// ±swiglu_limit: a gated MLP with quick_gelu and `glu_limit` (the same matrices and FLOPs; the
// +1 and the clamp have no parameters, and the ONNX export applies them). hidden_act is in the
// config but the experts do not read it.

import type { Family } from '../family.js';
import { DECODER_BASE, llamaLike } from './llama-like.js';

export const GPT_OSS: Family = llamaLike({
  ...DECODER_BASE,
  modelType: 'gpt_oss',
  prefix: 'GptOss',
  configClass: 'GptOssConfig',
  vocab: 201_088,
  hidden: 2880,
  ff: 2880,
  layers: 36,
  heads: 64,
  kvHeads: 8,
  headDim: 64,
  attentionBias: 'config',
  attentionBiasDefault: true,
  windows: 'layer_types',
  slidingWindow: 128,
  windowPeriod: { period: 2 },
  ropeTheta: 150_000,
  sinks: true,
  experts: { countKey: 'num_local_experts', count: 128, topK: 4, biases: true, act: 'quick_gelu', gluLimit: { key: 'swiglu_limit', value: 7 } },
  inert: ['experts_per_token', 'hidden_act', 'initial_context_length'],
});
