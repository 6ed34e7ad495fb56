// Workspace symbols: the declarations of every open document whose names match the query.

import type { SymbolInformation } from 'vscode-languageserver/node';
import { documentSymbols, matchingSymbols } from '../../core/index.js';
import { toRange } from '../convert.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { OUTLINE_SYMBOL_KINDS } from './symbols.js';

export function registerWorkspaceSymbols(ctx: ServerContext): void {
  ctx.connection.onWorkspaceSymbol(
    guard('workspace/symbol', ctx.log.error, [], (params): SymbolInformation[] => {
      const query = typeof params.query === 'string' ? params.query : '';
      const out: SymbolInformation[] = [];
      for (const doc of ctx.documents.all()) {
        const analyzed = ctx.analyses.get(doc);
        for (const { symbol, container } of matchingSymbols(documentSymbols(analyzed.text, analyzed.analysis), query)) {
          const info: SymbolInformation = { name: symbol.name, kind: OUTLINE_SYMBOL_KINDS[symbol.kind], location: { uri: doc.uri, range: toRange(doc, symbol.selectionRange) } };
          if (container) info.containerName = container;
          out.push(info);
        }
      }
      return out;
    }),
  );
}
