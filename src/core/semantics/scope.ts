// Lexical scopes: file → model (or variant chain) → block instance. Bindings are evaluated
// lazily on first use, so members may refer to names written later; a binding that is reached
// again while being evaluated is a cycle and is reported once.

import type { Binding, BlockDeclaration, Identifier } from '../syntax/syntax-tree.js';
import type { Value } from './values.js';

export type ScopeEntry =
  | { readonly kind: 'binding'; readonly binding: Binding; state: 'pending' | 'evaluating' | 'done'; value: Value | undefined }
  | { readonly kind: 'block'; readonly decl: BlockDeclaration }
  | { readonly kind: 'value'; readonly value: Value; readonly name: Identifier | undefined };

export class Scope {
  readonly entries = new Map<string, ScopeEntry>();

  constructor(
    readonly parent: Scope | undefined,
    /** What this scope belongs to, for messages: `file`, `model Gemma`, `block Decoder`. */
    readonly owner: string,
  ) {}

  lookup(name: string): { entry: ScopeEntry; scope: Scope } | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const entry = s.entries.get(name);
      if (entry) return { entry, scope: s };
    }
    return undefined;
  }

  /** Every visible name, innermost first (for completion). */
  visibleNames(): string[] {
    const seen = new Set<string>();
    for (let s: Scope | undefined = this; s; s = s.parent) for (const n of s.entries.keys()) seen.add(n);
    return [...seen];
  }
}
