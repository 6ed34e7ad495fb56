// Turns the sharing statements of a model (and its variant chain) into resolved declarations:
// paths checked against the evaluated tree, strategies validated against stack lengths, tied
// instances checked for equal weight shapes. Every problem is a located diagnostic; a bad
// statement is dropped so the rest of the model still gets numbers.

import { mainWeight, tieCompatible } from '../model/main-weight.js';
import type { LayerNode, ModelMember, ModuleNode, StackNode } from '../model/module-tree.js';
import * as Q from '../numbers/rational.js';
import type { EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import type { Statement } from '../syntax/syntax-tree.js';
import type { AdapterMethod, ExpertPool, HeadShare, Modifier, ResolvedSharing, StackStrategy, TieSource } from './declarations.js';
import { routedSelection } from '../layers/weight-specs.js';
import { resolvePath, type ResolvedPath } from './resolve-path.js';
import * as S from './slot-map.js';
import { groupDigits } from '../text/number-format.js';
import { asStatementCall, readIntList, readStatementArgs, type StatementCall } from './statement-args.js';
import { HALT_ARGS, haltingUnit, haltReach } from './halting.js';
import { conflictingStatement } from '../allocation/conflicts.js';
import { resolveAllocation } from '../allocation/allocate-statement.js';
import { factorTargets, readFactorMethod } from './resolve-factorize.js';

export interface ScopedStatement {
  readonly statement: Statement;
  readonly scope: Scope;
}

interface Builder {
  readonly modifiers: Modifier[];
  readonly stacks: Map<string, StackStrategy[]>;
  readonly headShares: HeadShare[];
  readonly members: readonly ModelMember[];
  readonly ctx: EvalContext;
  nextId: number;
  /** Whether an `allocate` statement was resolved (one per model). */
  allocated: boolean;
  /** The keyword of a statement that an allocation cannot be combined with, if any. */
  readonly conflict: string | undefined;
}

export function resolveSharing(members: readonly ModelMember[], statements: readonly ScopedStatement[], ctx: EvalContext): ResolvedSharing {
  const conflict = statements.some((s) => s.statement.keyword === 'allocate') ? conflictingStatement(statements)?.statement.keyword : undefined;
  const b: Builder = { modifiers: [], stacks: new Map(), headShares: [], members, ctx, nextId: 1, allocated: false, conflict };
  // Top-level `tied` bindings.
  for (const m of members) {
    if (!m.tiedTo) continue;
    const target = resolvePath(m.tiedTo, members, rootScope(statements), ctx);
    if (!target) continue;
    const a = mainWeight(m.node);
    const t = target.weight && target.node.kind === 'layer' ? target.node.cost.weights.find((w) => w.name === target.weight) : mainWeight(target.node);
    if (!a || !t || !tieCompatible(a.shape, t.shape)) {
      ctx.sink.error('npas-tie-shape', `cannot tie '${m.name}' (${a ? a.shape.join('×') : 'no weight'}) to '${target.key}' (${t ? t.shape.join('×') : 'no weight'})`, m.tiedTo.range);
      continue;
    }
    b.modifiers.push({ id: b.nextId++, pattern: [{ kind: 'name', name: m.name }], effect: { kind: 'tie-main', source: tieSource(target) }, range: m.tiedTo.range });
  }
  // Weight sharing first, so `share kv …: tied` can find the slots of its stack.
  const ordered = [...statements].sort((x, y) => rank(x.statement) - rank(y.statement));
  for (const s of ordered) resolveStatement(s.statement, s.scope, b);
  const hasAdapters = b.modifiers.some((m) => m.effect.kind === 'adapter' && !m.effect.relax);
  return { modifiers: b.modifiers, stacks: b.stacks, headShares: b.headShares, hasAdapters };
}

function tieSource(r: ResolvedPath): TieSource {
  return { pattern: r.pattern, key: r.key, weight: r.weight, fansOut: r.fanOut !== undefined };
}

function rootScope(statements: readonly ScopedStatement[]): Scope {
  // Paths in `tied` only contain literal indices; any scope evaluates them.
  return statements[0]?.scope ?? (undefined as unknown as Scope);
}

function rank(s: Statement): number {
  if (s.keyword === 'share' && !s.modifier) return 0;
  if (s.keyword === 'share') return 1;
  return 2;
}

function resolveStatement(s: Statement, scope: Scope, b: Builder): void {
  const { ctx } = b;
  switch (s.keyword) {
    case 'share': {
      const mod = s.modifier?.text;
      if (mod === 'kv') return resolveKvShare(s, scope, b);
      if (mod === 'heads') return resolveHeadShare(s, scope, b);
      if (mod === 'experts') return resolveWeightShare(s, scope, b, true);
      if (mod !== undefined) {
        ctx.sink.error('npas-share-strategy', `unknown share modifier '${mod}' (use 'kv', 'heads' or 'experts')`, s.modifier!.range);
        return;
      }
      return resolveWeightShare(s, scope, b, false);
    }
    case 'tie': {
      const [target] = s.targets;
      if (!target || !s.source) return;
      const a = resolvePath(target, b.members, scope, ctx);
      const src = resolvePath(s.source, b.members, scope, ctx);
      if (!a || !src) return;
      if (a.fanOut || src.fanOut) {
        ctx.sink.error('npas-share-target', '`tie` joins two single modules; to tie instances of a stack use `share STACK: strategy`', s.range);
        return;
      }
      if (a.node.weightSignature !== src.node.weightSignature || a.weight !== src.weight) {
        ctx.sink.error('npas-tie-shape', `'${a.key}' and '${src.key}' do not have the same weights`, s.range);
        return;
      }
      b.modifiers.push({ id: b.nextId++, pattern: a.pattern, effect: { kind: 'tie-all', targetKey: a.key, source: tieSource(src) }, range: s.range });
      return;
    }
    case 'adapt': {
      const adapter = s.value ? readAdapter(s.value, scope, b) : undefined;
      if (!adapter) return;
      const { method, tasks } = adapter;
      for (const t of s.targets) {
        const r = resolvePath(t, b.members, scope, ctx);
        if (!r) continue;
        if (!checkAdapterTargets(method, r, t.range, b, targetWeights(s.value))) continue;
        b.modifiers.push({ id: b.nextId++, pattern: r.pattern, effect: { kind: 'adapter', method, weights: r.weight ? [r.weight] : targetWeights(s.value), relax: false, tasks }, range: s.range });
      }
      return;
    }
    case 'hash': {
      const call = s.value ? asStatementCall(s.value) : undefined;
      if (!call || (call.name !== 'roast' && call.name !== 'rps')) {
        ctx.sink.error('npas-hash', 'hashed memory is `roast(memory: m)` or `rps(memory: m)`', s.value?.range ?? s.range);
        return;
      }
      const args = readStatementArgs(call, [
        { name: 'memory', type: 'ratio', required: true },
        { name: 'scales', type: 'bool', required: false },
      ], 'npas-hash', scope, ctx);
      if (!args) return;
      const memory = args.get('memory') as Q.Rational;
      if (!Q.isInteger(memory)) {
        ctx.sink.error('npas-hash', 'the memory size must be a whole number of parameters', call.argsRange);
        return;
      }
      for (const t of s.targets) {
        const r = resolvePath(t, b.members, scope, ctx);
        if (r) b.modifiers.push({ id: b.nextId++, pattern: r.pattern, effect: { kind: 'hash', method: call.name, memory: memory.num, scales: (args.get('scales') as boolean | undefined) ?? false }, range: s.range });
      }
      return;
    }
    case 'bank': {
      const call = s.value ? asStatementCall(s.value) : undefined;
      if (!call || call.name !== 'ssn') {
        ctx.sink.error('npas-bank', 'a template bank is `ssn(params: P, templates: K)`', s.value?.range ?? s.range);
        return;
      }
      const args = readStatementArgs(call, [
        { name: 'params', type: 'ratio', required: true },
        { name: 'templates', type: 'int', required: false, min: 1 },
        { name: 'fixed', type: 'bool', required: false },
      ], 'npas-bank', scope, ctx);
      if (!args) return;
      const params = args.get('params') as Q.Rational;
      if (!Q.isInteger(params)) {
        ctx.sink.error('npas-bank', 'the bank size must be a whole number of parameters', call.argsRange);
        return;
      }
      const label = s.label?.text ?? `bank${b.nextId}`;
      for (const t of s.targets) {
        const r = resolvePath(t, b.members, scope, ctx);
        if (r) b.modifiers.push({ id: b.nextId++, pattern: r.pattern, effect: { kind: 'bank', label, params: params.num, templates: (args.get('templates') as number | undefined) ?? 8, fixed: (args.get('fixed') as boolean | undefined) ?? false }, range: s.range });
      }
      return;
    }
    case 'dict': {
      const call = s.value ? asStatementCall(s.value) : undefined;
      if (!call || call.name !== 'masa') {
        ctx.sink.error('npas-share-strategy', 'dictionary sharing is `masa(atoms: S)`', s.value?.range ?? s.range);
        return;
      }
      const args = readStatementArgs(call, [{ name: 'atoms', type: 'int', required: true, min: 1 }], 'npas-share-strategy', scope, ctx);
      if (!args) return;
      for (const t of s.targets) {
        const r = resolvePath(t, b.members, scope, ctx);
        if (r) b.modifiers.push({ id: b.nextId++, pattern: r.pattern, effect: { kind: 'dict', atoms: args.get('atoms') as number }, range: s.range });
      }
      return;
    }
    case 'factorize': {
      const method = s.value ? readFactorMethod(s.value, scope, ctx) : undefined;
      if (!method) return;
      const label = `factorize@${s.range.start}`;
      for (const t of s.targets) {
        const r = resolvePath(t, b.members, scope, ctx);
        const targets = r ? factorTargets(method, r, t.range, ctx) : undefined;
        if (r && targets) b.modifiers.push({ id: b.nextId++, pattern: r.pattern, effect: { kind: 'factorize', method, label, targets }, range: s.range });
      }
      return;
    }
    case 'route':
      return resolveRoute(s, scope, b);
    case 'freeze':
    case 'train':
      for (const t of s.targets) {
        const r = resolvePath(t, b.members, scope, ctx);
        if (r) b.modifiers.push({ id: b.nextId++, pattern: r.pattern, effect: { kind: s.keyword }, range: s.range });
      }
      return;
    case 'allocate':
      return resolveAllocate(s, scope, b);
    case 'param':
      // A parameterisation changes no count; parameterization/ reads it after the walk.
      return;
    case 'parallel':
      // Parallel streams multiply compute, not stores: analysis/parallel-streams.ts reads it
      // after the walk, from the members' totals.
      return;
    case 'precision':
      // Dtypes change bytes, not counts: analysis/model-precision.ts reads it for the metrics.
      return;
  }
}

/**
 * NPAS: the allocator's plan becomes fixed SSN banks. It plans over the architecture's own
 * weights, so it cannot be combined with other sharing, and there is one request per model.
 */
function resolveAllocate(s: Statement, scope: Scope, b: Builder): void {
  if (b.allocated) {
    b.ctx.sink.error('npas-allocate', 'only one allocation request per model or variant', s.keywordRange);
    return;
  }
  b.allocated = true;
  if (b.conflict) {
    b.ctx.sink.error('npas-allocate', `allocate plans the whole architecture and cannot be combined with '${b.conflict}' statements; allocate the model without them`, s.keywordRange);
    return;
  }
  const banks = resolveAllocation(s, scope, b.members, 'this model', b.ctx);
  if (!banks) return;
  for (const bank of banks) {
    for (const pattern of bank.patterns) {
      b.modifiers.push({ id: b.nextId++, pattern, effect: { kind: 'bank', label: bank.label, params: BigInt(bank.params), templates: bank.templates, fixed: true }, range: s.range });
    }
  }
}

/** The stack a share statement applies to, and the member path inside each instance. */
function shareTarget(r: ResolvedPath, range: { start: number; end: number }, b: Builder): { stack: StackNode; key: string; sub: string[] } | undefined {
  if (r.node.kind === 'stack' && (!r.fanOut || r.fanOut.sub.length === 0 || r.key !== r.fanOut.key)) {
    if (!r.fanOut || r.fanOut.stack !== r.node) return { stack: r.node, key: r.key, sub: [] };
  }
  if (r.fanOut && r.weight === undefined) {
    if (r.fanOut.sub.some((p) => p.startsWith('['))) {
      b.ctx.sink.error('npas-share-target', 'a shared sub-path cannot index a nested stack', range);
      return undefined;
    }
    return { stack: r.fanOut.stack, key: r.fanOut.key, sub: [...r.fanOut.sub] };
  }
  if (r.weight !== undefined) {
    b.ctx.sink.error('npas-share-target', 'share a module (a layer or block member), not a single weight', range);
    return undefined;
  }
  b.ctx.sink.error('npas-share-not-stack', `'${r.key}' is not a repeated stack or a member of one; strategies tie the instances of a stack`, range);
  return undefined;
}

function subNode(node: ModuleNode, sub: readonly string[]): ModuleNode | undefined {
  let n: ModuleNode | undefined = node;
  for (const name of sub) n = n?.kind === 'block' ? n.members.find((m) => m.name === name)?.node : undefined;
  return n;
}

function readSlotMap(call: StatementCall, n: number, scope: Scope, b: Builder): S.SlotMap | undefined {
  const { ctx } = b;
  const one = (): number | undefined => {
    const args = readStatementArgs(call, [{ name: 'n', type: 'int', required: true, min: 1 }], 'npas-share-strategy', scope, ctx);
    const m = args?.get('n') as number | undefined;
    if (m !== undefined && m > n) {
      ctx.sink.error('npas-share-strategy', `${call.name}(${m}) needs at least ${m} instances, the stack has ${n}`, call.argsRange);
      return undefined;
    }
    return m;
  };
  switch (call.name) {
    case 'none':
      return S.noneMap(n);
    case 'all':
      return S.allMap();
    case 'cycle': {
      const m = one();
      return m === undefined ? undefined : S.cycleMap(m);
    }
    case 'sequence': {
      const m = one();
      return m === undefined ? undefined : S.sequenceMap(m, n);
    }
    case 'cycle_rev': {
      const m = one();
      return m === undefined ? undefined : S.cycleRevMap(m, n);
    }
    case 'map': {
      const listExpr = call.list ?? call.args[0]?.value;
      if (!listExpr) {
        ctx.sink.error('npas-share-strategy', 'map() needs a list of store indices, one per instance', call.argsRange);
        return undefined;
      }
      const values = readIntList(listExpr, scope, ctx);
      if (!values) return undefined;
      if (values.length !== n || values.some((v) => v < 0)) {
        ctx.sink.error('npas-share-strategy', `the map must give one non-negative store index per instance: ${n} expected, ${values.length} given`, listExpr.range);
        return undefined;
      }
      return S.explicitMap(values);
    }
    default:
      ctx.sink.error('npas-share-strategy', `unknown strategy '${call.name}' (use none, all, cycle(k), sequence(k), cycle_rev(k) or map([…]))`, call.nameRange);
      return undefined;
  }
}

/**
 * `share STACK: strategy` ties whole instances or sub-paths of them; `share experts STACK.moe:
 * strategy` (experts) ties only the routed expert bank of the MoE layer at the sub-path, so that
 * each store is an expert pool read by the routers of the layers mapped to it (Megrez2, ReXMoE).
 */
function resolveWeightShare(s: Statement, scope: Scope, b: Builder, experts: boolean): void {
  const { ctx } = b;
  const call = s.value ? asStatementCall(s.value) : undefined;
  if (!call) {
    ctx.sink.error('npas-share-strategy', 'expected a strategy: none, all, cycle(k), sequence(k), cycle_rev(k) or map([…])', s.value?.range ?? s.range);
    return;
  }
  if (experts && s.relax) {
    ctx.sink.error('npas-share-experts', '`relax` is not available on an expert pool: adapt the experts with `adapt` instead', s.relax.range);
    return;
  }
  const relaxed = s.relax ? readAdapter(s.relax, scope, b) : undefined;
  const relax = relaxed?.method;
  if (s.relax && !relax) return;
  for (const t of s.targets) {
    const r = resolvePath(t, b.members, scope, ctx);
    if (!r) continue;
    const target = shareTarget(r, t.range, b);
    if (!target) continue;
    const pool = experts ? expertPoolOf(target.stack, target.sub, r.key, t.range, b) : undefined;
    if (experts && !pool) continue;
    const slots = readSlotMap(call, target.stack.length, scope, b);
    if (!slots) return;
    if (pool ? !checkPoolShapes(target.stack, target.sub, pool, slots, t.range, b) : !checkTiedShapes(target.stack, target.sub, slots, t.range, b)) continue;
    const list = b.stacks.get(target.key) ?? [];
    const clash = list.find((x) => x.kind === 'share' && (isPrefix(x.sub, target.sub) || isPrefix(target.sub, x.sub)));
    if (clash) {
      ctx.sink.error('npas-share-overlap', `'${r.key}' is already shared by another declaration`, t.range);
      continue;
    }
    list.push({ kind: 'share', slots, sub: target.sub, ...(pool ? { pool } : {}), range: s.range });
    b.stacks.set(target.key, list);
    if (relax) {
      if (!checkAdapterTargets(relax, r, t.range, b, relaxWeights(s, scope))) continue;
      b.modifiers.push({ id: b.nextId++, pattern: r.pattern, effect: { kind: 'adapter', method: relax, weights: relaxWeights(s, scope), relax: true, tasks: relaxed!.tasks }, range: s.relax!.range });
    }
  }
}

/**
 * The routed expert bank of the MoE layer every instance of `stack` has at `sub`: its weights and
 * routing. Reports `npas-share-experts` when the sub-path is not such a layer in every run, or
 * when the runs route differently (one pool needs one E, k and iteration count).
 */
function expertPoolOf(stack: StackNode, sub: readonly string[], key: string, range: { start: number; end: number }, b: Builder): ExpertPool | undefined {
  if (sub.length === 0) {
    b.ctx.sink.error('npas-share-experts', `'${key}' names whole instances: \`share experts\` pools the routed experts of an MoE layer inside them (\`share experts ${key}.moe: …\`)`, range);
    return undefined;
  }
  let pool: ExpertPool | undefined;
  for (const run of stack.runs) {
    const node = subNode(run.node, sub);
    const bank = node?.kind === 'layer' ? node.cost.weights.filter((w) => routedSelection(w) !== undefined) : [];
    const selection = bank[0] ? routedSelection(bank[0]) : undefined;
    if (!node || node.kind !== 'layer' || !selection || bank.some((w) => w.copies !== bank[0]!.copies)) {
      b.ctx.sink.error('npas-share-experts', `'${key}' is not a layer with routed experts in every instance: \`share experts\` pools the experts of MoE layers`, range);
      return undefined;
    }
    const here: ExpertPool = { weights: bank.map((w) => w.name), experts: bank[0]!.copies, topK: selection.topK, draws: selection.draws };
    if (pool && (pool.experts !== here.experts || pool.topK !== here.topK || pool.draws !== here.draws || pool.weights.join() !== here.weights.join())) {
      b.ctx.sink.error('npas-share-experts', `the instances of '${key}' route differently (${pool.experts} experts, top-${pool.topK} against ${here.experts}, top-${here.topK}): one pool needs one routing`, range);
      return undefined;
    }
    pool = here;
  }
  return pool;
}

/** Instances mapped to one pool must have identical expert weights (shapes, biases). */
function checkPoolShapes(stack: StackNode, sub: readonly string[], pool: ExpertPool, slots: S.SlotMap, range: { start: number; end: number }, b: Builder): boolean {
  const shapes = stack.runs.map((run) => {
    const node = subNode(run.node, sub);
    return node?.kind === 'layer' ? node.cost.weights.filter((w) => pool.weights.includes(w.name)).map((w) => `${w.name}:${w.shape.join('x')}`).join('|') : '';
  });
  if (new Set(shapes).size <= 1) return true;
  const slotShape = new Map<number, string>();
  let i = 0;
  for (let r = 0; r < stack.runs.length; r++) {
    for (let k = 0; k < stack.runs[r]!.count; k++, i++) {
      const slot = slots.slotOf(i);
      const prev = slotShape.get(slot);
      if (prev === undefined) slotShape.set(slot, shapes[r]!);
      else if (prev !== shapes[r]) {
        b.ctx.sink.error('npas-share-shape', `instance ${i} has experts of other shapes than the other instances of pool ${slot}`, range);
        return false;
      }
    }
  }
  return true;
}

function relaxWeights(s: Statement, scope: Scope): readonly string[] | undefined {
  void scope;
  return targetWeights(s.relax);
}

/** The weight names of an adapter's `targets: [q, v]` argument; undefined when not given. */
function targetWeights(expr: import('../syntax/syntax-tree.js').Expression | undefined): readonly string[] | undefined {
  const call = expr ? asStatementCall(expr) : undefined;
  const targets = call?.args.find((a) => a.name?.text === 'targets');
  if (!targets) return undefined;
  const list = targets.value.kind === 'List' ? targets.value.elements : [targets.value];
  return list.filter((e) => e.kind === 'Name').map((e) => (e.kind === 'Name' ? e.name.text : ''));
}

const isPrefix = (a: readonly string[], b: readonly string[]): boolean => a.length <= b.length && a.every((x, i) => x === b[i]);

/** Instances mapped to one store must have identical weights under the shared sub-path. */
function checkTiedShapes(stack: StackNode, sub: readonly string[], slots: S.SlotMap, range: { start: number; end: number }, b: Builder): boolean {
  const sigs = stack.runs.map((r) => subNode(r.node, sub)?.weightSignature ?? -1);
  if (new Set(sigs).size <= 1) return true;
  // Different structures: check instance by instance (O(N), only for index-dependent stacks).
  const slotSig = new Map<number, number>();
  let i = 0;
  for (let r = 0; r < stack.runs.length; r++) {
    const run = stack.runs[r]!;
    for (let k = 0; k < run.count; k++, i++) {
      const slot = slots.slotOf(i);
      const sig = sigs[r]!;
      const prev = slotSig.get(slot);
      if (prev === undefined) slotSig.set(slot, sig);
      else if (prev !== sig) {
        b.ctx.sink.error('npas-share-shape', `instance ${i} has different weight shapes from the other instances tied to store ${slot}`, range);
        return false;
      }
    }
  }
  return true;
}

function resolveKvShare(s: Statement, scope: Scope, b: Builder): void {
  const { ctx } = b;
  const call = s.value ? asStatementCall(s.value) : undefined;
  for (const t of s.targets) {
    const r = resolvePath(t, b.members, scope, ctx);
    if (!r) continue;
    if (r.node.kind !== 'stack' || (r.fanOut && r.fanOut.stack !== r.node)) {
      ctx.sink.error('npas-share-not-stack', `'${r.key}' is not a stack; KV sharing applies to the instances of a stack`, t.range);
      continue;
    }
    const stack = r.node;
    let producers: S.KvProducerMap | undefined;
    if (!call) {
      ctx.sink.error('npas-share-strategy', 'expected every(n), map([…]) or tied', s.value?.range ?? s.range);
      return;
    }
    if (call.name === 'every') {
      const args = readStatementArgs(call, [{ name: 'n', type: 'int', required: true, min: 1 }], 'npas-share-strategy', scope, ctx);
      if (!args) return;
      producers = S.everyKv(args.get('n') as number);
    } else if (call.name === 'map') {
      const listExpr = call.list ?? call.args[0]?.value;
      const values = listExpr ? readIntList(listExpr, scope, ctx) : undefined;
      if (!values || !listExpr) return;
      if (values.length !== stack.length) {
        ctx.sink.error('npas-kv-source', `the KV map must give one source per instance: ${stack.length} expected, ${values.length} given`, listExpr.range);
        return;
      }
      const bad = values.findIndex((v, i) => v < 0 || v > i || values[v] !== v);
      if (bad >= 0) {
        ctx.sink.error('npas-kv-source', `instance ${bad} reads KV from ${values[bad]}, which is not an earlier instance that produces its own KV`, listExpr.range);
        return;
      }
      producers = S.explicitKv(values);
    } else if (call.name === 'tied') {
      const share = b.stacks.get(r.key)?.find((x) => x.kind === 'share' && x.sub.length === 0);
      if (!share || share.kind !== 'share') {
        ctx.sink.error('npas-kv-source', `'share kv ${r.key}: tied' needs a weight-sharing strategy on ${r.key} (share ${r.key}: …)`, call.nameRange);
        return;
      }
      producers = S.tiedKv(share.slots);
    } else {
      ctx.sink.error('npas-share-strategy', `unknown KV strategy '${call.name}' (use every(n), map([…]) or tied)`, call.nameRange);
      return;
    }
    const list = b.stacks.get(r.key) ?? [];
    if (list.some((x) => x.kind === 'kv')) {
      ctx.sink.error('npas-share-overlap', `'${r.key}' already has a KV-sharing declaration`, t.range);
      continue;
    }
    list.push({ kind: 'kv', producers, range: s.range });
    b.stacks.set(r.key, list);
  }
}

/** Most Mixture-of-Recursions recursions a `route` statement may declare (papers use 2 to 4). */
const MAX_RECURSIONS = 65_536;

function resolveRoute(s: Statement, scope: Scope, b: Builder): void {
  const { ctx } = b;
  const call = s.value ? asStatementCall(s.value) : undefined;
  if (call?.name === 'halt') return resolveHalt(s, call, scope, b);
  if (!call || call.name !== 'mor') {
    ctx.sink.error('npas-route', 'routing is `mor(recursions: R)` (Mixture-of-Recursions) or `halt(expected_depth: D)` (per-token halting)', s.value?.range ?? s.range);
    return;
  }
  const args = readStatementArgs(call, [
    { name: 'recursions', type: 'int', required: true, min: 1 },
    { name: 'capacity', type: 'ratio-list', required: false },
    { name: 'router_width', type: 'int', required: false, min: 1 },
  ], 'npas-route', scope, ctx);
  if (!args) return;
  const recursions = args.get('recursions') as number;
  // Refused before the per-recursion capacities are built (a count of 10⁸ would allocate them all).
  if (recursions > MAX_RECURSIONS) {
    ctx.sink.error('npas-eval-too-large', `mor(): at most ${groupDigits(MAX_RECURSIONS)} recursions can be analysed, got ${groupDigits(recursions)}`, call.argsRange);
    return;
  }
  const given = args.get('capacity') as readonly Q.Rational[] | undefined;
  // Default expert-choice capacities (MoR): recursion r keeps (R − r)/R of the tokens.
  const capacities = given ?? Array.from({ length: recursions }, (_, r) => Q.rational(BigInt(recursions - r), BigInt(recursions)));
  if (capacities.length !== recursions || capacities.some((c, i) => Q.compare(c, Q.ZERO) <= 0 || Q.compare(c, Q.ONE) > 0 || (i > 0 && Q.compare(c, capacities[i - 1]!) > 0))) {
    ctx.sink.error('npas-route', `capacity needs ${recursions} non-increasing fractions in (0, 1]`, call.argsRange);
    return;
  }
  for (const t of s.targets) {
    const r = resolvePath(t, b.members, scope, ctx);
    if (!r) continue;
    if (r.node.kind !== 'stack') {
      ctx.sink.error('npas-share-not-stack', `'${r.key}' is not a stack; routing applies to the recursions of a stack`, t.range);
      continue;
    }
    if (r.node.length < recursions) {
      ctx.sink.error('npas-route', `${recursions} recursions need at least ${recursions} instances, '${r.key}' has ${r.node.length}`, t.range);
      continue;
    }
    const width = (args.get('router_width') as number | undefined) ?? firstMatmulInput(r.node);
    if (!width) {
      ctx.sink.error('npas-route', `cannot infer the router width of '${r.key}'; give router_width`, t.range);
      continue;
    }
    const list = b.stacks.get(r.key) ?? [];
    list.push({ kind: 'route', capacities, routerWidth: width, range: s.range });
    b.stacks.set(r.key, list);
  }
}

/** `route STACK: halt(…)`: per-token halting over the stack's steps (sharing/halting.ts). */
function resolveHalt(s: Statement, call: StatementCall, scope: Scope, b: Builder): void {
  const { ctx } = b;
  const args = readStatementArgs(call, HALT_ARGS, 'npas-halt', scope, ctx);
  if (!args) return;
  for (const t of s.targets) {
    const r = resolvePath(t, b.members, scope, ctx);
    if (!r) continue;
    if (r.node.kind !== 'stack') {
      ctx.sink.error('npas-share-not-stack', `'${r.key}' is not a stack; halting applies to the steps of a stack`, t.range);
      continue;
    }
    const steps = (args.get('steps') as number | undefined) ?? r.node.length;
    if (steps > r.node.length || steps > MAX_RECURSIONS) {
      ctx.sink.error('npas-halt', steps > r.node.length ? `${steps} steps need at least ${steps} instances, '${r.key}' has ${r.node.length}` : `halt(): at most ${groupDigits(MAX_RECURSIONS)} steps can be analysed`, t.range);
      continue;
    }
    const reach = haltReach(args, steps);
    if (typeof reach === 'string') {
      ctx.sink.error('npas-halt', reach, call.argsRange);
      return;
    }
    const width = (args.get('width') as number | undefined) ?? firstMatmulInput(r.node);
    if (!width) {
      ctx.sink.error('npas-halt', `cannot infer the halting unit's input width of '${r.key}'; give width`, t.range);
      continue;
    }
    const list = b.stacks.get(r.key) ?? [];
    if (list.some((x) => x.kind === 'route')) {
      ctx.sink.error('npas-halt', `'${r.key}' is already routed; a stack takes one route statement`, t.range);
      continue;
    }
    list.push({ kind: 'route', capacities: reach, routerWidth: width, halting: haltingUnit(args, width, reach), range: s.range });
    b.stacks.set(r.key, list);
  }
}

function firstMatmulInput(node: ModuleNode): number | undefined {
  if (node.kind === 'layer') return node.cost.weights.find((w) => w.matmul)?.matmul?.dIn;
  if (node.kind === 'block') {
    for (const m of node.members) {
      const d = firstMatmulInput(m.node);
      if (d) return d;
    }
    return undefined;
  }
  return node.runs[0] ? firstMatmulInput(node.runs[0].node) : undefined;
}

function resolveHeadShare(s: Statement, scope: Scope, b: Builder): void {
  const { ctx } = b;
  const call = s.value ? asStatementCall(s.value) : undefined;
  if (!call || call.name !== 'pairs') {
    ctx.sink.error('npas-share-strategy', 'head-wise sharing is `pairs(n)` or `pairs(n, qkvo: true)`', s.value?.range ?? s.range);
    return;
  }
  const args = readStatementArgs(call, [
    { name: 'n', type: 'int', required: true, min: 1 },
    { name: 'qkvo', type: 'bool', required: false },
  ], 'npas-share-strategy', scope, ctx);
  if (!args) return;
  const pairs = args.get('n') as number;
  for (const t of s.targets) {
    const r = resolvePath(t, b.members, scope, ctx);
    if (!r) continue;
    const layer = r.node.kind === 'layer' ? r.node : undefined;
    if (!layer || !layer.cost.attention || layer.cost.attention.variant !== 'mha') {
      ctx.sink.error('npas-share-target', `'${r.key}' is not an Attention layer`, t.range);
      continue;
    }
    const instances = r.fanOut ? r.fanOut.stack.length : 1;
    const heads = layer.cost.attention.queryHeads;
    if (pairs > (instances - 1) * heads) {
      ctx.sink.error('npas-share-strategy', `at most ${(instances - 1) * heads} heads can reuse another layer's head here (${instances} layers × ${heads} heads)`, call.argsRange);
      continue;
    }
    const qkvo = (args.get('qkvo') as boolean | undefined) ?? false;
    b.headShares.push({ target: r, pairs, qkvo, savedParams: BigInt(pairs) * perHeadParams(layer, qkvo), range: s.range });
  }
}

/** Params of one head's slices: W_q and W_k rows (and W_v rows and W_o columns with qkvo). */
function perHeadParams(layer: LayerNode, qkvo: boolean): bigint {
  const att = layer.cost.attention!;
  const w = (name: string): readonly number[] | undefined => layer.cost.weights.find((x) => x.name === name)?.shape;
  const q = w('q');
  const k = w('k');
  const v = w('v');
  const o = w('o');
  let total = 0n;
  if (q) total += BigInt(att.scoreDim) * BigInt(q[1] ?? 0);
  if (k) total += BigInt(att.scoreDim) * BigInt(k[1] ?? 0);
  if (qkvo && v) total += BigInt(att.valueDim) * BigInt(v[1] ?? 0);
  if (qkvo && o) total += BigInt(att.valueDim) * BigInt(o[0] ?? 0);
  return total;
}

/**
 * An adapter method and its task count (`tasks: T`, one adapter per task; 1 by default). A model's
 * per-task adapters must agree on T: tasks are one dimension of the model.
 */
function readAdapter(expr: import('../syntax/syntax-tree.js').Expression, scope: Scope, b: Builder): { method: AdapterMethod; tasks: number } | undefined {
  const call = asStatementCall(expr);
  const method = readAdapterMethod(expr, scope, b);
  if (!method || !call) return undefined;
  const tasksArg = call.args.find((a) => a.name?.text === 'tasks');
  const tasks = tasksArg ? (readStatementArgs({ ...call, args: [tasksArg] }, [{ name: 'tasks', type: 'int', required: true, min: 1 }], 'npas-adapter', scope, b.ctx)?.get('tasks') as number | undefined) : 1;
  if (tasks === undefined) return undefined;
  if (tasks > 1) {
    const other = b.modifiers.find((m) => m.effect.kind === 'adapter' && m.effect.tasks > 1 && m.effect.tasks !== tasks);
    if (other && other.effect.kind === 'adapter') {
      b.ctx.sink.error('npas-adapter', `tasks: ${tasks} differs from the ${other.effect.tasks} tasks of another adapter of this model: a model has one number of tasks`, tasksArg!.value.range);
      return undefined;
    }
  }
  return { method, tasks };
}

function readAdapterMethod(expr: import('../syntax/syntax-tree.js').Expression, scope: Scope, b: Builder): AdapterMethod | undefined {
  const { ctx } = b;
  const call = asStatementCall(expr);
  const methods = ['lora', 'tied_lora', 'aslora', 'vblora', 'mos'];
  if (!call || !methods.includes(call.name)) {
    ctx.sink.error('npas-adapter', `expected an adapter: ${methods.map((m) => `${m}(rank: r, …)`).join(', ')}`, expr.range);
    return undefined;
  }
  const base = [
    { name: 'rank', type: 'int' as const, required: true, min: 1 },
    { name: 'merged', type: 'bool' as const, required: false },
    { name: 'targets', type: 'name-list' as const, required: false },
    { name: 'alpha', type: 'ratio' as const, required: false },
    { name: 'tasks', type: 'int' as const, required: false, min: 1 },
  ];
  const extra =
    call.name === 'aslora' ? [{ name: 'groups', type: 'int' as const, required: false, min: 1 }]
    : call.name === 'vblora' ? [
        { name: 'vectors', type: 'int' as const, required: false, min: 1 },
        { name: 'length', type: 'int' as const, required: false, min: 1 },
        { name: 'top_k', type: 'int' as const, required: false, min: 1 },
      ]
    : call.name === 'mos' ? [
        { name: 'shards', type: 'int' as const, required: true, min: 1 },
        { name: 'pool', type: 'int' as const, required: true, min: 1 },
        { name: 'private', type: 'int' as const, required: false, min: 0 },
      ]
    : [];
  const args = readStatementArgs(call, [...base, ...extra], 'npas-adapter', scope, ctx);
  if (!args) return undefined;
  const rank = args.get('rank') as number;
  const merged = (args.get('merged') as boolean | undefined) ?? false;
  switch (call.name) {
    case 'lora':
      return { kind: 'lora', rank, merged };
    case 'tied_lora':
      return { kind: 'tied_lora', rank, merged };
    case 'aslora':
      return { kind: 'aslora', rank, groups: (args.get('groups') as number | undefined) ?? 1, merged };
    case 'vblora': {
      const topK = (args.get('top_k') as number | undefined) ?? 2;
      const vectors = (args.get('vectors') as number | undefined) ?? 256;
      if (topK > vectors) {
        ctx.sink.error('npas-adapter', `vblora: top_k (${topK}) cannot exceed vectors (${vectors})`, call.argsRange);
        return undefined;
      }
      return { kind: 'vblora', rank, vectors, length: (args.get('length') as number | undefined) ?? 256, topK, merged };
    }
    default:
      return { kind: 'mos', rank, shards: args.get('shards') as number, pool: args.get('pool') as number, privateShards: (args.get('private') as number | undefined) ?? 0, merged };
  }
}

/** Adapters need matmul weights; VB-LoRA and MoS also need widths divisible by their unit. */
function checkAdapterTargets(method: AdapterMethod, r: ResolvedPath, range: { start: number; end: number }, b: Builder, targets?: readonly string[]): boolean {
  const widths: number[] = [];
  const visit = (n: ModuleNode): void => {
    if (n.kind === 'layer') {
      for (const w of n.cost.weights) {
        if (w.matmul && (r.weight === undefined ? targets === undefined || targets.includes(w.name) : w.name === r.weight)) widths.push(w.matmul.dIn, w.matmul.dOut);
      }
    } else if (n.kind === 'block') n.members.forEach((m) => visit(m.node));
    else n.runs.forEach((x) => visit(x.node));
  };
  r.nodes.forEach(visit);
  if (widths.length === 0) {
    const named = targets && r.weight === undefined ? ` named ${targets.join(', ')}` : '';
    b.ctx.sink.error('npas-adapter', `'${r.key}' has no matrices${named} to adapt`, range);
    return false;
  }
  const unit = method.kind === 'mos' ? method.shards : undefined;
  if (unit && widths.some((w) => w % unit !== 0)) {
    b.ctx.sink.error('npas-adapter', `mos: every adapted width must be divisible by shards (${unit})`, range);
    return false;
  }
  if (method.kind === 'vblora') {
    // Sub-vectors have length b: r·d_in and r·d_out must split into whole sub-vectors.
    const bad = widths.find((w) => (method.rank * w) % method.length !== 0 && w % method.length !== 0);
    if (bad !== undefined) {
      b.ctx.sink.error('npas-adapter', `vblora: width ${bad} is not divisible by the vector length ${method.length}`, range);
      return false;
    }
  }
  return true;
}
