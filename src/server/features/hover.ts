// Hover: the core's Markdown for the thing under the cursor (see core/service/hover.ts).

import type { Hover } from 'vscode-languageserver/node';
import { hoverAt } from '../../core/index.js';
import { toRange } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerHover(ctx: ServerContext): void {
  ctx.connection.onHover(
    guard('textDocument/hover', ctx.log.error, null, (params): Hover | null => {
      const found = openDocument(ctx, params);
      if (!found) return null;
      const { doc, analyzed } = found;
      const h = hoverAt(analyzed.text, analyzed.analysis, offsetOf(doc, params.position));
      if (!h) return null;
      return { contents: { kind: ctx.client.markdown ? 'markdown' : 'plaintext', value: h.markdown }, range: toRange(doc, h.range) };
    }),
  );
}
