// The extension host's share of an edit with the dashboard open, measured as the host sees it:
// `node dist/server.js --stdio` in a child process (the language server, analysing in its
// worker thread), and this process in the extension host's place — it sends the edit and the
// dashboard's `npas/dashboardData` request (as dashboard-panel.ts does after its debounce; the
// answer also names the imported files the dashboard follows), receives the answer and serialises the `update` message it forwards to the page (what VS
// Code's webview.postMessage does with it: JSON.stringify). The answer carries the data encoded
// (DashboardDataAnswer), so the host neither decodes nor re-encodes it. The CPU this process
// spends per edit is the host thread's whole share: no engine call runs here. Beside it, what the
// engine's dashboardData costs on one thread (what the host computed itself before the server
// answered the dashboard), and what decoding the data costs (the page's share now; the host's
// before the answer was encoded).

import { spawn, spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { DASHBOARD_DATA_METHOD, type DashboardDataAnswer, type DashboardDataParams } from '../src/protocol/lsp-extensions.js';
import type { DashboardData } from '../src/core/index.js';
import type { HostToWebviewPosted } from '../src/protocol/webview-messages.js';

const ROOT = join(__dirname, '..');

export interface EditFigures {
  /** CPU ms of this process (the host's thread) per edit: the notification, the request, receiving the answer and serialising the message it forwards. */
  readonly hostCpuMs: number;
  /** CPU ms of decoding the encoded data into DashboardData (the page does it; the host did before). */
  readonly decodeMs: number;
  /** Wall ms from the edit to the dashboard's data arriving. */
  readonly roundTripMs: number;
  /** Characters of the encoded data (what the host receives and forwards as one string). */
  readonly answerBytes: number;
}

/**
 * Medians over `runs` edits of `text` (each rewrites `line`'s characters [from, to) to one of
 * two values, so every version differs), after two warm-up edits.
 */
export async function dashboardEdit(text: string, edit: { line: number; from: number; to: number; values: readonly [string, string] }, runs: number): Promise<EditFigures> {
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`node esbuild.mjs failed:\n${build.stderr}`);
  const child = spawn(process.execPath, ['dist/server.js', '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const client = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  client.onNotification('textDocument/publishDiagnostics', () => {});
  client.onRequest(() => null);
  client.listen();
  try {
    await client.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await client.sendNotification('initialized', {});
    const uri = 'file:///bench/written-10000.npas';
    await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'npas', version: 1, text } });
    const params: DashboardDataParams = { uri, source: 'written-10000.npas', settings: { sequenceLength: 4096, batchSize: 1, dtype: 'bf16', device: 'H100' } };
    const cpu: number[] = [];
    const wall: number[] = [];
    const decode: number[] = [];
    let bytes = 0;
    for (let k = 0; k < runs + 2; k++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await client.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: k + 2 },
        contentChanges: [{ range: { start: { line: edit.line, character: edit.from }, end: { line: edit.line, character: edit.to } }, text: edit.values[k % 2]! }],
      });
      const answer = await client.sendRequest<DashboardDataAnswer | null>(DASHBOARD_DATA_METHOD, params);
      if (!answer || answer.errors > 0) throw new Error('the server answered no dashboard data, or data with errors');
      const forwarded: HostToWebviewPosted = { type: 'update', encoded: answer.encoded };
      const posted = JSON.stringify(forwarded);
      const c = process.cpuUsage(c0);
      const t = performance.now() - t0;
      const d0 = process.cpuUsage();
      const data = JSON.parse(gunzipSync(Buffer.from(answer.encoded, 'base64')).toString('utf8')) as DashboardData;
      const d = process.cpuUsage(d0);
      if (data.models.length !== answer.models.length || posted.length < answer.encoded.length) throw new Error('the encoded data does not match the answer');
      if (k >= 2) {
        cpu.push((c.user + c.system) / 1000);
        wall.push(t);
        decode.push((d.user + d.system) / 1000);
      }
      if (k === 0) bytes = answer.encoded.length;
    }
    return { hostCpuMs: median(cpu), decodeMs: median(decode), roundTripMs: median(wall), answerBytes: bytes };
  } finally {
    await client.sendRequest('shutdown').catch(() => undefined);
    await client.sendNotification('exit').catch(() => undefined);
    client.dispose();
    child.kill();
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
