// Formatting: the core's canonical formatter (core/service/format.ts) as minimal edits, one per
// changed gap between tokens; none when the file has a syntax error. The client's tab size is
// not used: the format is canonical (2 spaces), so every editor writes the same file.

import type { TextEdit } from 'vscode-languageserver/node';
import { formatEdits } from '../../core/index.js';
import { toTextEdit } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerFormatting(ctx: ServerContext): void {
  ctx.connection.onDocumentFormatting(
    guard('textDocument/formatting', ctx.log.error, [], (params): TextEdit[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      return formatEdits(analyzed.text).map((e) => toTextEdit(doc, e));
    }),
  );
}
