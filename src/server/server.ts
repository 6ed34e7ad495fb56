// The language server: wires the open documents, the analysis cache, the settings and one
// handler per feature (features/*.ts) onto a connection. The connection is given, so the
// same server runs over stdio, IPC (main.ts) or in-process streams (test/server).

import { TextDocument } from 'vscode-languageserver-textdocument';
import { TextDocuments, type Connection, type InitializeResult } from 'vscode-languageserver/node';
import { AnalysisCache, type VersionSource } from './analyses.js';
import { serverCapabilities } from './capabilities.js';
import { clientFeatures, type ServerContext, type ServerLog } from './context.js';
import { registerAllocation } from './features/allocation.js';
import { registerChildProgram } from './features/child-program.js';
import { registerBudgetReport } from './features/budget-report.js';
import { registerCodeActions } from './features/code-actions.js';
import { registerCodeLens } from './features/code-lens.js';
import { registerCompletion } from './features/completion.js';
import { registerDashboardData } from './features/dashboard-data.js';
import { registerConfiguration } from './features/configuration.js';
import { registerDefinition } from './features/definition.js';
import { registerDiagnostics } from './features/diagnostics.js';
import { registerFormatting } from './features/formatting.js';
import { registerHover } from './features/hover.js';
import { registerInlayHints } from './features/inlay-hints.js';
import { registerModelReports } from './features/model-reports.js';
import { registerProbeMeasured } from './features/probe-measured.js';
import { registerReferences } from './features/references.js';
import { registerRename } from './features/rename.js';
import { registerSemanticTokens } from './features/semantic-tokens.js';
import { registerSignatureHelp } from './features/signature-help.js';
import { registerStructureRanges } from './features/structure-ranges.js';
import { registerSymbols } from './features/symbols.js';
import { registerWorkspaceSymbols } from './features/workspace-symbols.js';
import { guard } from './guard.js';
import { ProbeMeasurementStore } from './probe-measurements.js';
import { findAnalysisSection, readText, SettingsStore } from './settings.js';

export const SERVER_NAME = 'npas-language-server';
export const SERVER_VERSION = '0.1.0';

/**
 * Registers every handler on `connection`; the caller calls `connection.listen()`. In the
 * analysis worker, `versions` tells an analysis that the editor has moved on (worker-main.ts).
 */
export function startServer(connection: Connection, options: { readonly versions?: VersionSource } = {}): ServerContext {
  const log: ServerLog = {
    info: (m) => connection.console.info(m),
    warn: (m) => connection.console.warn(m),
    error: (m) => connection.console.error(m),
  };
  const settings = new SettingsStore(log.warn, readText);
  const documents = new TextDocuments(TextDocument);
  const ctx: ServerContext = {
    connection,
    documents,
    analyses: new AnalysisCache(settings, options.versions, documents),
    settings,
    probes: new ProbeMeasurementStore(),
    log,
    client: clientFeatures({}),
  };

  const diagnostics = registerDiagnostics(ctx);
  const hints = registerInlayHints(ctx);
  registerHover(ctx);
  registerDashboardData(ctx);
  registerCompletion(ctx);
  registerDefinition(ctx);
  registerSymbols(ctx);
  registerCodeLens(ctx);
  registerFormatting(ctx);
  registerCodeActions(ctx);
  registerReferences(ctx);
  registerRename(ctx);
  registerSignatureHelp(ctx);
  registerSemanticTokens(ctx);
  registerWorkspaceSymbols(ctx);
  registerStructureRanges(ctx);
  registerModelReports(ctx);
  registerBudgetReport(ctx);
  registerAllocation(ctx);
  registerChildProgram(ctx);
  registerProbeMeasured(ctx);
  let dynamicConfiguration = false;
  const configuration = registerConfiguration(ctx, () => {
    const s = settings.current;
    log.info(`analysis settings: seq ${s.sequenceLength}, batch ${s.batchSize}, ${s.dtype}, ${s.device}`);
    diagnostics.refresh();
    hints.refresh();
    if (ctx.client.codeLensRefresh) connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
  });

  connection.onInitialize(
    guard('initialize', log.error, { capabilities: serverCapabilities() }, (params): InitializeResult => {
      ctx.client = clientFeatures(params.capabilities ?? {});
      dynamicConfiguration = params.capabilities?.workspace?.didChangeConfiguration?.dynamicRegistration === true;
      settings.update(findAnalysisSection(params.initializationOptions));
      return { capabilities: serverCapabilities(), serverInfo: { name: SERVER_NAME, version: SERVER_VERSION } };
    }),
  );
  connection.onInitialized(
    guard('initialized', log.error, undefined, async (): Promise<void> => {
      configuration.registerForChanges(dynamicConfiguration);
      await configuration.pull();
    }),
  );
  documents.listen(connection);
  return ctx;
}
