// `npas/budgetReport`: the budget report of an open document as `npas budget FILE --json` writes
// it, from the compilation and analysis the server keeps for its current version at its settings
// (diagnostics, hovers and code lenses read the same one), so Export Budget Report writes the
// numbers the editor shows — per-path weight dtypes and the devices file included — and the
// extension host runs no engine work. The JSON comes from the one writer the CLI uses; imported
// files are named by path, as the CLI names them, not by the URIs the server reads them by.

import { fileURLToPath } from 'node:url';
import { blocksMeasurement, budgetJsonText } from '../../core/index.js';
import { BUDGET_REPORT_METHOD, type BudgetReportAnswer, type BudgetReportParams } from '../../protocol/lsp-extensions.js';
import { toRange } from '../convert.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerBudgetReport(ctx: ServerContext): void {
  ctx.connection.onRequest<BudgetReportAnswer | null, unknown>(
    BUDGET_REPORT_METHOD,
    guard(BUDGET_REPORT_METHOD, ctx.log.error, null, (params: BudgetReportParams): BudgetReportAnswer | null => {
      if (typeof params?.uri !== 'string') throw new TypeError(`${BUDGET_REPORT_METHOD} needs { uri: string }`);
      const doc = ctx.documents.get(params.uri);
      if (!doc) return null;
      const { analysis } = ctx.analyses.get(doc);
      // As the CLI: a violated budget is a result; any other error (an imported file's included,
      // reported at its import) leaves no report.
      const errors = analysis.diagnostics.filter(blocksMeasurement);
      if (errors.length > 0) return { kind: 'errors', errors: errors.map((d) => ({ code: d.code, message: d.message, range: toRange(doc, d.range) })) };
      const violated = analysis.models.reduce((n, m) => n + m.budgets.filter((b) => !b.ok).length, 0);
      return { kind: 'report', json: budgetJsonText(analysis.models, { sourceName: pathOf }), models: analysis.models.length, violated, settings: ctx.settings.current };
    }),
  );
}

/** A `file:` URI as the path the CLI would name the file by; any other id as it is. */
function pathOf(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}
