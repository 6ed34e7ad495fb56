// Bytes per element of each tensor class a plan stores, exact (NF4 with double quantisation is
// not a whole number of bits per weight).

import * as Q from '../numbers/rational.js';
import { DTYPE_BITS } from '../analysis/dtypes.js';
import type { DType } from '../analysis/report-types.js';

export function bytesPerElement(dtype: DType): Q.Rational {
  // Quarter bits: the microscaled 4-bit formats carry 4.25 or 4.5 bits per element.
  return Q.rational(BigInt(Math.round(DTYPE_BITS[dtype] * 4)), 32n);
}

/**
 * QLoRA's NormalFloat4 base weights with double quantisation: 4 bits per weight, one fp8
 * quantisation constant per block of 64 weights, and one fp32 constant per block of 256 of
 * those: 4 + 8/64 + 32/(64·256) = 4.127 bits (Dettmers et al. 2023, §2 "Double Quantization").
 */
export const NF4_DOUBLE_QUANT_BYTES: Q.Rational = Q.div(Q.add(Q.fromInt(4), Q.add(Q.rational(8n, 64n), Q.rational(32n, 64n * 256n))), Q.fromInt(8));

/** Master weights exist when the optimizer keeps a wider copy than the working weights. */
export function keepsMasterCopy(weights: DType, master: DType, masterWeights: boolean): boolean {
  return masterWeights && DTYPE_BITS[master] > DTYPE_BITS[weights];
}
