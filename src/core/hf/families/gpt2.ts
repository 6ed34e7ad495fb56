// GPT-2: learned token and position embeddings, pre-LayerNorm blocks whose fused c_attn Conv1D
// (q, k and v with bias) and c_proj carry biases, a two-layer biased MLP, a final LayerNorm and
// an LM head tied to the token embedding (PretrainedConfig's tie_word_embeddings = true).
// GPT2Config names its sizes n_embd, n_layer, n_head, n_inner and n_positions.

import { activationFor } from '../activations.js';
import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call } from '../spec-writer.js';
import {
  attentionCall,
  attentionConstants,
  hasLmHead,
  headDescription,
  lmHead,
  readAttentionShape,
  readTie,
  refuseIfSet,
} from './shared-parts.js';

function buildGpt2(cfg: ConfigReader, head: HeadKind): FamilyModel {
  refuseIfSet(cfg, 'add_cross_attention', 'GPT-2 blocks with cross-attention need an encoder that the config does not describe');
  const vocab = cfg.positiveInt('vocab_size', 50_257);
  const positions = cfg.positiveInt('n_positions', 1024);
  // n_ctx is GPT2Config's legacy copy of n_positions that no module reads; the summary_* keys
  // configure GPT2DoubleHeadsModel's multiple-choice head, which the supported classes lack.
  cfg.consume('n_ctx', 'summary_type', 'summary_use_proj', 'summary_activation', 'summary_proj_to_labels', 'summary_first_dropout');
  const shape = readAttentionShape(cfg, { hidden: 'n_embd', hiddenDefault: 768, heads: 'n_head', headsDefault: 12 });
  const layers = cfg.positiveInt('n_layer', 12);
  // GPT2MLP's width is n_inner, or 4 × n_embd when n_inner is None.
  const ff = cfg.optionalPositiveInt('n_inner', 4 * shape.d, '4 × n_embd') ?? 4 * shape.d;
  const act = activationFor('activation_function', cfg.string('activation_function', 'gelu_new'));
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, true);

  return {
    description: `decoder-only, ${headDescription(withHead, tied, 'the token embedding')}`,
    constants: [
      binding('vocab', vocab),
      binding('positions', positions, 'n_positions: learned position table'),
      binding('d', shape.d),
      binding('layers', layers),
      ...attentionConstants(shape),
      binding('ff', ff, cfg.has('n_inner') ? undefined : 'n_inner unset: 4 × n_embd'),
    ],
    blocks: [
      {
        name: 'Decoder',
        members: [
          binding('attn_norm', call('LayerNorm', ['d'])),
          binding('attn', attentionCall(shape, { bias: true }), 'c_attn and c_proj carry biases'),
          binding('mlp_norm', call('LayerNorm', ['d'])),
          binding('mlp', call('MLP', ['d', 'ff'], { act: act === 'gelu' ? undefined : act })),
        ],
      },
    ],
    modules: [
      binding('embed', call('Embedding', ['vocab', 'd'])),
      binding('pos', call('PositionEmbedding', ['positions', 'd'])),
      binding('body', 'Decoder * layers'),
      binding('norm', call('LayerNorm', ['d'])),
      ...(withHead ? [lmHead(tied)] : []),
    ],
    statements: [],
  };
}

export const GPT2: Family = {
  modelType: 'gpt2',
  configClass: 'GPT2Config',
  classes: { GPT2LMHeadModel: 'lm', GPT2Model: 'base' },
  defaultClass: 'GPT2LMHeadModel',
  build: buildGpt2,
};
