// Find references and document highlights: the core's occurrences of the symbol under the
// cursor (declarations are writes, uses reads). A top-level name — a constant, block, model or
// variant — is followed across imports: its declaration in the file that declares it and its
// uses in every file of the program that imports it (program-files.ts says which files those
// are); so is a member or parameter that other files name (a variant's override, a sharing
// path, a named argument). Highlights stay in the requested document.

import { DocumentHighlightKind, type DocumentHighlight, type Location } from 'vscode-languageserver/node';
import { occurrencesAt, occurrencesInFile, programSymbolAt, type Occurrence } from '../../core/index.js';
import { toRange } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { documentOf, programFiles, programLookup } from '../program-files.js';

export function registerReferences(ctx: ServerContext): void {
  ctx.connection.onReferences(
    guard('textDocument/references', ctx.log.error, [], (params): Location[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      const offset = offsetOf(doc, params.position);
      const includeDeclaration = params.context?.includeDeclaration !== false;
      const keep = (o: Occurrence): boolean => includeDeclaration || !o.declaring;
      const lookup = programLookup(ctx);
      const symbol = programSymbolAt({ source: doc.uri, compilation: analyzed.compilation }, offset, lookup);
      if (symbol) {
        // The declaring file first, then the importers.
        const files = programFiles(ctx, symbol.name).sort((a, b) => Number(b.source === symbol.source) - Number(a.source === symbol.source));
        return files.flatMap((file) => {
          const target = documentOf(ctx, file);
          return occurrencesInFile(file, symbol, lookup)
            .filter(keep)
            .map((o) => ({ uri: file.source, range: toRange(target, o.range) }));
        });
      }
      const result = occurrencesAt(analyzed.analysis.file, offset);
      if (!result || result.symbol.kind === 'builtin') return [];
      return result.occurrences.filter(keep).map((o) => ({ uri: doc.uri, range: toRange(doc, o.range) }));
    }),
  );
  ctx.connection.onDocumentHighlight(
    guard('textDocument/documentHighlight', ctx.log.error, [], (params): DocumentHighlight[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      const offset = offsetOf(doc, params.position);
      const file = { source: doc.uri, compilation: analyzed.compilation };
      const lookup = programLookup(ctx);
      const symbol = programSymbolAt(file, offset, lookup);
      // A name declared in another file: its uses in this document.
      const occurrences = symbol && symbol.source !== doc.uri ? occurrencesInFile(file, symbol, lookup) : occurrencesAt(analyzed.analysis.file, offset)?.occurrences;
      return (occurrences ?? []).map((o) => ({ range: toRange(doc, o.range), kind: o.declaring ? DocumentHighlightKind.Write : DocumentHighlightKind.Read }));
    }),
  );
}
