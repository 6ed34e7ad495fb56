// Go to definition and hover for what an import brings in: a name the file's own syntax does
// not define but an imported file does (`Decoder`, `d`, a base model), a name listed in a
// selective import, and the path of an import itself (→ that file). The answer names the file,
// with offsets into that file's text; the server turns those into a location in another document.

import type { Compilation, ImportedDeclaration } from '../analysis/compilation.js';
import { resolveImportPath, type SourceId } from '../imports/source-id.js';
import type { ImportDeclaration, TextRange } from '../syntax/syntax-tree.js';
import { referenceInChain } from './references.js';
import { renderValue } from './render-value.js';
import { ancestorsAt } from './syntax-walk.js';

export interface ImportedTarget {
  /** The span under the cursor. */
  readonly originRange: TextRange;
  readonly source: SourceId;
  /** The whole declaration in `source` (the file's start for an import path). */
  readonly targetRange: TextRange;
  /** Its name, to select. */
  readonly targetSelectionRange: TextRange;
  /** What is declared there (absent for an import path). */
  readonly declaration: ImportedDeclaration | undefined;
}

/** Where the imported thing at `offset` is declared; undefined when it is not an imported name or path. */
export function importedDefinitionAt(compilation: Compilation, offset: number): ImportedTarget | undefined {
  const chain = ancestorsAt(compilation.file, offset);
  const node = chain[chain.length - 1];
  const decl = chain.find((n): n is ImportDeclaration => n.kind === 'Import');
  if (!node) return undefined;
  if (decl && node === decl.path) {
    const file = compilation.imported.find((f) => f.source === compilation.importTargets.get(decl));
    if (!file) return undefined;
    const start = { start: 0, end: 0 };
    return { originRange: decl.path.range, source: file.source, targetRange: start, targetSelectionRange: start, declaration: undefined };
  }
  let name: { text: string; range: TextRange } | undefined;
  if (decl && node.kind === 'Identifier') name = node;
  else {
    const ref = referenceInChain(compilation.file, chain, offset);
    // Only names the file's own declarations leave unresolved: a local name shadows an import.
    if (ref?.kind === 'builtin' && ref.what === 'unknown') name = { text: ref.name, range: ref.range };
    else if (ref?.kind === 'model' && !ref.decl && !ref.declaring) name = { text: ref.name, range: ref.range };
  }
  const declaration = name && compilation.importedDeclaration(name.text);
  if (!name || !declaration) return undefined;
  const local = (r: TextRange): TextRange => ({ start: r.start, end: r.end });
  return { originRange: name.range, source: declaration.nameRange.source, targetRange: local(declaration.range), targetSelectionRange: local(declaration.nameRange), declaration };
}

/** The hover of an imported name: what it is, the file that declares it, its declaration's first line and, for a constant, its value. */
export function importedHoverAt(compilation: Compilation, offset: number): { range: TextRange; markdown: string } | undefined {
  const target = importedDefinitionAt(compilation, offset);
  if (!target) return undefined;
  const file = baseName(target.source);
  const d = target.declaration;
  if (!d) return { range: target.originRange, markdown: `imports \`${target.source}\`` };
  const firstLine = d.text.slice(d.range.start, d.range.end).split('\n')[0]!.trimEnd();
  const value = d.value ? ` · ${renderValue(d.value)}` : '';
  return { range: target.originRange, markdown: [`${d.kind} **${d.name}**${value} — imported from \`${file}\``, '```npas\n' + firstLine + '\n```'].join('\n\n') };
}

/**
 * Without `decl`, the names the compiled file's imports bring in: a selective import's list, a
 * whole-file import's every top-level name its file defines or itself imports (docs/language.md,
 * "Imports"). With `decl`, every name its file offers, whatever the import lists. For quick
 * fixes of misspelt imported names.
 */
export function importedNames(compilation: Compilation, decl?: ImportDeclaration): string[] {
  const out = new Set<string>();
  const files = new Map(compilation.imported.map((f) => [f.source, f.file]));
  const seen = new Set<SourceId>();
  const addFile = (source: SourceId | undefined): void => {
    const file = source === undefined ? undefined : files.get(source);
    if (!file || seen.has(source!)) return;
    seen.add(source!);
    for (const item of file.items) {
      if (item.kind === 'Import') {
        if (item.names) item.names.forEach((n) => out.add(n.text));
        else addFile(resolveImportPath(source!, item.path.value));
      } else if (item.kind !== 'Budget' && item.kind !== 'Plan' && item.name.text !== '') out.add(item.name.text);
    }
  };
  for (const [d, source] of compilation.importTargets) {
    if (decl && d !== decl) continue;
    if (d.names && !decl) d.names.forEach((n) => out.add(n.text));
    else addFile(source);
  }
  return [...out];
}

function baseName(source: SourceId): string {
  return source.slice(source.lastIndexOf('/') + 1);
}
