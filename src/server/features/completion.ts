// Completion: the core's entries as LSP items, each replacing the word (or unit suffix) being
// typed. Snippets go to clients that accept them; others get the placeholders' default text.

import { CompletionItemKind, InsertTextFormat, type CompletionItem, type CompletionList } from 'vscode-languageserver/node';
import { completionsAt, type CompletionKind } from '../../core/index.js';
import { toRange } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

const KINDS: Readonly<Record<CompletionKind, CompletionItemKind>> = {
  layer: CompletionItemKind.Class,
  argument: CompletionItemKind.Property,
  constant: CompletionItemKind.Constant,
  module: CompletionItemKind.Field,
  block: CompletionItemKind.Struct,
  parameter: CompletionItemKind.Variable,
  variable: CompletionItemKind.Variable,
  model: CompletionItemKind.Module,
  keyword: CompletionItemKind.Keyword,
  symbol: CompletionItemKind.EnumMember,
  unit: CompletionItemKind.Unit,
  strategy: CompletionItemKind.Function,
  metric: CompletionItemKind.Property,
  function: CompletionItemKind.Function,
  weight: CompletionItemKind.Field,
};

export const TRIGGER_CHARACTERS = ['.', ':', '(', ',', '['];

export function registerCompletion(ctx: ServerContext): void {
  const empty: CompletionList = { isIncomplete: false, items: [] };
  ctx.connection.onCompletion(
    guard('textDocument/completion', ctx.log.error, empty, (params): CompletionList => {
      const found = openDocument(ctx, params);
      if (!found) return empty;
      const { doc, analyzed } = found;
      const result = completionsAt(analyzed.text, analyzed.analysis, offsetOf(doc, params.position), analyzed.compilation);
      const range = toRange(doc, result.replace);
      const items = result.items.map((e): CompletionItem => {
        const snippet = e.snippet && ctx.client.snippets;
        const item: CompletionItem = {
          label: e.label,
          kind: KINDS[e.kind],
          sortText: e.sortText,
          textEdit: { range, newText: snippet || !e.snippet ? e.insertText : plainText(e.insertText) },
          insertTextFormat: snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
        };
        if (e.detail) item.detail = e.detail;
        if (e.documentation) item.documentation = { kind: ctx.client.markdown ? 'markdown' : 'plaintext', value: e.documentation };
        return item;
      });
      return { isIncomplete: false, items };
    }),
  );
}

/** A snippet's text without its tab stops: `Attention(${1:d})$0` → `Attention(d)`. */
export function plainText(snippet: string): string {
  return snippet.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\{\d+\}|\$\d+/g, '');
}
