// A spec file as the CLI compiles it: read from disk with its imports followed relative to it
// (docs/language.md, "Imports"), and its diagnostics printed at `FILE:LINE:COL` in the file
// each one lies in — the spec itself or an imported file. A file's id is its path as the user
// gave it, normalised, with imports joined onto its folder: a relative spec path keeps its
// imports relative to the same working folder, so every path printed is one the user can open.

import { dirname, isAbsolute, join, normalize } from 'node:path';
import { compile, LineIndex, ParsedSources, type Compilation, type Diagnostic } from '../core/index.js';
import type { CliIO } from './io.js';
import { readSpec } from './commands/read-spec.js';
import { readTextFile } from './read-text-file.js';

export interface SpecProgram {
  /** The path as the user wrote it. */
  readonly path: string;
  readonly text: string;
  readonly compilation: Compilation;
}

/** Reads and compiles a spec, its imports read from disk relative to it. */
export function readSpecProgram(path: string, io: CliIO): SpecProgram {
  const text = readSpec(path, io);
  return specProgram(path, text, io.readFile);
}

/** A spec's text compiled as the file at `path`: its imports resolved from there and read with `readFile`. */
export function specProgram(path: string, text: string, readFile: (path: string) => string = readTextFile): SpecProgram {
  const host = {
    read: (file: string): string | undefined => {
      try {
        return readFile(file);
      } catch {
        return undefined;
      }
    },
    // An absolute import path names its file as written; a relative one is read from the importer's folder.
    resolve: (importer: string, imported: string): string => (isAbsolute(imported) ? normalize(imported) : join(dirname(importer), imported)),
    cache: new ParsedSources(),
  };
  return { path, text, compilation: compile(text, { source: normalize(path), imports: host }) };
}

/** Where a diagnostic lies, as `FILE:LINE:COL` (the spec's path as given, or an imported file's). */
export function diagnosticLocation(spec: SpecProgram, d: Diagnostic): string {
  const imported = spec.compilation.imported.find((f) => f.source === d.source);
  const { line, column } = lineIndexOf(spec, imported?.source, imported?.text ?? spec.text).lineColumn(d.range.start);
  return `${imported?.source ?? spec.path}:${line}:${column}`;
}

/** Each file's line index, built once per program: a spec may have an error on every line. */
const lineIndexes = new WeakMap<SpecProgram, Map<unknown, LineIndex>>();
function lineIndexOf(spec: SpecProgram, source: unknown, text: string): LineIndex {
  let byFile = lineIndexes.get(spec);
  if (!byFile) lineIndexes.set(spec, (byFile = new Map()));
  let index = byFile.get(source);
  if (!index) byFile.set(source, (index = new LineIndex(text)));
  return index;
}

/** A diagnostic as `npas check` prints it: `FILE:LINE:COL: error|warning CODE: message`. */
export function diagnosticLine(spec: SpecProgram, d: Diagnostic): string {
  return `${diagnosticLocation(spec, d)}: ${d.severity === 'error' ? 'error' : 'warning'} ${d.code}: ${d.message}`;
}
