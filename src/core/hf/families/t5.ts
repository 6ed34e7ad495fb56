// T5: an encoder-decoder over one shared token embedding (the encoder's and decoder's
// embed_tokens are the `shared` table). Layers are pre-norm with T5LayerNorm (a scale only, no
// mean subtraction: an RMSNorm), attention has no biases and an inner width of num_heads × d_kv
// that need not equal d_model, and only the first layer of each stack owns the relative position
// bias table (buckets × heads) that every later layer reuses. Decoder layers add cross-attention
// over the encoder output. feed_forward_proj is "{gated-}{act}": "relu" is T5's two-matrix MLP,
// "gated-gelu" (v1.1, with gelu_new) the gated one; neither has biases. The LM head is tied
// unless tie_word_embeddings is false (T5 v1.1 configs set it false).

import { activationFor } from '../activations.js';
import { ConfigError, type ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call } from '../spec-writer.js';
import { headDescription, lmHead, readTie } from './shared-parts.js';

interface FeedForward {
  readonly gated: boolean;
  readonly act: string;
}

/** T5Config's parsing of feed_forward_proj, including its "gated-gelu" → gelu_new special case. */
function readFeedForward(cfg: ConfigReader): FeedForward {
  const proj = cfg.string('feed_forward_proj', 'relu');
  const parts = proj.split('-');
  const gated = parts[0] === 'gated';
  if (parts.length > 2 || (parts.length === 2 && !gated) || parts[parts.length - 1] === '') {
    throw new ConfigError(
      'feed_forward_proj',
      `feed_forward_proj "${proj}" is not of the form "{ACT}" or "gated-{ACT}" (e.g. "relu", "gated-gelu")`,
    );
  }
  const hfAct = proj === 'gated-gelu' ? 'gelu_new' : (parts[parts.length - 1] ?? 'relu');
  return { gated, act: activationFor('feed_forward_proj', hfAct) };
}

function buildT5(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 32_128);
  const d = cfg.positiveInt('d_model', 512);
  const headDim = cfg.positiveInt('d_kv', 64);
  const ff = cfg.positiveInt('d_ff', 2048);
  const layers = cfg.positiveInt('num_layers', 6);
  // Old T5 configs carry n_positions, which T5's relative attention never reads.
  cfg.consume('n_positions');
  const heads = cfg.positiveInt('num_heads', 8);
  const buckets = cfg.positiveInt('relative_attention_num_buckets', 32);
  const ffn = readFeedForward(cfg);
  const withDecoder = head !== 'encoder';
  // num_decoder_layers defaults to num_layers ("symmetric" when None).
  const decoderLayers = withDecoder ? (cfg.optionalPositiveInt('num_decoder_layers', layers, '= num_layers') ?? layers) : 0;
  const separateDecoderDepth = withDecoder && decoderLayers !== layers;
  const tied = head === 'lm' && readTie(cfg, true);

  const attention = (named: Record<string, string | boolean | undefined>) =>
    call('Attention', ['d', 'heads'], { head_dim: 'head_dim', ...named });
  const mlp = ffn.gated
    ? call('GatedMLP', ['d', 'ff'], { act: ffn.act })
    : call('MLP', ['d', 'ff'], { act: ffn.act, bias: false });
  // Only layer 0 of a stack owns the table; the block parameter says which instance that is.
  const relBias = binding(
    'rel_bias',
    `if rel then ${call('RelativePositionBias', ['buckets', 'heads'])} else ${call('Identity')}`,
    'owned by layer 0 only',
  );
  const decoderCount = separateDecoderDepth ? 'decoder_layers' : 'layers';

  const blocks = [
    {
      name: 'Encoder',
      params: ['rel = false'],
      members: [
        binding('attn_norm', call('RMSNorm', ['d'])),
        binding('attn', attention({ causal: false })),
        relBias,
        binding('mlp_norm', call('RMSNorm', ['d'])),
        binding('mlp', mlp),
      ],
    },
  ];
  if (withDecoder) {
    blocks.push({
      name: 'Decoder',
      params: ['rel = false'],
      members: [
        binding('attn_norm', call('RMSNorm', ['d'])),
        binding('attn', attention({})),
        relBias,
        binding('cross_norm', call('RMSNorm', ['d'])),
        binding('cross_attn', attention({ cross: true })),
        binding('mlp_norm', call('RMSNorm', ['d'])),
        binding('mlp', mlp),
      ],
    });
  }

  return {
    description:
      head === 'encoder'
        ? 'encoder only'
        : `encoder-decoder, ${headDescription(head === 'lm', tied, 'the shared embedding')}`,
    constants: [
      binding('vocab', vocab),
      binding('d', d),
      binding('layers', layers, separateDecoderDepth ? 'encoder layers' : 'per stack'),
      ...(separateDecoderDepth ? [binding('decoder_layers', decoderLayers)] : []),
      binding('heads', heads),
      binding('head_dim', headDim, 'd_kv'),
      binding('ff', ff),
      binding('buckets', buckets, 'relative position buckets'),
    ],
    blocks,
    modules: [
      binding('embed', call('Embedding', ['vocab', 'd']), withDecoder ? 'shared by encoder and decoder' : undefined),
      binding('encoder', '[Encoder(rel: i == 0) for i in layers]'),
      binding('encoder_norm', call('RMSNorm', ['d'])),
      ...(withDecoder
        ? [binding('decoder', `[Decoder(rel: i == 0) for i in ${decoderCount}]`), binding('decoder_norm', call('RMSNorm', ['d']))]
        : []),
      ...(head === 'lm' ? [lmHead(tied)] : []),
    ],
    statements: [],
  };
}

export const T5: Family = {
  modelType: 't5',
  configClass: 'T5Config',
  classes: { T5ForConditionalGeneration: 'lm', T5Model: 'base', T5EncoderModel: 'encoder' },
  defaultClass: 'T5ForConditionalGeneration',
  build: buildT5,
};
