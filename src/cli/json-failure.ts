// `--json` failures as data: a command a program drives (export-onnx and probe, run by the
// extension in a child process) answers every failure, its usage and spec errors included, with a
// `CliJsonFailure` on stdout, so its caller never reads meaning out of stderr. The `npas: …` line
// on stderr and the exit code stay as they are for people and scripts.

import type { CliFailureKind, CliJsonFailure } from '../protocol/kernel-rpc.js';
import { CliError, type CliIO } from './io.js';

/** The failure kind of a `CliError`'s exit code (main.ts and the commands' headers document them). */
export function failureKind(exitCode: number): CliFailureKind {
  switch (exitCode) {
    case 2:
      return 'spec'; // usage or spec: the request cannot be carried out as written
    case 3:
      return 'provider-missing';
    case 5:
      return 'memory';
    case 70:
      return 'internal';
    default:
      return 'export';
  }
}

/** Prints one `CliJsonFailure` line on stdout. */
export function printJsonFailure(io: CliIO, kind: CliFailureKind, message: string): void {
  const failure: CliJsonFailure = { error: { kind, message } };
  io.stdout(`${JSON.stringify(failure)}\n`);
}

/** Whether `argv` asks for answers as data: `--json`, or `--request FILE` (a program wrote it). */
const answersInJson = (argv: readonly string[]): boolean => argv.some((a) => a === '--json' || a === '--request' || a.startsWith('--request='));

/**
 * Runs a command; when `argv` asks for `--json` (or gives a `--request`) and it fails with a
 * `CliError`, its failure is printed as data too, then rethrown (stderr and the exit code unchanged).
 */
export function withJsonFailures<T>(argv: readonly string[], io: CliIO, run: () => T): T {
  const fail = (e: unknown): never => {
    if (e instanceof CliError && answersInJson(argv)) printJsonFailure(io, e.kind ?? failureKind(e.exitCode), e.detail);
    throw e;
  };
  try {
    const result = run();
    return result instanceof Promise ? (result.catch(fail) as T) : result;
  } catch (e) {
    return fail(e);
  }
}
