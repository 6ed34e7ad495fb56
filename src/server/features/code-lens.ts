// Code lenses: "N params stored · X GFLOP/token" above models, variants, blocks and top-level
// modules. A model's lens runs `npas.showDashboard` with (model name, document URI); the
// others are labels (an empty command id, which editors show as plain text).

import type { CodeLens } from 'vscode-languageserver/node';
import { codeLenses } from '../../core/index.js';
import { SHOW_DASHBOARD_COMMAND } from '../../protocol/lsp-extensions.js';
import { toRange } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerCodeLens(ctx: ServerContext): void {
  ctx.connection.onCodeLens(
    guard('textDocument/codeLens', ctx.log.error, [], (params): CodeLens[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      return codeLenses(analyzed.text, analyzed.analysis).map((l) => ({
        range: toRange(doc, l.range),
        command: l.model ? { title: l.title, command: SHOW_DASHBOARD_COMMAND, arguments: [l.model, doc.uri] } : { title: l.title, command: '' },
      }));
    }),
  );
}
