// Evaluates `budget` blocks: each constraint names a metric (with optional settings such as
// `kv(seq: 8K, batch: 1, dtype: bf16)`), is measured exactly and compared with its limit.
// Violations become diagnostics at the constraint, stating the measured value.

import type { DiagnosticSink } from '../diagnostics/diagnostic.js';
import * as Q from '../numbers/rational.js';
import type { Unit } from '../numbers/units.js';
import { evaluate, toSmallInteger, type EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import type { Constraint, TextRange } from '../syntax/syntax-tree.js';
import { findDevice, DEVICE_NAMES } from './devices.js';
import { DTYPE_NAMES, isDType } from './dtypes.js';
import { PRECISION_CLASSES } from './precision.js';
import { groupDigits } from '../text/number-format.js';
import type { ModelMetrics } from './model-metrics.js';
import type { AnalysisOptions, BudgetResult, ParamCounts } from './report-types.js';
import type { TaskSplit } from './tasks.js';

export interface Measure {
  readonly params: ParamCounts;
  /** Per-task adapters' split of stored (absent: no per-task adapter). */
  readonly tasks?: TaskSplit;
  metricsAt(options: AnalysisOptions): ModelMetrics;
}

/** `weights_dtype`, `kv_dtype`, …: one precision class (see analysis/precision.ts). */
type PrecisionArg = `${(typeof PRECISION_CLASSES)[number]}_dtype`;
type MetricArg = 'seq' | 'src_seq' | 'batch' | 'shared_prefix' | 'continuations' | 'dtype' | 'device' | PrecisionArg;

const PRECISION_ARGS: readonly PrecisionArg[] = PRECISION_CLASSES.map((c) => `${c}_dtype` as const);

export interface MetricSpec {
  readonly unit: Unit;
  readonly args: readonly MetricArg[];
  readonly doc: string;
  value(m: Measure, options: AnalysisOptions): Q.Rational;
}

const SETTINGS: readonly MetricArg[] = ['seq', 'src_seq', 'batch', 'shared_prefix', 'continuations', 'dtype', ...PRECISION_ARGS];
/** A roofline time (or any float) as an exact rational of its 13 significant digits. */
export const seconds = (x: number): Q.Rational => Q.parseDecimal(x.toExponential(12).replace(/e\+?/, 'e')) ?? Q.ZERO;

/** Every budget metric, with its unit and the settings it accepts. */
export const BUDGET_METRICS: ReadonlyMap<string, MetricSpec> = new Map<string, MetricSpec>([
  ['params.stored', { unit: 'count', args: [], doc: 'unique stored parameters', value: (m) => Q.fromBigInt(m.params.stored) }],
  ['params.effective', { unit: 'count', args: [], doc: 'unrolled dense-equivalent parameters', value: (m) => Q.fromBigInt(m.params.effective) }],
  ['params.active', { unit: 'count', args: [], doc: 'parameters used per token', value: (m) => Q.fromBigInt(m.params.active) }],
  ['params.trainable', { unit: 'count', args: [], doc: 'parameters that receive gradients', value: (m) => Q.fromBigInt(m.params.trainable) }],
  ['params.per_task', { unit: 'count', args: [], doc: 'stored parameters one task owns alone (its adapters with tasks: T; with for_tasks, the most any task owns); 0 without', value: (m) => Q.fromBigInt(m.tasks?.perTask ?? 0n) }],
  ['params.task_shared', { unit: 'count', args: [], doc: 'stored parameters every task shares: params.stored − what the tasks own alone (tasks × params.per_task without for_tasks)', value: (m) => Q.fromBigInt(m.tasks?.shared ?? m.params.stored) }],
  ['flops.prefill', { unit: 'count', args: SETTINGS, doc: 'forward FLOPs per token of a prefill of seq tokens', value: (m, o) => m.metricsAt(o).prefillPerToken }],
  ['flops.prefill_total', { unit: 'count', args: SETTINGS, doc: 'forward FLOPs of a whole prefill of seq tokens', value: (m, o) => Q.fromBigInt(m.metricsAt(o).flops.prefill) }],
  ['flops.decode', { unit: 'count', args: SETTINGS, doc: 'FLOPs of one decode step at context seq', value: (m, o) => Q.fromBigInt(m.metricsAt(o).flops.decode) }],
  ['flops.train', { unit: 'count', args: SETTINGS, doc: 'training FLOPs per token', value: (m, o) => m.metricsAt(o).trainPerToken }],
  ['flops.setup', { unit: 'count', args: [], doc: 'FLOPs computed once before the model serves (Arrow\'s prototypes), independent of the settings; 0 without', value: (m, o) => Q.fromBigInt(m.metricsAt(o).flops.setup ?? 0n) }],
  ['kv', { unit: 'bytes', args: SETTINGS, doc: 'KV cache bytes', value: (m, o) => Q.fromBigInt(m.metricsAt(o).kvCacheBytes) }],
  ['state', { unit: 'bytes', args: SETTINGS, doc: 'recurrent state bytes (Mamba, linear attention): constant in seq', value: (m, o) => Q.fromBigInt(m.metricsAt(o).recurrentStateBytes) }],
  ['memory.weights', { unit: 'bytes', args: ['dtype', 'weights_dtype', 'experts_dtype'], doc: 'weight bytes', value: (m, o) => Q.fromBigInt(m.metricsAt(o).memory.weightBytes) }],
  ['memory.inference', { unit: 'bytes', args: SETTINGS, doc: 'weights + KV cache + recurrent state bytes', value: (m, o) => Q.fromBigInt(m.metricsAt(o).memory.inferenceBytes) }],
  ['memory.train', { unit: 'bytes', args: SETTINGS, doc: 'training bytes (weights, grads, Adam, activations)', value: (m, o) => Q.fromBigInt(m.metricsAt(o).memory.trainingBytes) }],
  ['memory.activations', { unit: 'bytes', args: SETTINGS, doc: 'activation bytes saved for backward', value: (m, o) => Q.fromBigInt(m.metricsAt(o).memory.activationBytes) }],
  ['latency.prefill', { unit: 'seconds', args: [...SETTINGS, 'device'], doc: 'roofline prefill latency', value: (m, o) => seconds(m.metricsAt(o).latency.prefill.seconds) }],
  ['latency.decode', { unit: 'seconds', args: [...SETTINGS, 'device'], doc: 'roofline decode-step latency', value: (m, o) => seconds(m.metricsAt(o).latency.decode.seconds) }],
]);

function unitLabel(unit: Unit, v: Q.Rational): string {
  if (unit === 'count') return formatCount(v);
  if (unit === 'bytes') return `${formatCount(v)} bytes`;
  return `${Q.toDecimalString(Q.mul(v, Q.fromInt(1000)), 3)} ms`;
}

function formatCount(v: Q.Rational): string {
  if (!Q.isInteger(v)) return Q.toDecimalString(v, 3);
  return groupDigits(v.num);
}

/** Reads the settings a constraint writes (over the analysis settings); undefined when invalid (reported). */
function settingsOf(c: Constraint, spec: MetricSpec, scope: Scope, ctx: EvalContext): Partial<AnalysisOptions> | undefined {
  let o: Partial<AnalysisOptions> = {};
  let prompt: { readonly tokens: number; readonly at: TextRange } | undefined;
  let continuations: { readonly k: number; readonly at: TextRange } | undefined;
  for (const a of c.args) {
    const name = a.name?.text;
    if (!name || !(spec.args as readonly string[]).includes(name)) {
      ctx.sink.error('npas-budget-metric', `${c.metric.map((m) => m.text).join('.')} takes ${spec.args.length ? spec.args.map((x) => `${x}:`).join(', ') : 'no arguments'}`, a.range);
      return undefined;
    }
    if (name === 'dtype' || name === 'device' || name.endsWith('_dtype')) {
      const v = a.value.kind === 'Name' ? a.value.name.text : a.value.kind === 'String' ? a.value.value : a.value.kind === 'None' ? 'none' : '';
      if (name === 'master_dtype' && v === 'none') {
        o = { ...o, precision: { ...o.precision, master: 'none' } };
      } else if (name !== 'device') {
        if (!isDType(v)) {
          ctx.sink.error('npas-budget-metric', `unknown dtype '${v}' (use ${DTYPE_NAMES.join(', ')}${name === 'master_dtype' ? ' or none' : ''})`, a.value.range);
          return undefined;
        }
        o = name === 'dtype' ? { ...o, dtype: v } : { ...o, precision: { ...o.precision, [name.slice(0, -'_dtype'.length)]: v } };
      } else {
        // A name that is no builtin device may be a user's (a devices file, known only at the
        // settings): it is checked when measured.
        if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(v)) {
          ctx.sink.error('npas-budget-metric', `unknown device '${v}' (use ${DEVICE_NAMES.join(', ')} or a device of your devices file)`, a.value.range);
          return undefined;
        }
        o = { ...o, device: findDevice(v)?.name ?? v };
      }
      continue;
    }
    const n = toSmallInteger(evaluate(a.value, scope, ctx), a.value.range, ctx, name);
    if (n === undefined) return undefined;
    // A shared prompt of 0 tokens is none (it overrides the analysis settings' prompt).
    const least = name === 'shared_prefix' ? 0 : 1;
    if (n < least || n > 1 << 30) {
      ctx.sink.error('npas-eval-range', `${name} must be between ${least} and ${1 << 30}, got ${n}`, a.value.range);
      return undefined;
    }
    if (name === 'shared_prefix') prompt = { tokens: n, at: a.value.range };
    else if (name === 'continuations') continuations = { k: n, at: a.range };
    else o = name === 'seq' ? { ...o, seq: n } : name === 'src_seq' ? { ...o, srcSeq: n } : { ...o, batch: n };
  }
  // `shared_prefix: P, continuations: k` (docs/language.md, "Shared prompts"): k defaults to 2, a
  // DPO pair's chosen and rejected responses, as the CLI's --continuations does.
  if (continuations && !prompt) {
    ctx.sink.error('npas-budget-metric', 'continuations applies to a shared prompt: write shared_prefix: P beside it', continuations.at);
    return undefined;
  }
  if (prompt) {
    if (o.seq !== undefined && prompt.tokens >= o.seq) {
      ctx.sink.error('npas-eval-range', `shared_prefix ${prompt.tokens} must be below seq ${o.seq}: each continuation needs a token of its own`, prompt.at);
      return undefined;
    }
    o = { ...o, sharedPrefix: prompt.tokens > 0 ? { tokens: prompt.tokens, continuations: continuations?.k ?? 2 } : undefined };
  }
  return o;
}

/**
 * A constraint with everything that does not depend on the analysis settings evaluated once:
 * its metric, the settings it overrides, its limit. Measuring it at given settings
 * (`measureBudget`) evaluates nothing, so a compilation reports budgets at any settings without
 * re-evaluating (or re-reporting) the constraint's expressions.
 */
export interface PreparedConstraint {
  readonly constraint: Constraint;
  /** The constraint as written. */
  readonly text: string;
  /** The metric's name, e.g. `params.stored` or `kv`. */
  readonly metric: string;
  readonly spec: MetricSpec;
  /** The settings written in the constraint, over the analysis settings. */
  readonly settings: Partial<AnalysisOptions>;
  readonly limit: Q.Rational;
}

/** Evaluates the settings and limits of `constraints`; an invalid constraint is reported and dropped. */
export function prepareBudget(constraints: readonly Constraint[], source: string, scope: Scope, ctx: EvalContext, sink: DiagnosticSink): PreparedConstraint[] {
  const out: PreparedConstraint[] = [];
  for (const c of constraints) {
    const metric = c.metric.map((m) => m.text).join('.');
    const spec = BUDGET_METRICS.get(metric);
    if (!spec) {
      const first = c.metric[0];
      sink.error('npas-budget-metric', `unknown metric '${metric}' (known: ${[...BUDGET_METRICS.keys()].join(', ')})`, first ? { start: first.range.start, end: c.metric[c.metric.length - 1]!.range.end } : c.range);
      continue;
    }
    const settings = settingsOf(c, spec, scope, ctx);
    if (!settings) continue;
    const limit = evaluateLimit(c, metric, spec.unit, scope, ctx, sink);
    if (!limit) continue;
    out.push({ constraint: c, text: source.slice(c.range.start, c.range.end), metric, spec, settings, limit });
  }
  return out;
}

/** Measures prepared constraints at `base` settings; a violated one is reported at its constraint. */
export function measureBudget(prepared: readonly PreparedConstraint[], measure: Measure, base: AnalysisOptions, sink: DiagnosticSink): BudgetResult[] {
  return prepared.flatMap(({ constraint: c, text, metric, spec, settings, limit }) => {
    const device = settings.device === undefined ? undefined : findDevice(settings.device, base.devices);
    if (settings.device !== undefined && !device) {
      sink.error('npas-budget-metric', `unknown device '${settings.device}' (use ${[...DEVICE_NAMES, ...(base.devices ?? []).map((x) => x.name)].join(', ')})`, c.range);
      return [];
    }
    // A constraint's dtype classes refine the analysis settings' rather than replace them.
    const options: AnalysisOptions = { ...base, ...settings, precision: { ...base.precision, ...settings.precision }, ...(device ? { device: device.name } : {}) };
    return [verdict(c, text, metric, spec.unit, spec.value(measure, options), limit, sink)];
  });
}

/** A constraint's limit, evaluated in `scope` and checked against the metric's unit (budgets and plans). */
export function evaluateLimit(c: Constraint, metric: string, unit: Unit, scope: Scope, ctx: EvalContext, sink: DiagnosticSink): Q.Rational | undefined {
  const limitValue = evaluate(c.limit, scope, ctx);
  if (limitValue.kind === 'error') return undefined;
  if (limitValue.kind !== 'number') {
    sink.error('npas-eval-type', `the limit of ${metric} must be a number`, c.limit.range);
    return undefined;
  }
  if (limitValue.unit !== unit) {
    const want = unit === 'count' ? 'a plain count' : unit === 'bytes' ? 'bytes (e.g. 128MiB)' : 'a duration (e.g. 40ms)';
    sink.error('npas-eval-unit', `${metric} is measured in ${unit}; write the limit as ${want}`, c.limit.range);
    return undefined;
  }
  return limitValue.value;
}

/** A measured value against a constraint's limit: the result, and a violation reported at the constraint. */
export function verdict(c: Constraint, text: string, metric: string, unit: Unit, value: Q.Rational, limit: Q.Rational, sink: DiagnosticSink): BudgetResult {
  const cmp = Q.compare(value, limit);
  const ok = c.operator === '<=' ? cmp <= 0 : c.operator === '<' ? cmp < 0 : c.operator === '>=' ? cmp >= 0 : c.operator === '>' ? cmp > 0 : cmp === 0;
  if (!ok) sink.error('npas-budget-violated', `budget violated: ${metric} is ${unitLabel(unit, value)}, the limit is ${c.operator} ${unitLabel(unit, limit)}`, c.range);
  return { constraint: text, metric, limit: Q.toDecimalString(limit, 9), value: Q.toDecimalString(value, 9), ok, range: c.range };
}
