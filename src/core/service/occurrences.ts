// Every place a symbol occurs in a file: find references, document highlights and rename all
// start here. What the cursor is on comes from `referenceAt` (the same resolution hover and
// definition use), and so does every candidate occurrence, so the three features can never
// disagree with go-to-definition about what a name means.
//
// A symbol is one declaration, with two unions the language makes: a variant's override of a
// binding (`d = 1024` in `variant Wide of Base`) is the same symbol as the binding it replaces
// (it replaces it by name, so renaming one must rename the other), and a named block argument
// (`Decoder(n: 4)`) is an occurrence of the block's parameter.

import type { SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { referenceAt, referenceInChain, type Reference } from './references.js';
import { fileScopes, type NameDefinition } from './scopes.js';
import { forEachIdentifier } from './syntax-walk.js';

/** What kind of thing a symbol is: the user's declarations, or a builtin name. */
export type SymbolKind = 'model' | 'binding' | 'block' | 'parameter' | 'loop-variable' | 'builtin';

/** One symbol, identified by a key that is equal for every occurrence of it. */
export interface SymbolIdentity {
  readonly key: string;
  readonly kind: SymbolKind;
  readonly name: string;
  /** The declaration's name, where the file declares it (builtins and unknown models have none). */
  readonly declaration: TextRange | undefined;
}

export interface Occurrence {
  readonly range: TextRange;
  /** A declaration (or a variant's override) rather than a use. */
  readonly declaring: boolean;
}

export interface SymbolOccurrences {
  readonly symbol: SymbolIdentity;
  /** In source order, each range once. */
  readonly occurrences: readonly Occurrence[];
}

/** The symbol a resolved reference names, or undefined (numbers, constraints, weights, methods). */
export function symbolOf(ref: Reference, file: SourceFile): SymbolIdentity | undefined {
  switch (ref.kind) {
    case 'model':
      if (ref.decl) return { key: `model@${ref.decl.name.range.start}`, kind: 'model', name: ref.name, declaration: ref.decl.name.range };
      return { key: `model?${ref.name}`, kind: 'model', name: ref.name, declaration: undefined };
    case 'definition':
      return definitionSymbol(ref.definition, file);
    case 'argument': {
      const param = ref.block?.parameters.find((p) => p.name.text === ref.name);
      if (param) return definitionSymbol({ kind: 'parameter', name: param.name.text, nameRange: param.name.range, range: param.range, parameter: param, owner: ref.block! }, file);
      return undefined;
    }
    case 'path':
      return ref.target ? definitionSymbol(ref.target, file) : undefined;
    case 'builtin':
      return ref.what === 'unknown' ? undefined : { key: `builtin:${ref.name}`, kind: 'builtin', name: ref.name, declaration: undefined };
    default:
      return undefined;
  }
}

/** The symbol of a source definition: a variant's override is keyed by the binding it replaces. */
function definitionSymbol(def: NameDefinition, file: SourceFile): SymbolIdentity {
  const root = overriddenRoot(def, file);
  return { key: `${root.kind}@${root.nameRange.start}`, kind: root.kind, name: root.name, declaration: root.nameRange };
}

/** Follows a variant binding to the binding or model parameter it overrides in its base chain (through variants of variants). */
export function overriddenRoot(def: NameDefinition, file: SourceFile): NameDefinition {
  const scopes = fileScopes(file);
  const seen = new Set<unknown>();
  let current = def;
  while (current.kind === 'binding' && current.owner?.kind === 'Variant' && !seen.has(current.owner)) {
    seen.add(current.owner);
    const base = scopes.declarations.get(current.owner.base.text);
    if (!base || base === current.owner) break;
    const replaced = scopes.scopeOf(base).names.get(current.name);
    if (!replaced || (replaced.kind !== 'binding' && replaced.kind !== 'parameter')) break;
    current = replaced;
  }
  return current;
}

/** The symbol at `offset`, if the cursor is on one. */
export function symbolAt(file: SourceFile, offset: number): SymbolIdentity | undefined {
  const ref = referenceAt(file, offset);
  return ref ? symbolOf(ref, file) : undefined;
}

/** The symbol at `offset` and every occurrence of it in the file. */
export function occurrencesAt(file: SourceFile, offset: number): SymbolOccurrences | undefined {
  const symbol = symbolAt(file, offset);
  return symbol ? { symbol, occurrences: occurrencesOf(file, symbol) } : undefined;
}

/** Every occurrence of a symbol: each identifier with its spelling that resolves to it. */
export function occurrencesOf(file: SourceFile, symbol: SymbolIdentity): Occurrence[] {
  const out: Occurrence[] = [];
  for (const { range, reference } of resolvedIdentifiers(file, new Set([symbol.name]))) {
    if (symbolOf(reference, file)?.key !== symbol.key) continue;
    const declaring = (reference.kind === 'model' || reference.kind === 'definition') && reference.declaring;
    out.push({ range, declaring });
  }
  return out;
}

/** An identifier and what it refers to. */
export interface ResolvedIdentifier {
  readonly range: TextRange;
  readonly text: string;
  readonly reference: Reference;
}

/**
 * Every identifier of the file spelt as one of `names` (all of them when undefined) that refers
 * to something, in source order, resolved in one walk of the tree.
 */
export function resolvedIdentifiers(file: SourceFile, names: ReadonlySet<string> | undefined): ResolvedIdentifier[] {
  const out: ResolvedIdentifier[] = [];
  forEachIdentifier(file, (id, chain) => {
    if (names && !names.has(id.text)) return;
    const reference = referenceInChain(file, chain, id.range.start);
    if (reference && reference.range.start <= id.range.start && id.range.end <= reference.range.end) out.push({ range: id.range, text: id.text, reference });
  });
  return out;
}

/**
 * Whether any of the symbols declared at `declarations` (name ranges) occurs outside `inside`
 * — besides at its own declaration. One walk of the tree for all of them, so a run of 10,000
 * bindings is checked in one pass, not 10,000.
 */
export function referencedOutside(file: SourceFile, declarations: readonly TextRange[], inside: TextRange): boolean {
  const own = new Set(declarations.map((d) => d.start));
  const names = new Set<string>();
  forEachIdentifier(file, (id) => {
    if (own.has(id.range.start)) names.add(id.text);
  });
  const resolved = resolvedIdentifiers(file, names).map((r) => ({ ...r, key: symbolOf(r.reference, file)?.key }));
  // The declarations' own keys come from the same walk (their identifiers are in it).
  const keys = new Set(resolved.filter((r) => own.has(r.range.start)).map((r) => r.key));
  if (keys.size === 0 || keys.has(undefined)) return true;
  return resolved.some((r) => !own.has(r.range.start) && !(r.range.start >= inside.start && r.range.end <= inside.end) && keys.has(r.key));
}
