// Semantic tokens (full document): the core's tokens encoded against the legend the server
// declares, which is the core's own list of types and modifiers.

import { SemanticTokensBuilder, type SemanticTokens, type SemanticTokensLegend } from 'vscode-languageserver/node';
import { SEMANTIC_TOKEN_MODIFIERS, SEMANTIC_TOKEN_TYPES, semanticTokens } from '../../core/index.js';
import { toPosition } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export const SEMANTIC_TOKENS_LEGEND: SemanticTokensLegend = { tokenTypes: [...SEMANTIC_TOKEN_TYPES], tokenModifiers: [...SEMANTIC_TOKEN_MODIFIERS] };

export function registerSemanticTokens(ctx: ServerContext): void {
  ctx.connection.languages.semanticTokens.on(
    guard('textDocument/semanticTokens/full', ctx.log.error, { data: [] }, (params): SemanticTokens => {
      const found = openDocument(ctx, params);
      if (!found) return { data: [] };
      const { doc, analyzed } = found;
      const builder = new SemanticTokensBuilder();
      for (const t of semanticTokens(analyzed.text, analyzed.analysis)) {
        const start = toPosition(doc, t.range.start);
        const modifiers = t.modifiers.reduce((bits, m) => bits | (1 << SEMANTIC_TOKEN_MODIFIERS.indexOf(m)), 0);
        builder.push(start.line, start.character, t.range.end - t.range.start, SEMANTIC_TOKEN_TYPES.indexOf(t.type), modifiers);
      }
      return builder.build();
    }),
  );
}
