// Issue 12: the language server's analysis runs in a worker thread (src/server/worker-host.ts),
// so an analysis that takes seconds can be superseded by the next edit, a cancelled request is
// answered at once, and a worker that dies (out of memory) is replaced while the server keeps
// answering. Over `node dist/server.js --stdio`, as an editor runs it, on a 10,000-instance
// comprehension with a distinct attention window per instance (seconds of analysis on this
// machine); the crash test runs the host in-process with a tiny worker heap.
// Latencies are printed (`node scripts/run-tests.mjs test/server/analysis-worker`); the
// assertions are about what is answered, and about orders of magnitude only, since other work
// shares the machine.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  CancellationTokenSource,
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import {
  createConnection,
  ProposedFeatures,
  StreamMessageReader as ServerReader,
  StreamMessageWriter as ServerWriter,
  type ClientCapabilities,
  type DocumentDiagnosticReport,
  type FullDocumentDiagnosticReport,
  type Hover,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver/node';
import { startWorkerHost } from '../../src/server/worker-host.js';

const ROOT = join(__dirname, '..', '..');
const CONTENT_MODIFIED = -32801;
const SERVER_CANCELLED = -32802;
const REQUEST_CANCELLED = -32800;

/** 10,000 instances, each its own attention window: nothing repeats, every instance is built and walked. */
const BIG = `model M {
  d = 256
  block Decoder(window = none) {
    n1 = RMSNorm(d)
    attn = Attention(d, heads: 4, window: window)
  }
  body = [Decoder(window: i + 1) for i in 0..10000]
}
`;
const SMALL = 'model Small {\n  l = Linear(4, 4)\n}\n';
/** Version k's edit: `d = 256` becomes `d = 256 + 4k`, so no two versions have the same text. */
const edit = (k: number) => ({ range: { start: { line: 1, character: 6 }, end: { line: 1, character: 9 } }, text: String(256 + 4 * k) });
const HOVER_D = { line: 1, character: 3 };

const children: ChildProcess[] = [];
const lines: string[] = [];
const note = (line: string): void => {
  lines.push(line);
  console.log(line);
};

before(() => {
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, `node esbuild.mjs failed:\n${build.stderr}`);
});

after(() => {
  for (const c of children) c.kill();
  console.log(['analysis worker latencies (node dist/server.js --stdio):', ...lines].join('\n  '));
});

async function stdioServer(capabilities: ClientCapabilities, onPush: (p: PublishDiagnosticsParams) => void = () => undefined): Promise<MessageConnection> {
  const child = spawn(process.execPath, ['dist/server.js', '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const client = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  client.onNotification('textDocument/publishDiagnostics', onPush);
  client.onRequest(() => null);
  client.listen();
  await client.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities });
  await client.sendNotification('initialized', {});
  return client;
}

const open = (client: MessageConnection, uri: string, text: string, version = 1): Promise<void> =>
  client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'npas', version, text } });
const change = (client: MessageConnection, uri: string, version: number): Promise<void> =>
  client.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [edit(version)] });
const pull = (client: MessageConnection, uri: string): Promise<FullDocumentDiagnosticReport> =>
  client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } }) as Promise<FullDocumentDiagnosticReport>;
/** The error code a request was answered with, or 'answered'. */
const outcome = (p: Promise<unknown>): Promise<number | 'answered'> =>
  p.then(
    () => 'answered' as const,
    (e: unknown) => (e instanceof ResponseError ? e.code : Promise.reject(e)),
  );

test('an edit supersedes the analysis in flight: the older request is answered "server cancelled" at once, the newer one in full', async () => {
  const client = await stdioServer({ textDocument: { diagnostic: { dynamicRegistration: false } } });
  const uri = 'file:///worker/supersede.npas';
  await open(client, uri, BIG);
  let t = performance.now();
  const first = await pull(client, uri);
  const fullMs = performance.now() - t;
  assert.deepEqual(first.items, []);

  await change(client, uri, 2);
  const older = outcome(pull(client, uri));
  await new Promise((r) => setTimeout(r, 50));
  t = performance.now();
  await change(client, uri, 3);
  const code = await older;
  const supersededMs = performance.now() - t;
  assert.equal(code, SERVER_CANCELLED, 'the request for version 2 is cancelled by the server (the client pulls again)');
  t = performance.now();
  const newer = await pull(client, uri);
  const newerMs = performance.now() - t;
  assert.deepEqual(newer.items, []);
  note(`a full analysis of the 10,000-instance spec: ${fullMs.toFixed(0)} ms; the request on a superseded version answered ${supersededMs.toFixed(0)} ms after the newer edit; the newer version's diagnostics ${newerMs.toFixed(0)} ms later`);
  assert.ok(supersededMs < Math.max(fullMs, 1000), `superseded after ${supersededMs.toFixed(0)} ms, a full analysis takes ${fullMs.toFixed(0)} ms`);
});

test('$/cancelRequest is answered at once while the worker analyses, and other requests are answered after', async () => {
  const client = await stdioServer({});
  const uri = 'file:///worker/cancel.npas';
  const small = 'file:///worker/small.npas';
  await open(client, small, SMALL);
  await open(client, uri, BIG);
  const source = new CancellationTokenSource();
  const hover = outcome(client.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: HOVER_D }, source.token));
  await new Promise((r) => setTimeout(r, 100));
  const t = performance.now();
  source.cancel();
  assert.equal(await hover, REQUEST_CANCELLED);
  const cancelMs = performance.now() - t;
  const t2 = performance.now();
  const answered = await client.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: small }, position: { line: 0, character: 7 } });
  const smallMs = performance.now() - t2;
  assert.match(JSON.stringify(answered?.contents), /Small/);
  note(`a cancelled hover answered ${cancelMs.toFixed(1)} ms after $/cancelRequest, while the worker analysed; a hover on a small document then ${smallMs.toFixed(0)} ms (it waits for the analysis under way)`);
  assert.ok(cancelMs < 1000, `cancellation answered after ${cancelMs.toFixed(0)} ms`);
});

test('pushed diagnostics: an edit during the analysis of the previous version skips it; the hover after a burst costs one analysis', async () => {
  const pushed: number[] = [];
  const waiting = new Map<number, () => void>();
  const client = await stdioServer({}, (p) => {
    if (p.version !== undefined) {
      pushed.push(p.version);
      waiting.get(p.version)?.();
    }
  });
  const uri = 'file:///worker/push.npas';
  const opened = new Promise<void>((resolve) => waiting.set(1, resolve));
  await open(client, uri, BIG);
  await opened;
  const last = 6;
  const arrived = new Promise<void>((resolve) => waiting.set(last, resolve));
  let t = performance.now();
  // Edits 2..6, 150 ms apart: each arrives while the previous version's push analysis runs.
  for (let v = 2; v <= last; v++) {
    await change(client, uri, v);
    if (v < last) await new Promise((r) => setTimeout(r, 150));
  }
  const editsMs = performance.now() - t;
  t = performance.now();
  const hover = await client.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: HOVER_D });
  const hoverMs = performance.now() - t;
  await arrived;
  assert.match(JSON.stringify(hover?.contents), new RegExp(`d = ${256 + 4 * last}`));
  assert.deepEqual(pushed, [1, last], 'versions 2 to 5 were superseded before their diagnostics were pushed');
  note(`5 edits 150 ms apart (${editsMs.toFixed(0)} ms in all), then a hover: answered ${hoverMs.toFixed(0)} ms after the last edit; pushed versions ${pushed.join(', ')}`);
});

test('a worker that runs out of memory is replaced: the version it died on is reported, the server keeps answering', async () => {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const serverConnection = createConnection(ProposedFeatures.all, new ServerReader(toServer), new ServerWriter(toClient));
  // A heap far too small for 20,000 distinct instances: the worker dies mid-analysis.
  const host = startWorkerHost(serverConnection, { script: join(ROOT, 'dist', 'server-worker.js'), maxHeapMb: 24 });
  serverConnection.listen();
  const client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const logs: string[] = [];
  client.onNotification('window/logMessage', (p: { message: string }) => {
    logs.push(p.message);
  });
  client.onRequest(() => null);
  client.listen();
  try {
    await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: { textDocument: { diagnostic: { dynamicRegistration: false } } } });
    await client.sendNotification('initialized', {});
    const uri = 'file:///worker/oom.npas';
    const small = 'file:///worker/oom-small.npas';
    await open(client, small, SMALL);
    await open(client, uri, BIG.replace('0..10000', '0..20000'));
    const first = await outcome(pull(client, uri));
    assert.equal(first, SERVER_CANCELLED, 'the request the worker died on is answered "server cancelled"');
    assert.equal(host.starts, 2);
    const again = await pull(client, uri);
    assert.deepEqual(
      again.items.map((d) => d.code),
      ['npas-analysis-crashed'],
    );
    assert.match(String(again.items[0]!.message), /out of memory|ERR_WORKER_OUT_OF_MEMORY/i);
    const hover = await client.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: small }, position: { line: 0, character: 7 } });
    assert.match(JSON.stringify(hover?.contents), /Small/);
    assert.ok(logs.some((m) => /analysis worker stopped/.test(m)), logs.join('\n'));
  } finally {
    await client.sendRequest('shutdown').catch(() => undefined);
    await host.dispose();
    client.dispose();
    serverConnection.dispose();
  }
});

test('a request on an older version is answered "content modified"', async () => {
  const client = await stdioServer({});
  const uri = 'file:///worker/modified.npas';
  await open(client, uri, BIG);
  await change(client, uri, 2);
  const older = outcome(client.sendRequest('textDocument/hover', { textDocument: { uri }, position: HOVER_D }));
  await new Promise((r) => setTimeout(r, 50));
  await change(client, uri, 3);
  assert.equal(await older, CONTENT_MODIFIED);
});
