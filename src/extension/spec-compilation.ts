// A document compiled on the extension host — one of the few places the host runs the engine
// (test/tidy/host-engine.test.ts lists them with their reasons; nothing that runs on an edit
// reaches this file): the models a quick pick offers where no language server runs (or it does
// not hold the document). The files a child process reads are the server's answer
// (child-program.ts). Imports are followed as the language server follows them
// (docs/language.md, "Imports"): relative to the document's file, read from the open documents
// first, then disk. An untitled document has no folder: its imports are reported, not followed.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { Compilation } from '../core/index.js';

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
