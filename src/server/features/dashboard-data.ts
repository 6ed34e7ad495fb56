// `npas/dashboardData`: the dashboard's data for an open document, from the compilation the
// server keeps for its current version (hovers, diagnostics and the dashboard ask the same one),
// at the server's settings, encoded here once (DashboardDataAnswer) so the extension host
// forwards it to the page without decoding it, with the files the compilation imported (the
// dashboard follows them: one request per update). The answer is null when the document is not open.

import { gzipSync } from 'node:zlib';
import { dashboardData, type DashboardData } from '../../core/index.js';
import { DASHBOARD_DATA_METHOD, type DashboardDataAnswer, type DashboardDataParams } from '../../protocol/lsp-extensions.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { analysisOptions, readText, SettingsStore } from '../settings.js';

export function registerDashboardData(ctx: ServerContext): void {
  // The settings a dashboard sends, validated once per distinct value: as the server's own store,
  // a devices file is read (and its problems logged) when the settings change, not on every edit.
  let given: { readonly key: string; readonly store: SettingsStore } | undefined;
  const storeFor = (raw: unknown): SettingsStore => {
    const key = JSON.stringify(raw);
    if (given?.key !== key) {
      const store = new SettingsStore((m) => ctx.log.warn(m), readText);
      store.update(raw as Record<string, unknown>);
      given = { key, store };
    }
    return given.store;
  };
  ctx.connection.onRequest(
    DASHBOARD_DATA_METHOD,
    guard(DASHBOARD_DATA_METHOD, ctx.log.error, null, (params: DashboardDataParams): DashboardDataAnswer | null => {
      if (typeof params?.uri !== 'string' || typeof params.source !== 'string') throw new TypeError(`${DASHBOARD_DATA_METHOD} needs { uri: string, source: string }`);
      const doc = ctx.documents.get(params.uri);
      if (!doc) return null;
      let settings = ctx.settings.current;
      let devices = ctx.settings.devices;
      if (params.settings !== undefined) {
        // Validated as the server validates its own (a bad value is logged and replaced).
        const store = storeFor(params.settings);
        settings = store.current;
        devices = store.devices;
      }
      const { compilation } = ctx.analyses.get(doc);
      const data = dashboardData(compilation, analysisOptions(settings, devices), { source: params.source });
      return encodeDashboardData(data, compilation.imported.map((f) => f.source));
    }),
  );
}

/**
 * The answer for `data`: its names and error count, the files its compilation imported, and the
 * data as base64 of its gzipped UTF-8 JSON. Level 1: a 10,000-layer spec's 4.6 MB of JSON (members alike but for names and offsets)
 * becomes about 290 KB on the wire, so the host's thread receives and forwards almost nothing.
 */
export function encodeDashboardData(data: DashboardData, imports: readonly string[]): DashboardDataAnswer {
  const encoded = gzipSync(Buffer.from(JSON.stringify(data), 'utf8'), { level: 1 }).toString('base64');
  return { models: data.models.map((m) => m.name), errors: data.diagnostics.errors, imports, encoded };
}
