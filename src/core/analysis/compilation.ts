// One compilation per document version (TypeScript's `Program`, rust-analyzer's database): the
// parsed file, every evaluated model and variant with its resolved sharing and per-member
// totals, and the budgets' prepared constraints, computed once. Everything that depends on the
// analysis settings (metrics, reports, budget verdicts) is asked of it and memoised on it, so a
// dashboard's sequence sweep, a settings change in the editor or a second command over the same
// text never parses, evaluates or walks again. Caches live here, never in module state: a
// compilation is dropped with its document version. Never throws.

import { DiagnosticSink, type Diagnostic } from '../diagnostics/diagnostic.js';
import { routedEffective, type RoutedEffectiveReport } from './routed-effective-params.js';
import type { ParsedSource } from '../imports/parsed-sources.js';
import { NO_IMPORTS, resolveImports, type ImportHost, type ResolvedImports } from '../imports/resolve-imports.js';
import type { SourceId, SourceRange } from '../imports/source-id.js';
import type { Value } from '../semantics/values.js';
import { SourceSet } from '../imports/source-set.js';
import { importedErrorSummaries } from '../imports/imported-errors.js';
import type { ModelMember } from '../model/module-tree.js';
import { parse } from '../syntax/parser.js';
import type { Binding, ImportDeclaration, Path, SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { EvalContext, LIMITS, type EvaluatedBinding } from '../semantics/evaluator.js';
import { AnalysisCancelled } from '../semantics/cancellation.js';
import { evaluateFile, type EvaluatedFile, type EvaluatedModel } from '../semantics/evaluate-model.js';
import type { ResolvedSharing } from '../sharing/declarations.js';
import { resolvePath, type ResolvedPath } from '../sharing/resolve-path.js';
import { resolveSharing } from '../sharing/resolve-statements.js';
import { SHARING_SCHEMES } from '../schemes/registry.js';
import { resolveParameterization, type Parameterization } from '../parameterization/resolve-parameterization.js';
import { transferTable } from '../parameterization/transfer.js';
import { factorizedWeights } from '../sharing/factorized-weights.js';
import { measureBudget, prepareBudget, type PreparedConstraint } from './budgets.js';
import { DTYPE_NAMES, isDType } from './dtypes.js';
import { DEVICE_NAMES, findDevice, type DeviceProfile } from './devices.js';
import { PRECISION_CLASSES } from './precision.js';
import { globalTotals } from './layer-totals.js';
import { hasTaskSubsets, singleTask, subsetSplit, taskCount, taskSplit, withoutTask, type TaskSplit } from './tasks.js';
import { pooledMasks, pooledMaskTotals, withoutPooledMasks } from './pooled-masks.js';
import { classifyEncoders, computeMetrics, type DtypeView, type MemberTotals, type ModelMetrics } from './model-metrics.js';
import type { AnalysisOptions, DType, WeightDtypeSetting, ModelReport, NodeReport, ParallelReport, Precision, SharedPrefixReport } from './report-types.js';
import { sumTotals, withBuilds, type Totals } from './totals.js';
import { overrideDtypes, parsePathText, settingsModifiers } from './weight-dtypes.js';
import { mixedUnits } from './units.js';
import { readModelPrecision, withModelPrecision } from './model-precision.js';
import { readMaxContext } from './max-context.js';
import { ModelWalker, reportOf, WalkBudgetSpent, type WalkResult } from './walk.js';
import * as Q from '../numbers/rational.js';
import { resolveParallel, type ParallelStreams } from './parallel-streams.js';
import { resolveSmash, type SmashedMember } from './token-smashing.js';
import { measurePlan, preparePlan, type PreparedPlan } from '../plans/plan-declaration.js';
import { pipelineModel } from '../plans/pipeline-units.js';
import { sharedStores } from '../plans/shared-stores.js';
import { appendAll } from '../collections/append-all.js';

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

/** One model or variant as compiled: its architecture, sharing and settings-independent totals. */
export interface CompiledModel {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  readonly base: string | undefined;
  /** The name's range. */
  readonly range: TextRange;
  readonly evaluated: EvaluatedModel;
  readonly members: readonly ModelMember[];
  readonly sharing: ResolvedSharing;
  readonly statements: EvaluatedModel['statements'];
  /** Totals of each top-level member, in member order. */
  readonly memberTotals: readonly MemberTotals[];
  /**
   * The members' totals summed per role (decoder-side, encoder; run per parallel stream or
   * once): the metrics are sums over members whose terms depend only on the role, and exact
   * rationals make the sum of the sums equal, so `metricsAt` costs what a few members cost
   * however many a written-out spec has. A `parallel` statement's own stores and aggregator
   * are one more entry, run once.
   */
  readonly memberTotalsByRole: readonly MemberTotals[];
  /** The parts of the model `precision weights` overrides store in dtypes of their own, each walked alone (weight-dtypes.ts). */
  readonly dtypeViews: readonly DtypeView[];
  /** The views with the settings' path overrides after the spec's, and the paths the model lacks. */
  dtypeViewsWith(settings: readonly WeightDtypeSetting[]): { readonly views: readonly DtypeView[]; readonly unresolved: readonly string[] };
  /** The model's totals, global stores and head-sharing savings included. */
  readonly whole: Totals;
  /** The per-node report (settings-independent). */
  readonly tree: NodeReport;
  /** With per-task adapters (`tasks: T`): stored numbers per task and shared by all tasks. */
  readonly tasks: TaskSplit | undefined;
  /** The `param` statement's rules per weight (absent when the model declares none). */
  readonly parameterization: Parameterization | undefined;
  /** The `parallel` statement: P streams over the same weights (absent when the model declares none). */
  readonly parallel: ParallelStreams | undefined;
  /** The members a `smash` statement runs over smashed positions (token smashing), in statement order. */
  readonly smashed: readonly SmashedMember[];
  /** The constraints of every `budget` block naming this model, in file order. */
  readonly budget: readonly PreparedConstraint[];
  /** Every `plan` declaration naming this model, in file order (docs/plans.md). */
  readonly plans: readonly PreparedPlan[];
  /** The tensor classes the model's `precision` statements set (model-precision.ts). */
  readonly precision: Partial<Precision>;
  /** The longest context the model declares (`max_context`, max-context.ts); undefined without one. */
  readonly maxContext: number | undefined;
  /** Resolves a path written in this model (its problems were reported when the model compiled). */
  resolve(path: Path): ResolvedPath | undefined;
}

/** The options' identity, for memo keys. */
const optionsKey = (o: AnalysisOptions): string =>
  `${o.seq}|${o.srcSeq ?? ''}|${o.sharedPrefix ? `${o.sharedPrefix.tokens}/${o.sharedPrefix.continuations}` : ''}|${o.batch}|${o.dtype}|${o.device}|${JSON.stringify(o.precision ?? {})}|${JSON.stringify(o.loss ?? {})}|${JSON.stringify(o.weightDtypes ?? [])}|${(o.devices ?? []).map(deviceKey).join(',')}`;
/** A user device's identity: every number it contributes. */
const deviceKey = (d: DeviceProfile): string => JSON.stringify([d.name, d.peakFlops, d.bandwidth, String(d.memoryBytes), d.links]);

/** A top-level name declared in an imported file (`Compilation.importedDeclaration`). */
export interface ImportedDeclaration {
  readonly name: string;
  readonly kind: 'constant' | 'block' | 'model' | 'variant';
  readonly nameRange: SourceRange;
  readonly range: SourceRange;
  /** The text of the file that declares it. */
  readonly text: string;
  /** A constant's value, where the analysis evaluated it. */
  readonly value?: Value;
}

/** Where a compilation's file lives, for imports (docs/language.md, "Imports"). */
export interface CompileOptions {
  /** The compiled file's id (a path or URI): imports are resolved relative to it, diagnostics carry it. */
  readonly source?: SourceId;
  /** How imported files are read and cached; without it an import is reported, not followed. */
  readonly imports?: ImportHost;
  /**
   * Whether the caller has stopped wanting this compilation (an editor's newer version arrived).
   * Asked about once per 1,024 evaluation steps or walked nodes; must be cheap.
   */
  readonly cancelled?: () => boolean;
}

export class Compilation {
  readonly file: SourceFile;
  /** The compiled file and every file its imports reach, and where each one's offsets lie. */
  readonly sources: SourceSet;
  /** The files the imports reached, the ones they import first. */
  readonly imported: readonly ParsedSource[];
  /** The file each import of the compiled file names, where it was read. */
  readonly importTargets: ReadonlyMap<ImportDeclaration, SourceId>;
  readonly models: readonly CompiledModel[];
  /** Every binding evaluated (see `AnalysisResult.evaluated`). */
  readonly evaluated: readonly EvaluatedBinding[];
  /** Diagnostics that do not depend on the settings: syntax, evaluation, sharing, budget constraints. */
  readonly diagnostics: readonly Diagnostic[];
  /** `diagnostics` with the ranges on the one line of offsets of all files (`imports/source-set.ts`). */
  private readonly rawDiagnostics: readonly Diagnostic[];
  /** The devices the file declares (`Chip = Device(…)`): every analysis setting may name them. */
  readonly devices: readonly DeviceProfile[];
  private readonly byName = new Map<string, CompiledModel>();
  /** The compiled file's top-level scope and models (imported names included), for `importedDeclaration`. */
  private visible: EvaluatedFile | undefined;
  private readonly metricsMemo = new Map<string, ModelMetrics>();
  private readonly analysisMemo = new Map<string, AnalysisResult>();

  /**
   * `options.cancelled` is asked every few thousand steps; once it answers true the constructor
   * throws `AnalysisCancelled` (semantics/cancellation.ts), the only exception it lets through.
   */
  constructor(
    readonly text: string,
    readonly options: CompileOptions = {},
  ) {
    // A spec past the size limit is refused whole: parsing and evaluating 100 MB of text would
    // take minutes and gigabytes (docs/diagnostics.md, "Limits of the analysis").
    const tooLarge = text.length > MAX_SPEC_CHARS;
    const parsed = parse(tooLarge ? '' : text);
    const sink = new DiagnosticSink();
    if (tooLarge) sink.error('npas-eval-too-large', `this spec is ${(text.length / (1024 * 1024)).toFixed(1)} MiB of text; specs over ${MAX_SPEC_CHARS / (1024 * 1024)} MiB are not analysed`, { start: 0, end: 0 });
    appendAll(sink.items, parsed.diagnostics);
    const imports = followImports(parsed.file, text.length, options, sink);
    for (const f of imports.files) appendAll(sink.items, f.diagnostics);
    this.imported = imports.files;
    this.importTargets = new Map([...imports.targets].filter(([d]) => parsed.file.items.includes(d)).map(([d, f]) => [d, f.source]));
    this.sources = new SourceSet({ source: options.source, text, base: 0 });
    for (const f of imports.files) this.sources.add(f);
    const ctx = new EvalContext(sink, options.cancelled);
    const models: CompiledModel[] = [];
    try {
      const evaluatedFile = evaluateFile(parsed.file, ctx, imports);
      this.visible = evaluatedFile;
      // A spec refused for its size (the work budget ran out) is not reported: its models are
      // partial, and walking them would spend the time the budget exists to save.
      for (const m of ctx.exhausted ? [] : evaluatedFile.models) {
        const walked = compileModel(m, ctx);
        // The walks spend from the same budget: once it is spent no later model is reported.
        if (ctx.exhausted) {
          models.length = 0;
          this.byName.clear();
          break;
        }
        if (!walked) continue;
        // A model built from an imported file's declarations reports where each node is written.
        const compiled = this.imported.length === 0 ? walked : { ...walked, tree: locatedTree(walked.tree, this.sources, new Map()) };
        models.push(compiled);
        this.byName.set(m.name, compiled);
      }
      for (const item of parsed.file.items) {
        if (item.kind !== 'Budget' && item.kind !== 'Plan') continue;
        const target = this.byName.get(item.target.text);
        if (!target) {
          if (item.target.text !== '') sink.error('npas-budget-target', `'${item.target.text}' is not a model or variant of this file`, item.target.range);
          continue;
        }
        let updated: CompiledModel;
        if (item.kind === 'Plan') {
          const plan = preparePlan(item, text, target.evaluated.scope, ctx, sink);
          updated = { ...target, plans: plan ? [...target.plans, plan] : target.plans };
        } else {
          const prepared = prepareBudget(item.constraints, text, target.evaluated.scope, ctx, sink);
          updated = { ...target, budget: [...target.budget, ...prepared] };
        }
        models[models.indexOf(target)] = updated;
        this.byName.set(target.name, updated);
      }
    } catch (e) {
      if (e instanceof AnalysisCancelled) throw e;
      // The engine must never take its host down; an internal error is a bug reported as such.
      internalError(sink, e);
    }
    // The importer hears of its imports' errors at its own imports.
    appendAll(sink.items, importedErrorSummaries(parsed.file, imports, this.sources, sink.items));
    this.file = parsed.file;
    this.models = models;
    this.evaluated = ctx.bindingValues;
    this.devices = specDevices(ctx.bindingValues, sink);
    this.rawDiagnostics = sink.items;
    this.diagnostics = this.located(sink.items);
  }

  /** Diagnostics with each range made local to its file, and that file's id. */
  private located(items: readonly Diagnostic[]): Diagnostic[] {
    if (this.imported.length === 0 && this.options.source === undefined) return [...items];
    return items.map((d) => {
      const { source, range } = this.sources.locate(d.range);
      return source === undefined ? d : { ...d, range, source };
    });
  }

  /**
   * Where a top-level name that this file imports is declared (undefined for a name the file
   * declares itself, or does not see): its file, its name's range and the declaration's range,
   * offsets local to that file. For go-to-definition and hover across files.
   */
  importedDeclaration(name: string): ImportedDeclaration | undefined {
    const entry = this.visible?.fileScope.entries.get(name);
    let found: { kind: ImportedDeclaration['kind']; name: TextRange; range: TextRange; binding?: Binding } | undefined;
    if (entry?.kind === 'import') {
      const t = entry.target;
      if (t.kind === 'binding') found = { kind: 'constant', name: t.binding.name.range, range: t.binding.range, binding: t.binding };
      else if (t.kind === 'block') found = { kind: 'block', name: t.decl.name.range, range: t.decl.range };
    } else if (!entry) {
      const decl = this.visible?.declarations.get(name);
      if (decl) found = { kind: decl.kind === 'Model' ? 'model' : 'variant', name: decl.name.range, range: decl.range };
    }
    if (!found || this.sources.isMain(found.name)) return undefined;
    const nameRange = this.sources.sourceRange(found.name);
    const range = this.sources.sourceRange(found.range);
    if (!nameRange || !range) return undefined;
    const text = this.sources.entryOf(found.name).text;
    const value = found.binding && this.evaluated.find((e) => e.binding === found.binding)?.value;
    return { name, kind: found.kind, nameRange, range, text, ...(value ? { value } : {}) };
  }

  model(name: string): CompiledModel | undefined {
    return this.byName.get(name);
  }

  /** A model's metrics at given settings (memoised; the settings are taken as valid). */
  metricsAt(model: CompiledModel, settings: AnalysisOptions): ModelMetrics {
    const options = withModelPrecision(settings, model.precision);
    const key = `${model.name}|${optionsKey(options)}`;
    let m = this.metricsMemo.get(key);
    if (!m) {
      const views = options.weightDtypes && options.weightDtypes.length > 0 ? model.dtypeViewsWith(options.weightDtypes).views : model.dtypeViews;
      m = computeMetrics(model.memberTotalsByRole, model.whole, options, model.parallel, views);
      this.metricsMemo.set(key, m);
    }
    return m;
  }

  /** The settings completed with the defaults and checked; a bad value is reported and replaced. */
  settings(options: Partial<AnalysisOptions> = {}, sink: DiagnosticSink = new DiagnosticSink()): AnalysisOptions {
    const given = { ...DEFAULT_OPTIONS, ...stripUndefined(options) };
    // The spec's own devices join the settings' (a devices file), which come first.
    const devices = this.devices.length > 0 ? { devices: [...(given.devices ?? []), ...this.devices] } : {};
    return checkedOptions({ ...given, ...devices }, sink);
  }

  /** Every model's report and every diagnostic at given settings (memoised per settings). */
  analysis(options: Partial<AnalysisOptions> = {}): AnalysisResult {
    // Keyed by the settings as given: two bad values falling back to the same default differ in their diagnostic.
    const key = optionsKey({ ...DEFAULT_OPTIONS, ...stripUndefined(options) });
    const hit = this.analysisMemo.get(key);
    if (hit) return hit;
    const sink = new DiagnosticSink();
    appendAll(sink.items, this.rawDiagnostics);
    const opts = this.settings(options, sink);
    const models: ModelReport[] = [];
    try {
      for (const m of this.models) models.push(this.report(m, opts, sink));
      // A settings path override that names nothing in any model is said once.
      for (const path of new Set(opts.weightDtypes?.map((w) => w.path))) {
        if (this.models.length > 0 && this.models.every((m) => m.dtypeViewsWith(opts.weightDtypes!).unresolved.includes(path))) {
          sink.warning('npas-eval-range', `the analysis setting weightDtypes names '${path}', which is no member or weight of ${this.models.length === 1 ? this.models[0]!.name : 'any model'}; nothing is stored differently`, { start: 0, end: 0 });
        }
      }
    } catch (e) {
      internalError(sink, e);
    }
    const result: AnalysisResult = { file: this.file, diagnostics: this.located(finalize(sink.items)), models, evaluated: this.evaluated };
    this.analysisMemo.set(key, result);
    return result;
  }

  private report(m: CompiledModel, options: AnalysisOptions, sink: DiagnosticSink): ModelReport {
    // A learned position table has no row past its last position: the numbers at a longer
    // sequence describe a model that cannot run there.
    const limit = m.whole.positionLimit;
    if (limit !== undefined && !m.whole.perSample && options.seq > limit) {
      sink.warning('npas-seq-beyond-positions', `seq ${options.seq} exceeds the ${limit} positions of ${m.name}'s learned position table: it has no embedding for positions ${limit}..${options.seq - 1}`, m.range);
    }
    // A declared maximum context (a rotary model's max_position_embeddings) likewise.
    if (m.maxContext !== undefined && options.seq > m.maxContext) {
      sink.warning('npas-seq-beyond-context', `seq ${options.seq} exceeds ${m.name}'s declared max_context of ${m.maxContext} tokens: the numbers describe a context the model was not made for`, m.range);
    }
    const budgets = measureBudget(m.budget, { params: m.tree.params, tasks: m.tasks, metricsAt: (o) => this.metricsAt(m, o) }, options, sink);
    if (m.plans.length > 0) {
      // A plan reads the model at its own sequence length and dtype (batch 1: plans scale by their micro-batch).
      const stores = sharedStores(m);
      const modelAt = (seq: number, dtype: AnalysisOptions['dtype']) => pipelineModel(this.plainReport(m, { ...options, seq, batch: 1, dtype }), stores);
      for (const plan of m.plans) appendAll(budgets, measurePlan(plan, options, modelAt, sink));
    }
    return { ...this.plainReport(m, options), budgets };
  }

  /** A model's name range in its own file, and that file when it is an imported one. */
  private locatedRange(range: TextRange): { range: TextRange; source?: SourceId } {
    if (this.sources.isMain(range)) return { range };
    const located = this.sources.locate(range);
    return located.source === undefined ? { range } : { range: located.range, source: located.source };
  }

  /**
   * What the settings' shared prompt saves: the report's prefill and KV beside the k continuations
   * run apart, k·batch sequences of seq tokens without sharing (measured, not scaled, so the
   * rounding of sub-byte caches stays the engine's).
   */
  private sharedPrefixReport(m: CompiledModel, options: AnalysisOptions, metrics: ModelMetrics): { sharedPrefix?: SharedPrefixReport } {
    const share = options.sharedPrefix;
    if (!share || share.tokens >= options.seq) return {};
    const k = share.continuations;
    const apart = this.metricsAt(m, { ...options, batch: options.batch * k, sharedPrefix: undefined });
    return {
      sharedPrefix: {
        tokens: share.tokens,
        continuations: k,
        computedTokens: share.tokens + k * (options.seq - share.tokens),
        unsharedTokens: k * options.seq,
        prefillFlops: metrics.flops.prefill,
        unsharedPrefillFlops: apart.flops.prefill,
        kvCacheBytes: metrics.kvCacheBytes,
        unsharedKvCacheBytes: apart.kvCacheBytes,
      },
    };
  }

  /** A model's report at given settings without its budgets and plans. */
  private plainReport(m: CompiledModel, options: AnalysisOptions): ModelReport {
    const metrics = this.metricsAt(m, options);
    const factorized = factorizedWeights(m.sharing);
    return {
      name: m.name,
      kind: m.kind,
      base: m.base,
      ...this.locatedRange(m.range),
      options: withModelPrecision(options, m.precision),
      params: m.tree.params,
      flops: metrics.flops,
      kvCacheBytes: metrics.kvCacheBytes,
      recurrentStateBytes: metrics.recurrentStateBytes,
      memory: metrics.memory,
      latency: metrics.latency,
      routing: metrics.routing,
      ...(m.parallel ? { parallel: parallelReport(m.parallel) } : {}),
      ...this.sharedPrefixReport(m, options, metrics),
      ...(m.smashed.length > 0 ? { smashed: m.smashed.map((x) => ({ member: x.member, tokensPerEntry: Q.toDecimalString(x.tokensPerEntry) })) } : {}),
      pools: metrics.pools,
      ...optionalRoutedEffective(m.tree.params.active, metrics.routing),
      ...(m.tasks ? { tasks: m.tasks } : {}),
      budgets: [],
      tree: m.tree,
      ...(m.parameterization ? { parameterization: transferTable(m.parameterization) } : {}),
      ...(factorized.length > 0 ? { factorized } : {}),
    };
  }
}

/**
 * Compiles a `.npas` source (a file with imports: pass its id and an import host). Never throws,
 * except `AnalysisCancelled` when `options.cancelled` answered true.
 */
export function compile(text: string, options: CompileOptions = {}): Compilation {
  return new Compilation(text, options);
}

/** A report tree with every node in an imported file given that file and its own offsets (shared subtrees stay shared). */
function locatedTree(node: NodeReport, sources: SourceSet, memo: Map<NodeReport, NodeReport>): NodeReport {
  const hit = memo.get(node);
  if (hit) return hit;
  const children = node.children.map((c) => locatedTree(c, sources, memo));
  const changedChild = children.some((c, i) => c !== node.children[i]);
  let out = node;
  if (!sources.isMain(node.range)) {
    const located = sources.locate(node.range);
    out = { ...node, range: located.range, ...(located.source === undefined ? {} : { source: located.source }), children };
  } else if (changedChild) out = { ...node, children };
  memo.set(node, out);
  return out;
}

/** The imports of the compiled file, followed where a host can read files, reported where not. */
function followImports(file: SourceFile, chars: number, options: CompileOptions, sink: DiagnosticSink): ResolvedImports {
  if (options.source !== undefined && options.imports) {
    const resolved = resolveImports(file, options.source, chars, options.imports);
    appendAll(sink.items, resolved.diagnostics);
    return resolved;
  }
  for (const item of file.items) {
    if (item.kind === 'Import') sink.error('npas-import-missing', `imports are not followed here: this text was analysed without its file`, item.path.range);
  }
  return NO_IMPORTS;
}

/** Largest spec analysed, in UTF-16 code units (a written-out 100,000-layer spec is about 4 MiB). */
export const MAX_SPEC_CHARS = 16 * 1024 * 1024;

/**
 * Largest effective parameter count, FLOPs per token or activation a model may reach. Counts
 * stay exact bigints at any size, but the report also derives floating-point estimates
 * (latency, rates) and byte totals at up to 2³⁰ tokens from them: below this bound every one
 * of those is finite, so no Infinity or NaN reaches a report. The largest trained models are
 * near 10¹³ parameters.
 */
const MAX_REPORTED_MAGNITUDE = 10n ** 30n;

function tooLargeToReport(t: Totals): boolean {
  const big = (q: Q.Rational): boolean => Q.ceil(q.num < 0n ? Q.neg(q) : q) > MAX_REPORTED_MAGNITUDE;
  return t.effective > MAX_REPORTED_MAGNITUDE || t.stored > MAX_REPORTED_MAGNITUDE || t.generationMacs > MAX_REPORTED_MAGNITUDE || big(t.flops) || big(t.activation) || big(t.active);
}

/** Walks every member under `sharing`, spending from the work budget (refused at `at`: throws `WalkBudgetSpent`). */
function walkMembers(members: readonly ModelMember[], sharing: ResolvedSharing, ctx: EvalContext, at: TextRange, view?: DType): WalkResult[] {
  const walker = new ModelWalker(sharing, ctx.cancellation, (steps) => ctx.spend(steps, at), view, members);
  return members.map((member) => walker.walkMember(member));
}

/** The model's totals: its parts with the global stores and the head-sharing savings. */
function wholeOf(parts: readonly Totals[], sharing: ResolvedSharing): Totals {
  // A W tied readers need built is built once per step, however many of them report it.
  const whole = withBuilds(sumTotals(parts));
  const globalStores = globalTotals(whole.globals);
  const headSavings = sharing.headShares.reduce((s, h) => s + h.savedParams, 0n);
  return {
    ...whole,
    stored: whole.stored + globalStores.stored - headSavings,
    // The saved head slices are base weights: adapters freeze them, so they were never trainable.
    trainable: whole.trainable + globalStores.trainable - (!sharing.hasAdapters && whole.trainable >= headSavings ? headSavings : 0n),
  };
}

/** A model's compiled totals, or undefined when it is too large to report (refused, located at its name). */
function compileModel(m: EvaluatedModel, ctx: EvalContext): CompiledModel | undefined {
  // Each statement is resolved and walked once per model or variant that carries it (a variant
  // carries its base's): a long chain adding statements spends the budget quadratically.
  if (!ctx.spend(m.statements.length * LIMITS.statementSteps, m.nameRange)) return undefined;
  try {
    return walkModel(m, ctx);
  } catch (e) {
    if (e instanceof WalkBudgetSpent) return undefined;
    throw e;
  }
}

function walkModel(m: EvaluatedModel, ctx: EvalContext): CompiledModel | undefined {
  const sharing = resolveSharing(m.members, m.statements, ctx, SHARING_SCHEMES);
  const results = walkMembers(m.members, sharing, ctx, m.nameRange);
  const encoders = classifyEncoders(results.map((r) => r.totals));
  const parallel = resolveParallel(m.statements, m.members, results.map((r) => r.totals), m.declaration.range, ctx);
  const streamsOf = (i: number): number => (parallel && i < parallel.mergeIndex ? parallel.streams : 1);
  const smashed = resolveSmash(m.statements, m.members, results.map((r) => r.totals), encoders, m.declaration.range, ctx);
  const memberTotals: MemberTotals[] = results.map((r, i) => {
    const smash = smashed.get(i)?.tokensPerEntry;
    return { totals: r.totals, encoder: encoders[i]!, streams: streamsOf(i), ...(smash ? { smash } : {}) };
  });
  const streamsPart = parallel ? [parallel.own] : [];
  const masks = pooledMaskPart(m, sharing, results, streamsPart, ctx);
  const extra = [...streamsPart, ...masks];
  const whole = wholeOf([...results.map((r) => r.totals), ...extra], sharing);
  // Per-task adapters: the same model with one task per adapter splits stored into shared and per task.
  const tasks = taskCount(sharing);
  // Weights a `precision weights` override stores in a dtype of their own: each dtype's part walked alone (weight-dtypes.ts).
  const viewsOf = (s: ResolvedSharing): DtypeView[] =>
    overrideDtypes(s).map((dtype) => {
      const parts = walkMembers(m.members, s, ctx, m.nameRange, dtype).map((r) => r.totals);
      return { dtype, members: groupByRole(memberTotals.map((t, i) => ({ ...t, totals: parts[i]! }))), whole: sumTotals(parts) };
    });
  const dtypeViews = viewsOf(sharing);
  const resolveQuietly = (path: Path): ResolvedPath | undefined => ctx.quietly(() => resolvePath(path, m.members, m.scope, ctx));
  // The settings' path overrides (`--weights-dtype body.attn=fp8`) come after the spec's, so they win.
  const firstSettingsId = sharing.modifiers.reduce((max, x) => Math.max(max, x.id), 0) + 1;
  const viewsMemo = new Map<string, { views: readonly DtypeView[]; unresolved: readonly string[] }>();
  const dtypeViewsWith = (settings: readonly WeightDtypeSetting[]): { views: readonly DtypeView[]; unresolved: readonly string[] } => {
    const key = JSON.stringify(settings);
    let hit = viewsMemo.get(key);
    if (!hit) {
      const extra = settingsModifiers(settings, resolveQuietly, firstSettingsId, m.nameRange);
      let views: readonly DtypeView[] = dtypeViews;
      try {
        if (extra.modifiers.length > 0) views = ctx.quietly(() => viewsOf({ ...sharing, modifiers: [...sharing.modifiers, ...extra.modifiers] }));
      } catch (e) {
        if (!(e instanceof WalkBudgetSpent)) throw e;
      }
      hit = { views, unresolved: extra.unresolved };
      viewsMemo.set(key, hit);
    }
    return hit;
  };
  const storedWith = (s: ResolvedSharing): bigint => wholeOf([...walkMembers(m.members, s, ctx, m.nameRange).map((r) => r.totals), ...extra], sharing).stored;
  const split = tasks < 2 ? undefined : hasTaskSubsets(sharing) ? subsetSplit(tasks, whole.stored, (t) => storedWith(withoutTask(sharing, t))) : taskSplit(tasks, whole.stored, storedWith(singleTask(sharing)));
  if (tooLargeToReport(whole)) {
    ctx.sink.error('npas-eval-too-large', `${m.name} is too large to analyse: its parameters, FLOPs per token or activations pass 10^30`, m.nameRange);
    return undefined;
  }
  const tree = reportOf(m.name, 'model', m.kind, 1n, 0n, whole, m.declaration.range, results.map((r, i) => ({ ...r.report, range: m.members[i]!.range })));
  warnMixedUnits(m, ctx);
  return {
    name: m.name,
    kind: m.kind,
    base: m.base,
    range: m.nameRange,
    evaluated: m,
    members: m.members,
    sharing,
    statements: m.statements,
    memberTotals,
    dtypeViews,
    dtypeViewsWith,
    memberTotalsByRole: [
      ...groupByRole(memberTotals),
      ...(parallel ? [{ encoder: false, streams: 1, totals: parallel.own }] : []),
      ...masks.map((totals) => ({ encoder: false, streams: 1, totals })),
    ],
    whole,
    tree,
    tasks: split,
    parameterization: resolveParameterization(m.statements, tree, m.declaration.range, ctx),
    precision: readModelPrecision(m.statements.map((s) => s.statement), ctx.sink),
    maxContext: readMaxContext(m.statements, m.declaration.range, ctx),
    parallel,
    smashed: [...smashed.values()],
    budget: [],
    plans: [],
    resolve: resolveQuietly,
  };
}

/**
 * The k elements a model's pooled sparse masks train (pooled-masks.ts), as one extra part; none
 * without masks. The pool is what the masks froze, from one more walk without them; Σ k past it
 * is a located `npas-train-sparse` (the counts still show k as written).
 */
function pooledMaskPart(m: EvaluatedModel, sharing: ResolvedSharing, results: readonly WalkResult[], extra: readonly Totals[], ctx: EvalContext): Totals[] {
  const masks = pooledMasks(sharing);
  if (!masks) return [];
  const unmasked = withoutPooledMasks(sharing);
  const withMasks = wholeOf([...results.map((r) => r.totals), ...extra], sharing).trainable;
  const without = wholeOf([...walkMembers(m.members, unmasked, ctx, m.nameRange).map((r) => r.totals), ...extra], unmasked).trainable;
  const pool = without - withMasks;
  if (masks.elements > pool) {
    ctx.sink.error('npas-train-sparse', `sparse: ${masks.elements} elements exceed the ${pool} trainable elements of the weights under the paths (the pool the mask chooses from)`, masks.range);
  }
  return [pooledMaskTotals(masks.elements)];
}

/** A token model with a per-sample convolution (units.ts): once per layer, however many variants share it. */
function warnMixedUnits(m: EvaluatedModel, ctx: EvalContext): void {
  const mixed = mixedUnits(m.members);
  if (!mixed) return;
  const at = mixed.perSample.range;
  if (ctx.sink.items.some((d) => d.code === 'npas-units-mixed' && d.range.start === at.start && d.range.end === at.end)) return;
  const lengthHint = mixed.perSample.layerKind === 'Conv1d' ? ': leave out length to run it over the token sequence, per token' : '';
  ctx.sink.warning(
    'npas-units-mixed',
    `${mixed.perSample.layerKind} counts per sample (over its declared input size), but ${m.name} is a token model (it has ${mixed.token.layerKind}): its totals would add one sample's convolution to one token's projections, and they are reported per sample${lengthHint}`,
    at,
  );
}

/**
 * Members summed per role: encoder or not, streams, and tokens per position (a smashed member's
 * positions differ from the tokens). The metrics' terms depend on these alone.
 */
function groupByRole(members: readonly MemberTotals[]): MemberTotals[] {
  const groups = new Map<string, MemberTotals[]>();
  for (const t of members) {
    const key = `${t.encoder}|${t.streams ?? 1}|${t.smash ? `${t.smash.num}/${t.smash.den}` : ''}`;
    const same = groups.get(key);
    if (same) same.push(t);
    else groups.set(key, [t]);
  }
  // Decoder-side roles first, as the members are ordered; then encoders.
  const roles = [...groups.values()].sort((a, b) => Number(a[0]!.encoder) - Number(b[0]!.encoder));
  return roles.map((same) => {
    const first = same[0]!;
    return { encoder: first.encoder, streams: first.streams ?? 1, ...(first.smash ? { smash: first.smash } : {}), totals: sumTotals(same.map((t) => t.totals)) };
  });
}

/** What the report says of a model's parallel streams. */
function parallelReport(p: ParallelStreams): ParallelReport {
  return { streams: p.streams, cache: p.cache, prefixTokens: p.prefixTokens, aggregate: p.aggregate, merge: p.merge, prefixParams: p.prefixParams, aggregatorParams: p.aggregatorParams };
}

function internalError(sink: DiagnosticSink, e: unknown): void {
  sink.error('npas-internal-error', `internal error while analysing (please report): ${e instanceof Error ? e.message : String(e)}`, { start: 0, end: 0 });
}

/**
 * The devices a file declares as constants (`Chip = Device(…)`, semantics/device-value.ts), named
 * after them; a builtin device's name (or alias) is refused, located at the constant.
 */
function specDevices(bindings: readonly EvaluatedBinding[], sink: DiagnosticSink): DeviceProfile[] {
  const out: DeviceProfile[] = [];
  for (const b of bindings) {
    if (b.model !== undefined || b.value.kind !== 'device') continue;
    const name = b.binding.name.text;
    const builtin = findDevice(name);
    if (builtin) sink.error('npas-device', `${name} is the builtin device ${builtin.name}: name a declared device otherwise`, b.binding.name.range);
    else if (!out.some((d) => d.name === name)) out.push({ ...b.value.profile, name });
  }
  return out;
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
    sink.error('npas-eval-range', `the analysis setting dtype must be one of ${DTYPE_NAMES.join(', ')}, got ${String(o.dtype)}; using ${DEFAULT_OPTIONS.dtype}`, { start: 0, end: 0 });
    out.dtype = DEFAULT_OPTIONS.dtype;
  }
  if (o.precision !== undefined) {
    const precision: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o.precision as Record<string, unknown>)) {
      if (v === undefined) continue;
      const known = (PRECISION_CLASSES as readonly string[]).includes(k);
      if (known && (isDType(String(v)) || (k === 'master' && v === 'none'))) precision[k] = v;
      else sink.error('npas-eval-range', known ? `the analysis setting precision.${k} must be one of ${DTYPE_NAMES.join(', ')}${k === 'master' ? ' or none' : ''}, got ${String(v)}; using its default` : `unknown precision class '${k}' (use ${PRECISION_CLASSES.join(', ')})`, { start: 0, end: 0 });
    }
    out.precision = precision as Partial<Precision>;
  }
  const loss: unknown = o.loss;
  if (loss !== undefined) {
    const l = loss as Partial<{ kind: string; chunk: unknown }>;
    const valid = l.kind === 'full' || l.kind === 'fused' || (l.kind === 'chunked' && typeof l.chunk === 'number' && Number.isSafeInteger(l.chunk) && l.chunk >= 1);
    if (!valid) {
      sink.error('npas-eval-range', `the analysis setting loss must be full, fused or chunked with a positive chunk of tokens; using full`, { start: 0, end: 0 });
      out.loss = { kind: 'full' };
    }
  }
  const weightDtypes: unknown = o.weightDtypes;
  if (weightDtypes !== undefined) {
    const list = Array.isArray(weightDtypes) ? (weightDtypes as unknown[]) : [];
    const good = list.filter((w): w is WeightDtypeSetting => {
      const x = w as Partial<{ path: unknown; dtype: unknown }>;
      return typeof x?.path === 'string' && parsePathText(x.path) !== undefined && isDType(String(x.dtype));
    });
    if (!Array.isArray(weightDtypes) || good.length < list.length) {
      sink.error('npas-eval-range', `the analysis setting weightDtypes takes paths (body.attn, body[3].mlp, lm_head) each with one of ${DTYPE_NAMES.join(', ')}; ignoring the others`, { start: 0, end: 0 });
    }
    out.weightDtypes = good;
  }
  const share: unknown = o.sharedPrefix;
  if (share !== undefined) {
    const p = share as Partial<{ tokens: unknown; continuations: unknown }>;
    const int = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
    if (!int(p.tokens, 0) || !int(p.continuations, 1) || (p.tokens as number) >= out.seq) {
      sink.error('npas-eval-range', `the analysis setting sharedPrefix needs 0 ≤ tokens < seq (${out.seq}) and at least one continuation; analysing without a shared prompt`, { start: 0, end: 0 });
      delete out.sharedPrefix;
    }
  }
  if (!findDevice(String(o.device), o.devices)) {
    sink.error('npas-eval-range', `the analysis setting device must be one of ${[...DEVICE_NAMES, ...(o.devices ?? []).map((d) => d.name)].join(', ')}, got ${String(o.device)}; using ${DEFAULT_OPTIONS.device}`, { start: 0, end: 0 });
    out.device = DEFAULT_OPTIONS.device;
  }
  return out;
}

function stripUndefined(o: Partial<AnalysisOptions>): Partial<AnalysisOptions> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<AnalysisOptions>;
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

/** The report's `routedEffective` entry, spread in only where the model has one. */
function optionalRoutedEffective(active: bigint, routing: ModelReport['routing']): { routedEffective?: RoutedEffectiveReport } {
  const r = routedEffective(active, routing);
  return r ? { routedEffective: r } : {};
}
