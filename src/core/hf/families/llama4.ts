// Llama 4 (Llama4TextConfig; the multimodal Llama4Config nests it under text_config). Layers
// with rotary embeddings attend in chunks of attention_chunk_size tokens (chunked attention);
// the others — every no_rope_layer_interval-th by default, or per no_rope_layers / layer_types —
// have no positional encoding and attend to the whole context (NoPE). MoE layers (moe_layers, or
// every interleave_moe_layer_step-th) route num_local_experts gated experts of intermediate_size,
// num_experts_per_tok per token, beside one always-on shared expert of the same width; the other
// layers have a gated MLP of intermediate_size_mlp. The q/k L2 norm and attention temperature
// tuning have no parameters. The vision tower of the multimodal configs is not modelled.

import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, formatArg, type Binding, type BlockDef } from '../spec-writer.js';
import { attentionConstants, hasLmHead, headDescription, lmHead, readAttentionShape, readRope, readTie, standardAttentionKeys } from './shared-parts.js';
import { activationFor } from '../activations.js';

const INERT = ['use_qk_norm', 'attn_temperature_tuning', 'floor_scale', 'attn_scale', 'router_jitter_noise', 'for_llm_compressor'];

/** A per-layer flag as the spec writes it: a periodic condition on i, or a list constant. */
interface LayerFlag {
  readonly constants: readonly Binding[];
  readonly expr: string;
}

function layerFlag(flags: readonly boolean[], name: string, periodName: string, what: string): LayerFlag {
  if (flags.every((f) => !f)) return { constants: [], expr: 'false' };
  if (flags.every((f) => f)) return { constants: [], expr: 'true' };
  const period = flags.findIndex((f) => f) + 1;
  if (period >= 2 && flags.length >= 2 * period && flags.every((f, i) => f === (i % period === period - 1))) {
    return { constants: [binding(periodName, period, `every ${periodName}-th layer ${what}`)], expr: `i % ${periodName} == ${periodName} - 1` };
  }
  return { constants: [binding(name, `[${flags.map((f) => formatArg(f)).join(', ')}]`, `per layer: ${what}`)], expr: `${name}[i]` };
}

function readIndexList(cfg: ConfigReader, key: string, layers: number): Set<number> | undefined {
  const value = cfg.raw(key);
  if (value === undefined || value === null) return undefined;
  cfg.require(Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < layers), key, `${key} must be a list of layer indices below num_hidden_layers (${layers})`);
  return new Set(value as number[]);
}

/** Which layers have no rotary embedding (and attend fully), per layer_types, no_rope_layers or the interval. */
function readNope(cfg: ConfigReader, layers: number): boolean[] {
  const types = cfg.optionalStringList('layer_types');
  if (types !== undefined) {
    cfg.require(types.length === layers, 'layer_types', `layer_types has ${types.length} entries but num_hidden_layers is ${layers}`);
    cfg.consume('no_rope_layers', 'no_rope_layer_interval');
    return types.map((t, i) => {
      cfg.require(t === 'chunked_attention' || t === 'full_attention', 'layer_types', `layer_types[${i}] must be "chunked_attention" or "full_attention", got "${t}"`);
      return t === 'full_attention';
    });
  }
  const list = cfg.raw('no_rope_layers');
  if (Array.isArray(list) && list.length > 0) {
    cfg.consume('no_rope_layer_interval');
    cfg.require(list.length === layers && list.every((v) => v === 0 || v === 1), 'no_rope_layers', `no_rope_layers must hold ${layers} entries of 0 (no rope) or 1 (rope)`);
    return list.map((v) => v === 0);
  }
  const interval = cfg.positiveInt('no_rope_layer_interval', 4);
  return Array.from({ length: layers }, (_, i) => (i + 1) % interval === 0);
}

function buildLlama4Text(cfg: ConfigReader, head: HeadKind): FamilyModel {
  cfg.consume(...INERT);
  const vocab = cfg.positiveInt('vocab_size', 202_048);
  const shape = readAttentionShape(cfg, standardAttentionKeys({ hidden: 5120, heads: 40, kvHeads: 8, headDim: 128 }));
  const layers = cfg.positiveInt('num_hidden_layers', 48);
  const ff = cfg.positiveInt('intermediate_size', 8192);
  const ffMlp = cfg.positiveInt('intermediate_size_mlp', 16_384);
  const experts = cfg.positiveInt('num_local_experts', 16);
  const topK = cfg.positiveInt('num_experts_per_tok', 1);
  cfg.require(topK <= experts, 'num_experts_per_tok', `num_experts_per_tok (${topK}) must not exceed num_local_experts (${experts})`);
  const act = activationFor('hidden_act', cfg.string('hidden_act', 'silu'));
  const chunk = cfg.optionalPositiveInt('attention_chunk_size', 8192, undefined, null);
  const bias = cfg.bool('attention_bias', false);
  const step = cfg.positiveInt('interleave_moe_layer_step', 1);
  const moeSet = readIndexList(cfg, 'moe_layers', layers);
  const routed = Array.from({ length: layers }, (_, i) => (moeSet === undefined ? i % step === step - 1 : moeSet.has(i)));
  const nope = readNope(cfg, layers);
  const rope = readRope(cfg, { theta: 'rope_theta', thetaDefault: 500_000 }, shape.headDim);

  const nopeFlag = layerFlag(nope, 'nope_layers', 'nope_every', 'has no rotary embedding and attends to the whole context');
  const moeFlag = layerFlag(routed, 'routed', 'moe_every', 'routes over the experts');
  const constants: Binding[] = [
    binding('vocab', vocab),
    binding('d', shape.d),
    binding('layers', layers),
    ...attentionConstants(shape),
    ...rope.constants,
    ...(chunk === undefined ? [] : [binding('chunk', chunk, 'attention_chunk_size: rotary layers attend within chunks')]),
    binding('ff', ff, 'intermediate_size: each expert and the shared expert'),
    ...(routed.every((r) => r) ? [] : [binding('ff_mlp', ffMlp, 'intermediate_size_mlp: the dense layers')]),
    binding('experts', experts, 'num_local_experts'),
    binding('top_k', topK, 'num_experts_per_tok'),
    ...nopeFlag.constants,
    ...moeFlag.constants,
  ];
  const theta = rope.args['rope_theta'] === undefined ? {} : { rope_theta: 'if nope then none else rope_theta' };
  const attn = call('Attention', ['d', 'heads'], {
    kv_heads: shape.kvHeads !== shape.heads ? 'kv_heads' : undefined,
    head_dim: shape.headDimNamed ? 'head_dim' : undefined,
    bias: bias ? true : undefined,
    chunk: chunk === undefined ? undefined : 'if nope then none else chunk',
    rope: 'not nope',
    ...theta,
  });
  const actArg = act === 'silu' ? undefined : act;
  const layer = (name: string, ffn: Binding): BlockDef => ({
    name,
    params: ['nope = false'],
    members: [binding('attn_norm', call('RMSNorm', ['d'])), binding('attn', attn), binding('mlp_norm', call('RMSNorm', ['d'])), ffn],
  });
  // Llama4TextMoe's router: σ of the top-k logits, never renormalised, scaling each chosen expert's input.
  const moe = binding('moe', call('MoE', ['d', 'ff', 'experts', 'top_k'], { shared: 1, act: actArg, scoring: 'sigmoid', normalize: false, weight_input: true }), 'routed experts and one shared expert');
  const dense = binding('mlp', call('GatedMLP', ['d', 'ff_mlp'], { act: actArg }));
  const blocks: BlockDef[] = [];
  if (routed.some((r) => !r)) blocks.push(layer('Dense', dense));
  if (routed.some((r) => r)) blocks.push(layer('MoEDecoder', moe));
  const call1 = (block: string) => `${block}(nope: ${nopeFlag.expr})`;
  const stack =
    moeFlag.expr === 'true' ? `[${call1('MoEDecoder')} for i in layers]` : moeFlag.expr === 'false' ? `[${call1('Dense')} for i in layers]` : `[if ${moeFlag.expr} then ${call1('MoEDecoder')} else ${call1('Dense')} for i in layers]`;

  const modules: Binding[] = [binding('embed', call('Embedding', ['vocab', 'd'])), binding('body', stack), binding('norm', call('RMSNorm', ['d']))];
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, false);
  if (withHead) modules.push(lmHead(tied));
  return {
    description: `decoder-only MoE with chunked and NoPE attention layers, ${headDescription(withHead, tied)}`,
    constants,
    blocks,
    modules,
    statements: [],
  };
}

const VISION_KEYS = ['vision_config', 'boi_token_index', 'eoi_token_index', 'image_token_index'];

function buildLlama4(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const text = cfg.child('text_config');
  text?.consume('model_type');
  const omitted = cfg.has('vision_config');
  cfg.consume(...VISION_KEYS);
  if (text !== undefined && cfg.has('tie_word_embeddings') && !text.has('tie_word_embeddings')) cfg.consume('tie_word_embeddings');
  const model = buildLlama4Text(text ?? cfg, head);
  return {
    ...model,
    description: `${model.description}; the language model only`,
    omitted: omitted ? [{ key: 'vision_config', why: 'the vision encoder and its projector are not modelled: the spec is the language model' }] : [],
  };
}

export const LLAMA4_TEXT: Family = {
  modelType: 'llama4_text',
  configClass: 'Llama4TextConfig',
  classes: { Llama4ForCausalLM: 'lm', Llama4TextModel: 'base' },
  defaultClass: 'Llama4ForCausalLM',
  build: buildLlama4Text,
};

export const LLAMA4: Family = {
  modelType: 'llama4',
  configClass: 'Llama4Config',
  classes: { Llama4ForConditionalGeneration: 'lm', Llama4ForCausalLM: 'lm' },
  defaultClass: 'Llama4ForConditionalGeneration',
  build: buildLlama4,
};
