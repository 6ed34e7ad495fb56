// The status bar item: the stored parameters of the model the cursor is in (else the file's
// first model) in the active `.npas` editor, from the server's `npas/modelReports`.
// Typing re-asks the server after a pause (a debounce, so a burst of keystrokes costs one
// request, and an answer to an older request is dropped); moving the cursor only re-picks the
// model from the last answer; switching editors asks at once.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { ModelReportsResult } from '../protocol/lsp-extensions.js';
import { compactCount, exactCount } from './format-numbers.js';
import { fetchModelReports, modelAt } from './model-reports.js';

/** What the item shows, for tests (the status bar itself is not readable through the API). */
export interface StatusBarSnapshot {
  readonly visible: boolean;
  readonly text: string;
  readonly tooltip: string;
  /** The model shown, if any. */
  readonly model: string | undefined;
  /** The document version the numbers were computed from. */
  readonly version: number | null;
}

const EDIT_DEBOUNCE_MS = 250;

export class ModelStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('npas.modelParams', vscode.StatusBarAlignment.Left, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private readonly updated = new vscode.EventEmitter<StatusBarSnapshot>();
  private last: { readonly uri: string; readonly result: ModelReportsResult } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: vscode.CancellationTokenSource | undefined;
  private lastFailure: string | undefined;
  private current: StatusBarSnapshot = { visible: false, text: '', tooltip: '', model: undefined, version: null };

  /** Fires after every render, so tests wait on an event rather than a sleep. */
  readonly onDidUpdate = this.updated.event;

  constructor(
    private readonly client: () => LanguageClient | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.item.name = 'NPAS Model Parameters';
    this.item.command = 'npas.compareVariants';
    this.disposables.push(
      this.item,
      this.updated,
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh(0)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document && e.contentChanges.length > 0) this.refresh(EDIT_DEBOUNCE_MS);
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.render();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('npas.analysis')) this.refresh(EDIT_DEBOUNCE_MS);
      }),
    );
  }

  snapshot(): StatusBarSnapshot {
    return this.current;
  }

  /** Re-asks the server for the active editor's document after `delayMs`. */
  refresh(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.fetch();
    }, delayMs);
  }

  private async fetch(): Promise<void> {
    const document = vscode.window.activeTextEditor?.document;
    const client = this.client();
    this.inFlight?.cancel();
    if (!document || document.languageId !== 'npas' || !client?.isRunning()) {
      this.render();
      return;
    }
    const source = new vscode.CancellationTokenSource();
    this.inFlight = source;
    try {
      const result = await fetchModelReports(client, document, source.token);
      if (source.token.isCancellationRequested) return;
      this.last = { uri: document.uri.toString(), result };
      this.lastFailure = undefined;
    } catch (e) {
      if (source.token.isCancellationRequested) return;
      this.last = undefined;
      // Logged once per distinct failure, not once per keystroke.
      const message = `Status bar: npas/modelReports failed: ${e instanceof Error ? e.message : String(e)}`;
      if (message !== this.lastFailure) this.log.warn(message);
      this.lastFailure = message;
    } finally {
      if (this.inFlight === source) this.inFlight = undefined;
      source.dispose();
    }
    this.render();
  }

  private render(): void {
    const editor = vscode.window.activeTextEditor;
    const last = this.last;
    if (!editor || editor.document.languageId !== 'npas' || !last || last.uri !== editor.document.uri.toString()) {
      this.show({ visible: false, text: '', tooltip: '', model: undefined, version: null });
      return;
    }
    const { result } = last;
    const model = modelAt(result.models, editor.selection.active);
    if (!model) {
      const why = result.errorCount > 0 ? 'fix the errors to see its numbers' : 'it declares no model';
      this.show({ visible: true, text: '$(circle-slash) NPAS: no model', tooltip: `This file has no analysable model: ${why}.`, model: undefined, version: result.version });
      return;
    }
    const failed = model.budgets.filter((b) => !b.ok).length;
    const s = result.settings;
    const tooltip = [
      `${model.name} (${model.kind}${model.base ? ` of ${model.base}` : ''})`,
      `stored ${exactCount(model.params.stored)}`,
      `effective ${exactCount(model.params.effective)}`,
      `active ${exactCount(model.params.active)}`,
      `trainable ${exactCount(model.params.trainable)}`,
      `at seq ${s.sequenceLength}, batch ${s.batchSize}, ${s.dtype}, ${s.device}`,
      ...(s.sharedPrefixTokens ? [`a ${s.sharedPrefixTokens}-token prompt shared by ${s.continuations ?? 1} continuations`] : []),
      ...(failed > 0 ? [`${failed} budget constraint${failed === 1 ? '' : 's'} violated`] : []),
      ...(result.errorCount > 0 ? [`${result.errorCount} error${result.errorCount === 1 ? '' : 's'} in the file: the numbers may be partial`] : []),
      'Click to compare all models and variants.',
    ].join('\n');
    this.show({
      visible: true,
      text: `${failed > 0 ? '$(warning)' : '$(database)'} ${model.name}: ${compactCount(model.params.stored)} params`,
      tooltip,
      model: model.name,
      version: result.version,
      warning: failed > 0,
    });
  }

  private show(snapshot: StatusBarSnapshot & { readonly warning?: boolean }): void {
    const { warning, ...shown } = snapshot;
    this.current = shown;
    this.item.text = shown.text;
    this.item.tooltip = shown.tooltip;
    // A violated budget colours the item, as the Problems count does for errors.
    this.item.backgroundColor = warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (shown.visible) this.item.show();
    else this.item.hide();
    this.updated.fire(shown);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.inFlight?.cancel();
    for (const d of this.disposables) d.dispose();
  }
}
