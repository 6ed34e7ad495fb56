// Element types and their storage sizes. int4 is half a byte and the microscaled 4-bit formats
// carry a shared scale per block (MXFP4: one 8-bit E8M0 scale per 32 elements, 4.25 bits per
// element; NVFP4: one 8-bit E4M3 scale per 16, 4.5 bits), so sizes are kept in quarter bits
// and byte totals are rounded up only once, at the end of a sum.

import * as Q from '../numbers/rational.js';
import type { DType } from './report-types.js';

/** Bits per element of each dtype (block scales of the microscaled formats included). */
export const DTYPE_BITS: Readonly<Record<DType, number>> = {
  fp32: 32,
  tf32: 32,
  bf16: 16,
  fp16: 16,
  fp8: 8,
  int8: 8,
  int4: 4,
  mxfp4: 4.25,
  nvfp4: 4.5,
};

/** Bytes per element (int4 → 0.5) for display and roofline estimates. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = Object.fromEntries(
  Object.entries(DTYPE_BITS).map(([k, bits]) => [k, bits / 8]),
) as Record<DType, number>;

/** Every dtype name, in table order (for messages and completions: never a hand-written list). */
export const DTYPE_NAMES: readonly DType[] = Object.keys(DTYPE_BITS) as DType[];

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
