// Issue 12, "Done when": the language server on a 10 MB spec. `node dist/server.js --stdio` in a
// child process, as an editor runs it; the spec is ~10 MB of layers written out one per line
// (about 370,000 members, the largest written-out spec the analysis bound covers) with a small
// model after it. The server must send the diagnostics of the whole document within the
// analysis bound (10 s of CPU, 2 GiB) and then answer a hover on the small model. CPU time and
// peak memory are the server process's own (/proc, Linux): wall-clock time on a shared machine
// measures the other processes too.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { DocumentDiagnosticReport, FullDocumentDiagnosticReport, Hover } from 'vscode-languageserver/node';

const ROOT = join(__dirname, '..', '..');
const TEN_MB = 10 * 1000 * 1000;
const CPU_BOUND_S = 10;
const MEMORY_BOUND_KB = 2 * 1024 * 1024;

/** ~10 MB: `M` with one Linear per line, then `Probe`, whose hover is asked for afterwards. */
function hugeSpec(): { text: string; layers: number } {
  const tail = 'model Probe { l = Linear(4, 4) }\n';
  const lines: string[] = ['model M {\n'];
  let size = lines[0]!.length + 2 + tail.length;
  let layers = 0;
  for (;;) {
    const line = `  l${layers} = Linear(64, 64)\n`;
    if (size + line.length > TEN_MB) break;
    lines.push(line);
    size += line.length;
    layers++;
  }
  lines.push('}\n', tail);
  return { text: lines.join(''), layers };
}

/** User + system CPU seconds of a process so far (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident memory of a process so far, in KiB (VmHWM). */
function peakKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

let child: ChildProcess;
let client: MessageConnection;

before(async () => {
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, `node esbuild.mjs failed:\n${build.stderr}`);
  child = spawn(process.execPath, ['dist/server.js', '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  client = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  client.onNotification('textDocument/publishDiagnostics', () => undefined);
  client.onRequest(() => null);
  client.listen();
  await client.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { textDocument: { diagnostic: {}, hover: { contentFormat: ['markdown'] } } } });
  await client.sendNotification('initialized', {});
});

after(async () => {
  await client.sendRequest('shutdown').catch(() => undefined);
  await client.sendNotification('exit').catch(() => undefined);
  client.dispose();
  child.kill();
});

test('a 10 MB spec over stdio: diagnostics within 10 s of server CPU and 2 GiB, then a hover is answered', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, async () => {
  const { text, layers } = hugeSpec();
  assert.ok(text.length > 0.99 * TEN_MB && text.length <= TEN_MB, `${text.length} bytes`);
  const pid = child.pid!;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const uri = 'file:///huge.npas';
  await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'npas', version: 1, text } });
  const report = (await client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } })) as FullDocumentDiagnosticReport;
  const analysisCpu = cpuSeconds(pid) - cpu0;
  const analysisWall = (performance.now() - t0) / 1000;
  assert.deepEqual(report.items.filter((d) => d.severity === 1).map((d) => d.code), [], 'a written-out spec has no errors');

  const offset = text.lastIndexOf('model Probe') + 'model '.length + 1;
  const before = text.slice(0, offset);
  const position = { line: before.split('\n').length - 1, character: offset - before.lastIndexOf('\n') - 1 };
  const cpu1 = cpuSeconds(pid);
  const t1 = performance.now();
  const hover = await client.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
  const hoverCpu = cpuSeconds(pid) - cpu1;
  const hoverWall = (performance.now() - t1) / 1000;
  assert.ok(hover, 'a hover');
  // Probe: Linear(4, 4) without bias stores 16 parameters.
  assert.match(JSON.stringify(hover.contents), /Probe/);
  assert.match(JSON.stringify(hover.contents), /\b16\b/);

  // And on the huge model itself: M stores layers × 64 × 64.
  const mOffset = text.indexOf('model M') + 'model '.length;
  const mHover = await client.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: mOffset } });
  assert.ok(mHover, 'a hover on M');
  const stored = (BigInt(layers) * 64n * 64n).toLocaleString('en-US');
  assert.ok(JSON.stringify(mHover.contents).includes(stored), `M's hover names ${stored} stored: ${JSON.stringify(mHover.contents).slice(0, 400)}`);

  const peak = peakKb(pid);
  console.log(
    `10 MB spec over stdio (${layers.toLocaleString('en-US')} layers, ${text.length.toLocaleString('en-US')} bytes): diagnostics ${analysisCpu.toFixed(2)} s CPU (${analysisWall.toFixed(1)} s wall), hover ${hoverCpu.toFixed(2)} s CPU (${hoverWall.toFixed(2)} s wall), server peak ${(peak / 1024).toFixed(0)} MiB`,
  );
  assert.ok(analysisCpu < CPU_BOUND_S, `diagnostics took ${analysisCpu.toFixed(2)} s of server CPU`);
  assert.ok(hoverCpu < 2, `the hover took ${hoverCpu.toFixed(2)} s of server CPU`);
  assert.ok(peak < MEMORY_BOUND_KB, `server peak ${(peak / 1024).toFixed(0)} MiB`);
});
