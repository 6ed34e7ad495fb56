// State-space models: Mamba (MambaConfig) and Mamba-2 (Mamba2Config). Each layer is an RMSNorm
// and a mixer (`Mamba` or `Mamba2`) on a residual; a final norm_f; the LM head tied to the
// embedding unless tie_word_embeddings is false. No layer keeps a KV cache: the mixers keep a
// constant recurrent state per sequence instead. Mamba's time_step_rank "auto" is
// ceil(hidden_size / 16); intermediate_size, when given, must equal expand · hidden_size.
// Mamba-2 needs num_heads · head_dim = expand · hidden_size, as Mamba2Mixer does.

import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding } from '../spec-writer.js';
import { hasLmHead, headDescription, lmHead, readTie } from './shared-parts.js';
import { mixerArgs, readDtRank, readMixerShape } from './ssm-mixers.js';

/** Keys of the configs that set initialisation, kernels or numerics: no count changes. */
const INERT = [
  'time_step_scale',
  'time_step_min',
  'time_step_max',
  'time_step_floor',
  'time_step_init_scheme',
  'time_step_limit',
  'rescale_prenorm_residual',
  'residual_in_fp32',
  'fused_add_norm',
  'pad_vocab_size_multiple',
  'use_mambapy',
  'chunk_size',
  'n_layer',
];

/** MambaConfig's and Mamba2Config's keys for the mixer's sizes (their state defaults differ). */
const MIXER_KEYS = { state: 'state_size', expand: 'expand', conv: 'conv_kernel', bias: 'use_bias', convBias: 'use_conv_bias' } as const;
/** The spec declares `expand` and `conv` as constants; the mixer call names them. */
const NAMED = { expand: 'expand', conv: 'conv' } as const;

function readInner(cfg: ConfigReader, d: number, expand: number): number {
  const inner = expand * d;
  const given = cfg.raw('intermediate_size');
  cfg.require(given === undefined || given === null || given === inner, 'intermediate_size', `intermediate_size (${String(given)}) must be expand · hidden_size (${inner}), as the mixer computes it`);
  return inner;
}

function ssmModel(cfg: ConfigReader, head: HeadKind, mixer: string, constants: Binding[], mixerName: string): FamilyModel {
  cfg.consume(...INERT);
  // Both mixers act on the RMSNorm's output; rms_norm false (a LayerNorm) is not what the Transformers classes build.
  cfg.require(cfg.raw('rms_norm') !== false, 'rms_norm', 'rms_norm = false is not supported: the Transformers classes always use RMSNorm');
  cfg.consume('rms_norm');
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, true);
  const modules: Binding[] = [binding('embed', call('Embedding', ['vocab', 'd'])), binding('body', 'Layer * layers'), binding('norm', call('RMSNorm', ['d']), 'norm_f')];
  if (withHead) modules.push(lmHead(tied));
  return {
    description: `${mixerName} state-space decoder (no KV cache: a constant recurrent state), ${headDescription(withHead, tied)}`,
    constants,
    blocks: [{ name: 'Layer', members: [binding('norm', call('RMSNorm', ['d'])), binding('mixer', mixer)] }],
    modules,
    statements: [],
  };
}

function buildMamba(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 50_280);
  const d = cfg.positiveInt('hidden_size', 768);
  const layers = cfg.positiveInt('num_hidden_layers', 32);
  const m = readMixerShape(cfg, { ...MIXER_KEYS, stateDefault: 16 });
  readInner(cfg, d, m.expand);
  const dtRank = readDtRank(cfg, 'time_step_rank', d);
  cfg.require(cfg.string('hidden_act', 'silu') === 'silu', 'hidden_act', 'MambaMixer gates with silu; another hidden_act is not supported');
  const constants = [
    binding('vocab', vocab),
    binding('d', d),
    binding('layers', layers),
    binding('state', m.state, 'state_size: SSM state per channel'),
    binding('expand', m.expand, 'inner width = expand · d'),
    binding('conv', m.conv, 'conv_kernel'),
  ];
  const defaultRank = dtRank === Math.ceil(d / 16);
  if (!defaultRank) constants.push(binding('dt_rank', dtRank, 'time_step_rank'));
  const mixer = call('Mamba', ['d'], {
    state: m.state === 16 ? undefined : 'state',
    dt_rank: defaultRank ? undefined : 'dt_rank',
    ...mixerArgs({ ...m, names: NAMED }),
  });
  return ssmModel(cfg, head, mixer, constants, 'Mamba');
}

function buildMamba2(cfg: ConfigReader, head: HeadKind): FamilyModel {
  const vocab = cfg.positiveInt('vocab_size', 32_768);
  const d = cfg.positiveInt('hidden_size', 4096);
  const layers = cfg.positiveInt('num_hidden_layers', 64);
  const m = readMixerShape(cfg, { ...MIXER_KEYS, stateDefault: 128 });
  const headDim = cfg.positiveInt('head_dim', 64);
  const heads = cfg.positiveInt('num_heads', 128);
  const groups = cfg.positiveInt('n_groups', 8);
  // Mamba2Config keeps time_step_rank, but Mamba2Mixer has one step per head and never reads it.
  cfg.consume('time_step_rank');
  const inner = readInner(cfg, d, m.expand);
  cfg.require(heads * headDim === inner, 'num_heads', `num_heads (${heads}) × head_dim (${headDim}) must be expand · hidden_size (${inner})`);
  cfg.require(heads % groups === 0, 'n_groups', `n_groups (${groups}) must divide num_heads (${heads})`);
  cfg.require(cfg.string('hidden_act', 'silu') === 'silu', 'hidden_act', 'Mamba2Mixer gates with silu; another hidden_act is not supported');
  const constants = [
    binding('vocab', vocab),
    binding('d', d),
    binding('layers', layers),
    binding('head_dim', headDim, `num_heads ${heads} × head_dim = expand · d`),
    binding('state', m.state, 'state_size: SSM state per head channel'),
    binding('groups', groups, 'n_groups sharing B and C'),
    binding('expand', m.expand, 'inner width = expand · d'),
    binding('conv', m.conv, 'conv_kernel'),
  ];
  const mixer = call('Mamba2', ['d'], {
    head_dim: 'head_dim',
    state: 'state',
    groups: 'groups',
    ...mixerArgs({ ...m, names: NAMED }),
  });
  return ssmModel(cfg, head, mixer, constants, 'Mamba-2');
}

export const MAMBA: Family = {
  modelType: 'mamba',
  configClass: 'MambaConfig',
  classes: { MambaForCausalLM: 'lm', MambaModel: 'base' },
  defaultClass: 'MambaForCausalLM',
  build: buildMamba,
};

export const MAMBA2: Family = {
  modelType: 'mamba2',
  configClass: 'Mamba2Config',
  classes: { Mamba2ForCausalLM: 'lm', Mamba2Model: 'base' },
  defaultClass: 'Mamba2ForCausalLM',
  build: buildMamba2,
};
