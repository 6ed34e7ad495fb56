// A weight-sharing supernet (`elastic STACK: Block(arg: [a, b]) * [d1, d2]`, `elastic d: [v1, v2]`)
// measured: its subnets are the model with one value of every model-wide choice (a variant
// overriding `d = v`: every layer using `d` follows) and the stack replaced by d instances of
// Block, each instance choosing its own value of every elastic argument. Each combination of
// global values is a point, measured as a model of its own; at a point, the engine measures what one instance of each choice
// adds — the model compiled with the stack at 1, 2 and 3 instances of that choice, so every
// count is the engine's own, at the analysis settings — and checks that the costs are additive
// (m₃ − m₂ = m₂ − m₁ for every choice, and the same rest of the model for every choice): a
// subnet's metrics are then the rest plus Σ its instances', exactly. The supernet stores the
// largest subnet's weights once (entangled weights: a smaller choice slices the larger tensor),
// Σ over the deepest stack's positions of the largest choice's stored parameters, at the point
// that stores the most (a smaller global width slices every weight of the largest, embeddings too).

import { DiagnosticSink } from '../diagnostics/diagnostic.js';
import { EvalContext } from '../semantics/evaluator.js';
import * as Q from '../numbers/rational.js';
import type { AnalysisOptions } from '../analysis/report-types.js';
import { rooflineAt, type Roofline } from '../analysis/model-metrics.js';
import { withModelPrecision } from '../analysis/model-precision.js';
import { compile, type Compilation, type CompiledModel } from '../analysis/compilation.js';
import { readElasticStatement, type ElasticSpace, type GlobalElasticChoice } from './elastic-statement.js';

/** The additive measurements of a model, in this order (`MetricVector` indices). */
export const MEASURED = [
  'params.stored',
  'params.effective',
  'params.active',
  'flops.prefill_total',
  'flops.decode',
  'kv',
  'state',
  'memory.weights',
  'latency.prefill.flops',
  'latency.prefill.bytes',
  'latency.decode.flops',
  'latency.decode.bytes',
] as const;

export type MetricVector = readonly bigint[];

/** One choice of every elastic argument: what an instance of the stack is. */
export interface InstanceChoice {
  /** The elastic arguments' values, `expand: 3, heads: 8`. */
  readonly label: string;
  /** The block call this instance is (`Decoder(expand: 3, heads: 8)`). */
  readonly call: string;
}

/** One elastic stack of a supernet, measured (at one point of the global choices). */
export interface ElasticStack {
  readonly space: ElasticSpace;
  readonly choices: readonly InstanceChoice[];
  /** What one instance of each choice adds (MEASURED order). */
  readonly perInstance: readonly MetricVector[];
  /** Σ over the depths d of Kᵈ, K the choices per instance. */
  readonly subnets: bigint;
  /** The deepest stack's positions × the largest choice's stored parameters (entangled weights). */
  readonly stored: bigint;
}

/** The subnets that share one value of every model-wide choice (the whole space without any). */
export interface SupernetPoint {
  /** Each global choice's value here, in `Supernet.globals` order (empty without global choices). */
  readonly values: readonly string[];
  /** The elastic stacks at these values, in statement order (the same stacks at every point). */
  readonly stacks: readonly ElasticStack[];
  /** What everything outside the elastic stacks adds at these values (MEASURED order). */
  readonly rest: MetricVector;
  /** The product over the stacks of their subnets (1 without elastic stacks). */
  readonly subnets: bigint;
  /** The largest subnet's stored parameters at these values: the rest plus each stack's. */
  readonly stored: bigint;
}

export interface Supernet {
  readonly model: string;
  /** The model-wide choices (`elastic d: [64, 128]`), in statement order (a later one on the same name replaces the earlier). */
  readonly globals: readonly GlobalElasticChoice[];
  /** One per combination of the global choices' values, the first choice varying slowest; one point without any. */
  readonly points: readonly SupernetPoint[];
  /** The point whose largest subnet the supernet stores (the first of the largest). */
  readonly largest: number;
  /** The largest point's elastic stacks (every point's when there are no global choices). */
  readonly stacks: readonly ElasticStack[];
  /** The largest point's rest. */
  readonly rest: MetricVector;
  /** Every subnet once: Σ over the points of their subnets. */
  readonly subnets: bigint;
  /** The supernet's stored parameters: the largest subnet's weights once (entangled weights: a smaller value or choice slices them) — the most any point stores. */
  readonly stored: bigint;
  /** FLOPs of a whole prefill per `flops.prefill` FLOP per token (seq × batch at these settings, or batch for per-sample models). */
  readonly prefillTokens: Q.Rational;
  readonly settings: AnalysisOptions;
  readonly roofline: Roofline;
}

export type SupernetResult = { readonly supernet: Supernet } | { readonly error: string };

/** Choices measured per supernet, over all its stacks and global values: each is three variants of the model in one compilation. */
export const MAX_MEASURED_CHOICES = 1024;

/** Statements other than these change how a stack's instances relate; a supernet refuses them on its stacks. */
const NEUTRAL_KEYWORDS: ReadonlySet<string> = new Set(['elastic', 'param', 'precision', 'freeze', 'train']);

/** A model's `elastic` statements read as written. */
export interface SupernetSpaces {
  readonly spaces: readonly ElasticSpace[];
  readonly globals: readonly GlobalElasticChoice[];
}

/**
 * The spaces and global choices of `modelName`'s `elastic` statements, the last per stack or
 * name (a variant's replaces its base's), read without measuring anything: enough to size the
 * space before measuring it.
 */
export function supernetSpaces(compilation: Compilation, modelName: string): SupernetSpaces | { readonly error: string } {
  const model = compilation.model(modelName);
  if (!model) return { error: `no model or variant '${modelName}'` };
  const sink = new DiagnosticSink();
  const ctx = new EvalContext(sink);
  // The last statement per stack or name: a variant's replaces its base's.
  const byStack = new Map<string, ElasticSpace>();
  const byName = new Map<string, GlobalElasticChoice>();
  for (const s of model.statements) {
    if (s.statement.keyword !== 'elastic') continue;
    const read = readElasticStatement(s.statement, s.scope, model.members, ctx);
    if (!read) return { error: sink.items[0]?.message ?? 'an `elastic` statement is invalid' };
    const [map, key, value] = read.kind === 'stack' ? [byStack as Map<string, unknown>, read.space.stack, read.space] : [byName as Map<string, unknown>, read.choice.name, read.choice];
    map.delete(key);
    map.set(key, value);
  }
  const spaces = [...byStack.values()];
  const globals = [...byName.values()];
  if (spaces.length === 0 && globals.length === 0) return { error: `${modelName} declares no supernet (\`elastic STACK: Block(arg: [a, b]) * [d1, d2]\` or \`elastic d: [v1, v2]\`)` };
  return { spaces, globals };
}

/** One combination of the global choices' values, as the model it makes. */
export interface PointModel {
  readonly values: readonly string[];
  /** The model or variant that is the model at these values, in `SupernetPoints.compilation`. */
  readonly name: string;
  /** The elastic stacks read at these values (a fixed argument or depth written with a global name follows it). */
  readonly spaces: readonly ElasticSpace[];
}

export interface SupernetPoints {
  readonly globals: readonly GlobalElasticChoice[];
  readonly points: readonly PointModel[];
  /** The compilation holding every point's model: the given one without global choices, else it with one variant per point. */
  readonly compilation: Compilation;
}

/**
 * Every point of `modelName`'s global choices as a model: without any, the model itself; with
 * them, one variant per combination overriding each chosen name (`d = 64`), all compiled at once —
 * so the stacks' spaces are read at each point, and a layer follows the value as it would in a
 * variant written by hand.
 */
export function supernetPoints(compilation: Compilation, modelName: string): SupernetPoints | { readonly error: string } {
  const read = supernetSpaces(compilation, modelName);
  if ('error' in read) return read;
  const { spaces, globals } = read;
  if (globals.length === 0) return { globals, points: [{ values: [], name: modelName, spaces }], compilation };
  const count = globals.reduce((n, g) => n * g.values.length, 1);
  const perPoint = Math.max(1, spaces.reduce((n, space) => n + instanceChoices(space).length, 0));
  if (count * perPoint > MAX_MEASURED_CHOICES) {
    return { error: `${modelName}'s ${count} combination${count === 1 ? '' : 's'} of global values × ${perPoint} choice${perPoint === 1 ? '' : 's'} per combination make ${count * perPoint} measurements; at most ${MAX_MEASURED_CHOICES} are made (each takes three compilations of the model)` };
  }
  let combos: (readonly string[])[] = [[]];
  for (const g of globals) combos = combos.flatMap((c) => g.values.map((v) => [...c, v.text]));
  const names = combos.map((_, p) => `__npas_point_${p}`);
  const text = combos.map((values, p) => `variant ${names[p]} of ${modelName} {\n${globals.map((g, i) => `  ${g.name} = ${values[i]}\n`).join('')}}\n`).join('');
  const atPoints = compile(withTrailingNewline(compilation.text) + text, compilation.options);
  // Each point's statements read first: a list valid as written may repeat a value at another
  // point (`expand: [d / 64, 1]` at d = 64), an error in the shared statement that only the
  // point's reading can name.
  const points: PointModel[] = [];
  for (let p = 0; p < combos.length; p++) {
    const at = supernetSpaces(atPoints, names[p]!);
    if ('error' in at) return { error: `at ${globalLabel(globals, combos[p]!)}: ${at.error}` };
    points.push({ values: combos[p]!, name: names[p]!, spaces: at.spaces });
  }
  const broken = newError(compilation, atPoints);
  if (broken) return { error: `a subnet does not compile: ${broken.message}` };
  return { globals, points, compilation: atPoints };
}

/** `d: 64, e: 2`: a point's global values by name. */
export function globalLabel(globals: readonly GlobalElasticChoice[], values: readonly string[]): string {
  return globals.map((g, i) => `${g.name}: ${values[i]}`).join(', ');
}

/**
 * The `elastic` statements of `modelName` measured at `settings` (compiled by `compilation`).
 * `sized`: what `supernetPoints(compilation, modelName)` answered, when the caller has it already
 * (the dashboard sizes the space first), so the global choices' variants are not compiled again.
 */
export function analyzeSupernet(compilation: Compilation, modelName: string, settings: AnalysisOptions, sized?: SupernetPoints): SupernetResult {
  const model = compilation.model(modelName);
  if (!model) return { error: `no model or variant '${modelName}'` };
  const read = supernetSpaces(compilation, modelName);
  if ('error' in read) return read;
  for (const { statement } of model.statements) {
    if (NEUTRAL_KEYWORDS.has(statement.keyword)) continue;
    const touched = read.spaces.find((space) =>
      statement.targets.some((t) => {
        const first = t.segments[0];
        return first?.kind === 'PathName' && first.name.text === space.stack;
      }),
    );
    if (touched) return { error: `'${touched.stack}' is both elastic and under a \`${statement.keyword}${statement.modifier ? ` ${statement.modifier.text}` : ''}\` statement: a supernet's instances are its own (weight sharing inside the stack is not measured per subnet)` };
  }
  const measuredChoices = read.spaces.reduce((n, space) => n + instanceChoices(space).length, 0);
  if (measuredChoices > MAX_MEASURED_CHOICES) return { error: `${modelName}'s elastic stacks have ${measuredChoices} choices in all; at most ${MAX_MEASURED_CHOICES} are measured (each takes three compilations of the model)` };
  const located = sized ?? supernetPoints(compilation, modelName);
  if ('error' in located) return located;
  const { globals, points } = located;
  const choicesAt = points.map((pt) => pt.spaces.map(instanceChoices));
  const probeName = (p: number, j: number, k: number, n: number): string => `__npas_subnet_${p}_${j}_${k}_${n}`;
  const probes = points.flatMap((pt, p) =>
    pt.spaces.flatMap((space, j) =>
      choicesAt[p]![j]!.flatMap((c, k) => [1, 2, 3].map((n) => `variant ${probeName(p, j, k, n)} of ${pt.name} {\n  ${space.stack} = ${c.call} * ${n}\n}\n`)),
    ),
  );
  const measured = probes.length === 0 ? located.compilation : compile(withTrailingNewline(located.compilation.text) + probes.join(''), compilation.options);
  // A choice may break the block (a width that is not an integer): its error lies in the block, not the probe.
  const probeError = newError(compilation, measured);
  if (probeError) return { error: `a subnet does not compile: ${probeError.message}` };
  const measuredPoints: SupernetPoint[] = [];
  for (let p = 0; p < points.length; p++) {
    const pt = points[p]!;
    const at = (j: number, k: number, n: number): MetricVector | undefined => {
      const m = measured.model(probeName(p, j, k, n));
      return m && measure(measured, m, settings);
    };
    const asWritten = measured.model(pt.name);
    if (!asWritten) return { error: `a subnet of ${modelName} could not be measured` };
    const r = measurePoint(pt.spaces, choicesAt[p]!, measure(measured, asWritten, settings), at);
    if ('error' in r) return { error: globals.length > 0 ? `at ${globalLabel(globals, pt.values)}: ${r.error}` : r.error };
    const subnets = r.stacks.reduce((product, st) => product * st.subnets, 1n);
    measuredPoints.push({ values: pt.values, stacks: r.stacks, rest: r.rest, subnets, stored: r.stacks.reduce((sum, st) => sum + st.stored, r.rest[0]!) });
  }
  const largest = measuredPoints.reduce((best, pt, p) => (pt.stored > measuredPoints[best]!.stored ? p : best), 0);
  const metrics = measured.metricsAt(measured.model(points[0]!.name)!, settings);
  const prefillTokens = Q.isZero(metrics.prefillPerToken) ? Q.ONE : Q.div(Q.fromBigInt(metrics.flops.prefill), metrics.prefillPerToken);
  return {
    supernet: {
      model: modelName,
      globals,
      points: measuredPoints,
      largest,
      stacks: measuredPoints[largest]!.stacks,
      rest: measuredPoints[largest]!.rest,
      subnets: measuredPoints.reduce((sum, pt) => sum + pt.subnets, 0n),
      stored: measuredPoints[largest]!.stored,
      prefillTokens,
      settings,
      roofline: rooflineAt(withModelPrecision(settings, model.precision)),
    },
  };
}

/**
 * One point's stacks from its probes: what one instance of each choice adds (the differences of
 * 1, 2 and 3 instances, which must agree) and the rest of the model, which must be the same
 * whatever the choice and add up over the stacks to the model as written at this point.
 */
function measurePoint(
  spaces: readonly ElasticSpace[],
  choicesOf: readonly (readonly InstanceChoice[])[],
  asWritten: MetricVector,
  probe: (j: number, k: number, n: number) => MetricVector | undefined,
): { readonly stacks: readonly ElasticStack[]; readonly rest: MetricVector } | { readonly error: string } {
  if (spaces.length === 0) return { stacks: [], rest: asWritten };
  const stacks: ElasticStack[] = [];
  // Per stack, the model without that stack (the others as written).
  const withoutStack: MetricVector[] = [];
  for (let j = 0; j < spaces.length; j++) {
    const space = spaces[j]!;
    const choices = choicesOf[j]!;
    const perInstance: MetricVector[] = [];
    let without: MetricVector | undefined;
    for (let k = 0; k < choices.length; k++) {
      const [m1, m2, m3] = [probe(j, k, 1), probe(j, k, 2), probe(j, k, 3)];
      if (!m1 || !m2 || !m3) return { error: `${space.stack} could not be measured at ${choices[k]!.label}` };
      const one = m2.map((v, i) => v - m1[i]!);
      const again = m3.map((v, i) => v - m2[i]!);
      const rest = m1.map((v, i) => v - one[i]!);
      const bad = one.findIndex((v, i) => v !== again[i] || v < 0n);
      if (bad >= 0) return { error: `${MEASURED[bad]} of ${space.stack} is not additive in its instances for ${choices[k]!.label} (the 2nd instance adds ${one[bad]}, the 3rd ${again[bad]}): subnets cannot be summed` };
      if (without) {
        const differs = without.findIndex((v, i) => v !== rest[i]);
        if (differs >= 0) return { error: `${MEASURED[differs]} outside ${space.stack} depends on the instances' choice (${choices[0]!.label} vs ${choices[k]!.label}): subnets cannot be summed` };
      } else without = rest;
      perInstance.push(one);
    }
    withoutStack.push(without!);
    const deepest = BigInt(space.depths[space.depths.length - 1]!);
    const largest = perInstance.reduce((max, v) => (v[0]! > max ? v[0]! : max), 0n);
    const K = BigInt(choices.length);
    stacks.push({ space, choices, perInstance, subnets: space.depths.reduce((sum, d) => sum + K ** BigInt(d), 0n), stored: deepest * largest });
  }
  // The rest without any elastic stack: without stack j, less what each other stack adds as written.
  const restOf = (j: number): MetricVector =>
    withoutStack[j]!.map((v, i) => withoutStack.reduce((r, w, t) => (t === j ? r : r - (asWritten[i]! - w[i]!)), v));
  const rest = restOf(0);
  for (let j = 1; j < spaces.length; j++) {
    const differs = restOf(j).findIndex((v, i) => v !== rest[i]);
    if (differs >= 0) return { error: `${MEASURED[differs]} of ${spaces[0]!.stack} and ${spaces[j]!.stack} do not add up to the model's: subnets cannot be summed` };
  }
  return { stacks, rest };
}

function withTrailingNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** The first error `after` reports that `before` (the same text without the probes) does not. */
function newError(before: Compilation, after: Compilation): { readonly message: string } | undefined {
  const known = new Set(before.diagnostics.map((d) => `${d.code}|${d.range.start}|${d.message}`));
  return after.diagnostics.find((d) => d.severity === 'error' && !known.has(`${d.code}|${d.range.start}|${d.message}`));
}

/** Every combination of the elastic arguments' values, the first argument varying slowest. */
export function instanceChoices(space: ElasticSpace): InstanceChoice[] {
  let combos: (readonly string[])[] = [[]];
  for (const a of space.args) combos = combos.flatMap((c) => a.values.map((v) => [...c, v.text]));
  return combos.map((values) => {
    const written = space.args.map((a, i) => (a.name === undefined ? values[i]! : `${a.name}: ${values[i]!}`));
    const label = space.args.flatMap((a, i) => (a.elastic ? [`${a.name}: ${values[i]!}`] : [])).join(', ');
    return { label: label || space.block, call: written.length ? `${space.block}(${written.join(', ')})` : space.block };
  });
}

function measure(c: Compilation, m: CompiledModel, settings: AnalysisOptions): MetricVector {
  const x = c.metricsAt(m, settings);
  const p = m.tree.params;
  return [
    p.stored,
    p.effective,
    p.active,
    x.flops.prefill,
    x.flops.decode,
    x.kvCacheBytes,
    x.recurrentStateBytes,
    x.memory.weightBytes,
    x.latency.prefill.flops,
    x.latency.prefill.bytes,
    x.latency.decode.flops,
    x.latency.decode.bytes,
  ];
}
