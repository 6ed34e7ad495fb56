// NPAS: Export ONNX and NPAS: Run GPU Probe. Both execute code built from the workspace's specs
// (ONNX Runtime and its execution providers, possibly from `npas.probe.providerPath`), so both
// refuse in an untrusted workspace and say why. Neither runs in the extension host:
//   - the export runs the bundled CLI (`dist/cli.js export-onnx --request FILE`) in a child process on the
//     document's file, or, with unsaved edits in it or in a file its imports reach, on scratch
//     copies of them laid out as on disk, their texts the language server's (child-program.ts:
//     the host compiles nothing for it);
//   - the probe runs the bundled CLI (`dist/cli.js probe --request FILE`) in a child process; the CLI
//     drives the probe host (`dist/probe-host.js`, ONNX Runtime) through kernels/probe-client.ts,
//     which owns the deadline and reports timeouts, cancellation and crashes. So neither the probe
//     client nor ONNX Runtime is ever loaded into the extension host (the extension bundle holds
//     no onnx code at all; test/packaging checks it), and cancelling sends the CLI SIGINT, which
//     kills the probe host, then SIGKILL after a grace period.
// Both hand the CLI their parameters as one typed JSON request (ExportOnnxRequest, ProbeRequest in
// src/protocol/kernel-rpc.ts) in the scratch folder and read its typed JSON answer from stdout.
// Both show cancellable progress, and a timeout, a crash or a cancellation is reported as such.
// Probe results (measured beside the engine's roofline) go to the output channel, a Markdown
// preview, the dashboard's Probe pane (the panel opens if it is not) and the language server
// (`npas/probeMeasured`), whose hover on the model's name and code lens then show them.
// Every question can be answered by an argument, so tests and scripts run them without UI.

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { formatMilliseconds, groupDigits } from '../core/text/number-format.js';
import type { CliFailureKind, CliJsonFailure, ExportOnnxJson, ExportOnnxRequest, ProbeDType, ProbeErrorKind, ProbeRequest, ProbeResult } from '../protocol/kernel-rpc.js';
import { modelsOf, openSpec, pickModel } from './allocate-command.js';
import { childSpec } from './child-program.js';
import { ComparisonDocuments, showMarkdown } from './compare-variants.js';
import { baseName, confirmReplace, sibling, specStem } from './output-files.js';
import type { DashboardController } from './dashboard-panel.js';
import type { ProbeMeasurementSender } from './probe-measurements.js';
import { probeDashboardData, probeLogLines, probeMarkdown, probeMeasuredParams, probeRows, type ProbeRow } from './probe-view.js';
import type { SettingsReader } from './settings.js';
import { requireTrust } from './workspace-trust.js';

export interface ProbeCommandContext {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  readonly settings: SettingsReader;
  readonly documents: ComparisonDocuments;
  /** Where results are drawn (the dashboard's Probe pane); absent: Markdown and output only. */
  readonly dashboard?: DashboardController;
  /** Where results go for hovers and code lenses (the language server); absent: not sent. */
  readonly measurements?: ProbeMeasurementSender;
  /** The running language server, which lists a document's models; absent: listed here. */
  readonly client?: () => Promise<LanguageClient | undefined>;
}

type Failure = { readonly status: 'failed'; readonly kind: CliFailureKind; readonly message: string };
type Simple = { readonly status: 'untrusted' | 'no-document' | 'no-models' | 'cancelled' };

// ---------------------------------------------------------------------------------------------
// Export ONNX
// ---------------------------------------------------------------------------------------------

export interface ExportOnnxArgs {
  readonly model?: string;
  readonly target?: vscode.Uri | string;
  readonly dtype?: ProbeDType;
  readonly document?: vscode.Uri | string;
  /** Seconds before the export child is killed. Default 600. */
  readonly timeoutSeconds?: number;
  /** Cancels like the progress notification's Cancel button (callers in this extension host). */
  readonly token?: vscode.CancellationToken;
}

export type ExportOnnxOutcome =
  | {
      readonly status: 'written';
      readonly uri: string;
      readonly model: string;
      readonly dtype: ProbeDType;
      readonly bytes: number;
      readonly externalData: string | undefined;
      readonly initializers: number;
      readonly initializerElements: string;
      readonly storedParams: string;
      readonly nodes: number;
      readonly ms: number;
    }
  | Failure
  | Simple;

export function exportOnnxArgs(args: readonly unknown[]): ExportOnnxArgs {
  const [first] = args;
  if (first && typeof first === 'object' && !(first instanceof vscode.Uri)) return first as ExportOnnxArgs;
  const [model, target, dtype, document] = args;
  return {
    model: typeof model === 'string' ? model : undefined,
    target: target instanceof vscode.Uri || typeof target === 'string' ? target : undefined,
    dtype: dtype === 'fp16' || dtype === 'fp32' ? dtype : undefined,
    document: document instanceof vscode.Uri || typeof document === 'string' ? document : undefined,
  };
}

const asUri = (u: vscode.Uri | string): vscode.Uri => (typeof u === 'string' ? (/^[a-z][a-z0-9+.-]*:/i.test(u) ? vscode.Uri.parse(u) : vscode.Uri.file(u)) : u);

export async function exportOnnxCommand(ctx: ProbeCommandContext, args: ExportOnnxArgs): Promise<ExportOnnxOutcome> {
  if (!requireTrust('ONNX export')) return { status: 'untrusted' };
  const document = await openSpec(args.document);
  if (!document) {
    void vscode.window.showInformationMessage('NPAS: open a .npas file to export one of its models to ONNX.');
    return { status: 'no-document' };
  }
  const file = baseName(document.uri);
  const model = args.model ?? (await chooseModel(ctx, document, `NPAS: export ONNX (${file})`));
  if (model === undefined) return { status: 'cancelled' };
  if (model === null) return { status: 'no-models' };
  let dtype = args.dtype;
  if (!dtype && args.target === undefined) {
    const chosen = await vscode.window.showQuickPick(
      [
        { label: 'fp32', detail: 'float32 weights (CPU and GPU)' },
        { label: 'fp16', detail: 'float16 weights (what GPU probes use); half the file size' },
      ],
      { title: `NPAS: weight type for ${model}.onnx` },
    );
    if (!chosen) return { status: 'cancelled' };
    dtype = chosen.label as ProbeDType;
  }
  dtype ??= 'fp32';
  const target =
    args.target !== undefined
      ? asUri(args.target)
      : await vscode.window.showSaveDialog({
          title: `Export ${model} as ONNX`,
          saveLabel: 'Export',
          defaultUri: document.isUntitled ? undefined : sibling(document.uri, `${model}.onnx`),
          filters: { ONNX: ['onnx'] },
        });
  if (!target) return { status: 'cancelled' };
  if (target.scheme !== 'file') return fail(ctx, 'export', `ONNX export writes local files only; ${target.toString(true)} is not one`);
  if (args.target !== undefined && !(await confirmReplace(target))) return { status: 'cancelled' };

  const cli = vscode.Uri.joinPath(ctx.extensionUri, 'dist', 'cli.js').fsPath;
  const timeoutMs = (args.timeoutSeconds ?? 600) * 1000;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `NPAS: exporting ${model} to ONNX (${dtype})`, cancellable: true },
    async (progress, token): Promise<ExportOnnxOutcome> => {
      progress.report({ message: 'building the graph in a child process…' });
      const scratch = mkdtempSync(join(tmpdir(), 'npas-export-'));
      const t0 = Date.now();
      try {
        // The saved file itself, so its imports resolve; unsaved text (the spec's or an open
        // library's) goes through a scratch copy of the files, laid out as on disk.
        const spec = await childSpec(document, scratch, await ctx.client?.());
        if (!spec.ok) return fail(ctx, 'export', `${model} cannot be exported to ONNX: ${spec.message}`);
        const request: ExportOnnxRequest = { specPath: spec.specPath, model, out: target.fsPath, dtype };
        const run = await runChild(cli, ['export-onnx', '--request', writeRequest(scratch, request)], timeoutMs, either(token, args.token));
        const elapsed = Date.now() - t0;
        if (run.kind === 'cancelled') return { status: 'cancelled' };
        if (run.kind === 'timeout') return fail(ctx, 'timeout', `the ONNX export of ${model} did not finish within ${timeoutMs / 1000} s; the export process was killed`);
        if (run.kind === 'crash') return fail(ctx, 'crash', `the ONNX export process ${run.how} before finishing${run.stderr ? `: ${lastLines(run.stderr)}` : ''}`);
        // `--json`: the CLI's typed answer (src/protocol/kernel-rpc.ts), success or failure; never its human summary or stderr.
        const answer = jsonAnswer<ExportOnnxJson>(run);
        if (!answer.ok) return fail(ctx, answer.kind, `${model} cannot be exported to ONNX: ${answer.message}`);
        const written = answer.value;
        const outcome: ExportOnnxOutcome = {
          status: 'written',
          uri: target.toString(),
          model,
          dtype,
          bytes: statSync(target.fsPath).size,
          externalData: written.externalData ?? undefined,
          initializers: written.initializers,
          initializerElements: written.initializerElements,
          storedParams: written.storedParams,
          nodes: written.nodes,
          ms: elapsed,
        };
        ctx.log.info(`exportOnnx: ${run.stdout.trim()} (${elapsed} ms)`);
        void vscode.window.showInformationMessage(
          `NPAS: exported ${model} to ${vscode.workspace.asRelativePath(target)}: ${groupDigits(written.initializers)} initializers holding ${groupDigits(written.initializerElements)} elements = params.stored, ${groupDigits(written.nodes)} nodes.`,
        );
        return outcome;
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  );
}

type ChildRun =
  | { readonly kind: 'exited'; readonly code: number; readonly stdout: string; readonly stderr: string }
  | { readonly kind: 'crash'; readonly how: string; readonly stderr: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'cancelled' };

/**
 * Runs a Node script in a child process; kills it at the deadline. On cancellation it is sent
 * `cancelSignal` (the CLI's probe answers SIGINT by killing the probe host) and SIGKILL after a
 * grace period.
 */
function runChild(script: string, argv: readonly string[], timeoutMs: number, token: vscode.CancellationToken, cancelSignal: NodeJS.Signals = 'SIGKILL'): Promise<ChildRun> {
  return new Promise((resolve) => {
    let settled = false;
    let stdout = '';
    let stderr = '';
    const child = fork(script, [...argv], { execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const finish = (r: ChildRun, kill: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sub.dispose();
      if (kill && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }, true), timeoutMs);
    const sub = token.onCancellationRequested(() => {
      if (cancelSignal !== 'SIGKILL' && child.exitCode === null && child.signalCode === null) {
        child.kill(cancelSignal);
        setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 3000).unref();
      }
      finish({ kind: 'cancelled' }, cancelSignal === 'SIGKILL');
    });
    child.stdout?.on('data', (d: Buffer) => void (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-20_000)));
    child.on('error', (e) => finish({ kind: 'crash', how: `failed (${e.message})`, stderr }, true));
    child.on('close', (code, signal) => {
      if (signal || code === null) finish({ kind: 'crash', how: `was killed by ${signal ?? 'a signal'}`, stderr }, false);
      else finish({ kind: 'exited', code, stdout, stderr }, false);
    });
  });
}

/**
 * Writes a command's typed request (src/protocol/kernel-rpc.ts) into the scratch folder and
 * returns its path, for `--request`: the CLI reads the parameters as typed JSON, never as flags
 * flattened here and parsed back there.
 */
function writeRequest(scratch: string, request: ExportOnnxRequest | ProbeRequest): string {
  const path = join(scratch, 'request.json');
  writeFileSync(path, JSON.stringify(request));
  return path;
}

/** A token cancelled when either is (the progress notification's, or one a caller passed). */
function either(a: vscode.CancellationToken, b: vscode.CancellationToken | undefined): vscode.CancellationToken {
  if (!b) return a;
  const source = new vscode.CancellationTokenSource();
  const subs = [a.onCancellationRequested(() => source.cancel()), b.onCancellationRequested(() => source.cancel())];
  if (a.isCancellationRequested || b.isCancellationRequested) source.cancel();
  source.token.onCancellationRequested(() => subs.forEach((d) => d.dispose()));
  return source.token;
}

/** The last lines of a child's output, shown as they are when it printed no typed answer (never read for meaning). */
const lastLines = (s: string): string => s.trim().split('\n').slice(-5).join('\n');

type JsonAnswer<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly kind: CliFailureKind; readonly message: string };

/**
 * A `--json` command's answer (export-onnx, probe): the typed result on exit 0, or its
 * `CliJsonFailure`; a child that printed neither (killed mid-write, a crash in Node itself) is an
 * internal failure shown with its last output.
 */
function jsonAnswer<T>(run: Extract<ChildRun, { kind: 'exited' }>): JsonAnswer<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    return { ok: false, kind: 'internal', message: `the command printed no answer (exit code ${run.code})${run.stderr.trim() ? `; its last output:\n${lastLines(run.stderr)}` : ''}` };
  }
  const failure = (parsed as Partial<CliJsonFailure>).error;
  if (failure) return { ok: false, kind: failure.kind, message: failure.message };
  if (run.code !== 0) return { ok: false, kind: 'internal', message: `the command exited with code ${run.code} without saying why${run.stderr.trim() ? `; its last output:\n${lastLines(run.stderr)}` : ''}` };
  return { ok: true, value: parsed as T };
}

// ---------------------------------------------------------------------------------------------
// Run probe
// ---------------------------------------------------------------------------------------------

export interface RunProbeArgs {
  readonly model?: string;
  /** `cuda` or `cpu`; default `npas.probe.provider`. */
  readonly ep?: 'cuda' | 'cpu';
  readonly seq?: number;
  readonly batch?: number;
  readonly dtype?: ProbeDType;
  /** Roofline device profile; default H100 for cuda, CPU for cpu. */
  readonly device?: string;
  readonly runs?: number;
  readonly warmup?: number;
  readonly threads?: number;
  readonly profile?: boolean;
  /** With ep cuda: run on the CPU when CUDA is missing, stated loudly in the result. */
  readonly fallback?: boolean;
  readonly timeoutSeconds?: number;
  readonly document?: vscode.Uri | string;
  /** false: no Markdown preview. Default true. */
  readonly preview?: boolean;
  /** false: do not draw the result in the dashboard's Probe pane. Default true. */
  readonly dashboard?: boolean;
  /** Cancels like the progress notification's Cancel button (callers in this extension host). */
  readonly token?: vscode.CancellationToken;
}

export type RunProbeOutcome =
  | {
      readonly status: 'measured';
      readonly model: string;
      readonly requestedProvider: 'cuda' | 'cpu';
      readonly provider: 'cuda' | 'cpu';
      readonly fallback: string | undefined;
      readonly rows: readonly ProbeRow[];
      readonly result: ProbeResult;
      readonly markdown: string;
      /** What became of the result in the dashboard: `shown` (posted to the Probe pane), `skipped`, or why not. */
      readonly dashboard: string;
      /** What became of it in the language server (hovers, code lenses): `sent`, `skipped`, or why not. */
      readonly server: string;
    }
  | { readonly status: 'provider-missing'; readonly message: string; readonly setting: 'npas.probe.providerPath' }
  | Failure
  | Simple;

export function runProbeArgs(args: readonly unknown[]): RunProbeArgs {
  const [first] = args;
  if (first && typeof first === 'object' && !(first instanceof vscode.Uri)) return first as RunProbeArgs;
  const [model, ep, document] = args;
  return {
    model: typeof model === 'string' ? model : undefined,
    ep: ep === 'cuda' || ep === 'cpu' ? ep : undefined,
    document: document instanceof vscode.Uri || typeof document === 'string' ? document : undefined,
  };
}

const positive = (x: unknown, d: number): number => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 1 ? x : d);

export async function runProbeCommand(ctx: ProbeCommandContext, args: RunProbeArgs): Promise<RunProbeOutcome> {
  if (!requireTrust('GPU probes')) return { status: 'untrusted' };
  const document = await openSpec(args.document);
  if (!document) {
    void vscode.window.showInformationMessage('NPAS: open a .npas file to probe one of its models.');
    return { status: 'no-document' };
  }
  // The version whose text is probed (the server falls back on it when no fingerprint is sent).
  const version = document.version;
  const file = baseName(document.uri);
  const model = args.model ?? (await chooseModel(ctx, document, `NPAS: run a probe (${file})`));
  if (model === undefined) return { status: 'cancelled' };
  if (model === null) return { status: 'no-models' };

  const probeSettings = ctx.settings.probe();
  const ep = args.ep ?? probeSettings.provider;
  // Said loudly: a CPU probe is not what "GPU probe" suggests.
  const providerNote =
    ep === 'cpu'
      ? args.ep === 'cpu'
        ? 'CPU provider, as requested: these are CPU numbers, not GPU numbers; the roofline is the engine\'s generic CPU profile.'
        : 'CPU provider because the setting `npas.probe.provider` is `cpu`: these are CPU numbers, not GPU numbers; the roofline is the engine\'s generic CPU profile.'
      : undefined;
  if (ep === 'cpu') ctx.log.warn(`probe: ${providerNote}`);
  const timeoutS = positive(args.timeoutSeconds, 600);
  // Everything the probe needs but the spec's path (known once its scratch folder exists), typed.
  const params: Omit<ProbeRequest, 'specPath'> = {
    model,
    ep,
    allowCpuFallback: args.fallback === true,
    batch: positive(args.batch, 1),
    seq: positive(args.seq, 128),
    dtype: args.dtype ?? (ep === 'cuda' ? 'fp16' : 'fp32'),
    ...(args.device !== undefined ? { device: args.device } : {}),
    runs: positive(args.runs, 10),
    warmup: typeof args.warmup === 'number' && Number.isSafeInteger(args.warmup) && args.warmup >= 0 ? args.warmup : 2,
    ...(args.threads !== undefined ? { threads: args.threads } : {}),
    profile: args.profile === true,
    ...(probeSettings.providerPath ? { providerPath: probeSettings.providerPath } : {}),
    timeoutSeconds: timeoutS,
  };
  const cli = vscode.Uri.joinPath(ctx.extensionUri, 'dist', 'cli.js').fsPath;
  // The fingerprint of the probed model's text, from the language server's answer for the text the probe reads.
  let fingerprint: string | undefined;
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `NPAS: probing ${model} on ${ep === 'cuda' ? 'CUDA' : 'the CPU'}`, cancellable: true },
    async (progress, token): Promise<ProbeOutcome> => {
      progress.report({ message: 'export, session and timed runs in the probe host…' });
      const t0 = Date.now();
      const tick = setInterval(() => progress.report({ message: `export, session and timed runs in the probe host… ${Math.round((Date.now() - t0) / 1000)} s` }), 1000);
      const scratch = mkdtempSync(join(tmpdir(), 'npas-probe-'));
      try {
        // The saved file itself, so its imports resolve; unsaved text (the spec's or an open
        // library's) goes through a scratch copy of the files, laid out as on disk.
        const spec = await childSpec(document, scratch, await ctx.client?.(), model);
        if (!spec.ok) return { ok: false, kind: 'spec', message: spec.message };
        fingerprint = spec.fingerprint;
        const request: ProbeRequest = { ...params, specPath: spec.specPath };
        // The CLI's probe client enforces the deadline itself; this one is the backstop.
        const run = await runChild(cli, ['probe', '--request', writeRequest(scratch, request)], timeoutS * 1000 + 30_000, either(token, args.token), 'SIGINT');
        ctx.log.info(`probe: ${model} (${params.ep}) finished in ${Date.now() - t0} ms`);
        return probeOutcome(run, timeoutS);
      } finally {
        clearInterval(tick);
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  );
  if (!outcome.ok) {
    if (outcome.kind === 'cancelled') {
      ctx.log.info(`probe: ${model}: cancelled; the probe was stopped`);
      return { status: 'cancelled' };
    }
    if (outcome.kind === 'provider-missing') return providerMissing(ctx, outcome.message, probeSettings.providerPath);
    // Every other kind the protocol defines has its words here (the type makes a new kind a compile error).
    const what: Record<Exclude<ProbeErrorKind, 'cancelled' | 'provider-missing'>, string> = {
      timeout: 'timed out',
      crash: 'crashed',
      spec: 'cannot probe this model',
      memory: "too large for this machine's memory; nothing was drawn",
      session: 'ONNX Runtime refused the model',
      run: 'a run failed',
      internal: 'internal error',
    };
    return fail(ctx, outcome.kind, `the probe of ${model} failed (${what[outcome.kind]}): ${outcome.message}`);
  }
  const r = outcome.result;
  for (const line of probeLogLines(r)) ctx.log.info(line);
  if (r.fallback) {
    ctx.log.warn(`probe: !!! ${r.fallback}`);
    void vscode.window.showWarningMessage(`NPAS: !!! ${r.fallback}`);
  }
  const markdown = probeMarkdown(r, file, providerNote);
  if (args.preview !== false) await showMarkdown(ctx.documents.set(`${specStem(file)} — ${model} probe.md`, markdown));
  let shown = 'skipped';
  if (ctx.dashboard && args.dashboard !== false) {
    try {
      shown = (await ctx.dashboard.showResult(document, { type: 'probe', result: probeDashboardData(r, file, providerNote) })).status;
    } catch (e) {
      shown = `failed: ${e instanceof Error ? e.message : String(e)}`;
      ctx.log.warn(`probe: the result could not be drawn in the dashboard: ${shown}`);
    }
  }
  const server = ctx.measurements ? await ctx.measurements.send(probeMeasuredParams(document.uri.toString(), version, r, new Date(), fingerprint)) : 'skipped';
  const prefill = probeRows(r)[0]!;
  void vscode.window.showInformationMessage(
    `NPAS: ${model} on ${r.provider === 'cuda' ? 'CUDA' : 'CPU'}${r.fallback ? ' (CPU FALLBACK)' : ''}: prefill ${formatMilliseconds(prefill.measuredMs ?? 0)} measured, ${formatMilliseconds(prefill.rooflineMs)} roofline.`,
  );
  return { status: 'measured', model, requestedProvider: r.requestedProvider, provider: r.provider, fallback: r.fallback, rows: probeRows(r), result: r, markdown, dashboard: shown, server };
}

type ProbeOutcome = { readonly ok: true; readonly result: ProbeResult } | { readonly ok: false; readonly kind: ProbeErrorKind; readonly message: string };

/** The CLI's `probe --json` run as the probe client's outcome. */
function probeOutcome(run: ChildRun, timeoutS: number): ProbeOutcome {
  if (run.kind === 'cancelled') return { ok: false, kind: 'cancelled', message: 'cancelled' };
  if (run.kind === 'timeout') return { ok: false, kind: 'timeout', message: `the probe did not finish within ${timeoutS} s and was killed` };
  if (run.kind === 'crash') return { ok: false, kind: 'crash', message: `the probe process ${run.how}${run.stderr ? `; its last output:\n${lastLines(run.stderr)}` : ''}` };
  const answer = jsonAnswer<ProbeResult>(run);
  if (!answer.ok) return { ok: false, kind: answer.kind === 'export' ? 'spec' : answer.kind, message: answer.message };
  return { ok: true, result: answer.value };
}

function providerMissing(ctx: ProbeCommandContext, detail: string, providerPath: string): RunProbeOutcome {
  // The probe host's message says how to install the provider (and where it looked).
  const message =
    detail +
    `${providerPath ? ` npas.probe.providerPath is now ${providerPath}.` : ''}` +
    ' To measure on the CPU instead, set `npas.probe.provider` to `cpu` (CPU numbers, stated as such).';
  ctx.log.error(`probe: ${message}`);
  const open = 'Open npas.probe.providerPath';
  const cpu = 'Use the CPU Provider';
  void vscode.window.showErrorMessage(`NPAS: ${message}`, open, cpu).then((choice) => {
    if (choice === open) void vscode.commands.executeCommand('workbench.action.openSettings', 'npas.probe.providerPath');
    if (choice === cpu) void vscode.commands.executeCommand('workbench.action.openSettings', 'npas.probe.provider');
  });
  return { status: 'provider-missing', message, setting: 'npas.probe.providerPath' };
}

function fail(ctx: ProbeCommandContext, kind: CliFailureKind, message: string): Failure {
  ctx.log.error(message);
  void vscode.window.showErrorMessage(`NPAS: ${message}`);
  return { status: 'failed', kind, message };
}

/** A model from a quick pick (skipped for one model); undefined when cancelled, null when none. */
async function chooseModel(ctx: ProbeCommandContext, document: vscode.TextDocument, title: string): Promise<string | undefined | null> {
  const models = await modelsOf(document, await ctx.client?.());
  if (models.length === 0) {
    void vscode.window.showInformationMessage('NPAS: this file declares no model (or has errors to fix first).');
    return null;
  }
  return pickModel(models, title);
}
