// A probe result as Markdown and as output-channel lines: measured latency beside the engine's
// roofline for the same work. The dashboard's Probe pane accepts only `result: null` in this
// protocol version (docs/dashboard.md), so the editor shows results in the NPAS Studio output
// channel and a Markdown preview. Free of `vscode`, so Node tests can check it.

import type { Measurement, ProbeResult } from '../protocol/kernel-rpc.js';

const group = (n: number | bigint | string): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rate = (x: number, unit: string): string => {
  const units = ['', 'K', 'M', 'G', 'T', 'P'];
  let v = x;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}${unit}`;
};
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
    `From ${source}: ONNX Runtime ${r.ortVersion}, ${r.dtype}, batch ${r.batch}, sequence ${r.seq}. Measured in a probe host child process; the roofline is the engine's prediction for the same work on the ${device} profile. The dashboard's Probe pane does not take results in this version, so they are shown here and in the NPAS Studio output.`,
    '',
    '| phase | measured (median) | min | roofline | bound | roofline / measured | achieved |',
    '|---|--:|--:|--:|---|--:|---|',
  );
  for (const row of probeRows(r)) {
    if (row.measuredMs === null) lines.push(`| ${row.phase} | not measured: ${row.unavailable ?? ''} | | ${ms(row.rooflineMs)} ms | ${row.bound} | | |`);
    else
      lines.push(
        `| ${row.phase === 'decode' ? `decode step (KV context ${r.seq})` : `prefill (${r.batch}×${r.seq} tokens)`} | ${ms(row.measuredMs)} ms | ${ms(row.minMs!)} ms | ${ms(row.rooflineMs)} ms | ${row.bound} | ${(row.efficiency! * 100).toFixed(1)}% | ${rate(row.achievedFlopsPerSecond!, 'FLOP/s')}, ${rate(row.achievedBytesPerSecond!, 'B/s')} |`,
      );
  }
  const placement = Object.entries(r.placement.nodesByProvider)
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  lines.push(
    '',
    '| | |',
    '|---|---|',
    `| export | ${ms(r.export.ms)} ms, ${mib(r.export.bytes)}, ${group(r.export.nodes)} nodes, ${group(r.export.initializers)} initializers${r.export.externalData ? ', external data' : ''} |`,
    `| initializer elements | ${group(r.initializerElements)} ${r.initializerElements === r.storedParams ? '= params.stored' : `≠ params.stored ${group(r.storedParams)}`} |`,
    `| session creation | ${ms(r.sessionCreateMs)} ms |`,
    `| memory | ${r.memory.kind === 'unavailable' ? `not measured: ${r.memory.reason}` : `${mib(r.memory.bytes)} (${r.memory.kind === 'gpu' ? 'GPU memory of the probe process' : 'growth of host RSS'})`} |`,
    `| placement | ${placement || '—'} (${r.placement.source}): ${r.placement.note} |`,
  );
  if (r.notes.length > 0) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

/** The same, as plain lines for the output channel. */
export function probeLogLines(r: ProbeResult): string[] {
  const lines = [`probe: ${r.model} on ${r.provider}${r.fallback ? ` (!!! ${r.fallback})` : ''}, ${r.dtype}, batch ${r.batch}, seq ${r.seq}, session ${ms(r.sessionCreateMs)} ms`];
  for (const row of probeRows(r)) {
    lines.push(
      row.measuredMs === null
        ? `probe:   ${row.phase}: not measured (${row.unavailable ?? ''}); roofline ${ms(row.rooflineMs)} ms`
        : `probe:   ${row.phase}: measured ${ms(row.measuredMs)} ms (min ${ms(row.minMs!)}), roofline ${ms(row.rooflineMs)} ms ${row.bound}-bound, ${(row.efficiency! * 100).toFixed(1)}% of roofline`,
    );
  }
  return lines;
}
