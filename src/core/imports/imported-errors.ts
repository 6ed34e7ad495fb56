// An importer's view of the errors in the files it imports: one error at each of its imports
// through which a file with errors is reached, naming the first. An editor shows a file's own
// diagnostics on that file, so without it a library with an error that is not open would leave
// its importers' numbers wrong with nothing said where the user is looking.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { ImportDeclaration, SourceFile } from '../syntax/syntax-tree.js';
import { lineColumn } from '../text/line-column.js';
import type { ParsedSource } from './parsed-sources.js';
import type { ResolvedImports } from './resolve-imports.js';
import type { SourceSet } from './source-set.js';

export function importedErrorSummaries(main: SourceFile, imports: ResolvedImports, sources: SourceSet, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const errorsIn = new Map<string, Diagnostic[]>();
  const seen = new Set<string>();
  for (const d of diagnostics) {
    if (d.severity !== 'error' || sources.isMain(d.range)) continue;
    // A block evaluated for several argument sets reports the same error once.
    const key = `${d.range.start}:${d.range.end}:${d.code}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const source = sources.entryOf(d.range).source ?? '';
    errorsIn.set(source, [...(errorsIn.get(source) ?? []), d]);
  }
  if (errorsIn.size === 0) return [];
  const out: Diagnostic[] = [];
  for (const item of main.items) {
    if (item.kind !== 'Import') continue;
    const target = imports.targets.get(item);
    if (!target) continue;
    const errors = reachedFrom(target, imports).flatMap((f) => errorsIn.get(f.source) ?? []);
    const first = errors[0];
    if (!first) continue;
    const located = sources.locate(first.range);
    const text = sources.entryOf(first.range).text;
    const { line, column } = lineColumn(text, located.range.start);
    const where = `${located.source ?? ''}:${line}:${column}`;
    out.push({
      code: 'npas-import-errors',
      severity: 'error',
      message: `${errors.length === 1 ? 'an error' : `${errors.length} errors`} in the imported files (first: ${where}: ${first.code}: ${first.message})`,
      range: item.path.range,
    });
  }
  return out;
}

/** The file an import names and every file it reaches through its own imports, each once. */
function reachedFrom(start: ParsedSource, imports: ResolvedImports): ParsedSource[] {
  const out: ParsedSource[] = [];
  const visited = new Set<ParsedSource>([start]);
  const work = [start];
  while (work.length > 0) {
    const file = work.pop()!;
    out.push(file);
    for (const item of file.file.items) {
      const next = item.kind === 'Import' ? imports.targets.get(item as ImportDeclaration) : undefined;
      if (next && !visited.has(next)) {
        visited.add(next);
        work.push(next);
      }
    }
  }
  return out;
}
