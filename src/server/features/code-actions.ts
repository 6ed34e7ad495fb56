// Quick fixes for the engine diagnostics in the requested range: each a WorkspaceEdit on the
// diagnostic's range, attached to the client's copy of the diagnostic when it sent one.

import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic } from 'vscode-languageserver/node';
import { quickFixes } from '../../core/index.js';
import { toLspDiagnostic, toTextEdit, toTextRange } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerCodeActions(ctx: ServerContext): void {
  ctx.connection.onCodeAction(
    guard('textDocument/codeAction', ctx.log.error, [], (params): CodeAction[] => {
      const only = params.context?.only;
      if (only && !only.some((k) => k === CodeActionKind.QuickFix || k === CodeActionKind.Empty || CodeActionKind.QuickFix.startsWith(`${k}.`))) return [];
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      const requested = toTextRange(doc, params.range);
      const sent: readonly LspDiagnostic[] = params.context?.diagnostics ?? [];
      const actions: CodeAction[] = [];
      for (const d of analyzed.analysis.diagnostics) {
        // Diagnostics that touch the requested range (a cursor inside or at either end).
        if (d.range.end < requested.start || d.range.start > requested.end) continue;
        const fixes = quickFixes(analyzed.text, analyzed.analysis, d);
        if (fixes.length === 0) continue;
        const lsp = toLspDiagnostic(doc, d);
        const theirs = sent.find((s) => s.code === d.code && s.range.start.line === lsp.range.start.line && s.range.start.character === lsp.range.start.character && s.range.end.line === lsp.range.end.line && s.range.end.character === lsp.range.end.character);
        for (const f of fixes) {
          actions.push({
            title: f.title,
            kind: CodeActionKind.QuickFix,
            diagnostics: [theirs ?? lsp],
            isPreferred: f.preferred,
            edit: { changes: { [doc.uri]: f.edits.map((e) => toTextEdit(doc, e)) } },
          });
        }
      }
      return actions;
    }),
  );
}
