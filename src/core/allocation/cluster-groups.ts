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
    // Depth weighs as much as a factor 4 in a dimension: shape first, then position. It is
    // quantised to 1/64 so that a deep stack has few distinct points (k-means runs on those).
    (2 * Math.round(depth * 64)) / 64,
  ];
}

/**
 * k-means (Lloyd) with a deterministic farthest-point initialisation: the first centre is the
 * first point, each next one the point farthest from the chosen centres (earliest on ties).
 * Returns a cluster label per point; labels are renumbered by first appearance, empty clusters dropped.
 * Points and centres live in flat typed arrays: a 1,000-layer model has 6,000 points.
 */
export function kMeans(allPoints: readonly (readonly number[])[], k: number, iterations = 50): number[] {
  if (allPoints.length === 0) return [];
  // Equal points always share a label: cluster the distinct ones, each weighted by its count.
  const index = new Map<string, number>();
  const points: (readonly number[])[] = [];
  const weights: number[] = [];
  const of = allPoints.map((p) => {
    const key = p.join(',');
    let u = index.get(key);
    if (u === undefined) {
      u = points.length;
      index.set(key, u);
      points.push(p);
      weights.push(0);
    }
    weights[u]!++;
    return u;
  });
  const n = points.length;
  const dim = points[0]!.length;
  const xs = new Float64Array(n * dim);
  points.forEach((p, i) => xs.set(p, i * dim));
  const dist = (i: number, cs: Float64Array, c: number): number => {
    let s = 0;
    for (let d = 0, a = i * dim, b = c * dim; d < dim; d++) {
      const v = xs[a + d]! - cs[b + d]!;
      s += v * v;
    }
    return s;
  };
  // Identical descriptors count once for the initialisation (k may exceed the distinct count).
  let centres = new Float64Array(k * dim);
  centres.set(xs.subarray(0, dim), 0);
  let count = 1;
  const nearest = new Float64Array(n);
  for (let i = 0; i < n; i++) nearest[i] = dist(i, centres, 0);
  while (count < k) {
    let far = -1;
    let farD = 0;
    for (let i = 0; i < n; i++) if (nearest[i]! > farD) (farD = nearest[i]!), (far = i);
    if (far < 0) break;
    centres.set(xs.subarray(far * dim, far * dim + dim), count * dim);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i]!, dist(i, centres, count));
    count++;
  }
  centres = centres.slice(0, count * dim);
  const labels = new Int32Array(n).fill(-1);
  const sums = new Float64Array(count * dim);
  const counts = new Int32Array(count);
  for (let it = 0; it < iterations; it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < count; c++) {
        const d = dist(i, centres, c);
        if (d < bestD) (bestD = d), (best = c);
      }
      if (labels[i] !== best) (labels[i] = best), (changed = true);
    }
    if (!changed) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const l = labels[i]!;
      const w = weights[i]!;
      counts[l]! += w;
      for (let d = 0; d < dim; d++) sums[l * dim + d]! += w * xs[i * dim + d]!;
    }
    for (let c = 0; c < count; c++) if (counts[c]! > 0) for (let d = 0; d < dim; d++) centres[c * dim + d] = sums[c * dim + d]! / counts[c]!;
  }
  const renumber = new Map<number, number>();
  return of.map((u) => {
    const l = labels[u]!;
    if (!renumber.has(l)) renumber.set(l, renumber.size);
    return renumber.get(l)!;
  });
}
