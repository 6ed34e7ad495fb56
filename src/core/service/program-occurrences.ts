// Find references, highlights and rename across the files of a program (docs/language.md,
// "Imports"): a top-level name — a constant, block, model or variant — declared in one file
// occurs in every file that imports it, directly or through another file; so does a member or
// parameter of an imported model or block, where a variant overrides or inherits it, a sharing
// path goes through it or a named argument sets it (program-members.ts resolves those). The host
// hands in the files it knows, each compiled as its own main file with its imports followed;
// offsets are each file's own.
//
// A name in an importing file is an occurrence exactly when the file's own declarations leave
// it unresolved (a local name shadows an import) and the file's compilation says the import
// brings it from that declaration; a name listed in `from "…" import A` is one too. So the
// features agree with cross-file go to definition, which reads the same two facts.

import { compile, type Compilation } from '../analysis/compilation.js';
import { ParsedSources } from '../imports/parsed-sources.js';
import type { SourceId } from '../imports/source-id.js';
import { parse } from '../syntax/parser.js';
import type { SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { lineColumn } from '../text/line-column.js';
import { applyEdits, type TextEdit } from './format.js';
import { importedDefinitionAt } from './imported-names.js';
import { occurrencesOf, symbolAt, type Occurrence } from './occurrences.js';
import { programMeaningOf, type ProgramLookup, type ProgramMeaning } from './program-members.js';
import { referenceInChain } from './references.js';
import { invalidNewName, renameInFile } from './rename.js';
import { ancestorsAt, forEachIdentifier } from './syntax-walk.js';

/** One file of the program, compiled as its own main file (`compile(text, { source, imports })`). */
export interface ProgramFile {
  readonly source: SourceId;
  readonly compilation: Compilation;
}

/** A name declared in one file that other files may name: a top-level one they import, or a member or parameter of it. */
export interface ProgramSymbol {
  readonly name: string;
  /** The file that declares it. */
  readonly source: SourceId;
  /** Its name at the declaration, offsets in `source`. */
  readonly nameRange: TextRange;
  /** A top-level name (`file`), or a member or parameter of a model, variant or block (`member`). */
  readonly scope: 'file' | 'member';
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
 * The name at `offset` in `file` that other files may name: a top-level one the file declares or
 * an import brings in (its declaration in the other file), and, given `lookup` (the program's
 * files by id), a member or parameter, wherever it is declared. Undefined for builtins and loop
 * variables (one file's own), and for members without `lookup`.
 */
export function programSymbolAt(file: ProgramFile, offset: number, lookup?: ProgramLookup): ProgramSymbol | undefined {
  const imported = importedDefinitionAt(file.compilation, offset);
  if (imported?.declaration) return { name: imported.declaration.name, source: imported.source, nameRange: imported.targetSelectionRange, scope: 'file' };
  if (imported) return undefined;
  const tree = file.compilation.file;
  const symbol = symbolAt(tree, offset);
  if (symbol?.declaration && symbol.kind !== 'builtin' && declaresAtTopLevel(tree, symbol.declaration.start)) return { name: symbol.name, source: file.source, nameRange: symbol.declaration, scope: 'file' };
  if (!lookup) return undefined;
  const chain = ancestorsAt(tree, offset);
  const id = chain[chain.length - 1];
  if (id?.kind !== 'Identifier') return undefined;
  const meaning = programMeaningOf(file, chain, id.range, lookup);
  if (!meaning) return undefined;
  const { declaration } = meaning;
  const declaring = declaration.source === file.source ? file : lookup(declaration.source);
  // Loop variables stay in their comprehension; top-level names were answered above.
  if (!declaring || declaresAtTopLevel(declaring.compilation.file, declaration.nameRange.start) || symbolAt(declaring.compilation.file, declaration.nameRange.start)?.kind === 'loop-variable') return undefined;
  return { name: declaration.name, source: declaration.source, nameRange: declaration.nameRange, scope: 'member' };
}

/** Whether a file declares a top-level name (a constant, block, model or variant) at `start`. */
function declaresAtTopLevel(tree: SourceFile, start: number): boolean {
  return tree.items.some((i) => i.kind !== 'Import' && i.kind !== 'Budget' && i.kind !== 'Plan' && i.name.range.start === start);
}

/** Every occurrence of a program symbol in one file: the declaring file's own, or an importer's (members need `lookup`). */
export function occurrencesInFile(file: ProgramFile, symbol: ProgramSymbol, lookup?: ProgramLookup): Occurrence[] {
  const tree = file.compilation.file;
  if (file.source === symbol.source) {
    const local = symbolAt(tree, symbol.nameRange.start);
    return local?.declaration?.start === symbol.nameRange.start ? occurrencesOf(tree, local) : [];
  }
  if (symbol.scope === 'member') return lookup && file.compilation.imported.some((f) => f.source === symbol.source) ? memberOccurrences(file, symbol, lookup) : [];
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

/** Where a member or parameter declared in another file occurs in this one. */
function memberOccurrences(file: ProgramFile, symbol: ProgramSymbol, lookup: ProgramLookup): Occurrence[] {
  const out: Occurrence[] = [];
  forEachIdentifier(file.compilation.file, (id, chain) => {
    if (id.text !== symbol.name) return;
    const meaning = programMeaningOf(file, chain, id.range, lookup);
    if (meaning && means(meaning, symbol)) out.push({ range: id.range, declaring: meaning.declaring });
  });
  return out.sort((a, b) => a.range.start - b.range.start);
}

function means(meaning: ProgramMeaning, symbol: ProgramSymbol): boolean {
  return meaning.declaration.source === symbol.source && meaning.declaration.nameRange.start === symbol.nameRange.start;
}

/** The program's files by id, when the caller hands in all it knows. */
export function lookupIn(files: readonly ProgramFile[]): ProgramLookup {
  const byId = new Map(files.map((f) => [f.source, f]));
  return (source) => byId.get(source);
}

/** The symbol at `offset` and its occurrences in every file given that sees it (files without any left out). */
export function programOccurrencesAt(files: readonly ProgramFile[], at: ProgramFile, offset: number, lookup: ProgramLookup = lookupIn(files)): { symbol: ProgramSymbol; files: FileOccurrences[] } | undefined {
  const symbol = programSymbolAt(at, offset, lookup);
  if (!symbol) return undefined;
  const out: FileOccurrences[] = [];
  const seen = new Set<SourceId>();
  for (const file of [at, ...files]) {
    if (seen.has(file.source)) continue;
    seen.add(file.source);
    const occurrences = occurrencesInFile(file, symbol, lookup);
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
export function programRenameEdits(files: readonly ProgramFile[], symbol: ProgramSymbol, newName: string, lookup: ProgramLookup = lookupIn(files)): ProgramRenameResult {
  const invalid = invalidNewName(newName);
  if (invalid) return { ok: false, message: invalid };
  if (newName === symbol.name) return { ok: true, edits: [] };
  if (symbol.scope === 'member') return renameMember(files, symbol, newName, lookup);
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

/**
 * Renames a member or parameter in the file that declares it (checked there as a single-file
 * rename is) and where other files name it, or says why not. A rename is safe exactly when it
 * changes no name's meaning, so that is checked across the program as rename.ts checks one file:
 * every file given is compiled again with the renamed texts, and each identifier spelt like the
 * old or the new name must mean the same declaration as before (the renamed ones the renamed one).
 */
function renameMember(files: readonly ProgramFile[], symbol: ProgramSymbol, newName: string, lookup: ProgramLookup): ProgramRenameResult {
  const declaring = files.find((f) => f.source === symbol.source) ?? lookup(symbol.source);
  if (!declaring) return { ok: false, message: `Cannot rename '${symbol.name}': ${fileName(symbol.source)}, the file that declares it, could not be read.` };
  const own = renameInFile(declaring.compilation.text, declaring.compilation.file, symbol.nameRange.start, newName);
  if (!own.ok) return own;
  const edits: { source: SourceId; edits: readonly TextEdit[] }[] = own.edits.length > 0 ? [{ source: symbol.source, edits: own.edits }] : [];
  for (const file of files) {
    if (file.source === symbol.source) continue;
    const occurrences = occurrencesInFile(file, symbol, lookup);
    if (occurrences.length > 0) edits.push({ source: file.source, edits: occurrences.map((o) => ({ range: o.range, newText: newName })) });
  }
  const changed = changedMeaning(files, declaring, symbol, newName, edits, lookup);
  return changed ? { ok: false, message: changed } : { ok: true, edits };
}

/** The first identifier of `files` spelt like the old or new name whose meaning the renamed program changes, in words; undefined when none. */
function changedMeaning(files: readonly ProgramFile[], declaring: ProgramFile, symbol: ProgramSymbol, newName: string, edits: readonly { source: SourceId; edits: readonly TextEdit[] }[], lookup: ProgramLookup): string | undefined {
  const delta = newName.length - symbol.name.length;
  const starts = new Map(edits.map((e) => [e.source, e.edits.map((x) => x.range.start)]));
  // Edits never overlap: an offset moves by delta per edit before it.
  const moved = (source: SourceId, o: number): number => o + (starts.get(source) ?? []).filter((s) => s < o).length * delta;
  const original = (source: SourceId): string | undefined =>
    (files.find((f) => f.source === source) ?? lookup(source))?.compilation.text ?? files.flatMap((f) => f.compilation.imported).find((f) => f.source === source)?.text;
  const renamed = new Map(edits.map((e) => [e.source, applyEdits(original(e.source) ?? '', e.edits)]));
  const resolve = declaring.compilation.options.imports?.resolve;
  const host = { read: (source: SourceId) => renamed.get(source) ?? original(source), ...(resolve ? { resolve } : {}), cache: new ParsedSources() };
  const compiled = new Map<SourceId, ProgramFile | undefined>();
  const after: ProgramLookup = (source) => {
    if (!compiled.has(source)) {
      const text = host.read(source);
      compiled.set(source, text === undefined ? undefined : { source, compilation: compile(text, { source, imports: host }) });
    }
    return compiled.get(source);
  };
  const names = new Set([symbol.name, newName]);
  const where = (m: ProgramMeaning | undefined, at: (source: SourceId, o: number) => number): string => (m ? `${m.declaration.source}|${at(m.declaration.source, m.declaration.nameRange.start)}` : 'nothing');
  // The declaring file was checked as one file is (it imports none of the others); a file that
  // neither changes nor imports one that does means what it meant.
  const affected = files.filter((f) => f.source !== declaring.source && (renamed.has(f.source) || f.compilation.imported.some((i) => renamed.has(i.source))));
  for (const file of affected) {
    const before: { start: number; meaning: string }[] = [];
    forEachIdentifier(file.compilation.file, (id, chain) => {
      if (names.has(id.text)) before.push({ start: id.range.start, meaning: where(programMeaningOf(file, chain, id.range, lookup), moved) });
    });
    if (before.length === 0) continue;
    const now = after(file.source);
    if (!now) continue;
    const meanings = new Map<number, string>();
    forEachIdentifier(now.compilation.file, (id, chain) => {
      if (names.has(id.text)) meanings.set(id.range.start, where(programMeaningOf(now, chain, id.range, after), (_, o) => o));
    });
    for (const b of before) {
      if ((meanings.get(moved(file.source, b.start)) ?? 'nothing') === b.meaning) continue;
      const at = lineColumn(file.compilation.text, b.start);
      return `Cannot rename '${symbol.name}' to '${newName}': in ${fileName(file.source)} at line ${at.line}, column ${at.column} the name would then refer to something else than it does now.`;
    }
  }
  return undefined;
}
