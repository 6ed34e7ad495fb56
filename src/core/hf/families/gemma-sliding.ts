// Gemma 2 and Gemma 3: Gemma's decoder with four RMSNorms per layer (before and after attention,
// before and after the MLP), local sliding-window layers interleaved with global ones, and for
// Gemma 3 a per-head RMSNorm on queries and keys. Gemma2Config slides on every other layer
// (layer i unless (i + 1) % 2 == 0), Gemma3TextConfig on five of six (sliding_window_pattern);
// an explicit layer_types list wins in both. Soft-capping and query_pre_attn_scalar have no
// parameters. Gemma 3's multimodal configs (model_type gemma3) nest the language model under
// text_config; its SigLIP vision tower and projector are not modelled, and the header says so.

import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { DECODER_BASE, llamaLike } from './llama-like.js';

const GEMMA_SLIDING_BASE = {
  ...DECODER_BASE,
  heads: 8,
  kvHeads: 4,
  headDim: 256,
  hidden: 2304,
  ff: 9216,
  layers: 26,
  act: 'gelu_pytorch_tanh',
  activationOverride: 'hidden_activation',
  tie: true,
  attentionBias: 'config',
  windows: 'layer_types',
  slidingWindow: 4096,
  normPlacement: 'sandwich',
} as const;

export const GEMMA2: Family = llamaLike({
  ...GEMMA_SLIDING_BASE,
  modelType: 'gemma2',
  prefix: 'Gemma2',
  configClass: 'Gemma2Config',
  vocab: 256_000,
  windowPeriod: { period: 2 },
});

const GEMMA3_TEXT_TRAITS = {
  ...GEMMA_SLIDING_BASE,
  modelType: 'gemma3_text',
  prefix: 'Gemma3',
  configClass: 'Gemma3TextConfig',
  vocab: 262_208,
  ropeTheta: 1_000_000,
  windowPeriod: { key: 'sliding_window_pattern', period: 6 },
  qkNorm: 'head',
  // The sliding layers' rotary base: frequencies only, no parameters.
  inert: ['rope_local_base_freq'],
} as const;

export const GEMMA3_TEXT: Family = llamaLike(GEMMA3_TEXT_TRAITS);

/** Keys of Gemma3Config that describe the image side, which the spec does not model. */
const VISION_KEYS = ['vision_config', 'mm_tokens_per_image', 'boi_token_index', 'eoi_token_index', 'image_token_index'];

function buildGemma3(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const text = cfg.child('text_config');
  // The nested config names its own class; the outer model_type already chose the family.
  text?.consume('model_type');
  const omitted = VISION_KEYS.filter((key) => cfg.has(key));
  cfg.consume(...VISION_KEYS);
  // Gemma3ForConditionalGeneration ties its LM head to the language model's embedding.
  if (text !== undefined && cfg.has('tie_word_embeddings') && !text.has('tie_word_embeddings')) cfg.consume('tie_word_embeddings');
  const model = GEMMA3_TEXT.build(text ?? cfg, head);
  return {
    ...model,
    description: `${model.description}; the language model only`,
    omitted: omitted.includes('vision_config')
      ? [{ key: 'vision_config', why: 'the SigLIP vision tower and the multimodal projector are not modelled: the spec is the language model' }]
      : [],
  };
}

export const GEMMA3: Family = {
  modelType: 'gemma3',
  configClass: 'Gemma3Config',
  classes: { Gemma3ForConditionalGeneration: 'lm', Gemma3ForCausalLM: 'lm', Gemma3Model: 'base' },
  defaultClass: 'Gemma3ForConditionalGeneration',
  build: buildGemma3,
};
