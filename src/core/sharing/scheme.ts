// A sharing scheme described as data, as `LayerKind` describes a layer: the statement it is
// written with, the methods it takes after its `:` (each argument typed and documented once —
// the resolver reads them, completion, signature help and hovers show them), its hover and
// completion text, and how it resolves into declarations. The registry of every scheme is
// `src/core/schemes/registry.ts`; the resolver (`resolve-statements.ts`) knows no scheme by name.

import type { ModelMember } from '../model/module-tree.js';
import type { EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import type { Expression, Statement, TextRange } from '../syntax/syntax-tree.js';
import type { StatementKeywordKind } from '../syntax/token.js';
import type { SchemeDrawing } from '../layout/scheme-drawing.js';
import type { HeadShare, Modifier, PatternStep, StackStrategy } from './declarations.js';
import { resolvePath, type ResolvedPath } from './resolve-path.js';
import { asStatementCall, readStatementArgs, type StatementArgSpec, type StatementArgValue, type StatementCall } from './statement-args.js';

/** An argument of a statement method (`rank` of `lora(rank: 64)`): its type for the resolver, its doc for the editor. */
export interface SchemeArg extends StatementArgSpec {
  readonly doc: string;
  /** Values completion offers in the argument's value position (for a `name` argument, the only ones accepted). */
  readonly values?: readonly string[];
}

/** A strategy or method written after `:` (or after `relax`) in a statement. */
export interface SchemeMethod {
  readonly name: string;
  /** Whether it is written as a call (`cycle(9)`) or a bare name (`all`). */
  readonly call: boolean;
  /** Read in this order; the first may be written positionally when `positional`. */
  readonly args: readonly SchemeArg[];
  /** The first argument may be written positionally (`cycle(9)`, `every(2)`). */
  readonly positional?: boolean;
  /** What completion inserts (a snippet with `${1:…}` placeholders). */
  readonly snippet: string;
  readonly doc: string;
}

/** The model being resolved, and where a scheme puts what it resolves. */
/** The stack a strategy applies to: its canonical key and its path, typed. */
export interface StackTarget {
  readonly key: string;
  readonly pattern: readonly PatternStep[];
}

export interface SchemeContext {
  readonly members: readonly ModelMember[];
  readonly ctx: EvalContext;
  /** Every statement of the model and its variant chain, in source order. */
  readonly statements: readonly { readonly statement: Statement; readonly scope: Scope }[];
  /** The scheme a statement is written with (undefined for an unknown modifier). */
  schemeOf(statement: Statement): SharingScheme | undefined;
  /** The modifiers resolved so far (`tied` bindings first, then in resolution order). */
  readonly modifiers: readonly Modifier[];
  /** A subtree modifier; its id (which orders freeze/train) is assigned here. */
  addModifier(modifier: Omit<Modifier, 'id'>): void;
  /** The strategies declared so far on the stack with this canonical key. */
  strategiesOf(stackKey: string): readonly StackStrategy[];
  /** A strategy on the stack at `stack` (its canonical key and typed path, as a `ResolvedPath` has them). */
  addStrategy(stack: StackTarget, strategy: StackStrategy): void;
  addHeadShare(share: HeadShare): void;
  /** A fresh number, for default labels (`bank3`). */
  nextNumber(): number;
}

export interface SharingScheme {
  readonly keyword: StatementKeywordKind;
  /** The word after the keyword that selects this scheme (`share kv`, `share heads`); none for the keyword's plain form. */
  readonly modifier?: string;
  /** Completion's member snippet and its one-line doc. */
  readonly snippet: string;
  readonly summary: string;
  /** The keyword's hover (given by the keyword's plain form). */
  readonly hover?: string;
  /** The methods written after `:` (`cycle(k)`, `lora(rank: r)`); empty when it takes none. */
  readonly methods: readonly SchemeMethod[];
  /** Resolution order: weight sharing (0) before the strategies that read it (`share kv X: tied`, 1), then the rest (2). */
  readonly order: number;
  /**
   * Whether the statement leaves the stored parameters as written (freeze, train, param), so an
   * allocation may stand beside it; a function when it depends on the statement's method.
   */
  readonly keepsStores: boolean | ((statement: Statement) => boolean);
  /** Checks the statement and records what it means; every problem is a located diagnostic. */
  resolve(statement: Statement, scope: Scope, model: SchemeContext): void;
  /** How the dashboard draws the subtree modifiers it records (store nodes, reads, notes); none for a scheme whose modifiers it does not draw. */
  readonly drawing?: SchemeDrawing;
}

/** The plain form of a keyword's schemes, or the one its modifier selects. */
export function findScheme(schemes: readonly SharingScheme[], keyword: string, modifier: string | undefined): SharingScheme | undefined {
  return schemes.find((s) => s.keyword === keyword && s.modifier === modifier);
}

/**
 * The method a statement's value calls, with its arguments read against the method's specs.
 * Undefined after a located error: `expected` when the value is not one of `methods`.
 */
export function readMethodCall(
  value: Expression | undefined,
  fallback: TextRange,
  methods: readonly SchemeMethod[],
  code: DiagnosticCode,
  expected: string,
  scope: Scope,
  ctx: EvalContext,
): { readonly call: StatementCall; readonly method: SchemeMethod; readonly args: Map<string, StatementArgValue> } | undefined {
  const call = value ? asStatementCall(value) : undefined;
  const method = call ? methods.find((m) => m.name === call.name) : undefined;
  if (!call || !method) {
    ctx.sink.error(code, expected, value?.range ?? fallback);
    return undefined;
  }
  const args = readStatementArgs(call, method.args, code, scope, ctx);
  return args ? { call, method, args } : undefined;
}

/**
 * Resolves each target path of a statement (unresolvable ones were reported) and hands it on;
 * `f` answers `'stop'` to leave the remaining targets unread (an argument error holds for all).
 */
export function eachTarget(s: Statement, scope: Scope, model: SchemeContext, f: (r: ResolvedPath, range: TextRange) => void | 'stop'): void {
  for (const t of s.targets) {
    const r = resolvePath(t, model.members, scope, model.ctx);
    if (r && f(r, t.range) === 'stop') return;
  }
}
