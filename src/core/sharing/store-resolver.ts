// The one answer, per concrete layer instance, to "which store does this weight read?": a path of
// member names and instance indices in, the store's key (equal keys ⇔ one stored tensor), the
// modifiers on the weight (adapters, hashing, banks, dictionaries, ties, freeze/train), its KV
// producer and its MoR route out. It also holds the rules those answers rest on, which the
// counting walk (`analysis/walk.ts`) applies in closed form per run of instances: how a
// declaration's path pattern meets an instance path (`matchStep`), which strategies a stack's
// instance follows (`strategiesAt`), which instances a strategy's own path names
// (`instancesNamedByStrategies`), which weights a `share` covers (`shareCovers`), and which
// weights a tie makes another's store (`tiesWeight`, `memberTie`, `tiedWeight`). The
// exporter's initializers, the walk, the dashboard's store links (`layout/structure.ts`), the
// plans' shared stores and the allocator ask here: none keeps its own copy of these rules.

import type { WeightSpec } from '../layers/layer-kind.js';
import { mainWeight } from '../model/main-weight.js';
import type { BlockMember, LayerNode, ModelMember, ModuleNode } from '../model/module-tree.js';
import type { Modifier, ModifierEffect, PatternStep, ResolvedSharing, StackShare, StackStrategy, TieSource } from './declarations.js';
import { instanceAt, keyWithin } from './resolve-path.js';

/** A step of a concrete instance path: a member name, or an instance index of a stack. */
export type PathStep = PatternStep;

/** What the resolver reads of a model: its members and resolved sharing (a `CompiledModel` is one). */
export interface StoreModel {
  readonly members: readonly ModelMember[];
  readonly sharing: ResolvedSharing;
}

/** `body[3].attn` from steps. */
export function pathText(steps: readonly PathStep[]): string {
  let s = '';
  for (const step of steps) s += step.kind === 'name' ? (s === '' ? step.name : `.${step.name}`) : `[${step.index}]`;
  return s;
}

/**
 * The strategies the instances of a stack follow: those declared on its indexed key
 * (`body[2].layers`, a path through one instance of `body`), and those of its name key
 * (`body.layers`, every instance's) of the kinds the indexed key does not declare. A more specific
 * strategy replaces only its own kind: `share kv body[2].layers: every(2)` beside
 * `share body.layers: all` keeps the weight sharing on `body[2]`. One rule for the walk and every
 * per-instance question.
 */
export function strategiesAt(sharing: ResolvedSharing, indexedKey: string, nameKey: string): readonly StackStrategy[] {
  const own = indexedKey === nameKey ? undefined : sharing.stacks.get(indexedKey);
  const every = sharing.stacks.get(nameKey) ?? [];
  if (own === undefined) return every;
  const replaced = new Set(own.map((s) => s.kind));
  return every.some((s) => !replaced.has(s.kind)) ? [...every.filter((s) => !replaced.has(s.kind)), ...own] : own;
}

/**
 * The instance indices that strategies' own paths name, by the key of the stack they index (as
 * the walk keys it: `body` for `share body[2].layers: all`, `body[2].layers` for a path through
 * `body[2].layers[1]`). The walk takes each such instance on its own, as it does an instance a
 * declaration's path names, so its key reaches the strategies declared under it.
 */
export function instancesNamedByStrategies(sharing: ResolvedSharing): ReadonlyMap<string, ReadonlySet<number>> {
  const out = new Map<string, Set<number>>();
  for (const pattern of sharing.stackPatterns.values()) {
    pattern.forEach((step, at) => {
      if (step.kind !== 'index') return;
      const stack = pathText(pattern.slice(0, at));
      const named = out.get(stack);
      if (named) named.add(step.index);
      else out.set(stack, new Set([step.index]));
    });
  }
  return out;
}

/**
 * How a declaration's next pattern step (`want`; undefined once the pattern is matched) meets the
 * next step of an instance path: `advance` (it matches: the pattern moves on), `every` (an
 * instance index the pattern does not name: a name after a stack reaches every instance, so the
 * pattern stays where it is), or `miss` (the declaration does not reach this path). A matched
 * pattern reaches everything below it.
 */
export function matchStep(want: PatternStep | undefined, step: PathStep): 'advance' | 'every' | 'miss' {
  if (want === undefined) return 'every';
  if (step.kind === 'index') return want.kind === 'index' ? (want.index === step.index ? 'advance' : 'miss') : 'every';
  return want.kind === 'name' && want.name === step.name ? 'advance' : 'miss';
}

/**
 * Whether a `share` strategy makes `weight` one store across the instances it ties: every weight
 * under its sub-path, except that an expert pool (`share experts`) covers only its bank's weights
 * (never the layer's router, norms or shared experts; nor the layer as a whole, `weight` undefined).
 */
export function shareCovers(share: StackShare, weight: string | undefined): boolean {
  return !share.pool || (weight !== undefined && share.pool.weights.includes(weight));
}

/**
 * The store a weight of the layer at `steps` reads: its own path, with every stack index
 * replaced by its store slot where a `share` strategy covers the rest of the path, then any
 * `tie a = b` prefix replaced by b. Equal keys ⇔ one stored tensor. An expert pool (`share
 * experts`) covers only its bank's weights: it applies when `weight` names one of them, never to
 * the layer's router, norms or shared experts (nor when no weight is named).
 */
export function storePath(model: StoreModel, steps: readonly PathStep[], weight?: string, depth = 0): string {
  const out: PathStep[] = [];
  let stackKey = '';
  let indexedKey = '';
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.kind === 'name') {
      stackKey = stackKey === '' ? step.name : `${stackKey}.${step.name}`;
      indexedKey = indexedKey === '' ? step.name : `${indexedKey}.${step.name}`;
      out.push(step);
      continue;
    }
    const here = indexedKey;
    indexedKey += `[${step.index}]`;
    const rest: string[] = [];
    for (let j = i + 1; j < steps.length && steps[j]!.kind === 'name'; j++) rest.push((steps[j] as { name: string }).name);
    const shares = strategiesAt(model.sharing, here, stackKey).filter((s): s is StackShare => s.kind === 'share');
    let best: StackShare | undefined;
    for (const s of shares) {
      if (!shareCovers(s, weight)) continue;
      if (s.sub.length <= rest.length && s.sub.every((n, k) => rest[k] === n) && (!best || s.sub.length > best.sub.length)) best = s;
    }
    out.push({ kind: 'index', index: best ? best.slots.slotOf(step.index) : step.index });
  }
  let key = pathText(out);
  // `tie a = b` chains are acyclic (a closing one is refused, `closesTieCycle`), so a chain takes at
  // most one hop per modifier; the bound only guards the recursion.
  if (depth <= model.sharing.modifiers.length) {
    const tie = tieReading(model.sharing.modifiers, key);
    if (tie) key = storePath(model, tie.source.pattern, weight, depth + 1) + key.slice(tie.targetKey.length);
  }
  return key;
}

type TieAll = Extract<ModifierEffect, { kind: 'tie-all' }>;

/** The `tie a = b` among `modifiers` that makes the module at `key` (or one above it) read another's stores: the first, as storePath follows it. */
export function tieReading(modifiers: readonly Modifier[], key: string): TieAll | undefined {
  for (const m of modifiers) if (m.effect.kind === 'tie-all' && keyWithin(key, m.effect.targetKey)) return m.effect;
  return undefined;
}

export type StackRoute = Extract<StackStrategy, { kind: 'route' }>;

/** The `route` (MoR) strategy of the stack at `steps`, if any (looked up as the walk does: indexed key, then name key). */
export function routeOf(model: StoreModel, steps: readonly PathStep[]): StackRoute | undefined {
  let stackKey = '';
  let indexedKey = '';
  for (const step of steps) {
    if (step.kind === 'name') {
      stackKey = stackKey === '' ? step.name : `${stackKey}.${step.name}`;
      indexedKey = indexedKey === '' ? step.name : `${indexedKey}.${step.name}`;
    } else indexedKey += `[${step.index}]`;
  }
  return strategiesAt(model.sharing, indexedKey, stackKey).find((s): s is StackRoute => s.kind === 'route');
}

/**
 * For a layer inside an instance that borrows KV (`share kv STACK: every(g) | map | tied`), the
 * path of the same layer in the producing instance; undefined when the layer produces its own.
 */
export function kvProducerPath(model: StoreModel, steps: readonly PathStep[]): PathStep[] | undefined {
  let out: PathStep[] | undefined;
  for (const { at, index, strategies } of instanceSteps(model, steps)) {
    const kv = kvShareOf(strategies);
    if (!kv) continue;
    // `tied` reads the KV of the first instance using the same store; the map says which.
    const producer = kv.producers.producerOf(index);
    if (producer !== index) {
      out = [...(out ?? steps)];
      out[at] = { kind: 'index', index: producer };
    }
  }
  return out;
}

/**
 * Each instance index along `steps` (its position `at`) with the strategies declared on its
 * stack, looked up as the walk does: by the indexed key (`body[2].layers`), then the name key.
 */
function* instanceSteps(model: StoreModel, steps: readonly PathStep[]): Generator<{ readonly at: number; readonly index: number; readonly strategies: readonly StackStrategy[] }> {
  let stackKey = '';
  let indexedKey = '';
  for (let at = 0; at < steps.length; at++) {
    const step = steps[at]!;
    if (step.kind === 'name') {
      stackKey = stackKey === '' ? step.name : `${stackKey}.${step.name}`;
      indexedKey = indexedKey === '' ? step.name : `${indexedKey}.${step.name}`;
      continue;
    }
    yield { at, index: step.index, strategies: strategiesAt(model.sharing, indexedKey, stackKey) };
    indexedKey += `[${step.index}]`;
  }
}

/** The `share kv` strategy among a stack's, if any. */
function kvShareOf(strategies: readonly StackStrategy[]): Extract<StackStrategy, { kind: 'kv' }> | undefined {
  return strategies.find((s): s is Extract<StackStrategy, { kind: 'kv' }> => s.kind === 'kv');
}

/**
 * Whether the layer at `steps` borrows KV under a `share kv …(keep_weights: true)`: its own K/V
 * projections are then stored (an unused initializer in an export) though never applied.
 */
export function keepsBorrowedKvWeights(model: StoreModel, steps: readonly PathStep[]): boolean {
  for (const { index, strategies } of instanceSteps(model, steps)) {
    const kv = kvShareOf(strategies);
    if (kv?.keepsWeights === true && kv.producers.producerOf(index) !== index) return true;
  }
  return false;
}

/**
 * The adapters (`adapt`, `share … relax`) on weight `weight` of the layer at `steps`, with their
 * statements (ids, ranges): the modifiers that reach it (modifiersFor) restricted to its targets.
 */
export function adapterModifiersFor(model: StoreModel, steps: readonly PathStep[], weight: string): Modifier[] {
  return modifiersFor(model, steps, weight).filter((m) => m.effect.kind === 'adapter' && (!m.effect.weights || m.effect.weights.includes(weight)));
}

/**
 * Every modifier (adapters, hash, bank, dict, ties, freeze/train) whose path pattern reaches
 * weight `weight` of the layer at `steps`: its pattern met step by step (`matchStep`, as the walk meets it).
 */
export function modifiersFor(model: StoreModel, steps: readonly PathStep[], weight: string): Modifier[] {
  const out: Modifier[] = [];
  const path: readonly PathStep[] = [...steps, { kind: 'name', name: weight }];
  for (const m of model.sharing.modifiers) {
    const p = m.pattern;
    let pos = 0;
    let reaches = true;
    for (const step of path) {
      const met = matchStep(p[pos], step);
      if (met === 'miss') reaches = false;
      else if (met === 'advance') pos++;
      if (!reaches || pos >= p.length) break;
    }
    if (reaches && pos >= p.length) out.push(m);
  }
  return out;
}

/** A `share` strategy that makes stores several instances of a stack read (`none` makes none). */
export interface SharedStack {
  /** The stack's canonical key (`body`, `enc.layers`) and its path, typed. */
  readonly key: string;
  readonly pattern: readonly PatternStep[];
  /** The top-level member the stack lies in, and whether the stack is that member itself. */
  readonly member: string;
  readonly topLevel: boolean;
  readonly share: StackShare;
  /** The sub-path below each instance that is stored once per store (`attn.q`; empty: the whole instance). */
  readonly sub: string;
  /**
   * Store `slot`'s id (`slot:body.attn:1`; an expert pool's `slot:body.moe.experts:0`, the routed
   * experts alone): equal ids ⇔ one set of stored tensors. Instance i reads `storeId(share.slots.slotOf(i))`.
   */
  storeId(slot: number): string;
}

/**
 * Every `share` strategy of a model that makes shared stores, in declaration order per stack:
 * what the dashboard draws as store nodes and the plans hold once per store. A strategy on a
 * top-level stack with as many stores as instances (`none`) shares nothing and is left out.
 */
export function sharedStacks(model: StoreModel): SharedStack[] {
  const out: SharedStack[] = [];
  for (const [key, strategies] of model.sharing.stacks) {
    const pattern = model.sharing.stackPatterns.get(key);
    const head = pattern?.[0];
    if (!pattern || head?.kind !== 'name') continue;
    const topLevel = pattern.length === 1;
    const node = topLevel ? model.members.find((m) => m.name === head.name)?.node : undefined;
    const length = node === undefined ? undefined : node.kind === 'stack' ? node.length : 1;
    for (const share of strategies) {
      if (share.kind !== 'share') continue;
      if (length !== undefined && share.slots.slots >= length) continue; // `none`: every instance owns its store
      const sub = share.sub.join('.');
      const base = `${sub ? `${key}.${sub}` : key}${share.pool ? '.experts' : ''}`;
      out.push({ key, pattern, member: head.name, topLevel, share, sub, storeId: (slot) => `slot:${base}:${slot}` });
    }
  }
  return out;
}

/** The top-level member a stack strategy's stack lies in (`body` for `body[2].layers`), from its typed path. */
export function stackOwner(sharing: ResolvedSharing, key: string): string | undefined {
  const head = sharing.stackPatterns.get(key)?.[0];
  return head?.kind === 'name' ? head.name : undefined;
}

/**
 * For each top-level member a tie makes (part of) read another top-level member's store, that
 * member: `x = Linear(…) tied y` and `tie x = y` (or `tie x.proj = y.proj`) make x read y's store;
 * the last such tie wins. A member tied only to a path inside itself is left out.
 */
export function tiedOwners(model: StoreModel): ReadonlyMap<string, string> {
  const owners = new Map<string, string>();
  for (const m of model.sharing.modifiers) {
    const e = m.effect;
    const target = m.pattern[0];
    if ((e.kind !== 'tie-main' && e.kind !== 'tie-all') || !e.source || target?.kind !== 'name') continue;
    const source = e.source.pattern[0];
    if (source?.kind === 'name' && source.name !== target.name) owners.set(target.name, source.name);
  }
  return owners;
}

/**
 * What the main weight of each top-level member tied to another module reads (`x = Linear(…)
 * tied y`), as resolved: a tie that failed to resolve ties nothing. Such a main weight is not
 * stored on its own. (A block member tied to a sibling is the block's structure: `BlockMember.tiedTo`.)
 */
export function tiedMains(modifiers: readonly Modifier[]): ReadonlyMap<string, TieSource> {
  const out = new Map<string, TieSource>();
  for (const m of modifiers) {
    const head = m.pattern[0];
    if (m.effect.kind === 'tie-main' && m.effect.source && m.pattern.length === 1 && head?.kind === 'name') out.set(head.name, m.effect.source);
  }
  return out;
}

/**
 * A pattern with every stack it passes through indexed at its first instance: the node a path
 * fanning out over a stack (`body.attn`) resolves to is each instance's, so the first one's.
 */
function firstInstances(model: StoreModel, pattern: readonly PatternStep[]): PatternStep[] {
  const out: PatternStep[] = [];
  for (const step of pattern) {
    const node = nodeAt(model, out);
    if (step.kind === 'name' && node?.kind === 'stack') out.push({ kind: 'index', index: 0 });
    out.push(step);
  }
  return out;
}

/** The module at a pattern (indices pick instances), for tied targets. */
export function nodeAt(model: StoreModel, pattern: readonly PatternStep[]): ModuleNode | undefined {
  const [head, ...rest] = pattern;
  if (!head || head.kind !== 'name') return undefined;
  let node: ModuleNode | undefined = model.members.find((m) => m.name === head.name)?.node;
  for (const step of rest) {
    if (!node) return undefined;
    if (step.kind === 'index') {
      node = node.kind === 'stack' ? instanceAt(node, step.index) : undefined;
    } else {
      node = node.kind === 'block' ? node.members.find((m) => m.name === step.name)?.node : undefined;
    }
  }
  return node;
}

/**
 * Whether tie `effect` makes weight `w` read another store (so it is not stored on its own), for a
 * layer whose main weight is `main` (`mainWeight`): `tie a = b` every weight under a, `tied` (a
 * member's `x = Linear(…) tied y`, a block member's `tied SIBLING`) the main weight alone. The one
 * rule for the walk's counts (`analysis/layer-totals.ts`), the allocator's items and the
 * exporter's reads (`tiedWeight`, `weightStoreKey`).
 */
export function tiesWeight(effect: ModifierEffect, w: WeightSpec, main: WeightSpec | undefined): boolean {
  return effect.kind === 'tie-all' || (effect.kind === 'tie-main' && w === main);
}

/**
 * The tie of a block member tied to a sibling (`block B { up = Linear(8, 16); down = Linear(16, 8)
 * tied up }`). It is the block's structure (`BlockMember.tiedTo`), written once for every place the
 * block is used, so it has no statement, pattern or source: `tiedWeight` finds the sibling from
 * the instance path. A constant (frozen, below every statement's id), so memo keys of modifier ids
 * stay equal wherever the walk meets it.
 */
const SIBLING_TIE: Modifier = Object.freeze({ id: -1, pattern: Object.freeze([]), effect: Object.freeze({ kind: 'tie-main', source: undefined }), range: Object.freeze({ start: 0, end: 0 }) });

/** The tie a block member's `tied SIBLING` puts on it, held over the member as a statement's modifier is (the walk, the allocator); undefined when it has none. */
export function memberTie(member: BlockMember): Modifier | undefined {
  return member.tiedTo === undefined ? undefined : SIBLING_TIE;
}

/** The weight a `tied` main weight reads: the concrete path of its layer and the weight's name. */
export interface TiedWeight {
  readonly steps: readonly PathStep[];
  readonly weight: string;
  /** The source path as written resolves to every instance of a stack (`tied body.attn`): no one weight to read. */
  readonly fansOut: boolean;
  /** The source's canonical key, for messages (`wte`, `body[3].attn`, `embed.table`). */
  readonly sourceKey: string;
}

/**
 * The weight that weight `w` of the layer `layer` at `steps` reads because `tied` makes it another
 * module's main weight: a top-level member's `x = Linear(…) tied y` (the weight y names, else
 * y's main weight) or a block member's `tied SIBLING` (the sibling's main weight); undefined when
 * no `tied` reaches `w`. The same tie the walk counts (`tiesWeight`). A `tie a = b` needs no such
 * answer: `storePath` maps a's whole subtree onto b's keys, weight for weight.
 */
export function tiedWeight(model: StoreModel, steps: readonly PathStep[], layer: LayerNode, w: WeightSpec): TiedWeight | undefined {
  const main = mainWeight(layer);
  if (w !== main) return undefined;
  const last = steps[steps.length - 1];
  if (steps.length === 1 && last?.kind === 'name') {
    for (const m of model.sharing.modifiers) {
      const e = m.effect;
      const head = m.pattern[0];
      if (e.kind !== 'tie-main' || !e.source || m.pattern.length !== 1 || head?.kind !== 'name' || head.name !== last.name || !tiesWeight(e, w, main)) continue;
      const source = e.source;
      const at = source.weight !== undefined ? source.pattern.slice(0, -1) : source.pattern;
      const node = nodeAt(model, source.fansOut ? firstInstances(model, at) : at);
      const weight = source.weight ?? (node?.kind === 'layer' ? mainWeight(node)?.name : undefined);
      return weight === undefined ? undefined : { steps: at, weight, fansOut: source.fansOut, sourceKey: source.key };
    }
    return undefined;
  }
  if (last?.kind !== 'name') return undefined;
  const parentSteps = steps.slice(0, -1);
  const parent = nodeAt(model, parentSteps);
  const member = parent?.kind === 'block' ? parent.members.find((m) => m.name === last.name) : undefined;
  const tie = member ? memberTie(member) : undefined;
  if (!member?.tiedTo || !tie || !tiesWeight(tie.effect, w, main)) return undefined;
  const at: PathStep[] = [...parentSteps, { kind: 'name', name: member.tiedTo }];
  const sibling = nodeAt(model, at);
  const weight = sibling?.kind === 'layer' ? mainWeight(sibling)?.name : undefined;
  return weight === undefined ? undefined : { steps: at, weight, fansOut: false, sourceKey: pathText(at) };
}

/**
 * The key of the store weight `w` of the layer `layer` at `steps` reads (equal keys ⇔ one stored
 * tensor): a `tied` main weight's source's key, followed through a chain of ties (`a tied b`, `b
 * tied c`: a reads c's store, as the walk stores neither a's nor b's), else its own path's store
 * (`storePath`: shared stacks and `tie a = b` resolved) and the weight's name.
 */
export function weightStoreKey(model: StoreModel, steps: readonly PathStep[], layer: LayerNode, w: WeightSpec): string {
  let at = steps;
  let node = layer;
  let weight = w;
  // A chain of ties is as long as it is (cycles are `npas-tie-cycle` errors and made no tie);
  // the positions seen stop a cycle regardless.
  const seen = new Set<string>();
  for (;;) {
    const here = `${pathText(at)}.${weight.name}`;
    if (seen.has(here)) break;
    seen.add(here);
    const tied = tiedWeight(model, at, node, weight);
    // A source fanning out over a stack has no one store (the exporter refuses it): the weight's own key stands.
    const next = tied && !tied.fansOut ? nodeAt(model, tied.steps) : undefined;
    const spec = next?.kind === 'layer' ? next.cost.weights.find((x) => x.name === tied!.weight) : undefined;
    if (!tied || !spec || next?.kind !== 'layer') break;
    at = tied.steps;
    node = next;
    weight = spec;
  }
  return `${storePath(model, at, weight.name)}.${weight.name}`;
}
