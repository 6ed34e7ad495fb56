// The "main weight" of a module: the one `tied` refers to (an embedding table, a projection
// matrix, a conv kernel). Biases and norms are never tied implicitly.

import type { WeightSpec } from '../layers/layer-kind.js';
import type { ModuleNode } from './module-tree.js';

export function mainWeight(node: ModuleNode): WeightSpec | undefined {
  if (node.kind !== 'layer') return undefined;
  return node.cost.weights.find((w) => w.copies === 1 && (w.role === 'matmul' || w.role === 'embedding' || w.role === 'conv' || w.role === 'position'));
}

/** Equal shapes, or a 2-D transpose (an embedding table tied to an LM head). */
export function tieCompatible(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  if (a.every((x, i) => x === b[i])) return true;
  return a.length === 2 && a[0] === b[1] && a[1] === b[0];
}
