// Between the language server's main thread and its analysis worker (src/server/worker-host.ts
// and src/server/worker-main.ts). The worker runs the whole language service over JSON-RPC on a
// MessagePort; the main thread speaks to the editor and forwards. Besides the LSP messages it
// forwards, the main thread tells the worker where each open document's latest version lives
// in shared memory, so an analysis of an older version can notice, mid-run, that it is
// superseded. Types and constants only.

/** What the worker is started with (`workerData`). */
export interface AnalysisWorkerData {
  /**
   * An `Int32Array` over this buffer: cell `slot` holds the latest version the editor sent for
   * the document given that slot (written by the main thread as edits arrive, read by the
   * worker's analyses); cell `BUSY_CELL` holds the slot the worker is analysing now, or -1.
   */
  readonly versions: SharedArrayBuffer;
}

/** Documents that can be watched at once; past that a document is analysed without cancellation. */
export const VERSION_SLOTS = 4096;
/** The cell after the slots: the slot being analysed, -1 when none (read after a crash). */
export const BUSY_CELL = VERSION_SLOTS;
/** Cells of `AnalysisWorkerData.versions`. */
export const VERSION_CELLS = VERSION_SLOTS + 1;

/** `npas/documentSlot` (main → worker, before the document's didOpen): where its latest version lives. */
export const DOCUMENT_SLOT_METHOD = 'npas/documentSlot';

export interface DocumentSlotParams {
  readonly uri: string;
  readonly slot: number;
}

/**
 * `npas/analysisRefused` (main → worker, after a restart, before the document's didOpen): the
 * previous worker died while analysing this version, so the new one reports that instead of
 * analysing it again (an edit makes a new version, which is analysed).
 */
export const ANALYSIS_REFUSED_METHOD = 'npas/analysisRefused';

export interface AnalysisRefusedParams {
  readonly uri: string;
  readonly version: number;
  /** Why the worker stopped, for the diagnostic (an exit code, an out-of-memory error). */
  readonly reason: string;
}
