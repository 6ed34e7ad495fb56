// A probe result as Markdown and as output-channel lines: measured latency beside the engine's
// roofline for the same work (the NPAS Studio output channel and a Markdown preview), as the
// dashboard's Probe pane takes it (probeDashboardData, docs/dashboard.md), and as the language
// server takes it for hovers and code lenses (probeMeasuredParams, `npas/probeMeasured`). Free of
// `vscode`, so Node tests can check it.

import { formatMilliseconds, formatRate, groupDigits as group } from '../core/text/number-format.js';
import type { Measurement, ProbeResult } from '../protocol/kernel-rpc.js';
import type { ProbeMeasuredParams, ProbePhaseJson } from '../protocol/lsp-extensions.js';
import type { ProbeData, ProbePhaseData } from '../protocol/webview-messages.js';

/** Milliseconds with their unit; below 0.01 ms (which would print as 0.00 ms) in µs. */
const msUnit = formatMilliseconds;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** One row per measured phase: measured vs roofline. */
export interface ProbeRow {
  readonly phase: 'prefill' | 'decode';
  readonly measuredMs: number | null;
  readonly minMs: number | null;
  readonly rooflineMs: number;
  readonly bound: 'compute' | 'memory';
  readonly efficiency: number | null;
  readonly achievedFlopsPerSecond: number | null;
  readonly achievedBytesPerSecond: number | null;
  /** Why a phase was not measured (bidirectional models have no decode step). */
  readonly unavailable?: string;
}

export function probeRows(r: ProbeResult): ProbeRow[] {
  const row = (phase: 'prefill' | 'decode', m: Measurement): ProbeRow => ({
    phase,
    measuredMs: m.medianMs,
    minMs: m.minMs,
    rooflineMs: m.roofline.seconds * 1000,
    bound: m.roofline.bound,
    efficiency: m.efficiency,
    achievedFlopsPerSecond: m.achievedFlopsPerSecond,
    achievedBytesPerSecond: m.achievedBytesPerSecond,
  });
  const rows = [row('prefill', r.prefill)];
  if ('unavailable' in r.decode) {
    rows.push({ phase: 'decode', measuredMs: null, minMs: null, rooflineMs: r.decode.roofline.seconds * 1000, bound: r.decode.roofline.bound, efficiency: null, achievedFlopsPerSecond: null, achievedBytesPerSecond: null, unavailable: r.decode.unavailable });
  } else rows.push(row('decode', r.decode));
  return rows;
}

export function probeMarkdown(r: ProbeResult, source: string, providerNote: string | undefined): string {
  const device = r.prefill.roofline.device;
  const lines = [`# Probe of ${r.model} on ${r.provider === 'cuda' ? 'CUDA' : 'CPU'}`, ''];
  if (r.fallback) lines.push(`> **!!! ${r.fallback} !!!**`, '');
  if (providerNote) lines.push(`> ${providerNote}`, '');
  lines.push(
    `From ${source}: ONNX Runtime ${r.ortVersion}, ${r.dtype}, batch ${r.batch}, sequence ${r.seq}. Measured in a probe host child process; the roofline is the engine's prediction for the same work on the ${device} profile. The dashboard's Probe pane draws the same result.`,
    '',
    '| phase | measured (median) | min | roofline | bound | roofline / measured | achieved |',
    '|---|--:|--:|--:|---|--:|---|',
  );
  for (const row of probeRows(r)) {
    if (row.measuredMs === null) lines.push(`| ${row.phase} | not measured: ${row.unavailable ?? ''} | | ${msUnit(row.rooflineMs)} | ${row.bound} | | |`);
    else
      lines.push(
        `| ${row.phase === 'decode' ? `decode step (KV context ${r.seq})` : `prefill (${r.batch}×${r.seq} tokens)`} | ${msUnit(row.measuredMs)} | ${msUnit(row.minMs!)} | ${msUnit(row.rooflineMs)} | ${row.bound} | ${(row.efficiency! * 100).toFixed(1)}% | ${formatRate(row.achievedFlopsPerSecond!, 'FLOP/s')}, ${formatRate(row.achievedBytesPerSecond!, 'B/s')} |`,
      );
  }
  const placement = Object.entries(r.placement.nodesByProvider)
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  lines.push(
    '',
    '| | |',
    '|---|---|',
    `| export | ${msUnit(r.export.ms)}, ${mib(r.export.bytes)}, ${group(r.export.nodes)} nodes, ${group(r.export.initializers)} initializers${r.export.externalData ? ', external data' : ''} |`,
    `| initializer elements | ${group(r.initializerElements)} ${r.initializerElements === r.storedParams ? '= params.stored' : `≠ params.stored ${group(r.storedParams)}`} |`,
    `| session creation | ${msUnit(r.sessionCreateMs)} |`,
    `| memory | ${r.memory.kind === 'unavailable' ? `not measured: ${r.memory.reason}` : `${mib(r.memory.bytes)} (${r.memory.kind === 'gpu' ? 'GPU memory of the probe process' : 'growth of host RSS'})`} |`,
    `| placement | ${placement || '—'} (${r.placement.source}): ${r.placement.note} |`,
  );
  if (r.notes.length > 0) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

/** The same, as plain lines for the output channel. */
export function probeLogLines(r: ProbeResult): string[] {
  const lines = [`probe: ${r.model} on ${r.provider}${r.fallback ? ` (!!! ${r.fallback})` : ''}, ${r.dtype}, batch ${r.batch}, seq ${r.seq}, session ${msUnit(r.sessionCreateMs)}`];
  for (const row of probeRows(r)) {
    lines.push(
      row.measuredMs === null
        ? `probe:   ${row.phase}: not measured (${row.unavailable ?? ''}); roofline ${msUnit(row.rooflineMs)}`
        : `probe:   ${row.phase}: measured ${msUnit(row.measuredMs)} (min ${msUnit(row.minMs!)}), roofline ${msUnit(row.rooflineMs)} ${row.bound}-bound, ${(row.efficiency! * 100).toFixed(1)}% of roofline`,
    );
  }
  return lines;
}

/** The result as the dashboard's Probe pane takes it: one phase per row, provider and fallback stated. */
export function probeDashboardData(r: ProbeResult, source: string, providerNote: string | undefined): ProbeData {
  const phase = (p: 'prefill' | 'decode', label: string, m: Measurement): ProbePhaseData => ({
    phase: p,
    label,
    measuredMs: m.medianMs,
    minMs: m.minMs,
    runs: m.runs,
    rooflineMs: m.roofline.seconds * 1000,
    bound: m.roofline.bound,
    flops: m.flops,
    bytes: m.bytes,
    achievedFlopsPerSecond: m.achievedFlopsPerSecond,
    achievedBytesPerSecond: m.achievedBytesPerSecond,
    unavailable: null,
  });
  const phases: ProbePhaseData[] = [phase('prefill', `prefill (${r.batch}×${r.seq} tokens)`, r.prefill)];
  if ('unavailable' in r.decode) {
    const d = r.decode;
    phases.push({
      phase: 'decode',
      label: 'decode step',
      measuredMs: null,
      minMs: null,
      runs: 0,
      rooflineMs: d.roofline.seconds * 1000,
      bound: d.roofline.bound,
      flops: d.roofline.flops,
      bytes: d.roofline.bytes,
      achievedFlopsPerSecond: null,
      achievedBytesPerSecond: null,
      unavailable: d.unavailable,
    });
  } else phases.push({ ...phase('decode', `decode step (KV context ${r.seq})`, r.decode), stepState: { kvCacheElements: r.decode.kvCacheElements, recurrentStateElements: r.decode.recurrentStateElements ?? '0' } });
  const placement = Object.entries(r.placement.nodesByProvider)
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  return {
    model: r.model,
    source,
    ortVersion: r.ortVersion,
    requestedProvider: r.requestedProvider,
    provider: r.provider,
    fallback: fallbackText(r),
    providerNote: providerNote ?? null,
    device: r.prefill.roofline.device,
    dtype: r.dtype,
    batch: r.batch,
    seq: r.seq,
    sessionCreateMs: r.sessionCreateMs,
    storedParams: r.storedParams,
    initializerElements: r.initializerElements,
    memory: r.memory.kind === 'unavailable' ? `not measured: ${r.memory.reason}` : `${mib(r.memory.bytes)} (${r.memory.kind === 'gpu' ? 'GPU memory of the probe process' : 'growth of host RSS'})`,
    placement: `${placement || '—'} (${r.placement.source}): ${r.placement.note}`,
    phases,
    notes: [...r.notes],
  };
}

/** What a provider mismatch is called when the probe did not say it in words (it always does). */
const fallbackText = (r: ProbeResult): string | null => r.fallback ?? (r.provider !== r.requestedProvider ? `ran on ${r.provider}, not the requested ${r.requestedProvider}` : null);

/**
 * The `npas/probeMeasured` notification for a measured result: the numbers the hover and the
 * code lens show, for the document version whose text was probed.
 */
export function probeMeasuredParams(uri: string, version: number | undefined, r: ProbeResult, measuredAt: Date, modelFingerprint?: string): ProbeMeasuredParams {
  const phase = (m: Measurement): ProbePhaseJson => ({
    medianMs: m.medianMs,
    minMs: m.minMs,
    rooflineMs: m.roofline.seconds * 1000,
    bound: m.roofline.bound,
    achievedFlopsPerSecond: m.achievedFlopsPerSecond,
    achievedBytesPerSecond: m.achievedBytesPerSecond,
    unavailable: null,
  });
  const decode: ProbePhaseJson =
    'unavailable' in r.decode
      ? { medianMs: null, minMs: null, rooflineMs: r.decode.roofline.seconds * 1000, bound: r.decode.roofline.bound, achievedFlopsPerSecond: null, achievedBytesPerSecond: null, unavailable: r.decode.unavailable }
      : phase(r.decode);
  return {
    uri,
    ...(version === undefined ? {} : { version }),
    ...(modelFingerprint === undefined ? {} : { modelFingerprint }),
    measurement: {
      model: r.model,
      requestedProvider: r.requestedProvider,
      provider: r.provider,
      fallback: fallbackText(r),
      device: r.prefill.roofline.device,
      dtype: r.dtype,
      batch: r.batch,
      seq: r.seq,
      ortVersion: r.ortVersion,
      prefill: phase(r.prefill),
      decode,
      memory: r.memory,
      sessionCreateMs: r.sessionCreateMs,
      measuredAt: measuredAt.toISOString(),
    },
  };
}
