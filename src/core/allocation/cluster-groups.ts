// cluster:K grouping: k-means over layer descriptors, deterministic. A descriptor places a
// weight by its shape (log-sizes of its output and input extents and kernel area), its kind
// (matrix, convolution or table) and its relative depth, so that clusters gather weights that
// can share a store cheaply (similar sizes need no interpolation) and sit near each other.

import type { AllocationItem } from './types.js';

export function descriptor(item: AllocationItem, units: number): number[] {
  const out = item.shape[0] ?? 1;
  const inner = item.shape[1] ?? 1;
  const area = item.shape.slice(2).reduce((p, d) => p * d, 1);
  const depth = units > 1 ? item.unit / (units - 1) : 0;
  return [
    Math.log2(out),
    Math.log2(inner),
    Math.log2(area),
    Math.log2(item.copies),
    item.weightRole === 'conv' ? 1 : 0,
    item.weightRole === 'embedding' || item.weightRole === 'position' ? 1 : 0,
    // Depth weighs as much as a factor 4 in a dimension: shape first, then position.
    2 * depth,
  ];
}

/**
 * k-means (Lloyd) with a deterministic farthest-point initialisation: the first centre is the
 * first point, each next one the point farthest from the chosen centres (earliest on ties).
 * Returns a cluster label per point; labels are renumbered by first appearance, empty clusters dropped.
 */
export function kMeans(points: readonly (readonly number[])[], k: number, iterations = 50): number[] {
  const n = points.length;
  if (n === 0) return [];
  const dim = points[0]!.length;
  const dist = (a: readonly number[], b: readonly number[]): number => {
    let s = 0;
    for (let i = 0; i < dim; i++) {
      const d = a[i]! - b[i]!;
      s += d * d;
    }
    return s;
  };
  // Identical descriptors are one point for the initialisation (k may exceed the distinct count).
  const centres: number[][] = [[...points[0]!]];
  const nearest = points.map((p) => dist(p, centres[0]!));
  while (centres.length < k) {
    let far = -1;
    let farD = 0;
    for (let i = 0; i < n; i++) if (nearest[i]! > farD) (farD = nearest[i]!), (far = i);
    if (far < 0) break;
    centres.push([...points[far]!]);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i]!, dist(points[i]!, centres[centres.length - 1]!));
  }
  const labels = new Array<number>(n).fill(0);
  for (let it = 0; it < iterations; it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < centres.length; c++) {
        const d = dist(points[i]!, centres[c]!);
        if (d < bestD) (bestD = d), (best = c);
      }
      if (labels[i] !== best) (labels[i] = best), (changed = true);
    }
    if (!changed && it > 0) break;
    const sums = centres.map(() => new Array<number>(dim).fill(0));
    const counts = new Array<number>(centres.length).fill(0);
    for (let i = 0; i < n; i++) {
      const l = labels[i]!;
      counts[l]!++;
      for (let d = 0; d < dim; d++) sums[l]![d]! += points[i]![d]!;
    }
    for (let c = 0; c < centres.length; c++) if (counts[c]! > 0) centres[c] = sums[c]!.map((s) => s / counts[c]!);
  }
  const renumber = new Map<number, number>();
  return labels.map((l) => {
    if (!renumber.has(l)) renumber.set(l, renumber.size);
    return renumber.get(l)!;
  });
}
