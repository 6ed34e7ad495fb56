// `npas check FILE`: prints every diagnostic as `FILE:LINE:COL: severity CODE: message`.
// Exit 2 if any error, else 0 — a contract CI scripts rely on.

import { analyze, lineColumn } from '../../core/index.js';
import { parseCommand, usageOf, type CommandSpec } from '../args.js';
import { CliError, type CliIO } from '../io.js';
import { readSpec } from './read-spec.js';

export const CHECK_COMMAND: CommandSpec = { name: 'check', operands: 'FILE', flags: [] };

export function runCheck(argv: readonly string[], io: CliIO): number {
  const { positionals } = parseCommand(argv, CHECK_COMMAND);
  if (positionals.length !== 1) throw new CliError(usageOf(CHECK_COMMAND));
  const file = positionals[0]!;
  const text = readSpec(file, io);
  const result = analyze(text);
  let errors = 0;
  for (const d of result.diagnostics) {
    const { line, column } = lineColumn(text, d.range.start);
    const severity = d.severity === 'error' ? 'error' : 'warning';
    if (d.severity === 'error') errors++;
    io.stdout(`${file}:${line}:${column}: ${severity} ${d.code}: ${d.message}\n`);
  }
  return errors > 0 ? 2 : 0;
}
