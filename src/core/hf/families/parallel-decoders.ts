// Decoders whose attention and MLP read the same normalised input in parallel: Phi (one
// input_layernorm per layer feeding both branches) and GPT-NeoX / Pythia (separate input and
// post-attention LayerNorms, parallel when use_parallel_residual). Both use biased LayerNorms,
// biased projections, a two-matrix MLP and partial rotary embeddings (rope_dim; no parameters); Phi's LM
// head has a bias, GPT-NeoX's embed_out does not, and neither is tied by default.

import { activationFor } from '../activations.js';
import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding } from '../spec-writer.js';
import { attentionCall, attentionConstants, hasLmHead, headDescription, lmHead, readAttentionShape, readRope, readTie } from './shared-parts.js';

function buildPhi(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 51_200);
  const shape = readAttentionShape(cfg, {
    hidden: 'hidden_size',
    hiddenDefault: 2048,
    heads: 'num_attention_heads',
    headsDefault: 32,
    kvHeads: 'num_key_value_heads',
  });
  const layers = cfg.positiveInt('num_hidden_layers', 24);
  const ff = cfg.positiveInt('intermediate_size', 8192);
  const act = activationFor('hidden_act', cfg.string('hidden_act', 'gelu_new'));
  // qk_layernorm adds a LayerNorm (weight and bias) of head_dim on queries and keys.
  const qkNorm = cfg.bool('qk_layernorm', false) ? 'layer' : undefined;
  // PhiAttention rotates the first int(partial_rotary_factor · head_dim) dims of q and k, after
  // the q/k LayerNorms.
  const rope = readRope(cfg, { theta: 'rope_theta', thetaDefault: 10_000, partial: 'partial_rotary_factor', partialDefault: 0.5 }, shape.headDim);
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, false);
  const modules: Binding[] = [
    binding('embed', call('Embedding', ['vocab', 'd'])),
    binding('body', 'Decoder * layers'),
    binding('norm', call('LayerNorm', ['d']), 'final_layernorm'),
  ];
  if (withHead) modules.push(lmHead(tied, { bias: true }));
  return {
    description: `decoder-only with parallel attention and MLP, ${headDescription(withHead, tied)}`,
    constants: [binding('vocab', vocab), binding('d', shape.d), binding('layers', layers), ...attentionConstants(shape), ...rope.constants, binding('ff', ff)],
    blocks: [
      {
        name: 'Decoder',
        members: [
          binding('norm', call('LayerNorm', ['d']), 'one input_layernorm feeds both branches'),
          binding('attn', attentionCall(shape, { bias: true, qk_norm: qkNorm, ...rope.args })),
          binding('mlp', call('MLP', ['d', 'ff'], { act: act === 'gelu' ? undefined : act })),
        ],
      },
    ],
    modules,
    statements: [],
  };
}

function buildGptNeox(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 50_432);
  const shape = readAttentionShape(cfg, { hidden: 'hidden_size', hiddenDefault: 6144, heads: 'num_attention_heads', headsDefault: 64 });
  const layers = cfg.positiveInt('num_hidden_layers', 44);
  const ff = cfg.positiveInt('intermediate_size', 24_576);
  const act = activationFor('hidden_act', cfg.string('hidden_act', 'gelu'));
  // query_key_value and dense carry biases unless attention_bias is false.
  const attnBias = cfg.bool('attention_bias', true);
  const parallel = cfg.bool('use_parallel_residual', true);
  // GPTNeoXAttention rotates the first int(head_size · rotary_pct) dims with base rotary_emb_base.
  const rope = readRope(cfg, { theta: 'rotary_emb_base', thetaDefault: 10_000, partial: 'rotary_pct', partialDefault: 0.25 }, shape.headDim);
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, false);
  const modules: Binding[] = [
    binding('embed', call('Embedding', ['vocab', 'd']), 'embed_in'),
    binding('body', 'Decoder * layers'),
    binding('norm', call('LayerNorm', ['d']), 'final_layer_norm'),
  ];
  if (withHead) modules.push({ ...lmHead(tied), comment: tied ? 'embed_out, tied to embed_in' : 'embed_out, untied' });
  return {
    description: `decoder-only${parallel ? ' with parallel attention and MLP' : ''}, ${headDescription(withHead, tied)}`,
    constants: [binding('vocab', vocab), binding('d', shape.d), binding('layers', layers), ...attentionConstants(shape), ...rope.constants, binding('ff', ff)],
    blocks: [
      {
        name: 'Decoder',
        members: [
          binding('attn_norm', call('LayerNorm', ['d']), 'input_layernorm'),
          binding('attn', attentionCall(shape, { bias: attnBias ? true : undefined, ...rope.args })),
          binding('mlp_norm', call('LayerNorm', ['d']), 'post_attention_layernorm'),
          binding('mlp', call('MLP', ['d', 'ff'], { act: act === 'gelu' ? undefined : act })),
        ],
      },
    ],
    modules,
    statements: [],
  };
}

export const PHI: Family = {
  modelType: 'phi',
  configClass: 'PhiConfig',
  classes: { PhiForCausalLM: 'lm', PhiModel: 'base' },
  defaultClass: 'PhiForCausalLM',
  build: buildPhi,
};

export const GPT_NEOX: Family = {
  modelType: 'gpt_neox',
  configClass: 'GPTNeoXConfig',
  classes: { GPTNeoXForCausalLM: 'lm', GPTNeoXModel: 'base' },
  defaultClass: 'GPTNeoXForCausalLM',
  build: buildGptNeox,
};
