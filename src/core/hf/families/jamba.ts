// AI21's Jamba (JambaConfig): a hybrid whose layers are attention (no rotary embedding) where
// i % attn_layer_period == attn_layer_offset and Mamba otherwise, each followed by a
// mixture of experts where i % expert_layer_period == expert_layer_offset and a gated MLP
// otherwise. The Mamba mixer normalises its step, B and C (dt_layernorm, b_layernorm,
// c_layernorm: `inner_norms: true`). One block with two parameters chooses the mixer and the
// feed-forward per layer, so the KV cache is charged to the attention layers and the recurrent
// state to the Mamba layers alone.

import { activationFor } from '../activations.js';
import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding } from '../spec-writer.js';
import { attentionCall, attentionConstants, hasLmHead, headDescription, lmHead, readAttentionShape, readTie, standardAttentionKeys } from './shared-parts.js';
import { mixerArgs, readDtRank, readMixerShape } from './ssm-mixers.js';

const INERT = ['use_mamba_kernels', 'num_logits_to_keep'];

/** `i % period == offset`, or the constant it reduces to. */
function periodic(period: number, offset: number, periodName: string, offsetName: string): string {
  if (period === 1) return offset === 0 ? 'true' : 'false';
  return offset >= period ? 'false' : `i % ${periodName} == ${offsetName}`;
}

function buildJamba(cfg: ConfigReader, head: HeadKind): FamilyModel {
  cfg.consume(...INERT);
  const vocab = cfg.positiveInt('vocab_size', 65_536);
  const shape = readAttentionShape(cfg, standardAttentionKeys({ hidden: 4096, heads: 32, kvHeads: 8 }));
  const d = shape.d;
  const layers = cfg.positiveInt('num_hidden_layers', 32);
  const ff = cfg.positiveInt('intermediate_size', 14_336);
  const act = activationFor('hidden_act', cfg.string('hidden_act', 'silu'));
  const experts = cfg.positiveInt('num_experts', 16);
  const topK = cfg.positiveInt('num_experts_per_tok', 2);
  cfg.require(topK <= experts, 'num_experts_per_tok', `num_experts_per_tok (${topK}) must not exceed num_experts (${experts})`);
  const expertPeriod = cfg.positiveInt('expert_layer_period', 2);
  const expertOffset = cfg.count('expert_layer_offset', 1);
  const attnPeriod = cfg.positiveInt('attn_layer_period', 8);
  const attnOffset = cfg.count('attn_layer_offset', 4);
  const mixer = readMixerShape(cfg, { state: 'mamba_d_state', stateDefault: 16, expand: 'mamba_expand', conv: 'mamba_d_conv', bias: 'mamba_proj_bias', convBias: 'mamba_conv_bias' });
  const dtRank = readDtRank(cfg, 'mamba_dt_rank', d);
  // JambaAttention applies no rotary embedding and reads no sliding window when it is null.
  if (cfg.raw('sliding_window') === null) cfg.consume('sliding_window');

  const attnWhen = periodic(attnPeriod, attnOffset, 'attn_every', 'attn_at');
  const moeWhen = periodic(experts > 1 ? expertPeriod : 1, experts > 1 ? expertOffset : 1, 'moe_every', 'moe_at');
  const constants: Binding[] = [
    binding('vocab', vocab),
    binding('d', d),
    binding('layers', layers),
    ...attentionConstants(shape),
    binding('ff', ff, 'intermediate_size: the MLP and each expert'),
    binding('experts', experts, 'num_experts'),
    binding('top_k', topK, 'num_experts_per_tok'),
    binding('state', mixer.state, 'mamba_d_state'),
    binding('dt_rank', dtRank, 'mamba_dt_rank'),
  ];
  if (attnWhen.startsWith('i %')) constants.push(binding('attn_every', attnPeriod, 'attn_layer_period'), binding('attn_at', attnOffset, 'attn_layer_offset'));
  if (moeWhen.startsWith('i %')) constants.push(binding('moe_every', expertPeriod, 'expert_layer_period'), binding('moe_at', expertOffset, 'expert_layer_offset'));
  const actArg = act === 'silu' ? undefined : act;
  const mamba = call('Mamba', ['d'], {
    state: 'state',
    dt_rank: 'dt_rank',
    ...mixerArgs(mixer),
    inner_norms: true,
  });
  const members: Binding[] = [
    binding('norm', call('RMSNorm', ['d']), 'input_layernorm'),
    binding('mixer', `if attn then ${attentionCall(shape)} else ${mamba}`),
    binding('ff_norm', call('RMSNorm', ['d']), 'pre_ff_layernorm'),
    // JambaSparseMoeBlock weights the chosen experts by their softmax probabilities, never renormalised.
    binding('ffn', `if moe then ${call('MoE', ['d', 'ff', 'experts', 'top_k'], { act: actArg, normalize: false })} else ${call('GatedMLP', ['d', 'ff'], { act: actArg })}`),
  ];
  const modules: Binding[] = [
    binding('embed', call('Embedding', ['vocab', 'd'])),
    binding('body', `[Layer(attn: ${attnWhen}, moe: ${moeWhen}) for i in layers]`),
    binding('norm', call('RMSNorm', ['d']), 'final_layernorm'),
  ];
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, false);
  if (withHead) modules.push(lmHead(tied));
  return {
    description: `hybrid attention / Mamba decoder with MoE layers, ${headDescription(withHead, tied)}`,
    constants,
    blocks: [{ name: 'Layer', params: ['attn = false', 'moe = false'], members }],
    modules,
    statements: [],
  };
}

export const JAMBA: Family = {
  modelType: 'jamba',
  configClass: 'JambaConfig',
  classes: { JambaForCausalLM: 'lm', JambaModel: 'base' },
  defaultClass: 'JambaForCausalLM',
  build: buildJamba,
};
