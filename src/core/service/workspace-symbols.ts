// Workspace symbols: the declarations of every file in the outline, flattened, filtered by a
// query the way editors filter symbol pickers (its characters in order, any case: `dec` finds
// `Decoder`, `rrg` finds `RelaxedRecursiveGemma`). Parameters, budget constraints and statements
// are left out: they are not what one jumps to by name.

import type { OutlineKind, OutlineSymbol } from './symbols.js';

export interface NamedSymbol {
  readonly symbol: OutlineSymbol;
  /** The name of the declaration that holds it (`Decoder` for its member `attn`), if any. */
  readonly container: string | undefined;
}

const SEARCHABLE: ReadonlySet<OutlineKind> = new Set<OutlineKind>(['model', 'variant', 'block', 'constant', 'layer', 'stack', 'module']);

/** The symbols of one file's outline whose names match `query`, outer declarations first. */
export function matchingSymbols(outline: readonly OutlineSymbol[], query: string): NamedSymbol[] {
  const out: NamedSymbol[] = [];
  const visit = (symbols: readonly OutlineSymbol[], container: string | undefined): void => {
    for (const s of symbols) {
      if (SEARCHABLE.has(s.kind) && matchesQuery(s.name, query)) out.push({ symbol: s, container });
      visit(s.children, s.kind === 'budget' ? container : s.name);
    }
  };
  visit(outline, undefined);
  return out;
}

/** Whether `query`'s characters occur in `name` in order, ignoring case (an empty query matches all). */
export function matchesQuery(name: string, query: string): boolean {
  const n = name.toLowerCase();
  let at = 0;
  for (const c of query.toLowerCase()) {
    at = n.indexOf(c, at);
    if (at < 0) return false;
    at++;
  }
  return true;
}
