// Follows a file's imports to every file they reach (`import "lib.npas"`, `from "lib.npas"
// import …`; docs/language.md, "Imports"), reading each through the host's callback and parsing
// it through the host's cache. Pure: the host decides what a source id names and how to read it.
// A file that cannot be read, an import that closes a cycle and a graph past the size limits
// are reported at the import that names them; the rest of the graph is still used.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { ImportDeclaration, SourceFile } from '../syntax/syntax-tree.js';
import type { ParsedSource, ParsedSources } from './parsed-sources.js';
import { resolveImportPath, type SourceId } from './source-id.js';

/** How the core reaches other files: supplied by the CLI (disk) and the server (open documents, then disk). */
export interface ImportHost {
  /** The current text of a file, or undefined when it does not exist or cannot be read. */
  read(source: SourceId): string | undefined;
  /** The id of `path` imported by `importer` (default: `resolveImportPath`). */
  resolve?(importer: SourceId, path: string): SourceId;
  /** Where parsed files are kept between compilations (a fresh cache when absent). */
  readonly cache: ParsedSources;
}

/** Files one compilation may import, and their text in all (with the compiled file's). */
export const IMPORT_LIMITS = { files: 1000, chars: 16 * 1024 * 1024 } as const;

export interface ResolvedImports {
  /** Every file reached, each once, the files it imports before it (the compiled file excluded). */
  readonly files: readonly ParsedSource[];
  /** The file each import declaration names, where it was read and closes no cycle. */
  readonly targets: ReadonlyMap<ImportDeclaration, ParsedSource>;
  /** Missing files, cycles and limits, located at the imports (in any file of the graph). */
  readonly diagnostics: readonly Diagnostic[];
}

export const NO_IMPORTS: ResolvedImports = { files: [], targets: new Map(), diagnostics: [] };

/** The imports of `main` (a file named `source`, `mainChars` long), followed depth first. */
export function resolveImports(main: SourceFile, source: SourceId, mainChars: number, host: ImportHost): ResolvedImports {
  const importsOf = (file: SourceFile): ImportDeclaration[] => file.items.filter((i): i is ImportDeclaration => i.kind === 'Import');
  if (importsOf(main).length === 0) return NO_IMPORTS;
  const resolve = host.resolve ?? resolveImportPath;
  const files: ParsedSource[] = [];
  const targets = new Map<ImportDeclaration, ParsedSource>();
  const diagnostics: Diagnostic[] = [];
  const done = new Map<SourceId, ParsedSource | undefined>();
  /** The files being followed, outermost first: an import of one of them closes a cycle. */
  const path: SourceId[] = [source];
  let chars = mainChars;
  const error = (code: Diagnostic['code'], message: string, at: ImportDeclaration): void => {
    diagnostics.push({ code, severity: 'error', message, range: at.path.range });
  };

  // Depth first without recursion: a chain of a thousand imports must not overflow the stack.
  interface Frame { readonly source: SourceId; readonly imports: ImportDeclaration[]; next: number; readonly parsed: ParsedSource | undefined }
  const stack: Frame[] = [{ source, imports: importsOf(main), next: 0, parsed: undefined }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.imports.length) {
      stack.pop();
      path.pop();
      if (frame.parsed) {
        files.push(frame.parsed);
        done.set(frame.source, frame.parsed);
      }
      continue;
    }
    const decl = frame.imports[frame.next++]!;
    if (decl.path.value === '') {
      error('npas-import-missing', 'an import needs the path of a .npas file', decl);
      continue;
    }
    const target = resolve(frame.source, decl.path.value);
    const cycleAt = path.indexOf(target);
    if (cycleAt >= 0) {
      const chain = [...path.slice(cycleAt), target].map(baseName).join(' → ');
      error('npas-import-cycle', `this import closes a cycle: ${chain}`, decl);
      continue;
    }
    if (done.has(target)) {
      const parsed = done.get(target);
      if (parsed) targets.set(decl, parsed);
      else error('npas-import-missing', `cannot read '${decl.path.value}' (${target})`, decl);
      continue;
    }
    if (done.size + stack.length > IMPORT_LIMITS.files) {
      error('npas-eval-too-large', `more than ${IMPORT_LIMITS.files} imported files`, decl);
      continue;
    }
    const text = host.read(target);
    if (text === undefined) {
      done.set(target, undefined);
      error('npas-import-missing', `cannot read '${decl.path.value}' (${target})`, decl);
      continue;
    }
    chars += text.length;
    if (chars > IMPORT_LIMITS.chars) {
      done.set(target, undefined);
      error('npas-eval-too-large', `with '${decl.path.value}' the imported files hold more than ${IMPORT_LIMITS.chars / (1024 * 1024)} MiB of text; specs over that are not analysed`, decl);
      continue;
    }
    const parsed = host.cache.get(target, text);
    targets.set(decl, parsed);
    path.push(target);
    stack.push({ source: target, imports: importsOf(parsed.file), next: 0, parsed });
  }
  return { files, targets, diagnostics };
}

/** The last segment of a source id, for messages. */
function baseName(source: SourceId): string {
  return source.slice(source.lastIndexOf('/') + 1);
}
