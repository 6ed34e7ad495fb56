// Sends each successful probe to the language server (`npas/probeMeasured`), so hovers and code
// lenses show measured numbers beside the roofline (the server keeps them; probes run here).
// The server holds them in memory only; so does this side: the latest notification per
// (document, model), at most MAX_KEPT, is kept to be sent again when the server restarts (a
// crash restart would otherwise lose them), and dropped when the document closes (the server
// forgets it then too). Nothing is persisted: after a window reload, hovers show no measurement
// until a probe runs again (the Markdown preview and the Probe pane are not restored either).
// Free of `vscode`, so Node tests can check it; main.ts wires the client and the events.

import { PROBE_MEASURED_NOTIFICATION, type ProbeMeasuredParams } from '../protocol/lsp-extensions.js';

/** What the sender needs of the language client: running or not, and a notification. */
export interface MeasurementTransport {
  sendNotification(method: string, params: unknown): Promise<void>;
}

/** As the server's bound (src/server/probe-measurements.ts). */
export const MAX_KEPT = 256;

export class ProbeMeasurementSender {
  /** Keyed by `uri \n model`, oldest first. */
  private readonly kept = new Map<string, ProbeMeasuredParams>();

  constructor(
    /** The running client, or undefined while it is not running. */
    private readonly transport: () => MeasurementTransport | undefined,
    private readonly warn: (message: string) => void,
    private readonly limit = MAX_KEPT,
  ) {}

  get size(): number {
    return this.kept.size;
  }

  /** Sends one measurement and keeps it for a restart; answers `sent` or why not. */
  async send(params: ProbeMeasuredParams): Promise<string> {
    const key = `${params.uri}\n${params.measurement.model}`;
    this.kept.delete(key);
    this.kept.set(key, params);
    for (const oldest of this.kept.keys()) {
      if (this.kept.size <= this.limit) break;
      this.kept.delete(oldest);
    }
    return this.deliver(params);
  }

  /** The server (re)started: it has none of them; send every kept one again. */
  async resend(): Promise<number> {
    let n = 0;
    for (const params of [...this.kept.values()]) if ((await this.deliver(params)) === 'sent') n++;
    return n;
  }

  /** The document closed: the server forgets its measurements, and so does this side. */
  forget(uri: string): void {
    for (const key of [...this.kept.keys()]) if (key.startsWith(`${uri}\n`)) this.kept.delete(key);
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
