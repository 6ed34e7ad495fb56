// The parent side of the probe host: forks the child with an IPC channel, sends one JSON-RPC
// request, and always settles — with the result, the child's own error, or a report of what
// happened to the child: killed at the deadline (timeout), killed on cancellation, or dead by a
// signal or exit code (crash, with the tail of its stderr). The caller (CLI, extension) never
// goes down with it.

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KERNEL_RPC, type HostInfo, type JsonRpcRequest, type JsonRpcResponse, type ProbeErrorKind, type ProbeParams, type ProbeProgress, type ProbeResult } from '../src/protocol/kernel-rpc.js';

export type ProbeOutcome<T> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly kind: ProbeErrorKind; readonly message: string };

export interface ClientOptions {
  /** Deadline for the whole request, child start included. Default 10 minutes. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ProbeProgress) => void;
  /** The child entry; default dist/probe-host.js next to this bundle, or kernels/probe-host.ts under tsx. */
  readonly hostPath?: string;
  /** `npas.probe.providerPath`: a folder of execution provider libraries. */
  readonly providerPath?: string;
  /** Grace period for the child to exit after answering before it is killed. Default 2 s. */
  readonly exitGraceMs?: number;
}

function defaultHost(): { path: string; execArgv: string[] } {
  const js = join(__dirname, 'probe-host.js');
  if (existsSync(js)) return { path: js, execArgv: [] };
  const ts = join(__dirname, 'probe-host.ts');
  if (existsSync(ts)) return { path: ts, execArgv: ['--import', 'tsx'] };
  throw new Error(`the probe host is missing (looked for ${js}); run npm run build`);
}

export function runProbe(params: ProbeParams, options: ClientOptions = {}): Promise<ProbeOutcome<ProbeResult>> {
  return call<ProbeResult>(KERNEL_RPC.probe, { ...params, providerPath: undefined }, { ...options, providerPath: options.providerPath ?? params.providerPath });
}

export function hostInfo(options: ClientOptions = {}): Promise<ProbeOutcome<HostInfo>> {
  return call<HostInfo>(KERNEL_RPC.info, {}, options);
}

function call<T>(method: string, params: unknown, options: ClientOptions): Promise<ProbeOutcome<T>> {
  return new Promise((resolve) => {
    let settled = false;
    let child: ChildProcess | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stderr: string[] = [];
    const finish = (outcome: ProbeOutcome<T>, kill: boolean): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child && child.exitCode === null && child.signalCode === null) {
        if (kill) child.kill('SIGKILL');
        else {
          // Ask it to exit; a process that used the CUDA provider was seen to hang at exit.
          try {
            child.send({ jsonrpc: '2.0', method: KERNEL_RPC.shutdown } satisfies JsonRpcRequest);
          } catch {
            // channel already closed
          }
          const c = child;
          setTimeout(() => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'), options.exitGraceMs ?? 2000).unref();
        }
      }
      resolve(outcome);
    };
    const onAbort = (): void => finish({ ok: false, kind: 'cancelled', message: 'the probe was cancelled; the probe host was stopped' }, true);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);

    let host: { path: string; execArgv: string[] };
    const env: NodeJS.ProcessEnv = { ...process.env };
    try {
      host = options.hostPath ? { path: options.hostPath, execArgv: options.hostPath.endsWith('.ts') ? ['--import', 'tsx'] : [] } : defaultHost();
      if (options.providerPath) {
        if (!existsSync(options.providerPath)) return finish({ ok: false, kind: 'provider-missing', message: `the provider folder ${options.providerPath} (npas.probe.providerPath) does not exist` }, true);
        // The child loads the runtime with these providers (kernels/runtime.ts); the dynamic
        // loader reads LD_LIBRARY_PATH at process start, so the folder goes there too. The
        // client itself never loads or names the runtime: it is bundled into the extension.
        env.NPAS_PROVIDER_PATH = options.providerPath;
        env.LD_LIBRARY_PATH = [options.providerPath, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
      }
    } catch (e) {
      return finish({ ok: false, kind: 'internal', message: e instanceof Error ? e.message : String(e) }, true);
    }

    const timeoutMs = options.timeoutMs ?? 600_000;
    timer = setTimeout(() => finish({ ok: false, kind: 'timeout', message: `the probe did not answer within ${(timeoutMs / 1000).toFixed(1)} s; the probe host was killed (a hang or a very slow session build)` }, true), timeoutMs);
    try {
      child = fork(host.path, [], { execArgv: host.execArgv, env, cwd: join(dirname(host.path), '..'), stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    } catch (e) {
      return finish({ ok: false, kind: 'crash', message: `the probe host could not start: ${e instanceof Error ? e.message : String(e)}` }, true);
    }
    child.stderr?.on('data', (d: Buffer) => {
      stderr.push(d.toString());
      if (stderr.length > 50) stderr.splice(0, stderr.length - 50);
    });
    child.on('error', (e) => finish({ ok: false, kind: 'crash', message: `the probe host failed: ${e.message}` }, true));
    // 'close' comes after the child's stderr is drained, so the crash report carries its last words.
    child.on('close', (code, signal) => {
      const tail = stderr.join('').trim().split('\n').slice(-15).join('\n');
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      finish({ ok: false, kind: 'crash', message: `the probe host ${how} before answering (a native crash in ONNX Runtime or the provider?)${tail ? `; its last output:\n${tail}` : ''}` }, false);
    });
    child.on('message', (m: unknown) => {
      const msg = m as JsonRpcRequest & JsonRpcResponse;
      if (msg.method === KERNEL_RPC.progress) {
        options.onProgress?.(msg.params as ProbeProgress);
        return;
      }
      if (msg.id !== 1) return;
      if (msg.error) finish({ ok: false, kind: msg.error.data?.kind ?? 'internal', message: msg.error.message }, false);
      else finish({ ok: true, result: msg.result as T }, false);
    });
    child.send({ jsonrpc: '2.0', id: 1, method, params } satisfies JsonRpcRequest);
  });
}
