// A document compiled on the extension host — one of the few places the host runs the engine
// (test/tidy/host-engine.test.ts lists them with their reasons; nothing that runs on an edit
// reaches this file): the models a quick pick offers where no language server runs, and the files a child process (`npas export-onnx`, `npas probe`)
// should read the spec from, with the imports it reaches as the editor has them
// (scratch-program.ts). Imports are followed as the language server follows them
// (docs/language.md, "Imports"): relative to the document's file, read from the open documents
// first, then disk. An untitled document has no folder: its imports are reported, not followed.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { Compilation } from '../core/index.js';
import { baseName } from './output-files.js';
import { writeScratchProgram } from './scratch-program.js';

const core = () => import('../core/index.js');

export async function compileDocument(document: vscode.TextDocument): Promise<Compilation> {
  const { compile, ParsedSources } = await core();
  const text = document.getText();
  if (document.uri.scheme !== 'file') return compile(text);
  const read = (path: string): string | undefined => {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === path);
    if (open) return open.getText();
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  return compile(text, { source: document.uri.fsPath, imports: { read, resolve: (importer, imported) => join(dirname(importer), imported), cache: new ParsedSources() } });
}

/**
 * The file a child process (`npas export-onnx`, `npas probe`) should read the spec from, so it
 * compiles what the editor shows: the document's own file when it and every open file its
 * imports reach are saved; otherwise a copy under `scratch` beside copies of the files its
 * imports reach, read as the editor reads them (open documents first, then disk), so the
 * imports resolve relative to the document and unsaved edits of a library count. An untitled
 * document has no folder: it is copied alone and its imports are reported, not followed.
 */
export async function specPathForChild(document: vscode.TextDocument, scratch: string): Promise<string> {
  const file = baseName(document.uri) || 'spec';
  if (document.uri.scheme !== 'file' || document.isUntitled) return writeScratchProgram(scratch, { path: join(scratch, 'untitled', file.endsWith('.npas') ? file : `${file}.npas`), text: document.getText() }, []);
  const compilation = await compileDocument(document);
  const dirty = (path: string): boolean => vscode.workspace.textDocuments.some((d) => d.uri.scheme === 'file' && d.uri.fsPath === path && d.isDirty);
  if (!document.isDirty && !compilation.imported.some((f) => dirty(f.source))) return document.uri.fsPath;
  return writeScratchProgram(
    scratch,
    { path: document.uri.fsPath, text: compilation.text },
    compilation.imported.map((f) => ({ path: f.source, text: f.text })),
  );
}
