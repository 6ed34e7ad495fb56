// Rename: every occurrence of a declared symbol (model, variant, block, constant, member,
// parameter, loop variable) with its overrides and named block arguments, or a refusal that
// says why. A rename is safe exactly when it changes no name's meaning, so that is what is
// checked: the renamed text is parsed again and every identifier spelt like the old or the new
// name must resolve to the same declaration as before (the renamed ones to the renamed
// declaration). That one rule covers a duplicate in the same scope, a rename that would capture
// another name's uses, and one whose uses another declaration would capture.

import { isKeyword } from '../syntax/token.js';
import { parse } from '../syntax/parser.js';
import type { Identifier, SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { lineColumn } from '../text/line-column.js';
import type { AnalysisResult } from '../analysis/analyze.js';
import { applyEdits, type TextEdit } from './format.js';
import { occurrencesOf, resolvedIdentifiers, symbolOf, type SymbolIdentity } from './occurrences.js';
import { referenceAt, type Reference } from './references.js';
import { ancestorsAt, forEachIdentifier } from './syntax-walk.js';

export type PrepareRenameResult =
  | { readonly ok: true; readonly range: TextRange; readonly placeholder: string }
  | { readonly ok: false; readonly message: string };

export type RenameResult =
  | { readonly ok: true; readonly edits: readonly TextEdit[] }
  | { readonly ok: false; readonly message: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether the name at `offset` can be renamed: its range and current spelling, or why not. */
export function prepareRename(_text: string, analysis: AnalysisResult, offset: number): PrepareRenameResult {
  const found = renameable(analysis.file, offset);
  if (!found.ok) return found;
  return { ok: true, range: found.range, placeholder: found.symbol.name };
}

/**
 * The edits that rename the symbol at `offset` to `newName`, or a message saying why it is
 * refused. `keep` leaves some occurrences as written (they are meant to refer to something else
 * once renamed); the check then applies to the edits actually made.
 */
export function renameEdits(text: string, analysis: AnalysisResult, offset: number, newName: string, keep?: (occurrence: TextRange) => boolean): RenameResult {
  return renameInFile(text, analysis.file, offset, newName, keep);
}

/** `renameEdits` over a parsed file (a file another one imports has no analysis of its own). */
export function renameInFile(text: string, file: SourceFile, offset: number, newName: string, keep?: (occurrence: TextRange) => boolean): RenameResult {
  const found = renameable(file, offset);
  if (!found.ok) return found;
  const { symbol } = found;
  const invalid = invalidNewName(newName);
  if (invalid) return { ok: false, message: invalid };
  if (newName === symbol.name) return { ok: true, edits: [] };
  const occurrences = occurrencesOf(file, symbol);
  const kept = new Set(occurrences.filter((o) => keep?.(o.range)).map((o) => o.range.start));
  const edits: TextEdit[] = occurrences.filter((o) => !kept.has(o.range.start)).map((o) => ({ range: o.range, newText: newName }));
  const clash = findClash(text, file, symbol, newName, edits, kept);
  return clash ? { ok: false, message: clash } : { ok: true, edits };
}

/** Why `newName` cannot name anything (not a name, a keyword), or undefined when it can. */
export function invalidNewName(newName: string): string | undefined {
  if (!IDENTIFIER.test(newName)) return `'${newName}' is not a name: a name is a letter or '_' followed by letters, digits and '_'.`;
  if (isKeyword(newName)) return `'${newName}' is a keyword of the language and cannot name anything.`;
  return undefined;
}

type Renameable = { readonly ok: true; readonly symbol: SymbolIdentity; readonly range: TextRange } | { readonly ok: false; readonly message: string };

function renameable(file: SourceFile, offset: number): Renameable {
  const ref = referenceAt(file, offset);
  if (!ref) return { ok: false, message: 'There is no name here to rename.' };
  const symbol = symbolOf(ref, file);
  if (!symbol || symbol.kind === 'builtin' || !symbol.declaration) return { ok: false, message: whyNot(ref) };
  return { ok: true, symbol, range: ref.range };
}

function whyNot(ref: Reference): string {
  switch (ref.kind) {
    case 'builtin':
      if (ref.what === 'layer') return `'${ref.name}' is a builtin layer kind; only names declared in the file can be renamed.`;
      if (ref.what === 'function') return `'${ref.name}' is a builtin function; only names declared in the file can be renamed.`;
      if (ref.what === 'symbol') return `'${ref.name}' is a builtin name; only names declared in the file can be renamed.`;
      return `'${ref.name}' is not declared anywhere, so there is nothing to rename.`;
    case 'model':
      return `'${ref.name}' is not a model or variant of this file, so there is nothing to rename.`;
    case 'path':
      return ref.weight ? `'${ref.weight.weight}' is a weight of a layer; its name is fixed by the layer kind.` : 'This path segment names nothing declared in the file.';
    case 'argument':
      return `'${ref.name}' is an argument of a builtin layer kind; its name is fixed by the layer kind.`;
    case 'method':
      return `'${ref.name}' is a builtin strategy or method; only names declared in the file can be renamed.`;
    case 'constraint':
      return 'A budget metric is builtin; only names declared in the file can be renamed.';
    case 'number':
      return 'A number cannot be renamed.';
    case 'definition':
      return 'There is no name here to rename.';
  }
}

/**
 * Re-parses the renamed text and compares what every identifier spelt like the old or the new
 * name resolves to; undefined when nothing changed meaning, else the first clash in words.
 */
function findClash(text: string, file: SourceFile, symbol: SymbolIdentity, newName: string, edits: readonly TextEdit[], kept: ReadonlySet<number>): string | undefined {
  const delta = newName.length - symbol.name.length;
  const starts = edits.map((e) => e.range.start);
  const renamed = new Set(starts);
  // Edits are in source order and never overlap, so an offset moves by delta per edit before it.
  const mapOffset = (o: number): number => {
    // Binary search: how many edits start before o.
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! < o) lo = mid + 1;
      else hi = mid;
    }
    return o + lo * delta;
  };
  const newText = applyEdits(text, edits);
  const newFile = parse(newText).file;
  const signature = (sym: SymbolIdentity | undefined, declarationAt: (o: number) => number, nameOf: (s: SymbolIdentity) => string): string =>
    sym ? `${sym.kind}|${nameOf(sym)}|${sym.declaration ? declarationAt(sym.declaration.start) : '-'}` : 'nothing';
  const declarationLine = (sym: SymbolIdentity | undefined): string => (sym?.declaration ? ` (the ${describeKind(sym)} declared at line ${lineColumn(newText, sym.declaration.start).line})` : '');

  const names = new Set([symbol.name, newName]);
  const after = new Map(resolvedIdentifiers(newFile, names).map((r) => [r.range.start, symbolOf(r.reference, newFile)]));
  const before = new Map(resolvedIdentifiers(file, names).map((r) => [r.range.start, symbolOf(r.reference, file)]));
  const candidates = [...identifierRanges(file, names)];
  for (const id of candidates) {
    // An occurrence the caller keeps as written is meant to change meaning.
    if (kept.has(id.start)) continue;
    const oldSymbol = before.get(id.start);
    const expected = signature(oldSymbol, mapOffset, (s) => (s.key === symbol.key ? newName : s.name));
    const newSymbol = after.get(mapOffset(id.start));
    const actual = signature(newSymbol, (o) => o, (s) => s.name);
    if (expected === actual) continue;
    const where = lineColumn(text, id.start);
    if (renamed.has(id.start)) {
      return `Cannot rename '${symbol.name}' to '${newName}': at line ${where.line}, column ${where.column} the new name would refer to something else${declarationLine(newSymbol)}.`;
    }
    return `Cannot rename '${symbol.name}' to '${newName}': the '${text.slice(id.start, id.end)}' at line ${where.line}, column ${where.column} would then refer to the renamed ${describeKind(symbol)} instead${oldSymbol?.declaration ? ` of the ${describeKind(oldSymbol)} it names now` : ''}.`;
  }
  return duplicateDeclaration(newText, newFile, symbol, newName, mapOffset);
}

/**
 * A second declaration of the new name beside the renamed one, which the resolution check cannot
 * see when neither has a use (the first declaration of a name wins; the second is a duplicate).
 */
function duplicateDeclaration(newText: string, newFile: SourceFile, symbol: SymbolIdentity, newName: string, mapOffset: (o: number) => number): string | undefined {
  if (!symbol.declaration) return undefined;
  const declaredAt = mapOffset(symbol.declaration.start);
  const container = siblingDeclarations(newFile, declaredAt, symbol.kind === 'model');
  const other = container?.names.find((id) => id.text === newName && id.range.start !== declaredAt);
  if (!container || !other) return undefined;
  return `Cannot rename '${symbol.name}' to '${newName}': ${container.where} declares '${newName}' already, at line ${lineColumn(newText, other.range.start).line}.`;
}

/** The names declared beside the one at `declaredAt`: in the same model, variant or block, or at the top level. */
function siblingDeclarations(file: SourceFile, declaredAt: number, model: boolean): { where: string; names: Identifier[] } | undefined {
  if (model) return { where: 'the file', names: file.items.flatMap((i) => (i.kind === 'Model' || i.kind === 'Variant' ? [i.name] : [])) };
  const chain = ancestorsAt(file, declaredAt);
  const declaring = chain[chain.length - 2];
  if (!declaring || declaring.kind === 'Comprehension') return undefined;
  for (let i = chain.length - 3; i >= 0; i--) {
    const n = chain[i]!;
    if (n.kind === 'Model' || n.kind === 'Block' || n.kind === 'Variant') {
      const params = n.kind === 'Variant' ? [] : n.parameters.map((p) => p.name);
      const members = n.members.flatMap((m) => (m.kind === 'Statement' ? [] : [m.name]));
      return { where: `${n.kind.toLowerCase()} ${n.name.text}`, names: [...params, ...members] };
    }
  }
  return { where: 'the file', names: file.items.flatMap((i) => (i.kind === 'Binding' || i.kind === 'Block' ? [i.name] : [])) };
}

function describeKind(s: SymbolIdentity): string {
  switch (s.kind) {
    case 'binding':
      return 'binding';
    case 'loop-variable':
      return 'loop variable';
    default:
      return s.kind;
  }
}

/** The ranges of the identifiers spelt as one of `names`, resolved or not, in source order. */
function identifierRanges(file: SourceFile, names: ReadonlySet<string>): TextRange[] {
  const out: TextRange[] = [];
  forEachIdentifier(file, (id) => {
    if (names.has(id.text)) out.push(id.range);
  });
  return out;
}
