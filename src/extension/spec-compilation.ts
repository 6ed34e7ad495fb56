// A document compiled for the extension host's own commands (the models a quick pick offers,
// the allocator's architecture), with its imports followed as the language server follows them
// (docs/language.md, "Imports"): relative to the document's file, read from the open documents
// first, then disk. An untitled document has no folder: its imports are reported, not followed.
// And the file a child process (`npas export-onnx`, `npas probe`) should read the spec from.

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

/**
 * The document's own file when a child process may read it as it is (saved, on disk), so its
 * imports resolve relative to it; undefined when the text must be written to a scratch copy
 * (unsaved edits, an untitled document), whose imports then cannot be followed.
 */
export function savedSpecPath(document: vscode.TextDocument): string | undefined {
  return document.uri.scheme === 'file' && !document.isDirty && !document.isUntitled ? document.uri.fsPath : undefined;
}
