// Document symbols: the core's outline as hierarchical DocumentSymbols, or flattened
// SymbolInformation (with container names) for clients without hierarchy support.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import { SymbolKind, type DocumentSymbol, type SymbolInformation } from 'vscode-languageserver/node';
import { documentSymbols, type OutlineKind, type OutlineSymbol } from '../../core/index.js';
import { toRange } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

/** The LSP symbol kind of each outline kind (document and workspace symbols). */
export const OUTLINE_SYMBOL_KINDS: Readonly<Record<OutlineKind, SymbolKind>> = {
  model: SymbolKind.Class,
  variant: SymbolKind.Class,
  budget: SymbolKind.Namespace,
  block: SymbolKind.Struct,
  constant: SymbolKind.Constant,
  layer: SymbolKind.Field,
  stack: SymbolKind.Array,
  module: SymbolKind.Object,
  parameter: SymbolKind.TypeParameter,
  constraint: SymbolKind.Property,
  statement: SymbolKind.Event,
};

export function registerSymbols(ctx: ServerContext): void {
  ctx.connection.onDocumentSymbol(
    guard('textDocument/documentSymbol', ctx.log.error, [], (params): DocumentSymbol[] | SymbolInformation[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      const outline = documentSymbols(analyzed.text, analyzed.analysis);
      if (ctx.client.hierarchicalSymbols) return outline.map((s) => toDocumentSymbol(doc, s));
      const flat: SymbolInformation[] = [];
      const visit = (s: OutlineSymbol, container: string | undefined): void => {
        const info: SymbolInformation = { name: s.name, kind: OUTLINE_SYMBOL_KINDS[s.kind], location: { uri: doc.uri, range: toRange(doc, s.range) } };
        if (container) info.containerName = container;
        flat.push(info);
        for (const c of s.children) visit(c, s.name);
      };
      for (const s of outline) visit(s, undefined);
      return flat;
    }),
  );
}

function toDocumentSymbol(doc: TextDocument, s: OutlineSymbol): DocumentSymbol {
  return {
    name: s.name,
    detail: s.detail,
    kind: OUTLINE_SYMBOL_KINDS[s.kind],
    range: toRange(doc, s.range),
    selectionRange: toRange(doc, s.selectionRange),
    children: s.children.map((c) => toDocumentSymbol(doc, c)),
  };
}
