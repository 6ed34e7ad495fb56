// Which stores the instances of a model's top-level stacks read, and which member a tied member
// reads its main weight from: the plan's view of the resolved sharing, asked of the store
// resolver (sharing/store-resolver.ts; docs/language.md, "Tying instances of a stack").

import { sharedStacks, tiedOwners, type SharedStack, type StoreModel } from '../sharing/store-resolver.js';

export interface SharedStores {
  /** Keys of the shared stores instance `index` of stack `member` reads (`slot:body:0`). */
  readsOf(member: string, index: number): readonly string[];
  /** The member whose store a top-level member's `tied` weight is (undefined when not tied). */
  tiedOwner(member: string): string | undefined;
}

/** The shared stores of a compiled model's members under its resolved sharing, as the store resolver answers them. */
export function sharedStores(model: StoreModel): SharedStores {
  // Only top-level stacks: the instances of a stack nested in a block are not pipeline units.
  const byMember = new Map<string, SharedStack[]>();
  for (const shared of sharedStacks(model)) if (shared.topLevel) byMember.set(shared.member, [...(byMember.get(shared.member) ?? []), shared]);
  const owners = tiedOwners(model);
  return {
    readsOf: (member, index) => (byMember.get(member) ?? []).map((s) => s.storeId(s.share.slots.slotOf(index))),
    tiedOwner: (member) => owners.get(member),
  };
}
