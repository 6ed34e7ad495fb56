// Evaluates expressions to values: exact numbers with units, booleans, builtin symbols, lists,
// and modules. Layer calls and block instantiations produce hash-consed module nodes (see
// model/module-tree.ts); `*` and `+` on modules build stacks. Errors are reported once at the
// offending range and turn into a poison value that silences follow-on errors.

import { DiagnosticSink } from '../diagnostics/diagnostic.js';
import * as Q from '../numbers/rational.js';
import { NUMBER_SUFFIXES, describeUnit } from '../numbers/units.js';
import { groupDigits } from '../text/number-format.js';
import type {
  BinaryExpression,
  Binding,
  BlockDeclaration,
  CallExpression,
  ComprehensionExpression,
  Expression,
  Identifier,
  TextRange,
} from '../syntax/syntax-tree.js';
import { findLayerKind } from '../layers/registry.js';
import type { ModuleNode } from '../model/module-tree.js';
import { Interner } from './interner.js';
import { Scope, type ScopeEntry } from './scope.js';
import { evaluateDependenciesFirst } from './binding-dependencies.js';
import { isKnownSymbol } from './symbols.js';
import { deviceValue } from './device-value.js';
import { BUILTIN_FUNCTIONS, ERROR_VALUE, describeValue, type BuiltinFunction, type Value } from './values.js';
import { instantiateLayer } from './layer-call.js';
import { instantiateBlock } from './block-instance.js';
import { concatStacks, repeatModule, stackOf } from './stack-builder.js';
import { CancellationPoll } from './cancellation.js';

/** Upper bounds that keep evaluation finite and fast on any input. */
export const LIMITS = {
  /** Most iterations a comprehension may run. */
  comprehension: 1_000_000,
  /**
   * Most comprehension iterations of one analysis, all comprehensions together: a nested
   * comprehension runs its inner loop once per outer iteration, so nested loops multiply.
   * Checked before each comprehension runs, so a refused one allocates nothing.
   */
  iterations: 1_000_000,
  /**
   * The work budget of one analysis, in evaluation steps: one per expression evaluated, one per
   * stack run built, and `instanceSteps` per distinct layer or block instance created. With
   * the limits above it keeps any spec's evaluation within seconds and well under 2 GiB.
   */
  steps: 4_000_000,
  /** Steps charged for creating one distinct layer or block instance (interning, checking, building). */
  instanceSteps: 25,
  /**
   * Steps charged, per model or variant walked, for each stack instance a declaration isolates
   * (`freeze body[3]`): it is walked and reported on its own. A chain of N variants each
   * isolating one more instance walks N²/2 of them, so this is what bounds such a chain.
   */
  isolatedInstanceSteps: 100,
  /**
   * Steps charged, per model or variant, for each sharing statement it carries: a variant
   * resolves and walks its base's statements again with its own, so a chain of N variants each
   * adding one resolves N²/2 statements (1–5 µs each). This bounds such a chain (~1,400 long).
   */
  statementSteps: 4,
  /**
   * Steps charged for each model or variant declared: evaluating, walking and reporting even a
   * one-layer model costs about 150 µs and 15 KB, so the budget admits about 20,000 of them.
   */
  modelSteps: 200,
  /** Largest exponent in `a ** e`. */
  exponent: 1024,
  /** Largest magnitude (bits) of any evaluated number. */
  bits: 256,
  /** Deepest nesting of block instantiations. */
  instantiationDepth: 64,
  /** Lazily evaluated names nested this deep switch to iterative dependency resolution. */
  lazyBindingDepth: 64,
} as const;

/** Shared state of one analysis: diagnostics, interning and memo tables. */
export class EvalContext {
  readonly interner = new Interner();
  readonly layerMemo = new Map<string, ModuleNode>();
  readonly blockMemo = new Map<string, ModuleNode | undefined>();
  readonly declIds = new WeakMap<object, number>();
  readonly scopeIds = new WeakMap<Scope, number>();
  /**
   * Number literals already evaluated, by their text (digits and suffix): the value never depends
   * on the scope or the place. Keyed by text rather than by node, a written-out 10 MB spec's
   * 750,000 literals are a few entries, not a WeakMap of 750,000 nodes for the collector to trace.
   */
  readonly literalValues = new Map<string, Value>();
  /** Literals refused as too large, by node: reported once at their own place, even inside a loop. */
  readonly refusedLiterals = new WeakSet<Expression>();
  /** Block declarations being instantiated, innermost last (cycle detection). */
  readonly instantiating: BlockDeclaration[] = [];
  /**
   * Every binding evaluated, once per scope it was evaluated in, with the model or variant being
   * evaluated at the time. Editor services read it for hovers and inlay hints (`ff = 4 * d`
   * shows `= 8192`); recording is one push per binding, so it costs nothing on the hot path.
   */
  readonly bindingValues: EvaluatedBinding[] = [];
  /** The model or variant whose members are being evaluated; undefined for file-level constants. */
  currentModel: string | undefined = undefined;
  /** Bindings being evaluated, nested (a name read while evaluating another). */
  bindingDepth = 0;
  /** Evaluation steps spent so far (see `LIMITS.steps`). */
  steps = 0;
  /** Comprehension iterations run or started so far (see `LIMITS.iterations`). */
  iterations = 0;
  /** Product of the iteration counts of the comprehensions now being evaluated (for messages). */
  nesting = 1;
  /** Set once the work budget is spent: every later evaluation is an error value, silently. */
  exhausted = false;
  private nextId = 1;

  /** Asks the host, every few thousand steps, whether the result is still wanted (cancellation.ts). */
  readonly cancellation: CancellationPoll;

  constructor(
    private currentSink: DiagnosticSink,
    cancelled?: () => boolean,
  ) {
    this.cancellation = new CancellationPoll(cancelled);
  }

  /** Where diagnostics go: the compilation's list, or a scratch list while `quietly` runs. */
  get sink(): DiagnosticSink {
    return this.currentSink;
  }

  /**
   * Runs `fn` with its diagnostics sent to a scratch list: for questions asked of a finished
   * compilation (resolving a path again for the exporter), whose problems were reported once.
   */
  quietly<T>(fn: () => T): T {
    const saved = this.currentSink;
    this.currentSink = new DiagnosticSink();
    try {
      return fn();
    } finally {
      this.currentSink = saved;
    }
  }

  /**
   * Charges `n` steps of work; false once the budget is spent. The first refusal is reported at
   * `range` (where the work ran out), every later one is silent.
   */
  spend(n: number, range: TextRange): boolean {
    if (this.exhausted) return false;
    this.cancellation.poll();
    this.steps += n;
    if (this.steps <= LIMITS.steps) return true;
    this.exhausted = true;
    this.sink.error(
      'npas-eval-too-large',
      `analysing this spec takes more than ${groupDigits(LIMITS.steps)} evaluation steps (the limit); it ran out here: reduce nested comprehensions, repetitions of mixed stacks, the number of distinct instances or of models and variants`,
      range,
    );
    return false;
  }

  idOf(obj: object): number {
    let id = this.declIds.get(obj);
    if (id === undefined) {
      id = this.nextId++;
      this.declIds.set(obj, id);
    }
    return id;
  }

  scopeId(scope: Scope): number {
    let id = this.scopeIds.get(scope);
    if (id === undefined) {
      id = this.nextId++;
      this.scopeIds.set(scope, id);
    }
    return id;
  }
}

/** One evaluated binding: the syntax node, its value, and the model or variant evaluated. */
export interface EvaluatedBinding {
  readonly binding: Binding;
  /** The model or variant whose evaluation produced the value; undefined for file constants. */
  readonly model: string | undefined;
  readonly value: Value;
}

const count = (value: Q.Rational): Value => ({ kind: 'number', value, unit: 'count' });

/** Evaluates an expression in a scope. Never throws. */
export function evaluate(expr: Expression, scope: Scope, ctx: EvalContext): Value {
  if (!ctx.spend(1, expr.range)) return ERROR_VALUE;
  switch (expr.kind) {
    case 'Number': {
      // A literal inside a loop body is read once per iteration: parse it once.
      const text = `${expr.digits}|${expr.suffix}`;
      const known = ctx.literalValues.get(text);
      if (known) return known;
      if (ctx.refusedLiterals.has(expr)) return ERROR_VALUE;
      const v = evaluateNumber(expr.digits, expr.suffix, expr.range, ctx);
      if (v.kind === 'error') ctx.refusedLiterals.add(expr);
      else ctx.literalValues.set(text, v);
      return v;
    }
    case 'String':
      return { kind: 'string', value: expr.value };
    case 'Boolean':
      return { kind: 'bool', value: expr.value };
    case 'None':
      return { kind: 'none' };
    case 'Missing':
      return ERROR_VALUE;
    case 'Name':
      return evaluateName(expr.name, scope, ctx);
    case 'Unary': {
      const v = evaluate(expr.operand, scope, ctx);
      if (v.kind === 'error') return v;
      if (expr.operator === 'not') {
        if (v.kind === 'bool') return { kind: 'bool', value: !v.value };
        return typeError(ctx, expr.operand.range, `'not' needs a boolean, got ${describeValue(v)}`);
      }
      if (v.kind === 'number') return { kind: 'number', value: Q.neg(v.value), unit: v.unit };
      return typeError(ctx, expr.operand.range, `unary '-' needs a number, got ${describeValue(v)}`);
    }
    case 'Binary':
      return evaluateBinary(expr, scope, ctx);
    case 'Conditional': {
      const c = evaluate(expr.condition, scope, ctx);
      if (c.kind === 'error') return c;
      if (c.kind !== 'bool') return typeError(ctx, expr.condition.range, `the condition must be a boolean, got ${describeValue(c)}`);
      return evaluate(c.value ? expr.whenTrue : expr.whenFalse, scope, ctx);
    }
    case 'Call':
      return evaluateCall(expr, scope, ctx);
    case 'Member': {
      const obj = evaluate(expr.object, scope, ctx);
      if (obj.kind === 'error') return obj;
      return typeError(ctx, expr.range, `${describeValue(obj)} has no member '${expr.member.text}' in an expression; member paths are for sharing statements`);
    }
    case 'Index': {
      const obj = evaluate(expr.object, scope, ctx);
      const idx = evaluate(expr.index, scope, ctx);
      if (obj.kind === 'error' || idx.kind === 'error') return ERROR_VALUE;
      if (obj.kind !== 'list') return typeError(ctx, expr.object.range, `only lists can be indexed, got ${describeValue(obj)}`);
      const i = toSmallInteger(idx, expr.index.range, ctx, 'an index');
      if (i === undefined) return ERROR_VALUE;
      const n = obj.items.length;
      const k = i < 0 ? n + i : i;
      const item = obj.items[k];
      if (item === undefined) {
        ctx.sink.error('npas-eval-range', `index ${i} is out of range for a list of ${n}`, expr.index.range);
        return ERROR_VALUE;
      }
      return item;
    }
    case 'List': {
      const items = expr.elements.map((e) => evaluate(e, scope, ctx));
      return listOrStack(items, expr.range, ctx);
    }
    case 'Comprehension':
      return evaluateComprehension(expr, scope, ctx);
  }
}

function typeError(ctx: EvalContext, range: TextRange, message: string): Value {
  ctx.sink.error('npas-eval-type', message, range);
  return ERROR_VALUE;
}

function evaluateNumber(digits: string, suffix: string, range: TextRange, ctx: EvalContext): Value {
  const mantissa = Q.parseDecimal(digits);
  const meaning = NUMBER_SUFFIXES.get(suffix);
  // The scanner already reported malformed literals; stay silent and poison.
  if (!mantissa || !meaning) return ERROR_VALUE;
  const value = Q.mul(mantissa, meaning.scale);
  if (!withinBits(value)) {
    ctx.sink.error('npas-eval-too-large', 'this number is too large to analyse', range);
    return ERROR_VALUE;
  }
  return { kind: 'number', value, unit: meaning.unit };
}

function withinBits(v: Q.Rational): boolean {
  const n = v.num < 0n ? -v.num : v.num;
  return n.toString(16).length * 4 <= LIMITS.bits && v.den.toString(16).length * 4 <= LIMITS.bits;
}

function evaluateName(id: Identifier, scope: Scope, ctx: EvalContext): Value {
  const found = scope.lookup(id.text);
  if (found) {
    const { entry, scope: owner } = found;
    switch (entry.kind) {
      case 'value':
        return entry.value;
      case 'block':
        return { kind: 'block', decl: entry.decl, scope: owner };
      case 'binding': {
        if (entry.state === 'done') return entry.value ?? ERROR_VALUE;
        if (entry.state === 'evaluating') {
          ctx.sink.error('npas-name-cycle', `'${id.text}' depends on itself`, id.range);
          return ERROR_VALUE;
        }
        // Deep in a chain of lazily evaluated names: resolve the rest of the chain iteratively.
        if (ctx.bindingDepth >= LIMITS.lazyBindingDepth) evaluateDependenciesFirst(entry, owner, (dep, depOwner) => evaluateBinding(dep, depOwner, ctx));
        return evaluateBinding(entry, owner, ctx);
      }
    }
  }
  const layer = findLayerKind(id.text);
  if (layer) return { kind: 'layerKind', layer };
  if ((BUILTIN_FUNCTIONS as readonly string[]).includes(id.text)) return { kind: 'builtin', name: id.text as BuiltinFunction };
  if (isKnownSymbol(id.text)) return { kind: 'symbol', name: id.text };
  ctx.sink.error('npas-name-unknown', `unknown name '${id.text}'`, id.range);
  return ERROR_VALUE;
}

function evaluateBinding(entry: Extract<ScopeEntry, { kind: 'binding' }>, owner: Scope, ctx: EvalContext): Value {
  entry.state = 'evaluating';
  ctx.bindingDepth++;
  // A binding is evaluated once however many loop iterations read it: its own loops do not
  // multiply with the enclosing ones.
  const nesting = ctx.nesting;
  ctx.nesting = 1;
  let value: Value;
  try {
    value = evaluate(entry.binding.value, owner, ctx);
  } finally {
    ctx.bindingDepth--;
    ctx.nesting = nesting;
  }
  entry.value = value;
  entry.state = 'done';
  ctx.bindingValues.push({ binding: entry.binding, model: ctx.currentModel, value });
  return value;
}

function evaluateBinary(expr: BinaryExpression, scope: Scope, ctx: EvalContext): Value {
  if (expr.operator === 'and' || expr.operator === 'or') {
    const l = evaluate(expr.left, scope, ctx);
    if (l.kind === 'error') return l;
    if (l.kind !== 'bool') return typeError(ctx, expr.left.range, `'${expr.operator}' needs booleans, got ${describeValue(l)}`);
    // Short-circuit like every mainstream language, so guards such as `i > 0 and x / i > 2` work.
    if (expr.operator === 'and' ? !l.value : l.value) return l;
    const r = evaluate(expr.right, scope, ctx);
    if (r.kind === 'error') return r;
    if (r.kind !== 'bool') return typeError(ctx, expr.right.range, `'${expr.operator}' needs booleans, got ${describeValue(r)}`);
    return r;
  }
  const l = evaluate(expr.left, scope, ctx);
  const r = evaluate(expr.right, scope, ctx);
  if (l.kind === 'error' || r.kind === 'error') return ERROR_VALUE;
  const op = expr.operator;

  if (op === '==' || op === '!=') {
    const eq = valuesEqual(l, r);
    if (eq === undefined) return typeError(ctx, expr.range, `cannot compare ${describeValue(l)} with ${describeValue(r)}`);
    return { kind: 'bool', value: op === '==' ? eq : !eq };
  }

  // Module arithmetic: repetition and sequences.
  const lm = asModule(l, expr.left.range, ctx);
  const rm = asModule(r, expr.right.range, ctx);
  if (op === '*' && lm && r.kind === 'number') return repeatValue(lm, r, expr.right.range, expr.range, ctx);
  if (op === '*' && rm && l.kind === 'number') return repeatValue(rm, l, expr.left.range, expr.range, ctx);
  if (op === '+' && lm && rm) return moduleValue(concatStacks([lm, rm], expr.range, ctx));
  if (lm || rm) {
    return typeError(ctx, expr.operatorRange, `'${op}' does not apply to ${describeValue(l)} and ${describeValue(r)}; modules combine with '*' (repeat) and '+' (sequence)`);
  }

  if (l.kind !== 'number' || r.kind !== 'number') {
    return typeError(ctx, expr.operatorRange, `'${op}' needs numbers, got ${describeValue(l)} and ${describeValue(r)}`);
  }
  switch (op) {
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (l.unit !== r.unit) return unitError(ctx, expr, l.unit, r.unit);
      const c = Q.compare(l.value, r.value);
      const value = op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
      return { kind: 'bool', value };
    }
    case '+':
    case '-':
      if (l.unit !== r.unit) return unitError(ctx, expr, l.unit, r.unit);
      return checked({ kind: 'number', value: op === '+' ? Q.add(l.value, r.value) : Q.sub(l.value, r.value), unit: l.unit }, expr.range, ctx);
    case '*':
      if (l.unit !== 'count' && r.unit !== 'count') return unitError(ctx, expr, l.unit, r.unit);
      return checked({ kind: 'number', value: Q.mul(l.value, r.value), unit: l.unit === 'count' ? r.unit : l.unit }, expr.range, ctx);
    case '/':
    case '//':
    case '%': {
      if (Q.isZero(r.value)) {
        ctx.sink.error('npas-eval-division-by-zero', `'${op}' by zero`, expr.right.range);
        return ERROR_VALUE;
      }
      // A ratio of two sizes is a plain count (bytes / bytes); a size over a count keeps its unit.
      let unit = l.unit;
      if (r.unit !== 'count') {
        if (r.unit !== l.unit) return unitError(ctx, expr, l.unit, r.unit);
        unit = op === '%' ? l.unit : 'count';
      }
      const value = op === '/' ? Q.div(l.value, r.value) : op === '//' ? Q.floorDiv(l.value, r.value) : Q.mod(l.value, r.value);
      return checked({ kind: 'number', value, unit }, expr.range, ctx);
    }
    case '**': {
      if (l.unit !== 'count' || r.unit !== 'count') return unitError(ctx, expr, l.unit, r.unit);
      if (!Q.isInteger(r.value)) {
        ctx.sink.error('npas-eval-not-integer', 'exponents must be integers', expr.right.range);
        return ERROR_VALUE;
      }
      const e = r.value.num;
      if (e > BigInt(LIMITS.exponent) || e < -BigInt(LIMITS.exponent)) {
        ctx.sink.error('npas-eval-too-large', `exponent ${e} is too large (at most ${LIMITS.exponent})`, expr.right.range);
        return ERROR_VALUE;
      }
      if (e < 0n && Q.isZero(l.value)) {
        ctx.sink.error('npas-eval-division-by-zero', '0 to a negative power', expr.range);
        return ERROR_VALUE;
      }
      // Refuse results that would be huge before computing them (|base| bits × exponent).
      const baseBits = (l.value.num < 0n ? -l.value.num : l.value.num).toString(2).length + l.value.den.toString(2).length;
      if (baseBits * Number(e < 0n ? -e : e) > LIMITS.bits * 4) {
        ctx.sink.error('npas-eval-too-large', 'this power is too large to analyse', expr.range);
        return ERROR_VALUE;
      }
      return checked(count(Q.pow(l.value, e)), expr.range, ctx);
    }
  }
  return ERROR_VALUE;
}

function unitError(ctx: EvalContext, expr: BinaryExpression, a: string, b: string): Value {
  ctx.sink.error('npas-eval-unit', `'${expr.operator}' cannot combine ${describeUnit(a as 'count')} with ${describeUnit(b as 'count')}`, expr.operatorRange);
  return ERROR_VALUE;
}

function checked(v: Value, range: TextRange, ctx: EvalContext): Value {
  if (v.kind === 'number' && !withinBits(v.value)) {
    ctx.sink.error('npas-eval-too-large', 'this value is too large to analyse', range);
    return ERROR_VALUE;
  }
  return v;
}

/** Structural equality of plain values; undefined when the two cannot be compared. */
export function valuesEqual(a: Value, b: Value): boolean | undefined {
  if (a.kind === 'none' || b.kind === 'none') return a.kind === b.kind;
  if (a.kind === 'number' && b.kind === 'number') return a.unit === b.unit && Q.compare(a.value, b.value) === 0;
  if (a.kind === 'bool' && b.kind === 'bool') return a.value === b.value;
  if ((a.kind === 'symbol' || a.kind === 'string') && (b.kind === 'symbol' || b.kind === 'string')) {
    return (a.kind === 'symbol' ? a.name : a.value) === (b.kind === 'symbol' ? b.name : b.value);
  }
  if (a.kind === 'list' && b.kind === 'list') {
    if (a.items.length !== b.items.length) return false;
    for (let i = 0; i < a.items.length; i++) {
      const e = valuesEqual(a.items[i]!, b.items[i]!);
      if (e !== true) return e;
    }
    return true;
  }
  return undefined;
}

/** Converts a value to a module node, instantiating a bare block with its defaults. */
export function asModule(v: Value, range: TextRange, ctx: EvalContext): ModuleNode | undefined {
  if (v.kind === 'module') return v.node;
  if (v.kind === 'block') return instantiateBlock(v.decl, v.scope, [], range, range, undefined, ctx);
  return undefined;
}

/** A module value, or the poison value when building the module was refused (already reported). */
function moduleValue(node: ModuleNode | undefined): Value {
  return node ? { kind: 'module', node } : ERROR_VALUE;
}

function repeatValue(m: ModuleNode, n: Value, nRange: TextRange, range: TextRange, ctx: EvalContext): Value {
  const times = toCountInteger(n, nRange, ctx, 'a repetition count');
  if (times === undefined) return ERROR_VALUE;
  if (times < 1n) {
    ctx.sink.error('npas-eval-range', `a module must be repeated at least once, got ${times}`, nRange);
    return ERROR_VALUE;
  }
  // No bound of its own: a repeat is one run counted as a bigint (`Decoder * 2^60` costs what
  // `Decoder` costs); a repeated multi-module stack is bounded by its runs, and the model's
  // totals by 10^30 (compilation.ts).
  const node = repeatModule(m, times, range, ctx);
  return node ? { kind: 'module', node } : ERROR_VALUE;
}

/** An exact integer from a count value, at any size numbers take (256 bits), or undefined (reported). */
function toCountInteger(v: Value, range: TextRange, ctx: EvalContext, what: string): bigint | undefined {
  if (v.kind === 'error') return undefined;
  if (v.kind !== 'number' || v.unit !== 'count') {
    ctx.sink.error('npas-eval-type', `${what} must be a plain number, got ${describeValue(v)}`, range);
    return undefined;
  }
  if (!Q.isInteger(v.value)) {
    ctx.sink.error('npas-eval-not-integer', `${what} must be an integer, got ${Q.toDecimalString(v.value)}`, range);
    return undefined;
  }
  return v.value.num;
}

/** A safe JS integer from a count value, or undefined (reported). */
export function toSmallInteger(v: Value, range: TextRange, ctx: EvalContext, what: string): number | undefined {
  const n = toCountInteger(v, range, ctx, what);
  if (n === undefined) return undefined;
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) {
    ctx.sink.error('npas-eval-too-large', `${what} is too large`, range);
    return undefined;
  }
  return Number(n);
}

function listOrStack(items: Value[], range: TextRange, ctx: EvalContext): Value {
  if (items.some((v) => v.kind === 'error')) return ERROR_VALUE;
  const modules = items.filter((v) => v.kind === 'module' || v.kind === 'block');
  if (modules.length === 0 || items.length === 0) return { kind: 'list', items };
  if (modules.length !== items.length) {
    ctx.sink.error('npas-module-expected', 'a list must hold either only modules (a stack) or only values', range);
    return ERROR_VALUE;
  }
  const nodes: ModuleNode[] = [];
  for (const v of items) {
    const m = asModule(v, range, ctx);
    if (!m) return ERROR_VALUE;
    nodes.push(m);
  }
  return moduleValue(concatStacks(nodes, range, ctx));
}

function evaluateComprehension(expr: ComprehensionExpression, scope: Scope, ctx: EvalContext): Value {
  const toV = evaluate(expr.to, scope, ctx);
  const fromV = expr.from ? evaluate(expr.from, scope, ctx) : count(Q.ZERO);
  const to = toSmallInteger(toV, expr.to.range, ctx, 'a range bound');
  const from = toSmallInteger(fromV, expr.from?.range ?? expr.to.range, ctx, 'a range bound');
  if (to === undefined || from === undefined) return ERROR_VALUE;
  const runs = Math.max(0, to - from);
  if (runs > LIMITS.comprehension) {
    ctx.sink.error('npas-eval-too-large', `a comprehension may run at most ${groupDigits(LIMITS.comprehension)} times, this one runs ${groupDigits(runs)}`, expr.range);
    return ERROR_VALUE;
  }
  // Nested loops multiply: refuse before running (and allocating) when this loop, run once per
  // iteration of the loops around it, or all loops together, would pass the limit.
  const product = BigInt(runs) * BigInt(ctx.nesting);
  if (product + BigInt(ctx.iterations) > BigInt(LIMITS.iterations)) {
    const nested = ctx.nesting > 1 ? ` (it runs ${groupDigits(runs)} times for each of ${groupDigits(ctx.nesting)} outer iterations: ${groupDigits(product)} in all)` : '';
    ctx.sink.error('npas-eval-too-large', `comprehensions may run at most ${groupDigits(LIMITS.iterations)} iterations in one spec, nested ones multiplied; this one would pass the limit${nested}`, expr.range);
    ctx.exhausted = true;
    return ERROR_VALUE;
  }
  ctx.iterations += runs;
  const inner = new Scope(scope, scope.owner);
  const items: Value[] = [];
  // Index-dependent stacks evaluate the body once per index; identical instances are
  // hash-consed by the instantiation memo, so only the distinct ones cost real work.
  const outerNesting = ctx.nesting;
  ctx.nesting = outerNesting * Math.max(1, runs);
  try {
    for (let i = from; i < to; i++) {
      inner.entries.set(expr.variable.text, { kind: 'value', value: count(Q.fromInt(i)), name: expr.variable });
      const v = evaluate(expr.body, inner, ctx);
      // One failing index usually means all fail: stop after the first to avoid N copies.
      if (v.kind === 'error') return ERROR_VALUE;
      items.push(v);
    }
  } finally {
    ctx.nesting = outerNesting;
  }
  if (items.length === 0) return { kind: 'list', items };
  if (items.every((v) => v.kind === 'module' || v.kind === 'block')) {
    const nodes: ModuleNode[] = [];
    for (const v of items) {
      const m = asModule(v, expr.body.range, ctx);
      if (!m) return ERROR_VALUE;
      nodes.push(m);
    }
    return moduleValue(stackOf(nodes, expr.range, ctx));
  }
  return listOrStack(items, expr.range, ctx);
}

function evaluateCall(expr: CallExpression, scope: Scope, ctx: EvalContext): Value {
  const callee = evaluate(expr.callee, scope, ctx);
  switch (callee.kind) {
    case 'error':
      return callee;
    case 'layerKind': {
      const node = instantiateLayer(callee.layer, expr, scope, ctx);
      return node ? { kind: 'module', node } : ERROR_VALUE;
    }
    case 'block': {
      const node = instantiateBlock(callee.decl, callee.scope, expr.args, expr.range, expr.argsRange, scope, ctx);
      return node ? { kind: 'module', node } : ERROR_VALUE;
    }
    case 'builtin':
      return callBuiltin(callee.name, expr, scope, ctx);
    default:
      return typeError(ctx, expr.callee.range, `${describeValue(callee)} cannot be called`);
  }
}

function callBuiltin(name: BuiltinFunction, expr: CallExpression, scope: Scope, ctx: EvalContext): Value {
  if (name === 'Device') return deviceValue(expr, (e) => evaluate(e, scope, ctx), ctx.sink);
  const named = expr.args.find((a) => a.name);
  if (named?.name) {
    ctx.sink.error('npas-layer-unknown-arg', `${name}() takes no named arguments`, named.name.range);
    return ERROR_VALUE;
  }
  const values = expr.args.map((a) => evaluate(a.value, scope, ctx));
  if (values.some((v) => v.kind === 'error')) return ERROR_VALUE;
  const nums: { value: Q.Rational; unit: string }[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v.kind !== 'number') return typeError(ctx, expr.args[i]!.range, `${name}() needs numbers, got ${describeValue(v)}`);
    nums.push(v);
  }
  const unary = name !== 'min' && name !== 'max';
  if (unary ? nums.length !== 1 : nums.length === 0) {
    ctx.sink.error('npas-layer-missing-arg', unary ? `${name}() takes exactly one number` : `${name}() needs at least one number`, expr.argsRange);
    return ERROR_VALUE;
  }
  const unit = nums[0]!.unit;
  if (nums.some((n) => n.unit !== unit)) {
    ctx.sink.error('npas-eval-unit', `${name}() arguments must share a unit`, expr.argsRange);
    return ERROR_VALUE;
  }
  const first = nums[0]!.value;
  let value: Q.Rational;
  switch (name) {
    case 'min':
      value = nums.reduce((m, n) => (Q.compare(n.value, m) < 0 ? n.value : m), first);
      break;
    case 'max':
      value = nums.reduce((m, n) => (Q.compare(n.value, m) > 0 ? n.value : m), first);
      break;
    case 'ceil':
      value = Q.fromBigInt(Q.ceil(first));
      break;
    case 'floor':
      value = Q.fromBigInt(Q.floor(first));
      break;
    case 'round':
      value = Q.fromBigInt(Q.round(first));
      break;
    case 'abs':
      value = first.num < 0n ? Q.neg(first) : first;
      break;
  }
  return { kind: 'number', value, unit: unit as 'count' };
}

export { DiagnosticSink };
