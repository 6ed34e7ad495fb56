// The dashboard's data for a spec: every model's report (exact counts as decimal strings), its
// sharing structure, and KV cache / memory against sequence length. The same numbers as
// `npas budget --json` at the same settings, because they come from the same compilation; the
// sweep asks that compilation for metrics at each length and never analyses again.

import { decimalCounts, decimalTree } from '../analysis/decimal-report.js';
import { routedEffectiveBasis, routedEffectiveSummary } from '../analysis/routed-effective-params.js';
import { compile, DEFAULT_OPTIONS, type Compilation } from '../analysis/compilation.js';
import { findDevice } from '../analysis/devices.js';
import type { AnalysisOptions, ModelReport, NodeReport, SharedPrefixReport } from '../analysis/report-types.js';
import { blocksMeasurement } from '../diagnostics/diagnostic.js';
import { planData } from '../plans/plan-data.js';
import { parameterisationData } from './parameterisation-data.js';
import { sharingStructure } from './structure.js';
import { supernetData } from './supernet-data.js';
import { groupDigits } from '../text/number-format.js';
import type { DashboardData, ModelData, PlanData, SharedPrefixData, StructureData, SweepPoint, TreeData } from './types.js';

/** Sequence lengths of the KV / memory chart (the analysed length is added). */
export const SWEEP_SEQ = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072] as const;

const EMPTY_STRUCTURE: StructureData = { members: [], classes: [], stores: [], reads: [], kv: [], notes: [], truncated: false };

export interface DashboardDataOptions {
  /** The spec's file name as shown to the user. */
  readonly source: string;
  /** Evaluate KV / memory at other sequence lengths (metrics of the same compilation). Default true. */
  readonly sweep?: boolean;
}

/** The dashboard's data for a source or compilation at given settings (one compilation, whatever the sweep). */
export function dashboardData(source: string | Compilation, options: Partial<AnalysisOptions>, how: DashboardDataOptions): DashboardData {
  const compilation = typeof source === 'string' ? compile(source) : source;
  const result = compilation.analysis(options);
  const errors = result.diagnostics.filter(blocksMeasurement);
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning');
  const structures = sharingStructure(compilation);
  const opts = compilation.settings(options);
  const seqs = [...new Set([...SWEEP_SEQ, opts.seq])].sort((a, b) => a - b);
  const sweeps = new Map<string, SweepPoint[]>();
  if (how.sweep !== false) {
    for (const m of compilation.models) {
      sweeps.set(
        m.name,
        seqs.map((seq) => {
          const at = compilation.metricsAt(m, { ...opts, seq });
          return { seq, kvCacheBytes: String(at.kvCacheBytes), recurrentStateBytes: String(at.recurrentStateBytes), weightBytes: String(at.memory.weightBytes), inferenceBytes: String(at.memory.inferenceBytes) };
        }),
      );
    }
  }
  const device = findDevice(opts.device, opts.devices) ?? findDevice(DEFAULT_OPTIONS.device)!;
  return {
    format: 'npas-dashboard',
    version: 1,
    source: how.source,
    options: { seq: opts.seq, srcSeq: opts.srcSeq ?? opts.seq, batch: opts.batch, dtype: opts.dtype, device: opts.device },
    device: { name: device.name, memoryBytes: String(device.memoryBytes) },
    models: result.models.map((m) => {
      const compiled = compilation.model(m.name);
      const data = modelData(m, structures.get(m.name) ?? EMPTY_STRUCTURE, sweeps.get(m.name) ?? [], compiled ? planData(compilation, compiled, opts) : []);
      const supernet = supernetData(compilation, m.name, opts);
      return supernet ? { ...data, supernet } : data;
    }),
    diagnostics: { errors: errors.length, warnings: warnings.length, messages: [...errors, ...warnings].slice(0, 5).map((d) => `${d.code}: ${d.message}`) },
  };
}

export function modelData(m: ModelReport, structure: StructureData, sweep: readonly SweepPoint[], plans: readonly PlanData[] = []): ModelData {
  const parameterisation = parameterisationData(m);
  return {
    name: m.name,
    kind: m.kind,
    base: m.base ?? null,
    range: { start: m.range.start, end: m.range.end },
    params: counts(m.params),
    flops: { unit: m.flops.unit, prefill: String(m.flops.prefill), prefillPerToken: m.flops.prefillPerToken, decode: String(m.flops.decode), trainPerToken: m.flops.trainPerToken },
    kvCacheBytes: String(m.kvCacheBytes),
    recurrentStateBytes: String(m.recurrentStateBytes),
    memory: {
      weightBytes: String(m.memory.weightBytes),
      kvCacheBytes: String(m.memory.kvCacheBytes),
      inferenceBytes: String(m.memory.inferenceBytes),
      trainingBytes: String(m.memory.trainingBytes),
      activationBytes: String(m.memory.activationBytes),
    },
    latency: {
      device: m.latency.device,
      prefillSeconds: m.latency.prefill.seconds,
      prefillBound: m.latency.prefill.bound,
      decodeSeconds: m.latency.decode.seconds,
      decodeBound: m.latency.decode.bound,
    },
    routing: m.routing.map((r) => ({ experts: r.experts, topK: r.topK, expectedDistinct: r.expectedDistinct, prefillTouched: r.prefillTouched })),
    ...(m.routedEffective ? { routedEffective: { summary: routedEffectiveSummary(m.routedEffective), basis: routedEffectiveBasis(m.routedEffective) } } : {}),
    ...(m.parallel ? { parallel: { streams: m.parallel.streams, cache: m.parallel.cache } } : {}),
    ...(m.sharedPrefix ? { sharedPrefix: sharedPrefixData(m.sharedPrefix) } : {}),
    budgets: m.budgets.map((b) => ({
      constraint: b.constraint,
      metric: b.metric,
      limit: b.limit,
      value: b.value,
      ok: b.ok,
      range: { start: b.range.start, end: b.range.end },
    })),
    tree: treeData(m.tree),
    structure,
    sweep,
    plans,
    ...(parameterisation ? { parameterisation } : {}),
  };
}

const counts = decimalCounts;

function sharedPrefixData(p: SharedPrefixReport): SharedPrefixData {
  return {
    tokens: p.tokens,
    continuations: p.continuations,
    computedTokens: p.computedTokens,
    unsharedTokens: p.unsharedTokens,
    prefillFlops: String(p.prefillFlops),
    unsharedPrefillFlops: String(p.unsharedPrefillFlops),
    kvCacheBytes: String(p.kvCacheBytes),
    unsharedKvCacheBytes: String(p.unsharedKvCacheBytes),
  };
}
/**
 * The dashboard's copy of the report tree: the model, its members, and their runs or layers —
 * all that the treemap, the table and the architecture hovers read — while that fits
 * `DASHBOARD_TREE_NODES`; past it, members only (a treemap of 40,000 cells draws nothing
 * readable, and the whole tree of a written-out 10,000-layer spec is ~36 MB of JSON).
 */
export const DASHBOARD_TREE_NODES = 20_000;

function treeData(model: NodeReport): TreeData {
  const nodes = 1 + model.children.reduce((sum, member) => sum + 1 + member.children.length, 0);
  return decimalTree(withMembersCapped(model), nodes <= DASHBOARD_TREE_NODES ? 2 : 1);
}

/**
 * The model's node with at most `DASHBOARD_TREE_NODES` members: the rest (a written-out 10 MB
 * spec has 356,000, 46 MB of the report's JSON) become one node whose counts are their exact
 * sums, so every total the treemap and the table draw still adds up.
 */
function withMembersCapped(model: NodeReport): NodeReport {
  if (model.children.length <= DASHBOARD_TREE_NODES) return model;
  const kept = model.children.slice(0, DASHBOARD_TREE_NODES - 1);
  const rest = model.children.slice(DASHBOARD_TREE_NODES - 1);
  const sum = (f: (n: NodeReport) => bigint): bigint => rest.reduce((s, n) => s + f(n), 0n);
  const more: NodeReport = {
    name: `… ${groupDigits(rest.length)} more members`,
    kind: 'block',
    type: 'more members',
    count: 1n,
    firstIndex: 0n,
    params: { stored: sum((n) => n.params.stored), effective: sum((n) => n.params.effective), active: sum((n) => n.params.active), trainable: sum((n) => n.params.trainable) },
    flopsPerToken: sum((n) => n.flopsPerToken),
    kvCacheBytes: sum((n) => n.kvCacheBytes),
    activationPerToken: sum((n) => n.activationPerToken),
    embeddingParams: sum((n) => n.embeddingParams),
    range: { start: rest[0]!.range.start, end: rest[rest.length - 1]!.range.end },
    children: [],
  };
  return { ...model, children: [...kept, more] };
}
