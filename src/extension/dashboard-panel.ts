// The dashboard panel: hosts the webview bundle (dist/webview.js, built from webview/) in a
// WebviewPanel of type `npas.dashboard`, as docs/dashboard.md "Hosting it in the VS Code panel"
// prescribes: scripts enabled, resources only from dist/ and media/, a fresh nonce from
// crypto.randomBytes per page load, every incoming message validated by checkWebviewMessage
// (a malformed one is logged and dropped), `ready` answered with `update` (the language
// server's `npas/dashboardData` of the followed document at the validated npas.analysis
// settings; the host runs no engine work, and without a server the page says so), `reveal` selecting the range in
// the spec's editor, `export` saved through a save dialog. Edits of the followed document
// update it, debounced, while the panel is visible, and once when it becomes visible again; no
// retainContextWhenHidden (the webview persists its own state and redraws from it). A panel
// serializer revives the dashboard after a reload.
//
// The panel follows one `.npas` document: the one it was opened for, then whichever `.npas`
// editor becomes active. Its URI is kept in workspace state so that a revived panel follows the
// same file.

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { DASHBOARD_DATA_METHOD, type DashboardDataAnswer, type DashboardDataParams } from '../protocol/lsp-extensions.js';
import type { HostToWebview, HostToWebviewPosted, ViewId } from '../protocol/webview-messages.js';
import { VIEW_IDS } from '../protocol/webview-messages.js';
import { dashboardHtml } from '../../webview/html.js';
import { checkHostMessage, checkWebviewMessage } from '../../webview/protocol.js';
import { DashboardOutbox } from './dashboard-outbox.js';
import { baseName } from './output-files.js';
import type { SettingsReader } from './settings.js';

export const DASHBOARD_VIEW_TYPE = 'npas.dashboard';
const FOLLOWED_KEY = 'npas.dashboard.document';
/** Debounce of live updates after edits (docs/dashboard.md: about 300 ms). */
export const UPDATE_DEBOUNCE_MS = 300;

/** What tests (through the extension's API) and callers can see of the panel. */
export interface DashboardSnapshot {
  readonly open: boolean;
  readonly visible: boolean;
  /** `ready` messages received from the webview (one per page load). */
  readonly readyCount: number;
  /** `update` messages posted. */
  readonly updateCount: number;
  /** Malformed messages dropped. */
  readonly droppedCount: number;
  /** The followed document's URI. */
  readonly document: string | undefined;
  /** The files the followed document imports (directly or through other files) as of the last update: an edit to one updates the panel. */
  readonly imports: readonly string[];
  /** The models of the last update, in file order. */
  readonly models: readonly string[];
  /** The last `show` message's view. */
  readonly view: ViewId | undefined;
  /** The last `error` message posted, if the last post was an error. */
  readonly error: string | undefined;
  /** Milliseconds from the last panel creation to its first `ready`. */
  readonly firstReadyMs: number | undefined;
  /** Milliseconds the last update's analysis took in the host. */
  readonly lastAnalysisMs: number | undefined;
  /** Allocation plans posted to the webview, and those it validated and drew (its `received`). */
  readonly allocation: ResultSnapshot;
  /** Probe results posted to the webview, and those it validated and drew. */
  readonly probe: ResultSnapshot;
  /** Warnings the webview logged (a malformed message it dropped), and the last one. */
  readonly webviewWarnings: number;
  readonly lastWebviewWarning: string | undefined;
}

export interface ResultSnapshot {
  readonly posted: number;
  readonly received: number;
  /** The model of the last result the webview received, and its table rows (weights, phases). */
  readonly model: string | undefined;
  readonly rows: number | undefined;
}

const NO_RESULT: ResultSnapshot = { posted: 0, received: 0, model: undefined, rows: undefined };

export type DashboardOutcome =
  | { readonly status: 'shown'; readonly document: string; readonly view: ViewId | undefined; readonly model: string | undefined; readonly models: readonly string[]; readonly errors: number }
  | { readonly status: 'no-document' };

export interface ShowOptions {
  readonly document?: vscode.TextDocument;
  readonly view?: ViewId;
  readonly model?: string;
  /** Results posted after the data and before the view switch (`allocation`, `probe`). */
  readonly results?: readonly HostToWebview[];
}

export class DashboardController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private followed: vscode.Uri | undefined;
  /** The URIs of the files the followed document's last update read through its imports. */
  private followedImports: ReadonlySet<string> = new Set();
  /** Orders what reaches the page across reloads (`dashboard-outbox.ts` says why). */
  private readonly outbox = new DashboardOutbox<HostToWebviewPosted>((m) => this.deliver(m));
  private stale = false;
  private timer: NodeJS.Timeout | undefined;
  private createdAt = 0;
  private state: Omit<DashboardSnapshot, 'open' | 'visible' | 'document' | 'imports'> = {
    readyCount: 0,
    updateCount: 0,
    droppedCount: 0,
    models: [],
    view: undefined,
    error: undefined,
    firstReadyMs: undefined,
    lastAnalysisMs: undefined,
    allocation: NO_RESULT,
    probe: NO_RESULT,
    webviewWarnings: 0,
    lastWebviewWarning: undefined,
  };
  private readonly changed = new vscode.EventEmitter<DashboardSnapshot>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly settings: SettingsReader,
    /**
     * The language server once it started (undefined: it failed to), which answers
     * `npas/dashboardData` from its compilation: the dashboard's only source of numbers.
     */
    private readonly client: () => Promise<LanguageClient | undefined> = async () => undefined,
  ) {
    const stored = context.workspaceState.get<string>(FOLLOWED_KEY);
    if (stored) this.followed = vscode.Uri.parse(stored);
    this.disposables.push(
      this.changed,
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => {
          // The webview restores its own state (DashboardState) and posts `ready`; the host
          // follows the document it followed before the reload, or the active spec.
          this.adopt(panel);
        },
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        // The followed spec, or a library it imports: the importer's numbers change with it.
        const uri = e.document.uri.toString();
        if (this.panel && this.followed && e.contentChanges.length > 0 && (uri === this.followed.toString() || this.followedImports.has(uri))) this.scheduleUpdate();
      }),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        const doc = editor?.document;
        if (!this.panel || doc?.languageId !== 'npas' || doc.uri.toString() === this.followed?.toString()) return;
        this.follow(doc.uri);
        this.scheduleUpdate(0);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (this.panel && e.affectsConfiguration('npas.analysis')) this.scheduleUpdate(0);
      }),
    );
  }

  snapshot(): DashboardSnapshot {
    return { ...this.state, open: this.panel !== undefined, visible: this.panel?.visible ?? false, document: this.followed?.toString(), imports: [...this.followedImports] };
  }

  /** Opens the dashboard (or reveals it) on a document, optionally showing a view and model. */
  async show(options: ShowOptions = {}): Promise<DashboardOutcome> {
    const document = options.document ?? this.activeSpec() ?? (await this.followedDocument());
    if (!document) {
      void vscode.window.showInformationMessage('NPAS: open a .npas file to show its dashboard.');
      return { status: 'no-document' };
    }
    this.follow(document.uri);
    if (this.panel) this.panel.reveal(undefined, true);
    else this.adopt(vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'NPAS Dashboard', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.options()));
    this.panel!.title = `NPAS: ${baseName(document.uri)}`;
    const view = options.view ?? (options.model !== undefined ? 'architecture' : undefined);
    // Data first (a model named in `show` must exist in the webview's data), then the view.
    const data = await this.postUpdate(document);
    for (const r of options.results ?? []) this.post(r);
    if (view) this.post(options.model !== undefined ? { type: 'show', view, model: options.model } : { type: 'show', view });
    return {
      status: 'shown',
      document: document.uri.toString(),
      view,
      model: options.model,
      models: data?.models ?? [],
      errors: data?.errors ?? 0,
    };
  }

  /**
   * Opens the dashboard (if needed) on `document` and draws an allocation plan in its Allocation
   * pane, or a probe result in its Probe pane. The message is validated here first, as the
   * webview will: a malformed result is logged and not sent.
   */
  async showResult(document: vscode.TextDocument, message: HostToWebview & { type: 'allocation' | 'probe' }): Promise<DashboardOutcome | { status: 'malformed'; message: string }> {
    const checked = checkHostMessage(message);
    if (!checked.ok) {
      this.log.error(`dashboard: not sending a malformed ${message.type} result: ${checked.error}`);
      return { status: 'malformed', message: checked.error };
    }
    // The webview selects the result's model if its data has it, and keeps its selection otherwise.
    return this.show({ document, view: message.type, model: message.result?.model, results: [checked.value] });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      enableFindWidget: true,
      localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist'), vscode.Uri.joinPath(this.context.extensionUri, 'media')],
    };
  }

  /** Takes a new or revived panel: options, a fresh page, listeners. */
  private adopt(panel: vscode.WebviewPanel): void {
    if (this.panel && this.panel !== panel) this.panel.dispose();
    this.panel = panel;
    this.createdAt = Date.now();
    this.outbox.reset();
    this.state = { ...this.state, firstReadyMs: undefined };
    const w = panel.webview;
    w.options = this.options();
    w.html = this.html(w);
    this.panelDisposables.push(
      w.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      panel.onDidChangeViewState(() => {
        // Hidden: the webview is destroyed (no retainContextWhenHidden) and posts `ready` again
        // when shown, which brings the one update it needs; a page that is still up (ready came
        // first) and missed edits is brought up to date here instead.
        if (!panel.visible) this.outbox.pageGone();
        else if (this.stale && this.outbox.pageReady) this.scheduleUpdate(0);
        this.fire();
      }),
      panel.onDidDispose(() => {
        if (this.panel !== panel) return;
        this.panel = undefined;
        this.outbox.reset();
        if (this.timer) clearTimeout(this.timer);
        for (const d of this.panelDisposables) d.dispose();
        this.panelDisposables = [];
        this.fire();
      }),
    );
    this.fire();
  }

  private html(w: vscode.Webview): string {
    const root = this.context.extensionUri;
    return dashboardHtml({
      cspSource: w.cspSource,
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(root, 'dist', 'webview.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(root, 'media', 'dashboard.css')).toString(),
      nonce: randomBytes(16).toString('base64'),
    });
  }

  /**
   * Posts `raw` to the webview as it is, without the host's validation (the extension API's test
   * hook: the webview must drop a malformed message itself). False when no page is ready.
   */
  async postRawForTest(raw: unknown): Promise<boolean> {
    if (!this.panel || !this.outbox.pageReady) return false;
    return this.panel.webview.postMessage(raw);
  }

  /** Handles `raw` as if the webview had posted it (the extension API's test hook). */
  receiveForTest(raw: unknown): void {
    this.receive(raw);
  }

  private receive(raw: unknown): void {
    const checked = checkWebviewMessage(raw);
    if (!checked.ok) {
      this.state = { ...this.state, droppedCount: this.state.droppedCount + 1 };
      this.log.warn(`dashboard: dropped a malformed message: ${checked.error}`);
      this.fire();
      return;
    }
    const m = checked.value;
    switch (m.type) {
      case 'ready': {
        this.outbox.pageReadied();
        this.state = { ...this.state, readyCount: this.state.readyCount + 1, firstReadyMs: this.state.firstReadyMs ?? Date.now() - this.createdAt };
        void this.followedDocument()
          .then(async (doc) => {
            if (doc) await this.postUpdate(doc);
            else this.post({ type: 'error', message: 'No .npas document to follow: open a spec and run "NPAS: Show Dashboard".' });
          })
          .catch((e: unknown) => this.log.error(`dashboard: the data for the reloaded page failed: ${e instanceof Error ? e.message : String(e)}`))
          .finally(() => {
            // Views and results asked for before (or while) the page came up, after the data they
            // refer to, in the order they were asked for.
            this.outbox.flush();
            this.fire();
          });
        return;
      }
      case 'reveal':
        void this.reveal(m.range.start, m.range.end);
        return;
      case 'export':
        void this.saveExport(m.format, m.fileName, m.data);
        return;
      case 'received': {
        const r = this.state[m.kind];
        this.state = { ...this.state, [m.kind]: { ...r, received: r.received + 1, model: m.model, rows: m.rows } };
        this.log.info(`dashboard: the ${m.kind === 'allocation' ? 'Allocation' : 'Probe'} pane drew ${m.model} (${m.rows} ${m.kind === 'allocation' ? 'weights' : 'phases'})`);
        this.fire();
        return;
      }
      case 'log':
        if (m.level === 'error') this.log.error(`dashboard: ${m.message}`);
        else if (m.level === 'warn') this.log.warn(`dashboard: ${m.message}`);
        else this.log.info(`dashboard: ${m.message}`);
        if (m.level !== 'info') {
          this.state = { ...this.state, webviewWarnings: this.state.webviewWarnings + 1, lastWebviewWarning: m.message };
          this.fire();
        }
        return;
    }
  }

  private post(message: HostToWebviewPosted): void {
    if (message.type === 'show') this.state = { ...this.state, view: message.view };
    if (!this.panel) return;
    this.outbox.send(message);
    this.fire();
  }

  /** Posts one message to the live page (the outbox decides when), counting what tests wait on. */
  private deliver(message: HostToWebviewPosted): void {
    if (!this.panel) return;
    if (message.type === 'error') this.state = { ...this.state, error: message.message };
    if (message.type === 'update') this.state = { ...this.state, error: undefined, updateCount: this.state.updateCount + 1 };
    if ((message.type === 'allocation' || message.type === 'probe') && message.result) {
      const r = this.state[message.type];
      this.state = { ...this.state, [message.type]: { ...r, posted: r.posted + 1 } };
    }
    void this.panel.webview.postMessage(message);
  }

  /** Analyses `document` and posts the data; returns what the command reports. */
  private async postUpdate(document: vscode.TextDocument): Promise<{ models: string[]; errors: number } | undefined> {
    this.stale = false;
    const t0 = Date.now();
    try {
      const { message, models, errors, imports } = await this.dashboardData(document);
      this.followedImports = new Set(imports);
      this.state = { ...this.state, lastAnalysisMs: Date.now() - t0, models };
      if (this.panel) this.panel.title = `NPAS: ${baseName(document.uri)}`;
      this.post(message);
      return { models, errors };
    } catch (e) {
      const message = `The dashboard could not analyse ${baseName(document.uri)}: ${e instanceof Error ? e.message : String(e)}`;
      this.log.error(message);
      this.post({ type: 'error', message });
      return undefined;
    }
  }

  /**
   * The update to post, with the names and error count the host reports and the files the
   * compilation imported: the language server's answer, from the compilation it keeps for this
   * version, forwarded encoded as it came. The host's thread neither runs the engine nor decodes
   * the data, on an edit or ever: while the server starts the update waits for it, and without
   * one the dashboard says so (its numbers at the server's settings — per-path dtypes, the
   * devices file — come from the server alone).
   */
  private async dashboardData(document: vscode.TextDocument): Promise<{ message: HostToWebviewPosted; models: string[]; errors: number; imports: readonly string[] }> {
    const source = baseName(document.uri);
    const client = await this.client();
    if (!client?.isRunning()) throw new Error('the NPAS language server is not running (see the NPAS Studio output); the dashboard shows what it computes');
    const params: DashboardDataParams = { uri: document.uri.toString(), source, settings: this.settings.analysis() };
    const answer = await client.sendRequest<DashboardDataAnswer | null>(DASHBOARD_DATA_METHOD, params);
    if (!answer) throw new Error(`the language server has no open copy of ${source}`);
    // As VS Code spells the URIs it reports edits with.
    const imports = answer.imports.map((f) => vscode.Uri.parse(f).toString());
    return { message: { type: 'update', encoded: answer.encoded }, models: [...answer.models], errors: answer.errors, imports };
  }

  private scheduleUpdate(delay = UPDATE_DEBOUNCE_MS): void {
    if (this.timer) clearTimeout(this.timer);
    if (!this.panel?.visible) {
      this.stale = true;
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.followedDocument().then((doc) => doc && this.postUpdate(doc));
    }, delay);
  }

  private follow(uri: vscode.Uri): void {
    if (this.followed?.toString() === uri.toString()) return;
    this.followed = uri;
    void this.context.workspaceState.update(FOLLOWED_KEY, uri.toString());
  }

  private activeSpec(): vscode.TextDocument | undefined {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc?.languageId === 'npas') return doc;
    return vscode.window.visibleTextEditors.find((e) => e.document.languageId === 'npas')?.document;
  }

  private async followedDocument(): Promise<vscode.TextDocument | undefined> {
    if (this.followed) {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === this.followed!.toString());
      if (open) return open;
      try {
        return await vscode.workspace.openTextDocument(this.followed);
      } catch {
        this.log.warn(`dashboard: ${this.followed.toString(true)} can no longer be opened; following the active spec instead`);
      }
    }
    const doc = this.activeSpec() ?? vscode.workspace.textDocuments.find((d) => d.languageId === 'npas');
    if (doc) this.follow(doc.uri);
    return doc;
  }

  private async reveal(start: number, end: number): Promise<void> {
    const doc = await this.followedDocument();
    if (!doc) return;
    const length = doc.getText().length;
    const range = new vscode.Range(doc.positionAt(Math.min(start, length)), doc.positionAt(Math.min(end, length)));
    // Reuse the editor that shows the spec, else open it beside the panel's column.
    const existing = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.uri.toString());
    const column = existing?.viewColumn ?? (this.panel?.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: column, selection: range, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private async saveExport(format: 'svg' | 'png', fileName: string, data: string): Promise<void> {
    const doc = await this.followedDocument();
    const folder = doc && !doc.isUntitled ? vscode.Uri.joinPath(doc.uri, '..') : vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      title: `Save the dashboard view as ${format.toUpperCase()}`,
      saveLabel: 'Save',
      defaultUri: folder ? vscode.Uri.joinPath(folder, fileName) : undefined,
      filters: format === 'svg' ? { SVG: ['svg'] } : { PNG: ['png'] },
    });
    if (!target) return;
    const bytes = format === 'svg' ? new TextEncoder().encode(data) : Buffer.from(data.slice('data:image/png;base64,'.length), 'base64');
    try {
      await vscode.workspace.fs.writeFile(target, bytes);
      this.log.info(`dashboard: saved ${target.toString(true)} (${bytes.length} bytes)`);
      void vscode.window.showInformationMessage(`NPAS: saved ${vscode.workspace.asRelativePath(target)}.`);
    } catch (e) {
      const message = `could not save ${target.toString(true)}: ${e instanceof Error ? e.message : String(e)}`;
      this.log.error(`dashboard: ${message}`);
      void vscode.window.showErrorMessage(`NPAS: ${message}`);
    }
  }

  private fire(): void {
    this.changed.fire(this.snapshot());
  }
}

/** A view id from a command argument, if it is one. */
export function asViewId(value: unknown): ViewId | undefined {
  return typeof value === 'string' && (VIEW_IDS as readonly string[]).includes(value) ? (value as ViewId) : undefined;
}
