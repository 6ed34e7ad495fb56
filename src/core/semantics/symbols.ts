// Builtin symbols: bare names that denote enumeration values (`bf16`, `gelu`, `H100`, `rms`,
// `shape`). They are resolved only when no user name of the same spelling is in scope, so a
// user constant never breaks because a new builtin appears.

import { LAYER_KINDS } from '../layers/registry.js';
import { DEVICE_NAMES } from '../analysis/devices.js';
import { DTYPE_BYTES } from '../analysis/dtypes.js';

/** Names used by sharing statements, budgets and allocation requests. */
const STATEMENT_SYMBOLS = [
  // Allocation grouping and generators (NPAS).
  'auto', 'shape', 'role', 'depth', 'cluster', 'checkpoint', 'wavg', 'repeat', 'hash', 'inter',
  // Optimisers for training memory.
  'adam', 'adamw', 'sgd',
];

let cache: Set<string> | undefined;

function symbolSet(): Set<string> {
  if (cache) return cache;
  const set = new Set<string>(STATEMENT_SYMBOLS);
  for (const name of Object.keys(DTYPE_BYTES)) set.add(name);
  for (const name of DEVICE_NAMES) set.add(name);
  for (const kind of LAYER_KINDS.values()) {
    for (const arg of kind.args) if (arg.type.kind === 'enum') for (const v of arg.type.values) set.add(v);
  }
  cache = set;
  return set;
}

export function isKnownSymbol(name: string): boolean {
  return symbolSet().has(name);
}

/** All builtin symbols, for completion. */
export function knownSymbols(): string[] {
  return [...symbolSet()].sort();
}
