// NPAS: Export Budget Report… — writes the JSON budget report of the active `.npas` document
// (unsaved edits included) at the `npas.analysis` settings to a file the user picks. The report
// is produced by the CLI's own `npas budget --json` code run in-process on the editor's text, so
// the file is byte-for-byte what `npas budget FILE --json --seq … --batch … --dtype … --device …`
// prints: one shape for scripts, whichever front end wrote it. Exact integers stay exact.
// The CLI and core are loaded on first use, not at activation.

import * as vscode from 'vscode';
import { baseName, confirmReplace, sibling, writeText, specStem } from './output-files.js';
import { PRECISION_SETTING_KEYS } from '../protocol/lsp-extensions.js';
import type { AnalysisSettings } from './settings-schema.js';

export type ExportOutcome =
  | { readonly status: 'written'; readonly uri: string; readonly models: number; readonly violated: number }
  | { readonly status: 'spec-errors'; readonly errors: readonly string[] }
  | { readonly status: 'no-document' }
  | { readonly status: 'cancelled' };

export async function exportReport(log: vscode.LogOutputChannel, analysis: AnalysisSettings, source?: vscode.Uri, target?: vscode.Uri): Promise<ExportOutcome> {
  const document = source ? await vscode.workspace.openTextDocument(source) : activeNpasDocument();
  if (!document) {
    void vscode.window.showInformationMessage('NPAS: open a .npas file to export its budget report.');
    return { status: 'no-document' };
  }
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
      const run = await budgetJson(document.uri.fsPath || baseName(document.uri), document.getText(), analysis);
      if (token.isCancellationRequested) return { status: 'cancelled' };
      if (run.kind === 'errors') {
        const shown = run.errors.slice(0, 3).join('; ');
        log.error(`Budget report not written: the spec has errors:\n${run.errors.join('\n')}`);
        void vscode.window.showErrorMessage(`NPAS: no report written, the spec has errors: ${shown}${run.errors.length > 3 ? ' …' : ''}`);
        return { status: 'spec-errors', errors: run.errors };
      }
      progress.report({ message: 'writing…' });
      await writeText(destination, run.json);
      // Parsed only to count; the file keeps the exact integers JSON.parse would round.
      const report = JSON.parse(run.json) as { models: { budgets: { ok: boolean }[] }[] };
      const models = report.models.length;
      const violated = report.models.reduce((n, m) => n + m.budgets.filter((b) => !b.ok).length, 0);
      const note = violated > 0 ? ` ${violated} budget constraint${violated === 1 ? ' is' : 's are'} violated ("ok": false).` : '';
      log.info(`Wrote the budget report of ${document.uri.toString(true)} (${models} models) to ${destination.toString(true)}`);
      void vscode.window.showInformationMessage(`NPAS: wrote the budget report of ${models} model${models === 1 ? '' : 's'} to ${vscode.workspace.asRelativePath(destination)}.${note}`);
      return { status: 'written', uri: destination.toString(), models, violated };
    },
  );
}

function activeNpasDocument(): vscode.TextDocument | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document?.languageId === 'npas' ? document : undefined;
}

type BudgetRun = { readonly kind: 'report'; readonly json: string } | { readonly kind: 'errors'; readonly errors: readonly string[] };

/** `npas budget FILE --json`'s report of `text` at the given settings: the CLI's own functions, called directly. */
async function budgetJson(file: string, text: string, analysis: AnalysisSettings): Promise<BudgetRun> {
  const { budgetAnalysis, budgetJsonText } = await import('../cli/commands/budget.js');
  const { PRECISION_CLASSES, precisionFromSettings } = await import('../core/index.js');
  const precision = precisionFromSettings(Object.fromEntries(PRECISION_CLASSES.map((c) => [c, analysis[PRECISION_SETTING_KEYS[c]]])));
  const result = budgetAnalysis(file, text, { seq: analysis.sequenceLength, batch: analysis.batchSize, dtype: analysis.dtype, device: analysis.device, precision });
  // Violated budgets are still a report.
  return result.kind === 'errors' ? result : { kind: 'report', json: budgetJsonText(result.models) };
}
