// Which statements an allocation may not stack on: the plan replaces sharing. Its own file so
// the sharing resolver (which refuses an `allocate` beside sharing) needs nothing else of the
// allocator.

import type { ScopedStatement } from '../sharing/resolve-statements.js';

/** Statements that leave stored params alone and so may stay beside an allocation. */
const COMPATIBLE: ReadonlySet<string> = new Set(['freeze', 'train', 'param', 'precision']);

/** The first statement that conflicts with an allocation, if any. */
export function conflictingStatement(statements: readonly ScopedStatement[]): ScopedStatement | undefined {
  return statements.find((s) => !COMPATIBLE.has(s.statement.keyword) && s.statement.keyword !== 'allocate');
}
