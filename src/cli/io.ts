// The CLI's view of the outside world, injected so commands are testable in-process.

import type { CliFailureKind } from '../protocol/kernel-rpc.js';

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => string;
  readonly writeFile: (path: string, text: string) => void;
}

/** A user-facing failure: printed as `npas: message` with the given exit code, never a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
    /** The message without the command's name in front, for a typed answer (`--json`). */
    readonly detail: string = message,
    /** What kind of failure it is for a typed answer; by default read from the exit code (json-failure.ts). */
    readonly kind?: CliFailureKind,
  ) {
    super(message);
  }
}
