// Code actions: quick fixes for the engine diagnostics in the requested range (each a
// WorkspaceEdit on the diagnostic's range, attached to the client's copy of the diagnostic when
// it sent one), then the refactorings the selection allows (each one WorkspaceEdit, so one undo),
// then, on a model's or variant's declaration line, the allocator (a command the client runs).
// A request's `only` filters by kind prefix, as LSP's hierarchical kinds do.

import { CodeActionKind, CodeActionTriggerKind, type CodeAction, type Diagnostic as LspDiagnostic } from 'vscode-languageserver/node';
import { declarationHeaderAt, quickFixes, refactorings } from '../../core/index.js';
import { ALLOCATE_COMMAND } from '../../protocol/lsp-extensions.js';
import { toLspDiagnostic, toTextEdit, toTextRange } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

/** The kinds the server offers (declared in the capabilities). */
export const CODE_ACTION_KINDS = [CodeActionKind.QuickFix, CodeActionKind.Refactor, CodeActionKind.RefactorExtract, CodeActionKind.RefactorInline, CodeActionKind.RefactorRewrite];

/** Whether a requested `only` list admits an action of `kind` (`refactor` admits `refactor.extract`). */
function admitted(only: readonly string[] | undefined, kind: string): boolean {
  return !only || only.some((k) => k === CodeActionKind.Empty || k === kind || kind.startsWith(`${k}.`));
}

export function registerCodeActions(ctx: ServerContext): void {
  ctx.connection.onCodeAction(
    guard('textDocument/codeAction', ctx.log.error, [], (params): CodeAction[] => {
      const only = params.context?.only;
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      const requested = toTextRange(doc, params.range);
      const actions: CodeAction[] = [];
      if (admitted(only, CodeActionKind.QuickFix)) {
        const sent: readonly LspDiagnostic[] = params.context?.diagnostics ?? [];
        for (const d of analyzed.analysis.diagnostics) {
          // Diagnostics that touch the requested range (a cursor inside or at either end).
          if (d.range.end < requested.start || d.range.start > requested.end) continue;
          const fixes = quickFixes(analyzed.text, analyzed.analysis, d, analyzed.compilation);
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
      }
      if (CODE_ACTION_KINDS.slice(1).some((k) => admitted(only, k))) {
        // The previews analyse rewritten texts: computed when the user asks (Invoke), not for the
        // lightbulb the editor requests on every cursor move (Automatic).
        const previews = params.context?.triggerKind !== CodeActionTriggerKind.Automatic;
        for (const r of refactorings(analyzed.text, analyzed.analysis, requested, { previews })) {
          if (!admitted(only, r.kind)) continue;
          actions.push({ title: r.title, kind: r.kind, edit: { changes: { [doc.uri]: r.edits.map((e) => toTextEdit(doc, e)) } } });
        }
      }
      // On a model's or variant's declaration line: the allocator, run by the client's command.
      const header = admitted(only, CodeActionKind.RefactorRewrite) ? declarationHeaderAt(analyzed.text, analyzed.analysis.file, requested.start) : undefined;
      if (header) {
        const title = `Allocate N parameters to ${header.name}…`;
        actions.push({ title, kind: CodeActionKind.RefactorRewrite, command: { title, command: ALLOCATE_COMMAND, arguments: [{ model: header.name, document: doc.uri }] } });
      }
      return actions;
    }),
  );
}
