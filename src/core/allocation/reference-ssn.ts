// How the SSN reference code (BryanPlummer/SSN, models/param_bank.py) would lay out the same
// store, to report what it leaves unread. Its rule: K_ℓ = clamp(⌊P/|W|⌋, 1, 8); a weight that
// needs more than the store is shrunk (`inter`: dims 0 and 1 scaled by p = 0.95, 0.90, … until
// K·|s'| ≤ P) and reads the first K·|s'| entries; weights with the same slice size take
// successive K·|s'| blocks, wrapping to 0 when a block would run past the end. Slice-size
// classes are taken to start at offset 0 (the code staggers them by a rule not read here), so
// for one-shape groups this is exact and for mixed groups it may overstate what is unread.

import type { AllocationItem } from './types.js';

export const REFERENCE_MAX_TEMPLATES = 8;

function sliceSize(item: AllocationItem, store: number): number {
  const k = Math.max(1, Math.min(REFERENCE_MAX_TEMPLATES, Math.floor(store / item.numel)));
  if (k * item.numel <= store) return k * item.numel;
  const out = item.shape[0] ?? 1;
  const inner = item.shape[1] ?? 1;
  const rest = item.numel / (out * inner);
  for (let p = 0.95; p > 0; p -= 0.05) {
    const s = Math.max(1, Math.round(p * out)) * Math.max(1, Math.round(p * inner)) * rest;
    if (s <= store) return s;
  }
  return Math.min(store, rest);
}

/** Entries of a store of size `store` the reference layout never reads. */
export function referenceUnused(items: readonly AllocationItem[], members: readonly number[], store: number): number {
  const classes = new Map<number, number>();
  for (const i of members) {
    const s = sliceSize(items[i]!, store);
    classes.set(s, (classes.get(s) ?? 0) + items[i]!.copies);
  }
  // Each class covers a prefix [0, x) of the store: its blocks from 0 until one would not fit.
  let used = 0;
  for (const [s, count] of classes) used = Math.max(used, Math.min(count, Math.floor(store / s)) * s);
  return store - Math.min(store, used);
}
