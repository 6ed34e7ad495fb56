// Falcon (FalconConfig), in its two decoder architectures. The old one (Falcon-7B): one
// input_layernorm whose output feeds attention and MLP in parallel (parallel_attn; otherwise a
// post_attention_layernorm before a sequential MLP), multi-query attention (multi_query: one
// key/value head; without it, as many as query heads). The new one (new_decoder_architecture,
// Falcon-40B/180B): grouped-query attention with num_kv_heads, always parallel, and two norms
// (ln_attn, ln_mlp) unless num_ln_in_parallel_attn is 1. Both fuse q/k/v into
// query_key_value (the same parameters as separate projections), use LayerNorms with a shift,
// a two-matrix MLP of ffn_hidden_size (4 × hidden_size), biases on every projection when
// `bias`, rotary embeddings unless `alibi` (a bias without parameters), and an LM head tied to
// the word embedding.

import { activationFor } from '../activations.js';
import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding } from '../spec-writer.js';
import { attentionCall, attentionConstants, hasLmHead, headDescription, lmHead, readAttentionShape, readRope, readTie } from './shared-parts.js';

function buildFalcon(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 65_024);
  const newArch = cfg.bool('new_decoder_architecture', false);
  const multiQuery = cfg.bool('multi_query', true);
  const parallel = newArch || cfg.bool('parallel_attn', true);
  if (newArch) cfg.consume('multi_query', 'parallel_attn');
  const shape0 = readAttentionShape(cfg, { hidden: 'hidden_size', hiddenDefault: 4544, heads: 'num_attention_heads', headsDefault: 71 });
  // FalconAttention: num_kv_heads counts only in the new architecture; the old one has one
  // key/value head with multi_query and one per query head without.
  let kvHeads = shape0.heads;
  if (newArch) {
    kvHeads = cfg.optionalPositiveInt('num_kv_heads', shape0.heads, '= num_attention_heads', shape0.heads) ?? shape0.heads;
    cfg.require(shape0.heads % kvHeads === 0, 'num_kv_heads', `num_kv_heads (${kvHeads}) must divide num_attention_heads (${shape0.heads})`);
  } else {
    cfg.consume('num_kv_heads');
    if (multiQuery) kvHeads = 1;
  }
  const shape = { ...shape0, kvHeads };
  const layers = cfg.positiveInt('num_hidden_layers', 32);
  const ff = cfg.optionalPositiveInt('ffn_hidden_size', 4 * shape.d, '4 × hidden_size') ?? 4 * shape.d;
  const act = activationFor('activation', cfg.string('activation', 'gelu'));
  const bias = cfg.bool('bias', false);
  const alibi = cfg.bool('alibi', false);
  const twoNorms = newArch && (cfg.optionalPositiveInt('num_ln_in_parallel_attn', 2, undefined, 2) ?? 2) === 2;
  if (!newArch) cfg.consume('num_ln_in_parallel_attn');
  // The residual taken after the norm instead of before changes no count; only the default is read silently.
  if (cfg.raw('apply_residual_connection_post_layernorm') !== true) cfg.consume('apply_residual_connection_post_layernorm');
  const rope = alibi ? { constants: [], args: {} } : readRope(cfg, { theta: 'rope_theta', thetaDefault: 10_000 }, shape.headDim);
  if (alibi) cfg.consume('rope_theta', 'rope_scaling');

  const attn = binding('attn', attentionCall(shape, { bias: bias ? true : undefined, ...rope.args }), 'query_key_value and dense');
  const mlp = binding('mlp', call('MLP', ['d', 'ff'], { act: act === 'gelu' ? undefined : act, bias: bias ? undefined : false }), 'dense_h_to_4h, dense_4h_to_h');
  const norm = call('LayerNorm', ['d']);
  const members: Binding[] = twoNorms
    ? [binding('attn_norm', norm, 'ln_attn'), attn, binding('mlp_norm', norm, 'ln_mlp'), mlp]
    : parallel
      ? [binding('norm', norm, 'one input_layernorm feeds both branches'), attn, mlp]
      : [binding('attn_norm', norm, 'input_layernorm'), attn, binding('mlp_norm', norm, 'post_attention_layernorm'), mlp];

  const modules: Binding[] = [
    binding('embed', call('Embedding', ['vocab', 'd']), 'word_embeddings'),
    binding('body', 'Decoder * layers'),
    binding('norm', norm, 'ln_f'),
  ];
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, true);
  if (withHead) modules.push(lmHead(tied));
  const layout = newArch ? 'new decoder architecture' : 'original decoder architecture';
  return {
    description: `decoder-only (${layout})${parallel ? ' with parallel attention and MLP' : ''}, ${headDescription(withHead, tied)}`,
    constants: [binding('vocab', vocab), binding('d', shape.d), binding('layers', layers), ...attentionConstants(shape), ...rope.constants, binding('ff', ff)],
    blocks: [{ name: 'Decoder', members }],
    modules,
    statements: [],
  };
}

export const FALCON: Family = {
  modelType: 'falcon',
  configClass: 'FalconConfig',
  classes: { FalconForCausalLM: 'lm', FalconModel: 'base' },
  defaultClass: 'FalconForCausalLM',
  build: buildFalcon,
};
