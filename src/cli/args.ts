// A small, strict argument parser: known flags only, values required where declared, and
// every mistake reported as a CliError (exit 2) naming the flag.

import { CliError } from './io.js';
import { groupDigits } from './format.js';

export interface FlagSpec {
  readonly name: string;
  readonly alias?: string;
  readonly takesValue: boolean;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const [rawName, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const spec = specs.find((s) => `--${s.name}` === rawName || (s.alias !== undefined && `-${s.alias}` === rawName));
    if (!spec) throw new CliError(`${command}: unknown option '${rawName}' (options: ${specs.map((s) => `--${s.name}`).join(', ') || 'none'})`);
    if (!spec.takesValue) {
      if (inline !== undefined) throw new CliError(`${command}: --${spec.name} takes no value`);
      flags.set(spec.name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new CliError(`${command}: --${spec.name} needs a value`);
    flags.set(spec.name, value);
  }
  return { positionals, flags };
}

/** Largest value of a size flag (`--seq`, `--batch`, …): 2³⁰, the settings' own maximum. */
export const MAX_INT_FLAG = 2 ** 30;

/** A positive integer flag up to 2³⁰; accepts magnitude suffixes such as 8K (8000), 8Ki (8192) and 1Gi (2³⁰). */
export function positiveIntFlag(value: string, flag: string): number {
  const m = /^(\d+)(K|Ki|M|Mi|G|Gi)?$/.exec(value.replace(/_/g, ''));
  const scale = { K: 1e3, Ki: 1024, M: 1e6, Mi: 1024 ** 2, G: 1e9, Gi: 1024 ** 3 } as const;
  const n = m ? Number(m[1]) * (m[2] ? scale[m[2] as keyof typeof scale] : 1) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_INT_FLAG) {
    throw new CliError(`--${flag} must be an integer from 1 to ${groupDigits(MAX_INT_FLAG)} (2^30 = 1Gi), e.g. 4096 or 8Ki; got '${value}'`);
  }
  return n;
}
