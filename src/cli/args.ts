// Command-line parsing on Node's own `util.parseArgs`, strict in our terms: known flags only,
// values required where declared, every mistake a CliError (exit 2) naming the flag. Each command
// declares its flags once, as a CommandSpec, and its usage text is generated from that spec, so
// the usage cannot drift from what the parser accepts.

import { parseArgs as parseNodeArgs } from 'node:util';
import { CliError } from './io.js';
import { groupDigits } from './format.js';

export interface FlagSpec {
  readonly name: string;
  /** A one-letter short form (`-o`). */
  readonly alias?: string;
  readonly takesValue: boolean;
  /** The value's placeholder or choices in the usage text (`N`, `dark|light`); `VALUE` if absent. */
  readonly value?: string;
  /** Shown without brackets in the usage text (the command checks it). */
  readonly required?: boolean;
  /**
   * For a command that takes a typed request (request-fields.ts): the request field this flag
   * sets, when it is not the flag's name in camel case; null for a flag that sets none (`--json`).
   */
  readonly field?: string | null;
}

/** A command's operands and flags: what its parser accepts and its usage text says. */
export interface CommandSpec {
  readonly name: string;
  /** The operands as the usage writes them: `FILE`, `CONFIG|FOLDER`. */
  readonly operands: string;
  readonly flags: readonly FlagSpec[];
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Map<string, string | true>;
}

/** One flag as the usage text writes it: `[--seq N]`, `--model NAME`, `[-o|--output FILE]`. */
function flagUsage(f: FlagSpec): string {
  const text = `${f.alias ? `-${f.alias}|` : ''}--${f.name}${f.takesValue ? ` ${f.value ?? 'VALUE'}` : ''}`;
  return f.required ? text : `[${text}]`;
}

/** `budget FILE [--model NAME] [--seq N] …`: the command's synopsis, generated from its spec. */
export function synopsis(spec: CommandSpec): string {
  return [spec.name, spec.operands, ...spec.flags.map(flagUsage)].filter((p) => p !== '').join(' ');
}

/** `usage: npas budget FILE …`. */
export function usageOf(spec: CommandSpec): string {
  return `usage: npas ${synopsis(spec)}`;
}

/** Parses a command's arguments against its spec. */
export function parseCommand(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  return parseArgs(argv, spec.flags, spec.name);
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const s of specs) options[s.name] = s.alias ? { type: s.takesValue ? 'string' : 'boolean', short: s.alias } : { type: s.takesValue ? 'string' : 'boolean' };
  // Not strict: unknown flags and missing values come back as tokens, reported here in our words.
  const { tokens } = parseNodeArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind === 'option-terminator') continue;
    const spec = specs.find((s) => s.name === t.name);
    if (!spec) throw new CliError(`${command}: unknown option '${t.rawName}' (options: ${specs.map((s) => `--${s.name}`).join(', ') || 'none'})`);
    if (!spec.takesValue) {
      if (t.value !== undefined) throw new CliError(`${command}: --${spec.name} takes no value`);
      flags.set(spec.name, true);
      continue;
    }
    // A flag right after a value-taking flag is a missing value, not the value (`--seq --json`).
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw new CliError(`${command}: --${spec.name} needs a value`);
    flags.set(spec.name, t.value);
  }
  return { positionals, flags };
}

/** Largest value of a size flag (`--seq`, `--batch`, …): 2³⁰, the settings' own maximum. */
export const MAX_INT_FLAG = 2 ** 30;

/** A size as the flags take it (`4096`, `8_192`, `8K` = 8000, `8Ki` = 8192, `1Gi` = 2³⁰) if it is one from 1 to 2³⁰. */
export function sizeValue(value: string): number | undefined {
  const m = /^(\d+)(K|Ki|M|Mi|G|Gi)?$/.exec(value.replace(/_/g, ''));
  const scale = { K: 1e3, Ki: 1024, M: 1e6, Mi: 1024 ** 2, G: 1e9, Gi: 1024 ** 3 } as const;
  const n = m ? Number(m[1]) * (m[2] ? scale[m[2] as keyof typeof scale] : 1) : NaN;
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_INT_FLAG ? n : undefined;
}

/** What a size must be, for the refusal of one that is not. */
export const SIZE_EXPECTED = `an integer from 1 to ${groupDigits(MAX_INT_FLAG)} (2^30 = 1Gi), e.g. 4096 or 8Ki`;

/** A positive integer flag up to 2³⁰; accepts magnitude suffixes such as 8K (8000), 8Ki (8192) and 1Gi (2³⁰). */
export function positiveIntFlag(value: string, flag: string): number {
  const n = sizeValue(value);
  if (n === undefined) throw new CliError(`--${flag} must be ${SIZE_EXPECTED}; got '${value}'`);
  return n;
}
