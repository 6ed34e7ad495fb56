// The latest probe measurement per (document, model), received from the client
// (`npas/probeMeasured`) because probes run in the extension, not here. Bounded: at most
// MAX_MEASUREMENTS in all, the least recently received dropped first; a document's are dropped
// when it closes. Each keeps the fingerprint of the model's text it was measured on
// (src/protocol/model-fingerprint.ts): when the current text's differs, the measurement is stale — still
// shown, labelled "measured on an earlier version" — and current again if the text returns.

import type { SourceFile } from '../core/index.js';
import type { ProbeMeasurementJson } from '../protocol/lsp-extensions.js';
import { modelFingerprint } from '../core/index.js';

/** Far more than anyone measures in one session; each entry is a few hundred bytes. */
export const MAX_MEASUREMENTS = 256;

export interface ShownMeasurement {
  readonly measurement: ProbeMeasurementJson;
  /** The model's text changed since it was measured (or the probe's version was not the server's). */
  readonly stale: boolean;
}

interface Entry {
  readonly measurement: ProbeMeasurementJson;
  /** Undefined: the measured text is unknown (the document was at another version), so always stale. */
  readonly fingerprint: string | undefined;
  /** The last staleness check, per document version (hover and code lens ask often). */
  checked: { readonly version: number; readonly stale: boolean } | undefined;
}

export class ProbeMeasurementStore {
  /** Keyed by `uri \n model`; Map order is receipt order, oldest first. */
  private readonly entries = new Map<string, Entry>();

  constructor(readonly limit = MAX_MEASUREMENTS) {}

  get size(): number {
    return this.entries.size;
  }

  /** Keeps `measurement` as the latest of its model in `uri`; returns how many older entries were dropped to stay bounded. */
  record(uri: string, measurement: ProbeMeasurementJson, fingerprint: string | undefined): number {
    const key = keyOf(uri, measurement.model);
    this.entries.delete(key);
    this.entries.set(key, { measurement, fingerprint, checked: undefined });
    let dropped = 0;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.limit) break;
      this.entries.delete(oldest);
      dropped++;
    }
    return dropped;
  }

  /** Drops every measurement of a document (it closed); returns how many. */
  forget(uri: string): number {
    let n = 0;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(`${uri}\n`)) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Whether a document has any measurement (cheap: no fingerprint). */
  hasAny(uri: string): boolean {
    for (const key of this.entries.keys()) if (key.startsWith(`${uri}\n`)) return true;
    return false;
  }

  /** The measurement of `model` in the document as it is now (`version`, `text`, `file`), with its staleness. */
  get(uri: string, model: string, version: number, text: string, file: SourceFile): ShownMeasurement | undefined {
    const entry = this.entries.get(keyOf(uri, model));
    if (!entry) return undefined;
    if (entry.checked?.version !== version) {
      const stale = entry.fingerprint === undefined || modelFingerprint(text, file, model) !== entry.fingerprint;
      entry.checked = { version, stale };
    }
    return { measurement: entry.measurement, stale: entry.checked.stale };
  }
}

const keyOf = (uri: string, model: string): string => `${uri}\n${model}`;
