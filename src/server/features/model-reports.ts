// `npas/modelReports`: the JSON-safe summaries of every model and variant of an open document
// (exact counts as decimal strings), at the server's settings, for the client's status bar,
// Compare Variants and the model pickers. A document that is not open answers an empty list.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import { summarizeModels, type TreeSummary } from '../../core/index.js';
import { MODEL_REPORTS_METHOD, type ModelReportsParams, type ModelReportsResult, type ModelTreeNodeJson } from '../../protocol/lsp-extensions.js';
import { toRange } from '../convert.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerModelReports(ctx: ServerContext): void {
  ctx.connection.onRequest(
    MODEL_REPORTS_METHOD,
    guard(MODEL_REPORTS_METHOD, ctx.log.error, null, (params: ModelReportsParams): ModelReportsResult => {
      if (typeof params?.uri !== 'string') throw new TypeError(`${MODEL_REPORTS_METHOD} needs { uri: string }`);
      const settings = ctx.settings.current;
      const doc = ctx.documents.get(params.uri);
      if (!doc) return { uri: params.uri, version: null, settings, models: [], errorCount: 0 };
      const { analysis } = ctx.analyses.get(doc);
      const models = summarizeModels(analysis, { includeTree: params.includeTree === true }).map((m) => {
        const { tree, ...rest } = m;
        const out = { ...rest, range: toRange(doc, m.range), budgets: m.budgets.map((b) => ({ ...b, range: toRange(doc, b.range) })) };
        return tree ? { ...out, tree: treeJson(doc, tree) } : out;
      });
      return { uri: params.uri, version: doc.version, settings, models, errorCount: analysis.diagnostics.filter((d) => d.severity === 'error').length };
    }),
  );
}

function treeJson(doc: TextDocument, n: TreeSummary): ModelTreeNodeJson {
  return { ...n, range: toRange(doc, n.range), children: n.children.map((c) => treeJson(doc, c)) };
}
