// Element types and their storage sizes. int4 is half a byte, so sizes are kept as
// bits and byte totals are rounded up only once, at the end of a sum.

import type { DType } from './report-types.js';

/** Bits per element of each dtype. */
export const DTYPE_BITS: Readonly<Record<DType, number>> = {
  fp32: 32,
  tf32: 32,
  bf16: 16,
  fp16: 16,
  fp8: 8,
  int8: 8,
  int4: 4,
};

/** Bytes per element (int4 → 0.5) for display and roofline estimates. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  fp32: 4,
  tf32: 4,
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int8: 1,
  int4: 0.5,
};

/** Every dtype name, in table order (for messages and completions: never a hand-written list). */
export const DTYPE_NAMES: readonly DType[] = Object.keys(DTYPE_BITS) as DType[];

export function isDType(name: string): name is DType {
  return Object.prototype.hasOwnProperty.call(DTYPE_BITS, name);
}

/** Bytes needed to hold `elements` elements of `dtype`, rounded up to a whole byte. */
export function bytesOf(elements: bigint, dtype: DType): bigint {
  const bits = elements * BigInt(DTYPE_BITS[dtype]);
  return (bits + 7n) / 8n;
}
