// How many positions a decode step's KV cache holds, and which of them each layer reading it
// sees. A cache is written by one layer (its producer) and read by it and by every layer that
// borrows its K/V (`share kv`): Gemma 3n's shared tail, cross-layer attention, Llama 4-style
// chunked layers under `share kv`. As the engine counts it (src/core/analysis/kv-reach.ts), the
// producer caches the furthest reach among itself and its readers — its chunk, its window or the
// whole context — so a sliding or chunked producer serving a full-attention reader caches the whole
// context; each reader then masks the cached positions its own geometry does not see.

import { further, reachOf, type Reach } from '../../src/core/index.js';
import { kvProducerPath, pathText, type ModuleNode, type PathStep } from '../engine-bridge.js';
import type { EmitContext } from './context.js';
import type { AttentionInfo } from '../../src/core/index.js';

/** One cache of a decode graph: how far it reaches, and whether every layer reading it has that reach. */
export interface CacheGroup {
  /** The furthest reach among the producer and its readers (undefined: the whole context). */
  readonly reach: Reach;
  /** True when every layer reading the cache has the same window and chunk as its producer. */
  readonly uniform: boolean;
  /** True when a layer reading the cache is chunked (chunked layers run on the standard ops, whose key layout the whole group then shares). */
  readonly chunked: boolean;
}

const groupsByGraph = new WeakMap<object, ReadonlyMap<string, CacheGroup>>();

/** The cache group of the producer at `cachePath` (a layer that borrows no KV is its own producer). */
export function cacheGroup(ctx: EmitContext, cachePath: readonly PathStep[]): CacheGroup {
  let groups = groupsByGraph.get(ctx.g);
  if (!groups) groupsByGraph.set(ctx.g, (groups = collectGroups(ctx)));
  const hit = groups.get(pathText(cachePath));
  if (!hit) throw new Error(`no cached attention layer at ${pathText(cachePath)}`);
  return hit;
}

/**
 * The past positions of a decode step at position `past` that a layer sees: those of its own
 * chunk (past mod chunk), the last `window`, or all of them. The cache may hold more (a reader
 * of its producer reaches further); the oldest are then masked.
 */
export function visiblePast(info: AttentionInfo, past: number): number {
  if (info.chunk !== undefined) return past % info.chunk;
  return Math.min(past, info.window ?? past);
}

/** Positions of a decode step's cache at `past`: the last min(past, reach). */
export function cachedPositions(group: CacheGroup, past: number): number {
  return Math.min(past, group.reach ?? past);
}

/** Every causal self-attention instance of the model, grouped by the producer whose cache it reads. */
function collectGroups(ctx: EmitContext): ReadonlyMap<string, CacheGroup> {
  const readers = new Map<string, { producer: AttentionInfo | undefined; infos: AttentionInfo[] }>();
  const visit = (node: ModuleNode, steps: readonly PathStep[]): void => {
    if (node.kind === 'layer') {
      const info = node.cost.attention;
      if (!info || !info.causal || info.cross) return;
      const producer = kvProducerPath(ctx.model, steps);
      const key = pathText(producer ?? steps);
      const entry = readers.get(key) ?? { producer: undefined, infos: [] };
      if (!producer) entry.producer = info;
      entry.infos.push(info);
      readers.set(key, entry);
    } else if (node.kind === 'block') {
      for (const m of node.members) visit(m.node, [...steps, { kind: 'name', name: m.name }]);
    } else {
      let index = 0;
      for (const run of node.runs) for (let c = 0; c < run.count; c++, index++) visit(run.node, [...steps, { kind: 'index', index }]);
    }
  };
  for (const m of ctx.model.members) visit(m.node, [{ kind: 'name', name: m.name }]);
  const groups = new Map<string, CacheGroup>();
  for (const [key, { producer, infos }] of readers) {
    const own = producer ?? infos[0]!;
    let reach = reachOf(own);
    for (const info of infos) if (further(reachOf(info), reach)) reach = reachOf(info);
    const uniform = infos.every((i) => i.window === own.window && i.chunk === own.chunk);
    groups.set(key, { reach, uniform, chunked: infos.some((i) => i.chunk !== undefined) });
  }
  return groups;
}
