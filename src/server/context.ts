// What every feature handler needs: the connection, the open documents, the analysis cache,
// the settings, what the client can do, and logging. Built once in server.ts.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ClientCapabilities, Connection, Position, TextDocuments } from 'vscode-languageserver/node';
import type { AnalysisCache, AnalyzedDocument } from './analyses.js';
import { toOffset } from './convert.js';
import type { ProbeMeasurementStore } from './probe-measurements.js';
import type { SettingsStore } from './settings.js';

/** The optional client features the server adapts to. */
export interface ClientFeatures {
  /** `textDocument/diagnostic`: the client pulls; otherwise the server pushes. */
  readonly pullDiagnostics: boolean;
  readonly diagnosticRefresh: boolean;
  /** `workspace/configuration` requests. */
  readonly configuration: boolean;
  readonly inlayHintRefresh: boolean;
  readonly codeLensRefresh: boolean;
  readonly definitionLinks: boolean;
  readonly hierarchicalSymbols: boolean;
  readonly snippets: boolean;
  readonly markdown: boolean;
}

export function clientFeatures(caps: ClientCapabilities): ClientFeatures {
  const hoverFormats = caps.textDocument?.hover?.contentFormat;
  return {
    pullDiagnostics: caps.textDocument?.diagnostic !== undefined,
    diagnosticRefresh: caps.workspace?.diagnostics?.refreshSupport === true,
    configuration: caps.workspace?.configuration === true,
    inlayHintRefresh: caps.workspace?.inlayHint?.refreshSupport === true,
    codeLensRefresh: caps.workspace?.codeLens?.refreshSupport === true,
    definitionLinks: caps.textDocument?.definition?.linkSupport === true,
    hierarchicalSymbols: caps.textDocument?.documentSymbol?.hierarchicalDocumentSymbolSupport === true,
    snippets: caps.textDocument?.completion?.completionItem?.snippetSupport === true,
    // Markdown unless the client lists formats without it.
    markdown: hoverFormats === undefined || hoverFormats.includes('markdown'),
  };
}

export interface ServerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ServerContext {
  readonly connection: Connection;
  readonly documents: TextDocuments<TextDocument>;
  readonly analyses: AnalysisCache;
  readonly settings: SettingsStore;
  /** Probe measurements the client reported (`npas/probeMeasured`), for hovers and code lenses. */
  readonly probes: ProbeMeasurementStore;
  readonly log: ServerLog;
  /** Set by `initialize`. */
  client: ClientFeatures;
}

/** The open document named by a request, with its analysis; undefined when it is not open. */
export function openDocument(ctx: ServerContext, params: { readonly textDocument: { readonly uri: string } }): { doc: TextDocument; analyzed: AnalyzedDocument } | undefined {
  const doc = ctx.documents.get(params.textDocument.uri);
  if (!doc) return undefined;
  return { doc, analyzed: ctx.analyses.get(doc) };
}

/** A request's position as an offset, refusing a malformed one (the guard turns the throw into an empty answer). */
export function offsetOf(doc: TextDocument, position: Position): number {
  if (typeof position?.line !== 'number' || typeof position.character !== 'number' || !Number.isFinite(position.line) || !Number.isFinite(position.character)) {
    throw new TypeError(`invalid position ${JSON.stringify(position)}`);
  }
  return toOffset(doc, position);
}
