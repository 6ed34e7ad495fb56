// Which layer instances read which store: the sharing declarations of every model and variant,
// resolved by the engine and flattened into plain data for drawing (layout.ts). Pure and
// deterministic; never throws (a spec the engine cannot evaluate gives no structure).

import { compile, type Compilation, type CompiledModel } from '../analysis/compilation.js';
import type { ModelMember, ModuleNode } from '../model/module-tree.js';
import type { PatternStep, StackStrategy } from '../sharing/declarations.js';
import { sharedStacks, stackOwner, type SharedStack } from '../sharing/store-resolver.js';
import { SHARING_SCHEMES } from '../schemes/registry.js';
import * as Q from '../numbers/rational.js';
import { groupDigits } from '../text/number-format.js';
import { LAYER_KINDS } from '../layers/registry.js';
import { layerClassesOf, orderClasses, type LayerClass } from './layer-classes.js';
import type { Reader, SchemeDrawing } from './scheme-drawing.js';
import type { KvData, MemberData, MoeData, NoteData, ReadData, RunData, StoreData, StructureData } from './types.js';

/** Stacks longer than this are described per store rather than per instance. */
export const STRUCTURE_INSTANCE_LIMIT = 20_000;
/**
 * Most members of a model the structure describes (the first ones): a written-out 10 MB spec
 * has 356,000 members, whose structure was 67 MB of the report's JSON; `truncated` says so.
 */
export const STRUCTURE_MEMBER_LIMIT = 20_000;

/** The sharing structure of every model and variant of a source or compilation, by name. */
export function sharingStructure(source: string | Compilation): ReadonlyMap<string, StructureData> {
  const compilation = typeof source === 'string' ? compile(source) : source;
  const out = new Map<string, StructureData>();
  for (const m of compilation.models) {
    try {
      out.set(m.name, describe(m, compilation.text));
    } catch {
      // A model that cannot be described is drawn without sharing (the analysis reports why).
    }
  }
  return out;
}

/** Identity of one read: the store and the reading member instance (not the path inside it). */
function readKey(r: ReadData): string {
  return `${r.store}\u0000${r.member}\u0000${r.index === null ? '*' : r.index}`;
}

function describe(m: CompiledModel, text: string): StructureData {
  const sharing = m.sharing;
  const facts = new NodeFacts();
  const members = m.members.slice(0, STRUCTURE_MEMBER_LIMIT).map((member) => memberData(member, facts));
  // Built on first use (a stack strategy, or members left out): most specs need no lookup by name.
  let byNameMap: Map<string, MemberData> | undefined;
  const byName = (): Map<string, MemberData> => (byNameMap ??= new Map(members.map((x) => [x.name, x])));
  const stores: StoreData[] = [];
  const storeIds = new Set<string>();
  const reads: ReadData[] = [];
  // Every read's identity, so "read once" (a tie's source, listed once however many ties read
  // it) is a set lookup: scanning `reads` was quadratic in the ties (16,000 took minutes).
  const readKeys = new Set<string>();
  const pushRead = (read: ReadData): void => {
    reads.push(read);
    readKeys.add(readKey(read));
  };
  const kv: KvData[] = [];
  const notes: NoteData[] = [];
  let truncated = m.members.length > STRUCTURE_MEMBER_LIMIT;
  const addStore = (s: StoreData): void => {
    if (storeIds.has(s.id)) return;
    storeIds.add(s.id);
    stores.push(s);
  };
  const slice = (r: { start: number; end: number }): string => text.slice(r.start, r.end).replace(/\s+/g, ' ').trim();

  // Stack strategies, in member order, then by key. The stores `share` makes, and which store
  // each instance reads, are the store resolver's (sharedStacks), as the exporter's and the plans' are.
  const sharedBy = new Map<StackStrategy, SharedStack>();
  for (const shared of sharedStacks(m)) sharedBy.set(shared.share, shared);
  const ownerOf = (key: string): string => stackOwner(sharing, key) ?? key;
  // A member's place by a map lookup: searching the members per comparison was quadratic in them.
  // Built only for a model with stack strategies: hashing 10,000 member names costs what the members' data does.
  const place = new Map<string, number>();
  if (sharing.stacks.size > 0) members.forEach((x, i) => place.has(x.name) || place.set(x.name, i));
  const memberOrder = (member: string): number => place.get(member) ?? members.length;
  const keys = [...sharing.stacks.keys()].sort((a, b) => memberOrder(ownerOf(a)) - memberOrder(ownerOf(b)) || (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const strategies = sharing.stacks.get(key) ?? [];
    const top = byName().get(key);
    const owner = ownerOf(key);
    // A stack a strategy indexes holds at most 2⁵³ − 1 instances (indexable-stack.ts): exact as a number.
    const length = top ? Number(top.length) : 0;
    const perInstance = top !== undefined && length <= STRUCTURE_INSTANCE_LIMIT;
    if (top && !perInstance) truncated = true;
    for (const s of strategies) {
      if (s.kind === 'share') {
        const shared = sharedBy.get(s);
        if (!shared) continue; // `none`: every instance owns its store
        const { sub, storeId } = shared;
        const shown = perInstance ? s.slots.slots : Math.min(s.slots.slots, 64);
        for (let k = 0; k < shown; k++) {
          // An expert pool (`share experts`) is a store of the routed experts alone: each reader
          // keeps its own router, so the store says which part it holds.
          const base = sub ? `${key}.${sub}` : key;
          const label = s.pool ? `${base}.experts pool #${k}: ${groupDigits(s.pool.experts)} experts, routers per layer` : `${base} #${k}`;
          addStore({ id: storeId(k), kind: 'slot', label, declaration: slice(s.range), range: s.range });
        }
        if (perInstance) {
          for (let i = 0; i < length; i++) pushRead({ store: storeId(s.slots.slotOf(i)), member: owner, index: i, sub });
        } else {
          for (let k = 0; k < shown; k++) pushRead({ store: storeId(k), member: owner, index: null, sub });
        }
      } else if (s.kind === 'kv') {
        if (!perInstance) continue;
        const producerOf: number[] = [];
        for (let i = 0; i < length; i++) producerOf.push(s.producers.producerOf(i));
        kv.push({ member: owner, label: s.producers.label, producerOf, range: s.range });
      } else {
        // Per-token halting is a route too (its capacities are the reach of each step).
        const label = s.halting ? `halting: expected depth ${Q.toDecimalString(s.halting.expectedDepth, 3)} of ${s.capacities.length} steps` : `MoR: ${s.capacities.length} recursions`;
        notes.push({ kind: s.halting ? 'halt' : 'route', member: owner, index: null, label, range: s.range });
      }
    }
  }

  // Subtree modifiers, each drawn by the scheme that records its kind (SharingScheme.drawing):
  // ties and generated stores become store nodes, the rest notes.
  const drawings = new Map<string, SchemeDrawing>();
  for (const scheme of SHARING_SCHEMES) for (const kind of scheme.drawing?.effects ?? []) drawings.set(kind, scheme.drawing!);
  for (const mod of sharing.modifiers) {
    const reader = readerOf(mod.pattern);
    const drawing = drawings.get(mod.effect.kind);
    if (!reader || !drawing) continue;
    drawing.draw(mod, {
      reader,
      declaration: slice(mod.range),
      sharing,
      readerOf,
      addStore,
      addRead: (read, once = false) => {
        if (!once || !readKeys.has(readKey(read))) pushRead(read);
      },
      addNote: (note) => notes.push(note),
    });
  }
  // Statements read after the walk: parallel streams and token smashing, noted on the members they run.
  const p = m.parallel;
  if (p) {
    const label = p.cache === 'shared' ? `×${p.streams} workers, one KV cache` : `×${p.streams} streams${p.prefixTokens > 0 ? `, ${p.prefixTokens} prefix tokens each` : ''}`;
    m.members.slice(0, p.mergeIndex).forEach((member) => notes.push({ kind: 'parallel', member: member.name, index: null, label, range: p.range }));
    const merge = m.members[p.mergeIndex];
    if (merge) notes.push({ kind: 'parallel', member: merge.name, index: null, label: `${p.streams} streams merged (${p.aggregate})`, range: p.range });
  }
  // Layers whose parameters enter their neighbours' weights (LBDN sandwiches), noted per member.
  m.members.slice(0, STRUCTURE_MEMBER_LIMIT).forEach((member) => {
    for (const [label, count] of facts.neighbourSharing(member.node)) notes.push({ kind: 'neighbours', member: member.name, index: null, label: count > 1n ? `${label}, ×${groupDigits(count)} layers` : label, range: member.range });
  });
  for (const x of m.smashed) notes.push({ kind: 'smash', member: x.member, index: null, label: `smashed: ${Q.toDecimalString(x.tokensPerEntry, 3)} tokens per KV entry`, range: x.range });
  for (const h of sharing.headShares) {
    const target = readerOf(h.target.pattern);
    if (target) notes.push({ kind: 'heads', member: target.member, index: target.index, label: `head sharing saves ${groupDigits(h.savedParams)}`, range: h.range });
  }
  const classes = orderClasses(facts.kindsByClass.keys()).map((id) => ({ id, kinds: orderKinds(facts.kindsByClass.get(id) ?? []) }));
  if (!truncated) return { members, classes, stores, reads, kv, notes, truncated };
  // Past the member limit: what the left-out members read or carry is left out with them.
  const described = (x: { member: string }): boolean => byName().has(x.member);
  return { members, classes, stores, reads: reads.filter(described), kv: kv.filter(described), notes: notes.filter(described), truncated };
}

function readerOf(pattern: readonly PatternStep[]): Reader | undefined {
  const [head, ...rest] = pattern;
  if (!head || head.kind !== 'name') return undefined;
  let index: number | null = null;
  let sub = '';
  for (const step of rest) {
    if (step.kind === 'index') {
      if (sub === '' && index === null) index = step.index;
      else sub += `[${step.index}]`;
    } else sub += sub === '' ? step.name : `.${step.name}`;
  }
  return { member: head.name, index, sub };
}

function typeOf(node: ModuleNode): string {
  return node.kind === 'layer' ? node.layerKind : node.kind === 'block' ? node.blockName : `stack of ${node.length}`;
}

function memberData(member: ModelMember, facts: NodeFacts): MemberData {
  const node = member.node;
  const range = { start: member.range.start, end: member.range.end };
  const shape = facts.shape(node, member.name);
  return { name: member.name, kind: shape.kind, type: shape.type, length: shape.length, runs: shape.runs, range };
}

/** What a member's entry says of its node: the same for every member whose node (and MoE paths) are the same. */
interface MemberShape {
  readonly kind: MemberData['kind'];
  readonly type: string;
  readonly length: string;
  readonly runs: readonly RunData[];
}

function memberShape(node: ModuleNode, moe: readonly MoeData[], facts: NodeFacts): MemberShape {
  if (node.kind !== 'stack') {
    return { kind: node.kind, type: typeOf(node), length: '1', runs: [{ type: typeOf(node), count: '1', firstIndex: '0', moe, kv: facts.cachesKv(node), classes: facts.classes(node) }] };
  }
  const runs: RunData[] = [];
  let first = 0n;
  for (const run of node.runs) {
    const prev = runs[runs.length - 1];
    const type = typeOf(run.node);
    const moe = facts.moe(run.node, '');
    const kv = facts.cachesKv(run.node);
    // Adjacent runs of equal type, MoE shape and KV role read as one run in the picture.
    if (prev && prev.type === type && prev.kv === kv && JSON.stringify(prev.moe) === JSON.stringify(moe)) runs[runs.length - 1] = { ...prev, count: (BigInt(prev.count) + run.count).toString() };
    else runs.push({ type, count: run.count.toString(), firstIndex: first.toString(), moe, kv, classes: facts.classes(run.node) });
    first += run.count;
  }
  return { kind: 'stack', type: runs.length === 1 ? `${runs[0]!.type} ×${node.length}` : `stack of ${node.length}`, length: node.length.toString(), runs };
}

/**
 * Per-node facts, memoised by node id: nodes are hash-consed, so the 10,000 members of a
 * written-out spec share a handful of nodes and each is inspected once. One per description.
 */
class NodeFacts {
  private readonly kv = new Map<number, boolean>();

  private readonly classed = new Map<number, LayerClass[]>();
  /** Layer kinds met per class, for the legend. */
  readonly kindsByClass = new Map<LayerClass, Set<string>>();

  classes(node: ModuleNode): LayerClass[] {
    let v = this.classed.get(node.id);
    if (v === undefined) {
      const found = new Set<LayerClass>();
      if (node.kind === 'layer') {
        for (const c of layerClassesOf(node.cost)) {
          found.add(c);
          const kinds = this.kindsByClass.get(c) ?? new Set<string>();
          kinds.add(node.layerKind);
          this.kindsByClass.set(c, kinds);
        }
      } else if (node.kind === 'block') {
        for (const m of node.members) for (const c of this.classes(m.node)) found.add(c);
      } else {
        for (const r of node.runs) for (const c of this.classes(r.node)) found.add(c);
      }
      this.classed.set(node.id, (v = orderClasses(found)));
    }
    return v;
  }

  private readonly sharingNeighbours = new Map<number, ReadonlyMap<string, bigint>>();

  /** The layers under `node` that share parameters with their neighbours, by what they share, and how many. */
  neighbourSharing(node: ModuleNode): ReadonlyMap<string, bigint> {
    let v = this.sharingNeighbours.get(node.id);
    if (v === undefined) {
      const out = new Map<string, bigint>();
      const add = (from: ReadonlyMap<string, bigint>, times: bigint): void => from.forEach((n, label) => out.set(label, (out.get(label) ?? 0n) + n * times));
      if (node.kind === 'layer') {
        if (node.cost.neighbourSharing !== undefined) out.set(node.cost.neighbourSharing, 1n);
      } else if (node.kind === 'block') node.members.forEach((m) => add(this.neighbourSharing(m.node), 1n));
      else node.runs.forEach((r) => add(this.neighbourSharing(r.node), BigInt(r.count)));
      this.sharingNeighbours.set(node.id, (v = out));
    }
    return v;
  }

  cachesKv(node: ModuleNode): boolean {
    let v = this.kv.get(node.id);
    if (v === undefined) this.kv.set(node.id, (v = cachesKv(node)));
    return v;
  }

  private readonly relativeMoes = new Map<number, readonly RelativeMoe[]>();

  /** The MoE layers inside `node`, their paths under `path` (a member's name, or '' for a stack's instances). */
  moe(node: ModuleNode, path: string): readonly MoeData[] {
    let relative = this.relativeMoes.get(node.id);
    if (relative === undefined) this.relativeMoes.set(node.id, (relative = moeOf(node)));
    return relative.map((x) => ({ path: path && x.sub ? `${path}.${x.sub}` : path || x.sub || x.layerKind, experts: x.experts, active: x.active, ...(x.adapter === undefined ? {} : { adapter: x.adapter }), ...(x.iterations === undefined ? {} : { iterations: x.iterations }) }));
  }

  private readonly shapes = new Map<number, MemberShape>();

  /**
   * A member's kind, type, length and runs, built once per node: the 10,000 members of a
   * written-out spec share a handful of nodes (only a member holding MoE layers names its own
   * paths, so its runs are its own).
   */
  shape(node: ModuleNode, member: string): MemberShape {
    const moe = node.kind === 'stack' ? [] : this.moe(node, member);
    if (moe.length > 0) return memberShape(node, moe, this);
    let v = this.shapes.get(node.id);
    if (v === undefined) this.shapes.set(node.id, (v = memberShape(node, moe, this)));
    return v;
  }
}

/** An MoE layer under a node: its path below it ('' for the node itself), its kind (the path of a layer at a stack's top), its experts. */
interface RelativeMoe {
  readonly sub: string;
  readonly layerKind: string;
  readonly experts: number;
  readonly active: number;
  readonly adapter?: number;
  readonly iterations?: number;
}

function cachesKv(node: ModuleNode): boolean {
  if (node.kind === 'layer') return node.cost.attention !== undefined && (node.cost.attention.causal || node.cost.attention.cross);
  if (node.kind === 'block') return node.members.some((m) => cachesKv(m.node));
  return node.runs.some((r) => cachesKv(r.node));
}

function moeOf(node: ModuleNode): RelativeMoe[] {
  const out: RelativeMoe[] = [];
  const visit = (n: ModuleNode, p: string): void => {
    if (out.length >= 8) return;
    if (n.kind === 'layer') {
      const bank = n.cost.weights.find((w) => w.copies > 1);
      // PERFT-E's units ride in the expert bank (`expert_adapter_down` [r, d]): drawn on the layer's line.
      const unit = n.cost.weights.find((w) => w.name === 'expert_adapter_down');
      // Chain-of-Experts: the bank's typed routing says how many selections a token makes.
      const draws = bank?.routing?.draws ?? 1;
      if (bank) out.push({ sub: p, layerKind: n.layerKind, experts: bank.copies, active: bank.activeCopies, ...(unit ? { adapter: unit.shape[0]! } : {}), ...(draws > 1 ? { iterations: draws } : {}) });
    } else if (n.kind === 'block') {
      for (const m of n.members) visit(m.node, p ? `${p}.${m.name}` : m.name);
    } else {
      const seen = new Set<number>();
      for (const r of n.runs) {
        if (seen.has(r.node.id)) continue;
        seen.add(r.node.id);
        visit(r.node, p);
      }
    }
  };
  visit(node, '');
  return out;
}

/** Layer kind names in the registry's order (the legend lists them so). */
function orderKinds(kinds: Iterable<string>): string[] {
  const set = new Set(kinds);
  return [...LAYER_KINDS.keys()].filter((k) => set.has(k));
}
