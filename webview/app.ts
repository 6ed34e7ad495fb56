// The dashboard application: chrome (model picker, view tabs, export, theme toggle), the
// message loop with validation, persisted state, and the views. Independent of how it is
// hosted: main.ts connects it to VS Code's webview API or to the standalone report's embedded
// data; tests drive it directly in jsdom.

import type { Range } from '../src/core/layout/types.js';
import { PROTOCOL_VERSION, VIEW_IDS, type DashboardState, type ViewId, type WebviewToHost } from '../src/protocol/webview-messages.js';
import { pngFromSvg, svgForExport } from './export.js';
import { formatBytes, formatFlops, formatSeconds, groupDigits } from './format.js';
import { checkHostMessage, reduce, restoreState } from './protocol.js';
import { renderAllocation } from './views/allocation.js';
import { renderArchitecture } from './views/architecture.js';
import { renderBudget } from './views/budget.js';
import { renderPlan } from './views/plan.js';
import type { RenderedView, View, ViewContext } from './views/context.js';
import { renderProbe } from './views/probe.js';
import { renderVariants } from './views/variants.js';

export interface DashboardHost {
  readonly post: (message: WebviewToHost) => void;
  readonly getState: () => unknown;
  readonly setState: (state: DashboardState) => void;
  /** The standalone report: a theme toggle, and exports download instead of going to the host. */
  readonly standalone: boolean;
  /** Where a malformed message is logged (console.warn by default). */
  readonly log?: (message: string) => void;
}

export interface Dashboard {
  /** Feed one incoming message (anything: it is validated, and dropped if malformed). */
  receive(message: unknown): boolean;
  state(): DashboardState;
  /** Export the current view's chart. */
  exportView(format: 'svg' | 'png'): Promise<void>;
}

const VIEWS: Record<ViewId, { label: string; render: View }> = {
  architecture: { label: 'Architecture', render: renderArchitecture },
  budget: { label: 'Budget', render: renderBudget },
  variants: { label: 'Variants', render: renderVariants },
  plan: { label: 'Plan', render: renderPlan },
  allocation: { label: 'Allocation', render: renderAllocation },
  probe: { label: 'Probe', render: renderProbe },
};

export function startDashboard(root: HTMLElement, host: DashboardHost): Dashboard {
  const doc = root.ownerDocument;
  const win = doc.defaultView as Window & typeof globalThis;
  let state = restoreState(host.getState());
  let error: string | null = null;
  let rendered: RenderedView = { exportable: null };
  const log = host.log ?? ((m: string) => win.console.warn(`npas dashboard: ${m}`));

  root.replaceChildren();
  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, parent: HTMLElement): HTMLElementTagNameMap[K] => {
    const e = doc.createElement(tag);
    e.className = cls;
    parent.append(e);
    return e;
  };
  const toolbar = el('div', 'npas-toolbar', root);
  const modelLabel = el('label', 'npas-caption', toolbar);
  modelLabel.textContent = 'model';
  modelLabel.htmlFor = 'npas-model';
  const modelSelect = el('select', 'npas-select', toolbar);
  modelSelect.id = 'npas-model';
  const tabs = el('div', 'npas-tabs', toolbar);
  tabs.setAttribute('role', 'tablist');
  tabs.setAttribute('aria-label', 'Dashboard views');
  const tabButtons = new Map<ViewId, HTMLButtonElement>();
  for (const id of VIEW_IDS) {
    const b = el('button', 'npas-tab', tabs);
    b.type = 'button';
    b.id = `npas-tab-${id}`;
    b.dataset.view = id;
    b.setAttribute('role', 'tab');
    b.setAttribute('aria-controls', 'npas-view');
    b.textContent = VIEWS[id].label;
    b.addEventListener('click', () => set({ view: id }));
    b.addEventListener('keydown', (e) => {
      const i = VIEW_IDS.indexOf(id);
      const next = e.key === 'ArrowRight' ? VIEW_IDS[(i + 1) % VIEW_IDS.length] : e.key === 'ArrowLeft' ? VIEW_IDS[(i + VIEW_IDS.length - 1) % VIEW_IDS.length] : undefined;
      if (next) {
        e.preventDefault();
        set({ view: next });
        tabButtons.get(next)?.focus();
      }
    });
    tabButtons.set(id, b);
  }
  el('span', 'npas-spacer', toolbar);
  // <vscode-button> from @vscode-elements/elements (registered by main.ts): themed, keyboard
  // operable (Enter, Space), and a plain element with the same id and click in jsdom.
  const button = (id: string, label: string): HTMLElement => {
    const b = doc.createElement('vscode-button');
    b.id = id;
    b.className = 'npas-control';
    b.setAttribute('secondary', '');
    b.textContent = label;
    toolbar.append(b);
    return b;
  };
  const exportSvg = button('npas-export-svg', 'Export SVG');
  const exportPng = button('npas-export-png', 'Export PNG');
  exportSvg.addEventListener('click', () => void exportView('svg'));
  exportPng.addEventListener('click', () => void exportView('png'));
  if (host.standalone) {
    const theme = button('npas-theme', '');
    const apply = (): void => {
      const dark = (state.theme ?? (doc.body.classList.contains('vscode-light') ? 'light' : 'dark')) === 'dark';
      doc.body.classList.toggle('vscode-dark', dark);
      doc.body.classList.toggle('vscode-light', !dark);
      doc.body.dataset.vscodeThemeKind = dark ? 'vscode-dark' : 'vscode-light';
      theme.textContent = dark ? 'Light theme' : 'Dark theme';
      theme.setAttribute('aria-label', `Switch to the ${dark ? 'light' : 'dark'} theme`);
    };
    theme.addEventListener('click', () => {
      const dark = doc.body.classList.contains('vscode-dark');
      state = { ...state, theme: dark ? 'light' : 'dark' };
      host.setState(state);
      apply();
    });
    apply();
  }
  modelSelect.addEventListener('change', () => set({ model: modelSelect.value }));
  const summary = el('div', 'npas-summary', root);
  summary.setAttribute('aria-live', 'polite');
  const viewRoot = el('div', 'npas-view', root);
  viewRoot.id = 'npas-view';
  viewRoot.setAttribute('role', 'tabpanel');
  const tooltip = el('div', 'npas-tooltip npas-hidden', root);
  tooltip.setAttribute('role', 'tooltip');
  tooltip.id = 'npas-tooltip';

  const hover = (text: string | null, x = 0, y = 0): void => {
    if (text === null) {
      tooltip.classList.add('npas-hidden');
      return;
    }
    tooltip.textContent = text;
    tooltip.classList.remove('npas-hidden');
    // Positioned through the CSSOM, which the CSP allows (style attributes are never written).
    tooltip.style.setProperty('left', `${Math.round(x + 12)}px`);
    tooltip.style.setProperty('top', `${Math.round(y + 12)}px`);
  };
  const reveal = (range: Range): void => host.post({ type: 'reveal', range: { start: range.start, end: range.end } });

  function set(patch: Partial<DashboardState>): void {
    state = { ...state, ...patch };
    host.setState(state);
    render();
  }

  function render(): void {
    for (const [id, b] of tabButtons) {
      b.setAttribute('aria-selected', String(id === state.view));
      b.tabIndex = id === state.view ? 0 : -1;
    }
    viewRoot.setAttribute('aria-labelledby', `npas-tab-${state.view}`);
    hover(null);
    rendered.dispose?.();
    rendered = { exportable: null };
    for (const b of [exportSvg, exportPng]) b.setAttribute('disabled', '');
    const data = state.data;
    summary.replaceChildren();
    if (error) {
      const p = el('p', 'npas-error', summary);
      p.setAttribute('role', 'alert');
      p.textContent = error;
    }
    if (!data) {
      viewRoot.replaceChildren();
      el('p', 'npas-empty', viewRoot).textContent = 'Waiting for the analysis of the spec…';
      rendered = { exportable: null };
      return;
    }
    const names = data.models.map((m) => m.name);
    if (modelSelect.options.length !== names.length || names.some((n, i) => modelSelect.options[i]?.value !== n)) {
      modelSelect.replaceChildren(
        ...data.models.map((m) => {
          const o = doc.createElement('option');
          o.value = m.name;
          o.textContent = m.kind === 'variant' ? `${m.name} (variant of ${m.base})` : m.name;
          return o;
        }),
      );
    }
    const model = data.models.find((m) => m.name === state.model) ?? data.models[0];
    if (!model) {
      viewRoot.replaceChildren();
      const p = el('p', 'npas-empty', viewRoot);
      p.textContent = data.diagnostics.errors > 0 ? `The spec has ${data.diagnostics.errors} error(s): ${data.diagnostics.messages.join('; ')}` : 'The spec declares no model.';
      rendered = { exportable: null };
      return;
    }
    modelSelect.value = model.name;
    summarise(model);
    const ctx: ViewContext = { document: doc, data, model, state, update: set, reveal, hover };
    try {
      rendered = VIEWS[state.view].render(viewRoot, ctx);
    } catch (e) {
      viewRoot.replaceChildren();
      el('p', 'npas-error', viewRoot).textContent = `This view could not be drawn: ${e instanceof Error ? e.message : String(e)}`;
      host.post({ type: 'log', level: 'error', message: `render ${state.view}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` });
      rendered = { exportable: null };
    }
    for (const b of [exportSvg, exportPng]) b.toggleAttribute('disabled', rendered.exportable === null);
    acknowledge();
  }

  // Tell the host once when a (validated) result it sent has been drawn in its pane: what its tests
  // wait on. A result restored from the saved state after a reload was not received from the host
  // and is not acknowledged again: an acknowledgement of the previous plan, while the host's new one
  // still waits for the page to be ready, read as the new plan drawn (a flaky screenshot test).
  let acknowledged: { allocation: unknown; probe: unknown } = { allocation: state.allocation, probe: state.probe };
  function acknowledge(): void {
    if (rendered.exportable === null) return;
    if (state.view === 'allocation' && state.allocation && acknowledged.allocation !== state.allocation) {
      acknowledged = { ...acknowledged, allocation: state.allocation };
      host.post({ type: 'received', kind: 'allocation', model: state.allocation.model, rows: state.allocation.layers.length });
    }
    if (state.view === 'probe' && state.probe && acknowledged.probe !== state.probe) {
      acknowledged = { ...acknowledged, probe: state.probe };
      host.post({ type: 'received', kind: 'probe', model: state.probe.model, rows: state.probe.phases.length });
    }
  }

  function summarise(m: NonNullable<DashboardState['data']>['models'][number]): void {
    const item = (label: string, field: string, value: string): void => {
      const s = el('span', '', summary);
      s.append(`${label} `);
      const b = doc.createElement('b');
      b.dataset.field = field;
      b.textContent = value;
      s.append(b);
    };
    item('stored', 'stored', groupDigits(m.params.stored));
    item('effective', 'effective', groupDigits(m.params.effective));
    item('active', 'active', groupDigits(m.params.active));
    item('trainable', 'trainable', groupDigits(m.params.trainable));
    // Beside stored and active: the dense size Clark et al.'s fit equates this routed model with.
    if (m.routedEffective) {
      item('routed effective', 'routed-effective', m.routedEffective.summary);
      summary.lastElementChild?.setAttribute('title', m.routedEffective.basis);
    }
    item('KV cache', 'kv', formatBytes(m.kvCacheBytes));
    if (BigInt(m.recurrentStateBytes) > 0n) item('recurrent state', 'state', formatBytes(m.recurrentStateBytes));
    item('weights', 'weights', formatBytes(m.memory.weightBytes));
    item(m.flops.unit === 'sample' ? 'FLOPs/sample' : 'decode', 'decode', `${formatFlops(m.flops.unit === 'sample' ? m.flops.prefill : m.flops.decode)}`);
    item(`${m.latency.device} decode`, 'latency', formatSeconds(m.latency.decodeSeconds));
    // A decode step of the batch, and a prefill of its B·S tokens, read every expert any of their
    // tokens chose (expected: uniform routing or the layer's skewed load).
    for (const r of m.routing ?? []) {
      item(`experts read per step (top-${r.topK} of ${r.experts})`, 'experts', r.expectedDistinct);
      item(`experts read per prefill (top-${r.topK} of ${r.experts})`, 'experts', r.prefillTouched);
    }
    // Parallel streams: the weights are read once per step for all of them (docs/language.md).
    if (m.parallel) item(m.parallel.cache === 'shared' ? 'workers on one cache' : 'parallel streams', 'streams', `×${m.parallel.streams}`);
    // A prompt shared by continuations: what each packed sequence computes (the Budget pane draws its mask).
    if (m.sharedPrefix) item('shared prompt', 'shared-prompt', `${groupDigits(m.sharedPrefix.tokens)} + ${m.sharedPrefix.continuations} × ${groupDigits((m.sharedPrefix.computedTokens - m.sharedPrefix.tokens) / m.sharedPrefix.continuations)} tokens`);
    const failed = m.budgets.filter((b) => !b.ok).length;
    if (m.budgets.length) item('budgets', 'budgets', failed ? `${failed} of ${m.budgets.length} violated` : `${m.budgets.length} met`);
    const o = state.data!.options;
    const s = el('span', '', summary);
    s.textContent = `at seq ${o.seq}, batch ${o.batch}, ${o.dtype}`;
  }

  async function exportView(format: 'svg' | 'png'): Promise<void> {
    const svg = rendered.exportable;
    if (!svg) return;
    const base = `${(state.model ?? 'model').replace(/[^\w.-]/g, '_')}-${state.view}`;
    const text = svgForExport(svg, win);
    const data = format === 'svg' ? text : await pngFromSvg(text, Number(svg.getAttribute('width')), Number(svg.getAttribute('height')), win);
    const fileName = `${base}.${format}`;
    if (!host.standalone) {
      host.post({ type: 'export', format, fileName, data });
      return;
    }
    const a = doc.createElement('a');
    a.download = fileName;
    const url = format === 'svg' ? win.URL.createObjectURL(new win.Blob([data], { type: 'image/svg+xml' })) : data;
    a.href = url;
    a.click();
    if (format === 'svg') win.setTimeout(() => win.URL.revokeObjectURL(url), 10_000);
  }

  function receive(raw: unknown): boolean {
    const checked = checkHostMessage(raw);
    if (!checked.ok) {
      log(`dropped a malformed message: ${checked.error}`);
      host.post({ type: 'log', level: 'warn', message: `dropped a malformed message: ${checked.error}` });
      return false;
    }
    const msg = checked.value;
    error = msg.type === 'error' ? msg.message : msg.type === 'update' ? null : error;
    state = reduce(state, msg);
    host.setState(state);
    render();
    return true;
  }

  render();
  return { receive, state: () => state, exportView };
}

export { PROTOCOL_VERSION };
