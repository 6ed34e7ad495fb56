// Which weights a generating modifier (`hash`, `bank`, `dict`, `factorize`) builds from its
// stored tensors instead of storing them: one rule, read by the counting (analysis/layer-totals.ts)
// and by the exporter's generators (kernels/generated/resolve.ts), so the two cannot drift.

import type { WeightSpec } from '../layers/layer-kind.js';
import type { ModifierEffect } from './declarations.js';
import { factorShape } from './factorization.js';

/** The modifier kinds that generate weights. */
export type GeneratingEffect = Extract<ModifierEffect, { readonly kind: 'hash' | 'bank' | 'dict' | 'factorize' }>;

/**
 * Whether `effect` generates weight `w`: hashing every matrix (matmul or convolution), an SSN
 * bank every matrix and, when fixed (an allocator's plan), embedding and position tables too, a
 * MASA dictionary every matmul, a factorisation every weight it has a factor shape for. False for
 * the kinds that generate nothing.
 */
export function generatesWeight(effect: ModifierEffect, w: WeightSpec): effect is GeneratingEffect {
  const matrix = w.role === 'matmul' || w.role === 'conv';
  switch (effect.kind) {
    case 'hash':
      return matrix;
    case 'bank':
      return matrix || (effect.fixed && (w.role === 'embedding' || w.role === 'position'));
    case 'dict':
      return w.role === 'matmul';
    case 'factorize':
      return factorShape(effect.method, w) !== undefined;
    default:
      return false;
  }
}
