// A tied weight whose store is factorised (`x = Linear(…) tied y`, `tie a = b`, a block member
// `tied` to a sibling, with `factorize` on the owner): one stored W, several users. The rule, from
// the costs: every user applying W as the same projection (x·Wᵀ, W's own shape) runs the same
// execution — a user's tokens each cost the dense matmul or the chain, and the step pays once per
// store for materialising W or for the chain's setup, so the comparison that picks the owner's
// execution (`factorExecution`: per token and per step) is the one for all of them together. W is
// generated once per step, at its owner, and read by every user; the chain's setup (FedPara's
// Khatri–Rao factors) likewise. A user that needs W itself — reading it as a table (an embedding),
// transposed, under its own sparse mask (which writes entries of its copy of W), or rebuilding
// from it — needs W built when the owner applies the factors (the owner never forms it): once per
// step per store, for every such reader (the store's `key`), and reads the owner's W when the
// owner materialises it anyway. The counting (analysis/walk.ts,
// layer-totals.ts) and the exporter (kernels/layers) both ask here.

import type { WeightSpec } from '../layers/layer-kind.js';
import { mainWeight } from '../model/main-weight.js';
import type { ModuleNode } from '../model/module-tree.js';
import type { Modifier, ModifierEffect, PatternStep, ResolvedSharing } from './declarations.js';
import { factorLayout, factorShape, type FactorExecution, type FactorLayout } from './factorization.js';
import { sparseMasked, targetExecution } from './factorized-weights.js';
import { generatesWeight } from './generated-weights.js';
import { modifiersFor, pathText, storePath, type PathStep, type StoreModel } from './store-resolver.js';

/**
 * The factorised store a tied weight reads: its owner's weight, the `factorize` effect, the layout
 * and the owner's execution, the owner's path and the store's key.
 */
export interface TiedFactorStore {
  readonly owner: WeightSpec;
  /** The owner's layer path, as looked up (an instance the walk stands for keeps its step). */
  readonly steps: readonly PathStep[];
  /** The store's key (`storePath` and the weight's name): equal keys ⇔ one W, built once per step for all its readers. */
  readonly key: string;
  readonly effect: Extract<ModifierEffect, { readonly kind: 'factorize' }>;
  readonly layout: FactorLayout;
  readonly execution: FactorExecution;
}

/**
 * How a tied user applies a factorised store: `factors` (the chain, as the owner), `dense` (the
 * owner's materialised W, generated once at the owner) or `materialise` (the owner applies the
 * factors but this user needs W: it forms W, one reconstruction per step).
 */
export type TiedExecution = 'factors' | 'dense' | 'materialise';

/**
 * The factorised store of weight `weight` (its main weight when undefined) of the layer `node`,
 * given the modifiers reaching that weight; undefined when no `factorize` generates it, or when
 * the owner is itself tied (it reads yet another store, its own factors unused).
 */
function factorStoreOf(node: ModuleNode | undefined, weight: string | undefined, modifiers: readonly Modifier[]): Omit<TiedFactorStore, 'steps' | 'key'> | undefined {
  if (node?.kind !== 'layer') return undefined;
  const owner = weight === undefined ? mainWeight(node) : node.cost.weights.find((w) => w.name === weight);
  if (!owner) return undefined;
  if (modifiers.some((m) => m.effect.kind === 'tie-all' || (m.effect.kind === 'tie-main' && owner === mainWeight(node)))) return undefined;
  const m = modifiers.find((x) => x.effect.kind === 'factorize' && generatesWeight(x.effect, owner));
  if (m?.effect.kind !== 'factorize') return undefined;
  const shape = factorShape(m.effect.method, owner);
  const result = shape ? factorLayout(m.effect.method, shape.dOut, shape.dIn, shape.kernel) : undefined;
  if (!shape || !result?.ok) return undefined;
  const target = { kernel: shape.kernel, generatesOwn: node.cost.generationMacsPerStep !== undefined, dOut: shape.dOut, dIn: shape.dIn };
  return { owner, effect: m.effect, layout: result.layout, execution: targetExecution(target, result.layout, sparseMasked(modifiers, owner.name)) };
}

/**
 * The layer at `steps` (an index picks a stack instance; a name step on a stack looks inside its
 * first instance, for a path that names none, as a `tie a = b` source over a stack may).
 */
function layerAlong(model: StoreModel, steps: readonly PathStep[]): ModuleNode | undefined {
  const [head, ...rest] = steps;
  if (!head || head.kind !== 'name') return undefined;
  let node: ModuleNode | undefined = model.members.find((m) => m.name === head.name)?.node;
  for (const step of rest) {
    while (node?.kind === 'stack' && step.kind === 'name') node = node.runs[0]?.node;
    if (!node) return undefined;
    if (step.kind === 'index') {
      if (node.kind !== 'stack') return undefined;
      let start = 0n;
      let found: ModuleNode | undefined;
      for (const run of node.runs) {
        if (BigInt(step.index) < start + run.count) {
          found = run.node;
          break;
        }
        start += run.count;
      }
      node = found;
    } else node = node.kind === 'block' ? node.members.find((m) => m.name === step.name)?.node : undefined;
  }
  return node;
}

/** The factorised store at the owner path `steps` (weight `weight`, or the layer's main weight), or undefined. */
export function factorStoreAt(model: StoreModel, steps: readonly PathStep[], weight: string | undefined): TiedFactorStore | undefined {
  const node = layerAlong(model, steps);
  if (node?.kind !== 'layer') return undefined;
  const name = weight ?? mainWeight(node)?.name;
  const store = name === undefined ? undefined : factorStoreOf(node, name, modifiersFor(model, steps, name));
  return store && name !== undefined ? { ...store, steps, key: `${storePath(model, steps, name)}.${name}` } : undefined;
}

/**
 * The owner path a `tie a = b` reader at `steps` reads (`tie`: the tie-all modifier reaching the
 * reader): b's path followed by the reader's steps below a, and on through a chain of ties (`tie
 * c = b` with `tie b = a`: c reads a's store, as `storePath` keys it), at most one hop per tie
 * (a cycle is an `npas-tie-cycle` error).
 */
export function tieAllOwnerSteps(model: StoreModel, tie: Modifier, steps: readonly PathStep[]): PathStep[] | undefined {
  let owner = tieAllHop(tie, steps);
  if (!owner) return undefined;
  const ties = model.sharing.modifiers.filter((m) => m.effect.kind === 'tie-all');
  for (let hop = 0; hop < ties.length; hop++) {
    let next: PathStep[] | undefined;
    for (const t of ties) if ((next = tieAllHop(t, owner))) break;
    if (!next) break;
    owner = next;
  }
  return owner;
}

/** One hop of a `tie a = b`: b's path followed by the steps below a (those after the pattern of a is met: `a` over a stack meets an instance index it does not name). */
function tieAllHop(tie: Modifier, steps: readonly PathStep[]): PathStep[] | undefined {
  if (tie.effect.kind !== 'tie-all') return undefined;
  const pattern = tie.pattern;
  let pos = 0;
  let i = 0;
  for (; i < steps.length && pos < pattern.length; i++) {
    const want = pattern[pos]!;
    const step = steps[i]!;
    if (step.kind === 'index' && want.kind !== 'index') continue;
    if (want.kind !== step.kind || (want.kind === 'name' && step.kind === 'name' && want.name !== step.name) || (want.kind === 'index' && step.kind === 'index' && want.index !== step.index)) return undefined;
    pos++;
  }
  return pos < pattern.length ? undefined : [...tie.effect.source.pattern, ...steps.slice(i)];
}

/**
 * How a tied user weight `reader` (of a layer that rebuilds its weights when `readerRebuilds`,
 * under its own sparse mask when `readerMasked`) applies the factorised store: the owner's
 * execution when it applies W as the same projection, else `dense` when the owner materialises W
 * anyway and `materialise` when only this user needs it.
 */
export function tiedExecution(store: TiedFactorStore, reader: WeightSpec, readerRebuilds: boolean, readerMasked: boolean): TiedExecution {
  if (store.execution === 'dense') return 'dense';
  const sameProjection = reader.role === 'matmul' && reader.matmul !== undefined && store.owner.matmul !== undefined && reader.matmul.dOut === store.owner.matmul.dOut && reader.matmul.dIn === store.owner.matmul.dIn;
  return sameProjection && !readerRebuilds && !readerMasked ? 'factors' : 'materialise';
}

/**
 * The stack instances a `tie a = b` reader must be walked on its own, by the walk's stack key (as
 * `instancesNamedByStrategies` gives them): those whose owner instance a declaration names. A
 * declaration under b naming an instance (`factorize b[1].up: …`, `adapt b[1].up: sparse(…)`)
 * changes how that one instance's store runs, so a[1] — which reads it — is not like a[0] and
 * a[2]: walked with them as one run, it would read a[0]'s store. Followed through a chain of ties
 * (`tie c = a` reads b through a), at most as many rounds as there are ties.
 */
export function instancesNamedThroughTies(sharing: ResolvedSharing): ReadonlyMap<string, ReadonlySet<number>> {
  const out = new Map<string, Set<number>>();
  const ties = sharing.modifiers.filter((m) => m.effect.kind === 'tie-all');
  if (ties.length === 0) return out;
  const indexed = (p: readonly PatternStep[]): boolean => p.some((step) => step.kind === 'index');
  const same = (x: PatternStep, y: PatternStep): boolean => (x.kind === 'name' ? y.kind === 'name' && x.name === y.name : y.kind === 'index' && x.index === y.index);
  let patterns = sharing.modifiers.filter((m) => m.effect.kind !== 'tie-all' && indexed(m.pattern)).map((m) => m.pattern);
  for (let round = 0; round < ties.length && patterns.length > 0; round++) {
    const next: PatternStep[][] = [];
    for (const p of patterns) {
      for (const tie of ties) {
        if (tie.effect.kind !== 'tie-all') continue;
        const source = tie.effect.source.pattern;
        if (p.length <= source.length || !source.every((step, i) => same(step, p[i]!))) continue;
        const below = p.slice(source.length);
        if (!indexed(below)) continue;
        const mapped = [...tie.pattern, ...below];
        next.push(mapped);
        mapped.forEach((step, at) => {
          if (step.kind !== 'index') return;
          const stack = pathText(mapped.slice(0, at));
          const named = out.get(stack);
          if (named) named.add(step.index);
          else out.set(stack, new Set([step.index]));
        });
      }
    }
    patterns = next;
  }
  return out;
}
