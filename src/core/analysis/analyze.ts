// The engine's entry point: source text in, diagnostics and one budget report per model and
// variant out. Pure and deterministic; never throws on any input.

import { DiagnosticSink, type Diagnostic } from '../diagnostics/diagnostic.js';
import { parse } from '../syntax/parser.js';
import type { SourceFile } from '../syntax/syntax-tree.js';
import { EvalContext, type EvaluatedBinding } from '../semantics/evaluator.js';
import { evaluateFile, type EvaluatedModel } from '../semantics/evaluate-model.js';
import { resolveSharing } from '../sharing/resolve-statements.js';
import { evaluateBudget } from './budgets.js';
import { classifyEncoders, computeMetrics, type MemberTotals } from './model-metrics.js';
import type { AnalysisOptions, ModelReport } from './report-types.js';
import { EMPTY_TOTALS, addTotals, type Totals } from './totals.js';
import { globalTotals } from './layer-totals.js';
import { isDType } from './dtypes.js';
import { ModelWalker, reportOf } from './walk.js';

export const DEFAULT_OPTIONS: AnalysisOptions = { seq: 4096, srcSeq: undefined, batch: 1, dtype: 'bf16', device: 'H100' };

export interface AnalysisResult {
  readonly file: SourceFile;
  /** Every diagnostic, sorted by position; budget violations included. */
  readonly diagnostics: readonly Diagnostic[];
  /** One report per model and variant, in file order. */
  readonly models: readonly ModelReport[];
  /**
   * Every binding the evaluation reached, with its value and the model or variant evaluated
   * (undefined for file constants); a binding evaluated in several models or block instances
   * appears once per evaluation. For editor services (hover values, inlay hints, outline).
   */
  readonly evaluated: readonly EvaluatedBinding[];
}

/** Analyses a `.npas` source. Never throws. */
export function analyze(text: string, options: Partial<AnalysisOptions> = {}): AnalysisResult {
  const parsed = parse(text);
  const sink = new DiagnosticSink();
  sink.items.push(...parsed.diagnostics);
  const opts = checkedOptions({ ...DEFAULT_OPTIONS, ...stripUndefined(options) }, sink);
  const ctx = new EvalContext(sink);
  const models: ModelReport[] = [];
  try {
    const evaluated = evaluateFile(parsed.file, ctx);
    const byName = new Map<string, ModelReport>();
    const measures = new Map<string, { model: EvaluatedModel; report: ModelReport; members: MemberTotals[]; whole: Totals }>();
    for (const m of evaluated.models) {
      const built = reportModel(m, opts, ctx);
      models.push(built.report);
      byName.set(m.name, built.report);
      measures.set(m.name, { model: m, ...built });
    }
    for (const item of parsed.file.items) {
      if (item.kind !== 'Budget') continue;
      const target = measures.get(item.target.text);
      if (!target) {
        if (item.target.text !== '') sink.error('npas-budget-target', `'${item.target.text}' is not a model or variant of this file`, item.target.range);
        continue;
      }
      const results = evaluateBudget(
        item.constraints,
        text,
        { params: target.report.params, metricsAt: (o) => computeMetrics(target.members, target.whole, o) },
        opts,
        target.model.scope,
        ctx,
        sink,
      );
      const index = models.indexOf(target.report);
      const updated: ModelReport = { ...target.report, budgets: [...target.report.budgets, ...results] };
      models[index] = updated;
      target.report = updated;
    }
  } catch (e) {
    // The engine must never take its host down; an internal error is a bug reported as such.
    sink.error('npas-internal-error', `internal error while analysing (please report): ${e instanceof Error ? e.message : String(e)}`, { start: 0, end: 0 });
  }
  return { file: parsed.file, diagnostics: finalize(sink.items), models, evaluated: ctx.bindingValues };
}

/** Settings outside their domain (a host's bad configuration) fall back to the defaults, reported. */
function checkedOptions(o: AnalysisOptions, sink: DiagnosticSink): AnalysisOptions {
  const out = { ...o } as { -readonly [K in keyof AnalysisOptions]: AnalysisOptions[K] };
  for (const key of ['seq', 'srcSeq', 'batch'] as const) {
    const v: unknown = o[key];
    if (v === undefined && key === 'srcSeq') continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      const fallback = DEFAULT_OPTIONS[key];
      sink.error('npas-eval-range', `the analysis setting ${key} must be a positive integer, got ${String(v)}; using ${fallback ?? 'seq'}`, { start: 0, end: 0 });
      out[key] = fallback as number;
    }
  }
  if (!isDType(String(o.dtype))) {
    sink.error('npas-eval-range', `the analysis setting dtype must be one of fp32, tf32, bf16, fp16, fp8, int8, int4, got ${String(o.dtype)}; using ${DEFAULT_OPTIONS.dtype}`, { start: 0, end: 0 });
    out.dtype = DEFAULT_OPTIONS.dtype;
  }
  return out;
}

function stripUndefined(o: Partial<AnalysisOptions>): Partial<AnalysisOptions> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<AnalysisOptions>;
}

function reportModel(m: EvaluatedModel, options: AnalysisOptions, ctx: EvalContext): { report: ModelReport; members: MemberTotals[]; whole: Totals } {
  const sharing = resolveSharing(m.members, m.statements, ctx);
  const walker = new ModelWalker(sharing);
  const results = m.members.map((member) => walker.walkMember(member));
  const encoders = classifyEncoders(results.map((r) => r.totals));
  const members: MemberTotals[] = results.map((r, i) => ({ totals: r.totals, encoder: encoders[i]! }));
  let whole = EMPTY_TOTALS;
  for (const r of results) whole = addTotals(whole, r.totals);
  const globalStores = globalTotals(whole.globals);
  const headSavings = sharing.headShares.reduce((s, h) => s + h.savedParams, 0n);
  whole = {
    ...whole,
    stored: whole.stored + globalStores.stored - headSavings,
    // The saved head slices are base weights: adapters freeze them, so they were never trainable.
    trainable: whole.trainable + globalStores.trainable - (!sharing.hasAdapters && whole.trainable >= headSavings ? headSavings : 0n),
  };
  const metrics = computeMetrics(members, whole, options);
  const tree = reportOf(m.name, 'model', m.kind, 1, 0, whole, m.declaration.range, results.map((r, i) => ({ ...r.report, range: m.members[i]!.range })));
  const report: ModelReport = {
    name: m.name,
    kind: m.kind,
    base: m.base,
    range: m.nameRange,
    options,
    params: tree.params,
    flops: metrics.flops,
    kvCacheBytes: metrics.kvCacheBytes,
    memory: metrics.memory,
    latency: metrics.latency,
    budgets: [],
    tree,
  };
  return { report, members, whole };
}

/** Drops exact duplicates (a block body evaluated for several argument sets) and sorts. */
function finalize(items: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of items) {
    const key = `${d.range.start}:${d.range.end}:${d.code}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out.sort((a, b) => a.range.start - b.range.start || a.range.end - b.range.end);
}
