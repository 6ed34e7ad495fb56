// Find references, highlights and rename across the files of a program (docs/language.md,
// "Imports"): a top-level name — a constant, block, model or variant — declared in one file
// occurs in every file that imports it, directly or through another file. The host hands in
// the files it knows, each compiled as its own main file with its imports followed; offsets
// are each file's own.
//
// A name in an importing file is an occurrence exactly when the file's own declarations leave
// it unresolved (a local name shadows an import) and the file's compilation says the import
// brings it from that declaration; a name listed in `from "…" import A` is one too. So the
// features agree with cross-file go to definition, which reads the same two facts.

import type { Compilation } from '../analysis/compilation.js';
import type { SourceId } from '../imports/source-id.js';
import { parse } from '../syntax/parser.js';
import type { SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { lineColumn } from '../text/line-column.js';
import { applyEdits, type TextEdit } from './format.js';
import { importedDefinitionAt } from './imported-names.js';
import { occurrencesOf, symbolAt, type Occurrence } from './occurrences.js';
import { referenceInChain } from './references.js';
import { invalidNewName, renameInFile } from './rename.js';
import { forEachIdentifier } from './syntax-walk.js';

/** One file of the program, compiled as its own main file (`compile(text, { source, imports })`). */
export interface ProgramFile {
  readonly source: SourceId;
  readonly compilation: Compilation;
}

/** A top-level name of one file, which other files may import. */
export interface ProgramSymbol {
  readonly name: string;
  /** The file that declares it. */
  readonly source: SourceId;
  /** Its name at the declaration, offsets in `source`. */
  readonly nameRange: TextRange;
}

export interface FileOccurrences {
  readonly source: SourceId;
  /** In source order, offsets in that file. */
  readonly occurrences: readonly Occurrence[];
}

export type ProgramRenameResult =
  | { readonly ok: true; readonly edits: readonly { readonly source: SourceId; readonly edits: readonly TextEdit[] }[] }
  | { readonly ok: false; readonly message: string };

/**
 * The top-level name at `offset` in `file`: one the file declares, or one an import brings in
 * (its declaration in the other file). Undefined for anything else (members, parameters,
 * builtins): those are one file's own.
 */
export function programSymbolAt(file: ProgramFile, offset: number): ProgramSymbol | undefined {
  const imported = importedDefinitionAt(file.compilation, offset);
  if (imported?.declaration) return { name: imported.declaration.name, source: imported.source, nameRange: imported.targetSelectionRange };
  if (imported) return undefined;
  const symbol = symbolAt(file.compilation.file, offset);
  if (!symbol?.declaration || symbol.kind === 'builtin') return undefined;
  const start = symbol.declaration.start;
  const topLevel = file.compilation.file.items.some((i) => i.kind !== 'Import' && i.kind !== 'Budget' && i.kind !== 'Plan' && i.name.range.start === start);
  return topLevel ? { name: symbol.name, source: file.source, nameRange: symbol.declaration } : undefined;
}

/** Every occurrence of a top-level name in one file: the declaring file's own, or an importer's. */
export function occurrencesInFile(file: ProgramFile, symbol: ProgramSymbol): Occurrence[] {
  const tree = file.compilation.file;
  if (file.source === symbol.source) {
    const local = symbolAt(tree, symbol.nameRange.start);
    return local?.declaration?.start === symbol.nameRange.start ? occurrencesOf(tree, local) : [];
  }
  if (!importsSymbol(file.compilation, symbol)) return [];
  const out: Occurrence[] = [];
  forEachIdentifier(tree, (id, chain) => {
    if (id.text !== symbol.name) return;
    const parent = chain[chain.length - 2];
    if (parent?.kind === 'Import') {
      out.push({ range: id.range, declaring: false });
      return;
    }
    if (unresolvedHere(tree, chain, id.range)) out.push({ range: id.range, declaring: false });
  });
  return out.sort((a, b) => a.range.start - b.range.start);
}

/** The symbol at `offset` and its occurrences in every file given that sees it (files without any left out). */
export function programOccurrencesAt(files: readonly ProgramFile[], at: ProgramFile, offset: number): { symbol: ProgramSymbol; files: FileOccurrences[] } | undefined {
  const symbol = programSymbolAt(at, offset);
  if (!symbol) return undefined;
  const out: FileOccurrences[] = [];
  const seen = new Set<SourceId>();
  for (const file of [at, ...files]) {
    if (seen.has(file.source)) continue;
    seen.add(file.source);
    const occurrences = occurrencesInFile(file, symbol);
    if (occurrences.length > 0) out.push({ source: file.source, occurrences });
  }
  return { symbol, files: out };
}

/**
 * Renames a top-level name in the file that declares it and in every file given that imports
 * it, or says why not. The declaring file is checked as a single-file rename is (rename.ts);
 * each importer must neither declare nor import the new name already, and no renamed use may
 * then mean one of its own names (a block parameter of that spelling would capture it). The
 * declaring file must be among `files`.
 */
export function programRenameEdits(files: readonly ProgramFile[], symbol: ProgramSymbol, newName: string): ProgramRenameResult {
  const invalid = invalidNewName(newName);
  if (invalid) return { ok: false, message: invalid };
  if (newName === symbol.name) return { ok: true, edits: [] };
  const byId = new Map(files.map((f) => [f.source, f]));
  const declaring = byId.get(symbol.source);
  if (!declaring) return { ok: false, message: `Cannot rename '${symbol.name}': ${fileName(symbol.source)}, the file that declares it, could not be read.` };
  const own = renameInFile(declaring.compilation.text, declaring.compilation.file, symbol.nameRange.start, newName);
  if (!own.ok) return own;
  const clashIn = (file: ProgramFile): string | undefined => {
    const other = file.compilation.importedDeclaration(newName);
    if (other && !(other.nameRange.source === symbol.source && other.nameRange.start === symbol.nameRange.start)) {
      return `Cannot rename '${symbol.name}' to '${newName}': ${fileName(file.source)} imports '${newName}' from ${fileName(other.nameRange.source)} already.`;
    }
    return undefined;
  };
  const declaringClash = clashIn(declaring);
  if (declaringClash) return { ok: false, message: declaringClash };
  const edits: { source: SourceId; edits: readonly TextEdit[] }[] = own.edits.length > 0 ? [{ source: symbol.source, edits: own.edits }] : [];
  for (const file of byId.values()) {
    if (file === declaring) continue;
    const occurrences = occurrencesInFile(file, symbol);
    if (occurrences.length === 0) continue;
    const declared = topLevelNames(file.compilation.file).find((id) => id.text === newName);
    if (declared) return { ok: false, message: `Cannot rename '${symbol.name}' to '${newName}': ${fileName(file.source)} declares '${newName}' already, at line ${lineColumn(file.compilation.text, declared.range.start).line}.` };
    const clash = clashIn(file);
    if (clash) return { ok: false, message: clash };
    const fileEdits = occurrences.map((o) => ({ range: o.range, newText: newName }));
    const captured = capturedUse(file.compilation.text, fileEdits, newName);
    if (captured !== undefined) {
      const where = lineColumn(file.compilation.text, captured);
      return { ok: false, message: `Cannot rename '${symbol.name}' to '${newName}': in ${fileName(file.source)} at line ${where.line}, column ${where.column} the new name would refer to a name of that file instead.` };
    }
    edits.push({ source: file.source, edits: fileEdits });
  }
  return { ok: true, edits };
}

/** Whether a file's compilation resolves the symbol's name to the symbol's declaration. */
function importsSymbol(compilation: Compilation, symbol: ProgramSymbol): boolean {
  const d = compilation.importedDeclaration(symbol.name);
  return d !== undefined && d.nameRange.source === symbol.source && d.nameRange.start === symbol.nameRange.start;
}

/** Whether the identifier at the end of `chain` names nothing the file itself declares (it is then an imported name). */
function unresolvedHere(tree: SourceFile, chain: Parameters<typeof referenceInChain>[1], range: TextRange): boolean {
  const ref = referenceInChain(tree, chain, range.start);
  if (!ref || ref.range.start > range.start || range.end > ref.range.end) return false;
  if (ref.kind === 'builtin') return ref.what === 'unknown';
  return ref.kind === 'model' && !ref.decl && !ref.declaring;
}

/** The offset (before the edits) of the first renamed use that resolves inside the file once renamed. */
function capturedUse(text: string, edits: readonly TextEdit[], newName: string): number | undefined {
  const renamed = parse(applyEdits(text, edits)).file;
  const delta = newName.length - (edits[0] ? edits[0].range.end - edits[0].range.start : 0);
  const starts = new Map(edits.map((e, i) => [e.range.start + i * delta, e.range.start]));
  let found: number | undefined;
  forEachIdentifier(renamed, (id, chain) => {
    const original = starts.get(id.range.start);
    if (found !== undefined || original === undefined || chain[chain.length - 2]?.kind === 'Import') return;
    if (!unresolvedHere(renamed, chain, id.range)) found = original;
  });
  return found;
}

/** The names a file declares at the top level. */
function topLevelNames(file: SourceFile): { text: string; range: TextRange }[] {
  return file.items.flatMap((i) => (i.kind === 'Import' || i.kind === 'Budget' || i.kind === 'Plan' ? [] : [i.name]));
}

function fileName(source: SourceId): string {
  return source.slice(source.lastIndexOf('/') + 1);
}
