// Stopping a compilation that nobody wants any more. An editor's analysis of version N is
// useless once version N+1 has arrived, and on a spec near the work budget it costs seconds:
// the host hands `compile` a question ("is this still wanted?") that the evaluator and the walk
// ask every few thousand steps, and a `no` unwinds the whole compilation with
// `AnalysisCancelled` — the one exception `compile` lets through, since a cancelled
// compilation has no result to give. The question must be cheap (a shared-memory read, a
// flag): it is asked about once per 1,024 evaluation steps or walked nodes.

/** Thrown out of `compile` when its `cancelled` question answered true. */
export class AnalysisCancelled extends Error {
  constructor() {
    super('analysis cancelled: a newer version of the text superseded it');
    this.name = 'AnalysisCancelled';
  }
}

/** Asks the host's question once every `every` calls of `poll`, and throws when it says stop. */
export class CancellationPoll {
  private calls = 0;

  constructor(
    private readonly cancelled: (() => boolean) | undefined,
    private readonly every = 1024,
  ) {}

  /** Counts one unit of work; throws `AnalysisCancelled` when the host no longer wants the result. */
  poll(): void {
    if (this.cancelled === undefined) return;
    if (++this.calls < this.every) return;
    this.calls = 0;
    if (this.cancelled()) throw new AnalysisCancelled();
  }

  /** Asks now, whatever the count (between phases). */
  check(): void {
    if (this.cancelled?.()) throw new AnalysisCancelled();
  }
}
