// The NPAS allocator: given the weights of an architecture and a target B of stored parameters,
// maps weights to groups, splits the budget between group stores, chooses each weight's
// generator and template count, and returns a plan whose stored count is exactly B with every
// store entry read. See docs/allocation.md for the procedure and formulas.

import { apportion } from './apportion.js';
import { groupItems } from './grouping.js';
import { referenceUnused } from './reference-ssn.js';
import { coefficientsOf, growthOrder, templateCounts, windowTotal } from './templates.js';
import type { AllocationInput, AllocationItem, AllocationRequest, AllocationResult, Generator, GroupingSpec, GroupPlan, LayerPlan } from './types.js';

interface Group {
  readonly members: number[];
  readonly demand: number;
  /** A one-weight group in the low regime: stored as it is (SSN's un-shared layers). */
  readonly direct: boolean;
}

/** The parameters a model stores as the allocator reads it: each weight as often as it is read, and the fixed ones (the 100% a budget's percentage is of). */
export function storedParamsOf(input: AllocationInput): number {
  return input.fixed + input.items.reduce((s, it) => s + it.numel * it.copies, 0);
}

export function allocate(input: AllocationInput, request: AllocationRequest): AllocationResult {
  const B = request.target;
  if (!Number.isSafeInteger(B) || B <= 0) return { ok: false, message: `the budget must be a positive whole number of parameters, got ${B}` };
  const items = input.items;
  if (items.length === 0) return { ok: false, message: `${input.model} has no matrices, convolutions or tables to generate` };
  const cap = request.method === 'wavg' ? Math.max(1, Math.floor(request.maxTemplates)) : 1;
  const F = input.fixed;
  let D = 0;
  for (const it of items) D += it.numel * it.copies;
  const R = B - F;
  const high = R >= D;

  // 1. Groups.
  let spec: GroupingSpec = request.grouping;
  let reason = 'as requested';
  let shapes: number[][] | undefined;
  if (spec.kind === 'auto') {
    shapes = groupItems(input, { kind: 'shape' }, undefined) as number[][];
    const singles = shapes.filter((g) => g.length === 1).reduce((s, g) => s + demandOf(items, g), 0);
    const sharedShapes = shapes.filter((g) => g.length > 1).length;
    if (high) (spec = { kind: 'shape' }), (reason = 'auto: the budget exceeds the demand, so each shape gets its own store and the surplus becomes templates');
    else if (singles <= R / 2 && singles + sharedShapes <= R) (spec = { kind: 'shape' }), (reason = `auto: shape grouping, whose single-weight groups (${singles} params, stored whole) take at most half of the ${R} left after fixed params`);
    else (spec = { kind: 'all' }), (reason = `auto: one store for all weights, since shape grouping's single-weight groups (${singles} params) would take more than half of the ${R} left after fixed params`);
  }
  const grouped = spec.kind === 'shape' && shapes ? shapes : groupItems(input, spec, request.sketches);
  if (typeof grouped === 'string') return { ok: false, message: grouped };
  const groups: Group[] = grouped.map((members) => ({ members, demand: demandOf(items, members), direct: !high && members.length === 1 }));
  const directTotal = groups.filter((g) => g.direct).reduce((s, g) => s + g.demand, 0);
  const shared = groups.filter((g) => !g.direct);

  // 2. Feasibility: fixed params, single-weight groups whole, one entry per shared store (at
  // one entry every weight reads the whole store with one template, so no coefficients).
  const minimum = high ? F + groups.length : F + directTotal + shared.length;
  if (B < minimum) {
    const parts = [`${F} fixed (norms, biases, routers)`];
    if (directTotal > 0) parts.push(`${directTotal} for single-weight groups stored whole`);
    parts.push(`${shared.length} for ${shared.length === 1 ? 'one store entry' : 'one entry per shared store'}`);
    const hint = spec.kind === 'all' ? '' : `; grouping 'all' (one store) needs only ${F + 1}`;
    return { ok: false, message: `a budget of ${B} is below the minimum of ${minimum} for ${groupingName(spec)} grouping: ${parts.join(' + ')}${hint}`, minimum };
  }

  // 3. Stores and templates. Coefficients are stored params too, so the stores get what the
  // coefficients leave: the template counts are chosen for the stores of a first split, the
  // stores are then split exactly from B − fixed − coefficients, and coverage is restored by
  // turning store entries into templates one coefficient at a time (stored stays B).
  const storeBudget = R - directTotal;
  const split = (total: number): number[] => apportion(total, shared.map((g) => g.demand), true);
  const countsAt = (stores: number[]): Int32Array[] => shared.map((g, i) => templateCounts(items, g.members, stores[i]!, cap));
  const coefficients = (ks: Int32Array[]): number => {
    let c = 0;
    shared.forEach((g, i) => g.members.forEach((m, j) => (c += coefficientsOf(ks[i]![j]!, items[m]!.copies))));
    return c;
  };
  let ks = countsAt(split(storeBudget));
  let c = coefficients(ks);
  if (storeBudget - c >= shared.length) {
    ks = countsAt(split(storeBudget - c));
    c = coefficients(ks);
  }
  if (storeBudget - c < shared.length) {
    // Only when the budget sits near the minimum: one template each, no coefficients.
    ks = shared.map((g) => new Int32Array(g.members.length).fill(1));
    c = 0;
  }
  const stores = split(storeBudget - c);
  for (let i = 0; i < shared.length; i++) stores[i] = cover(items, shared[i]!.members, ks[i]!, stores[i]!);

  // 4. The plan: generators with offsets (windows laid end to end, modulo the store).
  const layers: LayerPlan[] = new Array<LayerPlan>(items.length);
  const groupPlans: GroupPlan[] = [];
  let coefficientTotal = 0;
  let macs = 0;
  let unused = 0;
  let refUnused = 0;
  let sharedIndex = 0;
  groups.forEach((g, gi) => {
    const id = `g${gi}`;
    if (g.direct) {
      const m = g.members[0]!;
      layers[m] = { path: items[m]!.path, group: id, generator: { kind: 'direct', templates: 1, coefficients: 0, offset: 0, reads: g.demand } };
      groupPlans.push({ id, params: g.demand, demand: g.demand, direct: true, layers: g.members, unused: 0, referenceUnused: 0 });
      return;
    }
    const si = sharedIndex++;
    const store = stores[si]!;
    const k = ks[si]!;
    let offset = 0;
    g.members.forEach((m, j) => {
      const it = items[m]!;
      const gen = generator(it, k[j]!, store, offset, request.method);
      layers[m] = { path: it.path, group: id, generator: gen };
      coefficientTotal += gen.coefficients;
      macs += gen.templates * it.numel * it.copies;
      offset = (offset + gen.reads) % store;
    });
    const groupUnused = store - windowTotal(items, g.members, k, store);
    const ref = referenceUnused(items, g.members, store);
    unused += groupUnused;
    refUnused += ref;
    groupPlans.push({ id, params: store, demand: g.demand, direct: false, layers: g.members, unused: groupUnused, referenceUnused: ref });
  });
  const stored = F + groupPlans.reduce((s, g) => s + g.params, 0) + coefficientTotal;
  if (stored !== B) return { ok: false, message: `internal error: the plan stores ${stored} instead of ${B} (please report)` };
  return {
    ok: true,
    plan: {
      model: input.model,
      target: B,
      stored,
      unused,
      referenceUnused: refUnused,
      grouping: spec,
      groupingReason: reason,
      method: request.method,
      regime: high ? 'high' : 'low',
      demand: D,
      fixed: F,
      coefficients: coefficientTotal,
      generationMacs: macs,
      minimum,
      groups: groupPlans,
      layers,
      items,
    },
  };
}

/**
 * Adds templates until the windows span the whole store, paying for each new coefficient with
 * one store entry (so stored does not move). Returns the final store size; `k` is updated.
 */
function cover(items: readonly AllocationItem[], members: readonly number[], k: Int32Array, store: number): number {
  let s = store;
  let covered = windowTotal(items, members, k, s);
  if (covered >= s) return s;
  const order = growthOrder(items, members);
  for (let step = 0; covered < s; step++) {
    const j = order[step % order.length]!;
    const copies = items[members[j]!]!.copies;
    const delta = coefficientsOf(k[j]! + 1, copies) - coefficientsOf(k[j]!, copies);
    if (s - delta < 1) break;
    k[j]!++;
    s -= delta;
    covered = windowTotal(items, members, k, s);
  }
  return s;
}

function generator(it: AllocationItem, k: number, store: number, offset: number, method: AllocationRequest['method']): Generator {
  const coefficients = coefficientsOf(k, it.copies);
  if (it.numel > store) {
    // The store is smaller than one copy: the weight reads all of it, upsampled.
    const kind = method === 'wavg' ? 'interpolate' : method === 'repeat' ? 'tile' : 'hash';
    return { kind, templates: k, coefficients, offset: 0, reads: store };
  }
  const kind = method === 'hash' ? 'hash' : k >= 2 ? 'mix' : 'slice';
  return { kind, templates: k, coefficients, offset, reads: Math.min(store, it.copies * k * it.numel) };
}

function demandOf(items: readonly AllocationItem[], members: readonly number[]): number {
  let d = 0;
  for (const m of members) d += items[m]!.numel * items[m]!.copies;
  return d;
}

export function groupingName(spec: GroupingSpec): string {
  switch (spec.kind) {
    case 'depth':
    case 'cluster':
      return `${spec.kind}:${spec.k}`;
    case 'checkpoint':
      return `checkpoint:${spec.path}`;
    default:
      return spec.kind;
  }
}
