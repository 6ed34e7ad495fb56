// Which experts a batch touches. A routed bank of E copies of which each token uses k reads,
// in one step over B tokens, every copy at least one token chose. If a token chooses copy i with
// probability p_i (Σ p_i = k: it picks k distinct copies), tokens independently, copy i is
// missed by all B tokens with probability (1 − p_i)^B, so the expected number of distinct copies
// read is Σ_i (1 − (1 − p_i)^B) — whatever the correlation between one token's k choices, since
// only each copy's own probability enters. Uniform routing (p_i = k/E) gives
// E · (1 − ((E − k)/E)^B): k at B = 1, approaching E as B grows (Qwen3-30B-A3B, E = 128, k = 8:
// 51.6 at B = 8, 125.9 at B = 64). A skewed load (`hot_experts: h, hot_share: f`) touches fewer:
// the hot experts are read by almost every batch, the cold ones more rarely than uniformly.

import type { RouterLoad } from '../layers/layer-kind.js';
import * as Q from '../numbers/rational.js';

/** Exact up to this batch; beyond it the power is taken in 2^-FIXED_BITS fixed point. */
const EXACT_BATCH_LIMIT = 1024n;
const FIXED_BITS = 256n;

/** `count` copies a token chooses each with probability `p`. */
export interface CopyClass {
  readonly count: number;
  readonly p: Q.Rational;
}

/**
 * The probability that one token's selection of `active` of `copies` includes each copy. Uniform:
 * k/E each. Under a load of h hot copies taking the fraction f of the selections: k·f/h for a hot
 * copy and k·(1 − f)/(E − h) for a cold one — except that a token picks a copy at most once, so
 * a class whose share would pass 1 per token is chosen by every token (probability 1) and the
 * other class takes the remaining k − (its count) selections.
 */
export function selectionProbabilities(copies: number, active: number, load?: RouterLoad): readonly CopyClass[] {
  const E = copies;
  const k = Q.fromInt(active);
  if (!load || load.hot <= 0 || load.hot >= E) return [{ count: E, p: Q.rational(BigInt(active), BigInt(E)) }];
  const h = load.hot;
  const f = Q.rational(BigInt(load.share.num), BigInt(load.share.den));
  let hot = Q.div(Q.mul(k, f), Q.fromInt(h));
  let cold = Q.div(Q.mul(k, Q.sub(Q.ONE, f)), Q.fromInt(E - h));
  if (Q.compare(hot, Q.ONE) > 0) {
    hot = Q.ONE;
    cold = Q.rational(BigInt(active - h), BigInt(E - h));
  } else if (Q.compare(cold, Q.ONE) > 0) {
    cold = Q.ONE;
    hot = Q.rational(BigInt(active - (E - h)), BigInt(h));
  }
  return [
    { count: h, p: hot },
    { count: E - h, p: cold },
  ];
}

/** Σ count · (1 − (1 − p)^tokens) over the classes: the expected distinct copies `tokens` tokens read. */
export function expectedDistinctOf(classes: readonly CopyClass[], tokens: bigint): Q.Rational {
  let sum = Q.ZERO;
  if (tokens <= 0n) return sum;
  for (const c of classes) sum = Q.add(sum, Q.mul(Q.fromInt(c.count), Q.sub(Q.ONE, missedByAll(Q.sub(Q.ONE, c.p), tokens))));
  return sum;
}

/** E · (1 − ((E − k)/E)^B) under uniform routing (or Σ over a load's classes): the expected distinct copies `tokens` tokens read. */
export function expectedDistinct(copies: number, active: number, tokens: bigint, load?: RouterLoad): Q.Rational {
  if (tokens <= 0n || active <= 0) return Q.ZERO;
  if (active >= copies) return Q.fromInt(copies);
  return expectedDistinctOf(selectionProbabilities(copies, active, load), tokens);
}

/** miss^tokens for a probability `miss` in [0, 1]: exact up to EXACT_BATCH_LIMIT tokens. */
function missedByAll(miss: Q.Rational, tokens: bigint): Q.Rational {
  if (miss.num === 0n) return Q.ZERO;
  if (tokens <= EXACT_BATCH_LIMIT) return Q.pow(miss, tokens);
  // A batch too large for an exact power (its numerator grows by log2 of the denominator per
  // token): square-and-multiply in fixed point, truncating each product; the result is within
  // tokens · 2^-256 of the exact value per copy, far below anything a byte count can show.
  const one = 1n << FIXED_BITS;
  let result = one;
  let b = (miss.num << FIXED_BITS) / miss.den;
  let n = tokens;
  while (n > 0n && (b > 0n || result > 0n)) {
    if (n & 1n) result = (result * b) >> FIXED_BITS;
    b = (b * b) >> FIXED_BITS;
    n >>= 1n;
  }
  return Q.rational(result, one);
}
