// Allocation pane: the last NPAS plan the host sent (`npas.allocate`) as a layers × groups
// matrix — one row per generated weight in model order, one column per group (store), the cell
// naming the generator (template mix with its K, whole, slice, inter(polate), repeat (tile),
// hash) — with each group's store, demand and unused entries above its column, the exact stored
// total beside the target, and tables of the same numbers as the text alternative. Without a
// plan it says how to get one.

import * as d3 from 'd3';
import type { AllocationGroupData, AllocationLayerData } from '../../src/protocol/webview-messages.js';
import { groupDigits, shortCount } from '../format.js';
import { SVG_NS, type RenderedView, type ViewContext } from './context.js';

/** Rows (weights) drawn in the matrix and listed in the table; the rest are counted. */
export const MATRIX_ROWS = 400;
/** Columns (groups) drawn; the groups table lists every group. */
export const MATRIX_COLUMNS = 40;

const GENERATOR_LABEL: Record<AllocationLayerData['generator']['kind'], string> = {
  direct: 'whole',
  mix: 'mix',
  slice: 'slice',
  interpolate: 'inter',
  tile: 'repeat',
  hash: 'hash',
};
const GENERATOR_MEANING: Record<AllocationLayerData['generator']['kind'], string> = {
  direct: 'the store is the weight itself',
  mix: 'template mix W = Σ α_k T_k',
  slice: 'a slice of the store',
  interpolate: 'interpolated from a smaller template',
  tile: 'the store repeated (tiled) to the weight size',
  hash: 'hashed reads of the store (ROAST)',
};

/** The cell's short text: `mix K8`, `whole`, `inter`, `repeat`, `hash`, `hash K2`. */
export function generatorText(g: AllocationLayerData['generator']): string {
  return `${GENERATOR_LABEL[g.kind]}${g.templates > 1 ? ` K${g.templates}` : ''}`;
}

function generatorWords(g: AllocationLayerData['generator']): string {
  return `${GENERATOR_LABEL[g.kind]} (${GENERATOR_MEANING[g.kind]})${g.templates > 1 ? `, K = ${g.templates} templates` : ''}${g.coefficients > 0 ? `, ${groupDigits(g.coefficients)} coefficients` : ''}`;
}

const fit = (s: string, chars: number): string => (s.length <= chars ? s : `…${s.slice(s.length - Math.max(1, chars - 1))}`);

export function renderAllocation(root: HTMLElement, ctx: ViewContext): RenderedView {
  root.replaceChildren();
  const plan = ctx.state.allocation;
  if (!plan) {
    const p = ctx.document.createElement('p');
    p.className = 'npas-empty';
    p.setAttribute('role', 'status');
    p.textContent =
      'No allocation yet: run "NPAS: Allocate Parameters…" (npas.allocate) on a model of this spec, or the "Allocate N parameters to …" code action on its declaration, and the plan is drawn here as a layers × groups matrix.';
    root.append(p);
    return { exportable: null };
  }
  const container = d3.select(root);
  const head = container.append('section').attr('class', 'npas-alloc-head');
  head.append('h3').text(`NPAS plan for ${plan.model} at ${groupDigits(plan.stored)} stored parameters`);
  const exact = head.append('p').attr('class', 'npas-alloc-total').attr('data-field', 'alloc-total');
  exact.append('b').text(`stored ${groupDigits(plan.stored)} = target ${groupDigits(plan.target)}`);
  exact.append('span').text(` = stores ${groupDigits(plan.stores)} + coefficients ${groupDigits(plan.coefficients)} + fixed ${groupDigits(plan.fixed)} (norms, biases, routers)`);
  const groups = plan.groups.slice(0, MATRIX_COLUMNS);
  const layers = plan.layers.slice(0, MATRIX_ROWS);
  const column = new Map(groups.map((g, i) => [g.id, i]));
  const labelW = Math.min(280, Math.max(120, 8 + 6.4 * Math.max(...layers.map((l) => l.path.length), 8)));
  const colW = 60;
  const idH = 64;
  const numH = 14;
  const top = idH + 3 * numH + 8;
  const rowH = 16;
  const W = labelW + Math.max(1, groups.length) * colW + 8;
  const H = top + layers.length * rowH + 8;

  const svg = container
    .append('svg')
    .attr('xmlns', SVG_NS)
    .attr('class', 'npas-svg npas-allocation')
    .attr('width', W)
    .attr('height', H)
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('role', 'group')
    .attr('aria-label', `Layers × groups matrix of the NPAS plan for ${plan.model}: ${layers.length} weights in model order against ${groups.length} groups; the tables below list the same plan`);
  // Column stripes, then the group headers: id (slanted), store, demand, unused.
  svg
    .append('g')
    .selectAll('rect')
    .data(groups)
    .join('rect')
    .attr('class', (_g, i) => `npas-alloc-col${i % 2 ? ' npas-odd' : ''}`)
    .attr('x', (_g, i) => labelW + i * colW)
    .attr('y', idH)
    .attr('width', colW)
    .attr('height', H - idH - 4);
  svg.append('text').attr('class', 'npas-muted').attr('x', labelW - 6).attr('y', idH + numH - 3).attr('text-anchor', 'end').text('store');
  svg.append('text').attr('class', 'npas-muted').attr('x', labelW - 6).attr('y', idH + 2 * numH - 3).attr('text-anchor', 'end').text('demand');
  svg.append('text').attr('class', 'npas-muted').attr('x', labelW - 6).attr('y', idH + 3 * numH - 3).attr('text-anchor', 'end').text('unused');
  const groupTip = (g: AllocationGroupData): string =>
    `group ${g.id}${g.direct ? ' (stores its weight whole)' : ''}\nstore ${groupDigits(g.params)}\ndemand ${groupDigits(g.demand)}\nunused ${groupDigits(g.unused)} (SSN reference: ${groupDigits(g.referenceUnused)})\n${g.weights} weights`;
  const heads = svg
    .selectAll<SVGGElement, AllocationGroupData>('g.npas-alloc-group')
    .data(groups)
    .join('g')
    .attr('class', 'npas-alloc-group npas-focusable')
    .attr('data-group', (g) => g.id)
    .attr('tabindex', 0)
    .attr('aria-label', (g) => groupTip(g).replace(/\n/g, ', '))
    .attr('transform', (_g, i) => `translate(${labelW + i * colW},0)`);
  heads
    .append('text')
    .attr('class', 'npas-alloc-id')
    .attr('transform', `translate(${colW / 2 - 2},${idH - 4}) rotate(-35)`)
    .text((g) => fit(g.id, 14));
  heads.append('text').attr('x', colW / 2).attr('y', idH + numH - 3).attr('text-anchor', 'middle').text((g) => shortCount(g.params));
  heads.append('text').attr('class', 'npas-muted').attr('x', colW / 2).attr('y', idH + 2 * numH - 3).attr('text-anchor', 'middle').text((g) => shortCount(g.demand));
  heads
    .append('text')
    .attr('class', (g) => (g.unused === '0' ? 'npas-muted' : 'npas-alloc-unused'))
    .attr('x', colW / 2)
    .attr('y', idH + 3 * numH - 3)
    .attr('text-anchor', 'middle')
    .text((g) => shortCount(g.unused));
  heads.on('mouseover', (e: MouseEvent, g) => ctx.hover(groupTip(g), e.clientX, e.clientY)).on('mouseleave', () => ctx.hover(null));

  // Rows: the weight's path, and its generator in its group's column.
  const shape = (l: AllocationLayerData): string => l.shape.join('×');
  const cellTip = (l: AllocationLayerData): string => `${l.path} (${shape(l)})\nreads group ${l.group}\n${generatorWords(l.generator)}`;
  const rows = svg
    .selectAll<SVGGElement, AllocationLayerData>('g.npas-alloc-row')
    .data(layers)
    .join('g')
    .attr('class', 'npas-alloc-row')
    .attr('transform', (_l, i) => `translate(0,${top + i * rowH})`);
  rows
    .append('text')
    .attr('x', labelW - 6)
    .attr('y', rowH - 4)
    .attr('text-anchor', 'end')
    .text((l) => fit(l.path, Math.floor((labelW - 10) / 6.4)));
  const cells = rows
    .filter((l) => column.has(l.group))
    .append('g')
    .attr('class', (l) => `npas-alloc-cell npas-gen-${l.generator.kind}`)
    .attr('data-group', (l) => l.group)
    .attr('tabindex', 0)
    .attr('role', 'img')
    .attr('aria-label', (l) => cellTip(l).replace(/\n/g, ', '))
    .attr('transform', (l) => `translate(${labelW + column.get(l.group)! * colW + 2},1)`);
  cells.append('rect').attr('width', colW - 4).attr('height', rowH - 2).attr('rx', 2);
  cells
    .append('text')
    .attr('x', (colW - 4) / 2)
    .attr('y', rowH - 5)
    .attr('text-anchor', 'middle')
    .text((l) => generatorText(l.generator));
  cells.on('mouseover', (e: MouseEvent, l) => ctx.hover(cellTip(l), e.clientX, e.clientY)).on('mouseleave', () => ctx.hover(null));
  cells.on('focus', (e: FocusEvent, l) => {
    const r = (e.currentTarget as Element).getBoundingClientRect?.();
    ctx.hover(cellTip(l), r?.left ?? 0, r?.bottom ?? 0);
  });
  cells.on('blur', () => ctx.hover(null));

  const cut: string[] = [];
  if (plan.layers.length > layers.length) cut.push(`${groupDigits(plan.layers.length - layers.length)} more weights are not drawn`);
  if (plan.groups.length > groups.length) cut.push(`${groupDigits(plan.groups.length - groups.length)} more groups are not drawn (their weights' rows are blank)`);
  if (cut.length) container.append('p').attr('class', 'npas-caption').text(`${cut.join('; ')}: the tables list them, and \`npas allocate --json\` prints the whole plan.`);

  const legend = container.append('div').attr('class', 'npas-legend').attr('aria-hidden', 'true');
  for (const kind of Object.keys(GENERATOR_LABEL) as (keyof typeof GENERATOR_LABEL)[]) {
    if (!plan.layers.some((l) => l.generator.kind === kind)) continue;
    const item = legend.append('span');
    item.append('svg').attr('xmlns', SVG_NS).attr('class', `npas-svg npas-gen-${kind}`).attr('width', 12).attr('height', 12).append('rect').attr('width', 12).attr('height', 12);
    item.append('span').text(` ${GENERATOR_LABEL[kind]}: ${GENERATOR_MEANING[kind]}`);
  }

  const facts: [string, string][] = [
    ['grouping', `${plan.grouping}: ${plan.groupingReason}`],
    ['method', `${plan.method}, ${plan.regime} budget (demand ${groupDigits(plan.demand)})`],
    ['unused', `${groupDigits(plan.unused)} store entries unread (the SSN reference layout would leave ${groupDigits(plan.referenceUnused)})`],
    ['cost', `${groupDigits(plan.generationMacs)} generation MACs per training step; inference FLOPs and KV cache unchanged`],
    ['minimum', `${groupDigits(plan.minimum)} for this grouping and method`],
  ];
  const dl = container.append('dl').attr('class', 'npas-facts');
  for (const [k, v] of facts) {
    dl.append('dt').text(k);
    dl.append('dd').attr('data-field', `alloc-${k}`).text(v);
  }
  if (plan.model !== ctx.model.name) container.append('p').attr('class', 'npas-caption').text(`This plan is for ${plan.model}; the model picker shows ${ctx.model.name}.`);
  if (plan.variantName) container.append('p').attr('class', 'npas-caption').text(`Apply (in the notification or the code action) appends it to ${plan.source} as variant ${plan.variantName}, one undoable edit.`);

  // Text alternative: the groups with their totals, then the weights.
  const gt = container.append('table').attr('class', 'npas-table npas-alloc-groups');
  gt.append('caption').attr('class', 'npas-caption').text(`${plan.model}: groups (stores) of the plan, exact`);
  const gh = gt.append('thead').append('tr');
  for (const h of ['group', 'store', 'demand', 'unused', 'SSN reference unused', 'weights']) gh.append('th').attr('scope', 'col').text(h);
  const gb = gt.append('tbody');
  for (const g of plan.groups) {
    const tr = gb.append('tr').attr('data-group', g.id);
    tr.append('td').text(g.direct ? `${g.id} (whole)` : g.id);
    tr.append('td').attr('data-field', 'params').text(groupDigits(g.params));
    tr.append('td').attr('data-field', 'demand').text(groupDigits(g.demand));
    tr.append('td').attr('data-field', 'unused').text(groupDigits(g.unused));
    tr.append('td').text(groupDigits(g.referenceUnused));
    tr.append('td').text(String(g.weights));
  }
  const foot = gt.append('tfoot');
  const totals: [string, string][] = [
    ['stores', plan.stores],
    ['+ coefficients', plan.coefficients],
    ['+ fixed', plan.fixed],
    ['= stored (target)', plan.stored],
  ];
  for (const [k, v] of totals) {
    const tr = foot.append('tr');
    tr.append('th').attr('scope', 'row').text(k);
    tr.append('td').attr('data-field', k.replace(/\W+/g, '-').replace(/^-|-$/g, '')).text(groupDigits(v));
    for (let i = 0; i < 4; i++) tr.append('td');
  }

  const lt = container.append('table').attr('class', 'npas-table npas-alloc-layers');
  lt.append('caption').attr('class', 'npas-caption').text(`${plan.model}: every generated weight in model order, its group and generator`);
  const lh = lt.append('thead').append('tr');
  for (const h of ['weight', 'shape', 'group', 'generator', 'templates K', 'coefficients']) lh.append('th').attr('scope', 'col').text(h);
  const lb = lt.append('tbody');
  for (const l of layers) {
    const tr = lb.append('tr');
    tr.append('td').text(l.path);
    tr.append('td').text(shape(l));
    tr.append('td').text(l.group);
    tr.append('td').text(GENERATOR_LABEL[l.generator.kind]);
    tr.append('td').text(String(l.generator.templates));
    tr.append('td').text(groupDigits(l.generator.coefficients));
  }
  return { exportable: svg.node() };
}

