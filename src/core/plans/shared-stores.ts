// Which stores the instances of a model's top-level stacks read, and which member a tied member
// reads its main weight from: the plan's view of the resolved sharing (the same slot maps
// `share` statements resolve to; docs/language.md, "Tying instances of a stack").

import type { ModelMember } from '../model/module-tree.js';
import type { EvaluatedModel } from '../semantics/evaluate-model.js';
import type { ResolvedSharing } from '../sharing/declarations.js';
import type { Path } from '../syntax/syntax-tree.js';

export interface SharedStores {
  /** Keys of the shared stores instance `index` of stack `member` reads (`slot:body:0`). */
  readsOf(member: string, index: number): readonly string[];
  /** The member whose store a top-level member's `tied` weight is (undefined when not tied). */
  tiedOwner(member: string): string | undefined;
}

export const NO_SHARED_STORES: SharedStores = { readsOf: () => [], tiedOwner: () => undefined };

/** The shared stores of a compiled model's members under its resolved sharing. */
export function sharedStores(members: readonly ModelMember[], sharing: ResolvedSharing, statements: EvaluatedModel['statements']): SharedStores {
  const lengths = new Map(members.map((m) => [m.name, m.node.kind === 'stack' ? m.node.length : 1]));
  const strategies = new Map<string, { readonly base: string; readonly slotOf: (i: number) => number }[]>();
  for (const [key, list] of sharing.stacks) {
    const length = lengths.get(key);
    if (length === undefined) continue; // a stack nested in a block: its instances are not pipeline units
    for (const s of list) {
      if (s.kind !== 'share' || s.slots.slots >= length) continue; // `none`: every instance owns its store
      const sub = s.sub.join('.');
      const entry = { base: sub ? `${key}.${sub}` : key, slotOf: (i: number): number => s.slots.slotOf(i) };
      strategies.set(key, [...(strategies.get(key) ?? []), entry]);
    }
  }
  // `head = Linear(d, V) tied embed` and `tie head = embed` both make head read embed's store.
  const owners = new Map<string, string>();
  const memberOf = (p: Path | undefined): string | undefined => {
    const first = p?.segments[0];
    return first && first.kind === 'PathName' && lengths.has(first.name.text) ? first.name.text : undefined;
  };
  for (const m of members) {
    const owner = memberOf(m.tiedTo);
    if (owner !== undefined && owner !== m.name) owners.set(m.name, owner);
  }
  for (const { statement } of statements) {
    if (statement.keyword !== 'tie') continue;
    const owner = memberOf(statement.source);
    for (const t of statement.targets) {
      const reader = memberOf(t);
      if (owner !== undefined && reader !== undefined && reader !== owner) owners.set(reader, owner);
    }
  }
  return {
    readsOf: (member, index) => (strategies.get(member) ?? []).map((s) => `slot:${s.base}:${s.slotOf(index)}`),
    tiedOwner: (member) => owners.get(member),
  };
}
