// Inlay hints: evaluated constants (`= 8,192`) and stack lengths (`×18`) after their values.

import { InlayHintKind, type InlayHint } from 'vscode-languageserver/node';
import { inlayHints } from '../../core/index.js';
import { toPosition, toTextRange } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerInlayHints(ctx: ServerContext): { refresh(): void } {
  ctx.connection.languages.inlayHint.on(
    guard('textDocument/inlayHint', ctx.log.error, [], (params): InlayHint[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      return inlayHints(analyzed.text, analyzed.analysis, toTextRange(doc, params.range)).map((h) => ({
        position: toPosition(doc, h.offset),
        label: h.label,
        kind: h.kind === 'value' ? InlayHintKind.Type : InlayHintKind.Parameter,
        tooltip: h.tooltip,
        paddingLeft: true,
      }));
    }),
  );
  return {
    refresh(): void {
      if (ctx.client.inlayHintRefresh) ctx.connection.languages.inlayHint.refresh().catch((e: unknown) => ctx.log.warn(`inlay hint refresh failed: ${String(e)}`));
    },
  };
}
