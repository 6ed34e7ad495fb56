// Llama-style decoders: llama, mistral, mixtral, qwen2 and gemma share one layer layout in
// Transformers (pre-norm RMSNorm, rotary attention (rope: true) with grouped KV heads, gate/up/down MLP or a
// router over such experts, final RMSNorm, optional tied LM head). They differ only in config
// defaults, which projections carry biases, sliding windows and MoE; those differences are the
// traits below, and one writer turns any of them into a spec.

import { activationFor } from '../activations.js';
import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding } from '../spec-writer.js';
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
  windowedStack,
  type WindowPattern,
} from './shared-parts.js';

interface LlamaLikeTraits {
  readonly modelType: string;
  /** Class-name prefix: `Llama` gives LlamaForCausalLM and LlamaModel. */
  readonly prefix: string;
  readonly configClass: string;
  // Transformers' config-class defaults for keys a config.json may omit.
  readonly vocab: number;
  readonly hidden: number;
  readonly ff: number;
  readonly layers: number;
  readonly heads: number;
  /** Default num_key_value_heads when absent; undefined means "= num_attention_heads". */
  readonly kvHeads: number | undefined;
  /** Default head_dim when absent; undefined means hidden_size / num_attention_heads. */
  readonly headDim: number | undefined;
  readonly act: string;
  readonly tie: boolean;
  /**
   * Attention biases: `config` reads attention_bias (q, k, v and o together: Llama, Gemma);
   * `qkv` is Qwen2's fixed q/k/v bias without an o bias; `none` is Mistral's fixed bias-free
   * projections.
   */
  readonly attentionBias: 'config' | 'qkv' | 'none';
  /** Whether the config's mlp_bias adds biases to gate/up/down (LlamaConfig only). */
  readonly mlpBias: boolean;
  /**
   * `all`: sliding_window applies to every layer when set (Mistral, Mixtral); `qwen2`:
   * use_sliding_window switches it on for layers ≥ max_window_layers or per layer_types.
   */
  readonly windows: 'none' | 'all' | 'qwen2';
  /** Default sliding_window when the key is absent (null always means none). */
  readonly slidingWindow?: number;
  /** Mixtral's sparse MoE: defaults for num_local_experts and num_experts_per_tok. */
  readonly experts?: { readonly count: number; readonly topK: number };
  /** A key that, when set, overrides hidden_act (GemmaConfig's older hidden_activation). */
  readonly activationOverride?: string;
  /** GemmaConfig's use_bidirectional_attention (an encoder-style Gemma). */
  readonly bidirectionalKey?: string;
  /** The config class's rope_theta default (every family here rotates all of head_dim). */
  readonly ropeTheta: number;
}

function readWindows(cfg: ConfigReader, t: LlamaLikeTraits, layers: number): WindowPattern {
  if (t.windows === 'none') return { kind: 'none' };
  if (t.windows === 'all') {
    const window = cfg.optionalPositiveInt('sliding_window', t.slidingWindow, undefined, null);
    return window === undefined ? { kind: 'none' } : { kind: 'all', window };
  }
  // Qwen2Config: sliding_window only counts when use_sliding_window is on; layer_types, when
  // given, says per layer which ones slide; otherwise layers from max_window_layers on do.
  if (!cfg.bool('use_sliding_window', false)) return { kind: 'none' };
  const window = cfg.optionalPositiveInt('sliding_window', t.slidingWindow ?? 4096, undefined, null);
  if (window === undefined) return { kind: 'none' };
  const types = cfg.optionalStringList('layer_types');
  if (types !== undefined) {
    cfg.require(types.length === layers, 'layer_types', `layer_types has ${types.length} entries but num_hidden_layers is ${layers}`);
    return simplifyWindows(
      types.map((type, i) => {
        cfg.require(
          type === 'sliding_attention' || type === 'full_attention',
          'layer_types',
          `layer_types[${i}] must be "sliding_attention" or "full_attention", got "${type}"`,
        );
        return type === 'sliding_attention' ? window : undefined;
      }),
    );
  }
  const from = cfg.count('max_window_layers', 28);
  if (from >= layers) return { kind: 'none' };
  return from === 0 ? { kind: 'all', window } : { kind: 'from', from, window };
}

function readActivation(cfg: ConfigReader, t: LlamaLikeTraits): string {
  const override = t.activationOverride === undefined ? undefined : cfg.optionalString(t.activationOverride);
  if (override !== undefined && t.activationOverride !== undefined) return activationFor(t.activationOverride, override);
  return activationFor('hidden_act', cfg.string('hidden_act', t.act));
}

function buildLlamaLike(cfg: ConfigReader, t: LlamaLikeTraits, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', t.vocab);
  const shape = readAttentionShape(cfg, {
    hidden: 'hidden_size',
    hiddenDefault: t.hidden,
    heads: 'num_attention_heads',
    headsDefault: t.heads,
    kvHeads: 'num_key_value_heads',
    ...(t.kvHeads === undefined ? {} : { kvHeadsDefault: t.kvHeads }),
    headDim: 'head_dim',
    ...(t.headDim === undefined ? {} : { headDimDefault: t.headDim }),
  });
  const layers = cfg.positiveInt('num_hidden_layers', t.layers);
  const ff = cfg.positiveInt('intermediate_size', t.ff);
  const act = readActivation(cfg, t);
  const plan = windowedStack('Decoder', 'layers', readWindows(cfg, t, layers));

  const attnBias =
    t.attentionBias === 'qkv'
      ? { bias: true, o_bias: false }
      : t.attentionBias === 'config' && cfg.bool('attention_bias', false)
        ? { bias: true }
        : {};
  const causal = t.bidirectionalKey !== undefined && cfg.bool(t.bidirectionalKey, false) ? { causal: false } : {};
  // Every llama-like attention rotates q and k over the whole head (apply_rotary_pos_emb).
  const rope = readRope(cfg, { theta: 'rope_theta', thetaDefault: t.ropeTheta }, shape.headDim);
  const attn = attentionCall(shape, { ...attnBias, window: plan.windowArg, ...causal, ...rope.args });

  const constants: Binding[] = [
    binding('vocab', vocab),
    binding('d', shape.d),
    binding('layers', layers),
    ...attentionConstants(shape),
    ...rope.constants,
    binding('ff', ff, t.experts === undefined ? undefined : 'intermediate size of each expert'),
  ];
  let ffn: Binding;
  if (t.experts !== undefined) {
    const experts = cfg.positiveInt('num_local_experts', t.experts.count);
    const topK = cfg.positiveInt('num_experts_per_tok', t.experts.topK);
    cfg.require(topK <= experts, 'num_experts_per_tok', `num_experts_per_tok (${topK}) must not exceed num_local_experts (${experts})`);
    constants.push(binding('experts', experts), binding('top_k', topK, 'experts routed per token'));
    ffn = binding('moe', call('MoE', ['d', 'ff', 'experts', 'top_k'], { act: act === 'silu' ? undefined : act }));
  } else {
    const mlpBias = t.mlpBias && cfg.bool('mlp_bias', false) ? true : undefined;
    ffn = binding('mlp', call('GatedMLP', ['d', 'ff'], { act: act === 'silu' ? undefined : act, bias: mlpBias }));
  }
  constants.push(...plan.constants);

  const modules: Binding[] = [
    binding('embed', call('Embedding', ['vocab', 'd'])),
    binding('body', plan.stack),
    binding('norm', call('RMSNorm', ['d'])),
  ];
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, t.tie);
  if (withHead) modules.push(lmHead(tied));

  return {
    description: `decoder-only${t.experts === undefined ? '' : ' sparse-MoE'}, ${headDescription(withHead, tied)}`,
    constants,
    blocks: [
      {
        name: 'Decoder',
        ...(plan.blockParams === undefined ? {} : { params: plan.blockParams }),
        members: [
          binding('attn_norm', call('RMSNorm', ['d'])),
          binding('attn', attn),
          binding('mlp_norm', call('RMSNorm', ['d'])),
          ffn,
        ],
      },
    ],
    modules,
    statements: [],
  };
}

function llamaLike(t: LlamaLikeTraits): Family {
  return {
    modelType: t.modelType,
    configClass: t.configClass,
    classes: { [`${t.prefix}ForCausalLM`]: 'lm', [`${t.prefix}Model`]: 'base' },
    defaultClass: `${t.prefix}ForCausalLM`,
    build: (cfg, head) => buildLlamaLike(cfg, t, head),
  };
}

const DECODER_BASE = { attentionBias: 'none', mlpBias: false, windows: 'none', act: 'silu', tie: false, ropeTheta: 10_000 } as const;

export const LLAMA: Family = llamaLike({
  ...DECODER_BASE,
  modelType: 'llama',
  prefix: 'Llama',
  configClass: 'LlamaConfig',
  vocab: 32_000,
  hidden: 4096,
  ff: 11_008,
  layers: 32,
  heads: 32,
  kvHeads: undefined,
  headDim: undefined,
  attentionBias: 'config',
  mlpBias: true,
});

export const MISTRAL: Family = llamaLike({
  ...DECODER_BASE,
  modelType: 'mistral',
  prefix: 'Mistral',
  configClass: 'MistralConfig',
  vocab: 32_000,
  hidden: 4096,
  ff: 14_336,
  layers: 32,
  heads: 32,
  kvHeads: 8,
  headDim: undefined,
  windows: 'all',
  slidingWindow: 4096,
});

export const MIXTRAL: Family = llamaLike({
  ...DECODER_BASE,
  modelType: 'mixtral',
  prefix: 'Mixtral',
  configClass: 'MixtralConfig',
  vocab: 32_000,
  hidden: 4096,
  ff: 14_336,
  layers: 32,
  heads: 32,
  kvHeads: 8,
  headDim: undefined,
  windows: 'all',
  experts: { count: 8, topK: 2 },
  ropeTheta: 1_000_000,
});

export const QWEN2: Family = llamaLike({
  ...DECODER_BASE,
  modelType: 'qwen2',
  prefix: 'Qwen2',
  configClass: 'Qwen2Config',
  vocab: 151_936,
  hidden: 4096,
  ff: 22_016,
  layers: 32,
  heads: 32,
  kvHeads: 32,
  headDim: undefined,
  attentionBias: 'qkv',
  windows: 'qwen2',
  slidingWindow: 4096,
});

export const GEMMA: Family = llamaLike({
  ...DECODER_BASE,
  modelType: 'gemma',
  prefix: 'Gemma',
  configClass: 'GemmaConfig',
  vocab: 256_000,
  hidden: 3072,
  ff: 24_576,
  layers: 28,
  heads: 16,
  kvHeads: 16,
  headDim: 256,
  act: 'gelu_pytorch_tanh',
  tie: true,
  attentionBias: 'config',
  activationOverride: 'hidden_activation',
  bidirectionalKey: 'use_bidirectional_attention',
});
