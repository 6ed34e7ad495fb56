// `npas param FILE [--model NAME] [--lr X] [--init-std X] [--weight-decay X] [--json]`: the
// parameterisation table of every model that declares `param scheme(…)` (or of one): for each
// weight its class, and its init std, Adam learning rate, forward multiplier, residual branch
// scale and weight decay as factors of the base model's — and, given the base model's tuned
// values (in the statement or as flags), the target's. Exit 2 on spec errors or when the model
// declares no parameterisation.

import { transferTable, type BaseOverrides, type Factor, type TransferTable, toJson } from '../../core/index.js';
import { parseCommand, usageOf, type CommandSpec } from '../args.js';
import { CliError, type CliIO } from '../io.js';
import { diagnosticLine, readSpecProgram } from '../spec-program.js';

export const PARAM_COMMAND: CommandSpec = {
  name: 'param',
  operands: 'FILE',
  flags: [
    { name: 'model', takesValue: true, value: 'NAME' },
    { name: 'lr', takesValue: true, value: 'X' },
    { name: 'init-std', takesValue: true, value: 'X' },
    { name: 'weight-decay', takesValue: true, value: 'X' },
    { name: 'json', takesValue: false },
  ],
};

export function runParam(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseCommand(argv, PARAM_COMMAND);
  if (positionals.length !== 1) throw new CliError(usageOf(PARAM_COMMAND));
  const file = positionals[0]!;
  const str = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const overrides: BaseOverrides = {
    ...optionalPositive(str('lr'), 'lr', (lr) => ({ lr })),
    ...optionalPositive(str('init-std'), 'init-std', (initStd) => ({ initStd })),
    ...optionalPositive(str('weight-decay'), 'weight-decay', (weightDecay) => ({ weightDecay })),
  };
  const spec = readSpecProgram(file, io);
  const compilation = spec.compilation;
  const errors = compilation.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    for (const d of errors) {
      io.stderr(`${diagnosticLine(spec, d)}\n`);
    }
    return 2;
  }
  const name = str('model');
  const chosen = name ? compilation.models.filter((m) => m.name === name) : compilation.models.filter((m) => m.parameterization);
  if (name && chosen.length === 0) {
    throw new CliError(`${file}: no model or variant named '${name}' (have: ${compilation.models.map((m) => m.name).join(', ') || 'none'})`);
  }
  const tables: { name: string; table: TransferTable }[] = [];
  for (const m of chosen) {
    if (!m.parameterization) throw new CliError(`${file}: '${m.name}' declares no parameterisation; add e.g. \`param mup(base_width: 256)\` to it`);
    tables.push({ name: m.name, table: transferTable(m.parameterization, overrides) });
  }
  if (tables.length === 0) throw new CliError(`${file}: no model declares a parameterisation; add e.g. \`param mup(base_width: 256)\` to one`);
  if (flags.has('json')) io.stdout(`${toJson({ models: tables.map((t) => ({ name: t.name, parameterization: t.table })) })}\n`);
  else for (const t of tables) io.stdout(renderTable(t.name, t.table));
  return 0;
}

function optionalPositive<T>(value: string | undefined, flag: string, wrap: (n: number) => T): T | {} {
  if (value === undefined) return {};
  const n = Number(value);
  if (!/^[0-9.eE+-]+$/.test(value) || !Number.isFinite(n) || n <= 0) throw new CliError(`--${flag} must be a positive number such as 3e-3, got '${value}'`);
  return wrap(n);
}

/** The table as text: one line per weight, the target's values where the base's are known. */
export function renderTable(name: string, t: TransferTable): string {
  const lines: string[] = [];
  const alpha = t.alpha !== undefined ? `, α = ${t.alpha}` : '';
  lines.push(`${name}: ${t.scheme}${alpha}   width ${t.width} (base ${t.baseWidth}, m_N = ${num(t.widthRatio)})   depth ${t.depth} (base ${t.baseDepth}, m_L = ${num(t.depthRatio)})`);
  const base = Object.entries(t.base).map(([k, v]) => `${k} ${num(v as number)}`).join('   ');
  lines.push(base ? `  base      ${base}` : '  base      (no base values: factors only; give lr/init_std/weight_decay in the statement or --lr)');
  const header = ['weight', 'class', '×', 'init std', 'Adam LR', 'multiplier', 'residual', 'weight decay'];
  const rows = t.rows.map((r) => [
    r.path,
    r.weightClass,
    String(r.instances),
    r.initStd ? cell(r.initStd) : r.role === 'bias' ? 'starts at 0' : 'starts at 1',
    cell(r.lr),
    cell(r.output),
    cell(r.residual),
    r.weightDecay ? cell(r.weightDecay) : 'none',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}`;
  lines.push(line(header));
  for (const r of rows) lines.push(line(r));
  return `${lines.join('\n')}\n\n`;
}

/** `m_N^-1 = 0.25 → 7.5e-4`: the formula, its value, and the target's value when known. */
function cell(f: Factor): string {
  const value = f.formula === '1' ? '1' : `${f.formula} = ${num(f.value)}`;
  return f.target !== undefined ? `${value} → ${num(f.target)}` : value;
}

function num(x: number): string {
  return Number(x.toPrecision(4)).toString();
}
