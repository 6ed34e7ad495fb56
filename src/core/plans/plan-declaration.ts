// `plan Target { settings; constraints }`: a training plan written in the spec, evaluated with
// the model's own counts and checked like a budget (results beside the budgets, violations as
// `npas-budget-violated` at the constraint). Settings are evaluated in the target's scope, so a
// plan can use the model's constants (`pp = L / 4`). As budgets do, a compilation prepares a plan
// once (settings and limits evaluated, problems reported) and measures it at any analysis
// settings, which supply the defaults for the device, the sequence length and the dtype.

import { evaluateLimit, seconds, verdict } from '../analysis/budgets.js';
import { DEVICE_NAMES, findDevice } from '../analysis/devices.js';
import { DTYPE_NAMES, isDType } from '../analysis/dtypes.js';
import type { AnalysisOptions, BudgetResult, DType } from '../analysis/report-types.js';
import type { DiagnosticSink } from '../diagnostics/diagnostic.js';
import * as Q from '../numbers/rational.js';
import type { Unit } from '../numbers/units.js';
import { evaluate, toSmallInteger, type EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import type { Binding, Constraint, PlanDeclaration } from '../syntax/syntax-tree.js';
import { evaluatePlan, type PlanOutcome, type TrainingPlan } from './evaluate-plan.js';
import { OPTIMIZER_NAMES } from './optimizers.js';
import type { PipelineModel } from './pipeline-units.js';
import { DEFAULT_PLAN, FINETUNE_MODES, RECOMPUTE_MODES, ROOFLINE_EFFICIENCY, efficiencyProblem, type Efficiency, type PlanSettings, type ZeroStage } from './plan-settings.js';

interface PlanMetric {
  readonly unit: Unit;
  readonly doc: string;
  value(p: TrainingPlan): Q.Rational;
}

const bytes = (doc: string, get: (p: TrainingPlan) => bigint): PlanMetric => ({ unit: 'bytes', doc, value: (p) => Q.fromBigInt(get(p)) });

/** What a plan's constraints can measure (per GPU: the most loaded rank). */
export const PLAN_METRICS: ReadonlyMap<string, PlanMetric> = new Map<string, PlanMetric>([
  ['memory.per_gpu', bytes('total bytes on the most loaded GPU', (p) => p.perGpuBytes.total)],
  ['memory.weights', bytes('weight bytes per GPU', (p) => p.perGpuBytes.weights)],
  ['memory.gradients', bytes('gradient bytes per GPU', (p) => p.perGpuBytes.gradients)],
  ['memory.optimizer', bytes('master weights and optimizer states per GPU', (p) => p.perGpuBytes.optimizer)],
  ['memory.activations', bytes('activation bytes per GPU', (p) => p.perGpuBytes.activations)],
  ['memory.loss', bytes('logits and log-softmax bytes on the last stage', (p) => p.perGpuBytes.loss)],
  ['memory.headroom', bytes('device memory left on the most loaded GPU (negative: does not fit)', (p) => p.deviceBytes - p.perGpuBytes.total)],
  ['step', { unit: 'seconds', doc: 'training step time on the roofline', value: (p) => seconds(p.step.seconds) }],
  ['mfu', { unit: 'count', doc: 'model FLOPs utilisation (0 to 1)', value: (p) => seconds(p.mfu) }],
  ['tokens_per_second', { unit: 'count', doc: 'training tokens per second', value: (p) => seconds(p.tokensPerSecond) }],
]);

type IntSetting = 'gpus' | 'gpus_per_node' | 'tp' | 'pp' | 'vpp' | 'dp' | 'cp' | 'ep' | 'etp' | 'micro_batch' | 'global_batch' | 'seq';
const INT_SETTINGS: readonly IntSetting[] = ['gpus', 'gpus_per_node', 'tp', 'pp', 'vpp', 'dp', 'cp', 'ep', 'etp', 'micro_batch', 'global_batch', 'seq'];
const WORD_SETTINGS: ReadonlyMap<string, readonly string[]> = new Map([
  ['device', DEVICE_NAMES],
  ['recompute', RECOMPUTE_MODES],
  ['optimizer', OPTIMIZER_NAMES],
  ['finetune', FINETUNE_MODES],
  // The engine's dtype table, as `npas plan --dtype` reads it (a hand-written copy here lacked mxfp4 and nvfp4).
  ['dtype', DTYPE_NAMES],
  ['grad_dtype', DTYPE_NAMES],
]);

/** The fractions of the peaks a plan may set (`compute_efficiency = 0.45`), by the efficiency each sets. */
const EFFICIENCY_SETTINGS: ReadonlyMap<string, keyof Efficiency> = new Map([
  ['compute_efficiency', 'compute'],
  ['memory_efficiency', 'memory'],
  ['link_efficiency', 'links'],
]);

/** Every setting name a plan accepts (for completion and the error message). */
export const PLAN_SETTING_NAMES: readonly string[] = [...INT_SETTINGS, 'zero', ...WORD_SETTINGS.keys(), 'master', ...EFFICIENCY_SETTINGS.keys()];

/** A plan declaration with its settings and limits evaluated. */
export interface PreparedPlan {
  readonly declaration: PlanDeclaration;
  readonly settings: PlanDraft;
  readonly constraints: readonly { readonly constraint: Constraint; readonly text: string; readonly metric: string; readonly spec: PlanMetric; readonly limit: Q.Rational }[];
}

/** The settings a plan writes; the rest default at measuring time. */
interface PlanDraft {
  readonly ints: ReadonlyMap<IntSetting, number>;
  readonly words: ReadonlyMap<string, string>;
  readonly zero: ZeroStage;
  readonly master: boolean;
  readonly efficiency: Efficiency;
}

/** Evaluates a plan's settings and limits; undefined (with located errors) when a setting is invalid. */
export function preparePlan(item: PlanDeclaration, source: string, scope: Scope, ctx: EvalContext, sink: DiagnosticSink): PreparedPlan | undefined {
  const settings = readSettings(item.settings, scope, ctx, sink);
  const constraints: PreparedPlan['constraints'][number][] = [];
  for (const c of item.constraints) {
    const metric = c.metric.map((m) => m.text).join('.');
    const spec = PLAN_METRICS.get(metric);
    if (!spec) {
      const first = c.metric[0]!;
      sink.error('npas-budget-metric', `unknown plan metric '${metric}' (known: ${[...PLAN_METRICS.keys()].join(', ')})`, { start: first.range.start, end: c.metric[c.metric.length - 1]!.range.end });
      continue;
    }
    if (c.args.length > 0) {
      sink.error('npas-budget-metric', `${metric} takes no arguments in a plan (its settings are the plan's)`, c.args[0]!.range);
      continue;
    }
    const limit = evaluateLimit(c, metric, spec.unit, scope, ctx, sink);
    if (limit) constraints.push({ constraint: c, text: source.slice(c.range.start, c.range.end), metric, spec, limit });
  }
  return settings ? { declaration: item, settings, constraints } : undefined;
}

/**
 * Measures a prepared plan at the analysis settings. `modelAt(seq, dtype)` is the target's
 * pipeline view analysed at the plan's sequence length and dtype. Settings that do not fit
 * together are one `npas-plan` error at the plan's target.
 */
export function measurePlan(plan: PreparedPlan, base: AnalysisOptions, modelAt: (seq: number, dtype: DType) => PipelineModel, sink: DiagnosticSink): BudgetResult[] {
  const outcome = planOutcome(plan, base, modelAt);
  if (!outcome.ok) {
    sink.error('npas-plan', `plan for ${plan.declaration.target.text}: ${outcome.problems.join('; ')}`, plan.declaration.target.range);
    return [];
  }
  return plan.constraints.map((c) => verdict(c.constraint, c.text, c.metric, c.spec.unit, c.spec.value(outcome.plan), c.limit, sink));
}

/** A prepared plan evaluated at the analysis settings (the dashboard's Plan pane draws it). */
export function planOutcome(plan: PreparedPlan, base: AnalysisOptions, modelAt: (seq: number, dtype: DType) => PipelineModel): PlanOutcome {
  const settings = completeSettings(plan.settings, base);
  return evaluatePlan(modelAt(settings.seq, settings.dtypes.weights), settings);
}

function readSettings(bindings: readonly Binding[], scope: Scope, ctx: EvalContext, sink: DiagnosticSink): PlanDraft | undefined {
  const ints = new Map<IntSetting, number>();
  const words = new Map<string, string>();
  let zero: ZeroStage = 0;
  let master = true;
  const efficiency: { -readonly [K in keyof Efficiency]: number } = { ...ROOFLINE_EFFICIENCY };
  let ok = true;
  const seen = new Set<string>();
  for (const b of bindings) {
    const name = b.name.text;
    if (seen.has(name)) {
      sink.error('npas-name-duplicate', `the plan sets ${name} twice`, b.name.range);
      ok = false;
      continue;
    }
    seen.add(name);
    const allowed = WORD_SETTINGS.get(name);
    if (allowed) {
      const word = b.value.kind === 'Name' ? b.value.name.text : b.value.kind === 'String' ? b.value.value : undefined;
      const canonical = word === undefined ? undefined : name === 'device' ? findDevice(word)?.name : allowed.includes(word) ? word : undefined;
      if (canonical === undefined) {
        sink.error('npas-plan', `${name} must be one of ${allowed.join(', ')}`, b.value.range);
        ok = false;
      } else words.set(name, canonical);
      continue;
    }
    if ((INT_SETTINGS as readonly string[]).includes(name) || name === 'zero') {
      const n = toSmallInteger(evaluate(b.value, scope, ctx), b.value.range, ctx, name);
      if (n === undefined) {
        ok = false;
        continue;
      }
      if (name === 'zero') {
        if (n < 0 || n > 3) {
          sink.error('npas-plan', `zero must be 0, 1, 2 or 3, got ${n}`, b.value.range);
          ok = false;
        } else zero = n as ZeroStage;
        continue;
      }
      if (n < 1 || n > 1 << 30) {
        sink.error('npas-eval-range', `${name} must be between 1 and ${1 << 30}, got ${n}`, b.value.range);
        ok = false;
      } else ints.set(name as IntSetting, n);
      continue;
    }
    const fraction = EFFICIENCY_SETTINGS.get(name);
    if (fraction) {
      const v = evaluate(b.value, scope, ctx);
      if (v.kind !== 'number' || v.unit !== 'count') {
        if (v.kind !== 'error') sink.error('npas-eval-type', `${name} is a plain number, the fraction of the peak reached (e.g. 0.45)`, b.value.range);
        ok = false;
        continue;
      }
      const problem = efficiencyProblem(fraction, Q.toNumber(v.value));
      if (problem) {
        sink.error('npas-plan', problem, b.value.range);
        ok = false;
      } else efficiency[fraction] = Q.toNumber(v.value);
      continue;
    }
    if (name === 'master') {
      const v = evaluate(b.value, scope, ctx);
      if (v.kind !== 'bool') {
        if (v.kind !== 'error') sink.error('npas-eval-type', 'master must be true or false', b.value.range);
        ok = false;
      } else master = v.value;
      continue;
    }
    sink.error('npas-plan', `unknown plan setting '${name}' (known: ${PLAN_SETTING_NAMES.join(', ')})`, b.name.range);
    ok = false;
  }
  return ok ? { ints, words, zero, master, efficiency } : undefined;
}

function completeSettings(draft: PlanDraft, base: AnalysisOptions): PlanSettings {
  const { ints, words } = draft;
  const tp = ints.get('tp') ?? 1;
  const pp = ints.get('pp') ?? 1;
  const cp = ints.get('cp') ?? 1;
  const gpus = ints.get('gpus') ?? tp * pp * cp * (ints.get('dp') ?? 1);
  const dp = ints.get('dp') ?? Math.max(1, Math.floor(gpus / (tp * pp * cp)));
  const microBatch = ints.get('micro_batch') ?? 1;
  const weightsWord = words.get('dtype');
  const weights: DType = weightsWord !== undefined && isDType(weightsWord) ? weightsWord : base.dtype;
  const gradWord = words.get('grad_dtype');
  const gradients: DType = gradWord !== undefined && isDType(gradWord) ? gradWord : weights;
  return {
    ...DEFAULT_PLAN,
    device: words.get('device') ?? base.device,
    gpus,
    gpusPerNode: ints.get('gpus_per_node') ?? DEFAULT_PLAN.gpusPerNode,
    parallel: { tp, pp, vpp: ints.get('vpp') ?? 1, dp, cp, ep: ints.get('ep') ?? 1, etp: ints.get('etp') ?? tp, zero: draft.zero },
    microBatch,
    globalBatch: ints.get('global_batch') ?? microBatch * dp,
    seq: ints.get('seq') ?? base.seq,
    recompute: (words.get('recompute') as PlanSettings['recompute'] | undefined) ?? DEFAULT_PLAN.recompute,
    optimizer: (words.get('optimizer') as PlanSettings['optimizer'] | undefined) ?? DEFAULT_PLAN.optimizer,
    masterWeights: draft.master,
    finetune: (words.get('finetune') as PlanSettings['finetune'] | undefined) ?? DEFAULT_PLAN.finetune,
    dtypes: { weights, activations: weights, gradients, master: 'fp32' },
    efficiency: draft.efficiency,
  };
}
