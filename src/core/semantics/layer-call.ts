// Checks a layer call against its kind's argument schema (positional order, names, types,
// ranges, required arguments), fills defaults, builds the layer's cost and hash-conses the
// resulting node. Every problem is reported at the argument it concerns.

import type { ArgSpec, ArgValue, LayerKind } from '../layers/layer-kind.js';
import type { LayerNode } from '../model/module-tree.js';
import * as Q from '../numbers/rational.js';
import type { Argument, CallExpression, TextRange } from '../syntax/syntax-tree.js';
import { LIMITS, evaluate, type EvalContext } from './evaluator.js';
import type { Scope } from './scope.js';
import { describeValue, type Value } from './values.js';

/** Pairs call arguments with parameter names: positional in order, then named. */
export function bindArguments(
  args: readonly Argument[],
  params: readonly { name: string; positional: boolean }[],
  calleeName: string,
  argsRange: TextRange,
  ctx: EvalContext,
): Map<string, Argument> | undefined {
  const bound = new Map<string, Argument>();
  const positional = params.filter((p) => p.positional);
  let nextPositional = 0;
  let ok = true;
  let sawNamed = false;
  for (const arg of args) {
    if (!arg.name) {
      if (sawNamed) {
        ctx.sink.error('npas-layer-too-many-args', 'positional arguments must come before named ones', arg.range);
        ok = false;
        continue;
      }
      const p = positional[nextPositional++];
      if (!p) {
        ctx.sink.error('npas-layer-too-many-args', `${calleeName} takes ${positional.length} positional argument${positional.length === 1 ? '' : 's'}`, arg.range);
        ok = false;
        continue;
      }
      bound.set(p.name, arg);
      continue;
    }
    sawNamed = true;
    const name = arg.name.text;
    if (!params.some((p) => p.name === name)) {
      const known = params.map((p) => p.name).join(', ');
      ctx.sink.error('npas-layer-unknown-arg', `${calleeName} has no argument '${name}' (it takes: ${known || 'none'})`, arg.name.range);
      ok = false;
      continue;
    }
    if (bound.has(name)) {
      ctx.sink.error('npas-layer-duplicate-arg', `argument '${name}' is given twice`, arg.range);
      ok = false;
      continue;
    }
    bound.set(name, arg);
  }
  void argsRange;
  return ok ? bound : undefined;
}

/** Converts an evaluated value to the argument's declared type, reporting mismatches. */
function convertArg(spec: ArgSpec, v: Value, range: TextRange, layer: string, ctx: EvalContext): ArgValue | null {
  if (v.kind === 'error') return null;
  if (v.kind === 'none') {
    if (spec.required) {
      ctx.sink.error('npas-layer-missing-arg', `${layer}: '${spec.name}' is required and cannot be none`, range);
      return null;
    }
    return undefined;
  }
  const fail = (what: string): null => {
    ctx.sink.error('npas-eval-type', `${layer}: '${spec.name}' must be ${what}, got ${describeValue(v)}`, range);
    return null;
  };
  switch (spec.type.kind) {
    case 'bool':
      return v.kind === 'bool' ? v.value : fail('true or false');
    case 'enum': {
      const name = v.kind === 'symbol' ? v.name : v.kind === 'string' ? v.value : undefined;
      if (name === undefined) return fail(`one of ${spec.type.values.join(', ')}`);
      if (!spec.type.values.includes(name)) {
        ctx.sink.error('npas-eval-range', `${layer}: '${spec.name}' must be one of ${spec.type.values.join(', ')}, got '${name}'`, range);
        return null;
      }
      return name;
    }
    case 'ratio': {
      if (v.kind !== 'number' || v.unit !== 'count') return fail('a number');
      if (v.value.num <= 0n) {
        ctx.sink.error('npas-eval-range', `${layer}: '${spec.name}' must be positive, got ${Q.toDecimalString(v.value)}`, range);
        return null;
      }
      if (v.value.num > BigInt(Number.MAX_SAFE_INTEGER) || v.value.den > BigInt(Number.MAX_SAFE_INTEGER)) {
        ctx.sink.error('npas-eval-too-large', `${layer}: '${spec.name}' is too precise to analyse`, range);
        return null;
      }
      return { num: Number(v.value.num), den: Number(v.value.den) };
    }
    case 'dim':
    case 'count': {
      if (v.kind !== 'number') return fail(spec.type.kind === 'dim' ? 'a positive integer size' : 'a non-negative integer');
      if (v.unit !== 'count') {
        ctx.sink.error('npas-eval-unit', `${layer}: '${spec.name}' is a count, not ${describeValue(v)}`, range);
        return null;
      }
      if (!Q.isInteger(v.value)) {
        ctx.sink.error('npas-eval-not-integer', `${layer}: '${spec.name}' must be an integer, got ${Q.toDecimalString(v.value)}`, range);
        return null;
      }
      const n = v.value.num;
      const min = spec.type.kind === 'dim' ? 1n : 0n;
      if (n < min) {
        ctx.sink.error('npas-eval-range', `${layer}: '${spec.name}' must be ${spec.type.kind === 'dim' ? 'at least 1' : 'at least 0'}, got ${n}`, range);
        return null;
      }
      // 2^40 per dimension keeps every product of a few dimensions exact in bigint and
      // every single dimension exact in a double.
      if (n > 1n << 40n) {
        ctx.sink.error('npas-eval-too-large', `${layer}: '${spec.name}' = ${n} is too large`, range);
        return null;
      }
      return Number(n);
    }
  }
}

function renderArg(v: ArgValue): string {
  if (v === undefined) return 'none';
  if (typeof v === 'object') return v.den === 1 ? String(v.num) : `${v.num}/${v.den}`;
  return String(v);
}

/** Instantiates `Kind(args)`; undefined when the call has errors (all reported). */
export function instantiateLayer(kind: LayerKind, call: CallExpression, scope: Scope, ctx: EvalContext): LayerNode | undefined {
  const bound = bindArguments(call.args, kind.args, kind.name, call.argsRange, ctx);
  if (!bound) return undefined;
  const values = new Map<string, ArgValue>();
  let ok = true;
  const given: string[] = [];
  for (const spec of kind.args) {
    const arg = bound.get(spec.name);
    if (!arg) {
      if (spec.required) {
        ctx.sink.error('npas-layer-missing-arg', `${kind.name} needs '${spec.name}' (${spec.doc})`, call.argsRange);
        ok = false;
      } else values.set(spec.name, spec.default);
      continue;
    }
    // A bare name that is one of an enum argument's values means that value, even where a
    // user binding of the same spelling is in scope (`relu = Activation(relu)`).
    const contextual = spec.type.kind === 'enum' && arg.value.kind === 'Name' && spec.type.values.includes(arg.value.name.text);
    const value: Value = contextual && arg.value.kind === 'Name' ? { kind: 'symbol', name: arg.value.name.text } : evaluate(arg.value, scope, ctx);
    const converted = convertArg(spec, value, arg.value.range, kind.name, ctx);
    if (converted === null) {
      ok = false;
      continue;
    }
    values.set(spec.name, converted);
    given.push(`${spec.name}: ${renderArg(converted)}`);
  }
  if (!ok) return undefined;

  const key = `${kind.name}(${kind.args.map((a) => renderArg(values.get(a.name))).join(',')})`;
  const memo = ctx.layerMemo.get(key);
  if (memo && memo.kind === 'layer') return { ...memo, range: call.range };

  const report = (argName: string | undefined, message: string): void => {
    const arg = argName ? bound.get(argName) : undefined;
    ctx.sink.error('npas-layer-shape', `${kind.name}: ${message}`, arg ? arg.range : call.argsRange);
  };
  if (!ctx.spend(LIMITS.instanceSteps, call.range)) return undefined;
  const cost = kind.build(values, report);
  if (!cost) return undefined;
  const sig = cost.weights.map((w) => `${w.name}:${w.shape.join('x')}*${w.copies}`).join(',');
  const node: LayerNode = {
    kind: 'layer',
    id: ctx.interner.intern(`L:${key}`),
    weightSignature: ctx.interner.intern(`LW:${sig}`),
    range: call.range,
    layerKind: kind.name,
    cost,
    args: values,
    argsText: given.join(', '),
  };
  ctx.layerMemo.set(key, node);
  return node;
}
