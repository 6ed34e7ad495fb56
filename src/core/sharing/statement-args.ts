// Reads the small call expressions of sharing statements — `cycle(9)`, `lora(rank: 64)`,
// `every(2)`, `ssn(params: 3.65M, templates: 8)` — into checked values, with errors located
// at the argument that is wrong.

import type { DiagnosticCode } from '../diagnostics/codes.js';
import * as Q from '../numbers/rational.js';
import { evaluate, toSmallInteger, type EvalContext } from '../semantics/evaluator.js';
import { bindArguments } from '../semantics/layer-call.js';
import type { Scope } from '../semantics/scope.js';
import { describeValue } from '../semantics/values.js';
import type { Argument, Expression, TextRange } from '../syntax/syntax-tree.js';

/** `name`: a bare name (`central: layers`), one of the spec's `values` when it lists them. */
export type StatementArgType = 'int' | 'bool' | 'int-list' | 'ratio-list' | 'name-list' | 'ratio' | 'name';

export interface StatementArgSpec {
  readonly name: string;
  readonly type: StatementArgType;
  readonly required: boolean;
  /** Smallest allowed value for ints. */
  readonly min?: number;
  /** Largest allowed value for ints (a count with a fixed set of meanings: a halting unit's 1 or 2 outputs). */
  readonly max?: number;
  /** The names a `name` argument may take (completion offers them). */
  readonly values?: readonly string[];
}

export type StatementArgValue = number | boolean | string | readonly number[] | readonly Q.Rational[] | readonly string[] | Q.Rational;

/** A call-shaped strategy or method: its name and arguments (a bare name has none). */
export interface StatementCall {
  readonly name: string;
  readonly nameRange: TextRange;
  readonly args: readonly Argument[];
  readonly argsRange: TextRange;
  /** For a list literal written directly (`[0, 1, 1, 0]`): the list expression. */
  readonly list: Expression | undefined;
}

/** Interprets `name`, `name(args)`, `none` or `[...]` syntactically. */
export function asStatementCall(expr: Expression): StatementCall | undefined {
  if (expr.kind === 'None') return { name: 'none', nameRange: expr.range, args: [], argsRange: expr.range, list: undefined };
  if (expr.kind === 'Name') return { name: expr.name.text, nameRange: expr.range, args: [], argsRange: expr.range, list: undefined };
  if (expr.kind === 'List') return { name: 'map', nameRange: expr.range, args: [], argsRange: expr.range, list: expr };
  if (expr.kind === 'Call' && expr.callee.kind === 'Name') {
    return { name: expr.callee.name.text, nameRange: expr.callee.range, args: expr.args, argsRange: expr.argsRange, list: undefined };
  }
  return undefined;
}

/** Checks a call's arguments; positional arguments follow the spec order. Undefined on error. */
export function readStatementArgs(
  call: StatementCall,
  specs: readonly StatementArgSpec[],
  code: DiagnosticCode,
  scope: Scope,
  ctx: EvalContext,
): Map<string, StatementArgValue> | undefined {
  const bound = bindArguments(call.args, specs.map((s) => ({ name: s.name, positional: true })), call.name, call.argsRange, ctx);
  if (!bound) return undefined;
  const out = new Map<string, StatementArgValue>();
  let ok = true;
  for (const spec of specs) {
    const arg = bound.get(spec.name);
    if (!arg) {
      if (spec.required) {
        ctx.sink.error(code, `${call.name}() needs '${spec.name}'`, call.argsRange);
        ok = false;
      }
      continue;
    }
    const v = readValue(arg.value, spec, call.name, code, scope, ctx);
    if (v === undefined) ok = false;
    else out.set(spec.name, v);
  }
  return ok ? out : undefined;
}

function readValue(expr: Expression, spec: StatementArgSpec, callee: string, code: DiagnosticCode, scope: Scope, ctx: EvalContext): StatementArgValue | undefined {
  if (spec.type === 'name-list') {
    const items = expr.kind === 'List' ? expr.elements : [expr];
    const names: string[] = [];
    for (const e of items) {
      if (e.kind !== 'Name') {
        ctx.sink.error(code, `${callee}(): '${spec.name}' lists weight names such as [q, v]`, e.range);
        return undefined;
      }
      names.push(e.name.text);
    }
    return names;
  }
  if (spec.type === 'name') {
    if (expr.kind !== 'Name' || (spec.values && !spec.values.includes(expr.name.text))) {
      ctx.sink.error(code, `${callee}(): '${spec.name}' is one of ${spec.values?.join(', ') ?? 'the documented names'}`, expr.range);
      return undefined;
    }
    return expr.name.text;
  }
  const v = evaluate(expr, scope, ctx);
  if (v.kind === 'error') return undefined;
  switch (spec.type) {
    case 'bool':
      if (v.kind !== 'bool') {
        ctx.sink.error('npas-eval-type', `${callee}(): '${spec.name}' must be true or false, got ${describeValue(v)}`, expr.range);
        return undefined;
      }
      return v.value;
    case 'int': {
      const n = toSmallInteger(v, expr.range, ctx, `${callee}(): '${spec.name}'`);
      if (n === undefined) return undefined;
      if (n < (spec.min ?? 0)) {
        ctx.sink.error(code, `${callee}(): '${spec.name}' must be at least ${spec.min ?? 0}, got ${n}`, expr.range);
        return undefined;
      }
      if (spec.max !== undefined && n > spec.max) {
        ctx.sink.error(code, `${callee}(): '${spec.name}' must be at most ${spec.max}, got ${n}`, expr.range);
        return undefined;
      }
      return n;
    }
    case 'ratio':
      if (v.kind !== 'number' || v.unit !== 'count' || v.value.num <= 0n) {
        ctx.sink.error(code, `${callee}(): '${spec.name}' must be a positive number`, expr.range);
        return undefined;
      }
      return v.value;
    case 'int-list':
    case 'ratio-list': {
      if (v.kind !== 'list') {
        ctx.sink.error('npas-eval-type', `${callee}(): '${spec.name}' must be a list, got ${describeValue(v)}`, expr.range);
        return undefined;
      }
      const ints: number[] = [];
      const ratios: Q.Rational[] = [];
      for (const item of v.items) {
        if (item.kind !== 'number' || item.unit !== 'count') {
          ctx.sink.error('npas-eval-type', `${callee}(): '${spec.name}' must hold numbers`, expr.range);
          return undefined;
        }
        if (spec.type === 'ratio-list') ratios.push(item.value);
        else {
          const n = toSmallInteger(item, expr.range, ctx, `an entry of '${spec.name}'`);
          if (n === undefined) return undefined;
          ints.push(n);
        }
      }
      return spec.type === 'ratio-list' ? ratios : ints;
    }
  }
  return undefined;
}

/** Reads a list literal (`[0, 1, 1]`) written in place of a strategy call. */
export function readIntList(expr: Expression, scope: Scope, ctx: EvalContext): number[] | undefined {
  const v = readValue(expr, { name: 'map', type: 'int-list', required: true }, 'map', 'npas-share-strategy', scope, ctx);
  return v as number[] | undefined;
}
