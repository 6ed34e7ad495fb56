// What the cursor is on, resolved: a declaration's name, a reference to a constant, block,
// parameter or model, a layer kind, an argument name, a segment of a sharing path, a budget
// constraint, a number. Hover and go-to-definition both start here, so they always agree on
// what a name means; the rules mirror the evaluator's (see scopes.ts).

import { findLayerKind } from '../layers/registry.js';
import type { LayerKind } from '../layers/layer-kind.js';
import type {
  BlockDeclaration,
  BudgetDeclaration,
  CallExpression,
  Constraint,
  Expression,
  Identifier,
  NumberLiteral,
  Path,
  PathSegment,
  SourceFile,
  Statement,
  TextRange,
} from '../syntax/syntax-tree.js';
import { BUILTIN_FUNCTIONS } from '../semantics/values.js';
import { isKnownSymbol } from '../semantics/symbols.js';
import { fileScopes, lookup, scopeAt, scopeInChain, type ModelLike, type NameDefinition, type OwnerDeclaration, type SyntacticScope } from './scopes.js';
import { ancestorsAt, type TreeNode } from './syntax-walk.js';

/** A weight of a layer named by the last segment of a path (`body.attn.q`). */
export interface WeightReference {
  readonly layerBinding: NameDefinition;
  readonly weight: string;
}

export type Reference =
  /** The name of a model or variant declaration, or a reference to one (variant base, budget target). */
  | { readonly kind: 'model'; readonly range: TextRange; readonly name: string; readonly decl: ModelLike | undefined; readonly declaring: boolean }
  /** A binding, block, parameter or loop variable: at its declaration or at a use. */
  | { readonly kind: 'definition'; readonly range: TextRange; readonly definition: NameDefinition; readonly declaring: boolean; readonly overrides: NameDefinition | undefined }
  /** A name the file does not define: a layer kind, a builtin function or symbol, or unknown. */
  | { readonly kind: 'builtin'; readonly range: TextRange; readonly name: string; readonly layer: LayerKind | undefined; readonly what: 'layer' | 'function' | 'symbol' | 'unknown' }
  /** A named argument of a call: `heads:` in `Attention(d, heads: 8)`. */
  | { readonly kind: 'argument'; readonly range: TextRange; readonly name: string; readonly call: CallExpression; readonly layer: LayerKind | undefined; readonly block: BlockDeclaration | undefined }
  /** A segment of a sharing or tying path. */
  | { readonly kind: 'path'; readonly range: TextRange; readonly path: Path; readonly index: number; readonly target: NameDefinition | undefined; readonly weight: WeightReference | undefined }
  /** A strategy or method name in a statement (`cycle`, `every`, `lora`). */
  | { readonly kind: 'method'; readonly range: TextRange; readonly name: string; readonly statement: Statement }
  /** Anywhere in a budget constraint that is not a user name. */
  | { readonly kind: 'constraint'; readonly range: TextRange; readonly constraint: Constraint; readonly budget: BudgetDeclaration }
  | { readonly kind: 'number'; readonly range: TextRange; readonly literal: NumberLiteral };

/** Resolves what is at `offset`, or undefined (whitespace, punctuation, comments). */
export function referenceAt(file: SourceFile, offset: number): Reference | undefined {
  return referenceInChain(file, ancestorsAt(file, offset), offset);
}

/**
 * `referenceAt` with the chain of nodes around `offset` already known (`ancestorsAt`'s answer,
 * or a walk's path to an identifier): services that resolve every name of a file walk the tree
 * once instead of descending from the root for each name.
 */
export function referenceInChain(file: SourceFile, chain: readonly TreeNode[], offset: number): Reference | undefined {
  const node = chain[chain.length - 1];
  if (!node) return undefined;
  const parent = chain[chain.length - 2];
  const scopes = fileScopes(file);
  const budget = chain.find((n): n is BudgetDeclaration => n.kind === 'Budget');
  const constraint = chain.find((n): n is Constraint => n.kind === 'Constraint');
  const statement = chain.find((n): n is Statement => n.kind === 'Statement');

  if (node.kind === 'Number') return { kind: 'number', range: node.range, literal: node };

  if (node.kind === 'Identifier' && node.text !== '' && parent) {
    switch (parent.kind) {
      case 'Model':
      case 'Variant':
        if (parent.name === node) return { kind: 'model', range: node.range, name: node.text, decl: parent, declaring: true };
        return { kind: 'model', range: node.range, name: node.text, decl: scopes.declarations.get(node.text), declaring: false };
      case 'Budget':
        return { kind: 'model', range: node.range, name: node.text, decl: scopes.declarations.get(node.text), declaring: false };
      case 'Block':
        if (parent.name === node) return { kind: 'definition', range: node.range, definition: { kind: 'block', name: node.text, nameRange: node.range, range: parent.range, block: parent, owner: ownerOf(chain, parent) }, declaring: true, overrides: undefined };
        break;
      case 'Binding': {
        if (parent.name !== node) break;
        const owner = ownerOf(chain, parent);
        const definition: NameDefinition = { kind: 'binding', name: node.text, nameRange: node.range, range: parent.range, binding: parent, owner };
        const overrides = owner?.kind === 'Variant' ? overriddenBy(owner, node.text, file) : undefined;
        return { kind: 'definition', range: node.range, definition, declaring: true, overrides };
      }
      case 'Parameter': {
        const owner = chain[chain.length - 3];
        if (owner && (owner.kind === 'Model' || owner.kind === 'Block')) {
          return { kind: 'definition', range: node.range, definition: { kind: 'parameter', name: node.text, nameRange: node.range, range: parent.range, parameter: parent, owner }, declaring: true, overrides: undefined };
        }
        break;
      }
      case 'Comprehension':
        if (parent.variable === node) {
          return { kind: 'definition', range: node.range, definition: { kind: 'loop-variable', name: node.text, nameRange: node.range, range: parent.range, comprehension: parent }, declaring: true, overrides: undefined };
        }
        break;
      case 'Argument': {
        const call = chain[chain.length - 3];
        if (call && call.kind === 'Call') return argumentReference(node, call, statement, file, offset, chain);
        if (constraint && budget) return { kind: 'constraint', range: constraint.range, constraint, budget };
        break;
      }
      case 'PathName': {
        const path = chain[chain.length - 3];
        if (path && path.kind === 'Path') return pathReference(path, parent, chain, file);
        break;
      }
      case 'Constraint':
        if (budget) return { kind: 'constraint', range: parent.range, constraint: parent, budget };
        break;
      case 'Statement':
        // `bank g1 = …`: the label names the bank, nothing to resolve; `share kv …`: the modifier.
        break;
      case 'Name': {
        const grand = chain[chain.length - 3];
        const inMethod = statement && isMethodCallee(parent, grand, statement);
        if (inMethod) return { kind: 'method', range: node.range, name: node.text, statement };
        const resolved = resolveName(node, file, offset, chain);
        if (resolved.kind === 'builtin' && constraint && budget && resolved.what !== 'unknown') {
          // `dtype: bf16` in a constraint: the symbol's own hover is less useful than the constraint's.
          return { kind: 'constraint', range: constraint.range, constraint, budget };
        }
        return resolved;
      }
      default:
        break;
    }
  }
  if (constraint && budget) return { kind: 'constraint', range: constraint.range, constraint, budget };
  return undefined;
}

/** The model, variant or block whose body holds `node` directly. */
function ownerOf(chain: readonly TreeNode[], node: TreeNode): OwnerDeclaration | undefined {
  const i = chain.indexOf(node);
  for (let k = i - 1; k >= 0; k--) {
    const n = chain[k]!;
    if (n.kind === 'Model' || n.kind === 'Variant' || n.kind === 'Block') return n;
  }
  return undefined;
}

/** The definition a variant's binding replaces: the same name in its base's scope. */
function overriddenBy(variant: ModelLike, name: string, file: SourceFile): NameDefinition | undefined {
  if (variant.kind !== 'Variant') return undefined;
  const scopes = fileScopes(file);
  const base = scopes.declarations.get(variant.base.text);
  if (!base || base === variant) return undefined;
  return scopes.scopeOf(base).names.get(name);
}

/** Whether a Name is the method of a statement (`cycle` in `share body: cycle(9)`, `tied`, `all`). */
function isMethodCallee(name: TreeNode, grand: TreeNode | undefined, statement: Statement): boolean {
  const tops = [statement.value, statement.relax].filter((e): e is Expression => e !== undefined);
  if (tops.includes(name as Expression)) return true;
  return grand !== undefined && grand.kind === 'Call' && grand.callee === name && tops.includes(grand);
}

/** Resolves a bare name at an offset through the syntactic scopes, then the builtins (`chain`: the nodes around the offset, when known). */
export function resolveName(id: Identifier, file: SourceFile, offset: number, chain?: readonly TreeNode[]): Reference {
  const { scope } = chain ? scopeInChain(file, chain, offset) : scopeAt(file, offset);
  const def = lookup(scope, id.text);
  if (def) return { kind: 'definition', range: id.range, definition: def, declaring: false, overrides: undefined };
  const layer = findLayerKind(id.text);
  if (layer) return { kind: 'builtin', range: id.range, name: id.text, layer, what: 'layer' };
  if ((BUILTIN_FUNCTIONS as readonly string[]).includes(id.text)) return { kind: 'builtin', range: id.range, name: id.text, layer: undefined, what: 'function' };
  return { kind: 'builtin', range: id.range, name: id.text, layer: undefined, what: isKnownSymbol(id.text) ? 'symbol' : 'unknown' };
}

function argumentReference(id: Identifier, call: CallExpression, statement: Statement | undefined, file: SourceFile, offset: number, chain: readonly TreeNode[]): Reference | undefined {
  const { layer, block } = calleeOf(call, file, offset, chain);
  if (!layer && !block && statement) {
    const callee = call.callee.kind === 'Name' ? call.callee.name.text : '';
    return { kind: 'method', range: id.range, name: callee, statement };
  }
  return { kind: 'argument', range: id.range, name: id.text, call, layer, block };
}

/** The layer kind or block a call instantiates, if it can be told from the source. */
export function calleeOf(call: CallExpression, file: SourceFile, offset: number, chain?: readonly TreeNode[]): { layer: LayerKind | undefined; block: BlockDeclaration | undefined } {
  if (call.callee.kind !== 'Name') return { layer: undefined, block: undefined };
  const { scope } = chain ? scopeInChain(file, chain, offset) : scopeAt(file, offset);
  const def = lookup(scope, call.callee.name.text);
  if (def?.kind === 'block') return { layer: undefined, block: def.block };
  if (def) return { layer: undefined, block: undefined };
  return { layer: findLayerKind(call.callee.name.text), block: undefined };
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

function pathReference(path: Path, segment: PathSegment, chain: readonly TreeNode[], file: SourceFile): Reference {
  const resolved = resolvePath(path, pathOwner(chain, path), file);
  const index = path.segments.indexOf(segment);
  const r = resolved[index];
  return { kind: 'path', range: segment.range, path, index, target: r?.target, weight: r?.weight };
}

/** Where a path's first segment is looked up: the model or variant of a statement or a top-level `tied`; the block of a block member's `tied`. */
function pathOwner(chain: readonly TreeNode[], path: Path): OwnerDeclaration | undefined {
  const i = chain.indexOf(path);
  for (let k = i - 1; k >= 0; k--) {
    const n = chain[k]!;
    if (n.kind === 'Model' || n.kind === 'Variant' || n.kind === 'Block') return n;
  }
  return undefined;
}

/** The declaration a path's segments resolve to, segment by segment (undefined where unknown). */
export function resolvePath(path: Path, owner: OwnerDeclaration | undefined, file: SourceFile): { target: NameDefinition | undefined; weight: WeightReference | undefined }[] {
  const out: { target: NameDefinition | undefined; weight: WeightReference | undefined }[] = [];
  if (!owner) return path.segments.map(() => ({ target: undefined, weight: undefined }));
  const scopes = fileScopes(file);
  let current: NameDefinition | undefined;
  let names: ReadonlyMap<string, NameDefinition> | undefined = moduleNames(scopes.scopeOf(owner));
  for (const seg of path.segments) {
    if (seg.kind === 'PathIndex') {
      // `body[3]` selects one instance: the same declaration.
      out.push({ target: current, weight: undefined });
      continue;
    }
    const def: NameDefinition | undefined = names?.get(seg.name.text);
    if (def) {
      current = def;
      out.push({ target: def, weight: undefined });
      const blocks = blocksOf(def, file, 0);
      names = blocks.length > 0 ? membersOfBlocks(blocks, file) : undefined;
      continue;
    }
    // After a layer, a segment names one of its weights.
    const isLayer = current?.kind === 'binding' && layerOf(current.binding.value) !== undefined;
    out.push({ target: undefined, weight: current && isLayer ? { layerBinding: current, weight: seg.name.text } : undefined });
    current = undefined;
    names = undefined;
  }
  return out;
}

/** The module members of a scope: its own bindings and blocks, the inherited ones for variants. */
function moduleNames(scope: SyntacticScope): ReadonlyMap<string, NameDefinition> {
  const out = new Map<string, NameDefinition>();
  for (const [name, def] of scope.names) if (def.kind === 'binding') out.set(name, def);
  return out;
}

function membersOfBlocks(blocks: readonly BlockDeclaration[], file: SourceFile): ReadonlyMap<string, NameDefinition> {
  const out = new Map<string, NameDefinition>();
  const scopes = fileScopes(file);
  for (const b of blocks) {
    for (const [name, def] of moduleNames(scopes.scopeOf(b))) if (!out.has(name)) out.set(name, def);
  }
  return out;
}

/**
 * The blocks a binding's value instantiates (`Decoder * 18`, `Dense + MoE * 26`, `[Decoder(…) for …]`).
 * `unresolved` hears each name on the way that the file does not declare (an imported block,
 * a member of an imported base model: program-members.ts follows those), with the binding whose value names it.
 */
export function blocksOf(def: NameDefinition, file: SourceFile, depth: number, unresolved?: (name: string, binding: NameDefinition) => void): BlockDeclaration[] {
  if (depth > 16) return [];
  if (def.kind === 'block') return [def.block];
  if (def.kind !== 'binding') return [];
  const scope = def.owner ? fileScopes(file).scopeOf(def.owner) : fileScopes(file).fileScope;
  const out: BlockDeclaration[] = [];
  const visit = (e: Expression): void => {
    switch (e.kind) {
      case 'Name': {
        const d = lookup(scope, e.name.text);
        if (!d) {
          unresolved?.(e.name.text, def);
          return;
        }
        if (d !== def) for (const b of blocksOf(d, file, depth + 1, unresolved)) if (!out.includes(b)) out.push(b);
        return;
      }
      case 'Call':
        visit(e.callee);
        return;
      case 'Binary':
        visit(e.left);
        visit(e.right);
        return;
      case 'List':
        e.elements.forEach(visit);
        return;
      case 'Comprehension':
        visit(e.body);
        return;
      case 'Conditional':
        visit(e.whenTrue);
        visit(e.whenFalse);
        return;
      case 'Index':
        visit(e.object);
        return;
      default:
        return;
    }
  };
  visit(def.binding.value);
  return out;
}

/** The layer kind a binding's value calls directly (`Attention(…)`). */
function layerOf(e: Expression): LayerKind | undefined {
  return e.kind === 'Call' && e.callee.kind === 'Name' ? findLayerKind(e.callee.name.text) : undefined;
}
