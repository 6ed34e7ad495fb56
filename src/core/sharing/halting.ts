// Per-token halting on a recurrent stack (`route STACK: halt(…)`): the Universal Transformer's
// ACT (Dehghani et al. 2019) and the Sparse Universal Transformer's stick-breaking halting (Tan et
// al. 2023). Each token runs the stack's steps until a halting unit stops it, so compute and the
// KV cache follow the expected depth while the stored weights do not change. Resolved into the
// same `route` stack strategy as Mixture-of-Recursions: step r of T keeps the fraction c_r of the
// tokens that reach it, and the walk scales the instances of step r by c_r; the routers are
// replaced by one halting unit shared by every step.
//
// The depth distribution is given either as the probabilities of reaching each step,
// `reach: [1, c_1, …, c_{T−1}]`, or as an expected depth D: then every token runs ⌊D⌋ steps and
// the fraction D − ⌊D⌋ one more, c_r = clamp(D − r, 0, 1) — the distribution with mean D that
// spreads least, and the one whose costs are exactly those of D steps (Σ c_r = D).

import * as Q from '../numbers/rational.js';
import type { HaltingUnit } from './declarations.js';
import type { SchemeArg } from './scheme.js';
import type { StatementArgValue } from './statement-args.js';

export const HALT_ARGS: readonly SchemeArg[] = [
  { name: 'expected_depth', type: 'ratio', required: false, doc: 'Expected steps per token D in [1, steps]: ⌊D⌋ steps for every token, one more for the fraction D − ⌊D⌋.' },
  { name: 'reach', type: 'ratio-list', required: false, doc: 'Probability of reaching each step, [1, c₁, …]: non-increasing, starting at 1 (instead of expected_depth).' },
  { name: 'steps', type: 'int', required: false, min: 1, doc: 'Steps T the stack\'s instances form (instance i is in step ⌊i·T/N⌋). Default: one per instance.' },
  { name: 'hidden', type: 'int', required: false, min: 1, doc: 'Hidden width of an MLP halting unit (Linear(w, hidden) with bias, an activation, then the outputs; SUT: d). Default: a linear unit.' },
  { name: 'outputs', type: 'int', required: false, min: 1, max: 2, doc: 'Logits of the halting unit: 1 (ACT\'s sigmoid, default) or 2 (SUT\'s stick-breaking softmax).' },
  { name: 'out_bias', type: 'bool', required: false, values: ['true', 'false'], doc: 'A bias on the unit\'s output logits (default true; SUT: false).' },
  { name: 'width', type: 'int', required: false, min: 1, doc: 'Input width of the halting unit (default: the stack\'s first matrix input width).' },
];

/** Stored and multiply-add weights of a halting unit reading width w. */
export function haltingUnitSize(width: number, hidden: number | undefined, outputs: number, outBias: boolean): { params: bigint; matmulParams: bigint } {
  const w = BigInt(width);
  const o = BigInt(outputs);
  const matmulParams = hidden === undefined ? w * o : w * BigInt(hidden) + BigInt(hidden) * o;
  const biases = (hidden === undefined ? 0n : BigInt(hidden)) + (outBias ? o : 0n);
  return { params: matmulParams + biases, matmulParams };
}

/**
 * The per-step reach probabilities c_0 … c_{T−1} from the statement's arguments, or a message
 * saying what is wrong (the caller locates it).
 */
export function haltReach(args: ReadonlyMap<string, StatementArgValue>, steps: number): readonly Q.Rational[] | string {
  const expected = args.get('expected_depth') as Q.Rational | undefined;
  const reach = args.get('reach') as readonly Q.Rational[] | undefined;
  if ((expected === undefined) === (reach === undefined)) return 'halt() takes expected_depth: D or reach: [1, …], one of them';
  if (reach) {
    if (reach.length !== steps) return `reach needs ${steps} probabilities, one per step, got ${reach.length}`;
    if (Q.compare(reach[0]!, Q.ONE) !== 0) return 'reach starts at 1: every token runs the first step';
    for (let r = 1; r < reach.length; r++) {
      if (Q.compare(reach[r]!, Q.ZERO) < 0 || Q.compare(reach[r]!, reach[r - 1]!) > 0) return 'reach must be non-increasing probabilities in [0, 1]';
    }
    return reach;
  }
  const D = expected!;
  if (Q.compare(D, Q.ONE) < 0 || Q.compare(D, Q.fromInt(steps)) > 0) return `expected_depth must lie in [1, ${steps}] (the steps), got ${Q.toDecimalString(D)}`;
  return Array.from({ length: steps }, (_, r) => {
    const left = Q.sub(D, Q.fromInt(r));
    return Q.compare(left, Q.ONE) >= 0 ? Q.ONE : Q.compare(left, Q.ZERO) <= 0 ? Q.ZERO : left;
  });
}

/** The halting unit a `halt()` call declares, at the expected depth its reach gives. */
export function haltingUnit(args: ReadonlyMap<string, StatementArgValue>, width: number, reach: readonly Q.Rational[]): HaltingUnit {
  const hidden = args.get('hidden') as number | undefined;
  const outputs = (args.get('outputs') as number | undefined) ?? 1;
  const outBias = (args.get('out_bias') as boolean | undefined) ?? true;
  const size = haltingUnitSize(width, hidden, outputs, outBias);
  return { ...size, width, hidden, outputs, outBias, expectedDepth: reach.reduce((s, c) => Q.add(s, c), Q.ZERO) };
}
