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

export interface Supernet {
  readonly model: string;
  readonly space: ElasticSpace;
  readonly choices: readonly InstanceChoice[];
  /** What everything outside the stack adds (MEASURED order). */
  readonly rest: MetricVector;
  /** What one instance of each choice adds (MEASURED order). */
  readonly perInstance: readonly MetricVector[];
  /** Σ over the depths d of Kᵈ, K the choices per instance: every subnet once. */
  readonly subnets: bigint;
  /** The supernet's stored parameters: the rest plus, at each of the deepest stack's positions, the largest choice's (entangled weights). */
  readonly stored: bigint;
  /** FLOPs of a whole prefill per `flops.prefill` FLOP per token (seq × batch at these settings, or batch for per-sample models). */
  readonly prefillTokens: Q.Rational;
  readonly settings: AnalysisOptions;
  readonly roofline: Roofline;
}

export type SupernetResult = { readonly supernet: Supernet } | { readonly error: string };

/** Statements other than these change how a stack's instances relate; a supernet refuses them on its stack. */
const NEUTRAL_KEYWORDS: ReadonlySet<string> = new Set(['elastic', 'param', 'precision', 'freeze', 'train']);

/** The `elastic` statement of `modelName` measured at `settings` (compiled by `compilation`). */
export function analyzeSupernet(compilation: Compilation, modelName: string, settings: AnalysisOptions): SupernetResult {
  const model = compilation.model(modelName);
  if (!model) return { error: `no model or variant '${modelName}'` };
  const statements = model.statements.filter((s) => s.statement.keyword === 'elastic');
  const last = statements[statements.length - 1];
  if (!last) return { error: `${modelName} declares no supernet (\`elastic STACK: Block(arg: [a, b]) * [d1, d2]\`)` };
  const sink = new DiagnosticSink();
  const space = readElasticSpace(last.statement, last.scope, model.members, new EvalContext(sink));
  if (!space) return { error: sink.items[0]?.message ?? 'the `elastic` statement is invalid' };
  for (const { statement } of model.statements) {
    if (NEUTRAL_KEYWORDS.has(statement.keyword)) continue;
    const touches = statement.targets.some((t) => {
      const first = t.segments[0];
      return first?.kind === 'PathName' && first.name.text === space.stack;
    });
    if (touches) return { error: `'${space.stack}' is both elastic and under a \`${statement.keyword}${statement.modifier ? ` ${statement.modifier.text}` : ''}\` statement: a supernet's instances are its own (weight sharing inside the stack is not measured per subnet)` };
  }
  const choices = instanceChoices(space);
  const probes = choices.flatMap((c, k) => [1, 2, 3].map((n) => ({ name: `__npas_subnet_${k}_${n}`, text: `variant __npas_subnet_${k}_${n} of ${modelName} {\n  ${space.stack} = ${c.call} * ${n}\n}\n` })));
  const base = compilation.text.endsWith('\n') ? compilation.text : `${compilation.text}\n`;
  const measured = compile(base + probes.map((p) => p.text).join(''), compilation.options);
  // A choice may break the block (a width that is not an integer): its error lies in the block, not the probe.
  const known = new Set(compilation.diagnostics.map((d) => `${d.code}|${d.range.start}|${d.message}`));
  const probeError = measured.diagnostics.find((d) => d.severity === 'error' && !known.has(`${d.code}|${d.range.start}|${d.message}`));
  if (probeError) return { error: `a subnet does not compile: ${probeError.message}` };
  const vectors: MetricVector[] = [];
  for (const p of probes) {
    const m = measured.model(p.name);
    if (!m) return { error: `a subnet of ${modelName} could not be measured` };
    vectors.push(measure(measured, m, settings));
  }
  const perInstance: MetricVector[] = [];
  let rest: MetricVector | undefined;
  for (let k = 0; k < choices.length; k++) {
    const [m1, m2, m3] = [vectors[3 * k]!, vectors[3 * k + 1]!, vectors[3 * k + 2]!];
    const one = m2.map((v, i) => v - m1[i]!);
    const again = m3.map((v, i) => v - m2[i]!);
    const without = m1.map((v, i) => v - one[i]!);
    const at = one.findIndex((v, i) => v !== again[i] || v < 0n);
    if (at >= 0) return { error: `${MEASURED[at]} of ${space.stack} is not additive in its instances for ${choices[k]!.label} (the 2nd instance adds ${one[at]}, the 3rd ${again[at]}): subnets cannot be summed` };
    if (rest) {
      const differs = rest.findIndex((v, i) => v !== without[i]);
      if (differs >= 0) return { error: `${MEASURED[differs]} outside ${space.stack} depends on the instances' choice (${choices[0]!.label} vs ${choices[k]!.label}): subnets cannot be summed` };
    } else rest = without;
    perInstance.push(one);
  }
  const deepest = BigInt(space.depths[space.depths.length - 1]!);
  const largest = perInstance.reduce((max, v) => (v[0]! > max ? v[0]! : max), 0n);
  const K = BigInt(choices.length);
  const probe = measured.model(probes[0]!.name)!;
  const metrics = measured.metricsAt(probe, settings);
  const prefillTokens = Q.isZero(metrics.prefillPerToken) ? Q.ONE : Q.div(Q.fromBigInt(metrics.flops.prefill), metrics.prefillPerToken);
  return {
    supernet: {
      model: modelName,
      space,
      choices,
      rest: rest!,
      perInstance,
      subnets: space.depths.reduce((sum, d) => sum + K ** BigInt(d), 0n),
      stored: rest![0]! + deepest * largest,
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
