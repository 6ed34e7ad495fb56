// checkpoint:PATH grouping: weights whose trained values are alike share a store. Within each
// shape, a weight joins the first group whose first member's sketch has cosine similarity ≥ 0.5
// with its own (leader clustering, deterministic in depth order); weights alike to no other
// weight of their shape form one residual group per shape, so they still share as `shape`
// grouping would. This is how head-wise sharing, FoldGPT and Relaxed Recursive initialisation
// choose what to tie: by similarity of the trained weights.

import type { AllocationItem } from './types.js';
import { appendAll } from '../collections/append-all.js';

export const SIMILARITY_THRESHOLD = 0.5;

/** Checkpoint tensor names an item may have: its path, or the PyTorch spelling `body.3.attn.q`. */
export function checkpointNames(item: AllocationItem): string[] {
  const dotted = item.path.replace(/\[(\d+)\]/g, '.$1');
  return dotted === item.path ? [item.path] : [item.path, dotted];
}

export function cosine(a: Float64Array, b: Float64Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Groups of item indices; `sketches` is keyed by item path. */
export function checkpointGroups(items: readonly AllocationItem[], sketches: ReadonlyMap<string, Float64Array>): number[][] | string {
  const clusters: { shape: string; leader: Float64Array; members: number[] }[] = [];
  const residual = new Map<string, number[]>();
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const s = sketches.get(it.path);
    if (!s) return `the checkpoint has no tensor for '${it.path}' (looked for ${checkpointNames(it).join(' or ')})`;
    const shape = `${it.copies}:${it.shape.join('x')}`;
    const home = clusters.find((c) => c.shape === shape && cosine(c.leader, s) >= SIMILARITY_THRESHOLD);
    if (home) home.members.push(i);
    else clusters.push({ shape, leader: s, members: [i] });
  }
  const groups: number[][] = [];
  for (const c of clusters) {
    if (c.members.length > 1) groups.push(c.members);
    else {
      const list = residual.get(c.shape) ?? [];
      list.push(c.members[0]!);
      residual.set(c.shape, list);
    }
  }
  appendAll(groups, residual.values());
  // Depth order of first members keeps group ids stable and readable.
  return groups.map((g) => g.sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!);
}
