// `npas budget` over a grid: several files, and comma lists or ranges of the analysis flags
// (`--seq 1024..8192 --batch 1,8 --device H100,B200`), one row per file × combination × model, as
// a table, Markdown, CSV or JSON. Each file is compiled once and its compilation measures every
// combination, so a grid costs one parse per file.

import { blocksMeasurement, resolvePrecision, type Diagnostic, type ModelReport, toJson } from '../core/index.js';
import { diagnosticLine, type SpecProgram } from './spec-program.js';
import { ANALYSIS_FLAGS, readAnalysisFlags } from './analysis-flags.js';
import { formatBytes, formatFlops, formatSeconds, groupDigits } from './format.js';
import type { CliIO } from './io.js';
import { renderTable, type Column, type TableFormat } from './table-format.js';

/** The analysis flags a budget grid sweeps: every setting (`--devices FILE` names a file, not a setting). */
export const BUDGET_SWEEPABLE: ReadonlySet<string> = new Set(ANALYSIS_FLAGS.map((f) => f.name).filter((n) => n !== 'devices'));

/** One row: a model or variant of a file at one combination of the swept settings. */
export interface BudgetRow {
  readonly file: string;
  readonly report: ModelReport;
}

/**
 * The rows of the grid: for each file, each combination (flag maps from `expandGrid`), each model
 * (or the one named by `--model`), in that order; or the spec errors that keep files from being
 * measured, each line once. Every combination's flags are checked before any file is measured, so
 * a bad value in a list is refused as the single value would be.
 */
export function budgetRows(
  sources: readonly SpecProgram[],
  grid: readonly ReadonlyMap<string, string | true>[],
  model: string | undefined,
  io: CliIO,
): { readonly rows: readonly BudgetRow[]; readonly errors: readonly string[]; readonly warnings: readonly string[] } {
  const settings = grid.map((combination) => readAnalysisFlags(combination, io));
  const rows: BudgetRow[] = [];
  const errors = new Set<string>();
  // A warning repeated by several combinations (the same seq past the same context) is said once.
  const warnings = new Set<string>();
  for (const spec of sources) {
    const file = spec.path;
    for (const options of settings) {
      const analysis = spec.compilation.analysis(options);
      for (const line of specErrorLines(spec, analysis.diagnostics)) errors.add(line);
      for (const line of specWarningLines(spec, analysis.diagnostics, analysis.models, model)) warnings.add(line);
      for (const report of analysis.models) if (model === undefined || report.name === model) rows.push({ file, report });
    }
  }
  return { rows, errors: [...errors], warnings: [...warnings] };
}

/** The errors that keep a spec from being measured (a violated budget is a result, not one of them), as `npas check` prints them. */
export function specErrorLines(spec: SpecProgram, diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.filter(blocksMeasurement).map((d) => diagnosticLine(spec, d));
}

/**
 * The warnings of an analysis, as `npas check` prints them: the numbers are still computed, but
 * may not mean what a reader assumes (a sequence past the model's context or position table, a
 * factorisation larger than its dense weight), so the report says so on stderr.
 */
export function specWarningLines(spec: SpecProgram, diagnostics: readonly Diagnostic[], reports: readonly ModelReport[] = [], model?: string): string[] {
  return diagnostics.filter((d) => d.severity === 'warning' && !aboutAnotherModel(spec, d, reports, model)).map((d) => diagnosticLine(spec, d));
}

/**
 * A warning the analysis places at a model's name (its sequence past that model's context or
 * position table) is about that model alone: with `--model M` the other models' are not said.
 * Warnings placed elsewhere (a declaration's own problem) are the spec's, said whatever is chosen.
 */
function aboutAnotherModel(spec: SpecProgram, d: Diagnostic, reports: readonly ModelReport[], model: string | undefined): boolean {
  if (model === undefined) return false;
  // A report leaves out the compiled file's id (its `source` names imported files only); a diagnostic carries it.
  const main = spec.compilation.options.source;
  const file = d.source === main ? undefined : d.source;
  const owner = reports.find((r) => r.source === file && r.range.start === d.range.start && r.range.end === d.range.end);
  return owner !== undefined && owner.name !== model;
}

/** The grid as text (table, Markdown, CSV: people's units, CSV exact) or JSON (`{"rows": [...]}`, exact integers). */
export function renderBudgetGrid(rows: readonly BudgetRow[], format: TableFormat, withFile: boolean): string {
  if (format === 'json') return `${toJson({ rows: rows.map(jsonRow) })}\n`;
  return renderTable(rows, columns(withFile), format);
}

function jsonRow({ file, report: m }: BudgetRow): object {
  return {
    file,
    model: m.name,
    kind: m.kind,
    base: m.base ?? null,
    options: { ...m.options, srcSeq: m.options.srcSeq ?? m.options.seq, precision: resolvePrecision(m.options) },
    params: m.params,
    flops: m.flops,
    kvCacheBytes: m.kvCacheBytes,
    recurrentStateBytes: m.recurrentStateBytes,
    memory: m.memory,
    latency: m.latency,
    budgets: m.budgets.map((b) => ({ constraint: b.constraint, limit: b.limit, value: b.value, ok: b.ok })),
  };
}

function columns(withFile: boolean): Column<BudgetRow>[] {
  type Get<T> = (m: ModelReport) => T;
  const exact = (header: string, get: Get<bigint | string>, show: (v: bigint | string) => string): Column<BudgetRow> => ({ header, text: (r) => show(get(r.report)), raw: (r) => get(r.report).toString(), numeric: true });
  const count = (header: string, get: Get<bigint>) => exact(header, get, (v) => groupDigits(v as bigint));
  const bytes = (header: string, get: Get<bigint>) => exact(header, get, formatBytes);
  const setting = (header: string, get: Get<string | number>, numeric = true): Column<BudgetRow> => ({ header, text: (r) => String(get(r.report)), numeric });
  const seconds = (header: string, get: Get<number>): Column<BudgetRow> => ({ header, text: (r) => formatSeconds(get(r.report)), raw: (r) => String(get(r.report)), numeric: true });
  const out: Column<BudgetRow>[] = [];
  if (withFile) out.push({ header: 'file', text: (r) => r.file });
  out.push(
    { header: 'model', text: (r) => r.report.name },
    setting('seq', (m) => m.options.seq),
    setting('batch', (m) => m.options.batch),
    setting('weights', (m) => resolvePrecision(m.options).weights, false),
    setting('kv', (m) => resolvePrecision(m.options).kv, false),
    setting('device', (m) => m.latency.device, false),
    count('stored', (m) => m.params.stored),
    count('active', (m) => m.params.active),
    // Per token for sequence models, per sample for convolutional ones (the unit says which).
    exact('prefill FLOPs/unit', (m) => (m.flops.unit === 'sample' ? m.flops.prefill : m.flops.prefillPerToken), (v) => formatFlops(typeof v === 'string' ? Number(v.replace(/…$/, '')) : v)),
    { header: 'unit', text: (r) => r.report.flops.unit },
    exact('decode FLOPs/step', (m) => m.flops.decode, formatFlops),
    bytes('KV cache', (m) => m.kvCacheBytes),
    bytes('state', (m) => m.recurrentStateBytes),
    bytes('inference', (m) => m.memory.inferenceBytes),
    bytes('training', (m) => m.memory.trainingBytes),
    seconds('prefill', (m) => m.latency.prefill.seconds),
    seconds('decode step', (m) => m.latency.decode.seconds),
    {
      header: 'budgets',
      text: (r) => {
        const failed = r.report.budgets.filter((b) => !b.ok);
        return r.report.budgets.length === 0 ? '' : failed.length === 0 ? 'ok' : `FAIL ${failed.map((b) => b.constraint).join('; ')}`;
      },
    },
  );
  return out;
}
