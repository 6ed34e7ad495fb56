// Element types and their storage sizes (the table is dtype-bits.ts, a leaf). Sizes are kept in
// quarter bits (int4, MXFP4, NVFP4) and byte totals are rounded up only once, at the end of a sum.

import * as Q from '../numbers/rational.js';
import type { DType } from './report-types.js';
import { DTYPE_BITS, DTYPE_NAMES } from './dtype-bits.js';

export { DTYPE_BITS, DTYPE_NAMES };

/** Bytes per element (int4 → 0.5) for display and roofline estimates. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = Object.fromEntries(
  Object.entries(DTYPE_BITS).map(([k, bits]) => [k, bits / 8]),
) as Record<DType, number>;

export function isDType(name: string): name is DType {
  return Object.prototype.hasOwnProperty.call(DTYPE_BITS, name);
}

/** Floating-point types a gradient or optimizer state can be kept in (16 bits and wider). */
export function isTrainingFloat(dtype: DType): boolean {
  return dtype === 'fp32' || dtype === 'tf32' || dtype === 'bf16' || dtype === 'fp16';
}

/**
 * Bytes of several parts, each `count` elements (rounded up to whole elements) of its dtype:
 * parts of one dtype are summed before rounding, so one dtype gives exactly bytesOf(⌈Σ⌉).
 */
export function bytesOfParts(parts: readonly { readonly count: Q.Rational; readonly dtype: DType }[]): bigint {
  const byDtype = new Map<DType, Q.Rational>();
  for (const p of parts) byDtype.set(p.dtype, Q.add(byDtype.get(p.dtype) ?? Q.ZERO, p.count));
  let bytes = 0n;
  for (const [dtype, count] of byDtype) {
    const whole = Q.ceil(count);
    bytes += bytesOf(whole > 0n ? whole : 0n, dtype);
  }
  return bytes;
}

/** Bytes needed to hold `elements` elements of `dtype`, rounded up to a whole byte. */
export function bytesOf(elements: bigint, dtype: DType): bigint {
  const quarterBits = elements * BigInt(Math.round(DTYPE_BITS[dtype] * 4));
  return (quarterBits + 31n) / 32n;
}
