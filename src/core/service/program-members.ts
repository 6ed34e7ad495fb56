// What a member or parameter named in one file of a program means when it is declared in
// another (docs/editor.md, "Find references and document highlights", across files):
//   - a variant of an imported model overriding one of its bindings or parameters (`N = 12` in a
//     variant of a library's model), or naming one it inherits;
//   - a sharing path through an imported model's members or an imported block's
//     (`share encoder: cycle(3)`, `share body.attn: all` where `body = Decoder * 4`);
//   - a named argument setting an imported block's parameter (`Decoder(heads: 8)`).
// The single-file resolution (references.ts over scopes.ts) answers everything a file declares;
// where it stops at a name the file does not declare, this follows the import into the file that
// declares it and resolves there, so a variant of a variant of a library's model reaches the
// model's member. Each answer is the root declaration (a variant's override is the binding it
// replaces, as occurrences.ts keys it), with its file. Imports are acyclic, so every step leaves
// for an imported file and the chase ends; a depth bound guards it anyway.

import type { SourceId } from '../imports/source-id.js';
import type { BlockDeclaration, Path, SourceFile, TextRange, VariantDeclaration } from '../syntax/syntax-tree.js';
import { overriddenRoot } from './occurrences.js';
import { blocksOf, referenceInChain } from './references.js';
import type { ProgramFile } from './program-occurrences.js';
import { fileScopes, type ModelLike, type NameDefinition, type OwnerDeclaration } from './scopes.js';
import type { TreeNode } from './syntax-walk.js';

/** A file of the program by its id, compiled as its own main file; undefined when the host does not know it. */
export type ProgramLookup = (source: SourceId) => ProgramFile | undefined;

/** A declaration of a name in one file of the program: the file, and the name's range there. */
export interface ProgramDeclaration {
  readonly source: SourceId;
  readonly name: string;
  readonly nameRange: TextRange;
}

/** What an identifier means in the program, and whether it declares it (a declaration or a variant's override). */
export interface ProgramMeaning {
  readonly declaration: ProgramDeclaration;
  readonly declaring: boolean;
}

/** A definition and the file it is written in. */
interface Located {
  readonly file: ProgramFile;
  readonly def: NameDefinition;
}

/** A model or variant and the file it is written in. */
interface LocatedModel {
  readonly file: ProgramFile;
  readonly decl: ModelLike;
}

/** Far more files than a real chain of variants and imports spans. */
const MAX_DEPTH = 64;

/**
 * What the identifier at `range` (the last node of `chain`, a walk's path from the root of
 * `file`'s tree) means across the program: the root declaration of the binding, block,
 * parameter or loop variable it names, in whichever file declares it; undefined for models,
 * builtins and what names nothing. Top-level names an import brings in resolve too (to their
 * declaration in the library); program-occurrences.ts has its own rules for those.
 */
export function programMeaningOf(file: ProgramFile, chain: readonly TreeNode[], range: TextRange, lookup: ProgramLookup): ProgramMeaning | undefined {
  const tree = file.compilation.file;
  const ref = referenceInChain(tree, chain, range.start);
  if (!ref || ref.range.start > range.start || range.end > ref.range.end) return undefined;
  let found: Located | undefined;
  switch (ref.kind) {
    case 'definition':
      found = rootOf({ file, def: ref.definition }, lookup, 0);
      return found && { declaration: declarationOf(found), declaring: ref.declaring };
    case 'argument': {
      if (ref.layer) return undefined;
      const callee = ref.call.callee.kind === 'Name' ? ref.call.callee.name.text : undefined;
      const block = ref.block ? { file, block: ref.block } : callee === undefined ? undefined : blockNamed(file, callee, innermostVariant(chain), lookup, 0);
      const parameter = block?.block.parameters.find((p) => p.name.text === ref.name);
      if (!block || !parameter) return undefined;
      return { declaration: { source: block.file.source, name: ref.name, nameRange: parameter.name.range }, declaring: false };
    }
    case 'path': {
      const owner = pathOwner(chain, ref.path);
      const segment = owner ? resolveProgramPath(file, ref.path, owner, lookup)[ref.index] : undefined;
      found = segment && rootOf(segment, lookup, 0);
      return found && { declaration: declarationOf(found), declaring: false };
    }
    case 'builtin':
      if (ref.what !== 'unknown') return undefined;
      found = unresolvedName(file, ref.name, innermostVariant(chain), lookup, 0);
      return found && { declaration: declarationOf(found), declaring: false };
    default:
      return undefined;
  }
}

function declarationOf(l: Located): ProgramDeclaration {
  return { source: l.file.source, name: l.def.name, nameRange: l.def.nameRange };
}

/**
 * The declaration a definition stands for: through a variant's overrides to the binding or
 * parameter it replaces, in this file (occurrences.ts's overriddenRoot) and then, where the
 * chain of variants reaches an imported model, in the file that declares it.
 */
function rootOf(l: Located, lookup: ProgramLookup, depth: number): Located {
  const root = overriddenRoot(l.def, l.file.compilation.file);
  if (root.kind === 'binding' && root.owner?.kind === 'Variant' && depth < MAX_DEPTH) {
    const base = importedBase(l.file, root.owner, lookup);
    const inherited = base && memberOf(base, root.name, lookup, depth + 1);
    if (inherited) return inherited;
  }
  return { file: l.file, def: root };
}

/** The imported model or variant a variant derives from at the end of its chain in its own file; undefined when the chain stays in the file. */
function importedBase(file: ProgramFile, variant: VariantDeclaration, lookup: ProgramLookup): LocatedModel | undefined {
  const declarations = fileScopes(file.compilation.file).declarations;
  const seen = new Set<ModelLike>();
  let current: ModelLike = variant;
  while (current.kind === 'Variant' && !seen.has(current)) {
    seen.add(current);
    const base = declarations.get(current.base.text);
    if (base) {
      current = base;
      continue;
    }
    return importedModel(file, current.base.text, lookup);
  }
  return undefined;
}

/** The model or variant an import brings into `file` under `name`, in the file that declares it. */
function importedModel(file: ProgramFile, name: string, lookup: ProgramLookup): LocatedModel | undefined {
  const d = file.compilation.importedDeclaration(name);
  if (!d || (d.kind !== 'model' && d.kind !== 'variant')) return undefined;
  const declaring = lookup(d.nameRange.source);
  const decl = declaring && fileScopes(declaring.compilation.file).declarations.get(name);
  return declaring && decl && decl.name.range.start === d.nameRange.start ? { file: declaring, decl } : undefined;
}

/** The member, parameter or block a model or variant sees under `name`, its own or inherited across files. */
function memberOf(model: LocatedModel, name: string, lookup: ProgramLookup, depth: number): Located | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const def = fileScopes(model.file.compilation.file).scopeOf(model.decl).names.get(name);
  if (def) return rootOf({ file: model.file, def }, lookup, depth + 1);
  const base = model.decl.kind === 'Variant' ? importedBase(model.file, model.decl, lookup) : undefined;
  return base && memberOf(base, name, lookup, depth + 1);
}

/**
 * A name `file` does not declare where it is written: inside a variant of an imported model, one
 * of that model's names (a variant sees its base's names first); else a top-level constant or
 * block an import brings in.
 */
function unresolvedName(file: ProgramFile, name: string, variant: VariantDeclaration | undefined, lookup: ProgramLookup, depth: number): Located | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const base = variant && importedBase(file, variant, lookup);
  const inherited = base && memberOf(base, name, lookup, depth + 1);
  if (inherited) return inherited;
  const d = file.compilation.importedDeclaration(name);
  if (!d || (d.kind !== 'constant' && d.kind !== 'block')) return undefined;
  const declaring = lookup(d.nameRange.source);
  const def = declaring && fileScopes(declaring.compilation.file).fileScope.names.get(name);
  return declaring && def && def.nameRange.start === d.nameRange.start ? { file: declaring, def } : undefined;
}

/** The block a call names, when `file` does not declare it: an imported block, or one an imported base model declares. */
function blockNamed(file: ProgramFile, name: string, variant: VariantDeclaration | undefined, lookup: ProgramLookup, depth: number): { file: ProgramFile; block: BlockDeclaration } | undefined {
  const l = unresolvedName(file, name, variant, lookup, depth);
  return l?.def.kind === 'block' ? { file: l.file, block: l.def.block } : undefined;
}

/** The innermost variant around a node (the chain runs from the root). */
function innermostVariant(chain: readonly TreeNode[]): VariantDeclaration | undefined {
  for (let k = chain.length - 1; k >= 0; k--) {
    const n = chain[k]!;
    if (n.kind === 'Variant') return n;
    if (n.kind === 'Model') return undefined;
  }
  return undefined;
}

/** Where a path's first segment is looked up: the model, variant or block around it. */
function pathOwner(chain: readonly TreeNode[], path: Path): OwnerDeclaration | undefined {
  for (let k = chain.indexOf(path) - 1; k >= 0; k--) {
    const n = chain[k]!;
    if (n.kind === 'Model' || n.kind === 'Variant' || n.kind === 'Block') return n;
  }
  return undefined;
}

/**
 * A path's segments resolved across files (references.ts's resolvePath, which stops at the
 * file's edge): the first among the owner's modules, its imported base's included; each next one
 * among the members of the blocks the previous one instantiates, imported blocks included.
 * Undefined where a segment names nothing (a weight, an unknown name).
 */
function resolveProgramPath(file: ProgramFile, path: Path, owner: OwnerDeclaration, lookup: ProgramLookup): (Located | undefined)[] {
  const out: (Located | undefined)[] = [];
  let current: Located | undefined;
  let names: ReadonlyMap<string, Located> | undefined = modulesOf({ file, decl: owner }, lookup, 0);
  for (const segment of path.segments) {
    if (segment.kind === 'PathIndex') {
      out.push(current);
      continue;
    }
    current = names?.get(segment.name.text);
    out.push(current);
    names = current ? membersOfBlocks(blocksAcrossFiles(current, lookup), lookup) : undefined;
  }
  return out;
}

/** The module bindings a model, variant or block holds (a variant's own and inherited ones, across files), by name. */
function modulesOf(owner: { file: ProgramFile; decl: OwnerDeclaration }, lookup: ProgramLookup, depth: number): Map<string, Located> {
  const out = new Map<string, Located>();
  for (const [name, def] of fileScopes(owner.file.compilation.file).scopeOf(owner.decl).names) if (def.kind === 'binding') out.set(name, { file: owner.file, def });
  const base = owner.decl.kind === 'Variant' && depth < MAX_DEPTH ? importedBase(owner.file, owner.decl, lookup) : undefined;
  if (base) for (const [name, l] of modulesOf(base, lookup, depth + 1)) if (!out.has(name)) out.set(name, l);
  return out;
}

function membersOfBlocks(blocks: readonly { file: ProgramFile; block: BlockDeclaration }[], lookup: ProgramLookup): Map<string, Located> {
  const out = new Map<string, Located>();
  for (const b of blocks) for (const [name, l] of modulesOf({ file: b.file, decl: b.block }, lookup, 0)) if (!out.has(name)) out.set(name, l);
  return out;
}

/** The blocks a binding's value instantiates (references.ts's blocksOf), and the imported ones it names. */
function blocksAcrossFiles(l: Located, lookup: ProgramLookup): { file: ProgramFile; block: BlockDeclaration }[] {
  const tree: SourceFile = l.file.compilation.file;
  const elsewhere: { file: ProgramFile; block: BlockDeclaration }[] = [];
  const local = blocksOf(l.def, tree, 0, (name, binding) => {
    const owner = binding.kind === 'binding' ? binding.owner : undefined;
    const found = blockNamed(l.file, name, owner?.kind === 'Variant' ? owner : undefined, lookup, 0);
    if (found && !elsewhere.some((e) => e.block === found.block)) elsewhere.push(found);
  });
  return [...local.map((block) => ({ file: l.file, block })), ...elsewhere];
}
