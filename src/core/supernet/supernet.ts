// A weight-sharing supernet (`elastic STACK: Block(arg: [a, b]) * [d1, d2]`) measured: its
// subnets are the model with the stack replaced by d instances of Block, each instance choosing
// its own value of every elastic argument. The engine measures what one instance of each choice
// adds — the model compiled with the stack at 1, 2 and 3 instances of that choice, so every
// count is the engine's own, at the analysis settings — and checks that the costs are additive
// (m₃ − m₂ = m₂ − m₁ for every choice, and the same rest of the model for every choice): a
// subnet's metrics are then the rest plus Σ its instances', exactly. The supernet stores the
// largest subnet's weights once (entangled weights: a smaller choice slices the larger tensor),
// Σ over the deepest stack's positions of the largest choice's stored parameters.

import { DiagnosticSink } from '../diagnostics/diagnostic.js';
import { EvalContext } from '../semantics/evaluator.js';
import * as Q from '../numbers/rational.js';
import type { AnalysisOptions } from '../analysis/report-types.js';
import { rooflineAt, type Roofline } from '../analysis/model-metrics.js';
import { withModelPrecision } from '../analysis/model-precision.js';
import { compile, type Compilation, type CompiledModel } from '../analysis/compilation.js';
import { readElasticSpace, type ElasticSpace } from './elastic-statement.js';

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

/** One elastic stack of a supernet, measured. */
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

export interface Supernet {
  readonly model: string;
  /** The elastic stacks, in statement order (one statement per stack; a variant's replaces its base's). */
  readonly stacks: readonly ElasticStack[];
  /** What everything outside the elastic stacks adds (MEASURED order). */
  readonly rest: MetricVector;
  /** Every subnet once: the product over the stacks of their subnets. */
  readonly subnets: bigint;
  /** The supernet's stored parameters: the rest plus each stack's entangled weights (the largest subnet's weights, once). */
  readonly stored: bigint;
  /** FLOPs of a whole prefill per `flops.prefill` FLOP per token (seq × batch at these settings, or batch for per-sample models). */
  readonly prefillTokens: Q.Rational;
  readonly settings: AnalysisOptions;
  readonly roofline: Roofline;
}

export type SupernetResult = { readonly supernet: Supernet } | { readonly error: string };

/** Choices measured per supernet, over all its stacks: each is three variants of the model in one compilation. */
export const MAX_MEASURED_CHOICES = 1024;

/** Statements other than these change how a stack's instances relate; a supernet refuses them on its stacks. */
const NEUTRAL_KEYWORDS: ReadonlySet<string> = new Set(['elastic', 'param', 'precision', 'freeze', 'train']);

/**
 * The spaces of `modelName`'s `elastic` statements, the last per stack (a variant's replaces its
 * base's), read without measuring anything: enough to size the space before measuring it.
 */
export function supernetSpaces(compilation: Compilation, modelName: string): { readonly spaces: readonly ElasticSpace[] } | { readonly error: string } {
  const model = compilation.model(modelName);
  if (!model) return { error: `no model or variant '${modelName}'` };
  const sink = new DiagnosticSink();
  const ctx = new EvalContext(sink);
  // The last statement per stack: a variant's replaces its base's.
  const byStack = new Map<string, ElasticSpace>();
  for (const s of model.statements) {
    if (s.statement.keyword !== 'elastic') continue;
    const space = readElasticSpace(s.statement, s.scope, model.members, ctx);
    if (!space) return { error: sink.items[0]?.message ?? 'an `elastic` statement is invalid' };
    byStack.delete(space.stack);
    byStack.set(space.stack, space);
  }
  const spaces = [...byStack.values()];
  if (spaces.length === 0) return { error: `${modelName} declares no supernet (\`elastic STACK: Block(arg: [a, b]) * [d1, d2]\`)` };
  return { spaces };
}

/** The `elastic` statements of `modelName` measured at `settings` (compiled by `compilation`). */
export function analyzeSupernet(compilation: Compilation, modelName: string, settings: AnalysisOptions): SupernetResult {
  const model = compilation.model(modelName);
  if (!model) return { error: `no model or variant '${modelName}'` };
  const read = supernetSpaces(compilation, modelName);
  if ('error' in read) return read;
  const spaces = read.spaces;
  for (const { statement } of model.statements) {
    if (NEUTRAL_KEYWORDS.has(statement.keyword)) continue;
    const touched = spaces.find((space) =>
      statement.targets.some((t) => {
        const first = t.segments[0];
        return first?.kind === 'PathName' && first.name.text === space.stack;
      }),
    );
    if (touched) return { error: `'${touched.stack}' is both elastic and under a \`${statement.keyword}${statement.modifier ? ` ${statement.modifier.text}` : ''}\` statement: a supernet's instances are its own (weight sharing inside the stack is not measured per subnet)` };
  }
  const choicesOf = spaces.map(instanceChoices);
  const measuredChoices = choicesOf.reduce((n, c) => n + c.length, 0);
  if (measuredChoices > MAX_MEASURED_CHOICES) return { error: `${modelName}'s elastic stacks have ${measuredChoices} choices in all; at most ${MAX_MEASURED_CHOICES} are measured (each takes three compilations of the model)` };
  const probes = spaces.flatMap((space, j) =>
    choicesOf[j]!.flatMap((c, k) => [1, 2, 3].map((n) => ({ name: `__npas_subnet_${j}_${k}_${n}`, text: `variant __npas_subnet_${j}_${k}_${n} of ${modelName} {\n  ${space.stack} = ${c.call} * ${n}\n}\n` }))),
  );
  const base = compilation.text.endsWith('\n') ? compilation.text : `${compilation.text}\n`;
  const measured = compile(base + probes.map((p) => p.text).join(''), compilation.options);
  // A choice may break the block (a width that is not an integer): its error lies in the block, not the probe.
  const known = new Set(compilation.diagnostics.map((d) => `${d.code}|${d.range.start}|${d.message}`));
  const probeError = measured.diagnostics.find((d) => d.severity === 'error' && !known.has(`${d.code}|${d.range.start}|${d.message}`));
  if (probeError) return { error: `a subnet does not compile: ${probeError.message}` };
  const vectors = new Map<string, MetricVector>();
  for (const p of probes) {
    const m = measured.model(p.name);
    if (!m) return { error: `a subnet of ${modelName} could not be measured` };
    vectors.set(p.name, measure(measured, m, settings));
  }
  const asWritten = measure(compilation, model, settings);
  const stacks: ElasticStack[] = [];
  // Per stack, the model without that stack (the others as written).
  const withoutStack: MetricVector[] = [];
  for (let j = 0; j < spaces.length; j++) {
    const space = spaces[j]!;
    const choices = choicesOf[j]!;
    const perInstance: MetricVector[] = [];
    let without: MetricVector | undefined;
    for (let k = 0; k < choices.length; k++) {
      const at = (n: number): MetricVector => vectors.get(`__npas_subnet_${j}_${k}_${n}`)!;
      const [m1, m2, m3] = [at(1), at(2), at(3)];
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
  const probe = measured.model(probes[0]!.name)!;
  const metrics = measured.metricsAt(probe, settings);
  const prefillTokens = Q.isZero(metrics.prefillPerToken) ? Q.ONE : Q.div(Q.fromBigInt(metrics.flops.prefill), metrics.prefillPerToken);
  return {
    supernet: {
      model: modelName,
      stacks,
      rest,
      subnets: stacks.reduce((product, s) => product * s.subnets, 1n),
      stored: stacks.reduce((sum, s) => sum + s.stored, rest[0]!),
      prefillTokens,
      settings,
      roofline: rooflineAt(withModelPrecision(settings, model.precision)),
    },
  };
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
