// Whether a new `tie a = b` would close a cycle through the `tie a = b` declarations before it:
// then some weight of a reads, tie after tie, its own store, no module of the chain holds it, and
// the walk would count the chain's weights nowhere (stored 0) while the export stored them all.

import type { Modifier } from './declarations.js';
import { keyWithin } from './resolve-path.js';

/**
 * Whether tying `target` to `source` closes a cycle with the `tie-all` modifiers declared so far.
 * A state (at, rel) says: the weights of source+rel are stored at `at`. A tie whose target holds
 * `at` moves them to its source (the rest of the path kept); a tie whose target lies under `at`
 * moves that part of them (rel grows by the target's place under `at`). The chain closes when the
 * weights of source+rel land at target+rel, which reads source+rel. The ties before this one are
 * acyclic (each was checked as it came), so the search ends; `visited` bounds it regardless.
 */
export function closesTieCycle(modifiers: readonly Modifier[], target: string, source: string): boolean {
  const ties: { readonly target: string; readonly source: string }[] = [];
  for (const m of modifiers) if (m.effect.kind === 'tie-all') ties.push({ target: m.effect.targetKey, source: m.effect.source.key });
  const visited = new Set<string>();
  const queue: { readonly at: string; readonly rel: string }[] = [{ at: source, rel: '' }];
  while (queue.length > 0) {
    const { at, rel } = queue.pop()!;
    if (keyWithin(at, target + rel)) return true;
    const id = `${at}\u0000${rel}`;
    if (visited.has(id)) continue;
    visited.add(id);
    for (const t of ties) {
      if (keyWithin(at, t.target)) queue.push({ at: t.source + at.slice(t.target.length), rel });
      else if (keyWithin(t.target, at)) queue.push({ at: t.source, rel: rel + t.target.slice(at.length) });
    }
  }
  return false;
}

