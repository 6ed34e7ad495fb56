// Maps generated weights to parameter groups (SSN's first step). Each rule returns groups of
// item indices in depth order; `auto` is decided in allocate.ts because it depends on the budget.

import { checkpointGroups } from './checkpoint-groups.js';
import { descriptor, kMeans } from './cluster-groups.js';
import { balancedRuns } from './depth-groups.js';
import type { AllocationInput, GroupingSpec } from './types.js';

/** Groups of item indices, or a refusal message. */
export function groupItems(input: AllocationInput, spec: GroupingSpec, sketches: ReadonlyMap<string, Float64Array> | undefined): number[][] | string {
  const items = input.items;
  switch (spec.kind) {
    case 'auto':
    case 'all':
      return [items.map((_, i) => i)];
    case 'shape':
      return byKey(items.length, (i) => `${items[i]!.shape.join('x')}`);
    case 'role':
      return byKey(items.length, (i) => items[i]!.role);
    case 'depth': {
      if (spec.k < 1) return 'depth:K needs K ≥ 1';
      const demands = new Array<number>(input.units).fill(0);
      for (const it of items) demands[it.unit]! += it.numel * it.copies;
      // Units without generated weights would make empty groups: split only units that have some.
      const used = demands.map((d, u) => (d > 0 ? u : -1)).filter((u) => u >= 0);
      const starts = balancedRuns(used.map((u) => demands[u]!), spec.k);
      const groupOfUnit = new Map<number, number>();
      for (let g = 0; g < starts.length; g++) {
        const end = g + 1 < starts.length ? starts[g + 1]! : used.length;
        for (let j = starts[g]!; j < end; j++) groupOfUnit.set(used[j]!, g);
      }
      return byKey(items.length, (i) => String(groupOfUnit.get(items[i]!.unit)));
    }
    case 'cluster': {
      if (spec.k < 1) return 'cluster:K needs K ≥ 1';
      const labels = kMeans(items.map((it) => descriptor(it, input.units)), spec.k);
      return byKey(items.length, (i) => String(labels[i]));
    }
    case 'checkpoint':
      if (!sketches) return 'checkpoint grouping needs the checkpoint to be read first (npas allocate --groups checkpoint:PATH)';
      return checkpointGroups(items, sketches);
  }
}

/** Groups by a key, in order of first appearance. */
function byKey(n: number, key: (i: number) => string): number[][] {
  const map = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const k = key(i);
    const list = map.get(k);
    if (list) list.push(i);
    else map.set(k, [i]);
  }
  return [...map.values()];
}
