// Diagnostics: every engine diagnostic with its stable code, exact range and severity, source
// `npas`. Clients that pull (`textDocument/diagnostic`) get them on request; to the others the
// server pushes `publishDiagnostics` as soon as a change arrives. A push waits only for the
// messages already queued, so a burst of edits costs one analysis and no timer ever delays
// the result.

import { LSPErrorCodes, ResponseError, type DiagnosticServerCancellationData, type DocumentDiagnosticReport } from 'vscode-languageserver/node';
import { AnalysisCancelled } from '../../core/index.js';
import { toLspDiagnostic } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerDiagnostics(ctx: ServerContext): { refresh(): void } {
  const { connection, documents } = ctx;
  const empty: DocumentDiagnosticReport = { kind: 'full', items: [] };

  connection.languages.diagnostics.on(
    guard('textDocument/diagnostic', ctx.log.error, empty, (params): DocumentDiagnosticReport => {
      let found;
      try {
        found = openDocument(ctx, params);
      } catch (e) {
        // A newer version arrived mid-analysis: the client asks again for it.
        if (e instanceof AnalysisCancelled) throw new ResponseError<DiagnosticServerCancellationData>(LSPErrorCodes.ServerCancelled, e.message, { retriggerRequest: true });
        throw e;
      }
      if (!found) return empty;
      const { doc, analyzed } = found;
      // The result id names the analysis the diagnostics come from: a new one for a new version,
      // new settings or a changed import.
      const resultId = `${analyzed.version}:${ctx.settings.generation}:${analyzed.serial}`;
      if (params.previousResultId === resultId) return { kind: 'unchanged', resultId };
      return { kind: 'full', resultId, items: analyzed.analysis.diagnostics.map((d) => toLspDiagnostic(doc, d)) };
    }),
  );

  const pending = new Set<string>();
  let scheduled = false;
  /** Change events seen: a flush waits while changes keep arriving back to back. */
  let changes = 0;
  const flush = guard('publishDiagnostics', ctx.log.error, undefined, (): void => {
    scheduled = false;
    const uris = [...pending];
    pending.clear();
    for (const uri of uris) {
      const doc = documents.get(uri);
      if (!doc) continue;
      let analyzed;
      try {
        analyzed = ctx.analyses.get(doc);
      } catch (e) {
        // Superseded mid-analysis: the newer version's change (queued behind it) schedules its own push.
        if (e instanceof AnalysisCancelled) continue;
        throw e;
      }
      void connection.sendDiagnostics({ uri, version: doc.version, diagnostics: analyzed.analysis.diagnostics.map((d) => toLspDiagnostic(doc, d)) });
    }
  });
  // vscode-jsonrpc passes each queued message through two setImmediate stages (the reader's
  // decode queue, then the connection's message queue), so edits that arrived together reach
  // the handlers one or two macrotasks apart. A flush therefore waits until QUIET macrotasks
  // pass without a new change: a burst of queued edits (typing faster than a 10,000-layer
  // analysis) is analysed once, at its last version, while a lone edit waits a few macrotasks
  // (microseconds, no timer). MAX_HOPS bounds the wait in an endless stream of edits.
  const QUIET = 3;
  const MAX_HOPS = 64;
  const hop = (seen: number, quiet: number, hops: number): void => {
    const now = changes;
    const nextQuiet = now === seen ? quiet + 1 : 0;
    if (nextQuiet < QUIET && hops < MAX_HOPS) setImmediate(() => hop(now, nextQuiet, hops + 1));
    else flush();
  };
  const schedule = (uri: string): void => {
    if (ctx.client.pullDiagnostics) return;
    pending.add(uri);
    changes++;
    if (!scheduled) {
      scheduled = true;
      const seen = changes;
      setImmediate(() => hop(seen, 0, 0));
    }
  };
  /** A change to a file re-diagnoses the open documents that import it. */
  const importersChanged = (uris: readonly string[]): void => {
    if (uris.length === 0) return;
    if (!ctx.client.pullDiagnostics) for (const uri of uris) schedule(uri);
    else if (ctx.client.diagnosticRefresh) connection.languages.diagnostics.refresh().catch((e: unknown) => ctx.log.warn(`diagnostic refresh failed: ${String(e)}`));
  };
  documents.onDidChangeContent((e) => {
    schedule(e.document.uri);
    importersChanged(ctx.analyses.importersOf(e.document.uri));
  });
  documents.onDidOpen(() => {
    // An opened document is read instead of its file on disk (and may be an import that was missing).
    ctx.analyses.diskChanged();
    importersChanged(ctx.analyses.withImports());
  });
  connection.onDidChangeWatchedFiles(
    guard('workspace/didChangeWatchedFiles', ctx.log.error, undefined, (): void => {
      ctx.analyses.diskChanged();
      importersChanged(ctx.analyses.withImports());
    }),
  );
  documents.onDidClose(
    guard('didClose', ctx.log.error, undefined, (e: { document: { uri: string } }): void => {
      ctx.analyses.delete(e.document.uri);
      // Its importers read the file on disk from now on.
      ctx.analyses.diskChanged();
      importersChanged(ctx.analyses.importersOf(e.document.uri));
      pending.delete(e.document.uri);
      if (!ctx.client.pullDiagnostics) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    }),
  );

  return {
    /** After a settings change: re-push every open document, or ask a pulling client to pull again. */
    refresh(): void {
      if (!ctx.client.pullDiagnostics) {
        for (const doc of documents.all()) schedule(doc.uri);
      } else if (ctx.client.diagnosticRefresh) {
        connection.languages.diagnostics.refresh().catch((e: unknown) => ctx.log.warn(`diagnostic refresh failed: ${String(e)}`));
      }
    },
  };
}
