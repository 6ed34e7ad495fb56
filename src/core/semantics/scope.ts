// Lexical scopes: file → model (or variant chain) → block instance. Bindings are evaluated
// lazily on first use, so members may refer to names written later; a binding that is reached
// again while being evaluated is a cycle and is reported once.
// Each file has its own file scope; a name another file brings in by an import is an `import`
// entry that lookups follow to the entry in that file's scope, so it is evaluated there, once,
// against that file's names (docs/language.md, "Imports").

import type { Binding, BlockDeclaration, Identifier, ImportDeclaration } from '../syntax/syntax-tree.js';
import type { Value } from './values.js';

export type ScopeEntry =
  | { readonly kind: 'binding'; readonly binding: Binding; state: 'pending' | 'evaluating' | 'done'; value: Value | undefined }
  | { readonly kind: 'block'; readonly decl: BlockDeclaration }
  | { readonly kind: 'value'; readonly value: Value; readonly name: Identifier | undefined }
  | ImportedEntry;

/** What a lookup finds: an import is followed to the entry it names. */
export type DefinedEntry = Exclude<ScopeEntry, ImportedEntry>;

/** A name another file defines, brought in by `import`: `target` lives in `home`, that file's scope. */
export interface ImportedEntry {
  readonly kind: 'import';
  readonly target: DefinedEntry;
  readonly home: Scope;
  readonly declaration: ImportDeclaration;
}

export class Scope {
  readonly entries = new Map<string, ScopeEntry>();

  constructor(
    readonly parent: Scope | undefined,
    /** What this scope belongs to, for messages: `file`, `model Gemma`, `block Decoder`. */
    readonly owner: string,
    /**
     * Where a name found nowhere along the parents is looked up last: a variant's own file,
     * when its base model lives in an imported file (the model's names come first).
     */
    readonly fallback?: Scope,
  ) {}

  lookup(name: string): { entry: DefinedEntry; scope: Scope } | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const entry = s.entries.get(name);
      if (entry) return entry.kind === 'import' ? { entry: entry.target, scope: entry.home } : { entry, scope: s };
    }
    for (let s: Scope | undefined = this; s; s = s.parent) if (s.fallback) return s.fallback.lookup(name);
    return undefined;
  }

  /** Every visible name, innermost first (for completion). */
  visibleNames(): string[] {
    const seen = new Set<string>();
    for (let s: Scope | undefined = this; s; s = s.parent) for (const n of s.entries.keys()) seen.add(n);
    for (let s: Scope | undefined = this; s; s = s.parent) if (s.fallback) for (const n of s.fallback.visibleNames()) seen.add(n);
    return [...seen];
  }
}
