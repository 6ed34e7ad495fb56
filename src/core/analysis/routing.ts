// Which experts a batch touches. A routed bank of E copies of which each token uses k reads,
// in one step over B tokens, every copy at least one token chose. With uniform routing (each
// token's k experts a uniformly random k-subset, tokens independent), a given expert is missed
// by one token with probability (E − k)/E, by all B with ((E − k)/E)^B, so the expected number
// of distinct experts read is E · (1 − ((E − k)/E)^B): k at B = 1, approaching E as B grows.
// (Qwen3-30B-A3B, E = 128, k = 8: 51.6 at B = 8, 125.9 at B = 64.)

import * as Q from '../numbers/rational.js';

/** Exact up to this batch; beyond it the power is taken in 2^-FIXED_BITS fixed point. */
const EXACT_BATCH_LIMIT = 1024n;
const FIXED_BITS = 256n;

/** E · (1 − ((E − k)/E)^B): the expected distinct copies `tokens` tokens read. */
export function expectedDistinct(copies: number, active: number, tokens: bigint): Q.Rational {
  const E = BigInt(copies);
  const k = BigInt(active);
  if (tokens <= 0n || k <= 0n) return Q.ZERO;
  if (k >= E) return Q.fromBigInt(E);
  if (tokens <= EXACT_BATCH_LIMIT) return Q.mul(Q.fromBigInt(E), Q.sub(Q.ONE, Q.pow(Q.rational(E - k, E), tokens)));
  // A batch too large for an exact power (its numerator grows by log2(E) bits per token):
  // square-and-multiply in fixed point, truncating each product; the result is within
  // E · tokens · 2^-256 of the exact value, far below anything a byte count can show.
  const one = 1n << FIXED_BITS;
  const base = ((E - k) << FIXED_BITS) / E;
  let result = one;
  let b = base;
  let n = tokens;
  while (n > 0n && (b > 0n || result > 0n)) {
    if (n & 1n) result = (result * b) >> FIXED_BITS;
    b = (b * b) >> FIXED_BITS;
    n >>= 1n;
  }
  return Q.rational(E * (one - result), one);
}
