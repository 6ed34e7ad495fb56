// The Allocation and Probe panes with results: an NPAS plan (from the real allocator, through
// the extension's planDashboardData) drawn as a layers × groups matrix, a probe result (through
// probeDashboardData) drawn against the roofline with the provider and a CPU fallback stated;
// validation that drops malformed plans and results (logged, never rendered); the app's message
// loop (`received` acknowledgements, state kept across reloads, SVG export of both panes).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocate, parseGrouping, parseMethod, readArchitecture } from '../../src/core/index.js';
import { planDashboardData } from '../../src/extension/allocation-view.js';
import { probeDashboardData } from '../../src/extension/probe-view.js';
import type { Measurement, ProbeResult } from '../../src/protocol/kernel-rpc.js';
import type { AllocationData, DashboardState, ProbeData, WebviewToHost } from '../../src/protocol/webview-messages.js';
import { startDashboard } from '../../webview/app.js';
import { checkAllocationData, checkHostMessage, checkProbeData, checkWebviewMessage, initialState, restoreState } from '../../webview/protocol.js';
import { generatorText, renderAllocation } from '../../webview/views/allocation.js';
import type { ViewContext } from '../../webview/views/context.js';
import { formatRate, renderProbe } from '../../webview/views/probe.js';
import { exampleData, exampleText, matchSnapshot, normaliseSvg, page } from './dom.js';

function plan(example: string, model: string, target: number, grouping: string, method: string): AllocationData {
  const arch = readArchitecture(exampleText(example), model);
  if (!arch.ok) throw new Error(arch.message);
  const g = parseGrouping(grouping);
  const m = parseMethod(method);
  if (typeof g === 'string' || typeof m === 'string') throw new Error('bad request');
  const r = allocate(arch.input, { target, grouping: g, method: m.method, maxTemplates: m.maxTemplates });
  if (!r.ok) throw new Error(r.message);
  return planDashboardData(r.plan, `${example}.npas`, `${model}_npas`);
}

const measurement = (medianMs: number, rooflineS: number): Measurement => ({
  medianMs,
  minMs: medianMs * 0.9,
  runs: 10,
  flops: '2000000000',
  bytes: '300000000',
  achievedFlopsPerSecond: 2e9 / (medianMs / 1000),
  achievedBytesPerSecond: 3e8 / (medianMs / 1000),
  roofline: { device: 'CPU', seconds: rooflineS, bound: 'compute' },
  efficiency: rooflineS / (medianMs / 1000),
});

const probeResult = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  model: 'WRN28_10',
  ortVersion: '1.29.0',
  requestedProvider: 'cpu',
  provider: 'cpu',
  fallback: undefined,
  dtype: 'fp32',
  batch: 1,
  seq: 128,
  storedParams: '36536884',
  initializerElements: '36536884',
  export: { ms: 30, bytes: 146_000_000, nodes: 400, initializers: 120, externalData: false },
  sessionCreateMs: 250,
  prefill: measurement(40, 0.002),
  decode: { ...measurement(3, 0.0004), kvCacheElements: '65536' },
  memory: { kind: 'host-rss-growth', bytes: 300 * 2 ** 20 },
  placement: { source: 'not-measured', nodesByProvider: {}, note: 'CPU only' },
  notes: ['attention computes the full square'],
  ...over,
});

const CPU_NOTE = 'CPU provider, as requested: these are CPU numbers, not GPU numbers.';
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function mount(render: typeof renderAllocation, patch: Partial<DashboardState>, example = 'ssn-wrn-28-10', model = 'WRN28_10') {
  const { root, document } = page();
  const data = exampleData(example);
  const state: DashboardState = { ...initialState(), data, model, ...patch };
  const tips: string[] = [];
  const ctx: ViewContext = {
    document,
    data,
    model: data.models.find((m) => m.name === model)!,
    state,
    update: () => undefined,
    reveal: () => undefined,
    hover: (t) => void (t !== null && tips.push(t)),
  };
  const rendered = render(root, ctx);
  return { root, document, rendered, tips };
}

function assertClean(root: HTMLElement): void {
  assert.equal(root.querySelectorAll('[style]').length, 0, 'no style attributes');
  assert.equal(root.querySelectorAll('script, foreignObject, iframe').length, 0);
}

describe('allocation results: validation', () => {
  const good = plan('ssn-wrn-28-10', 'WRN28_10', 3_650_000, 'shape', 'wavg');

  it('a real plan (WRN28_10 at 3.65M, shape) passes, with stored = target = stores + coefficients + fixed', () => {
    const r = checkAllocationData(clone(good));
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(good.stored, '3650000');
    assert.equal(BigInt(good.stores) + BigInt(good.coefficients) + BigInt(good.fixed), 3_650_000n);
    assert.ok(checkHostMessage({ type: 'allocation', result: clone(good) }).ok);
    assert.ok(checkHostMessage({ type: 'allocation', result: null }).ok, 'null still clears the pane');
  });

  it('malformed plans are refused with a reason', () => {
    const bad: [string, (p: any) => void, RegExp][] = [
      ['stored ≠ target', (p) => (p.stored = String(BigInt(p.stored) + 1n)), /is not the target/],
      ['totals that do not add up', (p) => (p.fixed = String(BigInt(p.fixed) + 1n)), /stores \+ coefficients \+ fixed|is not the target/],
      ['a group whose store is off', (p) => (p.groups[0].params = String(BigInt(p.groups[0].params) + 1n)), /groups do not add up/],
      ['a count as a number', (p) => (p.target = 3650000), /target is not an exact count/],
      ['a negative count', (p) => (p.groups[0].demand = '-5'), /demand is not an exact count/],
      ['a layer reading a missing group', (p) => (p.layers[0].group = 'nope'), /group the plan does not have/],
      ['a weight count that does not match the rows', (p) => (p.groups[0].weights += 1), /weights but/],
      ['an unknown generator', (p) => (p.layers[0].generator.kind = 'eval'), /generator is malformed/],
      ['zero templates', (p) => (p.layers[0].generator.templates = 0), /generator is malformed/],
      ['coefficients that do not add up', (p) => (p.layers[0].generator.coefficients += 1), /coefficients do not add up/],
      ['a duplicate group', (p) => p.groups.push(p.groups[0]), /listed twice/],
      ['no groups', (p) => (p.groups = []), /non-empty list/],
      ['an unknown method', (p) => (p.method = 'magic'), /method is unknown/],
      ['a shape with text', (p) => (p.layers[0].shape = ['3']), /shape is malformed/],
    ];
    for (const [what, f, why] of bad) {
      const p = clone(good) as any;
      f(p);
      const r = checkHostMessage({ type: 'allocation', result: p });
      assert.equal(r.ok, false, what);
      if (!r.ok) assert.match(r.error, why, what);
    }
    assert.equal(checkAllocationData('plan').ok, false);
    assert.equal(checkAllocationData([]).ok, false);
  });
});

describe('probe results: validation', () => {
  const good = probeDashboardData(probeResult(), 'ssn-wrn-28-10.npas', CPU_NOTE);

  it('a CPU result and a CUDA → CPU fallback pass; the fallback is carried', () => {
    assert.ok(checkProbeData(clone(good)).ok);
    const fb = probeDashboardData(probeResult({ requestedProvider: 'cuda', fallback: 'CPU FALLBACK: the CUDA provider is missing' }), 'x.npas', undefined);
    const r = checkProbeData(clone(fb));
    assert.ok(r.ok);
    assert.equal(fb.fallback, 'CPU FALLBACK: the CUDA provider is missing');
    const silent = probeDashboardData(probeResult({ requestedProvider: 'cuda' }), 'x.npas', undefined);
    assert.match(silent.fallback ?? '', /not the requested cuda/, 'a fallback the probe did not state is stated by the host');
  });

  it('malformed results are refused with a reason', () => {
    const bad: [string, (p: any) => void, RegExp][] = [
      ['a silent fallback', (p) => ((p.requestedProvider = 'cuda'), (p.fallback = null)), /without saying so/],
      ['an empty fallback', (p) => ((p.requestedProvider = 'cuda'), (p.fallback = ' ')), /fallback is malformed/],
      ['an unknown provider', (p) => (p.provider = 'tpu'), /unknown provider/],
      ['a negative latency', (p) => (p.phases[0].measuredMs = -1), /not durations/],
      ['NaN (null in JSON)', (p) => (p.phases[0].rooflineMs = Number.NaN), /no roofline/],
      ['min above median', (p) => (p.phases[0].minMs = p.phases[0].measuredMs + 1), /min ≤ median/],
      ['a phase not measured without a reason', (p) => ((p.phases[1].measuredMs = null), (p.phases[1].minMs = null), (p.phases[1].achievedFlopsPerSecond = null), (p.phases[1].achievedBytesPerSecond = null)), /does not say why/],
      ['no prefill', (p) => p.phases.shift(), /no measured prefill/],
      ['a repeated phase', (p) => (p.phases[1].phase = 'prefill'), /unknown or repeated/],
      ['three phases', (p) => p.phases.push(p.phases[1]), /one or two/],
      ['FLOPs as a number', (p) => (p.phases[0].flops = 2e9), /not an exact count/],
      ['a zero batch', (p) => (p.batch = 0), /positive integer/],
      ['notes that are not text', (p) => (p.notes = [1]), /notes are malformed/],
    ];
    for (const [what, f, why] of bad) {
      const p = clone(good) as any;
      f(p);
      const r = checkHostMessage({ type: 'probe', result: p });
      assert.equal(r.ok, false, what);
      if (!r.ok) assert.match(r.error, why, what);
    }
  });

  it('the webview acknowledges with `received`, validated on the host side', () => {
    assert.deepEqual(checkWebviewMessage({ type: 'received', kind: 'probe', model: 'M', rows: 2 }), { ok: true, value: { type: 'received', kind: 'probe', model: 'M', rows: 2 } });
    assert.equal(checkWebviewMessage({ type: 'received', kind: 'eval', model: 'M', rows: 2 }).ok, false);
    assert.equal(checkWebviewMessage({ type: 'received', kind: 'probe', model: 'M', rows: -1 }).ok, false);
  });
});

describe('allocation pane', () => {
  it('WRN28_10 at 3.65M (shape): layers × groups matrix, per-group numbers, exact total, tables; snapshot', () => {
    const p = plan('ssn-wrn-28-10', 'WRN28_10', 3_650_000, 'shape', 'wavg');
    const h = mount(renderAllocation, { allocation: p, view: 'allocation' });
    const svg = h.root.querySelector('svg.npas-allocation')!;
    assert.ok(svg);
    assert.equal(h.rendered.exportable, svg);
    assert.equal(svg.querySelectorAll('g.npas-alloc-row').length, p.layers.length);
    assert.equal(svg.querySelectorAll('g.npas-alloc-cell').length, p.layers.length, 'one generator cell per weight');
    assert.equal(svg.querySelectorAll('g.npas-alloc-group').length, p.groups.length);
    // Rows in model order, each cell in its group's column.
    const rows = [...svg.querySelectorAll('g.npas-alloc-row')];
    rows.forEach((r, i) => assert.equal(r.querySelector('g.npas-alloc-cell')!.getAttribute('data-group'), p.layers[i]!.group));
    const cell = svg.querySelector('g.npas-alloc-cell')!;
    assert.equal(cell.getAttribute('tabindex'), '0');
    assert.match(cell.getAttribute('aria-label')!, /reads group/);
    assert.match(h.root.querySelector('[data-field="alloc-total"]')!.textContent!, /^stored 3,650,000 = target 3,650,000 = stores [\d,]+ \+ coefficients [\d,]+ \+ fixed [\d,]+/);
    assert.match(h.root.querySelector('[data-field="alloc-unused"]')!.textContent!, /^0 store entries unread/);
    // Text alternative: every group and every weight, and the exact totals.
    const groupRows = h.root.querySelectorAll('table.npas-alloc-groups tbody tr');
    assert.equal(groupRows.length, p.groups.length);
    assert.equal(groupRows[0]!.querySelector('[data-field="params"]')!.textContent, Number(p.groups[0]!.params).toLocaleString('en-US'));
    assert.equal(h.root.querySelector('table.npas-alloc-groups [data-field="stored-target"]')!.textContent, '3,650,000');
    assert.equal(h.root.querySelectorAll('table.npas-alloc-layers tbody tr').length, p.layers.length);
    assertClean(h.root);
    matchSnapshot('allocation-ssn-wrn-28-10-WRN28_10-shape', normaliseSvg(svg.outerHTML));
  });

  it('generators read as K templates, whole, inter, repeat and hash', () => {
    assert.equal(generatorText({ kind: 'mix', templates: 8, coefficients: 8 }), 'mix K8');
    assert.equal(generatorText({ kind: 'direct', templates: 1, coefficients: 0 }), 'whole');
    assert.equal(generatorText({ kind: 'interpolate', templates: 1, coefficients: 0 }), 'inter');
    assert.equal(generatorText({ kind: 'tile', templates: 1, coefficients: 0 }), 'repeat');
    const hashed = plan('ssn-wrn-28-10', 'WRN28_10', 3_650_000, 'all', 'hash');
    const h = mount(renderAllocation, { allocation: hashed });
    assert.ok(h.root.querySelectorAll('g.npas-alloc-cell.npas-gen-hash').length > 0);
    assert.match(h.root.querySelector('g.npas-gen-hash text')!.textContent!, /^hash/);
  });

  it('a large plan (Gemma2B at 10%, depth:4) draws its rows and every column', () => {
    const p = plan('relaxed-recursive-gemma', 'Gemma2B', 250_617_241, 'depth:4', 'wavg');
    const h = mount(renderAllocation, { allocation: p }, 'relaxed-recursive-gemma', 'Gemma2B');
    assert.equal(h.root.querySelectorAll('g.npas-alloc-row').length, Math.min(400, p.layers.length));
    assert.equal(h.root.querySelectorAll('g.npas-alloc-group').length, Math.min(40, p.groups.length));
    assert.ok(h.root.querySelectorAll('g.npas-gen-mix').length > 0, 'template mixes at 10%');
    assertClean(h.root);
  });

  it('a plan for another model than the picker names says so', () => {
    const p = plan('ssn-wrn-28-10', 'WRN28_10', 3_650_000, 'shape', 'wavg');
    const h = mount(renderAllocation, { allocation: p }, 'ssn-wrn-28-10', 'WRN28_10_SSN10');
    assert.match(h.root.textContent!, /This plan is for WRN28_10; the model picker shows WRN28_10_SSN10/);
  });
});

describe('probe pane', () => {
  it('CPU as requested: measured against the roofline for prefill and decode, the CPU stated; table; snapshot', () => {
    const d = probeDashboardData(probeResult(), 'ssn-wrn-28-10.npas', CPU_NOTE);
    const h = mount(renderProbe, { probe: d, view: 'probe' });
    const svg = h.root.querySelector('svg.npas-probe')!;
    assert.ok(svg);
    assert.equal(h.rendered.exportable, svg);
    assert.equal(svg.querySelectorAll('g.npas-probe-phase').length, 2);
    assert.equal(svg.querySelectorAll('rect.npas-measured').length, 2);
    assert.equal(svg.querySelectorAll('rect.npas-roofline').length, 2);
    for (const g of svg.querySelectorAll('g.npas-probe-phase')) assert.equal(g.getAttribute('tabindex'), '0');
    assert.equal(h.root.querySelector('[data-field="probe-cpu"]')!.textContent, CPU_NOTE);
    assert.equal(h.root.querySelector('.npas-fallback'), null);
    const prefill = h.root.querySelector('table.npas-probe-table tr[data-phase="prefill"]')!;
    assert.equal(prefill.querySelector('[data-field="measured"]')!.textContent, '40.0 ms');
    assert.equal(prefill.querySelector('[data-field="roofline"]')!.textContent, '2.00 ms');
    assert.equal(prefill.querySelector('[data-field="efficiency"]')!.textContent, '5.0%');
    assert.equal(prefill.querySelector('[data-field="flops-rate"]')!.textContent, formatRate(5e10, 'FLOP/s'));
    assert.equal(prefill.querySelector('[data-field="bytes-rate"]')!.textContent, '7.5 GB/s');
    assert.match(h.root.querySelector('[data-field="probe-weights"]')!.textContent!, /36,536,884 initializer elements = params\.stored/);
    assert.match(h.root.textContent!, /attention computes the full square/);
    assertClean(h.root);
    matchSnapshot('probe-cpu-WRN28_10', normaliseSvg(svg.outerHTML));
  });

  it('a CUDA → CPU fallback is an alert above everything, in the heading and the caption', () => {
    const d = probeDashboardData(probeResult({ requestedProvider: 'cuda', fallback: 'the CUDA provider is not installed' }), 'x.npas', undefined);
    const h = mount(renderProbe, { probe: d });
    const alert = h.root.firstElementChild!;
    assert.equal(alert.getAttribute('role'), 'alert');
    assert.match(alert.textContent!, /^!!! CPU FALLBACK: the CUDA provider is not installed — requested CUDA, ran on CPU; these are CPU numbers, not CUDA numbers\.$/);
    assert.match(h.root.querySelector('h3')!.textContent!, /on CPU \(FALLBACK\)/);
    assert.match(h.root.querySelector('table.npas-probe-table caption')!.textContent!, /FALLBACK/);
    // The probe host's own wording starts with "CPU FALLBACK:"; it is not said twice.
    const own = probeDashboardData(probeResult({ requestedProvider: 'cuda', fallback: 'CPU FALLBACK: the CUDA provider is not installed, so this probe ran on the CPU provider.' }), 'x.npas', undefined);
    const h2 = mount(renderProbe, { probe: own });
    assert.match(h2.root.querySelector('[role="alert"]')!.textContent!, /^!!! CPU FALLBACK: the CUDA provider is not installed, so this probe ran on the CPU provider\. — requested CUDA/);
  });

  it('a measured decode step states its KV cache and recurrent-state elements from the probe result; validation checks them', () => {
    // A hybrid model's step (Mamba layers beside attention): both counts as the probe host reported them.
    const hybrid = probeDashboardData(probeResult({ decode: { ...measurement(3, 0.0004), kvCacheElements: '65536', recurrentStateElements: '1572864' } }), 'x.npas', CPU_NOTE);
    assert.deepEqual(hybrid.phases[1]!.stepState, { kvCacheElements: '65536', recurrentStateElements: '1572864' });
    assert.equal(hybrid.phases[0]!.stepState, undefined, 'the prefill carries no step state');
    assert.ok(checkProbeData(clone(hybrid)).ok);
    const h = mount(renderProbe, { probe: hybrid });
    assert.equal(h.root.querySelector('[data-field="probe-decode"]')!.textContent, 'the step reads a KV cache of 65,536 elements; recurrent state 1,572,864 elements (Mamba, Mamba-2, Gated DeltaNet states, read and written each step)');
    // A model without recurrent layers (the host omits the field): said, not left out.
    const plain = mount(renderProbe, { probe: probeDashboardData(probeResult(), 'x.npas', CPU_NOTE) });
    assert.equal(plain.root.querySelector('[data-field="probe-decode"]')!.textContent, 'the step reads a KV cache of 65,536 elements; no recurrent state');
    // An unmeasured step has none; a result saved before the field existed still validates and draws.
    const unmeasured = probeDashboardData(probeResult({ decode: { unavailable: 'no decode step', roofline: { device: 'CPU', seconds: 0.001, bound: 'memory', flops: '100', bytes: '200' } } }), 'x.npas', CPU_NOTE);
    assert.equal(unmeasured.phases[1]!.stepState, undefined);
    assert.equal(mount(renderProbe, { probe: unmeasured }).root.querySelector('[data-field="probe-decode"]'), null);
    const old = clone(hybrid) as unknown as { phases: { stepState?: unknown }[] };
    delete old.phases[1]!.stepState;
    assert.ok(checkProbeData(old).ok);
    // Malformed counts, or a state on the prefill, are refused.
    const bad = clone(hybrid) as unknown as { phases: { stepState?: unknown }[] };
    bad.phases[1]!.stepState = { kvCacheElements: '65536', recurrentStateElements: 1572864 };
    assert.equal(checkProbeData(bad).ok, false);
    const misplaced = clone(hybrid) as unknown as { phases: { stepState?: unknown }[] };
    misplaced.phases[0]!.stepState = { kvCacheElements: '1', recurrentStateElements: '0' };
    assert.equal(checkProbeData(misplaced).ok, false);
  });

  it('a decode step that was not measured keeps its roofline and says why', () => {
    const r = probeResult({ decode: { unavailable: 'a bidirectional model has no decode step', roofline: { device: 'CPU', seconds: 0.001, bound: 'memory', flops: '100', bytes: '200' } } });
    const d = probeDashboardData(r, 'x.npas', CPU_NOTE);
    assert.ok(checkProbeData(clone(d)).ok);
    const h = mount(renderProbe, { probe: d });
    assert.equal(h.root.querySelectorAll('svg.npas-probe rect.npas-measured').length, 1);
    assert.equal(h.root.querySelectorAll('svg.npas-probe rect.npas-roofline').length, 2);
    assert.match(h.root.querySelector('tr[data-phase="decode"] [data-field="measured"]')!.textContent!, /not measured: a bidirectional model has no decode step/);
  });
});

describe('dashboard app with results', () => {
  function harness(saved?: unknown) {
    const { root, window } = page();
    const posted: WebviewToHost[] = [];
    const logs: string[] = [];
    let state: DashboardState | undefined;
    const app = startDashboard(root, { post: (m) => posted.push(m), getState: () => saved, setState: (s) => (state = s), standalone: false, log: (m) => logs.push(m) });
    return { app, root, window, posted, logs, saved: () => state };
  }

  it('draws a plan and a probe result, acknowledges each with `received`, keeps them across a reload', async () => {
    const h = harness();
    h.app.receive({ type: 'update', data: exampleData('ssn-wrn-28-10') });
    const p = plan('ssn-wrn-28-10', 'WRN28_10', 3_650_000, 'shape', 'wavg');
    assert.equal(h.app.receive({ type: 'allocation', result: p }), true);
    assert.equal(h.posted.filter((m) => m.type === 'received').length, 0, 'not drawn yet: the Architecture view is showing');
    h.app.receive({ type: 'show', view: 'allocation', model: 'WRN28_10' });
    assert.ok(h.root.querySelector('svg.npas-allocation'));
    assert.deepEqual(h.posted.at(-1), { type: 'received', kind: 'allocation', model: 'WRN28_10', rows: p.layers.length });
    h.app.receive({ type: 'show', view: 'allocation' });
    assert.equal(h.posted.filter((m) => m.type === 'received').length, 1, 'once per result, not per redraw');
    assert.equal(h.root.querySelector('#npas-export-svg')!.hasAttribute('disabled'), false, 'the matrix can be exported');
    await h.app.exportView('svg');
    const exported = h.posted.at(-1);
    assert.equal(exported?.type, 'export');
    if (exported?.type === 'export') {
      assert.equal(exported.fileName, 'WRN28_10-allocation.svg');
      assert.match(exported.data, /^<svg[^>]*class|^<svg/);
      assert.match(exported.data, /mix|whole|slice/);
    }

    const d: ProbeData = probeDashboardData(probeResult(), 'ssn-wrn-28-10.npas', CPU_NOTE);
    assert.equal(h.app.receive({ type: 'probe', result: d }), true);
    h.app.receive({ type: 'show', view: 'probe' });
    assert.ok(h.root.querySelector('svg.npas-probe'));
    assert.deepEqual(h.posted.at(-1), { type: 'received', kind: 'probe', model: 'WRN28_10', rows: 2 });
    await h.app.exportView('svg');
    assert.equal((h.posted.at(-1) as { fileName?: string }).fileName, 'WRN28_10-probe.svg');

    // A reload (panel serializer): the saved state brings both back, validated again.
    const saved = JSON.parse(JSON.stringify(h.saved()));
    const again = harness(saved);
    assert.ok(again.root.querySelector('svg.npas-probe'));
    assert.equal(again.app.state().allocation?.stored, '3650000');
    assert.deepEqual(again.posted.filter((m) => m.type === 'received'), [], 'a restored result was not received from the host: no acknowledgement');
    assert.equal(restoreState({ ...saved, allocation: { ...saved.allocation, stored: '1' } }).allocation, null, 'a tampered saved plan is dropped');
  });

  it('a malformed plan or result is logged and dropped, never drawn; the last good one stays', () => {
    const h = harness();
    h.app.receive({ type: 'update', data: exampleData('ssn-wrn-28-10') });
    const p = plan('ssn-wrn-28-10', 'WRN28_10', 3_650_000, 'shape', 'wavg');
    h.app.receive({ type: 'allocation', result: p });
    h.app.receive({ type: 'show', view: 'allocation' });
    const before = h.root.innerHTML;
    const posted = h.posted.length;
    const tampered = { ...clone(p), stored: '3650001' };
    const silent = { ...clone(probeDashboardData(probeResult(), 'x.npas', undefined)), requestedProvider: 'cuda' as const, fallback: null };
    const xss = { ...clone(p), model: '<img src=x onerror=alert(1)>', layers: [{ ...p.layers[0]!, generator: { kind: '<script>', templates: 1, coefficients: 0 } }] };
    for (const bad of [{ type: 'allocation', result: tampered }, { type: 'probe', result: silent }, { type: 'allocation', result: xss }, { type: 'probe', result: 'measured' }]) {
      assert.equal(h.app.receive(bad), false);
    }
    assert.equal(h.logs.length, 4);
    assert.ok(h.logs.every((l) => /^dropped a malformed message: (allocation|probe): /.test(l)), h.logs.join('\n'));
    const after = h.posted.slice(posted);
    assert.equal(after.length, 4);
    assert.ok(after.every((m) => m.type === 'log' && m.level === 'warn'), 'logged to the host, no `received`');
    assert.equal(h.root.innerHTML, before, 'nothing redrawn');
    assert.equal(h.app.state().allocation?.stored, '3650000');
    assert.equal(h.root.querySelectorAll('img, script').length, 0);
  });

  it('`result: null` clears a pane back to its "nothing yet" text', () => {
    const h = harness();
    h.app.receive({ type: 'update', data: exampleData('ssn-wrn-28-10') });
    h.app.receive({ type: 'probe', result: probeDashboardData(probeResult(), 'x.npas', CPU_NOTE) });
    h.app.receive({ type: 'show', view: 'probe' });
    assert.ok(h.root.querySelector('svg.npas-probe'));
    h.app.receive({ type: 'probe', result: null });
    assert.match(h.root.textContent!, /No probe results yet/);
    assert.equal(h.root.querySelector('#npas-export-svg')!.hasAttribute('disabled'), true);
  });
});
