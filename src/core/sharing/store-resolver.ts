// The one answer, per concrete layer instance, to "which store does this weight read?": a path of
// member names and instance indices in, the store's key (equal keys ⇔ one stored tensor), the
// modifiers on the weight (adapters, hashing, banks, dictionaries, ties, freeze/train), its KV
// producer and its MoR route out — matched as the counting walk matches them (`walk.ts` answers
// the same questions in closed form per run of instances). The exporter's initializers ask here;
// so may anything that needs one instance's stores.

import type { ModelMember, ModuleNode } from '../model/module-tree.js';
import type { Modifier, PatternStep, ResolvedSharing, StackShare, StackStrategy } from './declarations.js';
import { instanceAt } from './resolve-path.js';

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
    const shares = (model.sharing.stacks.get(here) ?? model.sharing.stacks.get(stackKey) ?? []).filter((s): s is StackShare => s.kind === 'share');
    let best: StackShare | undefined;
    for (const s of shares) {
      if (s.pool && (weight === undefined || !s.pool.weights.includes(weight))) continue;
      if (s.sub.length <= rest.length && s.sub.every((n, k) => rest[k] === n) && (!best || s.sub.length > best.sub.length)) best = s;
    }
    out.push({ kind: 'index', index: best ? best.slots.slotOf(step.index) : step.index });
  }
  let key = pathText(out);
  if (depth < 8) {
    for (const m of model.sharing.modifiers) {
      if (m.effect.kind !== 'tie-all') continue;
      const target = m.effect.targetKey;
      if (key === target || key.startsWith(`${target}.`) || key.startsWith(`${target}[`)) {
        key = storePath(model, m.effect.source.pattern, weight, depth + 1) + key.slice(target.length);
        break;
      }
    }
  }
  return key;
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
  const strategies = model.sharing.stacks.get(indexedKey) ?? model.sharing.stacks.get(stackKey) ?? [];
  return strategies.find((s): s is StackRoute => s.kind === 'route');
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
    yield { at, index: step.index, strategies: model.sharing.stacks.get(indexedKey) ?? model.sharing.stacks.get(stackKey) ?? [] };
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
 * weight `weight` of the layer at `steps`, matched as the engine's walk matches it.
 */
export function modifiersFor(model: StoreModel, steps: readonly PathStep[], weight: string): Modifier[] {
  const out: Modifier[] = [];
  for (const m of model.sharing.modifiers) {
    const p = m.pattern;
    let pos = 0;
    let ok = true;
    for (const step of steps) {
      const want = p[pos];
      if (pos >= p.length || !want) break;
      if (step.kind === 'index') {
        if (want.kind === 'index') {
          if (want.index !== step.index) ok = false;
          else pos++;
        }
      } else if (want.kind === 'name' && want.name === step.name) pos++;
      else ok = false;
      if (!ok) break;
    }
    const rest = p.slice(pos);
    if (ok && (rest.length === 0 || (rest.length === 1 && rest[0]!.kind === 'name' && rest[0]!.name === weight))) out.push(m);
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
