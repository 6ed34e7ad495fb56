// Asks the language server for a document's model summaries (`npas/modelReports`), and picks
// the model a cursor is in. The status bar and Compare Variants read the numbers from here, so
// the editor shows what the server computed for the same document version, at the same settings.

import * as vscode from 'vscode';
import { RequestType, type LanguageClient } from 'vscode-languageclient/node';
import { MODEL_REPORTS_METHOD, type ModelReportsParams, type ModelReportsResult, type ModelSummaryJson } from '../protocol/lsp-extensions.js';

const ModelReportsRequest = new RequestType<ModelReportsParams, ModelReportsResult, void>(MODEL_REPORTS_METHOD);

/** The server's answer for the document as it is now (the client sends pending edits first). */
export async function fetchModelReports(client: LanguageClient, document: vscode.TextDocument, token?: vscode.CancellationToken): Promise<ModelReportsResult> {
  const params: ModelReportsParams = { uri: client.code2ProtocolConverter.asUri(document.uri) };
  return client.sendRequest(ModelReportsRequest, params, token);
}

/**
 * The model or variant whose declaration is the last one starting on or above `position`'s line:
 * declarations are top-level and in file order, so inside a body that is the enclosing one.
 * Before the first declaration (top-level constants) it is the first model.
 */
export function modelAt(models: readonly ModelSummaryJson[], position: vscode.Position): ModelSummaryJson | undefined {
  let found: ModelSummaryJson | undefined;
  for (const m of models) {
    if (m.range.start.line <= position.line) found = m;
  }
  return found ?? models[0];
}
