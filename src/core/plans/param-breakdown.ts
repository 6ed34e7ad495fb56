// The parameters a part of the model holds, split the ways a plan needs: what is trained, what
// sits in expert banks (split by expert parallelism), what QLoRA quantises and what the
// optimizers keep state for. Exact rationals, so a stack's store split over stages stays exact.

import * as Q from '../numbers/rational.js';
import type { NodeReport } from '../analysis/report-types.js';

export interface ParamBreakdown {
  /** Params held (a store counted once). */
  readonly stored: Q.Rational;
  readonly trainable: Q.Rational;
  /** Held params of expert banks (weights with several copies: MoE experts). */
  readonly expert: Q.Rational;
  /** Frozen params of matrix weights (matmul, conv, router): what QLoRA stores as NF4. */
  readonly quantisable: Q.Rational;
  /** Trainable params of matrix weights outside embeddings and the output head (Muon's). */
  readonly hiddenMatrix: Q.Rational;
  /** Adafactor's state elements for the trainable params (factored second moment of matrices). */
  readonly factoredState: Q.Rational;
}

export const NO_PARAMS: ParamBreakdown = { stored: Q.ZERO, trainable: Q.ZERO, expert: Q.ZERO, quantisable: Q.ZERO, hiddenMatrix: Q.ZERO, factoredState: Q.ZERO };

export function addBreakdown(a: ParamBreakdown, b: ParamBreakdown): ParamBreakdown {
  return {
    stored: Q.add(a.stored, b.stored),
    trainable: Q.add(a.trainable, b.trainable),
    expert: Q.add(a.expert, b.expert),
    quantisable: Q.add(a.quantisable, b.quantisable),
    hiddenMatrix: Q.add(a.hiddenMatrix, b.hiddenMatrix),
    factoredState: Q.add(a.factoredState, b.factoredState),
  };
}

export function scaleBreakdown(a: ParamBreakdown, k: Q.Rational): ParamBreakdown {
  return {
    stored: Q.mul(a.stored, k),
    trainable: Q.mul(a.trainable, k),
    expert: Q.mul(a.expert, k),
    quantisable: Q.mul(a.quantisable, k),
    hiddenMatrix: Q.mul(a.hiddenMatrix, k),
    factoredState: Q.mul(a.factoredState, k),
  };
}

const MATRIX_ROLES: ReadonlySet<string> = new Set(['matmul', 'conv', 'router']);

/**
 * The breakdown of a report subtree. The leaves (weight nodes) give the proportions; the node's
 * own stored and trainable counts are the totals (they include what leaves do not show: a hashed
 * memory or a bank stored once for the whole model, head-sharing savings). `outputHead` marks the
 * model's last member, whose matrices Muon and QLoRA leave to AdamW and the compute dtype.
 */
export function breakdownOf(node: NodeReport, outputHead: boolean): ParamBreakdown {
  let leafStored = 0n;
  let leafTrainable = 0n;
  let expert = 0n;
  let quantisable = 0n;
  let hiddenMatrix = 0n;
  let factored = Q.ZERO;
  const visit = (n: NodeReport): void => {
    if (n.kind !== 'weight' || !n.weight) {
      for (const c of n.children) visit(c);
      return;
    }
    const { role, shape } = n.weight;
    const p = n.params;
    leafStored += p.stored;
    leafTrainable += p.trainable;
    if (n.count > 1) expert += p.stored;
    const matrix = MATRIX_ROLES.has(role) && shape.length >= 2;
    if (matrix && !outputHead) quantisable += p.stored - p.trainable;
    if (matrix && !outputHead) hiddenMatrix += p.trainable;
    // Adafactor factors the last two dims of a fully trained matrix: rows + cols per slice.
    if (shape.length >= 2 && p.trainable === p.stored && p.stored > 0n) {
      const r = BigInt(shape[shape.length - 2]!);
      const c = BigInt(shape[shape.length - 1]!);
      factored = Q.add(factored, Q.div(Q.fromBigInt(p.stored * (r + c)), Q.fromBigInt(r * c)));
    } else factored = Q.add(factored, Q.fromBigInt(p.trainable));
  };
  visit(node);
  const stored = Q.fromBigInt(node.params.stored);
  const trainable = Q.fromBigInt(node.params.trainable);
  // Scale the leaf proportions to the node's totals (equal for ordinary subtrees).
  const ofStored = (x: bigint): Q.Rational => (leafStored === 0n ? Q.ZERO : Q.div(Q.mul(Q.fromBigInt(x), stored), Q.fromBigInt(leafStored)));
  // Trainable params no leaf shows (a trained global store) count as unfactored, non-matrix.
  const ofTrainable = (x: Q.Rational, unseen: Q.Rational): Q.Rational => (leafTrainable === 0n ? unseen : Q.div(Q.mul(x, trainable), Q.fromBigInt(leafTrainable)));
  return {
    stored,
    trainable,
    expert: ofStored(expert),
    quantisable: ofStored(quantisable),
    hiddenMatrix: ofTrainable(Q.fromBigInt(hiddenMatrix), Q.ZERO),
    factoredState: ofTrainable(factored, trainable),
  };
}
