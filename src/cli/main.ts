// The `npas` command line: dispatches to one command per file. Never prints a stack trace:
// user mistakes exit 2 with a message, internal errors exit 70 with a short note.

import { writeFileSync } from 'node:fs';
import { escapeControlKeepLines } from '../core/index.js';
import { readTextFile } from './read-text-file.js';
import { ALLOCATE_COMMAND, runAllocate } from './commands/allocate.js';
import { BUDGET_COMMAND, runBudget } from './commands/budget.js';
import { CHECK_COMMAND, runCheck } from './commands/check.js';
import { DIFF_COMMAND, runDiff } from './commands/diff.js';
import { EXPORT_ONNX_COMMAND, runExportOnnx } from './commands/export-onnx.js';
import { FIT_COMMAND, runFit } from './commands/fit.js';
import { PARAM_COMMAND, runParam } from './commands/param.js';
import { SUBNETS_COMMAND, runSubnets } from './commands/subnets.js';
import { PLAN_COMMAND, runPlan } from './commands/plan.js';
import { PROBE_COMMAND, runProbeCommand } from './commands/probe.js';
import { IMPORT_HF_COMMAND, runImportHf } from './commands/import-hf.js';
import { REPORT_COMMAND, runReport } from './commands/report.js';
import { CliError, type CliIO } from './io.js';
import { synopsis } from './args.js';

const USAGE = `usage: npas <command> [options]

commands:
  ${synopsis(CHECK_COMMAND)}
                                   diagnostics as FILE:LINE:COL: severity CODE: message (exit 2 on errors)
  ${synopsis(BUDGET_COMMAND)}
                                   the budget report (exit 1 if a budget is violated, 2 on spec errors)
  ${synopsis(DIFF_COMMAND)}
                                   two models or variants side by side: every metric, B − A exact, B / A, and the members that differ
  ${synopsis(IMPORT_HF_COMMAND)}
                                   a .npas spec from a Hugging Face config.json (or a model folder, checked against its checkpoint)
  ${synopsis(ALLOCATE_COMMAND)}
                                   an NPAS plan storing exactly N params (exit 2 when refused)
  ${synopsis(EXPORT_ONNX_COMMAND)}
                                   the model as ONNX with synthetic weights (one initializer per stored tensor; exit 5 if it cannot fit memory);
                                   --request: every parameter as one typed JSON object instead of FILE and flags, answered in JSON
  ${synopsis(PROBE_COMMAND)}
                                   measure it with onnxruntime-node beside the roofline (docs/probes.md);
                                   --ops standard: ai.onnx ops only instead of ORT's fused contrib ops; --request as export-onnx's
  ${synopsis(REPORT_COMMAND)}
                                   the dashboard as one self-contained HTML file, beside the spec unless -o (exit 1 if a budget is violated)
  ${synopsis(PLAN_COMMAND)}
                                   per-GPU and per-stage training memory, step time, MFU, tokens/s (docs/plans.md);
                                   --search: the layouts that fit, fastest first (exit 1 if it does not fit);
                                   comma lists and ranges (--seq 2048,4096 --gpus 8..64) sweep a grid
  ${synopsis(FIT_COMMAND)}
                                   serving: largest context and batch, tokens/s; training: fewest GPUs that fit
  ${synopsis(PARAM_COMMAND)}
                                   the parameterisation (param mup(…), completep(…), u_mup(…)): each weight's init std,
                                   Adam LR, multiplier, residual scale and weight decay, transferred from the base's
  ${synopsis(SUBNETS_COMMAND)}
                                   a supernet (elastic STACK: …): its subnets under a filter, the best by a metric,
                                   the Pareto front; --emit N prints one as a variant (exit 1 if none is feasible)
  help                             this text
`;

const COMMANDS: Record<string, (argv: readonly string[], io: CliIO) => number> = {
  check: runCheck,
  budget: runBudget,
  diff: runDiff,
  'import-hf': runImportHf,
  allocate: runAllocate,
  report: (argv, io) => runReport(argv, io),
  'export-onnx': runExportOnnx,
  plan: runPlan,
  fit: runFit,
  param: runParam,
  subnets: runSubnets,
};

/** Commands that wait on a child process; run through mainAsync. */
const ASYNC_COMMANDS: Record<string, (argv: readonly string[], io: CliIO) => Promise<number>> = {
  probe: (argv, io) => runProbeCommand(argv, io),
};

/** Like main, for every command including the asynchronous ones (probe). */
export async function mainAsync(argv: readonly string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  const run = command ? ASYNC_COMMANDS[command] : undefined;
  if (!run) return main(argv, io);
  try {
    return await run(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

export function main(argv: readonly string[], io: CliIO): number {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run && ASYNC_COMMANDS[command]) {
    io.stderr(`npas: '${command}' runs asynchronously; call mainAsync\n`);
    return 70;
  }
  if (!run) {
    io.stderr(`npas: unknown command '${command}'\n${USAGE}`);
    return 2;
  }
  try {
    return run(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: CliIO): number {
  if (e instanceof CliError) {
    io.stderr(`npas: ${e.message}\n`);
    return e.exitCode;
  }
  io.stderr(`npas: internal error: ${e instanceof Error ? e.message : String(e)} (please report this)\n`);
  return 70;
}

let pipesGuarded = false;
/** Set once the reader of stdout or stderr has gone away: later writes to it are dropped. */
const closedStreams = new Set<NodeJS.WriteStream>();
/**
 * A reader that goes away (`npas budget … --json | head`, `npas check bad.npas | true`) is not
 * our failure: later output to it is dropped, and the command runs to its end and exits with
 * its own code (2 for a spec with errors), instead of dying on EPIPE or exiting early with 0.
 */
function guardPipes(): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') closedStreams.add(stream);
      else process.exit(70);
    });
  }
}

/** Writes to a terminal or pipe, control characters made visible (a spec's strings cannot drive the terminal). */
function write(stream: NodeJS.WriteStream, text: string): void {
  guardPipes();
  if (closedStreams.has(stream)) return;
  stream.write(escapeControlKeepLines(text));
}

export const nodeIO: CliIO = {
  stdout: (t) => write(process.stdout, t),
  stderr: (t) => write(process.stderr, t),
  readFile: (p) => readTextFile(p),
  writeFile: (p, t) => writeFileSync(p, t),
};

if (require.main === module) {
  void mainAsync(process.argv.slice(2), nodeIO).then((code) => {
    process.exitCode = code;
  });
}
