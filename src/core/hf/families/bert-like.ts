// BERT and ALBERT: bidirectional post-LayerNorm encoders with word, position and token-type
// embeddings and an embedding LayerNorm. Every projection carries a bias. BertModel and
// AlbertModel end in a pooler (dense + tanh over [CLS]); the masked-LM classes drop the pooler
// (add_pooling_layer=False) and add a transform (dense + act + LayerNorm) and a decoder tied to
// the word embeddings whose bias is its own parameter; the pre-training classes keep the pooler
// and add a 2-way sentence classifier. ALBERT factorises the embedding (embedding_size, then a
// projection to hidden_size) and shares its layers across depth: num_hidden_groups groups of
// inner_group_num layers, layer i running group ⌊i·groups/layers⌋.

import { activationFor } from '../activations.js';
import { ConfigError, type ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding, type BlockDef } from '../spec-writer.js';
import { attentionCall, attentionConstants, readAttentionShape, readTie, refuseIfSet, type AttentionShape } from './shared-parts.js';

interface EncoderConfig {
  readonly shape: AttentionShape;
  readonly layers: number;
  readonly ff: number;
  readonly act: string;
  readonly causal: boolean;
}

function readEncoder(cfg: ConfigReader, defaults: { hidden: number; heads: number; ff: number; act: string }): EncoderConfig {
  const shape = readAttentionShape(cfg, {
    hidden: 'hidden_size',
    hiddenDefault: defaults.hidden,
    heads: 'num_attention_heads',
    headsDefault: defaults.heads,
  });
  const layers = cfg.positiveInt('num_hidden_layers', 12);
  const ff = cfg.positiveInt('intermediate_size', defaults.ff);
  const act = activationFor('hidden_act', cfg.string('hidden_act', defaults.act));
  const positionType = cfg.string('position_embedding_type', 'absolute');
  if (positionType !== 'absolute') {
    throw new ConfigError(
      'position_embedding_type',
      `position_embedding_type "${positionType}" is not supported: only "absolute" (the relative types add a distance embedding per layer)`,
    );
  }
  refuseIfSet(cfg, 'add_cross_attention', 'encoder layers with cross-attention need a second encoder that the config does not describe');
  // is_decoder turns the self-attention causal (BertLMHeadModel); parameters are unchanged.
  const causal = cfg.bool('is_decoder', false);
  return { shape, layers, ff, act, causal };
}

/** One post-LN encoder layer: attention, LayerNorm, biased two-layer MLP, LayerNorm. */
function encoderLayer(name: string, enc: EncoderConfig): BlockDef {
  return {
    name,
    members: [
      binding('attn', attentionCall(enc.shape, { bias: true, causal: enc.causal ? undefined : false })),
      binding('attn_norm', call('LayerNorm', ['d'])),
      binding('mlp', call('MLP', ['d', 'ff'], { act: enc.act === 'gelu' ? undefined : enc.act })),
      binding('mlp_norm', call('LayerNorm', ['d'])),
    ],
  };
}

/** The masked-LM head: transform to `width`, LayerNorm, decoder to vocab with its own bias. */
function mlmHead(cfg: ConfigReader, width: string): Binding[] {
  const tied = readTie(cfg, true);
  const decoder = call('Linear', [width, 'vocab'], { bias: true });
  return [
    binding('transform', call('Linear', ['d', width], { bias: true }), 'dense + hidden_act'),
    binding('transform_norm', call('LayerNorm', [width])),
    tied
      ? { name: 'lm_head', expr: `${decoder} tied embed`, comment: 'decoder weight is the word embedding; its bias is separate' }
      : { name: 'lm_head', expr: decoder, comment: 'untied decoder' },
  ];
}

function headModules(cfg: ConfigReader, head: HeadKind, width: string, classifierOut: number | string): Binding[] {
  const pooler = binding('pooler', call('Linear', ['d', 'd'], { bias: true }), 'dense + tanh over the first token');
  switch (head) {
    case 'mlm':
      return mlmHead(cfg, width);
    case 'pretraining':
      return [
        pooler,
        ...mlmHead(cfg, width),
        binding('sentence_head', call('Linear', ['d', classifierOut], { bias: true }), 'next-sentence / sentence-order classifier'),
      ];
    default:
      return [pooler];
  }
}

function describe(head: HeadKind, cfg: ConfigReader): string {
  if (head === 'base') return 'bidirectional encoder with pooler';
  const tie = cfg.raw('tie_word_embeddings') === false ? 'untied' : 'tied';
  return head === 'mlm'
    ? `encoder with masked-LM head (${tie} decoder), no pooler`
    : `encoder with pooler, masked-LM head (${tie} decoder) and sentence classifier`;
}

function buildBert(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 30_522);
  const positions = cfg.positiveInt('max_position_embeddings', 512);
  const types = cfg.positiveInt('type_vocab_size', 2);
  const enc = readEncoder(cfg, { hidden: 768, heads: 12, ff: 3072, act: 'gelu' });
  return {
    description: describe(head, cfg),
    constants: [
      binding('vocab', vocab),
      binding('positions', positions),
      binding('types', types, 'token-type (segment) vocabulary'),
      binding('d', enc.shape.d),
      binding('layers', enc.layers),
      ...attentionConstants(enc.shape),
      binding('ff', enc.ff),
    ],
    blocks: [encoderLayer('Encoder', enc)],
    modules: [
      binding('embed', call('Embedding', ['vocab', 'd'])),
      binding('pos', call('PositionEmbedding', ['positions', 'd'])),
      binding('token_type', call('Embedding', ['types', 'd'])),
      binding('embed_norm', call('LayerNorm', ['d'])),
      binding('body', 'Encoder * layers'),
      // BertOnlyNSPHead is a fixed 2-way classifier.
      ...headModules(cfg, head, 'd', 2),
    ],
    statements: [],
  };
}

function buildAlbert(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 30_000);
  // AlbertConfig keeps four keys of the original TF code that no Transformers module reads.
  cfg.consume('down_scale_factor', 'gap_size', 'net_structure_type', 'num_memory_blocks');
  const emb = cfg.positiveInt('embedding_size', 128);
  const positions = cfg.positiveInt('max_position_embeddings', 512);
  const types = cfg.positiveInt('type_vocab_size', 2);
  const enc = readEncoder(cfg, { hidden: 4096, heads: 64, ff: 16_384, act: 'gelu_new' });
  const groups = cfg.positiveInt('num_hidden_groups', 1);
  const inner = cfg.positiveInt('inner_group_num', 1);
  // AlbertTransformer picks group int(i / (layers / groups)): an index past the last group
  // unless groups divide layers evenly, and more groups than layers leave groups unused.
  cfg.require(
    groups <= enc.layers && enc.layers % groups === 0,
    'num_hidden_groups',
    `num_hidden_groups (${groups}) must divide num_hidden_layers (${enc.layers})`,
  );

  const constants: Binding[] = [
    binding('vocab', vocab),
    binding('emb', emb, 'embedding_size: factorised embedding width'),
    binding('positions', positions),
    binding('types', types, 'token-type (segment) vocabulary'),
    binding('d', enc.shape.d),
    binding('layers', enc.layers, groups > 1 ? 'layer applications over the shared groups' : 'layer applications, all sharing one layer'),
    ...attentionConstants(enc.shape),
    binding('ff', enc.ff),
  ];
  if (groups > 1) constants.push(binding('groups', groups, 'num_hidden_groups: distinct weight sets'));
  const blocks: BlockDef[] = [encoderLayer('AlbertLayer', enc)];
  let unit = 'AlbertLayer';
  if (inner > 1) {
    constants.push(binding('inner_layers', inner, 'inner_group_num: layers per group application'));
    blocks.push({ name: 'AlbertGroup', members: [binding('inner', 'AlbertLayer * inner_layers')] });
    unit = 'AlbertGroup';
  }
  // AlbertSOPHead's classifier has num_labels outputs (2 unless id2label says otherwise).
  const labels = cfg.optionalObjectSize('id2label') ?? 2;
  return {
    description: describe(head, cfg),
    constants,
    blocks,
    modules: [
      binding('embed', call('Embedding', ['vocab', 'emb'])),
      binding('pos', call('PositionEmbedding', ['positions', 'emb'])),
      binding('token_type', call('Embedding', ['types', 'emb'])),
      binding('embed_norm', call('LayerNorm', ['emb'])),
      binding('embed_proj', call('Linear', ['emb', 'd'], { bias: true }), 'embedding_hidden_mapping_in'),
      binding('body', `${unit} * layers`),
      ...headModules(cfg, head, 'emb', labels),
    ],
    statements: [groups > 1 ? 'share body: sequence(groups)' : 'share body: all'],
  };
}

export const BERT: Family = {
  modelType: 'bert',
  configClass: 'BertConfig',
  classes: { BertModel: 'base', BertForMaskedLM: 'mlm', BertLMHeadModel: 'mlm', BertForPreTraining: 'pretraining' },
  defaultClass: 'BertModel',
  build: buildBert,
};

export const ALBERT: Family = {
  modelType: 'albert',
  configClass: 'AlbertConfig',
  classes: { AlbertModel: 'base', AlbertForMaskedLM: 'mlm', AlbertForPreTraining: 'pretraining' },
  defaultClass: 'AlbertModel',
  build: buildAlbert,
};
