// `npas diff A B [settings] [--json]`: two models or variants side by side at the same settings —
// every metric of `npas budget --json` with A, B, B − A (exact) and B / A, then the top-level
// members whose stored parameters differ. A and B are `FILE` or `FILE#MODEL`: two versions of a
// spec (models paired by name), two files' models, or two variants of one file
// (`npas diff s.npas#Base s.npas#Shared`). Exit 2 on spec errors or an unknown model.

import { appendAll, type AnalysisOptions, type ModelReport, toJson } from '../../core/index.js';
import { ANALYSIS_FLAGS, readAnalysisFlags } from '../analysis-flags.js';
import { parseCommand, usageOf, type CommandSpec } from '../args.js';
import { specErrorLines } from '../budget-grid.js';
import { formatBytes, formatFlops, formatSeconds, groupDigits } from '../format.js';
import { CliError, type CliIO } from '../io.js';
import { renderTable, type Column } from '../table-format.js';
import { readSpecProgram } from '../spec-program.js';

export const DIFF_COMMAND: CommandSpec = {
  name: 'diff',
  operands: 'A[#MODEL] B[#MODEL]',
  flags: [...ANALYSIS_FLAGS, { name: 'json', takesValue: false }],
};

/** A metric compared: its path in `npas budget --json`, how people read it, and its value in a report. */
interface Metric {
  readonly path: string;
  readonly show: (v: bigint | number) => string;
  readonly get: (m: ModelReport) => bigint | number;
}

const count = (v: bigint | number): string => groupDigits(BigInt(v));
const METRICS: readonly Metric[] = [
  { path: 'params.stored', show: count, get: (m) => m.params.stored },
  { path: 'params.effective', show: count, get: (m) => m.params.effective },
  { path: 'params.active', show: count, get: (m) => m.params.active },
  { path: 'params.trainable', show: count, get: (m) => m.params.trainable },
  { path: 'flops.prefill', show: formatFlops, get: (m) => m.flops.prefill },
  { path: 'flops.decode', show: formatFlops, get: (m) => m.flops.decode },
  { path: 'flops.generationPerStep', show: formatFlops, get: (m) => m.flops.generationPerStep },
  { path: 'kvCacheBytes', show: formatBytes, get: (m) => m.kvCacheBytes },
  { path: 'recurrentStateBytes', show: formatBytes, get: (m) => m.recurrentStateBytes },
  { path: 'memory.weightBytes', show: formatBytes, get: (m) => m.memory.weightBytes },
  { path: 'memory.inferenceBytes', show: formatBytes, get: (m) => m.memory.inferenceBytes },
  { path: 'memory.activationBytes', show: formatBytes, get: (m) => m.memory.activationBytes },
  { path: 'memory.trainingBytes', show: formatBytes, get: (m) => m.memory.trainingBytes },
  { path: 'latency.prefill.seconds', show: (v) => formatSeconds(Number(v)), get: (m) => m.latency.prefill.seconds },
  { path: 'latency.decode.seconds', show: (v) => formatSeconds(Number(v)), get: (m) => m.latency.decode.seconds },
];

interface Side {
  readonly file: string;
  readonly model: ModelReport;
}

interface Compared {
  readonly path: string;
  readonly a: bigint | number;
  readonly b: bigint | number;
  /** B − A: exact for counts, FLOPs and bytes. */
  readonly delta: bigint | number;
  /** B / A; null where A is 0. */
  readonly ratio: number | null;
  readonly show: Metric['show'];
}

export function runDiff(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseCommand(argv, DIFF_COMMAND);
  if (positionals.length !== 2) throw new CliError(usageOf(DIFF_COMMAND));
  const options = readAnalysisFlags(flags, io);
  const [a, b] = positionals.map(operand) as [Operand, Operand];

  // One compilation per file, however often it is named.
  const reports = new Map<string, readonly ModelReport[]>();
  const errors: string[] = [];
  for (const file of new Set([a.file, b.file])) {
    const spec = readSpecProgram(file, io);
    const analysis = spec.compilation.analysis(options);
    appendAll(errors, specErrorLines(spec, analysis.diagnostics));
    reports.set(file, analysis.models);
  }
  if (errors.length > 0) {
    for (const line of errors) io.stderr(`${line}\n`);
    return 2;
  }
  const { pairs, onlyA, onlyB } = pairModels(a, b, reports);
  const compared = pairs.map(([x, y]) => ({ a: x, b: y, metrics: compare(x.model, y.model), members: memberDeltas(x.model, y.model) }));
  if (flags.has('json')) {
    io.stdout(
      `${toJson({
        options: compared[0]?.a.model.options ?? options,
        note: 'a multiply-add counts 2 FLOPs; delta is B − A (exact for counts, FLOPs and bytes); ratio is B / A (null where A is 0)',
        pairs: compared.map((c) => ({
          a: { file: c.a.file, model: c.a.model.name },
          b: { file: c.b.file, model: c.b.model.name },
          metrics: c.metrics.map(({ path, a: va, b: vb, delta, ratio }) => ({ metric: path, a: va, b: vb, delta, ratio })),
          members: c.members,
        })),
        onlyInA: onlyA,
        onlyInB: onlyB,
      })}\n`,
    );
    return 0;
  }
  for (const c of compared) io.stdout(renderPair(c.a, c.b, c.metrics, c.members));
  if (onlyA.length > 0) io.stdout(`only in ${a.file}: ${onlyA.join(', ')}\n`);
  if (onlyB.length > 0) io.stdout(`only in ${b.file}: ${onlyB.join(', ')}\n`);
  return 0;
}

interface Operand {
  readonly file: string;
  readonly model: string | undefined;
}

/** `FILE` or `FILE#MODEL` (`#` since `:` is part of Windows paths). */
function operand(text: string): Operand {
  const hash = text.lastIndexOf('#');
  if (hash < 0) return { file: text, model: undefined };
  const file = text.slice(0, hash);
  const model = text.slice(hash + 1);
  if (file === '' || model === '') throw new CliError(`diff: '${text}' must be FILE or FILE#MODEL`);
  return { file, model };
}

/**
 * Which models are compared: the named ones; a file's only model; or, when neither side names one,
 * every model of A with the model of B of the same name (two versions of a spec).
 */
function pairModels(a: Operand, b: Operand, reports: ReadonlyMap<string, readonly ModelReport[]>): { pairs: [Side, Side][]; onlyA: string[]; onlyB: string[] } {
  const modelsOf = (o: Operand): readonly ModelReport[] => reports.get(o.file)!;
  const pick = (o: Operand): ModelReport | undefined => {
    const models = modelsOf(o);
    if (o.model !== undefined) {
      const m = models.find((x) => x.name === o.model);
      if (!m) throw new CliError(`${o.file}: no model or variant named '${o.model}' (have: ${models.map((x) => x.name).join(', ') || 'none'})`);
      return m;
    }
    return models.length === 1 ? models[0] : undefined;
  };
  const ma = pick(a);
  const mb = pick(b);
  if (ma && mb) return { pairs: [[{ file: a.file, model: ma }, { file: b.file, model: mb }]], onlyA: [], onlyB: [] };
  if (a.model !== undefined || b.model !== undefined) {
    const unnamed = ma ? b : a;
    throw new CliError(`${unnamed.file} declares ${modelsOf(unnamed).length} models: name one as ${unnamed.file}#MODEL (have: ${modelsOf(unnamed).map((x) => x.name).join(', ') || 'none'})`);
  }
  const byName = new Map(modelsOf(b).map((m) => [m.name, m]));
  const pairs: [Side, Side][] = [];
  for (const m of modelsOf(a)) {
    const other = byName.get(m.name);
    if (other) pairs.push([{ file: a.file, model: m }, { file: b.file, model: other }]);
  }
  if (pairs.length === 0) throw new CliError(`${a.file} and ${b.file} share no model name: name the two to compare as FILE#MODEL`);
  const inA = new Set(modelsOf(a).map((m) => m.name));
  return { pairs, onlyA: modelsOf(a).filter((m) => !byName.has(m.name)).map((m) => m.name), onlyB: modelsOf(b).filter((m) => !inA.has(m.name)).map((m) => m.name) };
}

function compare(a: ModelReport, b: ModelReport): Compared[] {
  return METRICS.map((metric) => {
    const va = metric.get(a);
    const vb = metric.get(b);
    const exact = typeof va === 'bigint' && typeof vb === 'bigint';
    const delta = exact ? vb - va : Number(vb) - Number(va);
    const ratio = Number(va) === 0 ? null : Number(vb) / Number(va);
    return { path: metric.path, a: va, b: vb, delta, ratio, show: metric.show };
  });
}

/** The top-level members whose stored parameters differ (by name; a member on one side only counts 0 on the other). */
function memberDeltas(a: ModelReport, b: ModelReport): { name: string; a: bigint; b: bigint; delta: bigint }[] {
  const stored = (m: ModelReport): Map<string, bigint> => new Map(m.tree.children.map((c) => [c.name, c.params.stored]));
  const sa = stored(a);
  const sb = stored(b);
  const names = [...sa.keys(), ...[...sb.keys()].filter((n) => !sa.has(n))];
  return names.map((name) => ({ name, a: sa.get(name) ?? 0n, b: sb.get(name) ?? 0n, delta: (sb.get(name) ?? 0n) - (sa.get(name) ?? 0n) })).filter((r) => r.delta !== 0n);
}

function renderPair(a: Side, b: Side, metrics: readonly Compared[], members: ReturnType<typeof memberDeltas>): string {
  const o: AnalysisOptions = a.model.options;
  const signed = (c: Compared): string => {
    const negative = typeof c.delta === 'bigint' ? c.delta < 0n : c.delta < 0;
    const magnitude = typeof c.delta === 'bigint' ? (negative ? -c.delta : c.delta) : Math.abs(c.delta);
    return `${negative ? '−' : '+'}${c.show(magnitude)}`;
  };
  const columns: Column<Compared>[] = [
    { header: 'metric', text: (c) => c.path },
    { header: 'A', text: (c) => c.show(c.a), numeric: true },
    { header: 'B', text: (c) => c.show(c.b), numeric: true },
    { header: 'B − A', text: signed, numeric: true },
    { header: 'B / A', text: (c) => (c.ratio === null ? '' : `${c.ratio.toFixed(4)}×`), numeric: true },
  ];
  const lines = [`A ${a.model.name} (${a.file})  vs  B ${b.model.name} (${b.file})  at seq ${o.seq}, batch ${o.batch}, ${o.dtype}, ${a.model.latency.device} (a multiply-add = 2 FLOPs)`, renderTable(metrics, columns, 'table').trimEnd()];
  if (members.length > 0) {
    lines.push('stored parameters that differ, by top-level member:');
    for (const m of members) lines.push(`  ${m.name.padEnd(24)} ${groupDigits(m.a).padStart(16)} → ${groupDigits(m.b).padStart(16)}  (${m.delta < 0n ? '−' : '+'}${groupDigits(m.delta < 0n ? -m.delta : m.delta)})`);
  }
  return `${lines.join('\n')}\n\n`;
}
