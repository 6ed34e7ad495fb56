// An in-process LSP client for the server tests: the server (src/server/server.ts over
// vscode-languageserver's connection) and a plain vscode-jsonrpc client talk real JSON-RPC
// through two cross-wired streams, exactly as over stdio, with no process in between.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  createConnection,
  ProposedFeatures,
  StreamMessageReader as ServerReader,
  StreamMessageWriter as ServerWriter,
  type ClientCapabilities,
  type InitializeResult,
  type PublishDiagnosticsParams,
  type TextEdit,
} from 'vscode-languageserver/node';
import { startServer } from '../../src/server/server.js';
import type { DashboardData } from '../../src/core/index.js';
import { DASHBOARD_DATA_METHOD, type DashboardDataAnswer, type DashboardDataParams } from '../../src/protocol/lsp-extensions.js';
import { checkHostMessage, decodeHostMessage } from '../../webview/protocol.js';
import type { ServerContext } from '../../src/server/context.js';

/** What a client like VS Code declares: pull diagnostics, snippets, links, hierarchy, refreshes. */
export const FULL_CAPABILITIES: ClientCapabilities = {
  textDocument: {
    synchronization: { dynamicRegistration: false },
    diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    completion: { completionItem: { snippetSupport: true } },
    definition: { linkSupport: true },
    documentSymbol: { hierarchicalDocumentSymbolSupport: true },
    inlayHint: {},
    codeLens: {},
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } },
  },
  workspace: { configuration: true, diagnostics: { refreshSupport: true }, inlayHint: { refreshSupport: true }, codeLens: { refreshSupport: true } },
};

/** A minimal client: push diagnostics, no configuration requests, no snippets or links. */
export const MINIMAL_CAPABILITIES: ClientCapabilities = {};

export interface LogEntry {
  readonly type: number;
  readonly message: string;
}

export interface TestSession {
  readonly client: MessageConnection;
  readonly server: ServerContext;
  readonly initialize: InitializeResult;
  readonly logs: LogEntry[];
  readonly pushed: PublishDiagnosticsParams[];
  /** Server → client requests seen, by method. */
  readonly requests: string[];
  /** What `workspace/configuration` answers for `npas.analysis` (tests change it). */
  configuration: unknown;
  open(uri: string, text: string, version?: number): Promise<void>;
  /** Replaces the whole text (a full-text change). */
  replace(uri: string, text: string, version: number): Promise<void>;
  /** Writes notifications to the server in one chunk, as a burst that arrived together. */
  burst(notifications: readonly { method: string; params: unknown }[]): void;
  /** Resolves with the next pushed diagnostics for `uri` that satisfy `accept`. */
  nextDiagnostics(uri: string, accept?: (p: PublishDiagnosticsParams) => boolean): Promise<PublishDiagnosticsParams>;
  close(): Promise<void>;
}

export async function startSession(options: { capabilities?: ClientCapabilities; initializationOptions?: unknown; configuration?: unknown } = {}): Promise<TestSession> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverConnection = createConnection(ProposedFeatures.all, new ServerReader(toServer), new ServerWriter(toClient));
  const server = startServer(serverConnection);
  serverConnection.listen();
  const client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const logs: LogEntry[] = [];
  const pushed: PublishDiagnosticsParams[] = [];
  const requests: string[] = [];
  const waiters: { uri: string; accept: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  const session: TestSession = {
    client,
    server,
    initialize: undefined as unknown as InitializeResult,
    logs,
    pushed,
    requests,
    configuration: options.configuration,
    async open(uri, text, version = 1) {
      await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'npas', version, text } });
    },
    async replace(uri, text, version) {
      await client.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    },
    burst(notifications) {
      const frames = notifications.map((n) => {
        const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: n.method, params: n.params }), 'utf8');
        return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
      });
      toServer.write(Buffer.concat(frames));
    },
    nextDiagnostics(uri, accept = () => true) {
      return new Promise((resolve) => waiters.push({ uri, accept, resolve }));
    },
    async close() {
      await client.sendRequest('shutdown');
      client.dispose();
      serverConnection.dispose();
      toServer.destroy();
      toClient.destroy();
    },
  };
  client.onNotification('window/logMessage', (p: LogEntry) => {
    logs.push(p);
  });
  client.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    pushed.push(p);
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      if (w.uri === p.uri && w.accept(p)) {
        waiters.splice(i, 1);
        w.resolve(p);
        return;
      }
    }
  });
  client.onRequest((method: string, params: object | unknown[] | undefined) => {
    requests.push(method);
    if (method === 'workspace/configuration') {
      const items = (params as { items: { section?: string }[] }).items;
      return items.map(() => session.configuration ?? null);
    }
    return null;
  });
  client.listen();
  const init = await client.sendRequest<InitializeResult>('initialize', {
    processId: null,
    rootUri: null,
    capabilities: options.capabilities ?? FULL_CAPABILITIES,
    initializationOptions: options.initializationOptions,
  });
  (session as { initialize: InitializeResult }).initialize = init;
  await client.sendNotification('initialized', {});
  return session;
}

/** Splits `$0` out of a text: the text without it, and the offset it marked. */
export function cursor(marked: string): { text: string; offset: number } {
  const offset = marked.indexOf('$0');
  if (offset < 0) throw new Error('no $0 in the text');
  return { text: marked.slice(0, offset) + marked.slice(offset + 2), offset };
}

/** The LSP position of an offset in a text. */
export function positionOf(text: string, offset: number): { line: number; character: number } {
  let line = 0;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, character: offset - start };
}

/** Waits until `check` holds, polling the event loop (no fixed sleeps). */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Applies LSP text edits (line/character positions) to a text, as a client would. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const offset = (p: { line: number; character: number }): number => {
    let line = 0;
    let i = 0;
    while (line < p.line) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return text.length;
      i = nl + 1;
      line++;
    }
    return i + p.character;
  };
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}

/** The gallery's relaxed recursive Gemma: the spec most server tests run against, and its URI there. */
export const GEMMA_URI = 'file:///work/relaxed-recursive-gemma.npas';
export const GEMMA = readFileSync(join(__dirname, '..', '..', 'examples', 'relaxed-recursive-gemma.npas'), 'utf8');

/**
 * Registers the hooks of a test file that shares one session: before its tests, a session
 * started with `documents` open (handed to `ready`); after them, the session closed.
 */
export function sharedSession(documents: readonly (readonly [uri: string, text: string])[], ready: (session: TestSession) => void): void {
  let session: TestSession | undefined;
  before(async () => {
    session = await startSession();
    for (const [uri, text] of documents) await session.open(uri, text);
    ready(session);
  });
  after(async () => {
    await session?.close();
  });
}

/** The position `delta` characters into the `occurrence`-th (from 0) `needle` of `text`. */
export function positionAt(text: string, needle: string, delta = 0, occurrence = 0): { line: number; character: number } {
  let i = -1;
  for (let k = 0; k <= occurrence; k++) i = text.indexOf(needle, i + 1);
  if (i < 0) throw new Error(`'${needle}' not in text`);
  return positionOf(text, i + delta);
}

/**
 * Asks `npas/dashboardData` and decodes the answer as the dashboard page does (its own decoding
 * and validation: base64, gzip, JSON, then the data checked), after checking the names and error
 * count the host reports without decoding agree with the data; null when the server answers null.
 */
export async function requestDashboardData(client: MessageConnection, params: DashboardDataParams): Promise<DashboardData | null> {
  const answer = await client.sendRequest<DashboardDataAnswer | null>(DASHBOARD_DATA_METHOD, params);
  if (answer === null) return null;
  const checked = checkHostMessage(await decodeHostMessage({ type: 'update', encoded: answer.encoded }));
  if (!checked.ok || checked.value.type !== 'update') throw new Error(`the page would drop the answer: ${checked.ok ? checked.value.type : checked.error}`);
  const data = checked.value.data;
  const names = data.models.map((m) => m.name);
  if (JSON.stringify(names) !== JSON.stringify(answer.models) || data.diagnostics.errors !== answer.errors) throw new Error(`the answer's names or errors (${answer.models.join(', ')}; ${answer.errors}) are not its data's (${names.join(', ')}; ${data.diagnostics.errors})`);
  return data;
}
