// Builders for the argument schemas of the builtin layer kinds, and typed access to the
// checked values `build` receives. The evaluator enforces types, requiredness and single-value
// ranges from the schema; these readers only narrow `ArgValue` to the declared type.

import type { ArgSpec, ArgType, ArgValue, Ratio } from './layer-kind.js';

export const DIM: ArgType = { kind: 'dim' };
export const COUNT: ArgType = { kind: 'count' };
export const BOOL: ArgType = { kind: 'bool' };
export const RATIO: ArgType = { kind: 'ratio' };

export function oneOf(values: readonly string[]): ArgType {
  return { kind: 'enum', values };
}

/** Activation functions an MLP or MoE may name; none of them has parameters. */
export const ACTIVATIONS: readonly string[] = [
  'relu',
  'gelu',
  'gelu_tanh',
  'silu',
  'swish',
  'tanh',
  'sigmoid',
  'quick_gelu',
  'relu2',
  // No nonlinearity: a LoRA-type bottleneck (PERFT's LoRA experts, lora_B·lora_A) written as an MLP or MoE.
  'identity',
];

/** A required argument that may also be given positionally, in declaration order. */
export function positional(name: string, type: ArgType, doc: string): ArgSpec {
  return { name, type, required: true, positional: true, doc };
}

/**
 * An optional argument. Without `default` its value is `undefined` when not given, which the
 * layer resolves itself (for instance head_dim = d/heads).
 */
export function optional(
  name: string,
  type: ArgType,
  doc: string,
  options: { readonly default?: number | boolean | string; readonly positional?: boolean } = {},
): ArgSpec {
  const spec: ArgSpec = { name, type, required: false, positional: options.positional ?? false, doc };
  return options.default === undefined ? spec : { ...spec, default: options.default };
}

/** A required argument that must be named (it follows optional ones in the signature). */
export function named(name: string, type: ArgType, doc: string): ArgSpec {
  return { name, type, required: true, positional: false, doc };
}

/** Typed, read-only view of one layer call's checked arguments. */
export interface LayerArgs {
  /** A dim or count argument that always has a value (required or defaulted). */
  number(name: string): number;
  optionalNumber(name: string): number | undefined;
  bool(name: string): boolean;
  optionalBool(name: string): boolean | undefined;
  choice(name: string): string;
  optionalRatio(name: string): Ratio | undefined;
}

/**
 * Wraps the values `build` received. A key that is absent from the map (as opposed to present
 * with `undefined`) takes its schema default, so callers that pass only the arguments written
 * still get the documented behaviour. A value of the wrong type is an evaluator bug and throws.
 */
export function readArgs(specs: readonly ArgSpec[], values: ReadonlyMap<string, ArgValue>): LayerArgs {
  const raw = (name: string): ArgValue => {
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) throw new Error(`internal: layer argument '${name}' is not declared`);
    return values.has(name) ? values.get(name) : spec.default;
  };
  const fail = (name: string, expected: string, value: ArgValue): never => {
    throw new Error(`internal: layer argument '${name}' should be ${expected}, got ${String(value)}`);
  };
  const optionalNumber = (name: string): number | undefined => {
    const value = raw(name);
    if (value === undefined || typeof value === 'number') return value;
    return fail(name, 'a number', value);
  };
  const optionalBool = (name: string): boolean | undefined => {
    const value = raw(name);
    if (value === undefined || typeof value === 'boolean') return value;
    return fail(name, 'a bool', value);
  };
  return {
    number: (name) => optionalNumber(name) ?? fail(name, 'a number', undefined),
    optionalNumber,
    bool: (name) => optionalBool(name) ?? fail(name, 'a bool', undefined),
    optionalBool,
    choice: (name) => {
      const value = raw(name);
      return typeof value === 'string' ? value : fail(name, 'an enum value', value);
    },
    optionalRatio: (name) => {
      const value = raw(name);
      if (value === undefined || (typeof value === 'object' && 'num' in value)) return value;
      return fail(name, 'a ratio', value);
    },
  };
}
