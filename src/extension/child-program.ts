// What a child process (`npas export-onnx`, `npas probe`) reads the spec from, so it compiles what
// the editor shows, found without the extension host running the engine: the language server
// answers `npas/childProgram` with the document's text and every file its imports reach, as its
// compilation of the current version read them (open documents first, then disk), and the probed
// model's fingerprint in that text. The document's own file when it and those files are saved;
// otherwise scratch copies of them laid out as on disk (scratch-program.ts), so the imports
// resolve relative to the document and unsaved edits of a library count. An untitled document
// has no folder: it is copied alone and its imports are reported, not followed.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { CHILD_PROGRAM_METHOD, type ChildProgramAnswer, type ChildProgramParams } from '../protocol/lsp-extensions.js';
import { baseName } from './output-files.js';
import { writeScratchProgram } from './scratch-program.js';
import { join } from 'node:path';

export type ChildSpec =
  | {
      readonly ok: true;
      /** The file the child reads. */
      readonly specPath: string;
      /** The probed model's fingerprint in the text the child reads (absent without a server, or without `model`). */
      readonly fingerprint?: string;
    }
  | { readonly ok: false; readonly message: string };

/** Whether an open document at `uri` (a URI string, as the server names files) has unsaved edits. */
const dirty = (uri: string): boolean => vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri && d.isDirty);

/**
 * The spec file for a child process reading `document` (a probe's `model` also gets its
 * fingerprint). Without a language server holding the document, a saved document is read from
 * its file when no open spec has unsaved edits; otherwise the command says it needs the server.
 */
export async function childSpec(document: vscode.TextDocument, scratch: string, client: LanguageClient | undefined, model?: string): Promise<ChildSpec> {
  const params: ChildProgramParams = { uri: document.uri.toString(), ...(model !== undefined ? { model } : {}) };
  const answer = client ? await client.sendRequest<ChildProgramAnswer | null>(CHILD_PROGRAM_METHOD, params) : null;
  const fingerprint = answer?.fingerprint !== undefined ? { fingerprint: answer.fingerprint } : {};
  const file = baseName(document.uri) || 'spec';
  if (document.uri.scheme !== 'file' || document.isUntitled) {
    return { ok: true, specPath: writeScratchProgram(scratch, { path: join(scratch, 'untitled', file.endsWith('.npas') ? file : `${file}.npas`), text: answer?.text ?? document.getText() }, []), ...fingerprint };
  }
  if (!answer) {
    const unsaved = vscode.workspace.textDocuments.some((d) => d.languageId === 'npas' && d.isDirty);
    if (!unsaved) return { ok: true, specPath: document.uri.fsPath };
    return { ok: false, message: 'the language server is not running (or does not hold this document), and it is what reads unsaved edits for the child process: save the .npas files, or wait for the server to start' };
  }
  if (!document.isDirty && !answer.imported.some((f) => dirty(f.uri))) return { ok: true, specPath: document.uri.fsPath, ...fingerprint };
  return {
    ok: true,
    specPath: writeScratchProgram(
      scratch,
      { path: document.uri.fsPath, text: answer.text },
      answer.imported.map((f) => ({ path: vscode.Uri.parse(f.uri).fsPath, text: f.text })),
    ),
    ...fingerprint,
  };
}
