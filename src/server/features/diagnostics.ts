// Diagnostics: every engine diagnostic with its stable code, exact range and severity, source
// `npas`. Clients that pull (`textDocument/diagnostic`) get them on request; to the others the
// server pushes `publishDiagnostics` as soon as a change arrives. A push waits only for the
// messages already queued (one macrotask), so a burst of edits costs one analysis and no
// timer ever delays the result.

import type { DocumentDiagnosticReport } from 'vscode-languageserver/node';
import { toLspDiagnostic } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerDiagnostics(ctx: ServerContext): { refresh(): void } {
  const { connection, documents } = ctx;
  const empty: DocumentDiagnosticReport = { kind: 'full', items: [] };

  connection.languages.diagnostics.on(
    guard('textDocument/diagnostic', ctx.log.error, empty, (params): DocumentDiagnosticReport => {
      const found = openDocument(ctx, params);
      if (!found) return empty;
      const { doc, analyzed } = found;
      // The result id names the version and settings the diagnostics were computed at.
      const resultId = `${analyzed.version}:${ctx.settings.generation}`;
      if (params.previousResultId === resultId) return { kind: 'unchanged', resultId };
      return { kind: 'full', resultId, items: analyzed.analysis.diagnostics.map((d) => toLspDiagnostic(doc, d)) };
    }),
  );

  const pending = new Set<string>();
  let scheduled = false;
  const flush = guard('publishDiagnostics', ctx.log.error, undefined, (): void => {
    scheduled = false;
    const uris = [...pending];
    pending.clear();
    for (const uri of uris) {
      const doc = documents.get(uri);
      if (!doc) continue;
      const analyzed = ctx.analyses.get(doc);
      void connection.sendDiagnostics({ uri, version: doc.version, diagnostics: analyzed.analysis.diagnostics.map((d) => toLspDiagnostic(doc, d)) });
    }
  });
  const schedule = (uri: string): void => {
    if (ctx.client.pullDiagnostics) return;
    pending.add(uri);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  documents.onDidChangeContent((e) => schedule(e.document.uri));
  documents.onDidClose(
    guard('didClose', ctx.log.error, undefined, (e: { document: { uri: string } }): void => {
      ctx.analyses.delete(e.document.uri);
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
