// The element type of every class of tensor at given settings. `dtype` is the shorthand for
// weights, KV cache and activations; routed experts follow the weights unless set apart (MXFP4
// experts beside bf16 attention); the training classes follow rules of their own, because
// a quantised storage type is not a type anyone trains in:
// - gradients are kept in the activations' type when that is a 16- or 32-bit float, else bf16;
// - mixed precision keeps an fp32 master copy of the trainable weights unless the weights are
//   already 32-bit;
// - Adam's two moments are fp32;
// - matmuls run in the activations' type (W4A16 computes in bf16, at the bf16 peak).

import { isDType, isTrainingFloat, DTYPE_BITS } from './dtypes.js';
import type { AnalysisOptions, Precision } from './report-types.js';

export function resolvePrecision(options: Pick<AnalysisOptions, 'dtype' | 'precision'>): Precision {
  const p = options.precision ?? {};
  const weights = p.weights ?? options.dtype;
  const activations = p.activations ?? options.dtype;
  return {
    weights,
    experts: p.experts ?? weights,
    kv: p.kv ?? options.dtype,
    activations,
    compute: p.compute ?? activations,
    gradients: p.gradients ?? (isTrainingFloat(activations) ? activations : 'bf16'),
    master: p.master ?? (DTYPE_BITS[weights] >= 32 ? 'none' : 'fp32'),
    optimizer: p.optimizer ?? 'fp32',
  };
}

/** The precision classes, in the order messages and documentation list them. */
export const PRECISION_CLASSES: readonly (keyof Precision)[] = ['weights', 'experts', 'kv', 'activations', 'compute', 'gradients', 'master', 'optimizer'];

/** What each class holds, for hovers and completion. */
export const PRECISION_CLASS_DOCS: Readonly<Record<keyof Precision, string>> = {
  weights: 'Stored weights (default: the `dtype` setting).',
  experts: 'The weight matrices of routed experts (MoE banks; default: the weights\').',
  kv: 'The KV cache and recurrent state (default: the `dtype` setting).',
  activations: 'Activations saved for backward (default: the `dtype` setting).',
  compute: 'The type matmuls run in: picks the device peak (default: the activations\').',
  gradients: 'Gradients of the trainable weights (default: the activations\' when a 16/32-bit float, else bf16).',
  master: 'The fp32 master copy of mixed-precision training, or none (default: fp32 unless the weights are 32-bit).',
  optimizer: 'Each of Adam\'s two moments (default: fp32).',
};

/**
 * The classes a set of per-class settings sets (the editor's `npas.analysis.<class>Dtype`): a
 * dtype name sets its class, `none` the master copy; anything else (`default`, absent, a bad
 * value the caller already reported) sets nothing.
 */
export function precisionFromSettings(values: Partial<Record<keyof Precision, string | undefined>>): Partial<Precision> {
  const out: { -readonly [K in keyof Precision]?: Precision[K] } = {};
  for (const c of PRECISION_CLASSES) {
    const v = values[c];
    if (v === undefined) continue;
    if (c === 'master' && v === 'none') out.master = 'none';
    else if (isDType(v)) out[c] = v;
  }
  return out;
}
