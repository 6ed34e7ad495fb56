// The names a position can see, read from the syntax tree alone. The evaluator's scopes
// exist only for the parts of a file that evaluate, and only after evaluation; an editor needs
// them for half-written text too, so the same rules are mirrored here syntactically:
// file → model (variants: the base chain with overrides) → block → comprehension, and budgets
// see their target's scope. Built once per parsed file (cached) and shared by definition,
// completion, hover and quick fixes.

import type {
  Binding,
  BlockDeclaration,
  BudgetDeclaration,
  ComprehensionExpression,
  Member,
  ModelDeclaration,
  Parameter,
  SourceFile,
  TextRange,
  VariantDeclaration,
} from '../syntax/syntax-tree.js';
import { ancestorsAt, type TreeNode } from './syntax-walk.js';

/** What a name is bound to in source. */
export type NameDefinition =
  | { readonly kind: 'binding'; readonly name: string; readonly nameRange: TextRange; readonly range: TextRange; readonly binding: Binding; readonly owner: OwnerDeclaration | undefined }
  | { readonly kind: 'block'; readonly name: string; readonly nameRange: TextRange; readonly range: TextRange; readonly block: BlockDeclaration; readonly owner: OwnerDeclaration | undefined }
  | { readonly kind: 'parameter'; readonly name: string; readonly nameRange: TextRange; readonly range: TextRange; readonly parameter: Parameter; readonly owner: ModelDeclaration | BlockDeclaration }
  | { readonly kind: 'loop-variable'; readonly name: string; readonly nameRange: TextRange; readonly range: TextRange; readonly comprehension: ComprehensionExpression };

/** A declaration that owns members. */
export type OwnerDeclaration = ModelDeclaration | VariantDeclaration | BlockDeclaration;

/** A model or variant declaration. */
export type ModelLike = ModelDeclaration | VariantDeclaration;

export interface SyntacticScope {
  readonly kind: 'file' | 'model' | 'variant' | 'block' | 'comprehension';
  readonly names: ReadonlyMap<string, NameDefinition>;
  readonly parent: SyntacticScope | undefined;
  /** The declaration this scope belongs to (undefined for the file and comprehensions). */
  readonly owner: OwnerDeclaration | undefined;
}

/** The scopes of one file, built once. */
export interface FileScopes {
  readonly file: SourceFile;
  readonly fileScope: SyntacticScope;
  /** Models and variants by name (the first declaration of a name wins, as in the evaluator). */
  readonly declarations: ReadonlyMap<string, ModelLike>;
  /** The scope of each model, variant and block declaration. */
  scopeOf(decl: OwnerDeclaration): SyntacticScope;
  /** The model a variant derives from (through its chain), or the model itself. */
  rootModel(decl: ModelLike): ModelDeclaration | undefined;
}

const cache = new WeakMap<SourceFile, FileScopes>();

/** The scopes of a parsed file (cached per tree). */
export function fileScopes(file: SourceFile): FileScopes {
  let s = cache.get(file);
  if (!s) {
    s = buildScopes(file);
    cache.set(file, s);
  }
  return s;
}

function buildScopes(file: SourceFile): FileScopes {
  const top = new Map<string, NameDefinition>();
  for (const item of file.items) {
    if (item.kind === 'Binding' && item.name.text !== '' && !top.has(item.name.text)) top.set(item.name.text, bindingDef(item, undefined));
    if (item.kind === 'Block' && item.name.text !== '' && !top.has(item.name.text)) top.set(item.name.text, blockDef(item, undefined));
  }
  const fileScope: SyntacticScope = { kind: 'file', names: top, parent: undefined, owner: undefined };
  const declarations = new Map<string, ModelLike>();
  for (const item of file.items) {
    if ((item.kind === 'Model' || item.kind === 'Variant') && item.name.text !== '' && !declarations.has(item.name.text)) declarations.set(item.name.text, item);
  }
  const scopes = new Map<OwnerDeclaration, SyntacticScope>();
  const building = new Set<ModelLike>();

  const rootModel = (decl: ModelLike): ModelDeclaration | undefined => {
    const seen = new Set<ModelLike>();
    let cur: ModelLike | undefined = decl;
    while (cur && cur.kind === 'Variant') {
      if (seen.has(cur)) return undefined;
      seen.add(cur);
      cur = declarations.get(cur.base.text);
    }
    return cur;
  };

  const membersScope = (kind: SyntacticScope['kind'], owner: OwnerDeclaration, parent: SyntacticScope, inherited: ReadonlyMap<string, NameDefinition>): SyntacticScope => {
    const names = new Map<string, NameDefinition>(inherited);
    if (owner.kind !== 'Variant') {
      for (const p of owner.parameters) if (p.name.text !== '' && !names.has(p.name.text)) names.set(p.name.text, { kind: 'parameter', name: p.name.text, nameRange: p.name.range, range: p.range, parameter: p, owner });
    }
    for (const m of owner.members) addMember(names, m, owner, owner.kind === 'Variant');
    return { kind, names, parent, owner };
  };

  const scopeOfModel = (decl: ModelLike): SyntacticScope => {
    const known = scopes.get(decl);
    if (known) return known;
    building.add(decl);
    let scope: SyntacticScope;
    if (decl.kind === 'Model') scope = membersScope('model', decl, fileScope, new Map());
    else {
      // A variant sees its base's names, overridden by its own; in a derivation cycle
      // (reported by the evaluator) it sees only its own.
      const base = declarations.get(decl.base.text);
      const inherited = base && !building.has(base) ? scopeOfModel(base).names : new Map<string, NameDefinition>();
      scope = membersScope('variant', decl, fileScope, inherited);
    }
    building.delete(decl);
    scopes.set(decl, scope);
    return scope;
  };

  // Blocks see the scope they are declared in.
  const visitBlocks = (members: readonly Member[], parent: SyntacticScope): void => {
    for (const m of members) {
      if (m.kind !== 'Block') continue;
      const scope = membersScope('block', m, parent, new Map());
      scopes.set(m, scope);
      visitBlocks(m.members, scope);
    }
  };
  for (const item of file.items) {
    if (item.kind === 'Model' || item.kind === 'Variant') {
      const scope = scopeOfModel(item);
      visitBlocks(item.members, scope);
    } else if (item.kind === 'Block') {
      const scope = membersScope('block', item, fileScope, new Map());
      scopes.set(item, scope);
      visitBlocks(item.members, scope);
    }
  }
  return {
    file,
    fileScope,
    declarations,
    scopeOf: (decl) => scopes.get(decl) ?? (decl.kind === 'Block' ? membersScope('block', decl, fileScope, new Map()) : scopeOfModel(decl)),
    rootModel,
  };
}

function bindingDef(b: Binding, owner: OwnerDeclaration | undefined): NameDefinition {
  return { kind: 'binding', name: b.name.text, nameRange: b.name.range, range: b.range, binding: b, owner };
}

function blockDef(b: BlockDeclaration, owner: OwnerDeclaration | undefined): NameDefinition {
  return { kind: 'block', name: b.name.text, nameRange: b.name.range, range: b.range, block: b, owner };
}

function addMember(names: Map<string, NameDefinition>, m: Member, owner: OwnerDeclaration, overrides: boolean): void {
  if (m.kind === 'Statement' || m.name.text === '') return;
  // In a model or block the first definition wins (the second is a duplicate error); a
  // variant's members replace its base's.
  const own = names.get(m.name.text);
  if (own && !overrides && ownedBy(own, owner)) return;
  names.set(m.name.text, m.kind === 'Binding' ? bindingDef(m, owner) : blockDef(m, owner));
}

function ownedBy(def: NameDefinition, owner: OwnerDeclaration): boolean {
  return (def.kind === 'binding' || def.kind === 'block' || def.kind === 'parameter') && def.owner === owner;
}

/** Looks a name up through a scope chain. */
export function lookup(scope: SyntacticScope | undefined, name: string): NameDefinition | undefined {
  for (let s = scope; s; s = s.parent) {
    const d = s.names.get(name);
    if (d) return d;
  }
  return undefined;
}

/** Every name visible from a scope, innermost first, each once. */
export function visibleNames(scope: SyntacticScope | undefined): NameDefinition[] {
  const seen = new Set<string>();
  const out: NameDefinition[] = [];
  for (let s = scope; s; s = s.parent) {
    for (const [name, def] of s.names) {
      if (seen.has(name)) continue;
      seen.add(name);
      out.push(def);
    }
  }
  return out;
}

/** The innermost scope at an offset, with the declaration that encloses it. */
export function scopeAt(file: SourceFile, offset: number): { scope: SyntacticScope; owner: OwnerDeclaration | BudgetDeclaration | undefined } {
  return scopeInChain(file, ancestorsAt(file, offset), offset);
}

/** `scopeAt` with the chain of nodes around `offset` (outermost first) already known. */
export function scopeInChain(file: SourceFile, chain: readonly TreeNode[], offset: number): { scope: SyntacticScope; owner: OwnerDeclaration | BudgetDeclaration | undefined } {
  const scopes = fileScopes(file);
  let scope = scopes.fileScope;
  let owner: OwnerDeclaration | BudgetDeclaration | undefined;
  for (const node of chain) {
    if (node.kind === 'Model' || node.kind === 'Variant' || node.kind === 'Block') {
      scope = scopes.scopeOf(node);
      owner = node;
    } else if (node.kind === 'Budget') {
      // Budget limits are evaluated in their target's scope.
      const target = scopes.declarations.get(node.target.text);
      if (target) scope = scopes.scopeOf(target);
      owner = node;
    } else if (node.kind === 'Comprehension' && offset >= node.body.range.start && offset <= node.body.range.end) {
      // The loop variable is visible in the body only; the bounds are evaluated outside.
      scope = comprehensionScope(node, scope);
    }
  }
  return { scope, owner };
}


function comprehensionScope(c: ComprehensionExpression, parent: SyntacticScope): SyntacticScope {
  const names = new Map<string, NameDefinition>();
  if (c.variable.text !== '') names.set(c.variable.text, { kind: 'loop-variable', name: c.variable.text, nameRange: c.variable.range, range: c.range, comprehension: c });
  return { kind: 'comprehension', names, parent, owner: undefined };
}
