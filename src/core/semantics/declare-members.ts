// Enters the bindings and block declarations of a body into its scope, reporting duplicates
// and names that hide builtins. Evaluation happens later and lazily.

import type { Member } from '../syntax/syntax-tree.js';
import { findLayerKind } from '../layers/registry.js';
import type { EvalContext } from './evaluator.js';
import type { Scope } from './scope.js';

export function declareMembers(members: readonly Member[], scope: Scope, ctx: EvalContext, owner: string): void {
  for (const m of members) {
    if (m.kind === 'Statement') continue;
    const name = m.name.text;
    if (name === '') continue;
    if (scope.entries.has(name)) {
      ctx.sink.error('npas-name-duplicate', `'${name}' is defined twice in ${owner}`, m.name.range);
      continue;
    }
    if (findLayerKind(name)) ctx.sink.warning('npas-name-shadows-builtin', `'${name}' hides the builtin layer kind ${name}`, m.name.range);
    if (m.kind === 'Binding') scope.entries.set(name, { kind: 'binding', binding: m, state: 'pending', value: undefined });
    else scope.entries.set(name, { kind: 'block', decl: m });
  }
}
