// Gemma 3n (Transformers' Gemma3nTextModel): Gemma 3's sandwich-normed decoder with per-head q/k
// RMSNorms and 4:1 sliding/full layers, plus what makes it small on a device —
// per-layer embeddings (a second, wide token table with one vector per layer, gated into each
// layer's output), AltUp (altup_num_inputs copies of the hidden state, one updated per layer and
// the others predicted and corrected), LAuReL (a rank-laurel_rank residual beside attention),
// MatFormer widths (intermediate_size per layer) and cross-layer KV sharing: the last
// num_kv_shared_layers layers read the cache of the last earlier layer of their own type, keeping
// their queries. Their k_proj, v_proj and k_norm are still built, so the checkpoint stores them:
// `keep_weights: true` keeps them in the stored count while effective, FLOPs and KV drop.
// Activation sparsity (a top-k of the gate in the first layers) and the AltUp coefficient clip
// change no count. The multimodal config (model_type gemma3n) nests the text model under
// text_config; its MobileNet-V5 vision tower, USM audio encoder and their embedders are not
// modelled, and the header says so.

import { activationFor } from '../activations.js';
import { showJson, type ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, formatArg, type Binding } from '../spec-writer.js';
import {
  attentionCall,
  attentionConstants,
  hasLmHead,
  headDescription,
  lmHead,
  readAttentionShape,
  readRope,
  readTie,
  simplifyWindows,
  standardAttentionKeys,
  windowedStack,
} from './shared-parts.js';
import { appendAll } from '../../collections/append-all.js';

const LAYER_TYPES = ['sliding_attention', 'full_attention'] as const;

/** Gemma3nTextConfig's defaults (the E4B shape). */
const DEFAULTS = { vocab: 262_400, hidden: 2048, ff: 16_384, layers: 35, heads: 8, kvHeads: 2, headDim: 256, window: 512, pleVocab: 262_144, pleWidth: 256, altup: 4, laurelRank: 64, kvShared: 15, ropeTheta: 1_000_000 };

/** Keys that tune the forward pass without parameters: AltUp's clip, index and scaling, the sparsity pattern (checked), the local rotary base. */
const INERT = ['altup_active_idx', 'altup_coef_clip', 'altup_correct_scale', 'altup_lr_multiplier', 'rope_local_base_freq'];

/** Keys of Gemma3nConfig that describe the audio and image side, which the spec does not model. */
const MULTIMODAL_KEYS = [
  'vision_config',
  'audio_config',
  'audio_soft_tokens_per_image',
  'vision_soft_tokens_per_image',
  'boa_token_id',
  'boi_token_id',
  'eoa_token_id',
  'eoi_token_id',
  'image_token_id',
  'audio_token_id',
];

/** intermediate_size: one width for every layer, or MatFormer's list with one per layer. */
function readWidths(cfg: ConfigReader, layers: number): number[] {
  const value = cfg.raw('intermediate_size');
  if (!Array.isArray(value)) {
    const ff = cfg.positiveInt('intermediate_size', DEFAULTS.ff);
    return Array.from({ length: layers }, () => ff);
  }
  cfg.require(value.length === layers, 'intermediate_size', `intermediate_size has ${value.length} entries but num_hidden_layers is ${layers}`);
  return value.map((w, i) => {
    cfg.require(typeof w === 'number' && Number.isSafeInteger(w) && w >= 1, 'intermediate_size', `intermediate_size[${i}] must be a positive integer, got ${showJson(w)}`);
    return w as number;
  });
}

/** layer_types, or Gemma3nTextConfig's default: layer i attends fully when (i + 1) % 5 == 0. */
function readLayerTypes(cfg: ConfigReader, layers: number): string[] {
  const types = cfg.optionalStringList('layer_types');
  if (types === undefined) return Array.from({ length: layers }, (_, i) => ((i + 1) % 5 === 0 ? 'full_attention' : 'sliding_attention'));
  cfg.require(types.length === layers, 'layer_types', `layer_types has ${types.length} entries but num_hidden_layers is ${layers}`);
  for (const [i, type] of types.entries()) {
    cfg.require((LAYER_TYPES as readonly string[]).includes(type), 'layer_types', `layer_types[${i}] must be "sliding_attention" or "full_attention", got "${type}"`);
  }
  return types;
}

/** activation_sparsity_pattern changes no count, but Transformers refuses a list of the wrong length. */
function checkSparsity(cfg: ConfigReader, layers: number): void {
  const value = cfg.raw('activation_sparsity_pattern');
  if (Array.isArray(value)) cfg.require(value.length === layers, 'activation_sparsity_pattern', `activation_sparsity_pattern has ${value.length} entries but num_hidden_layers is ${layers}`);
}

/**
 * Gemma3nTextAttention's KV sources: from first = layers − num_kv_shared_layers on (when first > 0),
 * layer i reads the KV of the last layer before first with i's type; the others produce their own.
 */
function kvSources(cfg: ConfigReader, types: readonly string[], shared: number): number[] | undefined {
  const first = types.length - shared;
  if (shared === 0 || first <= 0) return undefined;
  return types.map((type, i) => {
    if (i < first) return i;
    const source = types.lastIndexOf(type, first - 1);
    cfg.require(source >= 0, 'num_kv_shared_layers', `layer ${i} (${type}) shares the KV of an earlier ${type} layer, but none of the ${first} layers before num_kv_shared_layers (${shared}) is one`);
    return source;
  });
}

function buildText(cfg: ConfigReader, head: HeadKind): FamilyModel {
  cfg.consume(...INERT);
  const vocab = cfg.positiveInt('vocab_size', DEFAULTS.vocab);
  const shape = readAttentionShape(cfg, standardAttentionKeys({ hidden: DEFAULTS.hidden, heads: DEFAULTS.heads, kvHeads: DEFAULTS.kvHeads, headDim: DEFAULTS.headDim }));
  const layers = cfg.positiveInt('num_hidden_layers', DEFAULTS.layers);
  const widths = readWidths(cfg, layers);
  checkSparsity(cfg, layers);
  const act = activationFor('hidden_activation', cfg.string('hidden_activation', 'gelu_pytorch_tanh'));
  cfg.consume('hidden_act');
  const types = readLayerTypes(cfg, layers);
  const window = cfg.positiveInt('sliding_window', DEFAULTS.window);
  const pleVocab = cfg.positiveInt('vocab_size_per_layer_input', DEFAULTS.pleVocab);
  const pleWidth = cfg.positiveInt('hidden_size_per_layer_input', DEFAULTS.pleWidth);
  const altup = cfg.positiveInt('altup_num_inputs', DEFAULTS.altup);
  cfg.require(altup >= 2, 'altup_num_inputs', `altup_num_inputs must be at least 2 (the active copy and one predicted), got ${altup}`);
  const laurelRank = cfg.positiveInt('laurel_rank', DEFAULTS.laurelRank);
  const kvShared = cfg.count('num_kv_shared_layers', DEFAULTS.kvShared);
  cfg.require(kvShared <= layers, 'num_kv_shared_layers', `num_kv_shared_layers (${kvShared}) must not exceed num_hidden_layers (${layers})`);
  const sources = kvSources(cfg, types, kvShared);
  const rope = readRope(cfg, { theta: 'rope_theta', thetaDefault: DEFAULTS.ropeTheta }, shape.headDim);
  const bias = cfg.bool('attention_bias', false) ? { bias: true } : {};

  const constants: Binding[] = [binding('vocab', vocab), binding('d', shape.d), binding('layers', layers), ...attentionConstants(shape), ...rope.constants];
  const uniform = widths.every((w) => w === widths[0]);
  constants.push(
    uniform
      ? binding('ff', widths[0]!, 'intermediate_size')
      : binding('layer_ff', `[${widths.map(formatArg).join(', ')}]`, "intermediate_size: MatFormer's width per layer"),
    binding('ple_vocab', pleVocab, 'vocab_size_per_layer_input: rows of the per-layer embedding table'),
    binding('ple_width', pleWidth, 'hidden_size_per_layer_input: per-layer vector width'),
    binding('altup_inputs', altup, 'altup_num_inputs: copies of the hidden state'),
    binding('laurel_rank', laurelRank, 'laurel_rank: rank of the LAuReL residual'),
  );
  const plan = windowedStack('Decoder', 'layers', simplifyWindows(types.map((t) => (t === 'sliding_attention' ? window : undefined))), uniform ? [] : ['ff: layer_ff[i]']);
  appendAll(constants, plan.constants);
  if (sources !== undefined) constants.push(binding('kv_sources', `[${sources.join(', ')}]`, `num_kv_shared_layers (${kvShared}): each layer's KV source`));

  const norm = call('RMSNorm', ['d']);
  const attn = attentionCall(shape, { ...bias, qk_norm: 'rms', window: plan.windowArg, ...rope.args });
  const params = [...(plan.blockParams ?? []), ...(uniform ? [] : [`ff = ${formatArg(widths[0]!)}`])];
  const members: Binding[] = [
    binding('altup', call('AltUp', ['d', 'altup_inputs']), 'predicts the other copies before the layer, corrects them after'),
    binding('attn_norm', norm, 'input_layernorm, on the active copy'),
    binding('laurel', call('Laurel', ['d', 'laurel_rank']), 'beside attention, joins its residual'),
    binding('attn', attn),
    binding('attn_post_norm', norm, 'post_attention_layernorm'),
    binding('mlp_norm', norm, 'pre_feedforward_layernorm'),
    binding('mlp', call('GatedMLP', ['d', 'ff'], { act: act === 'silu' ? undefined : act })),
    binding('mlp_post_norm', norm, 'post_feedforward_layernorm'),
    binding('per_layer', call('PerLayerInput', ['d', 'ple_width']), "gates this layer's per-layer embedding into the predicted copies"),
  ];

  const modules: Binding[] = [
    binding('embed', call('Embedding', ['vocab', 'd'])),
    binding('ple', call('PerLayerEmbedding', ['ple_vocab', 'd', 'layers', 'ple_width']), 'embed_tokens_per_layer, per_layer_model_projection'),
    binding('altup_in', call('AltUpProjections', ['d', 'altup_inputs']), 'altup_projections: the copies made from the embedding'),
    binding('body', plan.stack),
    binding('altup_out', call('AltUpProjections', ['d', 'altup_inputs']), 'altup_unembed_projections: the copies folded back'),
    binding('norm', norm),
  ];
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, true);
  if (withHead) modules.push(lmHead(tied));
  const statements = sources === undefined ? [] : ['share kv body: map(kv_sources, keep_weights: true)'];
  return {
    description: `decoder-only with per-layer embeddings, AltUp and LAuReL, ${headDescription(withHead, tied)}`,
    constants,
    blocks: [{ name: 'Decoder', ...(params.length === 0 ? {} : { params }), members }],
    modules,
    statements,
  };
}

export const GEMMA3N_TEXT: Family = {
  modelType: 'gemma3n_text',
  configClass: 'Gemma3nTextConfig',
  classes: { Gemma3nForCausalLM: 'lm', Gemma3nTextModel: 'base' },
  defaultClass: 'Gemma3nForCausalLM',
  build: buildText,
};

function buildMultimodal(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const text = cfg.child('text_config');
  text?.consume('model_type');
  const omitted = MULTIMODAL_KEYS.filter((key) => cfg.has(key));
  cfg.consume(...MULTIMODAL_KEYS);
  // Gemma3nForConditionalGeneration ties its LM head to the language model's embedding.
  if (text !== undefined && cfg.has('tie_word_embeddings') && !text.has('tie_word_embeddings')) cfg.consume('tie_word_embeddings');
  const model = buildText(text ?? cfg, head);
  const towers = ['vision_config', 'audio_config'].filter((key) => omitted.includes(key));
  return {
    ...model,
    description: `${model.description}; the language model only`,
    omitted: towers.map((key) => ({
      key,
      why: `the ${key === 'vision_config' ? 'MobileNet-V5 vision tower and its embedder (embed_vision)' : 'USM audio encoder and its embedder (embed_audio)'} are not modelled: the spec is the language model`,
    })),
  };
}

export const GEMMA3N: Family = {
  modelType: 'gemma3n',
  configClass: 'Gemma3nConfig',
  classes: { Gemma3nForConditionalGeneration: 'lm', Gemma3nForCausalLM: 'lm', Gemma3nModel: 'base' },
  defaultClass: 'Gemma3nForConditionalGeneration',
  build: buildMultimodal,
};
