// `precision weights: bf16, experts: mxfp4, kv: fp8` as a statement scheme: its keyword, hover
// and completion snippet (its classes and dtypes are completed by completion-context.ts's
// precision sites, from precision.ts and dtypes.ts). It changes no count: model-precision.ts
// reads it for the metrics, so resolving it as sharing records nothing, and an allocation may
// stand beside it.

import type { SharingScheme } from '../sharing/scheme.js';

export const precisionScheme: SharingScheme = {
  keyword: 'precision',
  snippet: 'precision ${1:experts}: ${2:mxfp4}',
  summary: 'The dtypes this model stores and runs in, per tensor class (weights, experts, kv, activations, compute, gradients, master, optimizer).',
  hover:
    '`precision weights: bf16, experts: mxfp4, kv: fp8`: the dtypes of this model\'s tensor classes (weights, experts, kv, activations, compute, gradients, master or none, optimizer) — its storage format, over the analysis settings\' `dtype`; a class set in the settings (`--experts-dtype`, a budget\'s `experts_dtype`) still wins.',
  methods: [],
  order: 2,
  keepsStores: true,
  resolve() {
    // Read for the metrics by analysis/model-precision.ts.
  },
};
