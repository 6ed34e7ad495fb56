// NVIDIA Nemotron-H and Nemotron 3 (NemotronHConfig): a hybrid whose hybrid_override_pattern (or,
// in newer configs, the list layers_block_type) gives each layer one mixer behind an RMSNorm —
// `M` a Mamba-2 mixer (mamba_num_heads × mamba_head_dim inner width, ssm_state_size, n_groups, a
// grouped gated RMSNorm), `*` self-attention without rotary embeddings, `-` a two-matrix MLP
// (relu2 by default), `E` NemotronHMoE (DeepSeek-V3's router: sigmoid scores, its e_score_correction_bias,
// n_group/topk_group, norm_topk_prob, routed_scaling_factor; over n_routed_experts two-matrix experts of moe_intermediate_size, optionally in the latent
// width moe_latent_size, and one shared MLP of moe_shared_expert_intermediate_size). The pattern
// becomes a chain of the blocks with repeated units folded, `(MambaLayer + MlpLayer) * 4 + …`,
// so the KV cache is charged to the attention layers alone and the recurrent state to the Mamba
// layers. The checkpoints' multi-token-prediction layers (mtp.*) are not loaded by Transformers
// and not modelled.

import { activationFor } from '../activations.js';
import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding } from '../spec-writer.js';
import { attentionCall, attentionConstants, hasLmHead, headDescription, lmHead, readAttentionShape, readTie, standardAttentionKeys } from './shared-parts.js';
import { mixerArgs } from './ssm-mixers.js';
import { readV3Routing, routingArgs, routingConstants, type V3RoutingDefaults } from './deepseek-routing.js';
import { appendAll } from '../../collections/append-all.js';

const BLOCK_OF: Readonly<Record<string, string>> = { M: 'MambaLayer', '*': 'AttentionLayer', '-': 'MlpLayer', E: 'MoeLayer' };

/** layers_block_type's names (and the legacy ones remap_legacy_layer_types renames) as pattern letters. */
const LETTER_OF: Readonly<Record<string, string>> = { linear_attention: 'M', mamba: 'M', full_attention: '*', attention: '*', mlp: '-', moe: 'E' };

/** Keys of NemotronHConfig that set kernels, initialisation or numerics: no count changes. */
/** NemotronHConfig's router defaults (its NemotronHTopkRouter is DeepseekV3TopkRouter). */
const NEMOTRON_H_ROUTING: V3RoutingDefaults = { configClass: 'NemotronH', groups: 1, topGroups: 1, normalize: true, scale: 1 };

const INERT = ['residual_in_fp32', 'rescale_prenorm_residual', 'use_mamba_kernels', 'num_logits_to_keep', 'chunk_size', 'time_step_min', 'time_step_max', 'time_step_floor', 'time_step_limit', 'mamba_hidden_act'];

/** The layer pattern as letters: hybrid_override_pattern, or layers_block_type (which wins, as in NemotronHConfig). */
function readPattern(cfg: ConfigReader): string {
  const list = cfg.optionalStringList('layers_block_type');
  if (list === undefined) return cfg.string('hybrid_override_pattern', 'M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M-');
  cfg.consume('hybrid_override_pattern');
  return list
    .map((type, i) => {
      const letter = LETTER_OF[type];
      cfg.require(letter !== undefined, 'layers_block_type', `layers_block_type[${i}] is "${type}"; supported: ${Object.keys(LETTER_OF).join(', ')}`);
      return letter!;
    })
    .join('');
}

/**
 * The pattern as a chain of block names, each maximal run of a repeated unit (up to 8 layers
 * long) folded into `(A + B) * k`.
 */
export function foldPattern(names: readonly string[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < names.length) {
    let best = { unit: 1, times: 1 };
    for (let unit = 1; unit <= 8 && i + 2 * unit <= names.length; unit++) {
      let times = 1;
      while (i + (times + 1) * unit <= names.length && names.slice(i + times * unit, i + (times + 1) * unit).every((n, j) => n === names[i + j])) times++;
      if (times >= 2 && unit * times > best.unit * best.times) best = { unit, times };
    }
    const unit = names.slice(i, i + best.unit);
    const text = unit.length === 1 ? unit[0]! : `(${unit.join(' + ')})`;
    parts.push(best.times === 1 ? text : `${text} * ${best.times}`);
    i += best.unit * best.times;
  }
  return parts.join(' + ');
}

function buildNemotronH(cfg: ConfigReader, head: HeadKind): FamilyModel {
  cfg.consume(...INERT);
  const vocab = cfg.positiveInt('vocab_size', 131_072);
  const layers = cfg.positiveInt('num_hidden_layers', 52);
  const pattern = readPattern(cfg);
  const patternKey = cfg.has('layers_block_type') ? 'layers_block_type' : 'hybrid_override_pattern';
  cfg.require(pattern.length === layers, patternKey, `${patternKey} has ${pattern.length} ${patternKey === 'layers_block_type' ? 'entries' : 'characters'} but num_hidden_layers is ${layers}`);
  for (const [i, c] of [...pattern].entries()) {
    cfg.require(BLOCK_OF[c] !== undefined, 'hybrid_override_pattern', `hybrid_override_pattern[${i}] is "${c}"; supported: M (Mamba-2), * (attention), - (MLP), E (mixture of experts)`);
  }
  // Nemotron-H's attention_head_dim; NemotronHConfig (Nemotron 3) calls it head_dim.
  const headDimKey = cfg.has('attention_head_dim') || !cfg.has('head_dim') ? 'attention_head_dim' : 'head_dim';
  const shape = readAttentionShape(cfg, standardAttentionKeys({ hidden: 4096, heads: 32, kvHeads: 8, headDim: 128, headDimKey }));
  const d = shape.d;
  const ff = cfg.positiveInt('intermediate_size', 21_504);
  const act = activationFor('mlp_hidden_act', cfg.string('mlp_hidden_act', 'relu2'));
  const mambaHeads = cfg.positiveInt('mamba_num_heads', 128);
  const mambaHeadDim = cfg.positiveInt('mamba_head_dim', 64);
  const inner = mambaHeads * mambaHeadDim;
  const state = cfg.positiveInt('ssm_state_size', 128);
  const groups = cfg.positiveInt('n_groups', 8);
  cfg.require(mambaHeads % groups === 0, 'n_groups', `n_groups (${groups}) must divide mamba_num_heads (${mambaHeads})`);
  const conv = cfg.positiveInt('conv_kernel', 4);
  const useBias = cfg.bool('use_bias', false);
  const convBias = cfg.bool('use_conv_bias', true);
  if (cfg.raw('mamba_proj_bias') !== true) cfg.consume('mamba_proj_bias');
  const attnBias = cfg.bool('attention_bias', false);
  const mlpBias = cfg.bool('mlp_bias', false);
  // NemotronHAttention (JambaAttention) applies no rotary embedding, so its rope keys change
  // nothing; a sliding window it does not read either.
  if (cfg.raw('sliding_window') === null) cfg.consume('sliding_window');
  cfg.consume('rope_theta', 'partial_rotary_factor');
  // NemotronHMamba2Mixer sizes its inner width from mamba_num_heads · mamba_head_dim, not expand.
  cfg.consume('expand');
  // The multi-token-prediction layers (mtp.*), which NemotronHForCausalLM does not load.
  const omitted: { key: string; why: string }[] = [];
  cfg.consume('mtp_layers_block_type', 'mtp_hybrid_override_pattern');
  if (cfg.count('num_nextn_predict_layers', 0) > 0) omitted.push({ key: 'num_nextn_predict_layers', why: 'the checkpoint\'s multi-token-prediction layers (mtp.*), which Transformers does not load' });

  const names = [...pattern].map((c) => BLOCK_OF[c]!);
  const used = new Set(names);
  const constants: Binding[] = [
    binding('vocab', vocab),
    binding('d', d),
    binding('layers', layers, `hybrid_override_pattern "${pattern}" (M: Mamba-2, *: attention, -: MLP, E: MoE)`),
  ];
  const blocks = [];
  if (used.has('MambaLayer')) {
    constants.push(
      binding('mamba_head_dim', mambaHeadDim, `mamba_num_heads ${mambaHeads} × mamba_head_dim = ${inner}`),
      binding('state', state, 'ssm_state_size'),
      binding('groups', groups, 'n_groups'),
    );
    if (inner % d !== 0) constants.push(binding('mamba_inner', inner, 'the Mamba-2 inner width, not a multiple of d'));
    const mixer = call('Mamba2', ['d'], {
      head_dim: 'mamba_head_dim',
      state: 'state',
      groups: 'groups',
      // The inner width as expand where it is a multiple of d, else by itself.
      inner: inner % d === 0 ? undefined : 'mamba_inner',
      ...mixerArgs({ expand: inner % d === 0 ? inner / d : 2, conv, bias: useBias, convBias }),
    });
    blocks.push({ name: 'MambaLayer', members: [binding('norm', call('RMSNorm', ['d'])), binding('mixer', mixer)] });
  } else cfg.consume('use_bias', 'use_conv_bias');
  if (used.has('AttentionLayer')) {
    appendAll(constants, attentionConstants(shape));
    blocks.push({ name: 'AttentionLayer', members: [binding('norm', call('RMSNorm', ['d'])), binding('mixer', attentionCall(shape, { bias: attnBias ? true : undefined }), 'no rotary embedding')] });
  }
  if (used.has('MlpLayer')) {
    constants.push(binding('ff', ff));
    blocks.push({ name: 'MlpLayer', members: [binding('norm', call('RMSNorm', ['d'])), binding('mixer', call('MLP', ['d', 'ff'], { act: act === 'gelu' ? undefined : act, bias: mlpBias }))] });
  }

  if (used.has('MoeLayer')) {
    // NemotronHMoE: mlp_bias reaches its shared MLP and latent projections but not the experts, a mix the MoE layer does not write.
    cfg.require(!mlpBias, 'mlp_bias', 'mlp_bias = true with mixture-of-experts layers is not supported: NemotronHMoE biases its shared MLP and latent projections but not its experts');
    const experts = cfg.positiveInt('n_routed_experts', 8);
    const topK = cfg.positiveInt('num_experts_per_tok', 2);
    cfg.require(topK <= experts, 'num_experts_per_tok', `num_experts_per_tok (${topK}) must not exceed n_routed_experts (${experts})`);
    const latent = cfg.optionalPositiveInt('moe_latent_size', undefined);
    // n_shared_experts changes no count: NemotronHMoE builds one shared MLP.
    cfg.consume('n_shared_experts', 'moe_shared_expert_overlap');
    // NemotronHTopkRouter is DeepSeek-V3's router (sigmoid, e_score_correction_bias, groups).
    const routing = readV3Routing(cfg, experts, topK, NEMOTRON_H_ROUTING);
    constants.push(
      binding('expert_ff', cfg.positiveInt('moe_intermediate_size', 7688), 'moe_intermediate_size: the width of each expert'),
      binding('shared_ff', cfg.positiveInt('moe_shared_expert_intermediate_size', 7688), 'moe_shared_expert_intermediate_size: the shared MLP'),
      binding('experts', experts, 'n_routed_experts'),
      binding('top_k', topK, 'num_experts_per_tok: experts routed per token'),
    );
    if (latent !== undefined) constants.push(binding('latent', latent, 'moe_latent_size: the experts\' width in and out'));
    constants.push(...routingConstants(routing));
    const moe = call('MoE', ['d', 'expert_ff', 'experts', 'top_k'], { shared: 1, shared_hidden: 'shared_ff', gated: false, act: act === 'silu' ? undefined : act, latent: latent === undefined ? undefined : 'latent', ...routingArgs(routing) });
    blocks.push({ name: 'MoeLayer', members: [binding('norm', call('RMSNorm', ['d'])), binding('mixer', moe)] });
  }

  const modules: Binding[] = [binding('embed', call('Embedding', ['vocab', 'd'])), binding('body', foldPattern(names)), binding('norm', call('RMSNorm', ['d']), 'norm_f')];
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, false);
  if (withHead) modules.push(lmHead(tied));
  return {
    description: `hybrid Mamba-2 / attention / ${used.has('MoeLayer') ? 'MLP / MoE' : 'MLP'} decoder, ${headDescription(withHead, tied)}`,
    constants,
    blocks,
    modules,
    statements: [],
    ...(omitted.length === 0 ? {} : { omitted }),
  };
}

export const NEMOTRON_H: Family = {
  modelType: 'nemotron_h',
  configClass: 'NemotronHConfig',
  classes: { NemotronHForCausalLM: 'lm', NemotronHModel: 'base' },
  defaultClass: 'NemotronHForCausalLM',
  build: buildNemotronH,
};
