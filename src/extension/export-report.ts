// NPAS: Export Budget Report… — writes the JSON budget report of the active `.npas` document
// (unsaved edits included) to a file the user picks. The language server writes the report
// (`npas/budgetReport`) from the compilation and settings its diagnostics and hovers use —
// per-class and per-path dtypes and the devices file included — with the CLI's own writer, so
// the file is byte-for-byte what `npas budget FILE --json` prints at the same settings: one shape
// for scripts, whichever front end wrote it. Exact integers stay exact. The extension host runs
// no engine work for it: without a running server it says so and writes nothing, rather than
// compute numbers at settings the server would apply differently.

import * as vscode from 'vscode';
import { RequestType, type LanguageClient } from 'vscode-languageclient/node';
import { BUDGET_REPORT_METHOD, type BudgetReportAnswer, type BudgetReportParams } from '../protocol/lsp-extensions.js';
import { baseName, confirmReplace, sibling, writeText, specStem } from './output-files.js';

const BudgetReportRequest = new RequestType<BudgetReportParams, BudgetReportAnswer | null, void>(BUDGET_REPORT_METHOD);

export type ExportOutcome =
  | { readonly status: 'written'; readonly uri: string; readonly models: number; readonly violated: number }
  | { readonly status: 'spec-errors'; readonly errors: readonly string[] }
  | { readonly status: 'no-document' }
  | { readonly status: 'server-unavailable'; readonly message: string }
  | { readonly status: 'cancelled' };

export async function exportReport(log: vscode.LogOutputChannel, running: () => Promise<LanguageClient | undefined>, source?: vscode.Uri, target?: vscode.Uri): Promise<ExportOutcome> {
  const document = source ? await vscode.workspace.openTextDocument(source) : activeNpasDocument();
  if (!document) {
    void vscode.window.showInformationMessage('NPAS: open a .npas file to export its budget report.');
    return { status: 'no-document' };
  }
  const client = await running();
  if (!client?.isRunning()) return serverUnavailable(log, 'the NPAS language server is not running (see the NPAS Studio output): it computes the report at the editor\'s settings, so nothing was written. `npas budget FILE --json` writes the same report from a terminal.');
  const stem = specStem(baseName(document.uri)) || 'spec';
  const destination =
    target ??
    (await vscode.window.showSaveDialog({
      title: `Export the budget report of ${baseName(document.uri)}`,
      saveLabel: 'Export',
      defaultUri: document.isUntitled ? undefined : sibling(document.uri, `${stem}.budget.json`),
      filters: { JSON: ['json'] },
    }));
  if (!destination) return { status: 'cancelled' };
  // A dialog already asked before replacing; a path given as an argument is asked about here.
  if (target && !(await confirmReplace(destination))) return { status: 'cancelled' };

  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `NPAS: exporting the budget report of ${baseName(document.uri)}`, cancellable: true },
    async (progress, token): Promise<ExportOutcome> => {
      progress.report({ message: 'analysing…' });
      // A request cancelled with the notification may be answered by an error: that is a cancellation.
      const answer = await client.sendRequest(BudgetReportRequest, { uri: client.code2ProtocolConverter.asUri(document.uri) }, token).catch((e: unknown) => {
        if (token.isCancellationRequested) return null;
        throw e;
      });
      if (token.isCancellationRequested) return { status: 'cancelled' };
      if (answer === null) return serverUnavailable(log, `the language server has no open copy of ${baseName(document.uri)}; nothing was written.`);
      if (answer.kind === 'errors') {
        const errors = answer.errors.map((e) => `${document.uri.fsPath || baseName(document.uri)}:${e.range.start.line + 1}:${e.range.start.character + 1}: error ${e.code}: ${e.message}`);
        const shown = errors.slice(0, 3).join('; ');
        log.error(`Budget report not written: the spec has errors:\n${errors.join('\n')}`);
        void vscode.window.showErrorMessage(`NPAS: no report written, the spec has errors: ${shown}${errors.length > 3 ? ' …' : ''}`);
        return { status: 'spec-errors', errors };
      }
      progress.report({ message: 'writing…' });
      await writeText(destination, answer.json);
      const { models, violated } = answer;
      const note = violated > 0 ? ` ${violated} budget constraint${violated === 1 ? ' is' : 's are'} violated ("ok": false).` : '';
      log.info(`Wrote the budget report of ${document.uri.toString(true)} (${models} models, at ${JSON.stringify(answer.settings)}) to ${destination.toString(true)}`);
      void vscode.window.showInformationMessage(`NPAS: wrote the budget report of ${models} model${models === 1 ? '' : 's'} to ${vscode.workspace.asRelativePath(destination)}.${note}`);
      return { status: 'written', uri: destination.toString(), models, violated };
    },
  );
}

function activeNpasDocument(): vscode.TextDocument | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document?.languageId === 'npas' ? document : undefined;
}

function serverUnavailable(log: vscode.LogOutputChannel, message: string): ExportOutcome {
  log.error(`Budget report not written: ${message}`);
  void vscode.window.showErrorMessage(`NPAS: no budget report: ${message}`);
  return { status: 'server-unavailable', message };
}
