// Deterministic layout of a model's architecture as data: top-level members top to bottom,
// stacks as a header with one row per instance (or per run when collapsed), shared stores in a
// column on the right placed beside their readers, KV reuse as arcs in a left gutter.
// The same model and the same collapsed set give the same coordinates, and positions depend
// only on structure (names, instance counts, stores), never on parameter values.

import type { LayerClass } from './layer-classes.js';
import type { ArchitectureLayout, Count, KvRole, LayoutLink, LayoutNode, MemberData, ModelData, ReadData, TreeData } from './types.js';

/** Stacks longer than this start collapsed. */
export const EXPAND_LIMIT = 128;

export const GEOMETRY = {
  pad: 16,
  kvGutter: 56,
  nodeW: 260,
  indent: 14,
  rowH: 28,
  rowGap: 6,
  groupH: 26,
  storeGap: 150,
  storeW: 230,
  storeH: 30,
  palette: 6,
} as const;

export interface LayoutOptions {
  /** Names of the stacks drawn collapsed; when omitted, stacks longer than EXPAND_LIMIT are. */
  readonly collapsed?: readonly string[];
}

/**
 * Most instances a stack is drawn with one row each: past it a stack is always drawn as its
 * runs, whatever `collapsed` says (a stack may hold 2⁶⁰ instances; its counts are decimal strings).
 */
export const EXPANDABLE_LIMIT = 10_000;

export function defaultCollapsed(model: Pick<ModelData, 'structure'>): string[] {
  return model.structure.members.filter((m) => m.kind === 'stack' && BigInt(m.length) > EXPAND_LIMIT).map((m) => m.name);
}

/** Whether a stack of `length` instances may be drawn one row per instance. */
function expandable(length: Count): boolean {
  return BigInt(length) <= EXPANDABLE_LIMIT;
}

const r1 = (v: number): number => Math.round(v * 10) / 10;

export function layoutArchitecture(model: Pick<ModelData, 'structure' | 'tree'>, options: LayoutOptions = {}): ArchitectureLayout {
  const G = GEOMETRY;
  const s = model.structure;
  const collapsed = new Set(options.collapsed ?? defaultCollapsed(model));
  const storeIndex = new Map(s.stores.map((st, i) => [st.id, i]));
  const readsByMember = new Map<string, ReadData[]>();
  for (const r of s.reads) {
    const list = readsByMember.get(r.member) ?? [];
    list.push(r);
    readsByMember.set(r.member, list);
  }
  const kvByMember = new Map(s.kv.map((k) => [k.member, k]));
  const hasStores = s.stores.length > 0;
  const nodeX = G.pad + G.kvGutter;
  const nodes: LayoutNode[] = [];
  const links: LayoutLink[] = [];
  /** store id → reader node ids, in reading order, deduplicated. */
  const readers = new Map<string, string[]>();
  const centreY = new Map<string, number>();
  const addRead = (store: string, nodeId: string): void => {
    const list = readers.get(store) ?? [];
    if (list[list.length - 1] !== nodeId && !list.includes(nodeId)) list.push(nodeId);
    readers.set(store, list);
  };
  let y = G.pad;

  for (const m of s.members.length > 0 ? s.members : fallbackMembers(model.tree)) {
    const reads = readsByMember.get(m.name) ?? [];
    const notes = s.notes.filter((n) => n.member === m.name);
    const kv = kvByMember.get(m.name);
    if (m.kind !== 'stack') {
      const id = `m:${m.name}`;
      const own = reads.map((r) => r.store);
      const colour = colourOf(own, storeIndex);
      nodes.push(base(id, 'instance', m.name, m.type, nodeX, y, G.nodeW, G.rowH, colour, m, '0', '1', m.runs[0]?.kv ? 'producer' : 'none', moeLabels(m.runs[0]?.moe ?? []), notes.map((n) => n.label), m.range, m.runs[0]?.classes));
      for (const st of own) addRead(st, id);
      centreY.set(id, y + G.rowH / 2);
      y += G.rowH + G.rowGap;
      continue;
    }
    const many = BigInt(m.length) > 1n;
    const isCollapsed = (collapsed.has(m.name) && many) || !expandable(m.length);
    const groupId = `g:${m.name}`;
    const declared = [...new Set(s.stores.filter((st) => reads.some((r) => r.store === st.id)).map((st) => st.declaration))];
    const detail = [m.type, ...declared, ...(kv ? [`share kv: ${kv.label}`] : [])].join(' · ');
    nodes.push({ ...base(groupId, 'group', m.name, detail, nodeX, y, G.nodeW, G.groupH, -1, m, '0', m.length, 'none', [], notes.filter((n) => n.index === null).map((n) => n.label), m.range), collapsible: many && expandable(m.length), collapsed: isCollapsed });
    centreY.set(groupId, y + G.groupH / 2);
    y += G.groupH + G.rowGap;
    const x = nodeX + G.indent;
    const w = G.nodeW - G.indent;
    // Per-instance reads by index; reads with no index belong to the group.
    const byIndex = new Map<number, string[]>();
    /** Stores every instance reads (declared on the whole stack): they colour the rows too. */
    const groupStores: string[] = [];
    for (const r of reads) {
      if (r.index === null) {
        addRead(r.store, groupId);
        if (!groupStores.includes(r.store)) groupStores.push(r.store);
      }
      else {
        const list = byIndex.get(r.index) ?? [];
        list.push(r.store);
        byIndex.set(r.index, list);
      }
    }
    const roleOf = (i: number, runProduces: boolean): KvRole => (!runProduces ? 'none' : kv && kv.producerOf[i] !== i ? 'consumer' : 'producer');
    if (!isCollapsed) {
      const instY: number[] = [];
      for (const run of m.runs) {
        const produces = run.kv;
        // An expanded stack holds at most EXPANDABLE_LIMIT instances: its indices are small numbers.
        const [first, count] = [Number(run.firstIndex), Number(run.count)];
        for (let i = first; i < first + count; i++) {
          const id = `i:${m.name}:${i}`;
          const own = byIndex.get(i) ?? [];
          const instNotes = notes.filter((n) => n.index === i).map((n) => n.label);
          nodes.push(base(id, 'instance', `${m.name}[${i}]`, run.type, x, y, w, G.rowH, colourOf([...own, ...groupStores], storeIndex), m, String(i), '1', roleOf(i, produces), moeLabels(run.moe), instNotes, m.range, run.classes));
          for (const st of own) addRead(st, id);
          centreY.set(id, y + G.rowH / 2);
          instY[i] = y + G.rowH / 2;
          y += G.rowH + G.rowGap;
        }
      }
      if (kv) {
        for (let i = 0; i < kv.producerOf.length; i++) {
          const p = kv.producerOf[i]!;
          if (p === i || instY[i] === undefined || instY[p] === undefined) continue;
          const y1 = instY[i]!;
          const y2 = instY[p]!;
          const bend = Math.min(G.kvGutter - 8, 10 + Math.abs(y1 - y2) / 6);
          links.push({ id: `kv:${m.name}:${i}`, kind: 'kv', source: `i:${m.name}:${i}`, target: `i:${m.name}:${p}`, d: `M${r1(x)},${r1(y1)} C${r1(x - bend)},${r1(y1)} ${r1(x - bend)},${r1(y2)} ${r1(x)},${r1(y2)}` });
        }
      }
    } else {
      // Runs are visited by what they hold, never instance by instance (a run may hold 2⁶⁰):
      // the indexed reads in ascending order, consumed run by run, and the KV roles from the
      // producer map, which exists only for a stack `share kv` indexes (at most 2⁵³ instances).
      const indexed = [...byIndex.keys()].sort((a, b) => a - b);
      let nextRead = 0;
      for (const run of m.runs) {
        const first = BigInt(run.firstIndex);
        const last = first + BigInt(run.count) - 1n;
        const id = `r:${m.name}:${first}-${last}`;
        const own: string[] = [];
        while (nextRead < indexed.length && BigInt(indexed[nextRead]!) < first) nextRead++;
        for (; nextRead < indexed.length && BigInt(indexed[nextRead]!) <= last; nextRead++) {
          for (const st of byIndex.get(indexed[nextRead]!)!) if (!own.includes(st)) own.push(st);
        }
        const roles = new Set<KvRole>();
        if (run.kv && kv) for (let i = Number(first); i <= Number(last); i++) roles.add(roleOf(i, true));
        else roles.add(roleOf(0, run.kv));
        const role: KvRole = roles.size > 1 ? 'mixed' : ([...roles][0] ?? 'none');
        const label = run.count !== '1' ? `${m.name}[${first}..${last}] ×${run.count}` : `${m.name}[${first}]`;
        const runNotes = notes.filter((n) => n.index !== null && BigInt(n.index) >= first && BigInt(n.index) <= last).map((n) => `${n.label} [${n.index}]`);
        nodes.push(base(id, 'run', label, run.type, x, y, w, G.rowH, colourOf([...own, ...groupStores], storeIndex), m, run.firstIndex, run.count, role, moeLabels(run.moe), runNotes, m.range, run.classes));
        for (const st of own) addRead(st, id);
        centreY.set(id, y + G.rowH / 2);
        y += G.rowH + G.rowGap;
      }
    }
  }

  // Stores: beside the barycentre of their readers, pushed down to avoid overlaps.
  const storeX = nodeX + G.nodeW + G.storeGap;
  const placed = s.stores
    .map((st, i) => {
      const ids = readers.get(st.id) ?? [];
      const ys = ids.map((id) => centreY.get(id) ?? 0);
      const ideal = ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : G.pad;
      return { st, i, ids, ideal };
    })
    .sort((a, b) => a.ideal - b.ideal || a.i - b.i);
  let storeBottom = G.pad;
  const storeNodes: LayoutNode[] = [];
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  for (const p of placed) {
    const top = Math.max(p.ideal - G.storeH / 2, storeBottom);
    const id = `s:${p.st.id}`;
    storeNodes[p.i] = {
      id,
      kind: 'store',
      label: p.st.label,
      detail: p.st.declaration,
      x: storeX,
      y: r1(top),
      w: G.storeW,
      h: G.storeH,
      colour: p.i % G.palette,
      member: '',
      index: '0',
      count: String(p.ids.length),
      kv: 'none',
      moe: [],
      classes: [],
      notes: [],
      range: p.st.range,
      collapsible: false,
      collapsed: false,
    };
    storeBottom = top + G.storeH + G.rowGap;
    const sy = top + G.storeH / 2;
    for (const rid of p.ids) {
      const n = nodeById.get(rid);
      if (!n) continue;
      const x1 = n.x + n.w;
      const y1 = n.y + n.h / 2;
      const mx = (x1 + storeX) / 2;
      links.push({ id: `l:${rid}>${id}`, kind: 'reads', source: rid, target: id, d: `M${r1(x1)},${r1(y1)} C${r1(mx)},${r1(y1)} ${r1(mx)},${r1(sy)} ${r1(storeX)},${r1(sy)}` });
    }
  }
  for (const n of storeNodes) if (n !== undefined) nodes.push(n);
  const width = (hasStores ? storeX + G.storeW : nodeX + G.nodeW) + G.pad;
  const height = Math.max(y, storeBottom) + G.pad - G.rowGap;
  return { width, height: r1(height), nodes, links };
}

function base(
  id: string,
  kind: LayoutNode['kind'],
  label: string,
  detail: string,
  x: number,
  y: number,
  w: number,
  h: number,
  colour: number,
  m: MemberData,
  index: Count,
  count: Count,
  kv: KvRole,
  moe: readonly string[],
  notes: readonly string[],
  range: { start: number; end: number },
  classes: readonly LayerClass[] = [],
): LayoutNode {
  return { id, kind, label, detail, x: r1(x), y: r1(y), w, h, colour, member: m.name, index, count, kv, moe, classes, notes, range, collapsible: false, collapsed: false };
}

function colourOf(stores: readonly string[], storeIndex: ReadonlyMap<string, number>): number {
  let best = -1;
  for (const st of stores) {
    const i = storeIndex.get(st);
    if (i !== undefined && (best < 0 || i < best)) best = i;
  }
  return best < 0 ? -1 : best % GEOMETRY.palette;
}

function moeLabels(moe: readonly { path: string; experts: number; active: number; adapter?: number; iterations?: number }[]): string[] {
  // A Chain-of-Experts layer's C·k applied experts come from C selections of k: said, so that it does not read as one top-C·k.
  return moe.map((x) => `${x.path}: ${x.active}/${x.experts} experts${x.iterations === undefined ? '' : ` in ${x.iterations} iterations`}${x.adapter === undefined ? '' : `, a rank-${x.adapter} unit in each`}`);
}

/** Without a structure (a spec the sharing stage could not resolve), draw the report's members. */
function fallbackMembers(tree: TreeData): MemberData[] {
  return tree.children.map((c) => ({
    name: c.name,
    kind: c.kind === 'stack' ? 'stack' : c.kind === 'block' ? 'block' : 'layer',
    type: c.type,
    length: c.kind === 'stack' ? c.count : '1',
    runs: c.kind === 'stack' ? c.children.map((r) => ({ type: r.type, count: r.count, firstIndex: r.firstIndex, moe: [], kv: false, classes: [] })) : [{ type: c.type, count: '1', firstIndex: '0', moe: [], kv: false, classes: [] }],
    range: c.range,
  }));
}
