// What the importer says about the keys of a config that its family did not read. Every one is
// listed in the spec's header, so nothing is dropped silently. They fall in three groups:
//  - keys that change no count, the same in every family (token ids, dropout, epsilons,
//    initialisation, generation and serialisation settings): listed, no warning;
//  - keys that describe structure some family models (experts, per-layer attention types,
//    latent attention ranks, prediction modules, state-space and linear-attention layers, nested
//    sub-model configs): present with a non-trivial value in a family that does not read them,
//    they contradict the model_type (a qwen3_moe config relabelled as qwen2 would lose its
//    experts), so the import is refused, naming them;
//  - anything else: listed and warned about, since the importer cannot know what it does.

import type { JsonValue } from './json-text.js';

/** Keys that never change a parameter, FLOP or memory count, whatever the family. */
const NO_EFFECT_KEYS: ReadonlySet<string> = new Set([
  'architectures',
  'model_type',
  'transformers_version',
  '_name_or_path',
  'torch_dtype',
  'dtype',
  'dropout',
  'dropout_rate',
  'use_cache',
  'initializer_range',
  'initializer_factor',
  'init_std',
  'auto_map',
  'id2label',
  'label2id',
  'problem_type',
  'return_dict',
  'output_attentions',
  'output_hidden_states',
  'output_router_logits',
  'router_aux_loss_coef',
  'router_z_loss_coef',
  'aux_loss_alpha',
  'seq_aux',
  'use_return_dict',
  'torchscript',
  'tokenizer_class',
  'prefix',
  'task_specific_params',
  'finetuning_task',
  'chunk_size_feed_forward',
  'gradient_checkpointing',
  'pretraining_tp',
  'cache_implementation',
  'max_position_embeddings',
  'original_max_position_embeddings',
  'attn_logit_softcapping',
  'final_logit_softcapping',
  'query_pre_attn_scalar',
  'attention_multiplier',
  'embedding_multiplier',
  'residual_multiplier',
  'logits_scaling',
  'routed_scaling_factor',
  'norm_topk_prob',
  'scoring_func',
  'topk_method',
  'n_group',
  'topk_group',
  'ep_size',
  'clip_qkv',
  'bad_words_ids',
  'num_beams',
  'do_sample',
  'temperature',
  'top_k',
  'top_p',
  'max_length',
  'min_length',
  'length_penalty',
  'repetition_penalty',
  'early_stopping',
  'no_repeat_ngram_size',
  'is_encoder_decoder',
  'tie_encoder_decoder',
  'use_bfloat16',
  'attn_implementation',
]);

/** Suffixes and prefixes of keys that change no count (dropout rates, token ids, norm epsilons). */
const NO_EFFECT_SUFFIXES = ['_dropout', '_pdrop', 'dropout_prob', '_token_id', '_token_ids', '_eps', '_epsilon', '_dropout_rate'];
const NO_EFFECT_PREFIXES = ['output_', 'rope_', 'rotary_', 'use_flash', 'fused_', 'router_jitter'];

/**
 * Keys that describe parameters or per-layer structure in some family. An importer that leaves
 * one of these unread while it has a value would write a different model than the config's.
 */
const STRUCTURAL_KEYS: ReadonlySet<string> = new Set([
  'num_local_experts',
  'num_experts',
  'n_routed_experts',
  'n_shared_experts',
  'num_experts_per_tok',
  'experts_per_token',
  'moe_intermediate_size',
  'shared_expert_intermediate_size',
  'decoder_sparse_step',
  'mlp_only_layers',
  'moe_layer_freq',
  'first_k_dense_replace',
  'moe_layers',
  'interleave_moe_layer_step',
  'layer_types',
  'kv_lora_rank',
  'q_lora_rank',
  'qk_rope_head_dim',
  'qk_nope_head_dim',
  'num_nextn_predict_layers',
  'text_config',
  'vision_config',
  'audio_config',
  'state_size',
  'ssm_state_size',
  'mamba_d_state',
  'conv_kernel',
  'mamba_d_conv',
  'hybrid_override_pattern',
  'attn_layer_indices',
  'attn_layer_period',
  'expert_layer_period',
  'linear_num_value_heads',
  'linear_num_key_heads',
  'full_attention_interval',
  'hidden_size_per_layer_input',
  'num_kv_shared_layers',
  'altup_num_inputs',
  'laurel_rank',
  'qk_layernorm',
  'use_qk_norm',
  'no_rope_layers',
  'add_cross_attention',
  'is_decoder',
  'new_decoder_architecture',
  'parallel_attn',
  'multi_query',
]);

/** Whether a value says "this feature is off" (null, false, 0, an empty list or object). */
function isTrivial(value: JsonValue | undefined): boolean {
  if (value === undefined || value === null || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

function changesNoCount(key: string): boolean {
  return NO_EFFECT_KEYS.has(key) || NO_EFFECT_SUFFIXES.some((s) => key.endsWith(s)) || NO_EFFECT_PREFIXES.some((p) => key.startsWith(p));
}

export interface UnusedKeyReport {
  /** Every key present but not read, with its nesting prefix, in file order. */
  readonly all: readonly string[];
  /** Those that might change a count: warned about. */
  readonly unknown: readonly string[];
  /** Structural keys with a value that the family did not read: the import is refused. */
  readonly contradicting: readonly string[];
}

/** Sorts the unread keys of a config into the three groups above. */
export function classifyUnusedKeys(keys: readonly string[], valueOf: (key: string) => JsonValue | undefined): UnusedKeyReport {
  const unknown: string[] = [];
  const contradicting: string[] = [];
  for (const key of keys) {
    const name = key.slice(key.lastIndexOf('.') + 1);
    if (STRUCTURAL_KEYS.has(name)) {
      if (!isTrivial(valueOf(key))) contradicting.push(key);
    } else if (!changesNoCount(name)) {
      unknown.push(key);
    }
  }
  return { all: keys, unknown, contradicting };
}
