// How the selected model is parameterised, drawn in the Budget pane under its treemap:
// - factorised weights (`factorize`): per distinct weight, a bar of what its factors store
//   against the dense W they stand for, and a bar pair of FLOPs per token (dense matmul against
//   the factor chain) with the execution the engine counts marked — the text says it too;
// - `param` multipliers (μP, u-μP, CompleteP, depth-μP): one row per weight class with each
//   factor's formula in m_N (width ratio) and m_L (depth ratio) and its value at this size, and
//   the target values when the base model's are given.
// Nothing is drawn for a model with neither.

import * as d3 from 'd3';
import type { MaterialisedBecause, MultiplierData, ParameterisationData } from '../../src/core/layout/types.js';
import { formatFlops, groupDigits } from '../format.js';

type Factorized = ParameterisationData['factorized'][number];

/** The share of the dense W its factors store, for the bar and its label (never above the bar's end). */
export function storedShare(f: Factorized): number {
  const dense = Number(f.denseElements);
  return dense === 0 ? 0 : Number(f.factorElements) / dense;
}

/** Why W must exist whatever the costs, in words. */
const BECAUSE: Readonly<Record<MaterialisedBecause, string>> = {
  'sparse mask': 'sparse mask: W must exist',
  kernel: 'a kernel: no chain',
  'rebuilt by its layer': 'its layer rebuilds W',
};

/** What the engine counts for one weight, in words (the same fact as the JSON's `execution`). */
export function executionText(f: Factorized): string {
  if (f.execution === 'factors') return 'factors applied per token';
  return f.materialisedBecause === null ? 'W materialised, dense matmul' : `W materialised (${BECAUSE[f.materialisedBecause]}), dense matmul`;
}

export function renderParameterisation(section: HTMLElement, p: ParameterisationData, modelName: string): void {
  const s = d3.select(section);
  if (p.factorized.length > 0) renderFactorized(s, p.factorized, modelName);
  if (p.multipliers) renderMultipliers(s, p.multipliers, modelName);
}

function renderFactorized(s: d3.Selection<HTMLElement, unknown, null, undefined>, rows: readonly Factorized[], modelName: string): void {
  s.append('h3').text('Factorised weights');
  const shown = rows.slice(0, 200);
  const rowH = 44;
  const labelW = 250;
  const barW = 220;
  const W = labelW + 2 * (barW + 40);
  const H = shown.length * rowH + 24;
  const svg = s
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'npas-svg npas-factorized')
    .attr('width', W)
    .attr('height', H)
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('role', 'group')
    .attr('aria-label', `${modelName}: ${rows.length} factorised weights, stored factors against the dense weight and FLOPs per token of each execution; the table below lists the same numbers`);
  svg.append('text').attr('class', 'npas-muted').attr('x', labelW).attr('y', 12).text('stored: factors / dense W');
  svg.append('text').attr('class', 'npas-muted').attr('x', labelW + barW + 40).attr('y', 12).text('FLOPs per token: dense · factors');
  shown.forEach((f, i) => {
    const y = 20 + i * rowH;
    const g = svg
      .append('g')
      .attr('class', `npas-factor-row npas-execution-${f.execution}`)
      .attr('data-path', f.path)
      .attr('role', 'img')
      .attr('aria-label', `${f.path} (${f.method}): stores ${groupDigits(f.factorElements)} of the dense ${groupDigits(f.denseElements)}; ${executionText(f)}`);
    g.append('text').attr('x', 0).attr('y', y + 14).text(fit(f.path, 36));
    g.append('text').attr('class', 'npas-muted').attr('x', 0).attr('y', y + 30).text(`${f.method}${f.copies > 1 ? ` ×${f.copies}` : ''}`);
    // Stored: the dense W as the frame, the factors' share filled.
    g.append('rect').attr('class', 'npas-bar-frame').attr('x', labelW).attr('y', y + 4).attr('width', barW).attr('height', 14);
    g.append('rect').attr('class', 'npas-bar npas-stored').attr('x', labelW).attr('y', y + 4).attr('width', Math.max(1, barW * Math.min(1, storedShare(f)))).attr('height', 14);
    g.append('text').attr('class', 'npas-muted').attr('x', labelW).attr('y', y + 32).text(`${(100 * storedShare(f)).toPrecision(3)}% of ${groupDigits(f.denseElements)}`);
    // FLOPs per token: dense and chain on one scale, the counted one solid.
    const x0 = labelW + barW + 40;
    const dense = Number(f.denseFlopsPerToken);
    const chain = f.chainFlopsPerToken === null ? null : Number(f.chainFlopsPerToken);
    const max = Math.max(dense, chain ?? 0, 1);
    const bar = (value: number, top: number, counted: boolean, cls: string): void => {
      g.append('rect')
        .attr('class', `npas-bar ${cls}${counted ? ' npas-counted' : ' npas-not-counted'}`)
        .attr('x', x0)
        .attr('y', y + top)
        .attr('width', Math.max(1, (barW * value) / max))
        .attr('height', 8);
    };
    bar(dense, 4, f.execution === 'dense', 'npas-dense');
    if (chain !== null) bar(chain, 14, f.execution === 'factors', 'npas-chain');
    g.append('text')
      .attr('class', 'npas-muted')
      .attr('x', x0)
      .attr('y', y + 34)
      .text(`${formatFlops(f.denseFlopsPerToken)} · ${chain === null ? 'no chain (a kernel)' : formatFlops(f.chainFlopsPerToken!)} — counted: ${executionText(f)}`);
  });
  const table = s.append('table').attr('class', 'npas-table npas-factorized-table');
  table.append('caption').attr('class', 'npas-caption').text(`${modelName}: factorised weights (FLOPs, a multiply-add = 2; as npas budget --json's factorized rows)`);
  const head = table.append('thead').append('tr');
  for (const h of ['weight', 'method', 'shape', 'stored', 'dense', 'materialise W', 'per token: dense', 'per token: factors', 'counted']) head.append('th').attr('scope', 'col').text(h);
  const body = table.append('tbody');
  for (const f of rows) {
    const tr = body.append('tr').attr('data-path', f.path);
    tr.append('td').text(f.path);
    tr.append('td').text(f.method);
    tr.append('td').text(`${f.shape.join('×')}${f.copies > 1 ? ` ×${f.copies}` : ''}`);
    tr.append('td').attr('data-field', 'stored').text(groupDigits(f.factorElements));
    tr.append('td').attr('data-field', 'dense').text(groupDigits(f.denseElements));
    tr.append('td').text(formatFlops(f.materialiseFlops));
    tr.append('td').text(formatFlops(f.denseFlopsPerToken));
    tr.append('td').text(f.chainFlopsPerToken === null ? '—' : formatFlops(f.chainFlopsPerToken));
    tr.append('td').attr('data-field', 'execution').text(executionText(f));
  }
}

function renderMultipliers(s: d3.Selection<HTMLElement, unknown, null, undefined>, t: NonNullable<ParameterisationData['multipliers']>, modelName: string): void {
  s.append('h3').text(`Parameterisation: ${t.scheme}`);
  s.append('p')
    .attr('class', 'npas-muted')
    .text(`width ${t.width} against base ${t.baseWidth} (m_N), depth ${t.depth} against base ${t.baseDepth} (m_L); each cell is the rule, its value at this size, and the target's value where the base's is given`);
  const table = s.append('table').attr('class', 'npas-table npas-multipliers');
  table.append('caption').attr('class', 'npas-caption').text(`${modelName}: multipliers per weight class (as the hover on param and npas param)`);
  const head = table.append('thead').append('tr');
  for (const h of ['class', 'e.g.', 'init std', 'LR', 'output', 'residual', 'weight decay']) head.append('th').attr('scope', 'col').text(h);
  const body = table.append('tbody');
  for (const r of t.rows) {
    const tr = body.append('tr').attr('data-class', r.weightClass);
    tr.append('td').text(r.weightClass);
    tr.append('td').text(r.example);
    tr.append('td').attr('data-field', 'initStd').text(r.initStd ? cell(r.initStd) : 'norm 1, bias 0');
    tr.append('td').attr('data-field', 'lr').text(cell(r.lr));
    tr.append('td').attr('data-field', 'output').text(cell(r.output));
    tr.append('td').attr('data-field', 'residual').text(cell(r.residual));
    tr.append('td').attr('data-field', 'weightDecay').text(r.weightDecay ? cell(r.weightDecay) : 'none');
  }
}

function cell(m: MultiplierData): string {
  const value = m.formula === '1' ? '1' : `${m.formula} = ${short(m.value)}`;
  return m.target === null ? value : `${value} → ${short(m.target)}`;
}

function short(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

function fit(text: string, chars: number): string {
  return text.length <= chars ? text : `…${text.slice(text.length - chars + 1)}`;
}
