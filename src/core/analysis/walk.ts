// Walks a model's module tree once, applying sharing declarations, and returns exact totals
// and the per-node report. Results are memoised per (node, location, modifiers), and stacks
// are processed per run of identical instances with closed-form strategy counts, so a
// 10,000-instance `Decoder * 10000` costs what one instance costs.

import type { ModelMember, ModuleNode, StackNode } from '../model/module-tree.js';
import * as Q from '../numbers/rational.js';
import type { HaltingUnit, Modifier, ResolvedSharing, StackShare, StackStrategy } from '../sharing/declarations.js';
import type { KvProducerMap, SlotMap as StackShareSlots } from '../sharing/slot-map.js';
import { instancesNamedByStrategies, matchStep, memberTie, pathText, shareCovers, strategiesAt, tiedWeight, type PathStep } from '../sharing/store-resolver.js';
import { factorStoreAt, instancesNamedThroughTies, tieAllOwnerSteps, type TiedFactorStore } from '../sharing/tied-factors.js';
import type { WeightSpec } from '../layers/layer-kind.js';
import { cachedLayers, extendedCaches, withExtendedCaches, type CachedLayer } from './kv-reach.js';
import { layerTotals } from './layer-totals.js';
import type { NodeReport } from './report-types.js';
import { borrowKv, foldBuilds, repeatTotals, sumTotals, withBankStores, type PoolUse, type Totals } from './totals.js';
import { CancellationPoll } from '../semantics/cancellation.js';
import { LIMITS } from '../semantics/evaluator.js';
import type { DType } from './report-types.js';

export interface WalkResult {
  readonly totals: Totals;
  readonly report: NodeReport;
}

/** Thrown out of a walk whose work the budget refused (the refusal is reported by `spend`). */
export class WalkBudgetSpent extends Error {
  constructor() {
    super('the work budget is spent');
    this.name = 'WalkBudgetSpent';
  }
}

interface Pending {
  readonly mod: Modifier;
  /** Steps of the pattern already matched. */
  readonly pos: number;
}

/**
 * Instances [start, end) of a stack. Bigints: a plain stack is walked per run at any length; a
 * stack a strategy indexes holds at most 2⁵³ − 1 instances (sharing/indexable-stack.ts), so
 * `applyStrategies` may read its pieces' bounds as numbers.
 */
interface Piece {
  readonly start: bigint;
  readonly end: bigint;
  readonly node: ModuleNode;
  /** Set when this piece is one instance isolated because a declaration names its index. */
  readonly isolated: boolean;
}

/** Each declaration as pending at its second step, grouped by the member name its path starts with. */
function modifiersByFirstName(modifiers: readonly Modifier[]): ReadonlyMap<string, readonly Pending[]> {
  const out = new Map<string, Pending[]>();
  for (const mod of modifiers) {
    const first = mod.pattern[0];
    if (!first || first.kind !== 'name') continue;
    const list = out.get(first.name);
    if (list) list.push({ mod, pos: 1 });
    else out.set(first.name, [{ mod, pos: 1 }]);
  }
  return out;
}

export class ModelWalker {
  private readonly memo = new Map<string, WalkResult>();
  private readonly baseFrozen: boolean;
  /** Every path prefix of a stack strategy's key: below other paths, results do not depend on the path. */
  private readonly strategyPrefixes = new Set<string>();
  /** The instances strategies' own paths name, by stack key (`share body[2].layers`: 2 of `body`), each walked on its own. */
  private readonly strategyInstances: ReadonlyMap<string, ReadonlySet<number>>;
  /** With factorisations, the instances of `tie a = b` readers whose owner instance a declaration names (tied-factors.ts), each walked on its own. */
  private readonly tiedInstances: ReadonlyMap<string, ReadonlySet<number>>;
  /** Whether any `factorize` statement exists: only then does a tied weight's store decide how it runs (tied-factors.ts). */
  private readonly factorized: boolean;
  /** Each instance node's cached self-attention layers by path (kv-reach.ts), per node id. */
  private readonly cachedLayerMemo = new Map<number, ReadonlyMap<string, CachedLayer>>();
  /**
   * The step standing for each run of stack instances walked once (`${stack key}|${first index}`):
   * the run's first instance, one object per run, so that a W built per instance of the run is
   * recognised by it (`foldBuilds`) however often the run is walked.
   */
  private readonly runSteps = new Map<string, PathStep>();
  /**
   * The declarations reaching each top-level member, in declaration order, built on first use:
   * scanning every declaration for every member was quadratic (8,000 ties took minutes).
   */
  private modifiersByMember: ReadonlyMap<string, readonly Pending[]> | undefined;

  constructor(
    private readonly sharing: ResolvedSharing,
    /** Asked once per node walked, so a superseded compilation stops mid-walk (cancellation.ts). */
    private readonly cancellation: CancellationPoll = new CancellationPoll(undefined),
    /**
     * Charges the analysis's work budget (`EvalContext.spend`); false once it is spent, and the
     * walk then throws `WalkBudgetSpent`. Charged per stack instance a declaration isolates.
     */
    private readonly spend: (steps: number) => boolean = () => true,
    /** Count only the weights a `precision weights` override stores in this dtype (weight-dtypes.ts). */
    private readonly view?: DType,
    /** The model's members, to find the owner of a tied weight's factorised store. */
    private readonly members: readonly ModelMember[] = [],
  ) {
    this.factorized = sharing.modifiers.some((m) => m.effect.kind === 'factorize');
    this.baseFrozen = sharing.hasAdapters;
    this.strategyInstances = instancesNamedByStrategies(sharing);
    this.tiedInstances = this.factorized ? instancesNamedThroughTies(sharing) : new Map();
    for (const key of sharing.stacks.keys()) {
      for (let i = 1; i <= key.length; i++) if (i === key.length || key[i] === '.' || key[i] === '[') this.strategyPrefixes.add(key.slice(0, i));
    }
  }

  /**
   * The factorised store a tied weight `w` of the layer at `steps` reads (tied-factors.ts), found
   * through the tie reaching it: `tie a = b` maps the path below a into b; a `tied` main weight
   * (a top-level member's, or a block member's tied to a sibling) reads what the store
   * resolver's `tiedWeight` answers.
   */
  private tiedStore(steps: readonly PathStep[], node: ModuleNode, all: readonly Modifier[], w: WeightSpec): TiedFactorStore | undefined {
    const model = { members: this.members, sharing: this.sharing };
    for (const m of all) {
      const e = m.effect;
      if (e.kind === 'tie-all') {
        const owner = tieAllOwnerSteps(model, m, steps);
        return owner ? factorStoreAt(model, owner, w.name) : undefined;
      }
      if (e.kind === 'tie-main' && node.kind === 'layer') {
        const read = tiedWeight(model, steps, node, w);
        if (read) return read.fansOut ? undefined : factorStoreAt(model, read.steps, read.weight);
      }
    }
    return undefined;
  }

  /** The step standing for the run of instances of the stack at `key` that starts at `start` (`runSteps`). */
  private runStep(key: string, start: bigint): PathStep {
    const id = `${key}|${start}`;
    let step = this.runSteps.get(id);
    if (!step) {
      step = { kind: 'index', index: Number(start) };
      this.runSteps.set(id, step);
    }
    return step;
  }

  walkMember(member: ModelMember): WalkResult {
    const pending = (this.modifiersByMember ??= modifiersByFirstName(this.sharing.modifiers)).get(member.name) ?? [];
    return this.walk(member.node, member.name, [{ kind: 'name', name: member.name }], member.name, member.name, pending, []);
  }

  /**
   * `key` is the path with the indices of the instances walked on their own (`body[2].layers`),
   * `steps` the same path as the store resolver's steps (carried down, never read back from
   * `key`), `nameKey` the path without indices (`body.layers`): a stack's strategies are looked
   * up by both keys (`strategiesAt`), as the store resolver looks them up for one instance.
   */
  private walk(node: ModuleNode, key: string, steps: readonly PathStep[], nameKey: string, name: string, pendingIn: readonly Pending[], activeIn: readonly Modifier[]): WalkResult {
    const active = [...activeIn];
    const pending: Pending[] = [];
    for (const p of pendingIn) (p.pos >= p.mod.pattern.length ? active.push(p.mod) : pending.push(p));
    // Subtrees that no pending declaration or stack strategy reaches do not depend on where
    // they sit: memoise them by structure alone, so a written-out 10,000-layer spec walks each
    // distinct block once.
    // A tied weight's factorised store depends on where the reader is (its owner's path), so a
    // subtree under a tie is memoised by its path when factorisations exist.
    const tiedHere = this.factorized && active.some((m) => m.effect.kind === 'tie-all' || m.effect.kind === 'tie-main');
    const pathFree = pending.length === 0 && !tiedHere && !this.strategyPrefixes.has(key) && !this.strategyPrefixes.has(nameKey);
    const activeKey = active.map((m) => m.id).join(',');
    // With factorisations, the steps (which run of instances a position stands for) decide the
    // store a tied weight below reads, and which run a W built for it belongs to.
    const at = this.factorized && !pathFree ? pathText(steps) : key;
    const memoKey = pathFree ? `${node.id}|*|${activeKey}` : `${node.id}|${at}|${name}|${activeKey}|${pending.map((p) => `${p.mod.id}:${p.pos}`).join(',')}`;
    const hit = this.memo.get(memoKey);
    if (hit) return hit.report.name === name ? hit : { totals: hit.totals, report: { ...hit.report, name } };
    this.cancellation.poll();
    let result: WalkResult;
    switch (node.kind) {
      case 'layer': {
        const weightMods = new Map<string, Modifier[]>();
        for (const p of pending) {
          const step = p.mod.pattern[p.pos];
          if (step?.kind === 'name' && p.pos === p.mod.pattern.length - 1) {
            const list = weightMods.get(step.name) ?? [];
            list.push(p.mod);
            weightMods.set(step.name, list);
          }
        }
        const tied = tiedHere ? (w: WeightSpec, all: readonly Modifier[]) => this.tiedStore(steps, node, all, w) : undefined;
        result = layerTotals(node, name, active, weightMods, this.baseFrozen, this.view, tied);
        break;
      }
      case 'block': {
        const parts: Totals[] = [];
        const children: NodeReport[] = [];
        for (const m of node.members) {
          const step = { kind: 'name', name: m.name } as const;
          const childPending: Pending[] = [];
          for (const p of pending) if (matchStep(p.mod.pattern[p.pos], step) === 'advance') childPending.push({ mod: p.mod, pos: p.pos + 1 });
          // A member tied to a sibling holds the resolver's tie over it, as a statement's modifier.
          const tie = memberTie(m);
          const childActive = tie ? [...active, tie] : active;
          const child = this.walk(m.node, `${key}.${m.name}`, [...steps, step], `${nameKey}.${m.name}`, m.name, childPending, childActive);
          parts.push(child.totals);
          children.push({ ...child.report, range: m.range });
        }
        const totals = sumTotals(parts);
        result = { totals, report: reportOf(name, 'block', node.blockName, 1n, 0n, totals, node.range, children) };
        break;
      }
      case 'stack':
        result = this.walkStack(node, key, steps, nameKey, name, pending, active);
        break;
    }
    this.memo.set(memoKey, result);
    return result;
  }

  private walkStack(node: StackNode, key: string, steps: readonly PathStep[], nameKey: string, name: string, pending: readonly Pending[], active: readonly Modifier[]): WalkResult {
    const strategies = strategiesAt(this.sharing, key, nameKey);
    // The declarations that reach every instance (a name step: `matchStep` says `every` for any
    // index), and those naming one index, by index: each piece then takes its own in O(its own),
    // so a stack with k isolated instances (a variant chain freezing body[0], body[1], …) costs
    // O(k), not O(k²).
    // Both keep the declarations' order (`order`: the position in `pending`), which later ones rely on.
    const forEvery: { order: number; p: Pending }[] = [];
    const byIndex = new Map<number, { order: number; p: Pending }[]>();
    pending.forEach((p, order) => {
      const step = p.mod.pattern[p.pos];
      if (step?.kind === 'name') forEvery.push({ order, p });
      else if (step?.kind === 'index') {
        const entry = { order, p: { mod: p.mod, pos: p.pos + 1 } };
        const own = byIndex.get(step.index);
        if (own) own.push(entry);
        else byIndex.set(step.index, [entry]);
      }
    });
    const everyPending = forEvery.map((e) => e.p);
    // Instances a declaration or a strategy's own path names are walked on their own.
    const isolated = new Set<bigint>([...byIndex.keys()].map(BigInt));
    for (const i of this.strategyInstances.get(key) ?? []) isolated.add(BigInt(i));
    for (const i of this.tiedInstances.get(key) ?? []) if (BigInt(i) < node.length) isolated.add(BigInt(i));
    // Each isolated instance is walked on its own: a variant chain freezing body[0], body[1], …
    // walks k instances in its k-th variant, Θ(N²) reports in all, so they spend from the budget.
    if (!this.spend(isolated.size * LIMITS.isolatedInstanceSteps)) throw new WalkBudgetSpent();
    const parts: Totals[] = [];
    const children: NodeReport[] = [];
    // Without strategies or isolated indices, a piece's totals depend only on its node and
    // length: compute each distinct (node, length) once, and sum per distinct node at the end,
    // so an index-dependent stack of 10,000 alternating instances costs two walks, not 10,000.
    const uniform = strategies.length === 0 && isolated.size === 0;
    const pieceMemo = new Map<string, { totals: Totals; report: NodeReport }>();
    const perNode = new Map<number, { inst: Totals; count: bigint }>();
    for (const piece of pieces(node, isolated)) {
      this.cancellation.poll();
      const count = piece.end - piece.start;
      const memoKey = `${piece.node.id}x${count}`;
      const known = uniform ? pieceMemo.get(memoKey) : undefined;
      let pieceTotals: Totals;
      let instReport: NodeReport;
      if (known) {
        pieceTotals = known.totals;
        instReport = known.report;
      } else {
        const own = piece.isolated ? byIndex.get(Number(piece.start)) : undefined;
        const instPending: readonly Pending[] = own ? mergeByOrder(forEvery, own) : everyPending;
        const instKey = piece.isolated ? `${key}[${piece.start}]` : key;
        // A run of identical instances is walked once, through its first instance: its steps name
        // that instance (a tie's store is looked up there), with a step of its own for the run.
        const instSteps: readonly PathStep[] = [...steps, piece.isolated ? { kind: 'index', index: Number(piece.start) } : this.runStep(key, piece.start)];
        const instName = nodeLabel(piece.node);
        const walked = this.walk(piece.node, instKey, instSteps, nameKey, instName, instPending, active);
        // A W built for readers of an owner inside the instance is one per instance of the run.
        const inst = piece.isolated ? walked : { ...walked, totals: foldBuilds(walked.totals, instSteps[instSteps.length - 1]!) };
        pieceTotals = this.applyStrategies(node, piece, inst.totals, strategies, instKey, instSteps, nameKey, instName, instPending, active);
        instReport = reportOf(instName, inst.report.kind, inst.report.type, count, 0n, pieceTotals, piece.node.range, inst.report.children);
        if (uniform) pieceMemo.set(memoKey, { totals: pieceTotals, report: instReport });
        if (uniform) {
          const prev = perNode.get(piece.node.id);
          if (!prev) perNode.set(piece.node.id, { inst: inst.totals, count: 0n });
        }
      }
      if (uniform) perNode.get(piece.node.id)!.count += count;
      else parts.push(pieceTotals);
      const label = count === 1n ? `${nodeLabel(piece.node)}[${piece.start}]` : `${nodeLabel(piece.node)}[${piece.start}..${piece.end - 1n}]`;
      children.push({ ...instReport, name: label, firstIndex: piece.start });
    }
    if (uniform) {
      for (const { inst, count: n } of perNode.values()) {
        parts.push({ ...repeatTotals(inst, n, n), perInstanceStored: inst.perInstanceStored * n, perInstanceTrainable: inst.perInstanceTrainable * n });
      }
    }
    const caches = this.reachOfSharedCaches(node, sumTotals(parts), strategies);
    // Recursion routers and halting units are the model's own weights, in the weights' class: no dtype view holds them.
    const routed = this.view === undefined ? addRouters(caches, strategies) : caches;
    const totals = this.addPools(routed, node, key, steps, nameKey, pending, active, strategies);
    return { totals, report: reportOf(name, 'stack', `stack of ${node.length}`, node.length, 0n, totals, node.range, children) };
  }

  /** A producer whose KV a further-reaching layer borrows caches that reach (kv-reach.ts). */
  private reachOfSharedCaches(stack: StackNode, totals: Totals, strategies: readonly StackStrategy[]): Totals {
    const kv = strategies.find((s) => s.kind === 'kv');
    if (!kv || kv.kind !== 'kv') return totals;
    const route = strategies.find((s) => s.kind === 'route');
    const layersOf = (n: ModuleNode): ReadonlyMap<string, CachedLayer> => {
      let known = this.cachedLayerMemo.get(n.id);
      if (!known) this.cachedLayerMemo.set(n.id, (known = cachedLayers(n)));
      return known;
    };
    const capacityOf = (i: number): Q.Rational => recursionRanges(BigInt(i), BigInt(i + 1), stack.length, route)[0]?.[2] ?? Q.ONE;
    return withExtendedCaches(totals, extendedCaches(stack, kv.producers, layersOf, capacityOf));
  }

  /**
   * Records the expert pools (`share experts`) of this stack: how many layers read each pool and
   * one copy's params, for the batch's distinct experts read per pool (model-metrics.ts). The
   * per-layer reads stay in `banks`; a pool adds the union across the layers that share it.
   */
  private addPools(totals: Totals, stack: StackNode, key: string, steps: readonly PathStep[], nameKey: string, pending: readonly Pending[], active: readonly Modifier[], strategies: readonly StackStrategy[]): Totals {
    const pools: PoolUse[] = [];
    for (const share of strategies) {
      if (share.kind !== 'share' || !share.pool) continue;
      const first = stack.runs[0];
      if (!first) continue;
      const instPending = pending.filter((p) => p.mod.pattern[p.pos]?.kind === 'name');
      const layer = this.descend(first.node, key, steps, nameKey, nodeLabel(first.node), instPending, active, share.sub).totals;
      let paramsPerCopy = Q.ZERO;
      for (const bank of layer.banks.values()) paramsPerCopy = Q.add(paramsPerCopy, bank.paramsPerCopy);
      const { experts, topK, draws, load } = share.pool;
      pools.push({ stack: key, copies: experts, active: topK, draws, ...(load ? { load } : {}), paramsPerCopy, uses: share.slots.usesOf(Number(stack.length)).map(([layers, count]) => [layers, BigInt(count)] as const) });
    }
    return pools.length === 0 ? totals : { ...totals, pools: [...totals.pools, ...pools] };
  }

  /** Totals of `count` instances [start, end) under the stack's strategies. */
  private applyStrategies(
    stack: StackNode,
    piece: Piece,
    inst: Totals,
    strategies: readonly StackStrategy[],
    instKey: string,
    instSteps: readonly PathStep[],
    nameKey: string,
    instName: string,
    instPending: readonly Pending[],
    active: readonly Modifier[],
  ): Totals {
    const count = piece.end - piece.start;
    // Strategies index instances as numbers: they only exist on stacks below 2⁵³ (indexable-stack.ts).
    const [start, end] = [Number(piece.start), Number(piece.end)];
    const kv = strategies.find((s) => s.kind === 'kv');
    const route = strategies.find((s) => s.kind === 'route');
    const shares = strategies.filter((s) => s.kind === 'share');

    // Per-token quantities: split by recursion (capacity) and by KV producers vs borrowers.
    const parts: Totals[] = [];
    for (const [s, e, capacity] of recursionRanges(piece.start, piece.end, stack.length, route)) {
      const producers = kv ? BigInt(kv.producers.producersIn(Number(s), Number(e))) : e - s;
      const borrowers = e - s - producers;
      if (producers > 0n) parts.push(repeatTotals(inst, producers, 0n, capacity));
      if (borrowers > 0n) parts.push(repeatTotals(borrowKv(inst), borrowers, 0n, capacity));
    }
    const totals = sumTotals(parts);

    // Stored: shared sub-paths are counted by their first users, the rest per instance.
    let stored = inst.stored * count;
    let routedStored = inst.routedStored * count;
    let trainable = inst.trainable * count;
    let perInstanceStored = inst.perInstanceStored * count;
    let perInstanceTrainable = inst.perInstanceTrainable * count;
    let storeGeneration = 0n;
    // The routed banks' stored matrices, per bank key, under the same attribution as `stored`.
    const bankStores = new Map<string, bigint>();
    const addBankStores = (banks: Totals['banks'], times: bigint): void => {
      for (const [k, b] of banks) bankStores.set(k, (bankStores.get(k) ?? 0n) + b.storedMatrix * times);
    };
    addBankStores(inst.banks, count);
    /** K/V projection params inside each shared sub-path (the whole instance for `share STACK`). */
    const sharedKv: { slots: StackShareSlots; params: bigint }[] = [];
    for (const share of shares) {
      const firsts = BigInt(share.slots.firstsIn(start, end));
      if (share.pool) {
        // An expert pool: only the routed bank's weights are one store per pool.
        const layer = this.descend(piece.node, instKey, instSteps, nameKey, instName, instPending, active, share.sub);
        const pooled = pooledParams(layer.report, share);
        stored += (firsts - count) * pooled.stored;
        trainable += (firsts - count) * pooled.trainable;
        // Its matrices are the routed part, in the experts' dtype: one store per pool too.
        routedStored += (firsts - count) * layer.totals.routedStored;
        addBankStores(layer.totals.banks, firsts - count);
        continue;
      }
      const sub = share.sub.length === 0 ? inst : this.descend(piece.node, instKey, instSteps, nameKey, instName, instPending, active, share.sub).totals;
      stored += (firsts - count) * (sub.stored - sub.perInstanceStored);
      // A factorised store's W is formed once per step for all the instances reading it.
      storeGeneration += (firsts - count) * sub.storeGenerationMacs;
      routedStored += (firsts - count) * sub.routedStored;
      addBankStores(sub.banks, firsts - count);
      trainable += (firsts - count) * (sub.trainable - sub.perInstanceTrainable);
      if (sub.selfKv.stored > 0n) sharedKv.push({ slots: share.slots, params: sub.selfKv.stored });
    }
    if (kv && kv.keepsWeights !== true) {
      const borrowers = count - BigInt(kv.producers.producersIn(start, end));
      // A borrower's own (unshared) K/V projections are not stored.
      let ownKv = inst.selfKv.stored;
      for (const s of sharedKv) ownKv -= s.params;
      if (ownKv > 0n) {
        stored -= borrowers * ownKv;
        trainable -= inst.trainable > 0n ? borrowers * ownKv : 0n;
      }
      // Adapters on a borrower's K/V projections are never read: not stored either.
      stored -= borrowers * inst.selfKv.perInstanceStored;
      trainable -= borrowers * inst.selfKv.perInstanceTrainable;
      perInstanceStored -= borrowers * inst.selfKv.perInstanceStored;
      perInstanceTrainable -= borrowers * inst.selfKv.perInstanceTrainable;
      // K/V projections in a shared store stay stored while any producing instance uses the
      // store (tied recursion, or a shared sub-path such as `share body.attn: all`); only stores
      // that no producer uses drop them. Attributed to the first piece, so counted once.
      if (kv.producers.label !== 'tied' && start === 0) {
        for (const s of sharedKv) {
          const unused = BigInt(this.slotsWithoutProducer(stack, s.slots, kv.producers));
          stored -= unused * s.params;
          trainable -= inst.trainable > 0n ? unused * s.params : 0n;
        }
      }
    }
    return {
      ...totals,
      stored,
      routedStored,
      trainable,
      perInstanceStored,
      perInstanceTrainable,
      generationMacs: totals.generationMacs + storeGeneration,
      storeGenerationMacs: totals.storeGenerationMacs + storeGeneration,
      banks: withBankStores(totals.banks, bankStores),
    };
  }

  /**
   * Slots of a weight-shared stack that no KV-producing instance uses. When both strategies
   * are periodic, one common period shows every (slot, producer) pair, so the scan stops there
   * (`cycle(2)` with `every(2)` over 10⁹ instances looks at 2); otherwise it is O(N), rare.
   */
  private slotsWithoutProducer(stack: StackNode, slots: StackShareSlots, producers: KvProducerMap): number {
    const produced = new Set<number>();
    const period = slots.period !== undefined && producers.period !== undefined ? lcm(slots.period, producers.period) : Infinity;
    const scan = Math.min(Number(stack.length), period);
    for (let i = 0; i < scan && produced.size < slots.slots; i++) if (producers.producerOf(i) === i) produced.add(slots.slotOf(i));
    return slots.slots - produced.size;
  }

  /** Walks down member names from an instance, with the same pending/active logic as `walk`. */
  private descend(node: ModuleNode, key: string, steps: readonly PathStep[], nameKey: string, name: string, pending: readonly Pending[], active: readonly Modifier[], path: readonly string[]): WalkResult {
    let cur = node;
    let curKey = key;
    let curSteps = steps;
    let curNameKey = nameKey;
    let curName = name;
    let curPending = [...pending];
    let curActive = [...active];
    for (const step of path) {
      if (cur.kind !== 'block') break;
      for (const p of curPending) if (p.pos >= p.mod.pattern.length) curActive.push(p.mod);
      curPending = curPending.filter((p) => p.pos < p.mod.pattern.length);
      const m = cur.members.find((x) => x.name === step);
      if (!m) break;
      const next: Pending[] = [];
      const at = { kind: 'name', name: step } as const;
      for (const p of curPending) if (matchStep(p.mod.pattern[p.pos], at) === 'advance') next.push({ mod: p.mod, pos: p.pos + 1 });
      const tie = memberTie(m);
      if (tie) curActive = [...curActive, tie];
      curPending = next;
      cur = m.node;
      curKey = `${curKey}.${step}`;
      curSteps = [...curSteps, at];
      curNameKey = `${curNameKey}.${step}`;
      curName = step;
    }
    return this.walk(cur, curKey, curSteps, curNameKey, curName, curPending, curActive);
  }
}

/** Stored and trainable params of the weights of a layer's report (one instance) that an expert pool makes one store (`shareCovers`). */
function pooledParams(layer: NodeReport, pool: StackShare): { stored: bigint; trainable: bigint } {
  let stored = 0n;
  let trainable = 0n;
  for (const w of layer.children) {
    if (w.kind !== 'weight' || !shareCovers(pool, w.name)) continue;
    stored += w.params.stored;
    trainable += w.params.trainable;
  }
  return { stored, trainable };
}

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return (a / x) * b;
}

function nodeLabel(node: ModuleNode): string {
  return node.kind === 'block' ? node.blockName : node.kind === 'layer' ? node.layerKind : 'stack';
}

/** Splits a stack's runs into pieces, isolating the named instance indices. */
/** Two lists of declarations, each in declaration order, merged in declaration order. */
function mergeByOrder(a: readonly { order: number; p: Pending }[], b: readonly { order: number; p: Pending }[]): Pending[] {
  const out: Pending[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.order < b[j]!.order)) out.push(a[i++]!.p);
    else out.push(b[j++]!.p);
  }
  return out;
}

function pieces(node: StackNode, isolated: ReadonlySet<bigint>): Piece[] {
  const out: Piece[] = [];
  // The isolated indices sorted once and consumed run by run: O(runs + k log k), not O(runs · k).
  const sorted = [...isolated].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let next = 0;
  let start = 0n;
  for (const run of node.runs) {
    const end = start + run.count;
    let s = start;
    while (next < sorted.length && sorted[next]! < start) next++;
    const cuts: bigint[] = [];
    while (next < sorted.length && sorted[next]! < end) cuts.push(sorted[next++]!);
    for (const i of cuts) {
      if (i > s) out.push({ start: s, end: i, node: run.node, isolated: false });
      out.push({ start: i, end: i + 1n, node: run.node, isolated: true });
      s = i + 1n;
    }
    if (s < end) out.push({ start: s, end, node: run.node, isolated: false });
    start = end;
  }
  return out;
}

/**
 * [start, end, capacity] sub-ranges of a piece by MoR recursion (the whole piece without routing).
 * A routed stack holds at most 2⁵³ − 1 instances (`route` checks it), so its arithmetic is in numbers.
 */
function recursionRanges(pieceStart: bigint, pieceEnd: bigint, length: bigint, route: StackStrategy | undefined): [bigint, bigint, Q.Rational][] {
  if (!route || route.kind !== 'route') return [[pieceStart, pieceEnd, Q.ONE]];
  const [start, end, n] = [Number(pieceStart), Number(pieceEnd), Number(length)];
  const r = route.capacities.length;
  const out: [bigint, bigint, Q.Rational][] = [];
  // Instance i is in recursion ⌊i·R/N⌋; recursion k starts at ⌈k·N/R⌉. Only the recursions
  // the piece overlaps are visited, so a stack's pieces cost O(pieces + R) together.
  const first = Math.floor((start * r) / n);
  const last = Math.min(r - 1, Math.floor(((end - 1) * r) / n));
  for (let k = first; k <= last; k++) {
    const ks = Math.ceil((k * n) / r);
    const ke = Math.ceil(((k + 1) * n) / r);
    const s = Math.max(start, ks);
    const e = Math.min(end, ke);
    if (s < e) out.push([BigInt(s), BigInt(e), route.capacities[k]!]);
  }
  return out;
}

/** MoR routers: one d→1 linear per recursion, run on the tokens that reached that recursion. */
function addRouters(totals: Totals, strategies: readonly StackStrategy[]): Totals {
  const route = strategies.find((s) => s.kind === 'route');
  if (!route || route.kind !== 'route') return totals;
  if (route.halting) return addHaltingUnit(totals, route.capacities, route.halting);
  const width = BigInt(route.routerWidth);
  const params = width * BigInt(route.capacities.length);
  // The router of recursion r scores the tokens that reached it: all of them for r = 0, then
  // the capacity of recursion r − 1 (MoR expert-choice routing, hierarchical filtering).
  let activeSum = Q.ZERO;
  route.capacities.forEach((_, r) => (activeSum = Q.add(activeSum, r === 0 ? Q.ONE : route.capacities[r - 1]!)));
  const active = Q.mul(activeSum, Q.fromBigInt(width));
  return {
    ...totals,
    stored: totals.stored + params,
    effective: totals.effective + params,
    trainable: totals.trainable + params,
    perInstanceStored: totals.perInstanceStored + params,
    perInstanceTrainable: totals.perInstanceTrainable + params,
    active: Q.add(totals.active, active),
    flops: Q.add(totals.flops, Q.mul(Q.fromInt(2), active)),
    trainableFlops: Q.add(totals.trainableFlops, Q.mul(Q.fromInt(2), active)),
  };
}

/**
 * A halted stack's halting unit: stored once; before each step r ≥ 1 it scores the tokens that
 * completed step r − 1 (every token runs step 0), so it runs Σ_{r=1}^{T−1} c_{r−1} times per token
 * (SUT's ACTWrapper gates from the second step on).
 */
function addHaltingUnit(totals: Totals, reach: readonly Q.Rational[], unit: HaltingUnit): Totals {
  let applications = Q.ZERO;
  for (let r = 1; r < reach.length; r++) applications = Q.add(applications, reach[r - 1]!);
  const flops = Q.mul(Q.fromInt(2), Q.mul(applications, Q.fromBigInt(unit.matmulParams)));
  return {
    ...totals,
    stored: totals.stored + unit.params,
    effective: totals.effective + unit.params,
    trainable: totals.trainable + unit.params,
    perInstanceStored: totals.perInstanceStored + unit.params,
    perInstanceTrainable: totals.perInstanceTrainable + unit.params,
    active: Q.add(totals.active, Q.mul(applications, Q.fromBigInt(unit.params))),
    flops: Q.add(totals.flops, flops),
    trainableFlops: Q.add(totals.trainableFlops, flops),
  };
}

export function reportOf(
  name: string,
  kind: NodeReport['kind'],
  type: string,
  count: bigint,
  firstIndex: bigint,
  t: Totals,
  range: { start: number; end: number },
  children: readonly NodeReport[],
): NodeReport {
  return {
    name,
    kind,
    type,
    count,
    firstIndex,
    params: { stored: t.stored, effective: t.effective, active: Q.round(t.active), trainable: t.trainable },
    flopsPerToken: Q.round(t.flops),
    kvCacheBytes: 0n,
    activationPerToken: Q.ceil(t.activation),
    embeddingParams: t.embeddingParams,
    range,
    children,
  };
}
