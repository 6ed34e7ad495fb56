// `npas report FILE [-o report.html|-] [--model NAME] [--seq N] [--src-seq N] [--batch N]
// [--dtype T] [--device D] [--theme dark|light]`: the dashboard as ONE self-contained HTML file
// (webview bundle and stylesheet inlined, the data embedded as JSON, a strict CSP with a fresh
// nonce), for CI artifacts and sharing; it works offline from a file URL. The numbers are those
// of `npas budget --json` at the same settings. Exit 1 if a budget is violated (the report is
// still written), 2 on spec errors.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { dashboardData } from '../../core/index.js';
import { reportHtml } from '../../../webview/html.js';
import { parseCommand, usageOf, type CommandSpec } from '../args.js';
import { CliError, type CliIO } from '../io.js';
import { ANALYSIS_FLAGS, readAnalysisFlags } from '../analysis-flags.js';
import { readSpecProgram } from '../spec-program.js';
import { specErrorLines } from '../budget-grid.js';

export const REPORT_COMMAND: CommandSpec = {
  name: 'report',
  operands: 'FILE',
  flags: [
    { name: 'output', alias: 'o', takesValue: true, value: 'report.html|-' },
    { name: 'model', takesValue: true, value: 'NAME' },
    ...ANALYSIS_FLAGS,
    { name: 'theme', takesValue: true, value: 'dark|light' },
  ],
};

const USAGE = usageOf(REPORT_COMMAND);

/** `dir/name.npas` → `dir/name.html` (any other extension is kept and `.html` appended). */
export function defaultReportPath(spec: string): string {
  const base = basename(spec);
  const stem = base.endsWith('.npas') ? base.slice(0, -'.npas'.length) : base;
  return join(dirname(spec), `${stem}.html`);
}

/** The files the report inlines, relative to the package root. */
export const REPORT_ASSETS = { script: 'dist/webview.js', style: 'media/dashboard.css', themes: 'media/dashboard-themes.css' } as const;

/** The package root: the nearest folder above this module holding the dashboard stylesheet. */
export function packageRoot(from: string = __dirname): string | undefined {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, REPORT_ASSETS.style))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export function runReport(argv: readonly string[], io: CliIO, assetsRoot: string | undefined = packageRoot()): number {
  const { positionals, flags } = parseCommand(argv, REPORT_COMMAND);
  if (positionals.length !== 1) throw new CliError(USAGE);
  const file = positionals[0]!;
  const str = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const o = readAnalysisFlags(flags, io);
  const theme = str('theme') ?? 'dark';
  if (theme !== 'dark' && theme !== 'light') throw new CliError(`--theme must be dark or light; got '${theme}'`);

  const spec = readSpecProgram(file, io);
  const compilation = spec.compilation;
  const data = dashboardData(compilation, o, { source: basename(file) });
  if (data.diagnostics.errors > 0) {
    // Same lines as `npas check`, then exit 2 without writing a report of a broken spec.
    for (const line of specErrorLines(spec, compilation.analysis(o).diagnostics)) io.stderr(`${line}\n`);
    return 2;
  }
  const name = str('model');
  const models = name ? data.models.filter((m) => m.name === name) : data.models;
  if (name && models.length === 0) throw new CliError(`${file}: no model or variant named '${name}' (have: ${data.models.map((m) => m.name).join(', ') || 'none'})`);

  if (!assetsRoot) throw new CliError('the dashboard bundle was not found next to the npas command; run `npm run build`', 70);
  const asset = (rel: string): string => {
    try {
      return io.readFile(join(assetsRoot, rel));
    } catch {
      throw new CliError(`${join(assetsRoot, rel)} is missing; run \`npm run build\``, 70);
    }
  };
  const html = reportHtml({
    script: asset(REPORT_ASSETS.script),
    style: `${asset(REPORT_ASSETS.style)}\n${asset(REPORT_ASSETS.themes)}`,
    dataJson: JSON.stringify({ ...data, models }),
    nonce: randomBytes(18).toString('base64'),
    title: `NPAS report: ${basename(file)}`,
    theme,
  });
  // Without -o the report goes beside the spec (600 KB of HTML is no terminal output);
  // `-o -` writes it to stdout for a pipe.
  const out = str('output') ?? defaultReportPath(file);
  if (out !== '-') {
    try {
      io.writeFile(out, html);
    } catch {
      throw new CliError(`${out}: cannot be written`);
    }
    io.stderr(`wrote ${out} (${models.length} model${models.length === 1 ? '' : 's'})\n`);
  } else io.stdout(html);
  return models.some((m) => m.budgets.some((b) => !b.ok)) ? 1 : 0;
}
