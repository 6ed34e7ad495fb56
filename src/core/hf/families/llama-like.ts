// Llama-style decoders: llama, mistral, mixtral, qwen2 and gemma share one layer layout in
// Transformers (pre-norm RMSNorm, rotary attention (rope: true) with grouped KV heads, gate/up/down MLP or a
// router over such experts, final RMSNorm, optional tied LM head). They differ only in config
// defaults, which projections carry biases, sliding windows and MoE; those differences are the
// traits below, and one writer turns any of them into a spec.

import { activationFor } from '../activations.js';
import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding, type BlockDef } from '../spec-writer.js';
import {
  attentionCall,
  attentionConstants,
  periodicWindows,
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
import { appendAll } from '../../collections/append-all.js';

/** Mixture-of-experts keys and defaults of a family whose decoder layers route over experts. */
export interface ExpertTraits {
  /** num_local_experts (Mixtral, GPT-OSS, GraniteMoE) or num_experts (Qwen3-MoE, OLMoE). */
  readonly countKey: string;
  readonly count: number;
  readonly topK: number;
  /** The key of each expert's width when it is not intermediate_size (Qwen3-MoE's moe_intermediate_size). */
  readonly ffKey?: string;
  readonly ffDefault?: number;
  /** Biases on every expert projection and on the router (GPT-OSS). */
  readonly biases?: boolean;
  /** Qwen3-MoE: decoder_sparse_step and mlp_only_layers choose which layers route (the rest keep a dense MLP of intermediate_size). */
  readonly sparseLayers?: boolean;
  /** The expert activation when it is not the family's hidden_act (GPT-OSS's gate·σ(1.702·gate)). */
  readonly act?: string;
  /** A clamp on the experts' gate and up projections read from this key, with its class default (GPT-OSS's swiglu_limit, 7.0). */
  readonly gluLimit?: { readonly key: string; readonly value: number };
  /**
   * The class's norm_topk_prob default, for a class whose chosen softmax probabilities are
   * divided by their sum only when norm_topk_prob is true (Qwen3-MoE, OLMoE: false). Absent:
   * the class always divides them (Mixtral, GraniteMoE, GPT-OSS: a softmax over the top-k logits).
   */
  readonly normTopKDefault?: boolean;
}

export interface LlamaLikeTraits {
  readonly modelType: string;
  /** Class-name prefix: `Llama` gives LlamaForCausalLM and LlamaModel. */
  readonly prefix: string;
  readonly configClass: string;
  /** What the header's description says after "decoder-only" when it is not the default. */
  readonly kind?: string;
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
   * projections; `use_bias` is StarCoder2's one switch for every projection, MLP included.
   */
  readonly attentionBias: 'config' | 'qkv' | 'none' | 'use_bias';
  /** The attention_bias default when it is read (GptOssConfig: true). */
  readonly attentionBiasDefault?: boolean;
  /** Whether the config's mlp_bias adds biases to gate/up/down (LlamaConfig only). */
  readonly mlpBias: boolean;
  /**
   * `all`: sliding_window applies to every layer when set (Mistral, Mixtral, Phi-3, StarCoder2);
   * `qwen2`: use_sliding_window switches it on for layers ≥ max_window_layers or per
   * layer_types; `layer_types`: the per-layer list layer_types, or when absent the config
   * class's own pattern (`period`: every period-th layer attends fully, the others slide).
   */
  readonly windows: 'none' | 'all' | 'qwen2' | 'layer_types';
  /** Default sliding_window when the key is absent (null always means none). */
  readonly slidingWindow?: number;
  /** For `layer_types` windows: the key of the pattern's period and its default (Gemma 2: fixed 2). */
  readonly windowPeriod?: { readonly key?: string; readonly period: number };
  /** A sparse MoE feed-forward. */
  readonly experts?: ExpertTraits;
  /** A key that, when set, overrides hidden_act (GemmaConfig's older hidden_activation). */
  readonly activationOverride?: string;
  /** GemmaConfig's use_bidirectional_attention (an encoder-style Gemma). */
  readonly bidirectionalKey?: string;
  /** The config class's rope_theta default. */
  readonly ropeTheta: number;
  /** The fraction of head_dim that rotates (Phi-3's partial_rotary_factor), when the class has one. */
  readonly partialRotary?: { readonly key: string; readonly fraction: number };
  /** RMSNorm on q and k: per head (Qwen 3, Gemma 3) or over the full width (OLMo-2, OLMoE). */
  readonly qkNorm?: 'head' | 'full';
  /** Attention sinks, one learned logit per head (GPT-OSS). */
  readonly sinks?: boolean;
  /**
   * Where the layer's norms sit: before each sublayer (Llama), before and after each (Gemma 2
   * and 3: input, post-attention, pre- and post-feed-forward), or only after (OLMo-2).
   */
  readonly normPlacement?: 'pre' | 'sandwich' | 'post';
  /** The norm: RMSNorm, LayerNorm with a shift (StarCoder2), or OLMo's LayerNorm without parameters. */
  readonly norm?: 'rms' | 'layer' | 'plain';
  /** A gated MLP (gate, up, down) or a two-matrix one (StarCoder2's c_fc, c_proj). */
  readonly mlp?: 'gated' | 'plain';
  /** Keys the config class defines that change no count, read so they are not listed as unused (GPT-OSS's swiglu_limit). */
  readonly inert?: readonly string[];
}

function readLayerTypes(cfg: ConfigReader, layers: number, allowed: readonly string[]): string[] | undefined {
  const types = cfg.optionalStringList('layer_types');
  if (types === undefined) return undefined;
  cfg.require(types.length === layers, 'layer_types', `layer_types has ${types.length} entries but num_hidden_layers is ${layers}`);
  for (const [i, type] of types.entries()) {
    cfg.require(allowed.includes(type), 'layer_types', `layer_types[${i}] must be ${allowed.map((a) => `"${a}"`).join(' or ')}, got "${type}"`);
  }
  return types;
}

function windowsFromTypes(types: readonly string[], window: number): WindowPattern {
  return simplifyWindows(types.map((type) => (type === 'sliding_attention' ? window : undefined)));
}

const ATTENTION_TYPES = ['sliding_attention', 'full_attention'] as const;

function readWindows(cfg: ConfigReader, t: LlamaLikeTraits, layers: number): WindowPattern {
  if (t.windows === 'none') return { kind: 'none' };
  if (t.windows === 'all') {
    const window = cfg.optionalPositiveInt('sliding_window', t.slidingWindow, undefined, null);
    return window === undefined ? { kind: 'none' } : { kind: 'all', window };
  }
  if (t.windows === 'layer_types') {
    const window = cfg.optionalPositiveInt('sliding_window', t.slidingWindow, undefined, null);
    const types = readLayerTypes(cfg, layers, ATTENTION_TYPES);
    const periodKey = t.windowPeriod?.key;
    if (window === undefined) {
      cfg.consume(...(periodKey === undefined ? [] : [periodKey]));
      return { kind: 'none' };
    }
    if (types !== undefined) {
      // The class derives layer_types from the period only when the list is absent.
      if (periodKey !== undefined) cfg.consume(periodKey);
      return windowsFromTypes(types, window);
    }
    const period = periodKey === undefined ? (t.windowPeriod?.period ?? 1) : cfg.positiveInt(periodKey, t.windowPeriod?.period ?? 1);
    // Gemma2/3Config: layer i slides unless (i + 1) % period == 0.
    return period === 1 ? { kind: 'none' } : periodicWindows(layers, period, window);
  }
  // Qwen2Config: sliding_window only counts when use_sliding_window is on; layer_types, when
  // given, says per layer which ones slide; otherwise layers from max_window_layers on do.
  // Off, the window keys change nothing (Qwen2Config sets sliding_window to None).
  if (!cfg.bool('use_sliding_window', false)) {
    cfg.consume('sliding_window', 'max_window_layers', 'layer_types');
    return { kind: 'none' };
  }
  const window = cfg.optionalPositiveInt('sliding_window', t.slidingWindow ?? 4096, undefined, null);
  if (window === undefined) return { kind: 'none' };
  const types = readLayerTypes(cfg, layers, ATTENTION_TYPES);
  if (types !== undefined) {
    cfg.consume('max_window_layers');
    return windowsFromTypes(types, window);
  }
  const from = cfg.count('max_window_layers', 28);
  if (from >= layers) return { kind: 'none' };
  return from === 0 ? { kind: 'all', window } : { kind: 'from', from, window };
}

function readActivation(cfg: ConfigReader, t: LlamaLikeTraits): string {
  const override = t.activationOverride === undefined ? undefined : cfg.optionalString(t.activationOverride);
  if (override !== undefined && t.activationOverride !== undefined) {
    // Transformers ignores hidden_act when the override is set.
    cfg.consume('hidden_act');
    return activationFor(t.activationOverride, override);
  }
  return activationFor('hidden_act', cfg.string('hidden_act', t.act));
}

/** Which layers route over experts: all, or Qwen3-MoE's selection as a per-layer list. */
export type MoeLayers = { readonly kind: 'all' } | { readonly kind: 'list'; readonly routed: readonly boolean[] };

function readMoeLayers(cfg: ConfigReader, e: ExpertTraits, layers: number): MoeLayers {
  if (e.sparseLayers !== true) return { kind: 'all' };
  return readSparseLayers(cfg, layers);
}

/**
 * Qwen's selection of routed layers (Qwen2-MoE, Qwen3-MoE, Qwen3-Next): MoE when layer_idx is
 * not in mlp_only_layers and (layer_idx + 1) % decoder_sparse_step == 0.
 */
export function readSparseLayers(cfg: ConfigReader, layers: number): MoeLayers {
  const step = cfg.positiveInt('decoder_sparse_step', 1);
  const dense = readLayerIndices(cfg, 'mlp_only_layers', layers);
  const routed = Array.from({ length: layers }, (_, i) => !dense.has(i) && (i + 1) % step === 0);
  return routed.every((r) => r) ? { kind: 'all' } : { kind: 'list', routed };
}

function readLayerIndices(cfg: ConfigReader, key: string, layers: number): Set<number> {
  const value = cfg.raw(key);
  if (value === undefined || value === null) return new Set();
  cfg.require(Array.isArray(value), key, `${key} must be a list of layer indices`);
  const out = new Set<number>();
  for (const item of value as unknown[]) {
    cfg.require(typeof item === 'number' && Number.isInteger(item) && item >= 0 && item < layers, key, `${key} entries must be layer indices below num_hidden_layers (${layers}), got ${JSON.stringify(item)}`);
    out.add(item as number);
  }
  return out;
}

function normCall(t: LlamaLikeTraits): string {
  switch (t.norm ?? 'rms') {
    case 'rms':
      return call('RMSNorm', ['d']);
    case 'layer':
      return call('LayerNorm', ['d']);
    case 'plain':
      return call('LayerNorm', ['d'], { affine: false });
  }
}

/** The members of one decoder layer, norms placed as the family places them. */
function layerMembers(t: LlamaLikeTraits, attn: string, ffn: Binding): Binding[] {
  const norm = normCall(t);
  switch (t.normPlacement ?? 'pre') {
    case 'pre':
      return [binding('attn_norm', norm), binding('attn', attn), binding('mlp_norm', norm), ffn];
    case 'sandwich':
      return [
        binding('attn_norm', norm, 'input_layernorm'),
        binding('attn', attn),
        binding('attn_post_norm', norm, 'post_attention_layernorm, on the attention output'),
        binding('mlp_norm', norm, 'pre_feedforward_layernorm'),
        ffn,
        binding('mlp_post_norm', norm, 'post_feedforward_layernorm, on the MLP output'),
      ];
    case 'post':
      return [
        binding('attn', attn),
        binding('attn_post_norm', norm, 'post_attention_layernorm, on the attention output'),
        ffn,
        binding('mlp_post_norm', norm, 'post_feedforward_layernorm, on the MLP output'),
      ];
  }
}

function buildLlamaLike(cfg: ConfigReader, t: LlamaLikeTraits, head: HeadKind): FamilyModel {
  cfg.consume(...(t.inert ?? []));
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
  const windows = readWindows(cfg, t, layers);

  const useBias = t.attentionBias === 'use_bias' && cfg.bool('use_bias', true);
  const attnBias =
    t.attentionBias === 'qkv'
      ? { bias: true, o_bias: false }
      : (t.attentionBias === 'config' && cfg.bool('attention_bias', t.attentionBiasDefault ?? false)) || useBias
        ? { bias: true }
        : {};
  const causal = t.bidirectionalKey !== undefined && cfg.bool(t.bidirectionalKey, false) ? { causal: false } : {};
  const rope = readRope(
    cfg,
    { theta: 'rope_theta', thetaDefault: t.ropeTheta, ...(t.partialRotary === undefined ? {} : { partial: t.partialRotary.key, partialDefault: t.partialRotary.fraction }) },
    shape.headDim,
  );
  const qkNorm = t.qkNorm === undefined ? {} : { qk_norm: 'rms', qk_norm_width: t.qkNorm === 'full' ? 'full' : undefined };
  const sinks = t.sinks === true ? { sinks: true } : {};

  const constants: Binding[] = [binding('vocab', vocab), binding('d', shape.d), binding('layers', layers), ...attentionConstants(shape), ...rope.constants];
  const actArg = (a: string, byDefault: string) => (a === byDefault ? undefined : a);
  const mlpBias = (t.mlpBias && cfg.bool('mlp_bias', false)) || useBias ? true : undefined;
  const denseMlp =
    t.mlp === 'plain'
      ? binding('mlp', call('MLP', ['d', 'ff'], { act: actArg(act, 'gelu'), bias: mlpBias === true ? undefined : false }))
      : binding('mlp', call('GatedMLP', ['d', 'ff'], { act: actArg(act, 'silu'), bias: mlpBias }));
  let ffn = denseMlp;
  let moeLayers: MoeLayers | undefined;
  if (t.experts === undefined) {
    constants.push(binding('ff', ff));
  } else {
    const e = t.experts;
    const experts = cfg.positiveInt(e.countKey, e.count);
    const topK = cfg.positiveInt('num_experts_per_tok', e.topK);
    cfg.require(topK <= experts, 'num_experts_per_tok', `num_experts_per_tok (${topK}) must not exceed ${e.countKey} (${experts})`);
    moeLayers = readMoeLayers(cfg, e, layers);
    // Experts of intermediate_size (Mixtral, OLMoE, GPT-OSS) keep the name ff; a separate key
    // (Qwen3-MoE's moe_intermediate_size) gets expert_ff beside the dense layers' ff.
    const ffName = e.ffKey === undefined ? 'ff' : 'expert_ff';
    if (e.ffKey === undefined) constants.push(binding('ff', ff, 'intermediate size of each expert'));
    else {
      if (moeLayers.kind === 'list') constants.push(binding('ff', ff, 'the dense MLP of the layers that do not route'));
      constants.push(binding('expert_ff', cfg.positiveInt(e.ffKey, e.ffDefault ?? ff), `${e.ffKey}: the width of each expert`));
    }
    constants.push(
      binding('experts', experts, e.countKey),
      binding('top_k', topK, 'num_experts_per_tok: experts routed per token'),
    );
    const expertAct = e.act ?? act;
    ffn = binding(
      'moe',
      call('MoE', ['d', ffName, 'experts', 'top_k'], {
        act: actArg(expertAct, 'silu'),
        glu_limit: e.gluLimit === undefined ? undefined : formatLimit(cfg.positiveNumber(e.gluLimit.key, e.gluLimit.value)),
        bias: e.biases === true ? true : undefined,
        router_bias: e.biases === true ? true : undefined,
        normalize: e.normTopKDefault === undefined || cfg.bool('norm_topk_prob', e.normTopKDefault) ? undefined : false,
      }),
    );
  }

  const attnFor = (windowArg: string | undefined) =>
    attentionCall(shape, { ...attnBias, ...qkNorm, ...sinks, window: windowArg, ...causal, ...rope.args });
  let blocks: BlockDef[];
  let stack: string;
  if (moeLayers?.kind === 'list') {
    // Dense and routed layers are two blocks; the windowed-block parameter does not combine with that.
    cfg.require(windows.kind === 'none' || windows.kind === 'all', 'mlp_only_layers', 'mlp_only_layers or decoder_sparse_step together with per-layer sliding windows is not supported');
    const window = windows.kind === 'all' ? windows.window : undefined;
    if (window !== undefined) constants.push(binding('window', window, 'sliding window in tokens, every layer'));
    const attn = attnFor(window === undefined ? undefined : 'window');
    constants.push(binding('routed', `[${moeLayers.routed.map((r) => (r ? 'true' : 'false')).join(', ')}]`, 'per layer: MoE (true) or dense MLP (false)'));
    blocks = [
      { name: 'Dense', members: layerMembers(t, attn, denseMlp) },
      { name: 'MoEDecoder', members: layerMembers(t, attn, ffn) },
    ];
    stack = '[if routed[i] then MoEDecoder else Dense for i in layers]';
  } else {
    const plan = windowedStack('Decoder', 'layers', windows);
    appendAll(constants, plan.constants);
    blocks = [
      {
        name: 'Decoder',
        ...(plan.blockParams === undefined ? {} : { params: plan.blockParams }),
        members: layerMembers(t, attnFor(plan.windowArg), ffn),
      },
    ];
    stack = plan.stack;
  }

  const modules: Binding[] = [binding('embed', call('Embedding', ['vocab', 'd'])), binding('body', stack), binding('norm', normCall(t))];
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, t.tie);
  if (withHead) modules.push(lmHead(tied));

  const kind = t.kind ?? (t.experts === undefined ? '' : ' sparse-MoE');
  return {
    description: `decoder-only${kind}, ${headDescription(withHead, tied)}`,
    constants,
    blocks,
    modules,
    statements: [],
  };
}

/** A clamp limit as an exact decimal the language reads (7.0 → 7; 6.5 stays 6.5). */
function formatLimit(limit: number): string {
  return String(limit);
}

export function llamaLike(t: LlamaLikeTraits): Family {
  return {
    modelType: t.modelType,
    configClass: t.configClass,
    classes: { [`${t.prefix}ForCausalLM`]: 'lm', [`${t.prefix}Model`]: 'base' },
    defaultClass: `${t.prefix}ForCausalLM`,
    build: (cfg, head) => buildLlamaLike(cfg, t, head),
  };
}

export const DECODER_BASE = { attentionBias: 'none', mlpBias: false, windows: 'none', act: 'silu', tie: false, ropeTheta: 10_000 } as const;

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
  experts: { countKey: 'num_local_experts', count: 8, topK: 2 },
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
