// `npas/probeMeasured`: the client's report of a successful probe (probes run in the extension).
// Validated on receipt (a malformed one is logged and dropped); kept per (document, model) in
// ctx.probes with the fingerprint of the model's probed text; code lenses are refreshed so the
// "measured" lens appears. Hovers and lenses read it (hover.ts, code-lens.ts).
// The fingerprint is the notification's `modelFingerprint` when it has one (the extension's, of
// the text it probed: valid across a window reload, when versions restart, and needing no open
// document, so a re-sent measurement that overtakes the document's didOpen is still kept).
// Without it the server computes its own, and only when the probed version is the one it has.

import { PROBE_MEASURED_NOTIFICATION } from '../../protocol/lsp-extensions.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { modelFingerprint } from '../../core/index.js';
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
      const { uri, version, modelFingerprint: sent, measurement } = checked.value;
      const doc = ctx.documents.get(uri);
      let fingerprint = sent;
      let current: string;
      if (sent !== undefined) {
        // Current or not is decided when it is shown; the log says what it is now.
        const analysed = doc ? ctx.analyses.get(doc) : undefined;
        const here = analysed ? modelFingerprint(analysed.text, analysed.analysis.file, measurement.model) : undefined;
        current = !doc ? ' (the document is not open yet; kept for when it is)' : here === sent ? '' : ' (the model\'s text differs from the probed one: shown as an earlier version)';
      } else {
        if (!doc) {
          ctx.log.info(`${PROBE_MEASURED_NOTIFICATION}: ${uri} is not open; the measurement of ${measurement.model} is not kept`);
          return;
        }
        const { text, analysis } = ctx.analyses.get(doc);
        // Another version: the probed text is not the one here, so what it measured is unknown.
        fingerprint = version === undefined || version === doc.version ? modelFingerprint(text, analysis.file, measurement.model) : undefined;
        current = fingerprint === undefined ? ` (measured version ${version ?? '?'} / open version ${doc.version}, or no such model: shown as an earlier version)` : '';
      }
      const dropped = ctx.probes.record(uri, measurement, fingerprint);
      ctx.log.info(
        `${PROBE_MEASURED_NOTIFICATION}: ${measurement.model} in ${uri} on ${measurement.provider}${measurement.fallback !== null ? ' (fallback)' : ''}: prefill ${measurement.prefill.medianMs} ms` +
          current +
          `${dropped > 0 ? `; ${dropped} older measurement(s) dropped (at most ${ctx.probes.limit} kept)` : ''}`,
      );
      if (ctx.client.codeLensRefresh) ctx.connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
    }),
  );
  ctx.documents.onDidClose((e) => ctx.probes.forget(e.document.uri));
}
