// Budget view: a treemap of stored parameters by component with stored / effective / active /
// trainable beside it (and a table as the text alternative), and KV cache and memory against
// sequence length with the budget limits as lines and the device memory as a ceiling; between
// them, how the model is parameterised (factorised weights, `param` multipliers) when it is, and
// the attention mask and savings of a prompt shared by continuations when the setting is on.

import * as d3 from 'd3';
import type { BudgetData, ModelData, TreeData } from '../../src/core/layout/types.js';
import { formatBytes, formatSeq, groupDigits, shortCount } from '../format.js';
import type { RenderedView, ViewContext } from './context.js';
import { renderParameterisation } from './parameterisation.js';
import { renderSharedPrompt } from './shared-prompt.js';

interface Leaf {
  readonly name: string;
  readonly path: string;
  readonly stored: number;
  readonly storedExact: string;
  readonly member: number;
  readonly range: { start: number; end: number };
  readonly children?: Leaf[];
}

/**
 * Components with exact stored counts: a stack's runs, a block's layers, a layer itself. Below a
 * run the report gives one instance's numbers, which sharing makes unequal to the run's share,
 * so a run is not split further.
 */
export function components(model: ModelData): Leaf {
  const out: Leaf[] = [];
  let covered = 0n;
  model.tree.children.forEach((m, i) => {
    covered += BigInt(m.params.stored);
    if (BigInt(m.params.stored) === 0n) return;
    const parts = m.kind === 'stack' || m.kind === 'block' ? m.children.filter((c) => c.kind !== 'weight') : [];
    const sum = parts.reduce((s, c) => s + BigInt(c.params.stored), 0n);
    const leaves: Leaf[] =
      parts.length > 0 && sum === BigInt(m.params.stored)
        ? parts.filter((c) => BigInt(c.params.stored) > 0n).map((c) => leaf(`${m.name}.${c.name}`, c, i))
        : [leaf(m.name, m, i)];
    out.push({ name: m.name, path: m.name, stored: 0, storedExact: m.params.stored, member: i, range: m.range, children: leaves });
  });
  const global = BigInt(model.params.stored) - covered;
  if (global > 0n) out.push({ name: 'model-wide stores', path: 'model-wide stores', stored: Number(global), storedExact: global.toString(), member: model.tree.children.length, range: model.range });
  return { name: model.name, path: model.name, stored: 0, storedExact: model.params.stored, member: -1, range: model.range, children: out };
}

function leaf(name: string, n: TreeData, member: number): Leaf {
  return { name, path: name, stored: Number(n.params.stored), storedExact: n.params.stored, member, range: n.range };
}

export function renderBudget(root: HTMLElement, ctx: ViewContext): RenderedView {
  const model = ctx.model;
  const container = d3.select(root);
  container.selectAll('*').remove();
  const row = container.append('div').attr('class', 'npas-row');

  // Treemap of stored params.
  const W = 520;
  const H = 340;
  const tm = row.append('section').attr('class', 'npas-treemap-section');
  tm.append('h3').text('Stored parameters by component');
  const svg = tm
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'npas-svg npas-treemap')
    .attr('width', W)
    .attr('height', H)
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('role', 'group')
    .attr('aria-label', `Treemap of the ${groupDigits(model.params.stored)} stored parameters of ${model.name} by component; the table beside it lists the same numbers`);
  const rootNode = d3
    .hierarchy<Leaf>(components(model), (d) => d.children)
    .sum((d) => (d.children ? 0 : d.stored))
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || (a.data.path < b.data.path ? -1 : 1));
  d3.treemap<Leaf>().size([W, H]).paddingInner(1).round(true)(rootNode);
  const cells = svg
    .selectAll<SVGGElement, d3.HierarchyRectangularNode<Leaf>>('g')
    .data((rootNode as d3.HierarchyRectangularNode<Leaf>).leaves().filter((d) => d.value && d.value > 0))
    .join('g')
    .attr('class', 'npas-cell')
    .attr('tabindex', 0)
    .attr('role', 'button')
    .attr('aria-label', (d) => `${d.data.name}: ${groupDigits(d.data.storedExact)} stored`);
  cells
    .append('rect')
    .attr('class', (d) => `c${d.data.member % 6}`)
    .attr('x', (d) => d.x0)
    .attr('y', (d) => d.y0)
    .attr('width', (d) => Math.max(0, d.x1 - d.x0))
    .attr('height', (d) => Math.max(0, d.y1 - d.y0));
  cells
    .filter((d) => d.x1 - d.x0 > 50 && d.y1 - d.y0 > 16)
    .append('text')
    .attr('x', (d) => d.x0 + 4)
    .attr('y', (d) => d.y0 + 13)
    .text((d) => fit(`${d.data.name} ${shortCount(d.data.stored)}`, (d.x1 - d.x0 - 8) / 6));
  const total = Number(model.params.stored);
  const tip = (d: d3.HierarchyRectangularNode<Leaf>): string => `${d.data.name}\nstored ${groupDigits(d.data.storedExact)} (${((100 * (d.value ?? 0)) / Math.max(1, total)).toFixed(1)}%)`;
  cells
    .on('mouseover', (e: MouseEvent, d) => ctx.hover(tip(d), e.clientX, e.clientY))
    .on('mouseleave', () => ctx.hover(null))
    .on('click', (_e, d) => ctx.reveal(d.data.range))
    .on('keydown', (e: KeyboardEvent, d) => {
      if (e.key === 'Enter') ctx.reveal(d.data.range);
    });

  // Totals beside: stored / effective / active / trainable.
  const side = row.append('section').attr('class', 'npas-totals-section');
  side.append('h3').text('Parameters');
  const kinds = ['stored', 'effective', 'active', 'trainable'] as const;
  const max = Math.max(...kinds.map((k) => Number(model.params[k])), 1);
  const bw = 260;
  const bars = side
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'npas-svg npas-bars')
    .attr('width', bw + 120)
    .attr('height', kinds.length * 24 + 4)
    .attr('role', 'img')
    .attr('aria-label', kinds.map((k) => `${k} ${groupDigits(model.params[k])}`).join(', '));
  kinds.forEach((k, i) => {
    bars.append('text').attr('x', 0).attr('y', i * 24 + 15).text(k);
    bars
      .append('rect')
      .attr('class', `npas-bar npas-${k}`)
      .attr('x', 70)
      .attr('y', i * 24 + 4)
      .attr('height', 16)
      .attr('width', Math.max(1, (bw * Number(model.params[k])) / max));
    bars.append('text').attr('class', 'npas-muted').attr('x', 74 + (bw * Number(model.params[k])) / max).attr('y', i * 24 + 15).text(shortCount(model.params[k]));
  });
  const table = side.append('table').attr('class', 'npas-table npas-components');
  table.append('caption').attr('class', 'npas-caption').text(`${model.name}: parameters by top-level component (exact, as npas budget)`);
  const head = table.append('thead').append('tr');
  for (const h of ['component', 'stored', 'effective', 'active']) head.append('th').attr('scope', 'col').text(h);
  const body = table.append('tbody');
  for (const n of [...model.tree.children, model.tree]) {
    const tr = body.append('tr').attr('data-name', n === model.tree ? '(total)' : n.name);
    tr.append('td').text(n === model.tree ? 'total' : n.name);
    tr.append('td').attr('data-field', 'stored').text(groupDigits(n.params.stored));
    tr.append('td').attr('data-field', 'effective').text(groupDigits(n.params.effective));
    tr.append('td').attr('data-field', 'active').text(groupDigits(n.params.active));
  }

  if (model.parameterisation) renderParameterisation(container.append('section').attr('class', 'npas-parameterisation-section').node()!, model.parameterisation, model.name);
  if (model.sharedPrefix) renderSharedPrompt(container.append('section').attr('class', 'npas-shared-prompt-section').node()!, model.sharedPrefix, model.name);
  renderMemoryChart(container.append('section').attr('class', 'npas-memory-section').node()!, ctx);
  return { exportable: svg.node() };
}

/** Vertical label positions, in order, at least 13 px apart. */
export function spread<T extends { y: number }>(labels: readonly T[]): T[] {
  const sorted = [...labels].sort((a, b) => a.y - b.y);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.y < sorted[i - 1]!.y + 13) sorted[i] = { ...sorted[i]!, y: sorted[i - 1]!.y + 13 };
  return sorted;
}

function fit(s: string, chars: number): string {
  const n = Math.max(0, Math.floor(chars));
  return s.length <= n ? s : n < 2 ? '' : `${s.slice(0, n - 1)}…`;
}

const BYTE_METRICS = new Set(['kv', 'state', 'memory.inference', 'memory.weights', 'memory.train', 'memory.activations']);

export function byteLimits(model: ModelData): BudgetData[] {
  return model.budgets.filter((b) => BYTE_METRICS.has(b.metric));
}

function renderMemoryChart(section: HTMLElement, ctx: ViewContext): void {
  const model = ctx.model;
  const s = d3.select(section);
  s.append('h3').text(`KV cache and inference memory against sequence length (batch ${ctx.data.options.batch}, ${ctx.data.options.dtype})`);
  const pts = model.sweep;
  if (pts.length === 0) {
    s.append('p').attr('class', 'npas-empty').text('No sequence sweep in this data.');
    return;
  }
  const W = 760;
  const H = 300;
  const m = { top: 12, right: 190, bottom: 36, left: 76 };
  const limits = byteLimits(model);
  const ceiling = Number(ctx.data.device.memoryBytes);
  // Recurrent state (Mamba layers) is drawn beside the KV cache only where a model keeps one.
  const stateful = pts.some((p) => BigInt(p.recurrentStateBytes) > 0n);
  const values = pts.flatMap((p) => [Number(p.kvCacheBytes), Number(p.recurrentStateBytes), Number(p.inferenceBytes), Number(p.weightBytes)]).filter((v) => v > 0);
  const top = Math.max(ceiling, ...values, ...limits.map((b) => Number(b.limit))) * 1.6;
  const bottom = Math.max(1, Math.min(...values, ...limits.map((b) => Number(b.limit)).filter((v) => v > 0)) / 2);
  const x = d3.scaleLog().base(2).domain([pts[0]!.seq, pts[pts.length - 1]!.seq]).range([m.left, W - m.right]);
  const y = d3.scaleLog().domain([bottom, top]).range([H - m.bottom, m.top]).clamp(true);
  const svg = s
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'npas-svg npas-memory')
    .attr('width', W)
    .attr('height', H)
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('role', 'img')
    .attr('aria-label', `KV cache ${formatBytes(pts[0]!.kvCacheBytes)} at ${formatSeq(pts[0]!.seq)} tokens to ${formatBytes(pts[pts.length - 1]!.kvCacheBytes)} at ${formatSeq(pts[pts.length - 1]!.seq)}; device ${ctx.data.device.name} ${formatBytes(ctx.data.device.memoryBytes)}; the table below lists every point`);
  svg
    .append('g')
    .attr('class', 'npas-axis')
    .attr('transform', `translate(0,${H - m.bottom})`)
    .call(d3.axisBottom(x).tickValues(pts.map((p) => p.seq)).tickFormat((v) => formatSeq(Number(v))));
  svg
    .append('g')
    .attr('class', 'npas-axis')
    .attr('transform', `translate(${m.left},0)`)
    .call(d3.axisLeft(y).ticks(6, (v: d3.NumberValue) => formatBytes(Math.round(Number(v)))));
  svg.append('text').attr('class', 'npas-muted').attr('x', (m.left + W - m.right) / 2).attr('y', H - 4).attr('text-anchor', 'middle').text('sequence length (tokens)');
  const series = [
    { key: 'kv-line', label: 'KV cache', get: (p: (typeof pts)[number]) => Number(p.kvCacheBytes) },
    { key: 'state-line', label: 'recurrent state', get: (p: (typeof pts)[number]) => Number(p.recurrentStateBytes) },
    { key: 'inference-line', label: stateful ? 'weights + KV + state' : 'weights + KV', get: (p: (typeof pts)[number]) => Number(p.inferenceBytes) },
    { key: 'weights-line', label: 'weights', get: (p: (typeof pts)[number]) => Number(p.weightBytes) },
  ];
  const ends: { y: number; text: string }[] = [];
  for (const ser of series) {
    const data = pts.filter((p) => ser.get(p) > 0);
    if (data.length === 0) continue;
    svg
      .append('path')
      .attr('class', `npas-series npas-${ser.key}`)
      .attr('d', d3.line<(typeof pts)[number]>().x((p) => x(p.seq)).y((p) => y(ser.get(p)))(data) ?? '');
    const last = data[data.length - 1]!;
    ends.push({ y: y(ser.get(last)) + 4, text: ser.label });
  }
  // End labels (series, ceiling, limits) pushed apart so that none overlaps another.
  const ceilingLabel = { y: y(ceiling) + 4, text: `${ctx.data.device.name} memory ${formatBytes(ctx.data.device.memoryBytes)}` };
  for (const l of spread([...ends, ceilingLabel])) svg.append('text').attr('x', W - m.right + 6).attr('y', l.y).text(l.text);
  const seq = ctx.data.options.seq;
  svg.append('line').attr('class', 'npas-marker').attr('x1', x(seq)).attr('x2', x(seq)).attr('y1', m.top).attr('y2', H - m.bottom);
  svg
    .append('line')
    .attr('class', 'npas-ceiling')
    .attr('x1', m.left)
    .attr('x2', W - m.right)
    .attr('y1', y(ceiling))
    .attr('y2', y(ceiling));
  limits.forEach((b) => {
    const ly = y(Number(b.limit));
    const g = svg.append('g').attr('class', 'npas-budget-line').attr('tabindex', 0).attr('role', 'button').attr('aria-label', `budget ${b.constraint}: ${b.ok ? 'met' : 'violated'}, measured ${formatBytes(b.value.split('.')[0]!)}`);
    g.append('line').attr('class', `npas-limit${b.ok ? ' npas-ok' : ''}`).attr('x1', m.left).attr('x2', W - m.right).attr('y1', ly).attr('y2', ly);
    g.append('text').attr('x', W - m.right + 6).attr('y', ly + 4).text(fit(`${b.ok ? '✓' : '✗'} ${b.constraint}`, 30));
    g.on('click', () => ctx.reveal(b.range)).on('keydown', (e: KeyboardEvent) => {
      if (e.key === 'Enter') ctx.reveal(b.range);
    });
  });

  const t = s.append('table').attr('class', 'npas-table npas-sweep');
  t.append('caption').attr('class', 'npas-caption').text('KV cache and memory by sequence length');
  const hr = t.append('thead').append('tr');
  for (const h of ['seq', 'KV cache', ...(stateful ? ['recurrent state'] : []), 'weights', stateful ? 'weights + KV + state' : 'weights + KV']) hr.append('th').attr('scope', 'col').text(h);
  const tb = t.append('tbody');
  for (const p of pts) {
    const tr = tb.append('tr').attr('class', p.seq === seq ? 'npas-selected' : null);
    tr.append('td').text(formatSeq(p.seq));
    tr.append('td').text(formatBytes(p.kvCacheBytes));
    if (stateful) tr.append('td').text(formatBytes(p.recurrentStateBytes));
    tr.append('td').text(formatBytes(p.weightBytes));
    tr.append('td').text(formatBytes(p.inferenceBytes));
  }
}
