// NPAS: Compare Variants — every model and variant of the active `.npas` file side by side:
// stored / effective / active params, FLOPs, KV cache and budgets, from the server's
// `npas/modelReports` (the same numbers as hovers and code lenses). Shown as a quick pick
// (choosing a model jumps to it) with an entry that opens the same comparison as a Markdown
// table in the preview. The command resolves once the comparison is shown, with its rows, so
// callers (tests, other extensions) get the data without waiting on the picker.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { ModelReportsResult, ModelSummaryJson } from '../protocol/lsp-extensions.js';
import { bytes, exactCount, flops } from './format-numbers.js';
import { fetchModelReports } from './model-reports.js';
import { baseName, specStem } from './output-files.js';

export type CompareView = 'quickPick' | 'markdown' | 'none';

export interface ComparisonRow {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  readonly base: string | null;
  readonly stored: string;
  readonly effective: string;
  readonly active: string;
  readonly prefillFlopsPerToken: string;
  readonly decodeFlops: string;
  readonly kvCacheBytes: string;
  readonly budgetsViolated: number;
}

export type CompareOutcome =
  | { readonly status: 'shown'; readonly view: CompareView; readonly rows: readonly ComparisonRow[]; readonly markdown: string }
  | { readonly status: 'no-document' | 'no-models' | 'server-unavailable' | 'cancelled' };

/** Holds the Markdown tables behind `npas-compare:` URIs, which the Markdown preview renders. */
export class ComparisonDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'npas-compare';
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(ComparisonDocuments.scheme, this);

  set(name: string, markdown: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: ComparisonDocuments.scheme, path: `/${name}` });
    this.contents.set(uri.path, markdown);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.path) ?? '';
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}

export async function compareVariants(
  client: LanguageClient | undefined,
  documents: ComparisonDocuments,
  view: CompareView = 'quickPick',
  source?: vscode.Uri,
  showDashboard?: (document: vscode.TextDocument) => Thenable<unknown>,
): Promise<CompareOutcome> {
  const document = source ? await vscode.workspace.openTextDocument(source) : vscode.window.activeTextEditor?.document;
  if (!document || document.languageId !== 'npas') {
    void vscode.window.showInformationMessage('NPAS: open a .npas file to compare its models and variants.');
    return { status: 'no-document' };
  }
  if (!client?.isRunning()) {
    void vscode.window.showErrorMessage('NPAS: the language server is not running, so there are no numbers to compare (see the NPAS Studio output).');
    return { status: 'server-unavailable' };
  }
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `NPAS: analysing ${baseName(document.uri)}`, cancellable: true },
    async (_progress, token) => {
      const reports = await fetchModelReports(client, document, token);
      return token.isCancellationRequested ? undefined : reports;
    },
  );
  if (!result) return { status: 'cancelled' };
  if (result.models.length === 0) {
    const why = result.errorCount > 0 ? 'it has errors to fix first' : 'it declares no model or variant';
    void vscode.window.showInformationMessage(`NPAS: nothing to compare in ${baseName(document.uri)}: ${why}.`);
    return { status: 'no-models' };
  }
  const rows = result.models.map(toRow);
  const markdown = renderMarkdown(baseName(document.uri), result, rows);
  const showTable = async (): Promise<void> => {
    const uri = documents.set(`${specStem(baseName(document.uri))} — variants.md`, markdown);
    await showMarkdown(uri);
  };
  if (view === 'markdown') await showTable();
  else if (view === 'quickPick') showPicker(document, result.models, showTable, showDashboard && (() => showDashboard(document)));
  return { status: 'shown', view, rows, markdown };
}

function toRow(m: ModelSummaryJson): ComparisonRow {
  return {
    name: m.name,
    kind: m.kind,
    base: m.base,
    stored: m.params.stored,
    effective: m.params.effective,
    active: m.params.active,
    prefillFlopsPerToken: m.flops.prefillPerToken,
    decodeFlops: m.flops.decode,
    kvCacheBytes: m.kvCacheBytes,
    budgetsViolated: m.budgets.filter((b) => !b.ok).length,
  };
}

/** The comparison as a Markdown table, exact counts with digit grouping. */
export function renderMarkdown(file: string, result: ModelReportsResult, rows: readonly ComparisonRow[]): string {
  const s = result.settings;
  const lines = [
    `# Models and variants of ${file}`,
    '',
    `At sequence length ${s.sequenceLength}, batch ${s.batchSize}, ${s.dtype}, ${s.device}${s.sharedPrefixTokens ? `, a ${s.sharedPrefixTokens}-token prompt shared by ${s.continuations ?? 1} continuations` : ''}. A multiply-add counts 2 FLOPs.`,
    ...(result.errorCount > 0 ? ['', `**${result.errorCount} error${result.errorCount === 1 ? '' : 's'} in the file: some numbers may be partial.**`] : []),
    '',
    '| model | kind | stored params | effective params | active params | prefill FLOPs / token | decode FLOPs / token | KV cache | budgets |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|',
    ...rows.map((r) =>
      [
        `**${r.name}**`,
        r.kind === 'variant' ? `variant of ${r.base ?? '?'}` : 'model',
        exactCount(r.stored),
        exactCount(r.effective),
        exactCount(r.active),
        flops(r.prefillFlopsPerToken),
        flops(r.decodeFlops),
        bytes(r.kvCacheBytes),
        r.budgetsViolated > 0 ? `${r.budgetsViolated} violated` : 'ok',
      ].join(' | '),
    ).map((line) => `| ${line} |`),
    '',
  ];
  return lines.join('\n');
}

interface ModelPick extends vscode.QuickPickItem {
  readonly model?: ModelSummaryJson;
  readonly dashboard?: boolean;
}

function showPicker(document: vscode.TextDocument, models: readonly ModelSummaryJson[], showTable: () => Promise<void>, showDashboard?: () => Thenable<unknown>): void {
  const picker = vscode.window.createQuickPick<ModelPick>();
  picker.title = `NPAS: models and variants of ${baseName(document.uri)}`;
  picker.placeholder = 'Choose a model to go to its declaration';
  picker.matchOnDescription = true;
  picker.items = [
    { label: '$(preview) Open as a table', alwaysShow: true, description: 'Markdown preview' },
    ...(showDashboard ? [{ label: '$(graph) Show in the dashboard', alwaysShow: true, description: 'Variants view: Pareto front and sortable table', dashboard: true }] : []),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    ...models.map((m) => ({
      label: `${m.budgets.some((b) => !b.ok) ? '$(warning)' : '$(symbol-class)'} ${m.name}`,
      description: m.kind === 'variant' ? `variant of ${m.base ?? '?'}` : 'model',
      detail: `stored ${exactCount(m.params.stored)} · effective ${exactCount(m.params.effective)} · active ${exactCount(m.params.active)} · prefill ${flops(m.flops.prefillPerToken)}/token · KV ${bytes(m.kvCacheBytes)}`,
      model: m,
    })),
  ];
  picker.onDidAccept(async () => {
    const chosen = picker.selectedItems[0];
    picker.hide();
    if (!chosen) return;
    if (chosen.dashboard) return void (await showDashboard?.());
    if (!chosen.model) return showTable();
    const r = chosen.model.range;
    const range = new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
    await vscode.window.showTextDocument(document, { selection: range });
  });
  picker.onDidHide(() => picker.dispose());
  picker.show();
}

/** Opens the Markdown preview; without the built-in Markdown extension, the Markdown source. */
export async function showMarkdown(uri: vscode.Uri): Promise<void> {
  try {
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  } catch {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}
