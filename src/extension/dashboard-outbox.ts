// What the host sends the dashboard page, delivered in the order it was meant, across page reloads.
//
// The page is destroyed whenever the panel is hidden (no retainContextWhenHidden) and posts `ready`
// when it is up again. Until then nothing can be delivered: an `update` is dropped (the `ready`
// handling brings a fresh one), anything else waits in a queue. When `ready` comes, the host first
// sends fresh data and only then the queued views and results, which refer to that data — and any
// result posted meanwhile must wait behind them too: delivering it directly let an older queued plan
// arrive after a newer one and overwrite it on the page while the newer one counted as drawn (the
// flaky Allocation-pane screenshot of 2026-12-07). A newer message of the same type supersedes a
// queued one: the page shows one plan, one probe result and one view at a time.
//
// Host-free (no `vscode` import), so its ordering is unit-tested; DashboardController owns one.

/** The messages the outbox orders: `update` carries data; every other type is one pane's state. */
export interface OutboxMessage {
  readonly type: string;
}

export class DashboardOutbox<M extends OutboxMessage> {
  private ready = false;
  private flushing = false;
  private queue: M[] = [];

  /** `deliver` posts one message to the live page. */
  constructor(private readonly deliver: (message: M) => void) {}

  /** Whether a page is up and has said `ready` (messages reach it, possibly after the queue). */
  get pageReady(): boolean {
    return this.ready;
  }

  /** The page is gone or not yet loaded (a new page, or the panel was hidden): queue from now on. */
  pageGone(): void {
    this.ready = false;
    this.flushing = false;
  }

  /** Drops everything queued: a new page with nothing owed to it. */
  reset(): void {
    this.pageGone();
    this.queue = [];
  }

  /**
   * The page said `ready`: `update`s go through now, the rest keeps queuing until `flush()` — the
   * caller sends fresh data first, then flushes.
   */
  pageReadied(): void {
    this.ready = true;
    this.flushing = true;
  }

  /** Delivers the queue in order, after the data that `pageReadied`'s caller sent first. */
  flush(): void {
    if (!this.ready) return;
    this.flushing = false;
    const queued = this.queue;
    this.queue = [];
    for (const m of queued) this.deliver(m);
  }

  /**
   * Sends `message` now if the page can take it in order; otherwise queues it (superseding a queued
   * one of its type), or drops it if it is an `update` (the next `ready` brings fresh data).
   * Returns what happened, for the caller's counters and logs.
   */
  send(message: M): 'delivered' | 'queued' | 'dropped' {
    if (message.type === 'update') {
      if (!this.ready) return 'dropped';
      this.deliver(message);
      return 'delivered';
    }
    if (this.ready && !this.flushing) {
      this.deliver(message);
      return 'delivered';
    }
    this.queue = [...this.queue.filter((q) => q.type !== message.type), message];
    return 'queued';
  }

  /** The types waiting for the page, oldest first (for the controller's snapshot and tests). */
  queuedTypes(): string[] {
    return this.queue.map((m) => m.type);
  }
}
