// Lists the weights the allocator generates: every matmul, convolution, embedding and position
// table of every layer instance, in forward (depth) order, with its path. Norms, biases and
// routers are counted as fixed stored params. A weight tied to another (`tied x`) is not
// stored on its own, so it is neither generated nor counted: which top-level members are tied is
// the store resolver's answer (`tiedMains`; a block member's tie to a sibling, `memberTie`), the
// paths its `pathText`.

import { mainWeight } from '../model/main-weight.js';
import type { ModelMember, ModuleNode } from '../model/module-tree.js';
import type { Modifier, PatternStep } from '../sharing/declarations.js';
import { isIndexable } from '../sharing/indexable-stack.js';
import { memberTie, pathText, tiedMains } from '../sharing/store-resolver.js';
import { GENERATED_ROLES, type AllocationInput, type AllocationItem } from './types.js';

/** Above this many generated weight instances the per-instance plan is refused (memory, output size). */
export const MAX_ITEMS = 1_000_000;

interface Relative {
  readonly steps: readonly PatternStep[];
  readonly role: string;
  readonly weightRole: string;
  readonly shape: readonly number[];
  readonly numel: number;
  readonly copies: number;
}

/** Items and fixed params of a model's members under its resolved modifiers (its ties), or a refusal message. */
export function layerItems(model: string, members: readonly ModelMember[], modifiers: readonly Modifier[]): AllocationInput | string {
  const tied = tiedMains(modifiers);
  const memo = new Map<string, { items: Relative[]; fixed: number }>();
  const items: AllocationItem[] = [];
  let fixed = 0;
  let unit = 0;
  for (const m of members) {
    const head: PatternStep = { kind: 'name', name: m.name };
    if (m.node.kind === 'stack') {
      if (!isIndexable(m.node)) return `the allocator plans per instance and ${model}'s ${m.name} holds ${m.node.length} instances, more than 2^53 − 1`;
      const length = Number(m.node.length);
      let index = 0;
      for (const run of m.node.runs) {
        const rel = relativeItems(run.node, false, memo);
        const count = Number(run.count);
        if (rel.items.length === 0) {
          // Nothing to plan per instance: the run's fixed params at once, not one loop step each.
          fixed += rel.fixed * count;
          index += count;
          unit += count;
          continue;
        }
        for (let k = 0; k < count; k++, index++, unit++) {
          fixed += rel.fixed;
          for (const r of rel.items) {
            if (items.length >= MAX_ITEMS) return `the allocator plans per weight instance and ${model} has more than ${MAX_ITEMS} generated weights`;
            items.push(makeItem([head, { kind: 'index', index }, ...r.steps], r, unit, index, length));
          }
        }
      }
    } else {
      const rel = relativeItems(m.node, tied.has(m.name), memo);
      fixed += rel.fixed;
      for (const r of rel.items) items.push(makeItem([head, ...r.steps], r, unit, -1, 0));
      unit++;
    }
  }
  let demand = 0;
  for (const it of items) demand += it.numel * it.copies;
  if (!Number.isSafeInteger(demand + fixed)) return `${model} is too large for the allocator (more than 2^53 parameters)`;
  return { model, items, fixed, units: unit };
}

function makeItem(steps: readonly PatternStep[], r: Relative, unit: number, fanIndex: number, fanLength: number): AllocationItem {
  const path = pathText(steps);
  const firstIndex = steps.findIndex((s) => s.kind === 'index');
  const fanPath = firstIndex >= 0 ? pathText(steps.filter((_, i) => i !== firstIndex)) : undefined;
  let fi = fanIndex;
  let fl = fanLength;
  if (firstIndex >= 0 && fi < 0) {
    // An index below the top level (a stack inside a block): not compressed.
    fi = -1;
    fl = 0;
  }
  return { path, steps, fanPath: fi >= 0 ? fanPath : undefined, fanIndex: fi, fanLength: fl, role: r.role, weightRole: r.weightRole, shape: r.shape, numel: r.numel, copies: r.copies, unit };
}

/** The generated weights under a node, relative to it; memoised by structure and tie. */
function relativeItems(node: ModuleNode, tiedMain: boolean, memo: Map<string, { items: Relative[]; fixed: number }>): { items: Relative[]; fixed: number } {
  const key = `${node.id}:${tiedMain ? 1 : 0}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const items: Relative[] = [];
  let fixed = 0;
  if (node.kind === 'layer') {
    const main = tiedMain ? mainWeight(node) : undefined;
    for (const w of node.cost.weights) {
      if (w === main) continue;
      const numel = w.shape.reduce((p, d) => p * d, 1);
      // An empty weight has nothing to generate (and would read no store entry).
      if (numel === 0 || w.copies === 0) continue;
      if (GENERATED_ROLES.has(w.role)) {
        items.push({ steps: [{ kind: 'name', name: w.name }], role: `${node.layerKind}.${w.name}`, weightRole: w.role, shape: w.shape, numel, copies: w.copies });
      } else fixed += numel * w.copies;
    }
  } else if (node.kind === 'block') {
    for (const m of node.members) {
      const rel = relativeItems(m.node, memberTie(m) !== undefined, memo);
      fixed += rel.fixed;
      for (const r of rel.items) items.push({ ...r, steps: [{ kind: 'name', name: m.name }, ...r.steps] });
    }
  } else {
    let index = 0;
    for (const run of node.runs) {
      const rel = relativeItems(run.node, false, memo);
      if (rel.items.length === 0) {
        // Nothing to plan per instance (and a run may pass 2⁵³ instances): its fixed params at once.
        fixed += rel.fixed * Number(run.count);
        index += Number(run.count);
        continue;
      }
      // More items than the allocator plans is refused by the caller; stop building them there.
      for (let k = 0; k < run.count && items.length <= MAX_ITEMS; k++, index++) {
        fixed += rel.fixed;
        for (const r of rel.items) items.push({ ...r, steps: [{ kind: 'index', index }, ...r.steps] });
      }
    }
  }
  const out = { items, fixed };
  memo.set(key, out);
  return out;
}
