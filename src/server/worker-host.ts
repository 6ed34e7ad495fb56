// The language server's main thread: it speaks to the editor and runs no analysis. The whole
// language service (server.ts) runs in a worker thread (worker-main.ts, dist/server-worker.js);
// this thread forwards every request and notification between the editor and the worker, and
// keeps what makes the server survive a hostile spec:
// - **Cancellation answered at once.** A `$/cancelRequest` is answered "request cancelled"
//   here, even while the worker is busy, and passed on so the worker drops it if still queued.
// - **A newer edit supersedes an analysis in flight.** Each open document's latest version is
//   written to shared memory the moment its edit arrives (document-versions.ts); the worker's
//   analysis of an older version reads it every few thousand steps and stops, and the request
//   that wanted it is answered "content modified" (diagnostics: "server cancelled, retrigger").
// - **A worker that dies is replaced.** The worker runs under a heap limit; if it dies (out of
//   memory, a crash), pending requests are answered "server cancelled", a new worker is
//   initialised with the editor's parameters and the open documents, and the version it died
//   on is reported (`npas-analysis-crashed`) rather than analysed again.

import { Worker } from 'node:worker_threads';
import { TextDocument, type TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import {
  createMessageConnection,
  LSPErrorCodes,
  ParameterStructures,
  PortMessageReader,
  PortMessageWriter,
  ResponseError,
  type CancellationToken,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type MessageConnection,
} from 'vscode-languageserver/node';
import { ANALYSIS_REFUSED_METHOD, DOCUMENT_SLOT_METHOD, type AnalysisRefusedParams, type AnalysisWorkerData, type DocumentSlotParams } from '../protocol/analysis-worker.js';
import { VersionBoard } from './document-versions.js';

export interface WorkerHostOptions {
  /** The worker's script: dist/server-worker.js beside dist/server.js. */
  readonly script: string;
  /** The worker's heap limit in MiB: past it the worker dies and is replaced, the server stays. */
  readonly maxHeapMb?: number;
}

/** What the tests and main.ts can ask of the host. */
export interface WorkerHost {
  /** Workers started so far (1 + restarts). */
  readonly starts: number;
  /** Stops the worker for good (a host that is not the process's whole life: the tests). */
  dispose(): Promise<void>;
}

/** Heap of one analysis worker. A spec within the analysis limits needs well under 2 GiB. */
const DEFAULT_MAX_HEAP_MB = 3072;
/** Deaths within `CRASH_WINDOW_MS` after which no new worker is started (a bug, not a spec). */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 60_000;

interface Running {
  readonly thread: Worker;
  readonly rpc: MessageConnection;
  /** The error the thread reported before it exited (an out-of-memory error names itself). */
  error: Error | undefined;
}

/** Registers the forwarding on `connection` and starts the worker; the caller calls `connection.listen()`. */
export function startWorkerHost(connection: Connection, options: WorkerHostOptions): WorkerHost {
  const board = new VersionBoard();
  /** The editor's open documents, kept here to replay them to a new worker. */
  const documents = new Map<string, TextDocument>();
  /** Requests the worker has not answered yet: answered "server cancelled" if it dies. */
  const inflight = new Set<(e: ResponseError<unknown>) => void>();
  const crashes: number[] = [];
  let initializeParams: InitializeParams | undefined;
  let initialized = false;
  let shuttingDown = false;
  let starts = 0;
  let worker: Running | undefined;

  const launch = (): Running => {
    starts++;
    board.clearBusy();
    const data: AnalysisWorkerData = { versions: board.buffer };
    const thread = new Worker(options.script, {
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? DEFAULT_MAX_HEAP_MB },
      // A debugger's port belongs to the main thread; a worker inheriting --inspect would clash.
      execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect')),
      // Over --stdio the process's stdout is the protocol: the worker's own output goes to stderr.
      stdout: true,
      stderr: true,
    });
    thread.stdout.on('data', (d: Buffer) => process.stderr.write(d));
    thread.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    const rpc = createMessageConnection(new PortMessageReader(thread), new PortMessageWriter(thread));
    // The worker's requests and notifications (configuration, pushed diagnostics, logs, refreshes) go to the editor.
    rpc.onRequest((method, params, token) => untyped(connection).sendRequest(method, ...asArguments(params), token));
    // (The LSP connection's sendNotification takes one params object, as LSP notifications have.)
    rpc.onNotification((method, params) => void untyped(connection).sendNotification(method, ...(params === undefined || params === null ? [] : [params])));
    rpc.listen();
    const running: Running = { thread, rpc, error: undefined };
    thread.on('error', (e) => (running.error = e));
    thread.on('exit', (code) => died(running, code));
    return running;
  };

  const died = (running: Running, code: number): void => {
    if (worker !== running) return;
    worker = undefined;
    const culprit = board.busy();
    running.rpc.dispose();
    const reason = running.error ? `${running.error.name}: ${running.error.message}` : `exit code ${code}`;
    for (const reject of [...inflight]) reject(new ResponseError(LSPErrorCodes.ServerCancelled, `the analysis worker stopped (${reason})`, { retriggerRequest: true }));
    inflight.clear();
    if (shuttingDown) return;
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && crashes[0]! < now - CRASH_WINDOW_MS) crashes.shift();
    if (crashes.length > MAX_CRASHES) {
      connection.console.error(`the analysis worker stopped ${crashes.length} times within a minute (last: ${reason}); the language server stops analysing`);
      return;
    }
    connection.console.error(`the analysis worker stopped (${reason})${culprit ? ` while analysing ${culprit}` : ''}; starting a new one`);
    worker = launch();
    replay(worker, culprit, reason);
  };

  /** Brings a new worker to where the editor is: initialised, every open document open. */
  const replay = (running: Running, culprit: string | undefined, reason: string): void => {
    if (!initializeParams) return;
    running.rpc.sendRequest('initialize', forWorker(initializeParams)).catch(() => undefined);
    if (initialized) void running.rpc.sendNotification('initialized', {});
    for (const doc of documents.values()) {
      const slot = board.slotOf(doc.uri);
      if (slot !== undefined) void running.rpc.sendNotification(DOCUMENT_SLOT_METHOD, { uri: doc.uri, slot } satisfies DocumentSlotParams);
      if (doc.uri === culprit) void running.rpc.sendNotification(ANALYSIS_REFUSED_METHOD, { uri: doc.uri, version: doc.version, reason } satisfies AnalysisRefusedParams);
      void running.rpc.sendNotification('textDocument/didOpen', { textDocument: { uri: doc.uri, languageId: doc.languageId, version: doc.version, text: doc.getText() } });
    }
    // A pulling client asks again for the diagnostics the new worker computes.
    if (initializeParams.capabilities?.workspace?.diagnostics?.refreshSupport === true) connection.sendRequest('workspace/diagnostic/refresh').catch(() => undefined);
  };

  /** Sends a request to the worker; a cancellation is answered here at once, whatever the worker is doing. */
  const forward = (method: string, params: unknown, token: CancellationToken): Promise<unknown> => {
    const target = worker;
    if (!target) return Promise.reject(new ResponseError(LSPErrorCodes.ServerCancelled, 'the analysis worker is not running'));
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        inflight.delete(reject);
        subscription.dispose();
      };
      const subscription = token.onCancellationRequested(() => {
        settle();
        reject(new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled'));
      });
      inflight.add(reject);
      untyped(target.rpc).sendRequest(method, ...asArguments(params), token).then(
        (result) => {
          settle();
          resolve(result);
        },
        (e: unknown) => {
          settle();
          reject(e);
        },
      );
    });
  };

  connection.onInitialize((params, token): Promise<InitializeResult> => {
    initializeParams = params;
    return forward('initialize', forWorker(params), token) as Promise<InitializeResult>;
  });
  connection.onInitialized(() => {
    initialized = true;
    if (worker) void worker.rpc.sendNotification('initialized', {});
  });
  connection.onShutdown(async (token) => {
    shuttingDown = true;
    await forward('shutdown', undefined, token).catch(() => undefined);
  });
  connection.onRequest((method, params, token) => forward(method, params, token));
  connection.onNotification((method, params) => {
    track(method, params);
    if (worker) void untyped(worker.rpc).sendNotification(method, ...asArguments(params));
  });

  /** Keeps the open documents and their latest versions (in shared memory) as the editor edits. */
  const track = (method: string, params: unknown): void => {
    const p = params as { textDocument?: { uri?: unknown; languageId?: unknown; version?: unknown; text?: unknown }; contentChanges?: unknown } | undefined;
    const td = p?.textDocument;
    if (!td || typeof td.uri !== 'string') return;
    const { uri } = td;
    if (method === 'textDocument/didOpen' && typeof td.version === 'number' && typeof td.text === 'string') {
      documents.set(uri, TextDocument.create(uri, typeof td.languageId === 'string' ? td.languageId : 'npas', td.version, td.text));
      const slot = board.open(uri, td.version);
      // Before the didOpen this precedes: the worker knows where to look before it analyses.
      if (slot !== undefined && worker) void worker.rpc.sendNotification(DOCUMENT_SLOT_METHOD, { uri, slot } satisfies DocumentSlotParams);
    } else if (method === 'textDocument/didChange' && typeof td.version === 'number' && Array.isArray(p.contentChanges)) {
      const doc = documents.get(uri);
      if (doc) documents.set(uri, TextDocument.update(doc, p.contentChanges as TextDocumentContentChangeEvent[], td.version));
      board.change(uri, td.version);
    } else if (method === 'textDocument/didClose') {
      documents.delete(uri);
      board.close(uri);
    }
  };

  worker = launch();
  return {
    get starts() {
      return starts;
    },
    async dispose() {
      shuttingDown = true;
      const running = worker;
      worker = undefined;
      if (running) {
        running.rpc.dispose();
        await running.thread.terminate();
      }
    },
  };
}

/** The editor's initialize parameters as the worker gets them: the main thread watches the editor's process. */
function forWorker(params: InitializeParams): InitializeParams {
  return { ...params, processId: null };
}

/** A connection's senders with a method name and any arguments: forwarding knows no message types. */
interface UntypedSender {
  sendRequest(method: string, ...args: unknown[]): Promise<unknown>;
  sendNotification(method: string, ...args: unknown[]): Promise<void>;
}

function untyped(c: Connection | MessageConnection): UntypedSender {
  return c as unknown as UntypedSender;
}

/** JSON-RPC params as `sendRequest`/`sendNotification` arguments: none, by position, or by name. */
function asArguments(params: unknown): unknown[] {
  if (params === undefined || params === null) return [];
  if (Array.isArray(params)) return [ParameterStructures.byPosition, ...params];
  return [ParameterStructures.byName, params];
}
