// A command's typed request (`npas probe|export-onnx --request FILE`, the shapes in
// src/protocol/kernel-rpc.ts) read from either of the two ways it is written: the flags a person
// types (`--src-seq 8Ki`, a flag's `field` in its CommandSpec naming the request field it sets)
// or the JSON object a program writes (`"srcSeq": 8192`). One reader per command checks both, so
// what the flags accept and what a request accepts cannot drift apart; each refusal names the
// field as its writer wrote it (`--src-seq`, `request.json: "srcSeq"`).

import { SIZE_EXPECTED, sizeValue, usageOf, type CommandSpec, type ParsedArgs } from './args.js';
import { CliError, type CliIO } from './io.js';
import { readSpec } from './commands/read-spec.js';

export interface RequestSource {
  /** The request's fields by name, as written (flags: strings and `true`). */
  readonly raw: Readonly<Record<string, unknown>>;
  /** How the writer spelt `field`, for a refusal. */
  readonly spelling: (field: string) => string;
}

/** The request field a flag sets: its `field`, else its name in camel case (`src-seq` → `srcSeq`). */
export const fieldOfFlag = (name: string, field?: string | null): string => field ?? name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The request fields a command's flags set, and `specPath` (its FILE operand). */
export function requestFieldNames(spec: CommandSpec): string[] {
  return ['specPath', ...spec.flags.filter((f) => f.field !== null).map((f) => fieldOfFlag(f.name, f.field))];
}

/**
 * A command's request: the file `--request FILE` names (then no operand and no flag that sets a
 * field may be given beside it), or its FILE operand and flags.
 */
export function commandRequest(spec: CommandSpec, { positionals, flags }: ParsedArgs, io: CliIO): RequestSource {
  const file = flags.get('request');
  if (typeof file === 'string') {
    const beside = spec.flags.filter((f) => f.field !== null && flags.has(f.name)).map((f) => `--${f.name}`);
    if (positionals.length > 0 || beside.length > 0) throw new CliError(`${spec.name}: --request FILE holds every parameter; give no FILE operand or ${beside.join(', ') || 'flag'} beside it\n${usageOf(spec)}`);
    return requestFromFile(file, io, requestFieldNames(spec));
  }
  if (positionals.length !== 1) throw new CliError(usageOf(spec));
  return requestFromFlags(spec, flags, { specPath: positionals[0]! });
}

/** The fields the flags set (each flag through its spec), plus the operands' (`specPath`). */
export function requestFromFlags(spec: CommandSpec, flags: ReadonlyMap<string, string | true>, operands: Readonly<Record<string, string>>): RequestSource {
  const raw: Record<string, unknown> = { ...operands };
  const spellings = new Map<string, string>(Object.keys(operands).map((k) => [k, spec.operands]));
  for (const f of spec.flags) {
    if (f.field === null) continue;
    const field = fieldOfFlag(f.name, f.field);
    spellings.set(field, `--${f.name}`);
    const value = flags.get(f.name);
    if (value !== undefined) raw[field] = value;
  }
  return { raw, spelling: (field) => spellings.get(field) ?? field };
}

/**
 * A request file: one JSON object whose fields are all in `known` (a misspelt field is refused,
 * not ignored). A `CliError` (exit 2, kind `spec`) when it cannot be read or is not one.
 */
export function requestFromFile(path: string, io: CliIO, known: readonly string[]): RequestSource {
  const text = readSpec(path, io);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError(`${path}: a request is one JSON object`);
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new CliError(`${path}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (fields: ${known.join(', ')})`);
  return { raw: raw as Record<string, unknown>, spelling: (field) => `${path}: "${field}"` };
}

/** Typed reads of a request's fields; each wrong value is a `CliError` naming the field as written. */
export class RequestFields {
  constructor(private readonly source: RequestSource) {}

  private refuse(field: string, expected: string): never {
    const v = this.source.raw[field];
    throw new CliError(`${this.source.spelling(field)} must be ${expected}; got ${typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v))}`);
  }

  text(field: string): string | undefined {
    const v = this.source.raw[field];
    if (v === undefined) return undefined;
    return typeof v === 'string' && v !== '' ? v : this.refuse(field, 'a non-empty string');
  }

  choice<T extends string>(field: string, values: readonly T[]): T | undefined {
    const v = this.source.raw[field];
    if (v === undefined) return undefined;
    return typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : this.refuse(field, values.join(' or '));
  }

  /** A size from 1 to 2³⁰ (or 0 where `zero` allows it): a JSON number, or text as the flags take it (`8Ki`). */
  size(field: string, zero: 'zero allowed' | 'positive' = 'positive'): number | undefined {
    const v = this.source.raw[field];
    if (v === undefined) return undefined;
    if (zero === 'zero allowed' && (v === 0 || (typeof v === 'string' && /^0+$/.test(v)))) return 0;
    const n = typeof v === 'number' ? (Number.isSafeInteger(v) ? sizeValue(String(v)) : undefined) : typeof v === 'string' ? sizeValue(v) : undefined;
    return n ?? this.refuse(field, zero === 'zero allowed' ? `0 or ${SIZE_EXPECTED}` : SIZE_EXPECTED);
  }

  /** A byte count (any whole number from 0): a JSON number, or digits. */
  bytes(field: string): number | undefined {
    const v = this.source.raw[field];
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    return Number.isSafeInteger(n) && n >= 0 ? n : this.refuse(field, 'a byte count');
  }

  /** A switch: a flag given, or a JSON boolean. */
  flag(field: string): boolean {
    const v = this.source.raw[field];
    if (v === undefined || v === false) return false;
    return v === true ? true : this.refuse(field, 'true or false');
  }
}
