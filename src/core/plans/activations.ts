// Activation memory of one GPU: what each micro-batch saves for the backward pass, times the
// micro-batches in flight on its pipeline rank. The saved elements per token are the engine's
// (docs/layers.md: no recomputation, flash attention, dropout masks not counted). Korthikanti et
// al. 2022 give the parallel forms: with tensor and sequence parallelism every saved tensor is
// split over tp; selective recomputation drops the attention score terms (5as²b), which flash
// attention never saves, so it equals no recomputation here; full recomputation keeps only each
// layer's input (2sbh in their Table 2) and recomputes the rest.

import * as Q from '../numbers/rational.js';
import type { PipelineRank } from './pipeline-stages.js';
import { microBatchesPerStep, type PlanSettings } from './plan-settings.js';
import { bytesPerElement } from './precision.js';

/** Saved elements per token of one micro-batch on a rank, before the tp/cp split. */
export function savedPerToken(rank: PipelineRank, s: PlanSettings): Q.Rational {
  let perToken = rank.memberActivationPerToken;
  for (const inst of rank.instances) {
    perToken = Q.add(perToken, s.recompute === 'full' ? Q.fromBigInt(inst.inputPerToken) : inst.activationPerToken);
  }
  return perToken;
}

/**
 * Micro-batches whose activations rank r holds at the peak of the schedule. 1F1B: rank r has
 * started p − r forward passes before its first backward (Narayanan et al. 2021), at most the
 * m micro-batches of a step. Interleaved with v virtual stages: Megatron's factor
 * 1 + (p − 1)/(p·v) on top (exact for the first rank, where the peak is).
 */
export function inFlightMicroBatches(rank: number, s: PlanSettings): Q.Rational {
  const { pp, vpp } = s.parallel;
  const m = microBatchesPerStep(s);
  const base = Q.fromInt(Math.min(m, pp - rank));
  if (vpp <= 1) return base;
  return Q.mul(base, Q.add(Q.ONE, Q.div(Q.fromInt(pp - 1), Q.fromInt(pp * vpp))));
}

/**
 * Tokens of one micro-batch on one GPU: b · s / cp; for a model the engine counts per sample (a
 * convolutional network), the b samples themselves.
 */
export function tokensPerMicroBatch(s: PlanSettings, perSample: boolean): Q.Rational {
  return perSample ? Q.fromInt(s.microBatch) : Q.div(Q.fromInt(s.microBatch * s.seq), Q.fromInt(s.parallel.cp));
}

export function activationBytes(rank: PipelineRank, s: PlanSettings, perSample: boolean): Q.Rational {
  const perMicroBatch = Q.mul(Q.mul(savedPerToken(rank, s), tokensPerMicroBatch(s, perSample)), bytesPerElement(s.dtypes.activations));
  return Q.div(Q.mul(perMicroBatch, inFlightMicroBatches(rank.rank, s)), Q.fromInt(s.parallel.tp));
}

/**
 * The loss on the last rank: the logits (activation dtype) and their fp32 log-softmax, split
 * over tp by Megatron's vocabulary-parallel cross-entropy, for one micro-batch (the last rank
 * runs each micro-batch's backward right after its forward).
 */
export function lossBytes(rank: PipelineRank, logitsPerToken: bigint, s: PlanSettings, perSample: boolean): Q.Rational {
  if (!rank.last) return Q.ZERO;
  const perToken = Q.add(bytesPerElement(s.dtypes.activations), Q.fromInt(4));
  return Q.div(Q.mul(Q.mul(Q.fromBigInt(logitsPerToken), tokensPerMicroBatch(s, perSample)), perToken), Q.fromInt(s.parallel.tp));
}
