// `npas/probeMeasured`: the client's report of a successful probe (probes run in the extension).
// Validated on receipt (a malformed one is logged and dropped); kept per (document, model) in
// ctx.probes with the fingerprint of the model's text at the probed version; code lenses are
// refreshed so the "measured" lens appears. Hovers and lenses read it (hover.ts, code-lens.ts).

import { PROBE_MEASURED_NOTIFICATION } from '../../protocol/lsp-extensions.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { modelFingerprint } from '../model-fingerprint.js';
import { checkProbeMeasured } from '../probe-validation.js';

export function registerProbeMeasured(ctx: ServerContext): void {
  ctx.connection.onNotification(
    PROBE_MEASURED_NOTIFICATION,
    guard(PROBE_MEASURED_NOTIFICATION, ctx.log.error, undefined, (raw: unknown): void => {
      const checked = checkProbeMeasured(raw);
      if (!checked.ok) {
        ctx.log.warn(`${PROBE_MEASURED_NOTIFICATION}: dropped a malformed notification: ${checked.error}`);
        return;
      }
      const { uri, version, measurement } = checked.value;
      const doc = ctx.documents.get(uri);
      if (!doc) {
        ctx.log.info(`${PROBE_MEASURED_NOTIFICATION}: ${uri} is not open; the measurement of ${measurement.model} is not kept`);
        return;
      }
      const { text, analysis } = ctx.analyses.get(doc);
      // Another version: the probed text is not the one here, so what it measured is unknown.
      const fingerprint = version === undefined || version === doc.version ? modelFingerprint(text, analysis.file, measurement.model) : undefined;
      const dropped = ctx.probes.record(uri, measurement, fingerprint);
      ctx.log.info(
        `${PROBE_MEASURED_NOTIFICATION}: ${measurement.model} in ${uri} on ${measurement.provider}${measurement.fallback !== null ? ' (fallback)' : ''}: prefill ${measurement.prefill.medianMs} ms` +
          `${fingerprint === undefined ? ` (measured version ${version ?? '?'} / open version ${doc.version}, or no such model: shown as an earlier version)` : ''}` +
          `${dropped > 0 ? `; ${dropped} older measurement(s) dropped (at most ${ctx.probes.limit} kept)` : ''}`,
      );
      if (ctx.client.codeLensRefresh) ctx.connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
    }),
  );
  ctx.documents.onDidClose((e) => ctx.probes.forget(e.document.uri));
}
