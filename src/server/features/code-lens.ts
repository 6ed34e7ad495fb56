// Code lenses: "N params stored · X GFLOP/token" above models, variants, blocks and top-level
// modules. A model's lens runs `npas.showDashboard` with (model name, document URI); the
// others are labels (an empty command id, which editors show as plain text). A model a probe
// measured gets a second lens, "measured (CUDA, fp16, seq 128): prefill … · decode …", which
// opens the dashboard's Probe pane (the same command with the view `probe`).

import type { CodeLens } from 'vscode-languageserver/node';
import { codeLenses } from '../../core/index.js';
import { SHOW_DASHBOARD_COMMAND } from '../../protocol/lsp-extensions.js';
import { toRange } from '../convert.js';
import { openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { measurementLensTitle } from '../probe-markdown.js';

export function registerCodeLens(ctx: ServerContext): void {
  ctx.connection.onCodeLens(
    guard('textDocument/codeLens', ctx.log.error, [], (params): CodeLens[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      const lenses: CodeLens[] = [];
      const measured = ctx.probes.hasAny(doc.uri);
      for (const l of codeLenses(analyzed.text, analyzed.analysis)) {
        const range = toRange(doc, l.range);
        lenses.push({ range, command: l.model ? { title: l.title, command: SHOW_DASHBOARD_COMMAND, arguments: [l.model, doc.uri] } : { title: l.title, command: '' } });
        const shown = measured && l.model ? ctx.probes.get(doc.uri, l.model, doc.version, analyzed.text, analyzed.analysis.file) : undefined;
        if (shown) lenses.push({ range, command: { title: measurementLensTitle(shown.measurement, shown.stale), command: SHOW_DASHBOARD_COMMAND, arguments: [l.model, doc.uri, 'probe'] } });
      }
      return lenses;
    }),
  );
}
