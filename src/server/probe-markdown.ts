// A probe measurement as the editor shows it: a Markdown section appended to the hover on the
// model's name, and a one-line code lens title. Numbers go through the core's formatters (the
// probe tables, the dashboard and the CLI print the same). A CPU fallback is said loudly in
// both; a CPU probe asked for as such is stated as CPU numbers; a stale measurement is labelled.

import { formatBytes, formatMilliseconds, formatRate } from '../core/text/number-format.js';
import type { ProbeMeasurementJson, ProbePhaseJson } from '../protocol/lsp-extensions.js';

/** `CUDA`, `CPU`, or `CPU fallback!` when the requested provider was not used. */
export function providerLabel(m: ProbeMeasurementJson): string {
  if (m.fallback !== null) return `${m.provider.toUpperCase()} fallback!`;
  return m.provider === 'cuda' ? 'CUDA' : 'CPU';
}

/** The hover section: what was measured, at which settings, beside the roofline. */
export function measurementMarkdown(m: ProbeMeasurementJson, stale: boolean): string {
  const paragraphs: string[] = [];
  // The probe's own wording starts with "CPU FALLBACK:" already; said once (as the Probe pane does).
  const why = m.fallback?.replace(/^\s*(CPU|PROVIDER) FALLBACK:\s*/i, '');
  if (why !== undefined) paragraphs.push(`**!!! ${m.provider.toUpperCase()} FALLBACK: ${escape(why)} — these are ${m.provider.toUpperCase()} numbers, not ${m.requestedProvider.toUpperCase()} numbers !!!**`);
  else if (m.provider === 'cpu') paragraphs.push(`_CPU provider: CPU numbers, not GPU numbers; the roofline is the engine's ${escape(m.device)} profile._`);
  if (stale) paragraphs.push(`_Measured on an earlier version of this model's text: the numbers may no longer hold. Run **NPAS: Run GPU Probe** again._`);
  const head = `**Measured** (${providerLabel(m)}, ${m.dtype}, batch ${m.batch}, seq ${m.seq}${stale ? ', earlier version' : ''})`;
  paragraphs.push(`${head}: ${phaseText('prefill', m.prefill)}, ${phaseText('decode', m.decode)}`);
  const achieved = [rates('prefill', m.prefill), rates('decode', m.decode)].filter((x) => x !== undefined);
  if (achieved.length > 0) paragraphs.push(`Achieved: ${achieved.join('; ')} · roofline on the ${escape(m.device)} profile`);
  paragraphs.push(`Memory ${memoryText(m)} · session ${formatMilliseconds(m.sessionCreateMs)} · ONNX Runtime ${escape(m.ortVersion)} · ${when(m.measuredAt)}`);
  return paragraphs.join('\n\n');
}

/** The code lens: `measured (CUDA, fp16, seq 128): prefill 12.3 ms · decode 3.40 ms`. */
export function measurementLensTitle(m: ProbeMeasurementJson, stale: boolean): string {
  const where = m.fallback !== null ? `${m.provider.toUpperCase()} FALLBACK` : m.provider === 'cuda' ? 'CUDA' : 'CPU';
  const decode = m.decode.medianMs === null ? '' : ` · decode ${formatMilliseconds(m.decode.medianMs)}`;
  return `measured${stale ? ' on an earlier version' : ''} (${where}, ${m.dtype}, seq ${m.seq}): prefill ${formatMilliseconds(m.prefill.medianMs ?? 0)}${decode}`;
}

function phaseText(name: string, p: ProbePhaseJson): string {
  const roofline = `roofline ${formatMilliseconds(p.rooflineMs)}`;
  if (p.medianMs === null) return `${name} not measured: ${escape(p.unavailable ?? '')} (${roofline})`;
  // roofline / measured: 1× is at the roofline, below 1 slower than it; a tiny model on a CPU
  // is thousands of times off, which two decimals would print as 0.00×.
  const ratio = p.rooflineMs / p.medianMs;
  return `${name} **${formatMilliseconds(p.medianMs)}** (${roofline}, ${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}×)`;
}

function rates(name: string, p: ProbePhaseJson): string | undefined {
  if (p.achievedFlopsPerSecond === null || p.achievedBytesPerSecond === null) return undefined;
  return `${name} ${formatRate(p.achievedFlopsPerSecond, 'FLOP/s')}, ${formatRate(p.achievedBytesPerSecond, 'B/s')}`;
}

function memoryText(m: ProbeMeasurementJson): string {
  if (m.memory.kind === 'unavailable') return `not measured (${escape(m.memory.reason)})`;
  return `${formatBytes(Math.round(m.memory.bytes))} (${m.memory.kind === 'gpu' ? 'GPU memory of the probe process' : 'growth of host RSS'})`;
}

/** `2026-11-27 09:40 UTC`. */
function when(iso: string): string {
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Text from the probe, written into Markdown as text (no emphasis, links or HTML from it). */
function escape(s: string): string {
  return s.replace(/\s+/g, ' ').replace(/[\\`*_[\]<>#|]/g, (c) => `\\${c}`);
}
