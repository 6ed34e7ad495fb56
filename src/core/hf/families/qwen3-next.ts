// Qwen3-Next (Qwen3NextConfig, Transformers' modeling_qwen3_next): a hybrid decoder whose
// layer_types (by default every full_attention_interval-th layer full, the others linear) pick
// per layer a Gated DeltaNet linear-attention mixer (`GatedDeltaNet`: a recurrent state, no KV)
// or gated full attention (q_proj of 2·heads·head_dim whose second half gates the output,
// per-head q/k RMSNorms, partial rotary over partial_rotary_factor·head_dim), each followed by
// Qwen2-MoE's sparse block (num_experts gated experts of moe_intermediate_size, a shared expert
// of shared_expert_intermediate_size behind a sigmoid shared_expert_gate) or, on the
// mlp_only_layers and off the decoder_sparse_step, a dense GatedMLP of intermediate_size.
// Qwen3NextRMSNorm's (1 + weight) scale has the parameters of an RMSNorm. The checkpoints'
// multi-token-prediction weights (mtp.*) are not loaded by Transformers and not modelled here.

import { activationFor } from '../activations.js';
import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding } from '../spec-writer.js';
import { readSparseLayers } from './llama-like.js';
import { attentionCall, attentionConstants, hasLmHead, headDescription, lmHead, readAttentionShape, readRope, readTie, standardAttentionKeys } from './shared-parts.js';
import { appendAll } from '../../collections/append-all.js';

const LAYER_TYPES = ['linear_attention', 'full_attention'] as const;

/** Per layer, whether it is a linear-attention layer: from layer_types, else Qwen3NextConfig's interval rule. */
function readLinearLayers(cfg: ConfigReader, layers: number): boolean[] {
  const types = cfg.optionalStringList('layer_types');
  if (types !== undefined) {
    // The class derives layer_types from the interval only when the list is absent.
    cfg.consume('full_attention_interval');
    cfg.require(types.length === layers, 'layer_types', `layer_types has ${types.length} entries but num_hidden_layers is ${layers}`);
    for (const [i, type] of types.entries()) {
      cfg.require((LAYER_TYPES as readonly string[]).includes(type), 'layer_types', `layer_types[${i}] must be "linear_attention" or "full_attention", got "${type}"`);
    }
    return types.map((type) => type === 'linear_attention');
  }
  const interval = cfg.positiveInt('full_attention_interval', 4);
  return Array.from({ length: layers }, (_, i) => (i + 1) % interval !== 0);
}

/** A per-layer flag spelled as a person would: a constant, a period, or a list constant. */
interface FlagPlan {
  readonly expr: string;
  readonly constants: readonly Binding[];
}

function linearPlan(linear: readonly boolean[]): FlagPlan {
  if (linear.every((l) => l)) return { expr: 'true', constants: [] };
  if (linear.every((l) => !l)) return { expr: 'false', constants: [] };
  // A full layer every `period` layers, the last of each period, seen at least twice.
  const period = linear.indexOf(false) + 1;
  if (period >= 2 && linear.length >= 2 * period && linear.every((l, i) => l === (i % period !== period - 1))) {
    return { expr: 'i % full_every != full_every - 1', constants: [binding('full_every', period, 'every full_every-th layer is full attention, the others Gated DeltaNet')] };
  }
  const list = `[${linear.map((l) => (l ? 'true' : 'false')).join(', ')}]`;
  return { expr: 'linear_layers[i]', constants: [binding('linear_layers', list, 'layer_types: Gated DeltaNet (true) or full attention (false)')] };
}

function buildQwen3Next(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 151_936);
  const shape = readAttentionShape(cfg, standardAttentionKeys({ hidden: 2048, heads: 16, kvHeads: 2, headDim: 256 }));
  const d = shape.d;
  const layers = cfg.positiveInt('num_hidden_layers', 48);
  const ff = cfg.positiveInt('intermediate_size', 5632);
  const act = activationFor('hidden_act', cfg.string('hidden_act', 'silu'));
  const attnBias = cfg.bool('attention_bias', false);
  const rope = readRope(cfg, { theta: 'rope_theta', thetaDefault: 10_000, partial: 'partial_rotary_factor', partialDefault: 0.25 }, shape.headDim);
  // Qwen3NextAttention deletes the sliding window it inherits: these keys change nothing.
  cfg.consume('use_sliding_window', 'sliding_window', 'max_window_layers');

  const kHeads = cfg.positiveInt('linear_num_key_heads', 16);
  const vHeads = cfg.positiveInt('linear_num_value_heads', 32);
  cfg.require(vHeads % kHeads === 0, 'linear_num_key_heads', `linear_num_key_heads (${kHeads}) must divide linear_num_value_heads (${vHeads})`);
  const kDim = cfg.positiveInt('linear_key_head_dim', 128);
  const vDim = cfg.positiveInt('linear_value_head_dim', 128);
  const conv = cfg.positiveInt('linear_conv_kernel_dim', 4);

  const experts = cfg.count('num_experts', 512);
  // Qwen3NextDecoderLayer routes only when num_experts > 0; otherwise every layer is dense.
  const routed = experts > 0 ? readSparseLayers(cfg, layers) : { kind: 'list' as const, routed: Array.from({ length: layers }, () => false) };
  if (experts === 0) cfg.consume('num_experts_per_tok', 'moe_intermediate_size', 'shared_expert_intermediate_size', 'decoder_sparse_step', 'mlp_only_layers');

  const linear = readLinearLayers(cfg, layers);
  const linearFlags = linearPlan(linear);
  const routedFlags: readonly boolean[] = routed.kind === 'all' ? linear.map(() => true) : routed.routed;
  const moeExpr = routedFlags.every((r) => r) ? 'true' : routedFlags.every((r) => !r) ? 'false' : 'routed[i]';

  const constants: Binding[] = [binding('vocab', vocab), binding('d', d), binding('layers', layers), ...attentionConstants(shape), ...rope.constants];
  if (linearFlags.expr !== 'false') {
    constants.push(
      binding('linear_k_heads', kHeads, 'linear_num_key_heads'),
      binding('linear_v_heads', vHeads, 'linear_num_value_heads'),
      binding('linear_k_head_dim', kDim, 'linear_key_head_dim'),
      binding('linear_v_head_dim', vDim, 'linear_value_head_dim'),
    );
  }
  appendAll(constants, linearFlags.constants);
  if (moeExpr !== 'true') constants.push(binding('ff', ff, 'intermediate_size: the dense MLP of the layers that do not route'));
  const actArg = act === 'silu' ? undefined : act;
  let moe = '';
  if (moeExpr !== 'false') {
    const topK = cfg.positiveInt('num_experts_per_tok', 10);
    cfg.require(topK <= experts, 'num_experts_per_tok', `num_experts_per_tok (${topK}) must not exceed num_experts (${experts})`);
    constants.push(
      binding('expert_ff', cfg.positiveInt('moe_intermediate_size', 512), 'moe_intermediate_size: the width of each expert'),
      binding('shared_ff', cfg.positiveInt('shared_expert_intermediate_size', 512), 'shared_expert_intermediate_size'),
      binding('experts', experts, 'num_experts'),
      binding('top_k', topK, 'num_experts_per_tok: experts routed per token'),
    );
    // Qwen3NextSparseMoeBlock divides the chosen probabilities by their sum only with norm_topk_prob (class default true).
    const normalize = cfg.bool('norm_topk_prob', true);
    moe = call('MoE', ['d', 'expert_ff', 'experts', 'top_k'], { shared: 1, shared_hidden: 'shared_ff', shared_expert_gate: true, act: actArg, normalize: normalize ? undefined : false });
  }
  if (moeExpr === 'routed[i]') constants.push(binding('routed', `[${routedFlags.map((r) => (r ? 'true' : 'false')).join(', ')}]`, 'per layer: MoE (true) or dense MLP (false)'));

  const gdn = call('GatedDeltaNet', ['d'], {
    k_heads: 'linear_k_heads',
    v_heads: 'linear_v_heads',
    k_head_dim: 'linear_k_head_dim',
    v_head_dim: 'linear_v_head_dim',
    conv: conv === 4 ? undefined : conv,
  });
  const attn = attentionCall(shape, { bias: attnBias ? true : undefined, qk_norm: 'rms', gate: true, ...rope.args });
  const dense = call('GatedMLP', ['d', 'ff'], { act: actArg });
  const mixer = linearFlags.expr === 'true' ? gdn : linearFlags.expr === 'false' ? attn : `if linear then ${gdn} else ${attn}`;
  const ffn = moeExpr === 'true' ? moe : moeExpr === 'false' ? dense : `if moe then ${moe} else ${dense}`;
  const params: string[] = [];
  const args: string[] = [];
  if (linearFlags.expr !== 'true' && linearFlags.expr !== 'false') {
    params.push('linear = true');
    args.push(`linear: ${linearFlags.expr}`);
  }
  if (moeExpr === 'routed[i]') {
    params.push('moe = true');
    args.push(`moe: ${moeExpr}`);
  }
  const members: Binding[] = [
    binding('norm', call('RMSNorm', ['d']), 'input_layernorm'),
    binding('mixer', mixer),
    binding('ff_norm', call('RMSNorm', ['d']), 'post_attention_layernorm'),
    binding('ffn', ffn),
  ];
  const modules: Binding[] = [
    binding('embed', call('Embedding', ['vocab', 'd'])),
    binding('body', args.length === 0 ? 'Layer * layers' : `[Layer(${args.join(', ')}) for i in layers]`),
    binding('norm', call('RMSNorm', ['d'])),
  ];
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, false);
  if (withHead) modules.push(lmHead(tied));
  return {
    description: `hybrid Gated DeltaNet / gated attention decoder${moeExpr === 'false' ? '' : ' with MoE layers'}, ${headDescription(withHead, tied)}`,
    constants,
    blocks: [{ name: 'Layer', ...(params.length === 0 ? {} : { params }), members }],
    modules,
    statements: [],
  };
}

export const QWEN3_NEXT: Family = {
  modelType: 'qwen3_next',
  configClass: 'Qwen3NextConfig',
  classes: { Qwen3NextForCausalLM: 'lm', Qwen3NextModel: 'base' },
  defaultClass: 'Qwen3NextForCausalLM',
  build: buildQwen3Next,
};
