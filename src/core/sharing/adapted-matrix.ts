// The matrix an adapter sees on a weight. A projection's is its own [d_out, d_in]; a convolution
// kernel [c_out, c_in/groups, k, …] is seen as c_out × (c_in/groups)·k… only by a full-rank delta
// merged into it — TAPS adapts ResNet's convolutions by W + ΔW, one kernel at inference, so the
// delta stores c_out·(c_in/groups)·k… numbers and runs nothing. An unmerged kernel delta would run a
// second convolution per output position, which the per-token adapter FLOPs do not describe, and a
// low-rank adapter on a kernel has no one reading (which axes A and B span), so neither is taken.

import type { WeightSpec } from '../layers/layer-kind.js';
import type { AdapterMethod } from './declarations.js';

/** The [d_out, d_in] view of `w` that `method` adapts, or undefined when it adapts nothing there. */
export function adaptedMatrix(w: WeightSpec, method: AdapterMethod): { readonly dIn: number; readonly dOut: number } | undefined {
  if (w.matmul) return w.matmul;
  if (isKernel(w) && method.kind === 'delta' && method.merged) return { dOut: w.shape[0]!, dIn: w.shape.slice(1).reduce((a, b) => a * b, 1) };
  return undefined;
}

/** Whether `w` is a convolution kernel (a merged delta can adapt it). */
export function isKernel(w: WeightSpec): boolean {
  return w.role === 'conv' && w.shape.length >= 3;
}
