// The dtypes the engine knows and their storage sizes, as a leaf (it imports types only), so the
// extension's settings validation reads the engine's own list without loading the engine.
// int4 is half a byte and the microscaled 4-bit formats carry a shared scale per block (MXFP4:
// one 8-bit E8M0 scale per 32 elements, 4.25 bits per element; NVFP4: one 8-bit E4M3 scale per
// 16, 4.5 bits).

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

/** Every dtype name, in table order (for messages, completions and settings: never a hand-written list). */
export const DTYPE_NAMES: readonly DType[] = Object.keys(DTYPE_BITS) as DType[];
