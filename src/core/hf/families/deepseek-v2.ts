// DeepSeek-V2: Llama-style pre-RMSNorm layers with multi-head latent attention (MLA) and, from
// layer first_k_dense_replace on, a DeepSeekMoE feed-forward: a bias-free router over
// n_routed_experts gated experts of moe_intermediate_size, top num_experts_per_tok of them per
// token, plus one always-on shared MLP of n_shared_experts × moe_intermediate_size (the same
// parameters as n_shared experts of moe_intermediate_size each). DeepSeek's released modeling code
// also reads moe_layer_freq (layer i is MoE when i ≥ first_k_dense_replace and i % freq == 0) and
// treats n_routed_experts = null as a dense model; both are honoured. The LM head is untied.

import { activationFor } from '../activations.js';
import { ConfigError, type ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding, type BlockDef } from '../spec-writer.js';
import { hasLmHead, headDescription, lmHead, readTie } from './shared-parts.js';

interface MoePlan {
  readonly experts: number;
  readonly topK: number;
  readonly shared: number;
  readonly expertFf: number;
  readonly firstDense: number;
  readonly every: number;
}

function readMoe(cfg: ConfigReader, layers: number): MoePlan | undefined {
  const experts = cfg.optionalPositiveInt('n_routed_experts', 64, undefined, null);
  if (experts === undefined) return undefined;
  const firstDense = cfg.count('first_k_dense_replace', 0);
  const every = cfg.positiveInt('moe_layer_freq', 1);
  // No layer satisfies i ≥ first_k_dense_replace: the model is dense whatever the expert keys say.
  if (firstDense >= layers) return undefined;
  const topK = cfg.optionalPositiveInt('num_experts_per_tok', undefined);
  if (topK === undefined) {
    throw new ConfigError('num_experts_per_tok', 'num_experts_per_tok must be set when n_routed_experts is (Transformers has no default)');
  }
  cfg.require(topK <= experts, 'num_experts_per_tok', `num_experts_per_tok (${topK}) must not exceed n_routed_experts (${experts})`);
  // null (and 0) mean no shared experts in DeepSeek's code; absent is DeepseekV2Config's 2.
  const shared = cfg.raw('n_shared_experts') === 0 ? 0 : (cfg.optionalPositiveInt('n_shared_experts', 2, undefined, 0) ?? 0);
  const expertFf = cfg.positiveInt('moe_intermediate_size', 1407);
  return { experts, topK, shared, expertFf, firstDense, every };
}

/** The layer sequence: Dense and MoEDecoder instances in DeepSeek's order. */
function stackFor(moe: MoePlan | undefined): string {
  if (moe === undefined) return 'Dense * layers';
  if (moe.every === 1) return moe.firstDense === 0 ? 'MoEDecoder * layers' : 'Dense * dense_layers + MoEDecoder * (layers - dense_layers)';
  return '[if i >= dense_layers and i % moe_every == 0 then MoEDecoder else Dense for i in layers]';
}

function buildDeepseekV2(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 32_000);
  const d = cfg.positiveInt('hidden_size', 4096);
  const layers = cfg.positiveInt('num_hidden_layers', 32);
  const heads = cfg.positiveInt('num_attention_heads', 32);
  const ff = cfg.positiveInt('intermediate_size', 11_008);
  const kvRank = cfg.positiveInt('kv_lora_rank', 512);
  const qRank = cfg.optionalPositiveInt('q_lora_rank', 1536, undefined, null);
  const ropeDim = cfg.positiveInt('qk_rope_head_dim', 64);
  const nopeDim = cfg.positiveInt('qk_nope_head_dim', 128);
  const vDim = cfg.positiveInt('v_head_dim', 128);
  const act = activationFor('hidden_act', cfg.string('hidden_act', 'silu'));
  const attnBias = cfg.bool('attention_bias', false);
  if (cfg.bool('mlp_bias', false)) {
    throw new ConfigError(
      'mlp_bias',
      'mlp_bias = true is not supported for deepseek_v2: routed experts never carry biases while the dense and shared MLPs would',
    );
  }
  const moe = readMoe(cfg, layers);
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, false);

  const constants: Binding[] = [
    binding('vocab', vocab),
    binding('d', d),
    binding('layers', layers),
    binding('heads', heads),
    binding('kv_rank', kvRank, 'kv_lora_rank: the cached latent'),
    ...(qRank === undefined ? [] : [binding('q_rank', qRank, 'q_lora_rank')]),
    binding('rope_dim', ropeDim, 'qk_rope_head_dim'),
    binding('nope_dim', nopeDim, 'qk_nope_head_dim'),
    binding('v_dim', vDim, 'v_head_dim'),
    binding('ff', ff, 'dense MLP width'),
  ];
  const mla = call('MLA', ['d', 'heads', 'kv_rank', 'rope_dim', 'nope_dim', 'v_dim'], {
    q_rank: qRank === undefined ? undefined : 'q_rank',
    bias: attnBias ? true : undefined,
  });
  const actArg = act === 'silu' ? undefined : act;
  const layer = (name: string, ffn: Binding): BlockDef => ({
    name,
    members: [binding('attn_norm', call('RMSNorm', ['d'])), binding('attn', mla), binding('mlp_norm', call('RMSNorm', ['d'])), ffn],
  });

  const blocks: BlockDef[] = [];
  const usesDense = moe === undefined || moe.firstDense > 0 || moe.every > 1;
  if (usesDense) blocks.push(layer('Dense', binding('mlp', call('GatedMLP', ['d', 'ff'], { act: actArg }))));
  if (moe !== undefined) {
    constants.push(
      binding('experts', moe.experts, 'n_routed_experts'),
      binding('top_k', moe.topK, 'num_experts_per_tok'),
      ...(moe.shared > 0 ? [binding('shared', moe.shared, 'n_shared_experts, always active')] : []),
      binding('expert_ff', moe.expertFf, 'moe_intermediate_size'),
    );
    if (moe.firstDense > 0 || moe.every > 1) constants.push(binding('dense_layers', moe.firstDense, 'first_k_dense_replace'));
    if (moe.every > 1) constants.push(binding('moe_every', moe.every, 'moe_layer_freq'));
    const moeCall = call('MoE', ['d', 'expert_ff', 'experts', 'top_k'], { shared: moe.shared > 0 ? 'shared' : undefined, act: actArg });
    blocks.push(layer('MoEDecoder', binding('moe', moeCall)));
  }

  const modules: Binding[] = [
    binding('embed', call('Embedding', ['vocab', 'd'])),
    binding('body', stackFor(moe)),
    binding('norm', call('RMSNorm', ['d'])),
  ];
  if (withHead) modules.push(lmHead(tied));
  const kind = moe === undefined ? 'dense' : 'MoE';
  return {
    description: `decoder-only ${kind} with multi-head latent attention, ${headDescription(withHead, tied)}`,
    constants,
    blocks,
    modules,
    statements: [],
  };
}

export const DEEPSEEK_V2: Family = {
  modelType: 'deepseek_v2',
  configClass: 'DeepseekV2Config',
  classes: { DeepseekV2ForCausalLM: 'lm', DeepseekV2Model: 'base' },
  defaultClass: 'DeepseekV2ForCausalLM',
  build: buildDeepseekV2,
};
