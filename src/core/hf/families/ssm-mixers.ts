// The arguments every Mamba-style mixer call of an import shares (Mamba's and Mamba-2's families,
// Jamba, Nemotron-H): the inner-width factor, the convolution kernel and the two bias switches,
// each written only where it differs from the layer's default, by a constant's name when the
// spec declares one.

import type { ConfigReader } from '../config-reader.js';
import type { Arg } from '../spec-writer.js';

export interface MixerShape {
  readonly expand: number;
  readonly conv: number;
  /** Biases on in_proj and out_proj (use_bias, mamba_proj_bias). */
  readonly bias: boolean;
  readonly convBias: boolean;
  /** Constants the spec declares for these values; numbers are written otherwise. */
  readonly names?: { readonly expand?: string; readonly conv?: string };
}

/** `expand`, `conv`, `bias` and `conv_bias` for a Mamba or Mamba2 call, defaults (2, 4, false, true) left out. */
export function mixerArgs(m: MixerShape): Record<string, Arg | undefined> {
  return {
    expand: m.expand === 2 ? undefined : (m.names?.expand ?? m.expand),
    conv: m.conv === 4 ? undefined : (m.names?.conv ?? m.conv),
    bias: m.bias ? true : undefined,
    conv_bias: m.convBias ? undefined : false,
  };
}

/** Where a family's config keeps a Mamba mixer's sizes (MambaConfig's state_size, JambaConfig's mamba_d_state, …). */
export interface MixerKeys {
  readonly state: string;
  readonly stateDefault: number;
  readonly expand: string;
  readonly conv: string;
  readonly bias: string;
  readonly convBias: string;
}

/** The state size and the shared mixer arguments, with the defaults every one of these config classes has (expand 2, kernel 4, no projection bias, a conv bias). */
export function readMixerShape(cfg: ConfigReader, k: MixerKeys): MixerShape & { readonly state: number } {
  return {
    state: cfg.positiveInt(k.state, k.stateDefault),
    expand: cfg.positiveInt(k.expand, 2),
    conv: cfg.positiveInt(k.conv, 4),
    bias: cfg.bool(k.bias, false),
    convBias: cfg.bool(k.convBias, true),
  };
}

/** Mamba-1's step rank: `"auto"` (or absent) is ceil(hidden_size / 16), as MambaConfig and JambaConfig compute it. */
export function readDtRank(cfg: ConfigReader, key: string, d: number): number {
  const value = cfg.raw(key);
  return value === undefined || value === 'auto' ? Math.ceil(d / 16) : cfg.positiveInt(key, 0);
}
