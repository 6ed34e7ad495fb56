// Which statements an allocation may not stack on: the plan replaces sharing. A scheme says
// whether it leaves the stored parameters as written (`SharingScheme.keepsStores`: freeze,
// train, param), and only those may stand beside an allocation.

import type { SharingScheme } from '../sharing/scheme.js';
import type { Statement } from '../syntax/syntax-tree.js';

/** The first statement that conflicts with an allocation, if any. */
export function conflictingStatement<S extends { readonly statement: Statement }>(statements: readonly S[], schemeOf: (s: Statement) => SharingScheme | undefined): S | undefined {
  return statements.find((s) => {
    if (s.statement.keyword === 'allocate') return false;
    const keeps = schemeOf(s.statement)?.keepsStores;
    return !(typeof keeps === 'function' ? keeps(s.statement) : keeps === true);
  });
}
