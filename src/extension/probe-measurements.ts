// Sends each successful probe to the language server (`npas/probeMeasured`), so hovers and code
// lenses show measured numbers beside the roofline (the server keeps them; probes run here).
// The server holds them in memory only and forgets a document's when it closes; this side keeps
// the latest notification per (document, model), at most MAX_KEPT (the least recently measured
// dropped first), in the workspace state (ExtensionContext.workspaceState), so they outlive a
// server restart, a closed document and a window reload: they are sent again when the server
// (re)starts, for the documents open then, and when a document opens. Staleness after a reload
// rests on the notification's `modelFingerprint` (the probed text's identity; document versions
// restart), so only measurements that carry one are stored, without their version; one without
// (none is expected: the fingerprint is computed after every probe) lives for the session only.
// Free of `vscode`, so Node tests can check it; main.ts wires the client, the state and the events.

import { PROBE_MEASURED_NOTIFICATION, type ProbeMeasuredParams } from '../protocol/lsp-extensions.js';

/** What the sender needs of the language client: running or not, and a notification. */
export interface MeasurementTransport {
  sendNotification(method: string, params: unknown): Promise<void>;
}

/** What the sender needs of a vscode.Memento (workspaceState). */
export interface MeasurementState {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** The workspace-state key; a new layout of the stored value gets a new key (the old one is ignored). */
export const STATE_KEY = 'npas.probeMeasurements.v1';

/** A few hundred bytes each; enough for the models a workspace measures, small enough to load at activation. */
export const MAX_KEPT = 64;

export class ProbeMeasurementSender {
  /** Keyed by `uri \n model`, least recently measured first. */
  private readonly kept = new Map<string, ProbeMeasuredParams>();

  constructor(
    /** The running client, or undefined while it is not running. */
    private readonly transport: () => MeasurementTransport | undefined,
    private readonly warn: (message: string) => void,
    private readonly state?: MeasurementState,
    private readonly limit = MAX_KEPT,
  ) {
    if (state) this.load(state);
  }

  get size(): number {
    return this.kept.size;
  }

  /** The kept measurements, least recently measured first (tests). */
  entries(): ProbeMeasuredParams[] {
    return [...this.kept.values()];
  }

  /** Sends one measurement and keeps (and stores) it; answers `sent` or why not. */
  async send(params: ProbeMeasuredParams): Promise<string> {
    this.keep(params);
    await this.save();
    return this.deliver(params);
  }

  /** The server (re)started: it has none of them; sends those of the open documents again. */
  async resend(isOpen: (uri: string) => boolean): Promise<number> {
    let n = 0;
    for (const params of [...this.kept.values()]) if (isOpen(params.uri) && (await this.deliver(params)) === 'sent') n++;
    return n;
  }

  /** A document opened (the server forgot its measurements when it closed, or never had them): sends them. */
  async opened(uri: string): Promise<number> {
    return this.resend((u) => u === uri);
  }

  /**
   * The document closed: the server forgets its measurements; this side keeps those with a
   * fingerprint (judged against the text when it opens again) and drops the others (their
   * version means nothing once the document is reopened).
   */
  forget(uri: string): void {
    for (const [key, params] of [...this.kept]) if (params.uri === uri && params.modelFingerprint === undefined) this.kept.delete(key);
  }

  private keep(params: ProbeMeasuredParams): void {
    const key = `${params.uri}\n${params.measurement.model}`;
    this.kept.delete(key);
    this.kept.set(key, params);
    for (const oldest of this.kept.keys()) {
      if (this.kept.size <= this.limit) break;
      this.kept.delete(oldest);
    }
  }

  /**
   * Reads the stored measurements. The server validates every field on receipt (and drops a
   * malformed one with a log line); here only what keying needs is checked, and an entry without
   * it is dropped and counted. The version is removed: after a reload it names nothing.
   */
  private load(state: MeasurementState): void {
    let stored: unknown;
    try {
      stored = state.get<unknown>(STATE_KEY);
    } catch (e) {
      this.warn(`probe: the stored measurements could not be read (${e instanceof Error ? e.message : String(e)}); none are restored`);
      return;
    }
    if (stored === undefined) return;
    const list = Array.isArray(stored) ? stored : [];
    let unreadable = Array.isArray(stored) ? 0 : 1;
    for (const item of list) {
      const p = item as Partial<ProbeMeasuredParams> | null;
      if (typeof p !== 'object' || p === null || typeof p.uri !== 'string' || typeof p.modelFingerprint !== 'string' || typeof p.measurement !== 'object' || p.measurement === null || typeof p.measurement.model !== 'string') {
        unreadable++;
        continue;
      }
      this.keep({ uri: p.uri, modelFingerprint: p.modelFingerprint, measurement: p.measurement });
    }
    if (unreadable > 0) this.warn(`probe: ${unreadable} stored measurement(s) could not be read and were dropped`);
  }

  private async save(): Promise<void> {
    if (!this.state) return;
    const stored = [...this.kept.values()].filter((p) => p.modelFingerprint !== undefined).map((p) => ({ uri: p.uri, modelFingerprint: p.modelFingerprint, measurement: p.measurement }));
    try {
      await this.state.update(STATE_KEY, stored);
    } catch (e) {
      this.warn(`probe: the measurements could not be stored in the workspace state (${e instanceof Error ? e.message : String(e)}); they are kept for this session`);
    }
  }

  private async deliver(params: ProbeMeasuredParams): Promise<string> {
    const client = this.transport();
    if (!client) return 'not sent: the language server is not running';
    try {
      await client.sendNotification(PROBE_MEASURED_NOTIFICATION, params);
      return 'sent';
    } catch (e) {
      const why = `not sent: ${e instanceof Error ? e.message : String(e)}`;
      this.warn(`probe: the measurement of ${params.measurement.model} could not be sent to the language server (${why})`);
      return why;
    }
  }
}
