// Registers the extension's commands — exactly these ids, each contributed in package.json
// under the category "NPAS" — and wires each to what exists today. Handlers return a small
// outcome object, so `vscode.commands.executeCommand` callers (the integration tests, other
// extensions) can tell what happened without reading notifications.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { COMMAND_IDS, type CommandId } from './command-ids.js';
import { ComparisonDocuments, compareVariants, type CompareView } from './compare-variants.js';
import { exportReport } from './export-report.js';
import { allocateArgs, allocateCommand } from './allocate-command.js';
import { asViewId, type DashboardController } from './dashboard-panel.js';
import { importHfConfig } from './import-hf-config.js';
import { exportOnnxArgs, exportOnnxCommand, runProbeArgs, runProbeCommand } from './probe-commands.js';
import type { ProbeMeasurementSender } from './probe-measurements.js';
import type { SettingsReader } from './settings.js';

export interface CommandContext {
  readonly log: vscode.LogOutputChannel;
  readonly settings: SettingsReader;
  /** The running client, once started; commands that need the server wait for it. */
  readonly client: () => Promise<LanguageClient | undefined>;
  readonly dashboard: DashboardController;
  readonly extensionUri: vscode.Uri;
  /** Sends probe results to the language server for hovers and code lenses. */
  readonly probeMeasurements: ProbeMeasurementSender;
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const comparisons = new ComparisonDocuments();
  const probes = { extensionUri: ctx.extensionUri, log: ctx.log, settings: ctx.settings, documents: comparisons, dashboard: ctx.dashboard, measurements: ctx.probeMeasurements, client: ctx.client };
  const handlers: Record<CommandId, (...args: unknown[]) => unknown> = {
    // (model?: string, document?: Uri | string, view?: ViewId): the server's code lenses pass
    // (modelName, documentUri); a model opens the Architecture view on it.
    'npas.showDashboard': async (model, document, view) =>
      ctx.dashboard.show({
        document: asUri(document) ? await vscode.workspace.openTextDocument(asUri(document)!) : undefined,
        model: typeof model === 'string' ? model : undefined,
        view: asViewId(view),
      }),
    // ({model, budget, grouping, method, document, apply, preview, dashboard}) or (model, budget, grouping, method, document, apply)
    'npas.allocate': (...args) => allocateCommand(comparisons, ctx.log, allocateArgs(args), ctx.dashboard, ctx.client),
    // ({model, ep, seq, batch, dtype, device, runs, warmup, threads, profile, fallback, timeoutSeconds, document, preview, dashboard}) or (model, ep, document)
    'npas.runProbe': (...args) => runProbeCommand(probes, runProbeArgs(args)),
    // ({model, target, dtype, document, timeoutSeconds}) or (model, target, dtype, document)
    'npas.exportOnnx': (...args) => exportOnnxCommand(probes, exportOnnxArgs(args)),
    // (config?: Uri, target?: Uri | 'untitled'): arguments skip the dialogs.
    'npas.importHfConfig': (config, target) => importHfConfig(ctx.log, asUri(config), asUri(target) ?? (target === 'untitled' ? 'untitled' : undefined)),
    // (view?: 'quickPick' | 'markdown' | 'none', document?: Uri)
    'npas.compareVariants': async (view, document) => compareVariants(await ctx.client(), comparisons, asView(view), asUri(document), (d) => ctx.dashboard.show({ document: d, view: 'variants' })),
    // (document?: Uri, target?: Uri): arguments skip the dialog.
    'npas.exportReport': (document, target) => exportReport(ctx.log, ctx.client, asUri(document), asUri(target)),
  };
  return [
    comparisons,
    ...COMMAND_IDS.map((id) =>
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handlers[id](...args);
        } catch (e) {
          // A failure is reported, never left as an unhandled rejection in the host's log.
          const message = e instanceof Error ? e.message : String(e);
          ctx.log.error(`${id} failed: ${message}`);
          void vscode.window.showErrorMessage(`NPAS: ${message}`);
          return { status: 'failed', message };
        }
      }),
    ),
  ];
}

function asUri(value: unknown): vscode.Uri | undefined {
  if (value instanceof vscode.Uri) return value;
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(value)) return vscode.Uri.parse(value);
  return undefined;
}

function asView(value: unknown): CompareView {
  return value === 'markdown' || value === 'none' ? value : 'quickPick';
}
