// Variants view: every model and variant of the spec side by side — a scatter of stored
// parameters against KV cache bytes or decode FLOPs with the Pareto front (lower is better on
// both) marked, and a sortable table of the same numbers; below, the selected model's supernet
// (`elastic …`) and its Pareto front when it has one (supernet.ts).

import * as d3 from 'd3';
import type { ModelData } from '../../src/core/layout/types.js';
import { formatBytes, formatFlops, groupDigits, shortCount } from '../format.js';
import type { RenderedView, ViewContext } from './context.js';
import { renderSupernet } from './supernet.js';

type Axis = 'kv' | 'flops';

const yOf = (m: ModelData, axis: Axis): number => Number(axis === 'kv' ? m.kvCacheBytes : m.flops.decode);

/** Names of the models on the Pareto front of (stored, y): no other model is ≤ on both and < on one. */
export function paretoFront(models: readonly ModelData[], axis: Axis): string[] {
  return models
    .filter((a) => !models.some((b) => b !== a && Number(b.params.stored) <= Number(a.params.stored) && yOf(b, axis) <= yOf(a, axis) && (Number(b.params.stored) < Number(a.params.stored) || yOf(b, axis) < yOf(a, axis))))
    .map((m) => m.name);
}

/** Labels beside their points, moved down a line at a time until they overlap no earlier label. */
export function placeLabels(points: readonly { name: string; x: number; y: number }[]): { name: string; x: number; y: number }[] {
  const placed: { name: string; x: number; y: number; w: number }[] = [];
  for (const p of points) {
    const w = p.name.length * 6.2;
    const x = p.x + 8;
    let y = p.y - 6;
    for (let k = 0; k < 12 && placed.some((q) => x < q.x + q.w && q.x < x + w && Math.abs(q.y - y) < 12); k++) y += 13;
    placed.push({ name: p.name, x, y, w });
  }
  return placed.map(({ name, x, y }) => ({ name, x, y }));
}

const COLUMNS: { key: string; label: string; value: (m: ModelData) => string | number | bigint; show: (m: ModelData) => string }[] = [
  { key: 'name', label: 'model', value: (m) => m.name, show: (m) => m.name },
  { key: 'base', label: 'of', value: (m) => m.base ?? '', show: (m) => m.base ?? '' },
  { key: 'stored', label: 'stored', value: (m) => BigInt(m.params.stored), show: (m) => groupDigits(m.params.stored) },
  { key: 'effective', label: 'effective', value: (m) => BigInt(m.params.effective), show: (m) => groupDigits(m.params.effective) },
  { key: 'active', label: 'active', value: (m) => BigInt(m.params.active), show: (m) => groupDigits(m.params.active) },
  { key: 'kv', label: 'KV cache', value: (m) => BigInt(m.kvCacheBytes), show: (m) => formatBytes(m.kvCacheBytes) },
  { key: 'decode', label: 'decode FLOPs', value: (m) => BigInt(m.flops.decode), show: (m) => formatFlops(m.flops.decode) },
  { key: 'budgets', label: 'budgets', value: (m) => m.budgets.filter((b) => !b.ok).length, show: (m) => (m.budgets.length === 0 ? '—' : m.budgets.every((b) => b.ok) ? `${m.budgets.length} ok` : `${m.budgets.filter((b) => !b.ok).length} failed`) },
];

export function renderVariants(root: HTMLElement, ctx: ViewContext): RenderedView {
  const models = ctx.data.models;
  const axis: Axis = ctx.state.variantsAxis;
  const container = d3.select(root);
  container.selectAll('*').remove();
  const bar = container.append('div').attr('class', 'npas-toolbar');
  bar.append('label').attr('for', 'npas-variants-axis').text('vertical axis');
  const select = bar.append('select').attr('id', 'npas-variants-axis').attr('class', 'npas-select');
  select.append('option').attr('value', 'kv').property('selected', axis === 'kv').text(`KV cache at ${ctx.data.options.seq} tokens`);
  select.append('option').attr('value', 'flops').property('selected', axis === 'flops').text('decode FLOPs per token');
  select.on('change', (e: Event) => ctx.update({ variantsAxis: (e.target as HTMLSelectElement).value === 'flops' ? 'flops' : 'kv' }));

  const front = new Set(paretoFront(models, axis));
  const W = 640;
  const H = 360;
  const m = { top: 16, right: 24, bottom: 44, left: 84 };
  const xs = models.map((d) => Number(d.params.stored));
  const ys = models.map((d) => yOf(d, axis));
  // From zero: the distance to the origin is what a budget is about.
  const x = d3.scaleLinear().domain([0, Math.max(...xs, 1) * 1.1]).range([m.left, W - m.right]).nice();
  const y = d3.scaleLinear().domain([0, Math.max(...ys, 1) * 1.1]).range([H - m.bottom, m.top]).nice();
  const svg = container
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'npas-svg npas-scatter')
    .attr('width', W)
    .attr('height', H)
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('role', 'group')
    .attr('aria-label', `Stored parameters against ${axis === 'kv' ? 'KV cache bytes' : 'decode FLOPs'} for ${models.length} models; Pareto front: ${[...front].join(', ') || 'none'}; the table below lists the same numbers`);
  svg.append('g').attr('class', 'npas-axis').attr('transform', `translate(0,${H - m.bottom})`).call(d3.axisBottom(x).ticks(6).tickFormat((v) => shortCount(Number(v))));
  svg
    .append('g')
    .attr('class', 'npas-axis')
    .attr('transform', `translate(${m.left},0)`)
    .call(d3.axisLeft(y).ticks(6).tickFormat((v) => (axis === 'kv' ? formatBytes(Math.round(Number(v))) : formatFlops(Number(v)))));
  svg.append('text').attr('class', 'npas-muted').attr('x', (m.left + W - m.right) / 2).attr('y', H - 6).attr('text-anchor', 'middle').text('stored parameters');
  const frontModels = models.filter((d) => front.has(d.name)).sort((a, b) => Number(a.params.stored) - Number(b.params.stored));
  if (frontModels.length > 1) {
    svg
      .append('path')
      .attr('class', 'npas-front')
      .attr('d', d3.line<ModelData>().x((d) => x(Number(d.params.stored))).y((d) => y(yOf(d, axis))).curve(d3.curveStepAfter)(frontModels) ?? '');
  }
  const pts = svg
    .selectAll<SVGCircleElement, ModelData>('circle')
    .data(models)
    .join('circle')
    .attr('class', (d) => `npas-point${front.has(d.name) ? ' npas-pareto' : ''}${d.name === ctx.model.name ? ' npas-selected' : ''}`)
    .attr('cx', (d) => x(Number(d.params.stored)))
    .attr('cy', (d) => y(yOf(d, axis)))
    .attr('r', 6)
    .attr('tabindex', 0)
    .attr('role', 'button')
    .attr('aria-label', (d) => `${d.name}: stored ${groupDigits(d.params.stored)}, ${axis === 'kv' ? `KV ${formatBytes(d.kvCacheBytes)}` : `decode ${formatFlops(d.flops.decode)}`}${front.has(d.name) ? ', on the Pareto front' : ''}`);
  const labels = placeLabels(models.map((d) => ({ name: d.name, x: x(Number(d.params.stored)), y: y(yOf(d, axis)) })));
  svg
    .selectAll<SVGTextElement, { name: string; x: number; y: number }>('text.npas-point-label')
    .data(labels)
    .join('text')
    .attr('class', 'npas-point-label npas-muted')
    .attr('x', (d) => d.x)
    .attr('y', (d) => d.y)
    .text((d) => d.name);
  pts
    .on('mouseover', (e: MouseEvent, d) => ctx.hover(`${d.name}\nstored ${groupDigits(d.params.stored)}\nKV ${formatBytes(d.kvCacheBytes)}\ndecode ${formatFlops(d.flops.decode)}/token`, e.clientX, e.clientY))
    .on('mouseleave', () => ctx.hover(null))
    .on('click', (_e, d) => ctx.update({ model: d.name }))
    .on('keydown', (e: KeyboardEvent, d) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        ctx.update({ model: d.name });
      }
    });

  // Sortable table.
  const { key, descending } = ctx.state.sort;
  const col = COLUMNS.find((c) => c.key === key) ?? COLUMNS[0]!;
  const rows = [...models].sort((a, b) => {
    const va = col.value(a);
    const vb = col.value(b);
    const c = va < vb ? -1 : va > vb ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    return descending ? -c : c;
  });
  const table = container.append('table').attr('class', 'npas-table npas-variants-table');
  table.append('caption').attr('class', 'npas-caption').text(`Every model and variant at seq ${ctx.data.options.seq}, batch ${ctx.data.options.batch}, ${ctx.data.options.dtype}`);
  const hr = table.append('thead').append('tr');
  for (const c of COLUMNS) {
    const th = hr.append('th').attr('scope', 'col').attr('aria-sort', c.key === col.key ? (descending ? 'descending' : 'ascending') : 'none');
    th.append('button')
      .attr('type', 'button')
      .attr('data-sort', c.key)
      .text(`${c.label}${c.key === col.key ? (descending ? ' ▼' : ' ▲') : ''}`)
      .on('click', () => ctx.update({ sort: { key: c.key, descending: c.key === col.key ? !descending : false } }));
  }
  const tb = table.append('tbody');
  for (const d of rows) {
    const tr = tb.append('tr').attr('data-name', d.name).attr('class', d.name === ctx.model.name ? 'npas-selected' : null);
    for (const c of COLUMNS) tr.append('td').attr('data-field', c.key).text(c.show(d));
  }
  if (ctx.model.supernet) renderSupernet(container.append('section').attr('class', 'npas-supernet-section').node()!, ctx.model.supernet, ctx.model.name, ctx.data.options.seq);
  return { exportable: svg.node() };
}
