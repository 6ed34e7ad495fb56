// `npas/dashboardData`: the dashboard's data for an open document, from the compilation the
// server keeps for its current version (hovers, diagnostics and the dashboard ask the same one),
// at the server's settings. The answer is null when the document is not open.

import { dashboardData, type DashboardData } from '../../core/index.js';
import { DASHBOARD_DATA_METHOD, type DashboardDataParams } from '../../protocol/lsp-extensions.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { analysisOptions, SettingsStore } from '../settings.js';

export function registerDashboardData(ctx: ServerContext): void {
  ctx.connection.onRequest(
    DASHBOARD_DATA_METHOD,
    guard(DASHBOARD_DATA_METHOD, ctx.log.error, null, (params: DashboardDataParams): DashboardData | null => {
      if (typeof params?.uri !== 'string' || typeof params.source !== 'string') throw new TypeError(`${DASHBOARD_DATA_METHOD} needs { uri: string, source: string }`);
      const doc = ctx.documents.get(params.uri);
      if (!doc) return null;
      let settings = ctx.settings.current;
      if (params.settings !== undefined) {
        // Validated as the server validates its own (a bad value is logged and replaced).
        const given = new SettingsStore((m) => ctx.log.warn(m));
        given.update(params.settings as unknown as Record<string, unknown>);
        settings = given.current;
      }
      return dashboardData(ctx.analyses.get(doc).compilation, analysisOptions(settings), { source: params.source });
    }),
  );
}
