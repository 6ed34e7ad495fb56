// The dtype a recurrent layer may keep its state in, apart from the analysis dtype (Mamba's
// reference kernels keep the SSM state in fp32 while the weights run in bf16).

import { oneOf, optional } from './arg-specs.js';
import type { ArgSpec } from './layer-kind.js';

const STATE_BITS: Readonly<Record<string, number>> = { fp32: 32, bf16: 16, fp16: 16 };

export const STATE_DTYPE_ARG: ArgSpec = optional(
  'state_dtype',
  oneOf(Object.keys(STATE_BITS)),
  'The dtype of the recurrent state (conv and SSM states). Default: the KV cache dtype (`dtype` unless `kv_dtype` sets it), as Transformers caches it.',
);

/** Bits per state element for a `state_dtype` value; undefined means the analysis dtype. */
export function stateBits(value: string | undefined): number | undefined {
  return value === undefined ? undefined : STATE_BITS[value];
}
