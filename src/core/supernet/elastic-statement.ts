// Reads an `elastic` statement, one of two forms:
// - `elastic STACK: Block(arg: [v1, v2], …) * [d1, d2, …]` — a weight-sharing supernet's space
//   over one top-level stack: the stack holds d instances of Block for each depth d listed, and
//   every instance picks its own value of each argument written as a list (per-layer elastic
//   choices, once-for-all style); arguments written as single values are fixed.
// - `elastic NAME: [v1, v2, …]` — a model-wide (global) choice: one value of the model's constant
//   or parameter NAME for the whole subnet (once-for-all's elastic width, HAT's embedding dim),
//   which every layer using NAME follows, as a variant overriding `NAME = v` would.
// The statement is read syntactically (a list is a choice, not a value), each value evaluated in
// the statement's scope; every problem is a located `npas-elastic` error. Nothing here changes a
// count: the model is analysed as written, and `supernet.ts` measures the subnets on demand.

import * as Q from '../numbers/rational.js';
import { evaluate, type EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import type { Value } from '../semantics/values.js';
import type { ModelMember } from '../model/module-tree.js';
import type { Expression, Statement, TextRange } from '../syntax/syntax-tree.js';

/** A value as the source text that means it (a number, boolean, `none` or a builtin name). */
export interface ElasticValue {
  readonly text: string;
}

/** One argument of the block call: fixed (one value) or elastic (a choice per instance). */
export interface ElasticArg {
  /** Undefined for a positional argument (only fixed arguments may be positional). */
  readonly name: string | undefined;
  readonly values: readonly ElasticValue[];
  readonly elastic: boolean;
}

export interface ElasticSpace {
  /** The top-level stack member the subnets replace. */
  readonly stack: string;
  /** The block each instance instantiates. */
  readonly block: string;
  readonly args: readonly ElasticArg[];
  /** The instance counts the stack may have, ascending, distinct. */
  readonly depths: readonly number[];
  readonly range: TextRange;
}

/** `elastic NAME: [v1, v2]`: one value of the model's constant or parameter NAME per subnet. */
export interface GlobalElasticChoice {
  readonly name: string;
  /** Distinct, in the order written. */
  readonly values: readonly ElasticValue[];
  readonly range: TextRange;
}

/** What one `elastic` statement declares. */
export type ElasticDeclaration = { readonly kind: 'stack'; readonly space: ElasticSpace } | { readonly kind: 'global'; readonly choice: GlobalElasticChoice };

/** At most this many instances per subnet and values per choice (the enumeration's bounds). */
export const MAX_ELASTIC_DEPTH = 10_000;
export const MAX_ELASTIC_CHOICES = 64;
/** At most this many combinations per instance: each is measured by three compilations of the model. */
export const MAX_INSTANCE_CHOICES = 256;

/**
 * The statement's space or global choice, or undefined after a located error. `members` are the
 * model's top-level members: a stack form's target must name one of them, holding a stack or
 * block; a global form's (its value a list) a constant or parameter of the model itself, which
 * `scope` (the model's scope) holds.
 */
export function readElasticStatement(s: Statement, scope: Scope, members: readonly ModelMember[], ctx: EvalContext): ElasticDeclaration | undefined {
  const fail = (message: string, range: TextRange): undefined => {
    ctx.sink.error('npas-elastic', message, range);
    return undefined;
  };
  const target = s.targets[0];
  if (!target || s.targets.length !== 1) return fail('`elastic` takes one top-level stack (`elastic body: Decoder(expand: [2, 3, 4]) * [6, 8]`) or one constant of the model (`elastic d: [512, 768]`)', s.targets[1]?.range ?? s.keywordRange);
  const first = target.segments[0];
  if (target.segments.length !== 1 || !first || first.kind !== 'PathName') return fail('`elastic` names a top-level member of the model (a stack) or one of its constants, not a path into it', target.range);
  if (s.value?.kind === 'List') {
    const choice = readGlobalChoice(first.name.text, s.value, target.range, s.range, scope, members, ctx, fail);
    return choice && { kind: 'global', choice };
  }
  const member = members.find((m) => m.name === first.name.text);
  if (!member) {
    const constant = scope.entries.get(first.name.text)?.kind === 'binding';
    return fail(constant ? `'${first.name.text}' is a constant: a model-wide choice lists its values, \`elastic ${first.name.text}: [v1, v2]\`` : `the model has no member '${first.name.text}'`, target.range);
  }
  if (member.node.kind === 'layer') return fail(`'${member.name}' is a layer; \`elastic\` chooses the depth and block arguments of a stack`, target.range);
  if (!s.value) return fail('write the space after `:`: `Block(arg: [v1, v2]) * [d1, d2]`', s.range);
  const { call, depth } = splitDepth(s.value);
  const callee = call.kind === 'Call' ? call.callee : call;
  if (callee.kind !== 'Name') return fail('the space is a block call times the depths: `Decoder(expand: [2, 3, 4]) * [6, 8]`', call.range);
  const block = evaluate(callee, scope, ctx);
  if (block.kind === 'error') return undefined;
  if (block.kind !== 'block') return fail(`'${callee.name.text}' is not a block: \`elastic\` repeats a block whose arguments are chosen per instance`, callee.range);
  const params = new Set(block.decl.parameters.map((p) => p.name.text));
  const args: ElasticArg[] = [];
  for (const a of call.kind === 'Call' ? call.args : []) {
    const name = a.name?.text;
    if (name !== undefined && !params.has(name)) return fail(`block ${callee.name.text} has no parameter '${name}' (it takes ${[...params].join(', ') || 'none'})`, a.name!.range);
    if (a.value.kind === 'List') {
      if (name === undefined) return fail('a choice is written by name: `expand: [2, 3, 4]`', a.range);
      const values = readList(a.value, `'${name}'`, scope, ctx, fail);
      if (!values) return undefined;
      args.push({ name, values, elastic: values.length > 1 });
      continue;
    }
    const v = readValue(a.value, scope, ctx, fail);
    if (!v) return undefined;
    args.push({ name, values: [v], elastic: false });
  }
  const combinations = args.reduce((n, a) => n * a.values.length, 1);
  if (combinations > MAX_INSTANCE_CHOICES) return fail(`the choices make ${combinations} combinations per instance; at most ${MAX_INSTANCE_CHOICES} are measured`, call.range);
  const depths = readDepths(depth, member, scope, ctx, fail);
  if (!depths) return undefined;
  return { kind: 'stack', space: { stack: member.name, block: callee.name.text, args, depths, range: s.range } };
}

/**
 * `elastic NAME: [v1, v2]`. NAME must be what a variant may override — a constant or parameter
 * the model declares (not a file-level constant: a block declared beside it would not follow it,
 * and no variant can override it), and not a module.
 */
function readGlobalChoice(
  name: string,
  list: Expression & { kind: 'List' },
  targetRange: TextRange,
  range: TextRange,
  scope: Scope,
  members: readonly ModelMember[],
  ctx: EvalContext,
  fail: (message: string, range: TextRange) => undefined,
): GlobalElasticChoice | undefined {
  if (members.some((m) => m.name === name)) return fail(`'${name}' is a module; a model-wide choice chooses a constant's value (\`elastic d: [512, 768]\`), a stack's space is a block call (\`elastic ${name}: Block(arg: [a, b]) * [d1, d2]\`)`, targetRange);
  const own = scope.entries.get(name);
  if (!own) {
    const outer = scope.lookup(name);
    return fail(
      outer
        ? `'${name}' is declared outside the model: a model-wide choice overrides a constant or parameter of the model, as a variant does — declare it there (\`model M(${name} = …)\`)`
        : `the model has no constant or parameter '${name}'`,
      targetRange,
    );
  }
  if (own.kind !== 'binding') return fail(`'${name}' is a block; a model-wide choice chooses a constant's value`, targetRange);
  const values = readList(list, `'${name}'`, scope, ctx, fail);
  if (!values) return undefined;
  return { name, values, range };
}

/** `Call * depth` → its parts; without `* depth`, the depth is the stack's own. */
function splitDepth(e: Expression): { call: Expression; depth: Expression | undefined } {
  if (e.kind === 'Binary' && e.operator === '*') return { call: e.left, depth: e.right };
  return { call: e, depth: undefined };
}

function readDepths(
  e: Expression | undefined,
  member: ModelMember,
  scope: Scope,
  ctx: EvalContext,
  fail: (message: string, range: TextRange) => undefined,
): number[] | undefined {
  if (!e) {
    const written = member.node.kind === 'stack' ? member.node.length : 1n;
    if (written > BigInt(MAX_ELASTIC_DEPTH)) return fail(`the stack as written holds ${written} instances; a supernet's depths are from 1 to ${MAX_ELASTIC_DEPTH}: list them (\`* [6, 8, 12]\`)`, member.range);
    return [Number(written)];
  }
  const items = e.kind === 'List' ? e.elements : [e];
  if (items.length === 0) return fail('the depths are a non-empty list: `* [6, 8, 12]`', e.range);
  const out: number[] = [];
  for (const item of items) {
    const v = evaluate(item, scope, ctx);
    if (v.kind === 'error') return undefined;
    if (v.kind !== 'number' || v.unit !== 'count' || !Q.isInteger(v.value) || v.value.num < 1n || v.value.num > BigInt(MAX_ELASTIC_DEPTH)) {
      return fail(`a depth is a whole number of instances from 1 to ${MAX_ELASTIC_DEPTH}`, item.range);
    }
    const n = Number(v.value.num);
    if (out.includes(n)) return fail(`depth ${n} is listed twice`, item.range);
    out.push(n);
  }
  return out.sort((a, b) => a - b);
}

function readList(
  list: Expression & { kind: 'List' },
  what: string,
  scope: Scope,
  ctx: EvalContext,
  fail: (message: string, range: TextRange) => undefined,
): ElasticValue[] | undefined {
  if (list.elements.length === 0) return fail(`the choices of ${what} are a non-empty list`, list.range);
  if (list.elements.length > MAX_ELASTIC_CHOICES) return fail(`at most ${MAX_ELASTIC_CHOICES} choices per argument, ${what} lists ${list.elements.length}`, list.range);
  const out: ElasticValue[] = [];
  for (const item of list.elements) {
    const v = readValue(item, scope, ctx, fail);
    if (!v) return undefined;
    if (out.some((o) => o.text === v.text)) return fail(`${what} lists ${v.text} twice`, item.range);
    out.push(v);
  }
  return out;
}

/** A value the subnets can be written with: a plain number, a boolean, `none` or a builtin name. */
function readValue(e: Expression, scope: Scope, ctx: EvalContext, fail: (message: string, range: TextRange) => undefined): ElasticValue | undefined {
  const v: Value = evaluate(e, scope, ctx);
  switch (v.kind) {
    case 'error':
      return undefined;
    case 'number':
      if (v.unit !== 'count') break;
      return { text: numberText(v.value) };
    case 'bool':
      return { text: v.value ? 'true' : 'false' };
    case 'none':
      return { text: 'none' };
    case 'symbol':
      return { text: v.name };
    default:
      break;
  }
  return fail('an elastic argument is a plain number, a boolean, `none` or a builtin name (gelu, rms, …)', e.range);
}

/** Exact source text of a rational: `3`, `-2`, `(3/2)`. */
export function numberText(q: Q.Rational): string {
  return q.den === 1n ? (q.num < 0n ? `(${q.num})` : `${q.num}`) : `(${q.num}/${q.den})`;
}
