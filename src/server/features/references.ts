// Find references and document highlights: the core's occurrences of the symbol under the
// cursor (declarations are writes, uses reads), within the requested document.

import { DocumentHighlightKind, type DocumentHighlight, type Location } from 'vscode-languageserver/node';
import { occurrencesAt } from '../../core/index.js';
import { toRange } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerReferences(ctx: ServerContext): void {
  ctx.connection.onReferences(
    guard('textDocument/references', ctx.log.error, [], (params): Location[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      const result = occurrencesAt(analyzed.analysis.file, offsetOf(doc, params.position));
      if (!result || result.symbol.kind === 'builtin') return [];
      const includeDeclaration = params.context?.includeDeclaration !== false;
      return result.occurrences.filter((o) => includeDeclaration || !o.declaring).map((o) => ({ uri: doc.uri, range: toRange(doc, o.range) }));
    }),
  );
  ctx.connection.onDocumentHighlight(
    guard('textDocument/documentHighlight', ctx.log.error, [], (params): DocumentHighlight[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      const result = occurrencesAt(analyzed.analysis.file, offsetOf(doc, params.position));
      if (!result) return [];
      return result.occurrences.map((o) => ({ range: toRange(doc, o.range), kind: o.declaring ? DocumentHighlightKind.Write : DocumentHighlightKind.Read }));
    }),
  );
}
