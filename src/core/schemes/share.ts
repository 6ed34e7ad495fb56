// `share STACK: strategy [relax adapter]`: the N instances of a stack (or a member path inside
// each) map to fewer stores (Universal Transformer, ALBERT, Takase & Kiyono's CYCLE/SEQUENCE,
// Relaxed Recursive Transformers). Resolves to a `share` stack strategy with a closed-form slot
// map (`sharing/slot-map.ts`), which the walk counts per run.

import type { ModuleNode, StackNode } from '../model/module-tree.js';
import type { Scope } from '../semantics/scope.js';
import type { ExpertPool, PatternStep } from '../sharing/declarations.js';
import type { ResolvedPath } from '../sharing/resolve-path.js';
import type { SchemeContext, SchemeMethod, SharingScheme } from '../sharing/scheme.js';
import { eachTarget } from '../sharing/scheme.js';
import { indexableLength } from '../sharing/indexable-stack.js';
import * as S from '../sharing/slot-map.js';
import { asStatementCall, readIntList, readStatementArgs, type StatementCall } from '../sharing/statement-args.js';
import type { Statement, TextRange } from '../syntax/syntax-tree.js';
import { checkAdapterTargets, readAdapter, shapeAdapter, targetWeights } from './adapt.js';

const STRATEGIES = 'none, all, cycle(k), sequence(k), cycle_rev(k) or map([…])';

const stores = (doc: string): SchemeMethod['args'] => [{ name: 'n', type: 'int', required: true, min: 1, doc }];

/** How the N instances of a stack map to stores. */
export const STACK_STRATEGIES: readonly SchemeMethod[] = [
  { name: 'none', call: false, args: [], snippet: 'none', doc: 'Every instance keeps its own weights (σ(i) = i).' },
  { name: 'all', call: false, args: [], snippet: 'all', doc: 'One store for every instance (Universal Transformer, ALBERT).' },
  { name: 'cycle', call: true, positional: true, args: stores('Number of stores M: instance i uses store i mod M.'), snippet: 'cycle(${1:2})', doc: 'CYCLE: σ(i) = i mod M (Takase & Kiyono; Relaxed Recursive Transformers).' },
  { name: 'sequence', call: true, positional: true, args: stores('Number of stores M: instance i uses store ⌊i·M/N⌋.'), snippet: 'sequence(${1:2})', doc: 'SEQUENCE: consecutive instances share, σ(i) = ⌊i·M/N⌋.' },
  { name: 'cycle_rev', call: true, positional: true, args: stores('Number of stores M.'), snippet: 'cycle_rev(${1:2})', doc: 'CYCLE (REV): cycle, with the last cycle run backwards.' },
  { name: 'map', call: true, positional: true, args: [{ name: 'map', type: 'int-list', required: true, doc: 'One store index per instance.' }], snippet: 'map([${1:0, 0, 1, 1}])', doc: 'An explicit store index per instance: map([s0, s1, …]).' },
];

export const shareScheme: SharingScheme = {
  keyword: 'share',
  snippet: 'share ${1:body}: ${2:cycle(2)}',
  summary: 'Ties the instances of a stack (or sub-paths) to fewer stores.',
  hover: '`share STACK: strategy [relax adapter]` ties stack instances to stores; `share kv` shares KV producers; `share heads` shares head slices; `share experts` pools MoE experts across layers.',
  methods: STACK_STRATEGIES,
  order: 0,
  keepsStores: false,
  resolve: (s, scope, model) => resolveStackShare(s, scope, model, undefined),
};

/**
 * A part of each instance that a share strategy maps to stores instead of the whole sub-path
 * (`share experts`: the routed expert bank of an MoE layer). `poolOf` reads it from the stack
 * (undefined after a located error); `sameShapes` checks the instances one store joins.
 */
export interface SharedPart {
  /** Why `relax` cannot apply (it adapts whole instances). */
  readonly noRelax: string;
  poolOf(stack: StackNode, sub: readonly string[], key: string, range: TextRange, model: SchemeContext): ExpertPool | undefined;
  sameShapes(stack: StackNode, sub: readonly string[], pool: ExpertPool, slots: S.SlotMap, range: TextRange, model: SchemeContext): boolean;
}

/** `share STACK: strategy [relax adapter]`, or the same over a part of each instance. */
export function resolveStackShare(s: Statement, scope: Scope, model: SchemeContext, part: SharedPart | undefined): void {
  const { ctx } = model;
  const call = s.value ? asStatementCall(s.value) : undefined;
  if (!call) {
    ctx.sink.error('npas-share-strategy', `expected a strategy: ${STRATEGIES}`, s.value?.range ?? s.range);
    return;
  }
  if (part && s.relax) {
    ctx.sink.error('npas-share-experts', part.noRelax, s.relax.range);
    return;
  }
  const relaxed = s.relax ? readAdapter(s.relax, scope, model) : undefined;
  const relax = relaxed?.method;
  if (s.relax && !relax) return;
  const relaxTargets = targetWeights(s.relax);
  const relaxing: { readonly r: ResolvedPath; readonly range: TextRange }[] = [];
  eachTarget(s, scope, model, (r, range) => {
    const target = shareTarget(r, range, model);
    if (!target) return;
    const pool = part?.poolOf(target.stack, target.sub, r.key, range, model);
    if (part && !pool) return;
    const length = indexableLength(target.stack, range, ctx);
    if (length === undefined) return;
    const slots = readSlotMap(call, length, scope, model);
    if (!slots) return 'stop';
    if (part && pool ? !part.sameShapes(target.stack, target.sub, pool, slots, range, model) : !checkTiedShapes(target.stack, target.sub, slots, range, model)) return;
    const clash = model.strategiesOf(target.key).find((x) => x.kind === 'share' && (isPrefix(x.sub, target.sub) || isPrefix(target.sub, x.sub)));
    if (clash) {
      ctx.sink.error('npas-share-overlap', `'${r.key}' is already shared by another declaration`, range);
      return;
    }
    model.addStrategy(target, { kind: 'share', slots, sub: target.sub, ...(pool ? { pool } : {}), range: s.range });
    if (relax && checkAdapterTargets(relax, r, range, ctx, relaxTargets)) relaxing.push({ r, range });
    return undefined;
  });
  // A hypernetwork is sized by every path it adapts (its layer and block embeddings), so the
  // relaxing adapters are added once the paths have resolved.
  const shaped = relax && relaxing.length > 0 ? shapeAdapter(relax, relaxing, relaxTargets, ctx) : undefined;
  for (const { r } of shaped ? relaxing : []) {
    model.addModifier({ pattern: r.pattern, effect: { kind: 'adapter', method: shaped!, weights: relaxTargets, relax: true, tasks: relaxed!.tasks, ...(relaxed!.owners ? { owners: relaxed!.owners } : {}) }, range: s.relax!.range });
  }
}

/** The stack a share statement applies to, and the member path inside each instance. */
function shareTarget(r: ResolvedPath, range: TextRange, model: SchemeContext): { stack: StackNode; key: string; pattern: readonly PatternStep[]; sub: string[] } | undefined {
  const { ctx } = model;
  if (r.node.kind === 'stack' && (!r.fanOut || r.fanOut.sub.length === 0 || r.key !== r.fanOut.key)) {
    if (!r.fanOut || r.fanOut.stack !== r.node) return { stack: r.node, key: r.key, pattern: r.pattern, sub: [] };
  }
  if (r.fanOut && r.weight === undefined) {
    const names: string[] = [];
    for (const step of r.fanOut.sub) {
      if (step.kind === 'index') {
        ctx.sink.error('npas-share-target', 'a shared sub-path cannot index a nested stack', range);
        return undefined;
      }
      names.push(step.name);
    }
    return { stack: r.fanOut.stack, key: r.fanOut.key, pattern: r.fanOut.stackPattern, sub: names };
  }
  if (r.weight !== undefined) {
    ctx.sink.error('npas-share-target', 'share a module (a layer or block member), not a single weight', range);
    return undefined;
  }
  ctx.sink.error('npas-share-not-stack', `'${r.key}' is not a repeated stack or a member of one; strategies tie the instances of a stack`, range);
  return undefined;
}

export function subNode(node: ModuleNode, sub: readonly string[]): ModuleNode | undefined {
  let n: ModuleNode | undefined = node;
  for (const name of sub) n = n?.kind === 'block' ? n.members.find((m) => m.name === name)?.node : undefined;
  return n;
}

/** The strategy's slot map for a stack of `n` instances; undefined after a located error. */
export function readSlotMap(call: StatementCall, n: number, scope: Scope, model: SchemeContext): S.SlotMap | undefined {
  const { ctx } = model;
  const method = STACK_STRATEGIES.find((m) => m.name === call.name);
  const stores = (): number | undefined => {
    const args = readStatementArgs(call, method!.args, 'npas-share-strategy', scope, ctx);
    const m = args?.get('n') as number | undefined;
    if (m !== undefined && m > n) {
      ctx.sink.error('npas-share-strategy', `${call.name}(${m}) needs at least ${m} instances, the stack has ${n}`, call.argsRange);
      return undefined;
    }
    return m;
  };
  switch (method?.name) {
    case 'none':
      return S.noneMap(n);
    case 'all':
      return S.allMap();
    case 'cycle': {
      const m = stores();
      return m === undefined ? undefined : S.cycleMap(m);
    }
    case 'sequence': {
      const m = stores();
      return m === undefined ? undefined : S.sequenceMap(m, n);
    }
    case 'cycle_rev': {
      const m = stores();
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
      ctx.sink.error('npas-share-strategy', `unknown strategy '${call.name}' (use ${STRATEGIES})`, call.nameRange);
      return undefined;
  }
}

const isPrefix = (a: readonly string[], b: readonly string[]): boolean => a.length <= b.length && a.every((x, i) => x === b[i]);

/** Instances mapped to one store must have identical weights under the shared sub-path. */
function checkTiedShapes(stack: StackNode, sub: readonly string[], slots: S.SlotMap, range: TextRange, model: SchemeContext): boolean {
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
        model.ctx.sink.error('npas-share-shape', `instance ${i} has different weight shapes from the other instances tied to store ${slot}`, range);
        return false;
      }
    }
  }
  return true;
}
