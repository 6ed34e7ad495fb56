// Architecture view: the layout computed by the core (layer instances in order, stacks
// collapsible, stores as nodes linked to their readers, KV reuse arcs, MoE badges), drawn with
// D3. Hover shows a node's numbers, click or Enter reveals its declaration, Space (or a click on
// a stack's header) collapses and expands. One delegated listener set serves every node, so a
// 5,000-instance model stays responsive.

import * as d3 from 'd3';
import { defaultCollapsed, layoutArchitecture } from '../../src/core/layout/layout.js';
import { LAYER_CLASSES, type LayerClass } from '../../src/core/layout/layer-classes.js';
import type { LayoutLink, LayoutNode, ModelData, TreeData } from '../../src/core/layout/types.js';
import { divideCount, formatBytes, formatFlops, groupDigits } from '../format.js';
import type { RenderedView, ViewContext } from './context.js';

export function renderArchitecture(root: HTMLElement, ctx: ViewContext): RenderedView {
  const model = ctx.model;
  const collapsed = ctx.state.collapsed[model.name] ?? defaultCollapsed(model);
  const layout = layoutArchitecture(model, { collapsed });
  const container = d3.select(root);
  container.selectAll('*').remove();

  const s = model.structure;
  const summaryId = `npas-arch-summary-${safeId(model.name)}`;
  const legend = container.append('div').attr('class', 'npas-legend');
  legend.append('span').text(`${s.stores.length} shared store${s.stores.length === 1 ? '' : 's'}, ${s.reads.length} reads`);
  legend.append('span').text('colour: the store an instance reads');
  legend.append('span').text('● produces KV, ○ reads another layer’s KV');
  // Where a model mixes layer classes (attention, recurrent, experts), each row shows the glyphs
  // of the classes it holds, one column per class, and the legend names the layer kinds.
  const classColumns = s.classes.length >= 2 ? s.classes.map((c) => c.id) : [];
  for (const c of s.classes.length >= 2 ? s.classes : []) {
    const doc = LAYER_CLASSES.find((d) => d.id === c.id)!;
    legend.append('span').attr('class', `npas-class-legend npas-class-${c.id}`).text(`${doc.glyph} ${doc.name}: ${c.kinds.join(', ')}`);
  }
  legend.append('span').text('Enter: reveal in editor · Space: collapse or expand a stack');
  container.append('p').attr('class', 'npas-sr-only').attr('id', summaryId).text(describe(model));

  const svg = container
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('class', 'npas-svg npas-architecture')
    .attr('width', layout.width)
    .attr('height', layout.height)
    .attr('viewBox', `0 0 ${layout.width} ${layout.height}`)
    .attr('role', 'group')
    .attr('aria-label', `Architecture of ${model.name}`)
    .attr('aria-describedby', summaryId)
    .attr('data-nodes', layout.nodes.length);

  const linkLayer = svg.append('g').attr('class', 'npas-links').attr('aria-hidden', 'true');
  const nodeLayer = svg.append('g').attr('class', 'npas-nodes');
  const svgNode = svg.node()!;
  const win = root.ownerDocument.defaultView;
  // Large models draw only the rows near the viewport (plus the stores, which are few) and
  // redraw on scroll: a 5,000-instance stack expands and scrolls without freezing the page.
  const windowed = layout.nodes.length > WINDOW_THRESHOLD;
  const visibleBand = (): [number, number] => {
    if (!windowed || !win) return [-Infinity, Infinity];
    const top = -svgNode.getBoundingClientRect().top;
    const height = win.innerHeight || 1000;
    return [top - WINDOW_MARGIN, top + height + WINDOW_MARGIN];
  };
  const draw = (): void => {
    const [lo, hi] = visibleBand();
    const visible = windowed ? layout.nodes.filter((n) => n.kind === 'store' || (n.y + n.h >= lo && n.y <= hi)) : layout.nodes;
    const shown = new Set(visible.filter((n) => n.kind !== 'store').map((n) => n.id));
    const links = windowed ? layout.links.filter((l) => shown.has(l.source)) : layout.links;
    linkLayer
      .selectAll<SVGPathElement, LayoutLink>('path')
      .data(links, (l) => l.id)
      .join((enter) =>
        enter
          .append('path')
          .attr('class', (l) => (l.kind === 'kv' ? 'npas-link npas-kv' : 'npas-link'))
          .attr('d', (l) => l.d)
          .attr('data-source', (l) => l.source)
          .attr('data-target', (l) => l.target),
      );
    nodeLayer
      .selectAll<SVGGElement, LayoutNode>('g.npas-node')
      .data(visible, (n) => n.id)
      .join((enter) => buildNodes(enter.append('g'), classColumns))
      .order();
  };
  draw();
  let pending = false;
  const onScroll = (): void => {
    if (pending || !win) return;
    pending = true;
    win.requestAnimationFrame(() => {
      pending = false;
      if (svgNode.isConnected) draw();
    });
  };
  if (windowed && win) {
    win.addEventListener('scroll', onScroll, true);
    win.addEventListener('resize', onScroll);
  }

  // Delegated interaction.
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  const nodeOf = (target: EventTarget | null): { el: SVGGElement; n: LayoutNode } | undefined => {
    const el = (target as Element | null)?.closest?.('g.npas-node') as SVGGElement | null | undefined;
    const n = el ? byId.get(el.getAttribute('data-id') ?? '') : undefined;
    return el && n ? { el, n } : undefined;
  };
  let hot: Element[] = [];
  const highlight = (hit: { el: SVGGElement; n: LayoutNode } | undefined): void => {
    for (const e of hot) e.classList.remove('npas-hot', 'npas-hover');
    hot = [];
    if (!hit) return;
    hit.el.classList.add('npas-hover');
    hot.push(hit.el);
    const id = CSS_escape(hit.n.id);
    for (const l of svgNode.querySelectorAll(`path[data-source="${id}"], path[data-target="${id}"]`)) {
      l.classList.add('npas-hot');
      hot.push(l);
    }
  };
  // A click or Space on a stack header toggles it; Enter (or a click elsewhere) reveals.
  const activate = (n: LayoutNode, toggle: boolean): void => {
    if (n.kind === 'group' && n.collapsible && toggle) {
      const set = new Set(collapsed);
      if (set.has(n.member)) set.delete(n.member);
      else set.add(n.member);
      ctx.update({ collapsed: { ...ctx.state.collapsed, [model.name]: [...set] } });
      const again = root.querySelector<SVGGElement>(`g.npas-node[data-id="${CSS_escape(n.id)}"]`);
      again?.focus();
      return;
    }
    ctx.reveal(n.range);
  };
  svgNode.addEventListener('mouseover', (e) => {
    const hit = nodeOf(e.target);
    highlight(hit);
    if (hit) ctx.hover(hoverText(hit.n, model), (e as MouseEvent).clientX, (e as MouseEvent).clientY);
  });
  svgNode.addEventListener('mouseleave', () => {
    highlight(undefined);
    ctx.hover(null);
  });
  svgNode.addEventListener('focusin', (e) => {
    const hit = nodeOf(e.target);
    highlight(hit);
    if (hit) {
      const r = hit.el.getBoundingClientRect();
      ctx.hover(hoverText(hit.n, model), r.right, r.bottom);
    }
  });
  svgNode.addEventListener('focusout', () => {
    highlight(undefined);
    ctx.hover(null);
  });
  svgNode.addEventListener('click', (e) => {
    const hit = nodeOf(e.target);
    if (hit) activate(hit.n, hit.n.kind === 'group');
  });
  svgNode.addEventListener('keydown', (e) => {
    const hit = nodeOf(e.target);
    if (!hit) return;
    const k = (e as KeyboardEvent).key;
    if (k === 'Enter') {
      e.preventDefault();
      activate(hit.n, false);
    } else if (k === ' ') {
      e.preventDefault();
      activate(hit.n, true);
    }
  });
  return {
    exportable: svgNode,
    dispose: () => {
      win?.removeEventListener('scroll', onScroll, true);
      win?.removeEventListener('resize', onScroll);
    },
  };
}

/** Nodes above this count are drawn windowed (rows near the viewport only). */
export const WINDOW_THRESHOLD = 1500;
const WINDOW_MARGIN = 900;

/** Width of one class glyph column on a row. */
const CLASS_COLUMN = 11;

function buildNodes(g: d3.Selection<SVGGElement, LayoutNode, SVGGElement, unknown>, classColumns: readonly LayerClass[]): d3.Selection<SVGGElement, LayoutNode, SVGGElement, unknown> {
  const row = (n: LayoutNode): boolean => n.kind === 'instance' || n.kind === 'run';
  const labelX = (n: LayoutNode): number => n.x + (n.kind === 'group' ? 0 : 12 + (row(n) ? classColumns.length * CLASS_COLUMN : 0));
  g.attr('class', (n) => `npas-node npas-${n.kind}`)
    .attr('data-id', (n) => n.id)
    .attr('tabindex', 0)
    .attr('role', 'button')
    .attr('aria-label', (n) => ariaLabel(n))
    .attr('aria-expanded', (n) => (n.collapsible ? String(!n.collapsed) : null));
  g.append('rect')
    .attr('x', (n) => n.x)
    .attr('y', (n) => n.y)
    .attr('width', (n) => n.w)
    .attr('height', (n) => n.h)
    .attr('rx', 3)
    .attr('class', (n) => (n.kind === 'store' ? `c${n.colour}` : null));
  g.filter((n) => n.kind === 'instance' || n.kind === 'run')
    .append('rect')
    .attr('class', (n) => `npas-swatch ${n.colour >= 0 ? `c${n.colour}` : 'cn'}`)
    .attr('x', (n) => n.x)
    .attr('y', (n) => n.y)
    .attr('width', 6)
    .attr('height', (n) => n.h);
  for (const [column, id] of classColumns.entries()) {
    const glyph = LAYER_CLASSES.find((c) => c.id === id)!.glyph;
    g.filter((n) => row(n) && n.classes.includes(id))
      .append('text')
      .attr('class', `npas-class npas-class-${id}`)
      .attr('aria-hidden', 'true')
      .attr('x', (n) => n.x + 12 + column * CLASS_COLUMN)
      .attr('y', (n) => n.y + n.h / 2 + 4)
      .text(glyph);
  }
  g.append('text')
    .attr('x', labelX)
    .attr('y', (n) => n.y + n.h / 2 + 4)
    .text((n) => (n.kind === 'group' ? `${n.collapsible ? (n.collapsed ? '▸ ' : '▾ ') : ''}${n.label}` : n.label));
  // A group's detail follows its label (and may run past the box); other details sit right-aligned.
  g.append('text')
    .attr('class', 'npas-muted')
    .attr('x', (n) => (n.kind === 'group' ? n.x + groupLabelWidth(n) : n.x + n.w - 6))
    .attr('y', (n) => n.y + n.h / 2 + 4)
    .attr('text-anchor', (n) => (n.kind === 'group' ? 'start' : 'end'))
    .text((n) => clip(n.kind === 'store' ? `${n.count} reader${n.count === '1' ? '' : 's'}` : n.kind === 'group' ? n.detail : [...n.moe.map(shortMoe), n.detail].join(' · '), n.kind === 'group' ? Math.max(8, Math.floor((n.w - groupLabelWidth(n)) / 6.2)) : 26));
  g.filter((n) => n.kv !== 'none' && (n.kind === 'instance' || n.kind === 'run'))
    .append('circle')
    .attr('class', (n) => `npas-kvmark npas-${n.kv}`)
    .attr('cx', (n) => n.x - 7)
    .attr('cy', (n) => n.y + n.h / 2)
    .attr('r', 3.5);
  g.filter((n) => n.notes.length > 0 && n.kind !== 'store')
    .append('text')
    .attr('class', 'npas-muted')
    .attr('x', (n) => n.x + n.w + 6)
    .attr('y', (n) => n.y + n.h / 2 + 4)
    .text((n) => clip(n.notes.join(' · '), 24));
  return g;
}

function groupLabelWidth(n: LayoutNode): number {
  return Math.round((n.label.length + 2) * 7.2 + 10);
}

function CSS_escape(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}

function safeId(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function shortMoe(m: string): string {
  return m.replace(/^.*: /, '');
}

function ariaLabel(n: LayoutNode): string {
  const parts = [n.kind === 'store' ? `store ${n.label}, ${n.count} readers` : n.kind === 'group' ? `stack ${n.label}, ${n.count} instances` : `${n.label}, ${n.detail}`];
  if (n.kind === 'group' && n.collapsible) parts.push(n.collapsed ? 'collapsed' : 'expanded');
  if (n.kv === 'producer') parts.push('produces its KV cache');
  if (n.kv === 'consumer') parts.push('reads another layer’s KV cache');
  if (n.kv === 'mixed') parts.push('some instances reuse KV');
  if (n.classes.includes('recurrent')) parts.push('keeps a recurrent state');
  parts.push(...n.moe, ...n.notes);
  return parts.join('; ');
}

/** The report node behind a layout node: the member, or the run holding its first instance. */
export function treeNodeOf(model: ModelData, n: LayoutNode): TreeData | undefined {
  const member = model.tree.children.find((c) => c.name === n.member);
  if (!member || n.kind === 'group' || member.kind !== 'stack') return member;
  // Indices and counts are decimal strings (a run may hold 2⁶⁰ instances): compared as bigints.
  const at = BigInt(n.index);
  return member.children.find((c) => BigInt(c.firstIndex) <= at && at < BigInt(c.firstIndex) + BigInt(c.count));
}

export function hoverText(n: LayoutNode, model: ModelData): string {
  if (n.kind === 'store') {
    const readers = model.structure.reads.filter((r) => `s:${r.store}` === n.id).length;
    return `${n.label}\n${n.detail}\n${readers} read${readers === 1 ? '' : 's'}`;
  }
  const t = treeNodeOf(model, n);
  const lines = [n.kind === 'group' ? `${n.label}: ${n.count} instances` : `${n.label} (${n.detail})`];
  if (t) {
    const per = n.kind === 'instance' && BigInt(t.count) > 1n ? t.count : '1';
    const scope = per !== '1' ? ` per instance (run ${t.name} ×${t.count})` : '';
    lines.push(`stored ${groupDigits(t.params.stored)}${per !== '1' ? ` (whole run)` : ''}`);
    lines.push(`effective ${groupDigits(divideCount(t.params.effective, per))}${scope}`);
    lines.push(`active ${groupDigits(divideCount(t.params.active, per))}${scope}`);
    lines.push(`FLOPs/${model.flops.unit} ${formatFlops(divideCount(t.flopsPerToken, per))}`);
    if (BigInt(t.kvCacheBytes) > 0n) lines.push(`KV cache ${formatBytes(divideCount(t.kvCacheBytes, per))}`);
  }
  lines.push(...n.moe, ...n.notes);
  return lines.join('\n');
}

/** A text alternative: what the picture shows, in sentences. */
export function describe(model: ModelData): string {
  const s = model.structure;
  const parts = [`${model.name}: ${s.members.map((m) => (m.kind === 'stack' ? `${m.name} (${m.length} × ${m.runs.map((r) => r.type).join(', ')})` : `${m.name} (${m.type})`)).join(', ')}.`];
  for (const st of s.stores) {
    const readers = s.reads.filter((r) => r.store === st.id).map((r) => `${r.member}${r.index === null ? '' : `[${r.index}]`}${r.sub ? `.${r.sub}` : ''}`);
    parts.push(`Store ${st.label} (${st.declaration}) is read by ${readers.slice(0, 12).join(', ')}${readers.length > 12 ? ` and ${readers.length - 12} more` : ''}.`);
  }
  for (const k of s.kv) {
    const consumers = k.producerOf.filter((p, i) => p !== i).length;
    parts.push(`${k.member}: ${k.producerOf.length - consumers} instances produce KV, ${consumers} reuse it (${k.label}).`);
  }
  return parts.join(' ');
}
