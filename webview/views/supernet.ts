// A supernet's Pareto front in the Variants pane: for the selected model's `elastic` statement,
// the size of its subnet space, its model-wide choices (`elastic d: [512, 768]`) and the subnets (classes: the same choices in any order) that no
// other beats on both active parameters (more) and decode FLOPs (fewer), as a step line of
// points and a table of the same numbers — what `npas subnets --by flops.decode` lists as the front.

import * as d3 from 'd3';
import type { SupernetData } from '../../src/core/layout/types.js';
import { formatFlops, groupDigits, shortCount } from '../format.js';

type Point = SupernetData['front'][number];

export function renderSupernet(section: HTMLElement, s: SupernetData, modelName: string, seq: number): void {
  const c = d3.select(section);
  c.append('h3').text(`Supernet of ${modelName}`);
  const size = [
    s.subnets === null ? '' : `${groupDigits(s.subnets)} subnets`,
    s.classes === null ? '' : ` in ${groupDigits(s.classes)} classes`,
    s.stored === null ? '' : `; the supernet stores ${groupDigits(s.stored)} parameters`,
  ].join('');
  c.append('p').attr('class', 'npas-muted npas-supernet-size').text(size);
  for (const g of s.globals) c.append('p').attr('class', 'npas-muted npas-supernet-global').text(`${g.name}: ${g.values.join(', ')} — one value for the whole model (every layer using ${g.name} follows)`);
  if (s.error !== null) {
    c.append('p').attr('class', 'npas-supernet-error').text(s.error);
    return;
  }
  const pts = s.front;
  const W = 640;
  const H = 320;
  const m = { top: 16, right: 24, bottom: 44, left: 84 };
  const xs = pts.map((p) => Number(p.active));
  const ys = pts.map((p) => Number(p.decodeFlops));
  const x = d3.scaleLinear().domain([0, Math.max(...xs, 1) * 1.1]).range([m.left, W - m.right]).nice();
  const y = d3.scaleLinear().domain([0, Math.max(...ys, 1) * 1.1]).range([H - m.bottom, m.top]).nice();
  const svg = c
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'npas-svg npas-scatter npas-supernet-front')
    .attr('width', W)
    .attr('height', H)
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('role', 'group')
    .attr('aria-label', `Pareto front of ${modelName}'s supernet: ${s.frontSize} subnet classes, active parameters against decode FLOPs at ${seq} tokens; the table below lists them`);
  svg.append('g').attr('class', 'npas-axis').attr('transform', `translate(0,${H - m.bottom})`).call(d3.axisBottom(x).ticks(6).tickFormat((v) => shortCount(Number(v))));
  svg.append('g').attr('class', 'npas-axis').attr('transform', `translate(${m.left},0)`).call(d3.axisLeft(y).ticks(6).tickFormat((v) => formatFlops(Number(v))));
  svg.append('text').attr('class', 'npas-muted').attr('x', (m.left + W - m.right) / 2).attr('y', H - 6).attr('text-anchor', 'middle').text('active parameters');
  const byActive = [...pts].sort((a, b) => Number(a.active) - Number(b.active));
  if (byActive.length > 1) {
    svg
      .append('path')
      .attr('class', 'npas-front')
      .attr('d', d3.line<Point>().x((p) => x(Number(p.active))).y((p) => y(Number(p.decodeFlops))).curve(d3.curveStepBefore)(byActive) ?? '');
  }
  svg
    .selectAll<SVGCircleElement, Point>('circle')
    .data(pts)
    .join('circle')
    .attr('class', 'npas-point npas-pareto')
    .attr('cx', (p) => x(Number(p.active)))
    .attr('cy', (p) => y(Number(p.decodeFlops)))
    .attr('r', 4)
    .attr('tabindex', 0)
    .attr('role', 'img')
    .attr('aria-label', (p) => `${p.label}: active ${groupDigits(p.active)}, decode ${formatFlops(p.decodeFlops)}, ${groupDigits(p.subnets)} subnets`);
  const table = c.append('table').attr('class', 'npas-table npas-supernet-table');
  const shown = pts.length < s.frontSize ? ` (the first ${pts.length} of ${s.frontSize})` : '';
  table.append('caption').attr('class', 'npas-caption').text(`The Pareto front by decode FLOPs${shown}; npas subnets --by flops.decode lists it with a filter`);
  const head = table.append('thead').append('tr');
  for (const h of ['#', 'decode FLOPs', 'active', 'stored', 'subnets', 'choices']) head.append('th').attr('scope', 'col').text(h);
  const body = table.append('tbody');
  pts.forEach((p, i) => {
    const tr = body.append('tr');
    tr.append('td').text(String(i + 1));
    tr.append('td').attr('data-field', 'decode').text(formatFlops(p.decodeFlops));
    tr.append('td').attr('data-field', 'active').text(groupDigits(p.active));
    tr.append('td').attr('data-field', 'stored').text(groupDigits(p.stored));
    tr.append('td').attr('data-field', 'subnets').text(groupDigits(p.subnets));
    tr.append('td').attr('data-field', 'choices').text(p.label);
  });
}
