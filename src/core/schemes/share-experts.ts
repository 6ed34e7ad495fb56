// `share experts STACK.moe: strategy`: the routed experts of the MoE layers at the sub-path map
// to fewer expert pools by the stack strategies of `share` (Megrez2, ReXMoE, shared-expert
// Conformers), while each layer keeps its router, norms and shared experts. Resolves to a `share`
// stack strategy carrying its `ExpertPool`.

import { routedSelection } from '../layers/weight-specs.js';
import type { ExpertPool } from '../sharing/declarations.js';
import type { SchemeContext, SharingScheme } from '../sharing/scheme.js';
import type { SlotMap } from '../sharing/slot-map.js';
import type { StackNode } from '../model/module-tree.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import { STACK_STRATEGIES, resolveStackShare, subNode, type SharedPart } from './share.js';

export const shareExpertsScheme: SharingScheme = {
  keyword: 'share',
  modifier: 'experts',
  snippet: 'share experts ${1:body.moe}: ${2:sequence(2)}',
  summary: 'Pools the routed experts of MoE layers across layers (each keeps its router and norms).',
  methods: STACK_STRATEGIES,
  order: 1,
  keepsStores: false,
  resolve: (s, scope, model) => resolveStackShare(s, scope, model, EXPERT_POOLS),
};

const EXPERT_POOLS: SharedPart = {
  noRelax: '`relax` is not available on an expert pool: adapt the experts with `adapt` instead',
  poolOf: expertPoolOf,
  sameShapes: checkPoolShapes,
};

/**
 * The routed expert bank of the MoE layer every instance of `stack` has at `sub`: its weights and
 * routing. Reports `npas-share-experts` when the sub-path is not such a layer in every run, or
 * when the runs route differently (one pool needs one E, k, iteration count and router load).
 */
function expertPoolOf(stack: StackNode, sub: readonly string[], key: string, range: TextRange, model: SchemeContext): ExpertPool | undefined {
  const { ctx } = model;
  if (sub.length === 0) {
    ctx.sink.error('npas-share-experts', `'${key}' names whole instances: \`share experts\` pools the routed experts of an MoE layer inside them (\`share experts ${key}.moe: …\`)`, range);
    return undefined;
  }
  let pool: ExpertPool | undefined;
  for (const run of stack.runs) {
    const node = subNode(run.node, sub);
    const bank = node?.kind === 'layer' ? node.cost.weights.filter((w) => routedSelection(w) !== undefined) : [];
    const selection = bank[0] ? routedSelection(bank[0]) : undefined;
    if (!node || node.kind !== 'layer' || !selection || bank.some((w) => w.copies !== bank[0]!.copies)) {
      ctx.sink.error('npas-share-experts', `'${key}' is not a layer with routed experts in every instance: \`share experts\` pools the experts of MoE layers`, range);
      return undefined;
    }
    const here: ExpertPool = { weights: bank.map((w) => w.name), experts: bank[0]!.copies, topK: selection.topK, draws: selection.draws, ...(selection.load ? { load: selection.load } : {}) };
    if (pool && (pool.experts !== here.experts || pool.topK !== here.topK || pool.draws !== here.draws || !sameLoad(pool, here) || pool.weights.join() !== here.weights.join())) {
      ctx.sink.error('npas-share-experts', `the instances of '${key}' route differently (${routingText(pool)} against ${routingText(here)}): one pool needs one routing`, range);
      return undefined;
    }
    pool = here;
  }
  return pool;
}

/** A bank's routing in words, for the message that two instances differ. */
function routingText(p: ExpertPool): string {
  const load = p.load ? `, ${p.load.hot} hot taking ${p.load.share.num}/${p.load.share.den}` : '';
  return `${p.experts} experts, top-${p.topK}${p.draws > 1 ? ` × ${p.draws}` : ''}${load}`;
}

/** Whether two banks' routers load their experts alike (uniform, or the same hot experts and share). */
function sameLoad(a: ExpertPool, b: ExpertPool): boolean {
  if (!a.load || !b.load) return !a.load && !b.load;
  return a.load.hot === b.load.hot && a.load.share.num * b.load.share.den === b.load.share.num * a.load.share.den;
}

/** Instances mapped to one pool must have identical expert weights (shapes, biases). */
function checkPoolShapes(stack: StackNode, sub: readonly string[], pool: ExpertPool, slots: SlotMap, range: TextRange, model: SchemeContext): boolean {
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
        model.ctx.sink.error('npas-share-shape', `instance ${i} has experts of other shapes than the other instances of pool ${slot}`, range);
        return false;
      }
    }
  }
  return true;
}
