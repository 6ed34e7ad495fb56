// NVIDIA Nemotron-H (NemotronHConfig): a hybrid whose hybrid_override_pattern gives each layer
// one mixer behind an RMSNorm — `M` a Mamba-2 mixer (mamba_num_heads × mamba_head_dim inner
// width, ssm_state_size, n_groups, a grouped gated RMSNorm), `*` self-attention without rotary
// embeddings, `-` a two-matrix MLP (relu2 by default). The pattern becomes a chain of the three
// blocks with repeated units folded, `(MambaLayer + MlpLayer) * 4 + …`, so the KV cache is
// charged to the attention layers alone and the recurrent state to the Mamba layers. Patterns
// with `E` (mixture-of-experts layers) are refused: their expert keys are not modelled here.

import { activationFor } from '../activations.js';
import type { ConfigReader } from '../config-reader.js';
import type { Family, FamilyModel, HeadKind } from '../family.js';
import { binding, call, type Binding } from '../spec-writer.js';
import { attentionCall, attentionConstants, hasLmHead, headDescription, lmHead, readAttentionShape, readTie } from './shared-parts.js';

const BLOCK_OF: Readonly<Record<string, string>> = { M: 'MambaLayer', '*': 'AttentionLayer', '-': 'MlpLayer' };

/** Keys of NemotronHConfig that set kernels, initialisation or numerics: no count changes. */
const INERT = ['residual_in_fp32', 'rescale_prenorm_residual', 'use_mamba_kernels', 'num_logits_to_keep', 'chunk_size', 'time_step_min', 'time_step_max', 'time_step_floor', 'time_step_limit', 'mamba_hidden_act'];

/**
 * The pattern as a chain of block names, each maximal run of a repeated unit (up to 8 layers
 * long) folded into `(A + B) * k`.
 */
export function foldPattern(names: readonly string[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < names.length) {
    let best = { unit: 1, times: 1 };
    for (let unit = 1; unit <= 8 && i + 2 * unit <= names.length; unit++) {
      let times = 1;
      while (i + (times + 1) * unit <= names.length && names.slice(i + times * unit, i + (times + 1) * unit).every((n, j) => n === names[i + j])) times++;
      if (times >= 2 && unit * times > best.unit * best.times) best = { unit, times };
    }
    const unit = names.slice(i, i + best.unit);
    const text = unit.length === 1 ? unit[0]! : `(${unit.join(' + ')})`;
    parts.push(best.times === 1 ? text : `${text} * ${best.times}`);
    i += best.unit * best.times;
  }
  return parts.join(' + ');
}

function buildNemotronH(cfg: ConfigReader, head: HeadKind): FamilyModel {
  cfg.consume(...INERT);
  const vocab = cfg.positiveInt('vocab_size', 131_072);
  const layers = cfg.positiveInt('num_hidden_layers', 52);
  const pattern = cfg.string('hybrid_override_pattern', 'M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M-');
  cfg.require(pattern.length === layers, 'hybrid_override_pattern', `hybrid_override_pattern has ${pattern.length} characters but num_hidden_layers is ${layers}`);
  for (const [i, c] of [...pattern].entries()) {
    cfg.require(BLOCK_OF[c] !== undefined, 'hybrid_override_pattern', `hybrid_override_pattern[${i}] is "${c}"; supported: M (Mamba-2), * (attention), - (MLP); E (mixture of experts) is not modelled`);
  }
  const shape = readAttentionShape(cfg, {
    hidden: 'hidden_size',
    hiddenDefault: 4096,
    heads: 'num_attention_heads',
    headsDefault: 32,
    kvHeads: 'num_key_value_heads',
    kvHeadsDefault: 8,
    headDim: 'attention_head_dim',
    headDimDefault: 128,
  });
  const d = shape.d;
  const ff = cfg.positiveInt('intermediate_size', 21_504);
  const act = activationFor('mlp_hidden_act', cfg.string('mlp_hidden_act', 'relu2'));
  const mambaHeads = cfg.positiveInt('mamba_num_heads', 128);
  const mambaHeadDim = cfg.positiveInt('mamba_head_dim', 64);
  const inner = mambaHeads * mambaHeadDim;
  cfg.require(inner % d === 0, 'mamba_num_heads', `mamba_num_heads (${mambaHeads}) × mamba_head_dim (${mambaHeadDim}) = ${inner} must be a multiple of hidden_size (${d}) for the Mamba2 layer's expand`);
  const state = cfg.positiveInt('ssm_state_size', 128);
  const groups = cfg.positiveInt('n_groups', 8);
  cfg.require(mambaHeads % groups === 0, 'n_groups', `n_groups (${groups}) must divide mamba_num_heads (${mambaHeads})`);
  const conv = cfg.positiveInt('conv_kernel', 4);
  const useBias = cfg.bool('use_bias', false);
  const convBias = cfg.bool('use_conv_bias', true);
  if (cfg.raw('mamba_proj_bias') !== true) cfg.consume('mamba_proj_bias');
  const attnBias = cfg.bool('attention_bias', false);
  const mlpBias = cfg.bool('mlp_bias', false);
  // NemotronHAttention applies no rotary embedding; a sliding window it does not read either.
  if (cfg.raw('sliding_window') === null) cfg.consume('sliding_window');

  const names = [...pattern].map((c) => BLOCK_OF[c]!);
  const used = new Set(names);
  const constants: Binding[] = [
    binding('vocab', vocab),
    binding('d', d),
    binding('layers', layers, `hybrid_override_pattern "${pattern}" (M: Mamba-2, *: attention, -: MLP)`),
  ];
  const blocks = [];
  if (used.has('MambaLayer')) {
    constants.push(
      binding('mamba_head_dim', mambaHeadDim, `mamba_num_heads ${mambaHeads} × mamba_head_dim = ${inner}`),
      binding('state', state, 'ssm_state_size'),
      binding('groups', groups, 'n_groups'),
    );
    const mixer = call('Mamba2', ['d'], {
      head_dim: 'mamba_head_dim',
      state: 'state',
      groups: 'groups',
      expand: inner / d === 2 ? undefined : inner / d,
      conv: conv === 4 ? undefined : conv,
      bias: useBias ? true : undefined,
      conv_bias: convBias ? undefined : false,
    });
    blocks.push({ name: 'MambaLayer', members: [binding('norm', call('RMSNorm', ['d'])), binding('mixer', mixer)] });
  } else cfg.consume('use_bias', 'use_conv_bias');
  if (used.has('AttentionLayer')) {
    constants.push(...attentionConstants(shape));
    blocks.push({ name: 'AttentionLayer', members: [binding('norm', call('RMSNorm', ['d'])), binding('mixer', attentionCall(shape, { bias: attnBias ? true : undefined }), 'no rotary embedding')] });
  }
  if (used.has('MlpLayer')) {
    constants.push(binding('ff', ff));
    blocks.push({ name: 'MlpLayer', members: [binding('norm', call('RMSNorm', ['d'])), binding('mixer', call('MLP', ['d', 'ff'], { act: act === 'gelu' ? undefined : act, bias: mlpBias }))] });
  }

  const modules: Binding[] = [binding('embed', call('Embedding', ['vocab', 'd'])), binding('body', foldPattern(names)), binding('norm', call('RMSNorm', ['d']), 'norm_f')];
  const withHead = hasLmHead(head);
  const tied = withHead && readTie(cfg, false);
  if (withHead) modules.push(lmHead(tied));
  return {
    description: `hybrid Mamba-2 / attention / MLP decoder, ${headDescription(withHead, tied)}`,
    constants,
    blocks,
    modules,
    statements: [],
  };
}

export const NEMOTRON_H: Family = {
  modelType: 'nemotron_h',
  configClass: 'NemotronHConfig',
  classes: { NemotronHForCausalLM: 'lm', NemotronHModel: 'base' },
  defaultClass: 'NemotronHForCausalLM',
  build: buildNemotronH,
};
