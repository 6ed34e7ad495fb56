// Weights, gradients, master weights and optimizer states of one GPU: what a pipeline rank
// holds, split by tensor and expert parallelism, then sharded by ZeRO over the data-parallel
// group (stage 1: optimizer states and master weights; 2: + gradients; 3: + weights, with the
// largest layer gathered in full while it runs). ZeRO's stages: Rajbhandari et al. 2020;
// Megatron's distributed optimizer is stage 1.

import * as Q from '../numbers/rational.js';
import { findOptimizer } from './optimizers.js';
import type { ParamBreakdown } from './param-breakdown.js';
import type { PlanSettings } from './plan-settings.js';
import { NF4_DOUBLE_QUANT_BYTES, bytesPerElement, keepsMasterCopy } from './precision.js';

export interface ModelStateBytes {
  readonly weights: Q.Rational;
  readonly gradients: Q.Rational;
  /** Master weights and optimizer states. */
  readonly optimizer: Q.Rational;
  /** ZeRO-3's gathered layer (its weights and their gradients before the reduce-scatter). */
  readonly buffers: Q.Rational;
}

/**
 * Fractions of a rank's params one GPU holds: dense params split by tp, expert params by
 * ep × etp; `sharded` further divides dense params by the ZeRO group dp × cp and expert params by
 * the expert data-parallel group tp·dp·cp / (ep·etp), which hold one copy of them between them.
 */
export function shardFactors(p: ParamBreakdown, s: PlanSettings): { readonly replicated: Q.Rational; readonly sharded: Q.Rational } {
  const { tp, dp, cp, ep, etp } = s.parallel;
  if (Q.isZero(p.stored)) return { replicated: Q.ZERO, sharded: Q.ZERO };
  const expertShare = Q.div(p.expert, p.stored);
  const denseShare = Q.sub(Q.ONE, expertShare);
  const dense = Q.div(denseShare, Q.fromInt(tp));
  const expert = Q.div(expertShare, Q.fromInt(ep * etp));
  const expertGroup = Q.div(Q.fromInt(tp * dp * cp), Q.fromInt(ep * etp));
  return {
    replicated: Q.add(dense, expert),
    sharded: Q.add(Q.div(dense, Q.fromInt(dp * cp)), Q.div(expert, expertGroup)),
  };
}

export function modelStateBytes(p: ParamBreakdown, s: PlanSettings, largestLayer: bigint): ModelStateBytes {
  const f = shardFactors(p, s);
  const zero = s.parallel.zero;
  const at = (stage: number): Q.Rational => (zero >= stage ? f.sharded : f.replicated);
  const d = s.dtypes;
  const quantised = s.finetune === 'qlora' ? p.quantisable : Q.ZERO;
  const weightBytes = Q.add(Q.mul(Q.sub(p.stored, quantised), bytesPerElement(d.weights)), Q.mul(quantised, NF4_DOUBLE_QUANT_BYTES));
  const weights = Q.mul(weightBytes, at(3));
  const gradients = Q.mul(Q.mul(p.trainable, bytesPerElement(d.gradients)), at(2));
  const master = keepsMasterCopy(d.weights, d.master, s.masterWeights) ? Q.mul(p.trainable, bytesPerElement(d.master)) : Q.ZERO;
  const optimizerProfile = findOptimizer(s.optimizer);
  const states = optimizerProfile ? optimizerProfile.stateBytes(p) : Q.ZERO;
  const optimizer = Q.mul(Q.add(master, states), at(1));
  const buffers =
    zero >= 3 ? Q.div(Q.mul(Q.fromBigInt(largestLayer), Q.mul(Q.fromInt(2), bytesPerElement(d.weights))), Q.fromInt(s.parallel.tp)) : Q.ZERO;
  return { weights, gradients, optimizer, buffers };
}
