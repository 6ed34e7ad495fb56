// Validation of every message crossing the host ↔ webview boundary, and of persisted state.
// DOM-free, so the extension host can import it too. A message that fails is reported with a
// reason and must be dropped by the caller; nothing here throws on any input.

import { LAYER_CLASSES } from '../src/core/layout/layer-classes.js';
import type { DashboardData, MaterialisedBecause } from '../src/core/layout/types.js';
import {
  ALLOCATION_GENERATOR_KINDS,
  VIEW_IDS,
  PROTOCOL_VERSION,
  type AllocationData,
  type DashboardState,
  type ProbeData,
  type HostToWebview,
  type ViewId,
  type WebviewToHost,
} from '../src/protocol/webview-messages.js';

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

type Obj = Record<string, unknown>;
/** The reasons a factorised W is materialised whatever the costs (the report's `materialisedBecause`). */
const MATERIALISED_BECAUSE: Readonly<Record<MaterialisedBecause, true>> = { 'sparse mask': true, kernel: true, 'rebuilt by its layer': true };
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is string => typeof x === 'string' && /^\d{1,400}$/.test(x);
// A per-token figure is an exact decimal, or a quotient whose decimal does not terminate (a sequence of
// 3,000 tokens, a generation cost spread over a step): then its first places and a trailing '…'
// (the core's toDecimalString).
const isDecimal = (x: unknown): x is string => typeof x === 'string' && /^-?\d{1,400}(\.\d{1,400}…?)?$/.test(x);
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isStr = (x: unknown, max = 10_000): x is string => typeof x === 'string' && x.length <= max;
const isRange = (x: unknown): boolean => isObj(x) && isInt(x.start) && isInt(x.end) && x.end >= x.start;
const isView = (x: unknown): x is ViewId => typeof x === 'string' && (VIEW_IDS as readonly string[]).includes(x);
const fail = <T>(error: string): Checked<T> => ({ ok: false, error });

function countsError(x: unknown, where: string): string | undefined {
  if (!isObj(x)) return `${where} is not an object`;
  for (const k of ['stored', 'effective', 'active', 'trainable']) if (!isCount(x[k])) return `${where}.${k} is not an exact count`;
  return undefined;
}

function treeError(x: unknown, where: string, depth: number, budget: { nodes: number }): string | undefined {
  if (depth > 64) return `${where} is nested too deeply`;
  if (--budget.nodes < 0) return 'the report tree is too large';
  if (!isObj(x)) return `${where} is not an object`;
  if (!isStr(x.name, 1000) || !isStr(x.type, 1000)) return `${where} has no name or type`;
  if (!['model', 'stack', 'block', 'layer', 'weight'].includes(x.kind as string)) return `${where}.kind is unknown`;
  if (!isCount(x.count) || !isCount(x.firstIndex)) return `${where}.count or firstIndex is not an exact count`;
  const c = countsError(x.params, `${where}.params`);
  if (c) return c;
  if (!isCount(x.flopsPerToken) || !isCount(x.kvCacheBytes)) return `${where} has no exact FLOPs or KV bytes`;
  if (!isRange(x.range)) return `${where}.range is not a range`;
  if (!Array.isArray(x.children)) return `${where}.children is not a list`;
  for (let i = 0; i < x.children.length; i++) {
    const e = treeError(x.children[i], `${where}.children[${i}]`, depth + 1, budget);
    if (e) return e;
  }
  return undefined;
}

const CLASS_IDS: ReadonlySet<string> = new Set(LAYER_CLASSES.map((c) => c.id));

function isClassList(x: unknown): boolean {
  return Array.isArray(x) && x.every((c) => typeof c === 'string' && CLASS_IDS.has(c));
}

function structureError(x: unknown, where: string): string | undefined {
  if (!isObj(x)) return `${where} is not an object`;
  for (const k of ['members', 'stores', 'reads', 'kv', 'notes']) if (!Array.isArray(x[k])) return `${where}.${k} is not a list`;
  for (const m of x.members as unknown[]) {
    if (!isObj(m) || !isStr(m.name, 1000) || !isCount(m.length) || !Array.isArray(m.runs) || !isRange(m.range)) return `${where}.members has a malformed member`;
    if (!['layer', 'block', 'stack'].includes(m.kind as string)) return `${where}.members has an unknown kind`;
    for (const r of m.runs as unknown[]) if (!isObj(r) || !isCount(r.count) || !isCount(r.firstIndex) || !isStr(r.type, 1000) || !Array.isArray(r.moe) || typeof r.kv !== 'boolean' || !isClassList(r.classes)) return `${where}.members has a malformed run`;
  }
  if (!Array.isArray(x.classes) || !x.classes.every((c: unknown) => isObj(c) && isClassList([c.id]) && Array.isArray(c.kinds) && c.kinds.every((k: unknown) => isStr(k, 100)))) return `${where}.classes is malformed`;
  const ids = new Set<string>();
  for (const s of x.stores as unknown[]) {
    if (!isObj(s) || !isStr(s.id, 1000) || !isStr(s.label, 1000) || !isStr(s.declaration) || !isRange(s.range)) return `${where}.stores has a malformed store`;
    ids.add(s.id);
  }
  for (const r of x.reads as unknown[]) {
    if (!isObj(r) || !isStr(r.store) || !ids.has(r.store) || !isStr(r.member, 1000) || !(r.index === null || isInt(r.index)) || !isStr(r.sub, 1000)) return `${where}.reads has a malformed read`;
  }
  for (const k of x.kv as unknown[]) {
    if (!isObj(k) || !isStr(k.member, 1000) || !isStr(k.label, 1000) || !Array.isArray(k.producerOf) || !k.producerOf.every(isInt) || !isRange(k.range)) return `${where}.kv is malformed`;
  }
  for (const n of x.notes as unknown[]) {
    if (!isObj(n) || !isStr(n.member, 1000) || !isStr(n.label, 1000) || !(n.index === null || isInt(n.index)) || !isRange(n.range)) return `${where}.notes is malformed`;
  }
  return undefined;
}

const PLAN_BYTES = ['weights', 'gradients', 'optimizer', 'activations', 'loss', 'buffers', 'total'] as const;
const isSeconds = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/** A model's evaluated plan declarations (the Plan pane): exact bytes, finite times. */
function plansError(x: unknown, where: string): string | undefined {
  if (!Array.isArray(x) || x.length > 100) return `${where} is not a list`;
  for (const p of x as unknown[]) {
    if (!isObj(p) || !isRange(p.range) || !isStr(p.layout, 1000) || !isStr(p.schedule, 1000) || !isStr(p.device, 64) || !isCount(p.deviceBytes) || typeof p.fits !== 'boolean') return `${where} has a malformed plan`;
    if (!Array.isArray(p.problems) || !p.problems.every((m) => isStr(m, 2000))) return `${where} has malformed problems`;
    if (!Array.isArray(p.stages) || p.stages.length > 4096) return `${where} has malformed stages`;
    for (const g of p.stages as unknown[]) {
      if (!isObj(g) || !isInt(g.rank) || !isStr(g.holds) || typeof g.fits !== 'boolean' || !isObj(g.bytes) || !PLAN_BYTES.every((k) => isCount((g.bytes as Obj)[k]))) return `${where} has a malformed stage`;
    }
    const st = p.step;
    if (!isObj(st) || !isSeconds(st.seconds) || !Array.isArray(st.parts) || !st.parts.every((q) => isObj(q) && isStr(q.name, 100) && isSeconds(q.seconds))) return `${where} has a malformed step`;
    if (!isSeconds(p.mfu) || !isSeconds(p.tokensPerSecond)) return `${where} has a malformed MFU or throughput`;
  }
  return undefined;
}

const isMultiplier = (x: unknown): boolean => isObj(x) && isStr(x.formula, 200) && typeof x.value === 'number' && Number.isFinite(x.value) && (x.target === null || (typeof x.target === 'number' && Number.isFinite(x.target)));

/** A prompt shared by continuations (optional: absent without the setting); the pane divides by its counts. */
function sharedPrefixError(x: unknown, where: string): string | undefined {
  if (x === undefined) return undefined;
  if (!isObj(x)) return `${where} is not an object`;
  if (![x.tokens, x.continuations, x.computedTokens, x.unsharedTokens].every((n) => isInt(n) && (n as number) >= 1)) return `${where} has a malformed token count`;
  if (!['prefillFlops', 'unsharedPrefillFlops', 'kvCacheBytes', 'unsharedKvCacheBytes'].every((k) => isCount(x[k]))) return `${where} has a count that is not exact`;
  return undefined;
}

/** A model's `param` multipliers and factorised weights (optional: absent when it has neither). */
function parameterisationError(x: unknown, where: string): string | undefined {
  if (x === undefined) return undefined;
  if (!isObj(x)) return `${where} is not an object`;
  const t = x.multipliers;
  if (t !== null) {
    if (!isObj(t) || !isStr(t.scheme, 64) || !['width', 'baseWidth', 'depth', 'baseDepth'].every((k) => isDecimal(t[k])) || !Array.isArray(t.rows) || t.rows.length > 64) return `${where}.multipliers is malformed`;
    for (const r of t.rows as unknown[]) {
      if (!isObj(r) || !isStr(r.weightClass, 64) || !isStr(r.example, 1000) || !isMultiplier(r.lr) || !isMultiplier(r.output) || !isMultiplier(r.residual)) return `${where}.multipliers has a malformed row`;
      if (!(r.initStd === null || isMultiplier(r.initStd)) || !(r.weightDecay === null || isMultiplier(r.weightDecay))) return `${where}.multipliers has a malformed row`;
    }
  }
  if (!Array.isArray(x.factorized) || x.factorized.length > 10_000) return `${where}.factorized is not a list`;
  for (const f of x.factorized as unknown[]) {
    if (!isObj(f) || !isStr(f.path, 1000) || !isStr(f.method, 200) || !Array.isArray(f.shape) || !f.shape.every(isInt) || !isInt(f.copies)) return `${where}.factorized has a malformed weight`;
    if (!isCount(f.factorElements) || !isCount(f.denseElements) || !isCount(f.denseFlopsPerToken) || !isCount(f.materialiseFlops) || !(f.chainFlopsPerToken === null || isCount(f.chainFlopsPerToken))) return `${where}.factorized has a malformed count`;
    if (f.execution !== 'dense' && f.execution !== 'factors') return `${where}.factorized has an unknown execution`;
    if (!(f.materialisedBecause === null || (typeof f.materialisedBecause === 'string' && Object.hasOwn(MATERIALISED_BECAUSE, f.materialisedBecause)))) return `${where}.factorized has an unknown reason for materialising W`;
  }
  return undefined;
}

/** A model's supernet: its space's size and front (optional: absent without an `elastic` statement). */
function supernetError(x: unknown, where: string): string | undefined {
  if (x === undefined) return undefined;
  if (!isObj(x)) return `${where} is not an object`;
  if (!['subnets', 'classes', 'stored'].every((k) => x[k] === null || isCount(x[k]))) return `${where} has a malformed count`;
  if (!(x.error === null || isStr(x.error, 2000)) || !isInt(x.frontSize)) return `${where} is malformed`;
  if (!Array.isArray(x.globals) || x.globals.length > 1000) return `${where}.globals is not a list`;
  for (const g of x.globals as unknown[]) {
    if (!isObj(g) || !isStr(g.name, 200) || !Array.isArray(g.values) || g.values.length > 1000 || !g.values.every((v) => isStr(v, 200))) return `${where}.globals has a malformed choice`;
  }
  if (!Array.isArray(x.front) || x.front.length > 10_000) return `${where}.front is not a list`;
  for (const p of x.front as unknown[]) {
    if (!isObj(p) || !isStr(p.label, 10_000) || !['subnets', 'active', 'stored', 'decodeFlops'].every((k) => isCount(p[k]))) return `${where}.front has a malformed point`;
  }
  return undefined;
}

export function checkDashboardData(x: unknown): Checked<DashboardData> {
  if (!isObj(x)) return fail('data is not an object');
  if (x.format !== 'npas-dashboard' || x.version !== 1) return fail('data is not npas-dashboard version 1');
  if (!isStr(x.source, 4096)) return fail('data.source is not a string');
  const o = x.options;
  if (!isObj(o) || !isInt(o.seq) || !isInt(o.srcSeq) || !isInt(o.batch) || !isStr(o.dtype, 16) || !isStr(o.device, 64)) return fail('data.options is malformed');
  if (!isObj(x.device) || !isStr(x.device.name, 64) || !isCount(x.device.memoryBytes)) return fail('data.device is malformed');
  const d = x.diagnostics;
  if (!isObj(d) || !isInt(d.errors) || !isInt(d.warnings) || !Array.isArray(d.messages) || !d.messages.every((m) => isStr(m))) return fail('data.diagnostics is malformed');
  if (!Array.isArray(x.models) || x.models.length > 1000) return fail('data.models is not a list');
  const budget = { nodes: 2_000_000 };
  for (let i = 0; i < x.models.length; i++) {
    const m: unknown = x.models[i];
    const w = `models[${i}]`;
    if (!isObj(m) || !isStr(m.name, 1000)) return fail(`${w} has no name`);
    if (m.kind !== 'model' && m.kind !== 'variant') return fail(`${w}.kind is unknown`);
    if (!(m.base === null || isStr(m.base, 1000))) return fail(`${w}.base is malformed`);
    if (!isRange(m.range)) return fail(`${w}.range is not a range`);
    const e =
      countsError(m.params, `${w}.params`) ??
      (isObj(m.flops) && (m.flops.unit === 'token' || m.flops.unit === 'sample') && isCount(m.flops.prefill) && isDecimal(m.flops.prefillPerToken) && isCount(m.flops.decode) && isDecimal(m.flops.trainPerToken)
        ? undefined
        : `${w}.flops is malformed`) ??
      (isCount(m.kvCacheBytes) ? undefined : `${w}.kvCacheBytes is not an exact count`) ??
      (isCount(m.recurrentStateBytes) ? undefined : `${w}.recurrentStateBytes is not an exact count`) ??
      (isObj(m.memory) && ['weightBytes', 'kvCacheBytes', 'inferenceBytes', 'trainingBytes', 'activationBytes'].every((k) => isCount((m.memory as Obj)[k])) ? undefined : `${w}.memory is malformed`) ??
      (isObj(m.latency) && isStr(m.latency.device, 64) && typeof m.latency.prefillSeconds === 'number' && typeof m.latency.decodeSeconds === 'number' ? undefined : `${w}.latency is malformed`) ??
      (Array.isArray(m.budgets) && m.budgets.every((b) => isObj(b) && isStr(b.constraint) && isStr(b.metric, 200) && isDecimal(b.limit) && isDecimal(b.value) && typeof b.ok === 'boolean' && isRange(b.range))
        ? undefined
        : `${w}.budgets is malformed`) ??
      (Array.isArray(m.sweep) && m.sweep.every((p) => isObj(p) && isInt(p.seq) && isCount(p.kvCacheBytes) && isCount(p.recurrentStateBytes) && isCount(p.weightBytes) && isCount(p.inferenceBytes)) ? undefined : `${w}.sweep is malformed`) ??
      plansError(m.plans, `${w}.plans`) ??
      parameterisationError(m.parameterisation, `${w}.parameterisation`) ??
      sharedPrefixError(m.sharedPrefix, `${w}.sharedPrefix`) ??
      supernetError(m.supernet, `${w}.supernet`) ??
      structureError(m.structure, `${w}.structure`) ??
      treeError(m.tree, `${w}.tree`, 0, budget);
    if (e) return fail(e);
  }
  return { ok: true, value: x as unknown as DashboardData };
}

const isPositive = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;
const isNonNegative = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const isNullOr = <T>(x: unknown, f: (y: unknown) => y is T): boolean => x === null || f(x);
const isText = (x: unknown): x is string => isStr(x);

/**
 * An NPAS plan for the Allocation pane. Beyond the shape of every field, the totals must add up
 * exactly: stored = target, stores + coefficients + fixed = stored, Σ group params = stores,
 * Σ layer coefficients = coefficients, Σ group unused = unused, and every layer reads a group
 * that exists (with each group's weight count matching its rows). A plan that fails is dropped.
 */
export function checkAllocationData(x: unknown): Checked<AllocationData> {
  if (!isObj(x)) return fail('plan is not an object');
  if (!isStr(x.model, 1000) || x.model === '') return fail('plan.model is not a name');
  if (!isStr(x.source, 4096)) return fail('plan.source is not a string');
  for (const k of ['target', 'stored', 'stores', 'coefficients', 'fixed', 'demand', 'unused', 'referenceUnused', 'minimum', 'generationMacs']) {
    if (!isCount(x[k])) return fail(`plan.${k} is not an exact count`);
  }
  const n = (k: string): bigint => BigInt(x[k] as string);
  if (n('stored') !== n('target')) return fail(`plan.stored ${String(x.stored)} is not the target ${String(x.target)}`);
  if (n('stores') + n('coefficients') + n('fixed') !== n('stored')) return fail('plan: stores + coefficients + fixed is not stored');
  if (!isStr(x.grouping, 4096) || !isStr(x.groupingReason)) return fail('plan.grouping is not a string');
  if (x.method !== 'wavg' && x.method !== 'repeat' && x.method !== 'hash') return fail('plan.method is unknown');
  if (x.regime !== 'low' && x.regime !== 'high') return fail('plan.regime is neither low nor high');
  if (!(x.variantName === null || isStr(x.variantName, 1000))) return fail('plan.variantName is malformed');
  if (!Array.isArray(x.groups) || x.groups.length === 0 || x.groups.length > 100_000) return fail('plan.groups is not a non-empty list');
  if (!Array.isArray(x.layers) || x.layers.length > 1_000_000) return fail('plan.layers is not a list');
  const weights = new Map<string, number>();
  let stores = 0n;
  let unused = 0n;
  for (let i = 0; i < x.groups.length; i++) {
    const g: unknown = x.groups[i];
    if (!isObj(g) || !isStr(g.id, 1000) || g.id === '') return fail(`plan.groups[${i}] has no id`);
    if (weights.has(g.id)) return fail(`plan.groups[${i}]: ${g.id} is listed twice`);
    for (const k of ['params', 'demand', 'unused', 'referenceUnused']) if (!isCount(g[k])) return fail(`plan.groups[${i}].${k} is not an exact count`);
    if (typeof g.direct !== 'boolean' || !isInt(g.weights)) return fail(`plan.groups[${i}] is malformed`);
    weights.set(g.id, g.weights);
    stores += BigInt(g.params as string);
    unused += BigInt(g.unused as string);
  }
  if (stores !== n('stores')) return fail('plan: the groups do not add up to its stores');
  if (unused !== n('unused')) return fail('plan: the groups\' unused entries do not add up to its unused');
  const rows = new Map<string, number>();
  let coefficients = 0n;
  for (let i = 0; i < x.layers.length; i++) {
    const l: unknown = x.layers[i];
    if (!isObj(l) || !isStr(l.path, 4096) || l.path === '') return fail(`plan.layers[${i}] has no path`);
    if (!Array.isArray(l.shape) || l.shape.length > 16 || !l.shape.every(isInt)) return fail(`plan.layers[${i}].shape is malformed`);
    if (!isStr(l.group) || !weights.has(l.group)) return fail(`plan.layers[${i}] reads a group the plan does not have`);
    const gen = l.generator;
    if (!isObj(gen) || !(ALLOCATION_GENERATOR_KINDS as readonly unknown[]).includes(gen.kind) || !isInt(gen.templates) || gen.templates < 1 || !isInt(gen.coefficients)) return fail(`plan.layers[${i}].generator is malformed`);
    rows.set(l.group, (rows.get(l.group) ?? 0) + 1);
    coefficients += BigInt(gen.coefficients);
  }
  if (coefficients !== n('coefficients')) return fail('plan: the layers\' coefficients do not add up to its coefficients');
  for (const [id, w] of weights) if ((rows.get(id) ?? 0) !== w) return fail(`plan: group ${id} has ${w} weights but ${rows.get(id) ?? 0} rows`);
  return { ok: true, value: x as unknown as AllocationData };
}

/**
 * A probe result for the Probe pane. Latencies are finite durations (min ≤ median, roofline > 0), a phase not measured
 * says why, prefill is always measured, and a result that ran on another provider than the one
 * requested must say so (`fallback`): a silent fallback is dropped, never drawn.
 */
export function checkProbeData(x: unknown): Checked<ProbeData> {
  if (!isObj(x)) return fail('probe result is not an object');
  if (!isStr(x.model, 1000) || x.model === '' || !isStr(x.source, 4096) || !isStr(x.ortVersion, 100) || !isStr(x.device, 64)) return fail('probe result has no model, source, ONNX Runtime version or device');
  const providers = ['cuda', 'cpu'];
  if (!providers.includes(x.requestedProvider as string) || !providers.includes(x.provider as string)) return fail('probe result names an unknown provider');
  if (!(x.fallback === null || (isStr(x.fallback) && x.fallback.trim() !== ''))) return fail('probe fallback is malformed');
  if (x.provider !== x.requestedProvider && x.fallback === null) return fail(`probe ran on ${String(x.provider)}, not the requested ${String(x.requestedProvider)}, without saying so`);
  if (!isNullOr(x.providerNote, isText)) return fail('probe providerNote is malformed');
  if (x.dtype !== 'fp16' && x.dtype !== 'fp32') return fail('probe dtype is unknown');
  if (!isInt(x.batch) || x.batch < 1 || !isInt(x.seq) || x.seq < 1) return fail('probe batch or seq is not a positive integer');
  if (!isNonNegative(x.sessionCreateMs)) return fail('probe sessionCreateMs is not a duration');
  if (!isCount(x.storedParams) || !isCount(x.initializerElements)) return fail('probe storedParams or initializerElements is not an exact count');
  if (!isStr(x.memory) || !isStr(x.placement)) return fail('probe memory or placement is not text');
  if (!Array.isArray(x.notes) || x.notes.length > 1000 || !x.notes.every((s) => isStr(s))) return fail('probe notes are malformed');
  if (!Array.isArray(x.phases) || x.phases.length < 1 || x.phases.length > 2) return fail('probe phases is not a list of one or two');
  const seen = new Set<string>();
  for (let i = 0; i < x.phases.length; i++) {
    const p: unknown = x.phases[i];
    const w = `probe phases[${i}]`;
    if (!isObj(p) || (p.phase !== 'prefill' && p.phase !== 'decode') || seen.has(p.phase)) return fail(`${w}.phase is unknown or repeated`);
    seen.add(p.phase);
    if (!isStr(p.label, 1000)) return fail(`${w}.label is not a string`);
    if (!isPositive(p.rooflineMs) || (p.bound !== 'compute' && p.bound !== 'memory')) return fail(`${w} has no roofline`);
    if (!isCount(p.flops) || !isCount(p.bytes)) return fail(`${w}.flops or bytes is not an exact count`);
    if (!isInt(p.runs)) return fail(`${w}.runs is not an integer`);
    if (p.measuredMs === null) {
      if (!isStr(p.unavailable) || p.unavailable === '') return fail(`${w} is not measured and does not say why`);
      if (p.minMs !== null || p.achievedFlopsPerSecond !== null || p.achievedBytesPerSecond !== null) return fail(`${w} is not measured but has measurements`);
    } else {
      if (!isNonNegative(p.measuredMs) || !isNonNegative(p.minMs) || p.minMs > p.measuredMs) return fail(`${w} latencies are not durations (min ≤ median)`);
      if (!isNonNegative(p.achievedFlopsPerSecond) || !isNonNegative(p.achievedBytesPerSecond)) return fail(`${w} achieved rates are malformed`);
      if (p.unavailable !== null) return fail(`${w} is measured and unavailable at once`);
    }
    if (p.stepState !== undefined) {
      const st = p.stepState;
      if (p.phase !== 'decode' || p.measuredMs === null) return fail(`${w}.stepState belongs to a measured decode step`);
      if (!isObj(st) || !isCount(st.kvCacheElements) || !isCount(st.recurrentStateElements)) return fail(`${w}.stepState is not two exact counts`);
    }
  }
  if (!seen.has('prefill') || (x.phases[0] as Obj).phase !== 'prefill' || (x.phases[0] as Obj).measuredMs === null) return fail('probe has no measured prefill');
  return { ok: true, value: x as unknown as ProbeData };
}

/**
 * A host message as checkHostMessage takes it: an encoded update (the language server's
 * `npas/dashboardData` answer, forwarded by the host undecoded: base64 of the gzipped UTF-8 JSON
 * of the data) decoded into an `update`; any other message as it came. Asynchronous (the
 * platform's DecompressionStream), so the page decodes its messages one after another, in order.
 * Never rejects: what does not decode becomes an update that says why, which checkHostMessage drops.
 */
export async function decodeHostMessage(raw: unknown): Promise<unknown> {
  if (!isObj(raw) || raw.type !== 'update' || typeof raw.encoded !== 'string') return raw;
  try {
    const binary = atob(raw.encoded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const json = await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
    return { type: 'update', data: JSON.parse(json) as unknown };
  } catch (e) {
    return { type: 'update', undecodable: `the encoded data does not decode (${e instanceof Error ? e.message.slice(0, 200) : 'not base64, gzip and JSON'})` };
  }
}

export function checkHostMessage(x: unknown): Checked<HostToWebview> {
  if (!isObj(x)) return fail('message is not an object');
  switch (x.type) {
    case 'update': {
      if (typeof x.undecodable === 'string') return fail(`update: ${x.undecodable}`);
      const d = checkDashboardData(x.data);
      return d.ok ? { ok: true, value: { type: 'update', data: d.value } } : fail(`update: ${d.error}`);
    }
    case 'show':
      if (!isView(x.view)) return fail(`show: unknown view ${JSON.stringify(x.view)?.slice(0, 40)}`);
      if (x.model !== undefined && !isStr(x.model, 1000)) return fail('show: model is not a string');
      return { ok: true, value: x.model === undefined ? { type: 'show', view: x.view } : { type: 'show', view: x.view, model: x.model as string } };
    case 'allocation': {
      if (x.result === null) return { ok: true, value: { type: 'allocation', result: null } };
      const r = checkAllocationData(x.result);
      return r.ok ? { ok: true, value: { type: 'allocation', result: r.value } } : fail(`allocation: ${r.error}`);
    }
    case 'probe': {
      if (x.result === null) return { ok: true, value: { type: 'probe', result: null } };
      const r = checkProbeData(x.result);
      return r.ok ? { ok: true, value: { type: 'probe', result: r.value } } : fail(`probe: ${r.error}`);
    }
    case 'error':
      if (!isStr(x.message)) return fail('error: message is not a string');
      return { ok: true, value: { type: 'error', message: x.message } };
    default:
      return fail(`unknown message type ${JSON.stringify(x.type)?.slice(0, 40)}`);
  }
}

export function checkWebviewMessage(x: unknown): Checked<WebviewToHost> {
  if (!isObj(x)) return fail('message is not an object');
  switch (x.type) {
    case 'ready':
      return x.protocol === PROTOCOL_VERSION ? { ok: true, value: { type: 'ready', protocol: PROTOCOL_VERSION } } : fail(`ready: protocol ${String(x.protocol)} is not ${PROTOCOL_VERSION}`);
    case 'reveal':
      return isRange(x.range) ? { ok: true, value: { type: 'reveal', range: { start: (x.range as Obj).start as number, end: (x.range as Obj).end as number } } } : fail('reveal: range is malformed');
    case 'export': {
      if (x.format !== 'svg' && x.format !== 'png') return fail('export: format is neither svg nor png');
      if (!isStr(x.fileName, 255) || !/^[\w.-]+\.(svg|png)$/.test(x.fileName)) return fail('export: file name is not a plain .svg or .png name');
      if (!isStr(x.data, 50_000_000)) return fail('export: data is not a string');
      if (x.format === 'png' && !x.data.startsWith('data:image/png;base64,')) return fail('export: png data is not a PNG data URL');
      return { ok: true, value: { type: 'export', format: x.format, fileName: x.fileName, data: x.data } };
    }
    case 'log':
      if (x.level !== 'info' && x.level !== 'warn' && x.level !== 'error') return fail('log: unknown level');
      if (!isStr(x.message)) return fail('log: message is not a string');
      return { ok: true, value: { type: 'log', level: x.level, message: x.message } };
    case 'received':
      if (x.kind !== 'allocation' && x.kind !== 'probe') return fail('received: kind is neither allocation nor probe');
      if (!isStr(x.model, 1000) || !isInt(x.rows)) return fail('received: model or rows is malformed');
      return { ok: true, value: { type: 'received', kind: x.kind, model: x.model, rows: x.rows } };
    default:
      return fail(`unknown message type ${JSON.stringify(x.type)?.slice(0, 40)}`);
  }
}

export const STATE_VERSION = 1;

export function initialState(): DashboardState {
  return { version: STATE_VERSION, view: 'architecture', model: null, collapsed: {}, variantsAxis: 'kv', sort: { key: 'name', descending: false }, theme: null, data: null, allocation: null, probe: null };
}

/** Persisted state from an earlier session, with every malformed field replaced by its default. */
export function restoreState(x: unknown): DashboardState {
  const s = initialState();
  if (!isObj(x) || x.version !== STATE_VERSION) return s;
  const collapsed: Record<string, readonly string[]> = {};
  if (isObj(x.collapsed)) for (const [k, v] of Object.entries(x.collapsed)) if (Array.isArray(v) && v.every((n) => isStr(n, 1000))) collapsed[k] = v as string[];
  const data = x.data === null || x.data === undefined ? null : checkDashboardData(x.data);
  const allocation = x.allocation === null || x.allocation === undefined ? null : checkAllocationData(x.allocation);
  const probe = x.probe === null || x.probe === undefined ? null : checkProbeData(x.probe);
  return {
    version: STATE_VERSION,
    view: isView(x.view) ? x.view : s.view,
    model: isStr(x.model, 1000) ? x.model : null,
    collapsed,
    variantsAxis: x.variantsAxis === 'flops' ? 'flops' : 'kv',
    sort: isObj(x.sort) && isStr(x.sort.key, 64) && typeof x.sort.descending === 'boolean' ? { key: x.sort.key, descending: x.sort.descending } : s.sort,
    theme: x.theme === 'dark' || x.theme === 'light' ? x.theme : null,
    data: data && data.ok ? data.value : null,
    allocation: allocation && allocation.ok ? allocation.value : null,
    probe: probe && probe.ok ? probe.value : null,
  };
}

/** The dashboard's reducer: the state after a (validated) host message. */
export function reduce(state: DashboardState, message: HostToWebview): DashboardState {
  switch (message.type) {
    case 'update': {
      const names = message.data.models.map((m) => m.name);
      const model = state.model !== null && names.includes(state.model) ? state.model : (names[0] ?? null);
      return { ...state, data: message.data, model };
    }
    case 'show': {
      const names = state.data?.models.map((m) => m.name) ?? [];
      return { ...state, view: message.view, model: message.model !== undefined && names.includes(message.model) ? message.model : state.model };
    }
    // A result replaces the last one (null clears it); the host sends `show` to switch to its pane.
    case 'allocation':
      return { ...state, allocation: message.result };
    case 'probe':
      return { ...state, probe: message.result };
    case 'error':
      return state;
  }
}
