// DeepSeek-V2 and V3 (and Kimi K2, which ships V3's architecture under its own model_type): Llama-style pre-RMSNorm layers with multi-head latent attention (MLA) and, from
// layer first_k_dense_replace on, a DeepSeekMoE feed-forward: a bias-free router over
// n_routed_experts gated experts of moe_intermediate_size, top num_experts_per_tok of them per
// token, plus one always-on shared MLP of n_shared_experts × moe_intermediate_size (the same
// parameters as n_shared experts of moe_intermediate_size each). DeepSeek's released modeling code
// also reads moe_layer_freq (layer i is MoE when i ≥ first_k_dense_replace and i % freq == 0) and
// treats n_routed_experts = null as a dense model; both are honoured. The LM head is untied.
// The routers differ (src/core/layers/moe-routing.ts). V2 (Transformers' DeepseekV2MoEGate):
// softmax scores, topk_method greedy or group_limited_greedy (n_group groups scored by their best
// expert, the topk_group best kept), the chosen scores times routed_scaling_factor and never
// renormalised (the class reads norm_topk_prob and ignores it). V3 (DeepseekV3TopkRouter, always
// noaux_tc): sigmoid scores, a stored e_score_correction_bias of n_routed_experts added to choose
// the experts only (MoE's selection_bias, counted: the checkpoint stores it), n_group groups
// scored by the sum of their two best biased scores, the topk_group best kept, the chosen scores
// divided by their sum when norm_topk_prob, times routed_scaling_factor. V3's checkpoints carry num_nextn_predict_layers multi-token-prediction
// modules that Transformers' DeepseekV3ForCausalLM does not load: each is two RMSNorms (the
// hidden state and the next token's embedding), eh_proj [d, 2d], one MoE decoder layer, a final
// RMSNorm, and its own copies of the embedding and the output head. The spec states them as a
// block `MTP` and a stack `mtp` of `mtp_layers` modules, 0 in the model (the class's 671B for
// DeepSeek-V3) and num_nextn_predict_layers in the variant `…WithMTP` (the checkpoint's 685B).

import { activationFor } from '../activations.js';
import { ConfigError, type ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding, type BlockDef, type VariantDef } from '../spec-writer.js';
import { V3_ROUTING_DEFAULTS, readV2Routing, readV3Routing, routingArgs, routingConstants, type RoutingPlan } from './deepseek-routing.js';
import { hasLmHead, headDescription, lmHead, readTie } from './shared-parts.js';

interface MoePlan {
  readonly routing: RoutingPlan;
  readonly experts: number;
  readonly topK: number;
  readonly shared: number;
  readonly expertFf: number;
  readonly firstDense: number;
  readonly every: number;
}

/** What separates the DeepSeek generations in the config class. */
interface DeepseekTraits {
  readonly modelType: string;
  readonly configClass: string;
  readonly prefix: string;
  readonly vocab: number;
  readonly hidden: number;
  readonly ff: number;
  readonly expertFf: number;
  readonly layers: number;
  readonly heads: number;
  readonly experts: number;
  readonly shared: number;
  readonly firstDense: number;
  /** DeepseekV3Config's default num_experts_per_tok (V2 has none). */
  readonly topK?: number;
  /** Whose router: V2's softmax (greedy or group-limited by max) or V3's sigmoid with its correction bias. */
  readonly router: 'v2' | 'v3';
  /** Whether num_nextn_predict_layers (multi-token prediction) is read. */
  readonly mtp: boolean;
}

/** Keys of the routed experts, which a dense configuration leaves without effect. */
const MOE_KEYS = ['first_k_dense_replace', 'moe_layer_freq', 'num_experts_per_tok', 'n_shared_experts', 'moe_intermediate_size'];

function readMoe(cfg: ConfigReader, t: DeepseekTraits, layers: number): MoePlan | undefined {
  const experts = cfg.optionalPositiveInt('n_routed_experts', t.experts, undefined, null);
  if (experts === undefined) {
    cfg.consume(...MOE_KEYS);
    return undefined;
  }
  const firstDense = cfg.count('first_k_dense_replace', t.firstDense);
  const every = cfg.positiveInt('moe_layer_freq', 1);
  // No layer satisfies i ≥ first_k_dense_replace: the model is dense whatever the expert keys say.
  if (firstDense >= layers) {
    cfg.consume(...MOE_KEYS);
    return undefined;
  }
  const topK = cfg.optionalPositiveInt('num_experts_per_tok', t.topK);
  if (topK === undefined) {
    throw new ConfigError('num_experts_per_tok', 'num_experts_per_tok must be set when n_routed_experts is (Transformers has no default)');
  }
  cfg.require(topK <= experts, 'num_experts_per_tok', `num_experts_per_tok (${topK}) must not exceed n_routed_experts (${experts})`);
  // null (and 0) mean no shared experts in DeepSeek's code; absent is DeepseekV2Config's 2.
  const shared = cfg.raw('n_shared_experts') === 0 ? 0 : (cfg.optionalPositiveInt('n_shared_experts', t.shared, undefined, 0) ?? 0);
  const expertFf = cfg.positiveInt('moe_intermediate_size', t.expertFf);
  const routing = t.router === 'v3' ? readV3Routing(cfg, experts, topK, V3_ROUTING_DEFAULTS) : readV2Routing(cfg, experts, topK);
  return { routing, experts, topK, shared, expertFf, firstDense, every };
}

/** The layer sequence: Dense and MoEDecoder instances in DeepSeek's order. */
function stackFor(moe: MoePlan | undefined): string {
  if (moe === undefined) return 'Dense * layers';
  if (moe.every === 1) return moe.firstDense === 0 ? 'MoEDecoder * layers' : 'Dense * dense_layers + MoEDecoder * (layers - dense_layers)';
  return '[if i >= dense_layers and i % moe_every == 0 then MoEDecoder else Dense for i in layers]';
}

function buildDeepseek(cfg: ConfigReader, t: DeepseekTraits, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', t.vocab);
  const d = cfg.positiveInt('hidden_size', t.hidden);
  const layers = cfg.positiveInt('num_hidden_layers', t.layers);
  const heads = cfg.positiveInt('num_attention_heads', t.heads);
  const ff = cfg.positiveInt('intermediate_size', t.ff);
  const kvRank = cfg.positiveInt('kv_lora_rank', 512);
  const qRank = cfg.optionalPositiveInt('q_lora_rank', 1536, undefined, null);
  const ropeDim = cfg.positiveInt('qk_rope_head_dim', 64);
  const nopeDim = cfg.positiveInt('qk_nope_head_dim', 128);
  const vDim = cfg.positiveInt('v_head_dim', 128);
  // DeepSeek's configs repeat num_key_value_heads = num_attention_heads; MLA caches one latent
  // per token whatever it says, and no module reads it.
  cfg.consume('num_key_value_heads');
  const act = activationFor('hidden_act', cfg.string('hidden_act', 'silu'));
  const attnBias = cfg.bool('attention_bias', false);
  if (cfg.bool('mlp_bias', false)) {
    throw new ConfigError(
      'mlp_bias',
      `mlp_bias = true is not supported for ${t.modelType}: routed experts never carry biases while the dense and shared MLPs would`,
    );
  }
  const moe = readMoe(cfg, t, layers);
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
    constants.push(...routingConstants(moe.routing));
    const moeCall = call('MoE', ['d', 'expert_ff', 'experts', 'top_k'], {
      shared: moe.shared > 0 ? 'shared' : undefined,
      act: actArg,
      ...routingArgs(moe.routing),
    });
    blocks.push(layer('MoEDecoder', binding('moe', moeCall)));
  }

  const modules: Binding[] = [
    binding('embed', call('Embedding', ['vocab', 'd'])),
    binding('body', stackFor(moe)),
    binding('norm', call('RMSNorm', ['d'])),
  ];
  if (withHead) modules.push(lmHead(tied));
  const mtpLayers = t.mtp ? cfg.count('num_nextn_predict_layers', 0) : 0;
  const variants: VariantDef[] = [];
  if (mtpLayers > 0) {
    // The prediction module's decoder layer is the last layer's kind (a MoE layer in V3).
    const last = blocks[blocks.length - 1]!.name;
    constants.push(binding('mtp_layers', 0, 'multi-token-prediction modules: none in the Transformers class; see the variant'));
    blocks.push({
      name: 'MTP',
      comment: 'one multi-token-prediction module, as stored in the checkpoint',
      members: [
        binding('embed', call('Embedding', ['vocab', 'd']), 'its own copy of the embedding'),
        binding('enorm', call('RMSNorm', ['d']), 'the next token\'s embedding'),
        binding('hnorm', call('RMSNorm', ['d']), 'the previous depth\'s hidden state'),
        binding('eh_proj', call('Linear', ['2 * d', 'd'])),
        binding('layer', last),
        binding('head_norm', call('RMSNorm', ['d']), 'shared_head.norm'),
        binding('head', call('Linear', ['d', 'vocab']), 'shared_head.head'),
      ],
    });
    modules.push(binding('mtp', '[MTP for i in mtp_layers]'));
    variants.push({ suffix: 'WithMTP', comment: 'the checkpoint: num_nextn_predict_layers prediction modules', members: [binding('mtp_layers', mtpLayers)] });
  }
  const kind = moe === undefined ? 'dense' : 'MoE';
  return {
    description: `decoder-only ${kind} with multi-head latent attention, ${headDescription(withHead, tied)}`,
    constants,
    blocks,
    modules,
    statements: [],
    ...(variants.length > 0 ? { variants } : {}),
  };
}

function deepseek(t: DeepseekTraits): Family {
  return {
    modelType: t.modelType,
    configClass: t.configClass,
    classes: { [`${t.prefix}ForCausalLM`]: 'lm', [`${t.prefix}Model`]: 'base' },
    defaultClass: `${t.prefix}ForCausalLM`,
    build: (cfg, head) => buildDeepseek(cfg, t, head),
  };
}

export const DEEPSEEK_V2: Family = deepseek({
  modelType: 'deepseek_v2',
  configClass: 'DeepseekV2Config',
  prefix: 'DeepseekV2',
  vocab: 32_000,
  hidden: 4096,
  ff: 11_008,
  expertFf: 1407,
  layers: 32,
  heads: 32,
  experts: 64,
  shared: 2,
  firstDense: 0,
  router: 'v2',
  mtp: false,
});

const DEEPSEEK_V3_TRAITS: DeepseekTraits = {
  modelType: 'deepseek_v3',
  configClass: 'DeepseekV3Config',
  prefix: 'DeepseekV3',
  vocab: 129_280,
  hidden: 7168,
  ff: 18_432,
  expertFf: 2048,
  layers: 61,
  heads: 128,
  experts: 256,
  shared: 1,
  firstDense: 3,
  topK: 8,
  router: 'v3',
  mtp: true,
};

export const DEEPSEEK_V3: Family = deepseek(DEEPSEEK_V3_TRAITS);

/** Kimi K2's configs name DeepseekV3ForCausalLM with model_type kimi_k2: the same architecture. */
export const KIMI_K2: Family = deepseek({ ...DEEPSEEK_V3_TRAITS, modelType: 'kimi_k2' });
