// Plan view: each `plan` declaration of the model (docs/plans.md) — per pipeline stage, one GPU's
// memory stacked by tensor class against the device's memory, and the step time split into its
// roofline parts; a table of the same numbers as the text alternative.

import * as d3 from 'd3';
import type { PlanData } from '../../src/core/layout/types.js';
import { formatBytes, formatSeconds as seconds } from '../format.js';
import type { RenderedView, ViewContext } from './context.js';

/** The tensor classes in stacking order, with their CSS classes. */
export const PLAN_COMPONENTS = ['weights', 'gradients', 'optimizer', 'activations', 'loss', 'buffers'] as const;

const W = 560;
const LABEL = 70;
const ROW = 24;

export function renderPlan(root: HTMLElement, ctx: ViewContext): RenderedView {
  const container = d3.select(root);
  container.selectAll('*').remove();
  const plans = ctx.model.plans;
  if (plans.length === 0) {
    container
      .append('p')
      .attr('class', 'npas-empty')
      .text(`${ctx.model.name} has no plan declaration. Add one, e.g. plan ${ctx.model.name} { gpus = 8  tp = 2  zero = 1 }, to see per-GPU memory by pipeline stage and the step time (docs/plans.md).`);
    return { exportable: null };
  }
  let first: SVGSVGElement | null = null;
  plans.forEach((plan, i) => {
    const svg = renderOne(container.append('section').attr('class', 'npas-plan-section').node()!, plan, i, ctx);
    first ??= svg;
  });
  return { exportable: first };
}

function renderOne(section: HTMLElement, plan: PlanData, index: number, ctx: ViewContext): SVGSVGElement | null {
  const s = d3.select(section);
  const title = s.append('h3').attr('class', 'npas-plan-title').attr('tabindex', 0).attr('role', 'link');
  title.text(plan.problems.length > 0 ? `Plan ${index + 1}: refused` : `Plan ${index + 1}: ${plan.layout} — ${plan.fits ? 'fits' : 'does not fit'}`);
  title.on('click', () => ctx.reveal(plan.range)).on('keydown', (e: KeyboardEvent) => {
    if (e.key === 'Enter') ctx.reveal(plan.range);
  });
  if (plan.problems.length > 0) {
    const list = s.append('ul').attr('class', 'npas-plan-problems');
    for (const p of plan.problems) list.append('li').text(p);
    return null;
  }
  s.append('p').attr('class', 'npas-caption').text(plan.schedule);

  // Memory per stage, stacked by class, with the device's memory as a ceiling.
  const device = Number(plan.deviceBytes);
  const max = Math.max(device, ...plan.stages.map((g) => Number(g.bytes.total)));
  const x = (v: number): number => LABEL + ((W - LABEL - 10) * v) / max;
  const H = plan.stages.length * ROW + 30;
  const svg = s
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'npas-svg npas-plan-memory')
    .attr('width', W)
    .attr('height', H)
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('role', 'img')
    .attr('aria-label', `Memory per GPU of each of ${plan.stages.length} pipeline stages against ${plan.device}'s ${formatBytes(plan.deviceBytes)}; the table below lists the same numbers`);
  plan.stages.forEach((g, r) => {
    const row = svg.append('g').attr('class', `npas-plan-stage${g.fits ? '' : ' npas-over'}`);
    row.append('text').attr('class', 'npas-muted').attr('x', 0).attr('y', r * ROW + 15).text(`stage ${g.rank}`);
    let at = 0;
    for (const c of PLAN_COMPONENTS) {
      const v = Number(g.bytes[c]);
      if (v <= 0) continue;
      row
        .append('rect')
        .attr('class', `npas-plan-bar npas-plan-${c}`)
        .attr('x', x(at))
        .attr('y', r * ROW + 3)
        .attr('width', Math.max(0.5, x(at + v) - x(at)))
        .attr('height', ROW - 6)
        .append('title')
        .text(`stage ${g.rank} ${c}: ${formatBytes(g.bytes[c])}`);
      at += v;
    }
  });
  svg
    .append('line')
    .attr('class', 'npas-ceiling')
    .attr('x1', x(device))
    .attr('x2', x(device))
    .attr('y1', 0)
    .attr('y2', plan.stages.length * ROW + 4);
  svg
    .append('text')
    .attr('class', 'npas-muted')
    .attr('x', Math.min(x(device), W - 120))
    .attr('y', plan.stages.length * ROW + 22)
    .text(`${plan.device} ${formatBytes(plan.deviceBytes)}`);

  const legend = s.append('div').attr('class', 'npas-legend');
  for (const c of PLAN_COMPONENTS) {
    const item = legend.append('span');
    item.append('svg').attr('width', 10).attr('height', 10).append('rect').attr('class', `npas-plan-bar npas-plan-${c}`).attr('width', 10).attr('height', 10);
    item.append('span').text(` ${c}`);
  }

  // Step time split into its parts.
  const parts = plan.step.parts.filter((p) => p.seconds > 0);
  const step = s
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'npas-svg npas-plan-step')
    .attr('width', W)
    .attr('height', parts.length * ROW + 4)
    .attr('viewBox', `0 0 ${W} ${parts.length * ROW + 4}`)
    .attr('role', 'img')
    .attr('aria-label', `Step ${seconds(plan.step.seconds)} on the roofline: ${parts.map((p) => `${p.name} ${seconds(p.seconds)}`).join(', ')}`);
  const longest = Math.max(...parts.map((p) => p.seconds), 1e-12);
  parts.forEach((p, i) => {
    step.append('text').attr('class', 'npas-muted').attr('x', 0).attr('y', i * ROW + 15).text(p.name);
    step
      .append('rect')
      .attr('class', 'npas-bar npas-plan-part')
      .attr('x', LABEL + 30)
      .attr('y', i * ROW + 3)
      .attr('width', Math.max(0.5, ((W - LABEL - 130) * p.seconds) / longest))
      .attr('height', ROW - 6);
    step.append('text').attr('class', 'npas-muted').attr('x', W - 90).attr('y', i * ROW + 15).text(seconds(p.seconds));
  });
  s.append('p').attr('class', 'npas-caption').text(`step ${seconds(plan.step.seconds)} · MFU ${(plan.mfu * 100).toFixed(1)}% · ${Math.round(plan.tokensPerSecond).toLocaleString('en-US')} tokens/s`);

  // The same numbers as a table.
  const table = s.append('table').attr('class', 'npas-table npas-plan-table');
  table.append('caption').attr('class', 'npas-caption').text('Bytes on one GPU of each pipeline stage (exact, as npas plan)');
  const head = table.append('thead').append('tr');
  for (const h of ['stage', 'holds', ...PLAN_COMPONENTS, 'total', 'fits']) head.append('th').attr('scope', 'col').text(h);
  const body = table.append('tbody');
  for (const g of plan.stages) {
    const tr = body.append('tr');
    tr.append('td').text(String(g.rank));
    tr.append('td').text(g.holds);
    for (const c of PLAN_COMPONENTS) tr.append('td').attr('class', 'npas-num').text(formatBytes(g.bytes[c]));
    tr.append('td').attr('class', 'npas-num').text(formatBytes(g.bytes.total));
    tr.append('td').text(g.fits ? 'yes' : 'no');
  }
  return svg.node();
}
