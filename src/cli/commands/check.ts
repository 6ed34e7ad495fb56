// `npas check FILE`: prints every diagnostic as `FILE:LINE:COL: severity CODE: message`.
// Exit 2 if any error, else 0 — a contract CI scripts rely on. Imports are followed; a
// diagnostic in an imported file is printed at that file.

import { parseCommand, usageOf, type CommandSpec } from '../args.js';
import { CliError, type CliIO } from '../io.js';
import { diagnosticLine, readSpecProgram } from '../spec-program.js';

export const CHECK_COMMAND: CommandSpec = { name: 'check', operands: 'FILE', flags: [] };

export function runCheck(argv: readonly string[], io: CliIO): number {
  const { positionals } = parseCommand(argv, CHECK_COMMAND);
  if (positionals.length !== 1) throw new CliError(usageOf(CHECK_COMMAND));
  const spec = readSpecProgram(positionals[0]!, io);
  const result = spec.compilation.analysis();
  let errors = 0;
  for (const d of result.diagnostics) {
    if (d.severity === 'error') errors++;
    io.stdout(`${diagnosticLine(spec, d)}\n`);
  }
  return errors > 0 ? 2 : 0;
}
