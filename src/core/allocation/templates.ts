// Per-weight template counts inside one group store, and the windows they read. SSN's rule
// K_ℓ = clamp(⌊P/|W_ℓ|⌋, 1, K_max) is the start; when the windows of all weights together still
// span less than the store (high budgets), templates are added round-robin, largest weights
// first, until every store entry is read: the extra budget becomes extra templates (capacity
// that costs generation MACs in training, nothing at inference).

import type { AllocationItem } from './types.js';

/** Coefficients a weight owns: one per template per copy, none with a single template (SSN). */
export const coefficientsOf = (k: number, copies: number): number => (k >= 2 ? k * copies : 0);

/** Entries the windows span, before capping at the store: Σ copies·K·|W|; a weight larger than the store reads all of it. */
export function windowTotal(items: readonly AllocationItem[], members: readonly number[], k: Int32Array, store: number): number {
  let total = 0;
  for (let j = 0; j < members.length; j++) {
    const it = items[members[j]!]!;
    if (it.numel >= store) return store;
    total += it.copies * k[j]! * it.numel;
    if (total >= store) return store;
  }
  return total;
}

/** Order in which templates are added: largest weights first (fewest templates to cover), then depth order. */
export function growthOrder(items: readonly AllocationItem[], members: readonly number[]): number[] {
  return members.map((_, j) => j).sort((a, b) => items[members[b]!]!.numel - items[members[a]!]!.numel || a - b);
}

/** Template counts for a store of `store` entries, with coverage. */
export function templateCounts(items: readonly AllocationItem[], members: readonly number[], store: number, cap: number): Int32Array {
  const k = new Int32Array(members.length);
  for (let j = 0; j < members.length; j++) {
    const n = items[members[j]!]!.numel;
    k[j] = n > store ? 1 : Math.max(1, Math.min(cap, Math.floor(store / n)));
  }
  let covered = windowTotal(items, members, k, store);
  if (covered >= store) return k;
  const order = growthOrder(items, members);
  // Whole rounds first (each adds every weight's window once), then one weight at a time.
  let round = 0;
  for (const j of order) round += items[members[j]!]!.copies * items[members[j]!]!.numel;
  if (round > 0) {
    const rounds = Math.floor((store - covered) / round);
    if (rounds > 0) {
      for (let j = 0; j < k.length; j++) k[j]! += rounds;
      covered += rounds * round;
    }
  }
  for (let step = 0; covered < store; step++) {
    const j = order[step % order.length]!;
    k[j]!++;
    covered += items[members[j]!]!.copies * items[members[j]!]!.numel;
  }
  return k;
}
