// Probe pane: the last probe result the host sent (`npas.runProbe`): for prefill and one decode
// step, the measured latency (median, with the fastest run) against the engine's roofline for
// the same work, on a log scale, with the achieved FLOP/s and bytes/s; which provider ran it,
// and a CPU fallback (or a CPU run asked for) stated loudly above everything; a table of the
// same numbers as the text alternative. Without a result it says how to get one.

import { formatRate } from '../../src/core/text/number-format.js';
import * as d3 from 'd3';
import type { ProbeData, ProbePhaseData } from '../../src/protocol/webview-messages.js';
import { formatFlops, groupDigits } from '../format.js';
import { SVG_NS, type RenderedView, type ViewContext } from './context.js';

/** Milliseconds as the CLI prints them (2 decimals below 10 ms); below 0.1 ms in µs. */
export function formatMs(x: number): string {
  if (x < 0.1) {
    const us = x * 1000;
    return `${us >= 10 ? us.toFixed(1) : us >= 0.01 ? us.toFixed(2) : us.toPrecision(2)} µs`;
  }
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)} ms`;
}

export { formatRate };

const providerName = (p: 'cuda' | 'cpu'): string => (p === 'cuda' ? 'CUDA' : 'CPU');

function phaseWords(p: ProbePhaseData): string {
  if (p.measuredMs === null) return `${p.label}: not measured (${p.unavailable ?? ''}); roofline ${formatMs(p.rooflineMs)}, ${p.bound}-bound`;
  return `${p.label}: measured ${formatMs(p.measuredMs)} (median of ${p.runs}, fastest ${formatMs(p.minMs ?? p.measuredMs)}), roofline ${formatMs(p.rooflineMs)} ${p.bound}-bound, roofline / measured ${efficiency(p)}; achieved ${formatRate(p.achievedFlopsPerSecond ?? 0, 'FLOP/s')}, ${formatRate(p.achievedBytesPerSecond ?? 0, 'B/s')}`;
}

const efficiency = (p: ProbePhaseData): string => (p.measuredMs === null || p.measuredMs <= 0 ? '—' : `${((100 * p.rooflineMs) / p.measuredMs).toFixed(1)}%`);

/** What the measured decode step reads besides the weights: its KV cache and the recurrent layers' states. */
function stepStateFact(r: ProbeData): [string, string][] {
  const st = r.phases.find((p) => p.phase === 'decode')?.stepState;
  if (!st) return [];
  const state = st.recurrentStateElements === '0' ? 'no recurrent state' : `recurrent state ${groupDigits(st.recurrentStateElements)} elements (Mamba, Mamba-2, Gated DeltaNet states, read and written each step)`;
  return [['decode', `the step reads a KV cache of ${groupDigits(st.kvCacheElements)} elements; ${state}`]];
}

export function renderProbe(root: HTMLElement, ctx: ViewContext): RenderedView {
  root.replaceChildren();
  const r: ProbeData | null = ctx.state.probe;
  if (!r) {
    const p = ctx.document.createElement('p');
    p.className = 'npas-empty';
    p.setAttribute('role', 'status');
    p.textContent = `No probe results yet: run "NPAS: Run GPU Probe" (npas.runProbe) to measure a model of this spec with ONNX Runtime and draw it here against the roofline. Until then, prefill and decode in the summary above are roofline bounds on ${ctx.model.latency.device}, not measurements.`;
    root.append(p);
    return { exportable: null };
  }
  const container = d3.select(root);
  // Loud first: a fallback, or CPU numbers asked for.
  if (r.fallback) {
    container
      .append('p')
      .attr('class', 'npas-fallback')
      .attr('role', 'alert')
      .attr('data-field', 'probe-fallback')
      .text(`!!! ${r.provider === 'cpu' ? 'CPU FALLBACK' : 'PROVIDER FALLBACK'}: ${r.fallback.replace(/^\s*(CPU|PROVIDER) FALLBACK:\s*/i, '')} — requested ${providerName(r.requestedProvider)}, ran on ${providerName(r.provider)}; these are ${providerName(r.provider)} numbers, not ${providerName(r.requestedProvider)} numbers.`);
  } else if (r.provider === 'cpu') {
    container
      .append('p')
      .attr('class', 'npas-cpu-note')
      .attr('role', 'note')
      .attr('data-field', 'probe-cpu')
      .text(r.providerNote ?? 'CPU provider, as requested: these are CPU numbers, not GPU numbers; the roofline is the engine\'s generic CPU profile.');
  }
  const head = container.append('section').attr('class', 'npas-probe-head');
  head.append('h3').text(`Probe of ${r.model} on ${providerName(r.provider)}${r.fallback ? ' (FALLBACK)' : ''}`);
  // Bars: measured and roofline per phase, log scale (a CPU run can be 100× the roofline).
  const values = r.phases.flatMap((p) => [p.rooflineMs, ...(p.measuredMs !== null && p.measuredMs > 0 ? [p.measuredMs] : [])]);
  const lo = Math.min(...values) / 2;
  const hi = Math.max(...values) * 2;
  const W = 520;
  const labelW = 110;
  const rightW = 130;
  const barH = 18;
  const rowH = 2 * barH + 22;
  const H = 24 + r.phases.length * rowH + 28;
  const x = d3.scaleLog().domain([lo, hi]).range([labelW, W - rightW]);
  const svg = container
    .append('svg')
    .attr('xmlns', SVG_NS)
    .attr('class', 'npas-svg npas-probe')
    .attr('width', W)
    .attr('height', H)
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('role', 'group')
    .attr('aria-label', `Measured latency against the roofline for ${r.model} on ${providerName(r.provider)}${r.fallback ? ' (fallback)' : ''}, log scale; the table below lists the same numbers`);
  svg.append('text').attr('class', 'npas-muted').attr('x', labelW).attr('y', 14).text('latency (ms, log scale)');
  const rows = svg
    .selectAll<SVGGElement, ProbePhaseData>('g.npas-probe-phase')
    .data(r.phases)
    .join('g')
    .attr('class', 'npas-probe-phase npas-focusable')
    .attr('data-phase', (p) => p.phase)
    .attr('tabindex', 0)
    .attr('aria-label', phaseWords)
    .attr('transform', (_p, i) => `translate(0,${24 + i * rowH})`);
  rows.append('text').attr('x', 0).attr('y', barH - 4).attr('class', 'npas-probe-label').text((p) => p.phase);
  rows.append('text').attr('class', 'npas-muted').attr('x', 0).attr('y', 2 * barH - 2).text((p) => (p.bound === 'compute' ? 'compute-bound' : 'memory-bound'));
  const measured = rows.filter((p) => p.measuredMs !== null);
  measured
    .append('rect')
    .attr('class', 'npas-measured')
    .attr('x', labelW)
    .attr('y', 0)
    .attr('height', barH)
    .attr('width', (p) => Math.max(1, x(Math.max(lo, p.measuredMs!)) - labelW));
  measured
    .append('text')
    .attr('x', (p) => x(Math.max(lo, p.measuredMs!)) + 4)
    .attr('y', barH - 4)
    .text((p) => `measured ${formatMs(p.measuredMs!)}`);
  rows
    .filter((p) => p.measuredMs === null)
    .append('text')
    .attr('class', 'npas-muted')
    .attr('x', labelW)
    .attr('y', barH - 4)
    .text((p) => `not measured: ${p.unavailable ?? ''}`.slice(0, 80));
  rows
    .append('rect')
    .attr('class', 'npas-roofline')
    .attr('x', labelW)
    .attr('y', barH + 2)
    .attr('height', barH)
    .attr('width', (p) => Math.max(1, x(p.rooflineMs) - labelW));
  rows
    .append('text')
    .attr('x', (p) => x(p.rooflineMs) + 4)
    .attr('y', 2 * barH - 2)
    .text((p) => `roofline ${formatMs(p.rooflineMs)}`);
  rows
    .append('text')
    .attr('class', 'npas-muted')
    .attr('x', labelW)
    .attr('y', 2 * barH + 15)
    .text((p) => (p.measuredMs === null ? '' : `${efficiency(p)} of roofline · ${formatRate(p.achievedFlopsPerSecond ?? 0, 'FLOP/s')} · ${formatRate(p.achievedBytesPerSecond ?? 0, 'B/s')}`));
  rows.on('mouseover', (e: MouseEvent, p) => ctx.hover(phaseWords(p), e.clientX, e.clientY)).on('mouseleave', () => ctx.hover(null));
  svg
    .append('g')
    .attr('class', 'npas-axis')
    .attr('transform', `translate(0,${H - 24})`)
    .call(d3.axisBottom(x).ticks(5, '~g'));

  const legend = container.append('div').attr('class', 'npas-legend').attr('aria-hidden', 'true');
  for (const [cls, text] of [
    ['npas-measured', `measured on ${providerName(r.provider)} (median)`],
    ['npas-roofline', `roofline (${r.device} profile)`],
  ] as const) {
    const item = legend.append('span');
    item.append('svg').attr('xmlns', SVG_NS).attr('class', 'npas-svg').attr('width', 12).attr('height', 12).append('rect').attr('class', cls).attr('width', 12).attr('height', 12);
    item.append('span').text(` ${text}`);
  }

  const facts: [string, string][] = [
    ['provider', `${providerName(r.provider)} (requested ${providerName(r.requestedProvider)}), ONNX Runtime ${r.ortVersion}`],
    ['work', `${r.dtype}, batch ${r.batch}, sequence ${r.seq}; roofline on the ${r.device} profile`],
    ['session', `${formatMs(r.sessionCreateMs)} to create`],
    ['weights', `${groupDigits(r.initializerElements)} initializer elements ${r.initializerElements === r.storedParams ? '= params.stored' : `≠ params.stored ${groupDigits(r.storedParams)}`}`],
    ...stepStateFact(r),
    ['memory', r.memory],
    ['placement', r.placement],
  ];
  const dl = container.append('dl').attr('class', 'npas-facts');
  for (const [k, v] of facts) {
    dl.append('dt').text(k);
    dl.append('dd').attr('data-field', `probe-${k}`).text(v);
  }
  if (r.model !== ctx.model.name) container.append('p').attr('class', 'npas-caption').text(`This result is for ${r.model}; the model picker shows ${ctx.model.name}.`);

  const t = container.append('table').attr('class', 'npas-table npas-probe-table');
  t.append('caption').attr('class', 'npas-caption').text(`${r.model} on ${providerName(r.provider)}${r.fallback ? ' (FALLBACK)' : ''}: measured against the roofline`);
  const th = t.append('thead').append('tr');
  for (const h of ['phase', 'measured (median)', 'fastest', 'roofline', 'bound', 'roofline / measured', 'achieved FLOP/s', 'achieved bytes/s', 'FLOPs', 'bytes']) th.append('th').attr('scope', 'col').text(h);
  const tb = t.append('tbody');
  for (const p of r.phases) {
    const tr = tb.append('tr').attr('data-phase', p.phase);
    tr.append('td').text(p.label);
    tr.append('td').attr('data-field', 'measured').text(p.measuredMs === null ? `not measured: ${p.unavailable ?? ''}` : formatMs(p.measuredMs));
    tr.append('td').text(p.minMs === null ? '—' : formatMs(p.minMs));
    tr.append('td').attr('data-field', 'roofline').text(formatMs(p.rooflineMs));
    tr.append('td').text(p.bound);
    tr.append('td').attr('data-field', 'efficiency').text(efficiency(p));
    tr.append('td').attr('data-field', 'flops-rate').text(p.achievedFlopsPerSecond === null ? '—' : formatRate(p.achievedFlopsPerSecond, 'FLOP/s'));
    tr.append('td').attr('data-field', 'bytes-rate').text(p.achievedBytesPerSecond === null ? '—' : formatRate(p.achievedBytesPerSecond, 'B/s'));
    tr.append('td').text(formatFlops(p.flops));
    tr.append('td').text(groupDigits(p.bytes));
  }
  if (r.notes.length) {
    const ul = container.append('ul').attr('class', 'npas-notes');
    for (const n of r.notes) ul.append('li').text(n);
  }
  return { exportable: svg.node() };
}
