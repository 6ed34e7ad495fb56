// `npas probe FILE --model NAME [--ep cuda|cpu] [--batch B] [--seq S] [--shared-prefix N [--continuations K]] [--json]`, or
// `npas probe --request REQUEST.json` (every parameter as one typed ProbeRequest, answered in
// JSON: what the extension writes; src/protocol/kernel-rpc.ts): exports the
// model, runs it in a probe host child process with onnxruntime-node and prints the measured
// session creation and prefill latency, achieved FLOP/s and bytes/s from the engine's counts,
// and the engine's roofline beside each. A CPU fallback is printed loudly; a missing CUDA
// provider says how to install one. Exit 0 measured, 2 usage or spec error, 3 provider
// missing, 4 the probe failed (session, run, timeout, crash), 130 cancelled (Ctrl-C).

import { resolve } from 'node:path';
import { findDevice, DEVICE_NAMES } from '../../core/index.js';
import type { ProbeParams, ProbeRequest, ProbeResult } from '../../protocol/kernel-rpc.js';
import { runProbe } from '../../../kernels/probe-client.js';
import { parseCommand, usageOf, type CommandSpec } from '../args.js';
import { groupDigits } from '../format.js';
import { CliError, type CliIO } from '../io.js';
import { printJsonFailure, withJsonFailures } from '../json-failure.js';
import { commandRequest, RequestFields, type RequestSource } from '../request-fields.js';
import { readSpec } from './read-spec.js';

export const PROBE_COMMAND: CommandSpec = {
  name: 'probe',
  operands: 'FILE',
  flags: [
    { name: 'model', takesValue: true, value: 'NAME', required: true },
    { name: 'ep', takesValue: true, value: 'cuda|cpu' },
    { name: 'batch', takesValue: true, value: 'B' },
    { name: 'seq', takesValue: true, value: 'S' },
    { name: 'src-seq', takesValue: true, value: 'S' },
    { name: 'dtype', takesValue: true, value: 'fp16|fp32' },
    { name: 'ops', takesValue: true, value: 'fused|standard' },
    { name: 'generation', takesValue: true, value: 'materialised|live' },
    { name: 'device', takesValue: true, value: 'D' },
    { name: 'runs', takesValue: true, value: 'N' },
    { name: 'warmup', takesValue: true, value: 'N' },
    { name: 'threads', takesValue: true, value: 'N' },
    { name: 'profile', takesValue: false },
    { name: 'fallback', takesValue: false, field: 'allowCpuFallback' },
    { name: 'provider-path', takesValue: true, value: 'DIR' },
    { name: 'timeout', takesValue: true, value: 'SECONDS', field: 'timeoutSeconds' },
    { name: 'ignore-memory', takesValue: false },
    { name: 'shared-prefix', takesValue: true, value: 'N' },
    { name: 'continuations', takesValue: true, value: 'K' },
    { name: 'json', takesValue: false, field: null },
    { name: 'request', takesValue: true, value: 'REQUEST.json', field: null },
  ],
};

const USAGE = usageOf(PROBE_COMMAND);

export interface ProbeCommandHooks {
  /** Overrides the probe host entry (tests). */
  readonly hostPath?: string;
}

export function runProbeCommand(argv: readonly string[], io: CliIO, hooks: ProbeCommandHooks = {}): Promise<number> {
  return withJsonFailures(argv, io, () => probe(argv, io, hooks));
}

/**
 * The probe's typed request, from `--request FILE` or from FILE and the flags: one reading of
 * both (request-fields.ts), so a request and the flags accept the same values.
 */
export function probeRequest(source: RequestSource): ProbeRequest {
  const f = new RequestFields(source);
  const ep = f.choice('ep', ['cuda', 'cpu'] as const) ?? 'cuda';
  const model = f.text('model');
  if (!model) throw new CliError(`probe: --model NAME is required\n${USAGE}`, 2, '--model NAME is required');
  const deviceName = f.text('device');
  const device = deviceName === undefined ? undefined : findDevice(deviceName)?.name;
  if (deviceName !== undefined && !device) throw new CliError(`${source.spelling('device')} must be one of ${DEVICE_NAMES.join(', ')}; got '${deviceName}'`);
  const srcSeq = f.size('srcSeq');
  const threads = f.size('threads');
  const providerPath = f.text('providerPath');
  const seq = f.size('seq') ?? 128;
  // A prompt of N tokens shared by K continuations of seq − N tokens (docs/probes.md, "Shared prompts").
  const sharedPrefix = f.size('sharedPrefix');
  const continuations = f.size('continuations');
  const refuse = (detail: string): CliError => new CliError(`probe: ${detail}`, 2, detail);
  if (sharedPrefix === undefined && continuations !== undefined) throw refuse(`${source.spelling('continuations')} applies to a shared prompt (${source.spelling('sharedPrefix')} N)`);
  if (sharedPrefix !== undefined && sharedPrefix >= seq) throw refuse(`${source.spelling('sharedPrefix')} ${sharedPrefix} must be below ${source.spelling('seq')} ${seq}: each continuation needs a token of its own`);
  if (sharedPrefix !== undefined && srcSeq !== undefined) throw refuse(`${source.spelling('sharedPrefix')} shares a decoder's prompt; ${source.spelling('srcSeq')} is an encoder-decoder's source length, and an encoder-decoder is not exported with a shared prompt`);
  return {
    specPath: f.text('specPath') ?? '',
    model,
    ep,
    dtype: f.choice('dtype', ['fp16', 'fp32'] as const) ?? (ep === 'cuda' ? 'fp16' : 'fp32'),
    ops: f.choice('ops', ['fused', 'standard'] as const) ?? 'fused',
    generation: f.choice('generation', ['materialised', 'live'] as const) ?? 'materialised',
    batch: f.size('batch') ?? 1,
    seq,
    ...(srcSeq !== undefined ? { srcSeq } : {}),
    ...(sharedPrefix !== undefined ? { sharedPrefix, continuations: continuations ?? 2 } : {}),
    runs: f.size('runs') ?? 10,
    warmup: f.size('warmup', 'zero allowed') ?? 2,
    ...(threads !== undefined ? { threads } : {}),
    ...(device !== undefined ? { device } : {}),
    ...(providerPath !== undefined ? { providerPath } : {}),
    profile: f.flag('profile'),
    allowCpuFallback: f.flag('allowCpuFallback'),
    ignoreMemory: f.flag('ignoreMemory'),
    timeoutSeconds: f.size('timeoutSeconds') ?? 600,
  };
}

async function probe(argv: readonly string[], io: CliIO, hooks: ProbeCommandHooks): Promise<number> {
  const parsed = parseCommand(argv, PROBE_COMMAND);
  const { timeoutSeconds = 600, providerPath, ...request } = probeRequest(commandRequest(PROBE_COMMAND, parsed, io));
  // A request file always answers in JSON: its writer is a program.
  const json = parsed.flags.has('json') || parsed.flags.has('request');
  const params: ProbeParams = {
    ...request,
    specText: readSpec(request.specPath, io),
    // Its imports are read relative to the spec's file, as every command reads a spec.
    specPath: resolve(request.specPath),
  };
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const outcome = await runProbe(params, {
      timeoutMs: timeoutSeconds * 1000,
      signal: controller.signal,
      providerPath,
      hostPath: hooks.hostPath,
      onProgress: json ? undefined : (p) => io.stderr(`  … ${p.message}\n`),
    });
    if (!outcome.ok) {
      if (json) printJsonFailure(io, outcome.kind, outcome.message);
      // The probe host's words hold for any front end; the CLI's own way to the CPU is said here.
      const remedy = outcome.kind === 'provider-missing' ? ' Use --ep cpu to probe on the CPU instead.' : '';
      io.stderr(`npas: probe ${outcome.kind === 'provider-missing' ? 'cannot use CUDA' : 'failed'} (${outcome.kind}): ${outcome.message}${remedy}\n`);
      return outcome.kind === 'spec' ? 2 : outcome.kind === 'provider-missing' ? 3 : outcome.kind === 'memory' ? 5 : outcome.kind === 'cancelled' ? 130 : 4;
    }
    const r = outcome.result;
    if (r.fallback) io.stderr(`\n!!! ${r.fallback}\n\n`);
    io.stdout(json ? `${JSON.stringify(r, null, 2)}\n` : formatResult(r));
    return 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

const ms = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 2 : 1)} ms`);
const si = (x: number, unit: string): string => {
  const steps: [number, string][] = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [v, p] of steps) if (x >= v) return `${(x / v).toFixed(x / v < 10 ? 2 : 1)} ${p}${unit}`;
  return `${x.toFixed(0)} ${unit}`;
};

function formatResult(r: ProbeResult): string {
  const p = r.prefill;
  const lines = [
    `${r.model} on ${r.provider === 'cuda' ? 'CUDA' : 'CPU'}${r.fallback ? ' (FALLBACK from CUDA)' : ''} — onnxruntime-node ${r.ortVersion}, ${r.dtype}, ${r.ops ?? 'standard'} ops, batch ${r.batch}, seq ${r.seq}${r.srcSeq !== undefined ? `, source ${r.srcSeq}` : ''}`,
    `  export            ${ms(r.export.ms)}, ${si(r.export.bytes, 'B')}${r.export.externalData ? ' (external data)' : ''}, ${groupDigits(r.export.nodes)} nodes, ${groupDigits(r.export.initializers)} initializers = ${groupDigits(BigInt(r.initializerElements))} elements (params.stored ${groupDigits(BigInt(r.storedParams))})`,
    `  session creation  ${ms(r.sessionCreateMs)}`,
    `  prefill           ${ms(p.medianMs)} median, ${ms(p.minMs)} min over ${p.runs} runs   roofline (${p.roofline.device}) ${ms(p.roofline.seconds * 1000)}, ${p.roofline.bound}-bound → ${(p.efficiency * 100).toFixed(1)}% of roofline`,
    `                    achieved ${si(p.achievedFlopsPerSecond, 'FLOP/s')} (engine count ${si(Number(p.flops), 'FLOP')}), ${si(p.achievedBytesPerSecond, 'B/s')} (engine count ${si(Number(p.bytes), 'B')})`,
    ...decodeLines(r.decode),
    ...sharedPrefixLines(r.sharedPrefix),
    `  memory            ${memoryText(r.memory)}`,
    `  placement         ${Object.entries(r.placement.nodesByProvider).map(([k, v]) => `${k} ${v} nodes`).join(', ') || '—'} (${r.placement.note})`,
    ...r.notes.map((n) => `  note: ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}

function decodeLines(d: ProbeResult['decode']): string[] {
  if ('unavailable' in d) return [`  decode step       ${d.unavailable}; roofline (${d.roofline.device}) ${ms(d.roofline.seconds * 1000)}, ${d.roofline.bound}-bound`];
  return [
    `  decode step       ${ms(d.medianMs)} median, ${ms(d.minMs)} min over ${d.runs} runs   roofline (${d.roofline.device}) ${ms(d.roofline.seconds * 1000)}, ${d.roofline.bound}-bound → ${(d.efficiency * 100).toFixed(1)}% of roofline`,
    `                    achieved ${si(d.achievedFlopsPerSecond, 'FLOP/s')} (engine count ${si(Number(d.flops), 'FLOP')}), ${si(d.achievedBytesPerSecond, 'B/s')} (engine count ${si(Number(d.bytes), 'B')}: weights read + KV cache)`,
  ];
}

/** A shared prompt's graphs against the engine's figures, shared and apart (docs/probes.md, "Shared prompts"). */
function sharedPrefixLines(m: ProbeResult['sharedPrefix']): string[] {
  if (!m) return [];
  const cache = m.decodeKvCacheBytes === undefined ? 'decode step not measured' : `decode step's cache ${groupDigits(BigInt(m.decodeKvCacheBytes))} B ${m.decodeKvCacheBytes === m.kvCacheBytes ? '= engine KV' : `≠ engine KV ${groupDigits(BigInt(m.kvCacheBytes))} B`}`;
  return [
    `  shared prompt     ${m.tokens} tokens + ${m.continuations} continuations: rows of ${groupDigits(m.packedTokens)} tokens (apart ${groupDigits(m.unsharedTokens)}); engine prefill ${si(Number(m.prefillFlops), 'FLOP')} (apart ${si(Number(m.unsharedPrefillFlops), 'FLOP')}), KV ${groupDigits(BigInt(m.kvCacheBytes))} B (apart ${groupDigits(BigInt(m.unsharedKvCacheBytes))} B); ${cache}`,
  ];
}

function memoryText(m: ProbeResult['memory']): string {
  if (m.kind === 'unavailable') return `unavailable (${m.reason})`;
  return m.kind === 'gpu' ? `GPU ${si(m.bytes, 'B')} held by the probe process` : `host RSS +${si(m.bytes, 'B')} while the session was alive`;
}
