// The extension's entry point: composes the output channel, settings, language client, status
// bar, dashboard panel (and its serializer), commands, the allocate code action and bracket folding. Activation stays light: this bundle inlines
// vscode-languageclient and loads the engine (core) only when a command needs
// it; d3 and onnxruntime-node are never imported here. activate() returns without waiting for
// the server, and the time from its entry to the client running is measured and logged.

import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { registerCommands } from './commands.js';
import { DashboardController, type DashboardSnapshot } from './dashboard-panel.js';
import { SERVER_BUNDLE, createLanguageClient } from './language-client.js';
import { ProbeMeasurementSender } from './probe-measurements.js';
import { SettingsReader, outputReporter } from './settings.js';
import { ModelStatusBar, type StatusBarSnapshot } from './status-bar.js';

/** What activate() returns: read by the integration tests through `extension.exports`. */
export interface NpasExtensionApi {
  /** Milliseconds from activate() entry until it returned. */
  readonly activateMs: number;
  /** Milliseconds from activate() entry until the language client was running; undefined if it failed to start. */
  readonly clientReady: Promise<number | undefined>;
  readonly statusBar: () => StatusBarSnapshot;
  readonly onDidUpdateStatusBar: vscode.Event<StatusBarSnapshot>;
  /** The dashboard panel: what it follows, how many `ready`/`update` messages crossed, its view. */
  readonly dashboard: () => DashboardSnapshot;
  readonly onDidChangeDashboard: vscode.Event<DashboardSnapshot>;
  /** Tests: handles a message as if the dashboard webview had posted it (validated like any other). */
  readonly dashboardReceive: (message: unknown) => void;
  /** Tests: posts a message to the dashboard webview as it is, unvalidated (the webview must drop a malformed one). */
  readonly dashboardPostRaw: (message: unknown) => Promise<boolean>;
}

let client: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): NpasExtensionApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('NPAS Studio', { log: true });
  const settings = new SettingsReader(outputReporter(log));
  // Validate once now, and again whenever a setting changes, so a bad value is reported when
  // it is made rather than when it is first used.
  settings.analysis();
  settings.probe();
  const languageClient = createLanguageClient(context, log, settings);
  client = languageClient;

  const clientReady = languageClient.start().then(
    () => performance.now() - t0,
    (e: unknown) => {
      log.error(`The language server (${SERVER_BUNDLE}) did not start: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    },
  );
  const running = async (): Promise<LanguageClient | undefined> => ((await clientReady) === undefined ? undefined : languageClient);

  const statusBar = new ModelStatusBar(() => (languageClient.isRunning() ? languageClient : undefined), log);
  const dashboard = new DashboardController(context, log, settings, running);
  // Probe results for the server's hovers and code lenses, kept in the workspace state (reading
  // it is cheap); sent again when the server (re)starts and when a document opens.
  const probeMeasurements = new ProbeMeasurementSender(() => (languageClient.isRunning() ? languageClient : undefined), (m) => log.warn(m), context.workspaceState);
  const isOpen = (uri: string): boolean => vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri);
  context.subscriptions.push(
    log,
    statusBar,
    dashboard,
    ...registerCommands({ log, settings, client: running, dashboard, extensionUri: context.extensionUri, probeMeasurements }),
    languageClient.onDidChangeState((e) => {
      if (e.newState === State.Running && probeMeasurements.size > 0) {
        void probeMeasurements.resend(isOpen).then((n) => log.info(`probe: ${n} kept measurement(s) of open documents sent to the language server`));
      }
    }),
    vscode.workspace.onDidOpenTextDocument((d) => {
      if (probeMeasurements.size > 0 && languageClient.isRunning()) {
        void probeMeasurements.opened(d.uri.toString()).then((n) => n > 0 && log.info(`probe: ${n} kept measurement(s) of ${d.uri.toString()} sent to the language server`));
      }
    }),
    vscode.workspace.onDidCloseTextDocument((d) => probeMeasurements.forget(d.uri.toString())),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('npas.analysis')) settings.analysis();
      if (e.affectsConfiguration('npas.probe')) settings.probe();
    }),
  );

  const activateMs = performance.now() - t0;
  void clientReady.then((readyMs) => {
    log.info(`Activated in ${activateMs.toFixed(1)} ms; language client ${readyMs === undefined ? 'failed to start' : `running ${readyMs.toFixed(1)} ms after activation began`}.`);
    if (readyMs !== undefined) statusBar.refresh(0);
  });
  return {
    activateMs,
    clientReady,
    statusBar: () => statusBar.snapshot(),
    onDidUpdateStatusBar: statusBar.onDidUpdate,
    dashboard: () => dashboard.snapshot(),
    onDidChangeDashboard: dashboard.onDidChange,
    dashboardReceive: (message) => dashboard.receiveForTest(message),
    dashboardPostRaw: (message) => dashboard.postRawForTest(message),
  };
}

export async function deactivate(): Promise<void> {
  const c = client;
  client = undefined;
  if (c?.isRunning()) await c.stop();
}
