// The keystroke budget, measured the way an editor sees it: `node dist/server.js --stdio` in a
// child process, an incremental edit sent over stdio, the time until the new diagnostics arrive
// (pushed, and pulled). Specs of 10,000 layers: a repeated stack (`Decoder * 10000`), an
// index-dependent comprehension (10,000 instances, alternating windows), and 10,000 layers
// written out one per line. The median of 21 edits must stay within 150 ms. Wall-clock time on
// a shared machine is noisy (other processes take the CPU), so a series that misses is run
// again, up to three times, and the best median counts — the same policy as the parser's speed
// tests; every series is printed.
// Across files (issue 18): the same specs as a library that an open experiments file imports
// (a budget of the imported model); an edit to the library must re-diagnose the importer
// within the same budget: pulled (as VS Code does), the time from the edit to the importer's
// diagnostics; pushed, where the server analyses the library and then its importer, the time
// from the library's push to the importer's (and the whole within twice the budget). On a
// loaded machine, where this run's single-file median of the same spec exceeds the budget, the
// bound is that median and a quarter more: as fast as a single file, under the same load.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { ClientCapabilities, DocumentDiagnosticReport, PublishDiagnosticsParams } from 'vscode-languageserver/node';

const ROOT = join(__dirname, '..', '..');
const BUDGET_MS = 150;
const WARMUP = 5;
const RUNS = 21;
const ATTEMPTS = 3;

const HEAD = `model M {
  d = 256
  block Decoder(window = none) {
    n1 = RMSNorm(d)
    attn = Attention(d, heads: 4, window: window)
    n2 = RMSNorm(d)
    mlp = GatedMLP(d, 1024)
  }
  embed = Embedding(1000, d)
`;
const SPECS: Readonly<Record<string, string>> = {
  'Decoder * 10000': `${HEAD}  body = Decoder * 10000\n  head = Linear(d, 1000) tied embed\n}\n`,
  'comprehension of 10,000 (alternating windows)': `${HEAD}  body = [Decoder(window: if i % 2 == 0 then 4096 else none) for i in 0..10000]\n  head = Linear(d, 1000) tied embed\n}\n`,
  '10,000 layers written out': `${HEAD}${Array.from({ length: 10_000 }, (_, i) => `  l${i} = Linear(d, d)\n`).join('')}}\n`,
};

interface Server {
  readonly child: ChildProcess;
  readonly client: MessageConnection;
  readonly pushed: (p: PublishDiagnosticsParams) => void;
}

const servers: Server[] = [];

async function startServer(capabilities: ClientCapabilities, onPush: (p: PublishDiagnosticsParams) => void): Promise<MessageConnection> {
  const child = spawn(process.execPath, ['dist/server.js', '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const client = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  client.onNotification('textDocument/publishDiagnostics', onPush);
  client.onRequest(() => null);
  client.listen();
  servers.push({ child, client, pushed: onPush });
  await client.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities });
  await client.sendNotification('initialized', {});
  return client;
}

before(() => {
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, `node esbuild.mjs failed:\n${build.stderr}`);
});

after(async () => {
  for (const s of servers) {
    await s.client.sendRequest('shutdown').catch(() => undefined);
    await s.client.sendNotification('exit').catch(() => undefined);
    s.client.dispose();
    s.child.kill();
  }
});

/** The edit of run k: rewrites the `d = 256` line's value, alternating, so every version differs. */
function editOf(k: number): { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string } {
  return { range: { start: { line: 1, character: 6 }, end: { line: 1, character: 9 } }, text: k % 2 === 0 ? '128' : '256' };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const results: string[] = [];

/** Runs series of edits until one's median is within `bound` (at most ATTEMPTS); returns every median. */
async function series(measure: (k: number) => Promise<number>, bound = BUDGET_MS): Promise<number[]> {
  const medians: number[] = [];
  let k = 0;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const times: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++, k++) {
      const t = await measure(k);
      if (i >= WARMUP) times.push(t);
    }
    medians.push(median(times));
    if (medians[medians.length - 1]! <= bound) break;
  }
  return medians;
}

/** The best single-file median of each spec and mode measured so far in this run (`push`/`pull` and the spec's name). */
const singleFile = new Map<string, number>();

/**
 * A library edit's bound: the budget, or — when this run measured the same spec as a single file
 * slower than that (a loaded machine) — the single file's own median and a quarter more: the
 * importer must be re-diagnosed as fast as a single file is, under the same conditions.
 */
function importerBound(mode: 'push' | 'pull', name: string): number {
  const single = singleFile.get(`${mode} ${name}`);
  return single === undefined ? BUDGET_MS : Math.max(BUDGET_MS, 1.25 * single);
}

function report(mode: string, name: string, medians: readonly number[], bound = BUDGET_MS): void {
  const best = Math.min(...medians);
  if (mode === 'push' || mode === 'pull') singleFile.set(`${mode} ${name}`, best);
  const line = `${mode} ${name}: median ${best.toFixed(1)} ms over ${RUNS} edits${medians.length > 1 ? ` (series medians ${medians.map((m) => m.toFixed(1)).join(', ')} ms)` : ''}`;
  results.push(line);
  console.log(`edit → ${mode.startsWith('push') ? 'pushed' : 'pulled'} diagnostics, ${line.slice(mode.length + 1)}`);
  assert.ok(best <= bound, `best median ${best.toFixed(1)} ms exceeds ${bound.toFixed(1)} ms`);
}

for (const [name, text] of Object.entries(SPECS)) {
  test(`edit → pushed diagnostics over stdio, ${name}: median ≤ ${BUDGET_MS} ms`, async () => {
    const waiting = new Map<number, () => void>();
    const client = await startServer({}, (p) => {
      if (p.version !== undefined) waiting.get(p.version)?.();
    });
    const uri = `file:///latency/${encodeURIComponent(name)}.npas`;
    const opened = new Promise<void>((resolve) => waiting.set(1, resolve));
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'npas', version: 1, text } });
    await opened;
    const medians = await series(async (k) => {
      const version = k + 2;
      const arrived = new Promise<void>((resolve) => waiting.set(version, resolve));
      const t = performance.now();
      await client.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [editOf(k)] });
      await arrived;
      return performance.now() - t;
    });
    report('push', name, medians);
  });

  test(`edit → pulled diagnostics over stdio, ${name}: median ≤ ${BUDGET_MS} ms`, async () => {
    const client = await startServer({ textDocument: { diagnostic: { dynamicRegistration: false } } }, () => undefined);
    const uri = `file:///latency-pull/${encodeURIComponent(name)}.npas`;
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'npas', version: 1, text } });
    const first = await client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } });
    assert.equal(first.kind, 'full');
    const medians = await series(async (k) => {
      const t = performance.now();
      await client.sendNotification('textDocument/didChange', { textDocument: { uri, version: k + 2 }, contentChanges: [editOf(k)] });
      const report = await client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } });
      const elapsed = performance.now() - t;
      assert.equal(report.kind, 'full');
      return elapsed;
    });
    report('pull', name, medians);
  });
}

/** An experiments file importing the library `lib.npas` (model M) and budgeting it. */
const IMPORTER = 'import "lib.npas"\nbudget M {\n  params.stored <= 1T\n}\n';

for (const [name, text] of Object.entries(SPECS)) {
  test(`library edit → the importer's pushed diagnostics over stdio, ${name}: median ≤ ${BUDGET_MS} ms after the library's`, async () => {
    const base = `file:///latency-import/${encodeURIComponent(name)}`;
    const lib = `${base}/lib.npas`;
    const exp = `${base}/exp.npas`;
    let libraryPushed: ((version: number | undefined) => void) | undefined;
    let importerPushed: (() => void) | undefined;
    const client = await startServer({}, (p) => {
      if (p.uri === lib) libraryPushed?.(p.version);
      if (p.uri === exp) importerPushed?.();
    });
    const opened = new Promise<void>((resolve) => (importerPushed = resolve));
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri: lib, languageId: 'npas', version: 1, text } });
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri: exp, languageId: 'npas', version: 1, text: IMPORTER } });
    await opened;
    // Pushed, both files are analysed one after the other (the edited library first): the
    // importer's re-diagnosis is held to the budget from the library's push, the whole to twice it.
    const totals: number[] = [];
    const medians = await series(async (k) => {
      const version = k + 2;
      let libraryAt = 0;
      const library = new Promise<void>((resolve) => (libraryPushed = (v) => v === version && ((libraryAt = performance.now()), resolve())));
      const importer = new Promise<void>((resolve) => (importerPushed = resolve));
      const t = performance.now();
      await client.sendNotification('textDocument/didChange', { textDocument: { uri: lib, version }, contentChanges: [editOf(k)] });
      await Promise.all([library, importer]);
      const end = performance.now();
      totals.push(end - t);
      return end - libraryAt;
    }, importerBound('push', name));
    report('push (library edit, from the library\'s push)', name, medians, importerBound('push', name));
    const total = median(totals.slice(-RUNS));
    console.log(`  library edit → both files' pushed diagnostics, ${name}: median ${total.toFixed(1)} ms`);
    assert.ok(total <= 2 * importerBound('push', name), `library edit → the importer's push: median ${total.toFixed(1)} ms exceeds ${(2 * importerBound('push', name)).toFixed(1)} ms`);
  });

  test(`library edit → the importer's pulled diagnostics over stdio, ${name}: median ≤ ${BUDGET_MS} ms`, async () => {
    const client = await startServer({ textDocument: { diagnostic: { dynamicRegistration: false } } }, () => undefined);
    const base = `file:///latency-import-pull/${encodeURIComponent(name)}`;
    const lib = `${base}/lib.npas`;
    const exp = `${base}/exp.npas`;
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri: lib, languageId: 'npas', version: 1, text } });
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri: exp, languageId: 'npas', version: 1, text: IMPORTER } });
    const first = await client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri: exp } });
    assert.deepEqual(first.kind === 'full' ? first.items : undefined, []);
    let previousResultId = first.resultId;
    const medians = await series(async (k) => {
      const t = performance.now();
      await client.sendNotification('textDocument/didChange', { textDocument: { uri: lib, version: k + 2 }, contentChanges: [editOf(k)] });
      const report = await client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri: exp }, previousResultId });
      const elapsed = performance.now() - t;
      // A new analysis of the importer (a full report under a new result id), not the previous one's.
      assert.equal(report.kind, 'full');
      previousResultId = report.resultId;
      return elapsed;
    }, importerBound('pull', name));
    report('pull (library edit)', name, medians, importerBound('pull', name));
  });
}

test('latency summary', () => {
  console.log(['edit → diagnostics over stdio (node dist/server.js --stdio):', ...results].join('\n  '));
});
