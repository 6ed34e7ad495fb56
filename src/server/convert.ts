// The one place where engine offsets (UTF-16 code units into the text) meet LSP positions
// (line, UTF-16 character). Everything else in the server speaks offsets with the core
// services and converts here, so line arithmetic cannot drift between features.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic as LspDiagnostic, Position, Range, TextEdit as LspTextEdit } from 'vscode-languageserver/node';
import type { Diagnostic, TextEdit, TextRange } from '../core/index.js';

/** LSP severities: 1 error, 2 warning, 3 information. */
const SEVERITY = { error: 1, warning: 2, info: 3 } as const;

export function toPosition(doc: TextDocument, offset: number): Position {
  return doc.positionAt(offset);
}

export function toOffset(doc: TextDocument, position: Position): number {
  return doc.offsetAt(position);
}

export function toRange(doc: TextDocument, range: TextRange): Range {
  return { start: doc.positionAt(range.start), end: doc.positionAt(range.end) };
}

export function toTextRange(doc: TextDocument, range: Range): TextRange {
  return { start: doc.offsetAt(range.start), end: doc.offsetAt(range.end) };
}

export function toTextEdit(doc: TextDocument, edit: TextEdit): LspTextEdit {
  return { range: toRange(doc, edit.range), newText: edit.newText };
}

/** An engine diagnostic as LSP's: stable code, exact range, severity, source `npas`. */
export function toLspDiagnostic(doc: TextDocument, d: Diagnostic): LspDiagnostic {
  return { range: toRange(doc, d.range), severity: SEVERITY[d.severity], code: d.code, source: 'npas', message: d.message };
}
