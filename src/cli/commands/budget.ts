// `npas budget FILE… [--model NAME] [--seq N] [--src-seq N] [--batch N] [--dtype T] [--device D] [--json] [--depth N] [--format F]`:
// the budget report of every model and variant (or one), as a table or as JSON. Several files, or a
// comma list or range in a setting (`--seq 1024..8192 --batch 1,8`), make a grid: one row per
// file × combination × model (`../budget-grid.ts`). Exit 1 when a budget is violated, 2 on spec errors.

import { budgetJsonText, listedChildren, resolvePrecision, routedEffectiveBasis, routedEffectiveSummary, TREE_WIDTH, type AnalysisOptions, type ModelReport, type NodeReport } from '../../core/index.js';
import { parseCommand, positiveIntFlag, usageOf, type CommandSpec } from '../args.js';
import { formatBytes, formatFlops, formatSeconds, groupDigits } from '../format.js';
import { CliError, type CliIO } from '../io.js';
import { ANALYSIS_FLAGS, readAnalysisFlags } from '../analysis-flags.js';
import { BUDGET_SWEEPABLE, budgetRows, renderBudgetGrid, specErrorLines, specWarningLines } from '../budget-grid.js';
import { expandGrid, isSwept } from '../sweep.js';
import { tableFormat } from '../table-format.js';
import { readSpec } from './read-spec.js';
import { readSpecProgram, specProgram } from '../spec-program.js';

export const BUDGET_COMMAND: CommandSpec = {
  name: 'budget',
  operands: 'FILE…',
  flags: [
    { name: 'model', takesValue: true, value: 'NAME' },
    ...ANALYSIS_FLAGS,
    { name: 'json', takesValue: false },
    { name: 'depth', takesValue: true, value: 'N' },
    { name: 'format', takesValue: true, value: 'table|markdown|csv|json' },
  ],
};

export function runBudget(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseCommand(argv, BUDGET_COMMAND);
  if (positionals.length < 1) throw new CliError(usageOf(BUDGET_COMMAND));
  const str = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  if (positionals.length > 1 || isSwept(flags, BUDGET_SWEEPABLE) || flags.has('format')) return runBudgetGrid(positionals, flags, str('model'), io);
  const file = positionals[0]!;
  const options = readAnalysisFlags(flags, io);
  const depthFlag = str('depth');
  const depth = depthFlag ? positiveIntFlag(depthFlag, 'depth') : 2;

  const text = readSpec(file, io);
  const name = str('model');
  const result = budgetAnalysis(file, text, options, io.readFile, name);
  if (result.kind === 'errors') {
    for (const line of result.errors) io.stderr(`${line}\n`);
    return 2;
  }
  const models = name ? result.models.filter((m) => m.name === name) : result.models;
  if (name && models.length === 0) {
    throw new CliError(`${file}: no model or variant named '${name}' (have: ${result.models.map((m) => m.name).join(', ') || 'none'})`);
  }
  for (const line of result.warnings) io.stderr(`${line}\n`);
  if (flags.has('json')) io.stdout(budgetJsonText(models, { depth }));
  else for (const m of models) io.stdout(renderModel(m, depth));
  return models.some((m) => m.budgets.some((b) => !b.ok)) ? 1 : 0;
}

/** The budget reports of a spec, or its errors as `FILE:LINE:COL: error CODE: message` lines (as `npas check` prints them). */
type BudgetAnalysis =
  | { readonly kind: 'report'; readonly models: readonly ModelReport[]; readonly warnings: readonly string[] }
  | { readonly kind: 'errors'; readonly errors: readonly string[] };

/** `readFile` reads the files the spec imports (from disk unless given); with `model`, the other models' warnings are left out. */
function budgetAnalysis(file: string, text: string, options: Partial<AnalysisOptions>, readFile?: (path: string) => string, model?: string): BudgetAnalysis {
  const spec = specProgram(file, text, readFile);
  const result = spec.compilation.analysis(options);
  const errors = specErrorLines(spec, result.diagnostics);
  return errors.length === 0 ? { kind: 'report', models: result.models, warnings: specWarningLines(spec, result.diagnostics, result.models, model) } : { kind: 'errors', errors };
}

/** Several files or swept settings: one row per file × combination × model (exit codes as for one report). */
function runBudgetGrid(files: readonly string[], flags: ReadonlyMap<string, string | true>, model: string | undefined, io: CliIO): number {
  const format = flags.has('json') ? 'json' : tableFormat(flags.get('format'), 'table');
  const grid = expandGrid(flags, BUDGET_SWEEPABLE);
  const sources = files.map((file) => readSpecProgram(file, io));
  const { rows, errors, warnings } = budgetRows(sources, grid, model, io);
  if (errors.length > 0) {
    for (const line of errors) io.stderr(`${line}\n`);
    return 2;
  }
  if (model !== undefined && rows.length === 0) throw new CliError(`no model or variant named '${model}' in ${files.join(', ')}`);
  for (const line of warnings) io.stderr(`${line}\n`);
  io.stdout(renderBudgetGrid(rows, format, files.length > 1));
  return rows.some((r) => r.report.budgets.some((b) => !b.ok)) ? 1 : 0;
}

function renderModel(m: ModelReport, depth: number): string {
  const o = m.options;
  const lines: string[] = [];
  lines.push(`${m.name} (${m.kind}${m.base ? ` of ${m.base}` : ''})`);
  lines.push(`  params    stored ${groupDigits(m.params.stored)}   effective ${groupDigits(m.params.effective)}   active ${groupDigits(m.params.active)}   trainable ${groupDigits(m.params.trainable)}`);
  if (m.tasks) lines.push(`  tasks     ${m.tasks.tasks}: shared ${groupDigits(m.tasks.shared)}   ${m.tasks.byTask ? `own ${m.tasks.byTask.map((own, i) => `task ${i} ${groupDigits(own)}`).join(', ')}` : `own ${groupDigits(m.tasks.perTask)} each`}   (stored = shared + what each task owns)`);
  if (m.routedEffective) lines.push(`  routed    effective ${routedEffectiveSummary(m.routedEffective)}   (${routedEffectiveBasis(m.routedEffective)})`);
  const unit = m.flops.unit;
  if (unit === 'sample') lines.push(`  FLOPs     forward ${formatFlops(m.flops.prefill)} per sample (a multiply-add = 2 FLOPs)`);
  else {
    lines.push(`  FLOPs     prefill ${formatFlops(Number(m.flops.prefillPerToken))}/token at seq ${o.seq} (total ${formatFlops(m.flops.prefill)}${o.batch > 1 ? ` for ${o.batch} sequences` : ''})   decode ${formatFlops(m.flops.decode)}/step at context ${o.seq}${o.batch > 1 ? ` (${o.batch} tokens)` : ''}   (a multiply-add = 2 FLOPs)`);
  if (m.flops.setup !== undefined) lines.push(`  setup     ${formatFlops(m.flops.setup)} once before serving (${groupDigits(m.flops.setup)} FLOPs: Arrow's prototypes)`);
  }
  const p = resolvePrecision(o);
  lines.push(`  KV cache  ${formatBytes(m.kvCacheBytes)}  (seq ${o.seq}, batch ${o.batch}, ${p.kv})`);
  if (m.recurrentStateBytes > 0n) lines.push(`  state     ${formatBytes(m.recurrentStateBytes)}  recurrent (conv and SSM) state, constant in seq (batch ${o.batch})`);
  lines.push(`  memory    weights ${formatBytes(m.memory.weightBytes)}   inference ${formatBytes(m.memory.inferenceBytes)}   training ${formatBytes(m.memory.trainingBytes)} (Adam, activations at batch ${o.batch})`);
  lines.push(`  dtypes    weights ${p.weights}${p.experts !== p.weights ? `   experts ${p.experts}` : ''}   KV ${p.kv}   activations ${p.activations}   compute ${p.compute}   gradients ${p.gradients}   master ${p.master}   Adam moments ${p.optimizer}`);
  const l = m.latency;
  lines.push(`  roofline  ${l.device}: prefill ${formatSeconds(l.prefill.seconds)} (${l.prefill.bound}-bound)   decode step ${formatSeconds(l.decode.seconds)} (${l.decode.bound}-bound)`);
  for (const b of m.budgets) lines.push(`  budget    ${b.ok ? 'ok  ' : 'FAIL'} ${b.constraint}   (measured ${b.value})`);
  lines.push('  tree');
  const nameWidth = 28;
  const walk = (n: NodeReport, level: number): void => {
    if (level > depth) return;
    const label = `${'  '.repeat(level)}${n.name}${n.count > 1 && n.kind !== 'stack' ? ` ×${n.count}` : ''}`;
    lines.push(`    ${label.padEnd(nameWidth)} ${n.type.padEnd(18)} stored ${groupDigits(n.params.stored).padStart(15)}   effective ${groupDigits(n.params.effective).padStart(15)}`);
    walkChildren(n, level + 1);
  };
  const walkChildren = (n: NodeReport, level: number): void => {
    if (level > depth) return;
    for (const c of listedChildren(n.children)) walk(c, level);
    const more = n.children.length - TREE_WIDTH;
    if (more > 0) lines.push(`    ${'  '.repeat(level)}… ${groupDigits(more)} more (${n === m.tree ? 'members' : 'entries'} past the first ${groupDigits(TREE_WIDTH)}; the totals above count them)`);
  };
  walkChildren(m.tree, 0);
  return `${lines.join('\n')}\n\n`;
}
