// The latest version of each open document, in memory both threads of the language server
// see (src/protocol/analysis-worker.ts). The main thread writes a document's version the
// moment its edit arrives (`VersionBoard`); the worker's analysis of an older version reads it
// every few thousand steps (`VersionWatch`) and stops, however long the worker's own queue of
// messages is. The worker also writes which document it is analysing, so that after a crash
// the main thread knows which version to refuse rather than analyse again.

import { BUSY_CELL, VERSION_CELLS, VERSION_SLOTS } from '../protocol/analysis-worker.js';

/** The main thread's side: gives each open document a slot and writes its versions there. */
export class VersionBoard {
  readonly buffer = new SharedArrayBuffer(VERSION_CELLS * Int32Array.BYTES_PER_ELEMENT);
  private readonly cells = new Int32Array(this.buffer);
  private readonly slots = new Map<string, number>();
  private readonly free: number[] = [];
  private next = 0;

  constructor() {
    Atomics.store(this.cells, BUSY_CELL, -1);
  }

  /** A slot for a newly opened document (undefined when all are taken: no cancellation for it). */
  open(uri: string, version: number): number | undefined {
    let slot = this.slots.get(uri);
    if (slot === undefined) {
      slot = this.free.pop() ?? (this.next < VERSION_SLOTS ? this.next++ : undefined);
      if (slot === undefined) return undefined;
      this.slots.set(uri, slot);
    }
    Atomics.store(this.cells, slot, version | 0);
    return slot;
  }

  change(uri: string, version: number): void {
    const slot = this.slots.get(uri);
    if (slot !== undefined) Atomics.store(this.cells, slot, version | 0);
  }

  /** Frees the document's slot; an analysis of it still running sees a version it never had and stops. */
  close(uri: string): void {
    const slot = this.slots.get(uri);
    if (slot === undefined) return;
    Atomics.store(this.cells, slot, Atomics.load(this.cells, slot) + 1);
    this.slots.delete(uri);
    this.free.push(slot);
  }

  slotOf(uri: string): number | undefined {
    return this.slots.get(uri);
  }

  /** The document the worker was analysing when it was last seen (after a crash: the culprit). */
  busy(): string | undefined {
    const slot = Atomics.load(this.cells, BUSY_CELL);
    for (const [uri, s] of this.slots) if (s === slot) return uri;
    return undefined;
  }

  /** Forgets the busy mark (a new worker starts idle). */
  clearBusy(): void {
    Atomics.store(this.cells, BUSY_CELL, -1);
  }
}

/** The worker's side: which slot each document has, whether a version is superseded. */
export class VersionWatch {
  private readonly cells: Int32Array;
  private readonly slots = new Map<string, number>();

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer);
  }

  /** The document now owns `slot` (a slot freed by a closed document may be reused). */
  assign(uri: string, slot: number): void {
    for (const [other, s] of this.slots) if (s === slot) this.slots.delete(other);
    this.slots.set(uri, slot);
  }

  /** Whether the editor has sent a version of `uri` other than `version` (or closed it). */
  superseded(uri: string, version: number): boolean {
    const slot = this.slots.get(uri);
    return slot !== undefined && Atomics.load(this.cells, slot) !== (version | 0);
  }

  /** Marks the document being analysed now; undefined when the analysis ended. */
  analysing(uri: string | undefined): void {
    const slot = uri === undefined ? undefined : this.slots.get(uri);
    Atomics.store(this.cells, BUSY_CELL, slot ?? -1);
  }
}
