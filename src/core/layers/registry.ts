// The builtin layer library: every layer kind a spec may call, by name. The evaluator resolves
// calls through `findLayerKind`; hovers, completion and the docs list `LAYER_KINDS` in order.

import { ALTUP, ALTUP_PROJECTIONS } from './altup.js';
import { ATTENTION } from './attention.js';
import { CONV1D, CONV2D } from './conv.js';
import { EMBEDDING } from './embedding.js';
import type { LayerKind } from './layer-kind.js';
import { SANDWICH_CONV2D, SANDWICH_LINEAR } from './lbdn.js';
import { LAUREL } from './laurel.js';
import { LINEAR } from './linear.js';
import { MAMBA } from './mamba.js';
import { MAMBA2 } from './mamba2.js';
import { MLA } from './mla.js';
import { GATED_DELTANET } from './gated-deltanet.js';
import { GATED_MLP, MLP } from './mlp.js';
import { MOA } from './moa.js';
import { MOMENT_PROBE } from './moment-probe.js';
import { MOE } from './moe.js';
import { BATCH_NORM, LAYER_NORM, RMS_NORM } from './norms.js';
import { ACTIVATION, DROPOUT, FLATTEN, GLOBAL_POOL, IDENTITY, POOL } from './parameter-free.js';
import { PER_LAYER_EMBEDDING, PER_LAYER_INPUT } from './per-layer-embedding.js';
import { POSITION_EMBEDDING, RELATIVE_POSITION_BIAS } from './position.js';
import { RECURRENT_ROUTER } from './recurrent-router.js';

const ALL: readonly LayerKind[] = [
  EMBEDDING,
  POSITION_EMBEDDING,
  RELATIVE_POSITION_BIAS,
  LINEAR,
  CONV1D,
  CONV2D,
  SANDWICH_LINEAR,
  SANDWICH_CONV2D,
  LAYER_NORM,
  RMS_NORM,
  BATCH_NORM,
  ATTENTION,
  MLA,
  MLP,
  GATED_MLP,
  MOE,
  RECURRENT_ROUTER,
  MOA,
  MAMBA,
  MAMBA2,
  GATED_DELTANET,
  ALTUP,
  ALTUP_PROJECTIONS,
  LAUREL,
  MOMENT_PROBE,
  PER_LAYER_EMBEDDING,
  PER_LAYER_INPUT,
  ACTIVATION,
  DROPOUT,
  IDENTITY,
  POOL,
  GLOBAL_POOL,
  FLATTEN,
];

/** Every builtin layer kind by its name (case-sensitive), in documentation order. */
export const LAYER_KINDS: ReadonlyMap<string, LayerKind> = new Map(ALL.map((kind) => [kind.name, kind]));

/** The builtin layer kind called `name`, or undefined for an unknown name. */
export function findLayerKind(name: string): LayerKind | undefined {
  return LAYER_KINDS.get(name);
}
