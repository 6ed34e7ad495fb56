// How far back a shared KV cache must reach. With `share kv STACK: …`, a borrowing instance's
// attention reads the cache written by the same layer (same path) of its producing instance.
// The borrower attends the keys its own geometry allows — its window, its chunk, or the whole
// context — so the producer must cache the furthest of those reaches over itself and all its
// readers: a sliding-window producer (Gemma-2's local layers) serving a full-attention reader
// caches the whole context, not its window. KV bytes and decode FLOPs then describe the same
// keys. (The reverse — a full producer serving a windowed reader — needs nothing: the cache
// already holds the reader's window.) docs/language.md, "Sharing KV across layers".
//
// The walk keeps its totals per attention geometry; this file finds the producers whose cache
// must grow, and moves them to an entry that carries the longer reach (`AttentionEntry.cache`).

import type { AttentionInfo } from '../layers/layer-kind.js';
import type { ModuleNode, StackNode } from '../model/module-tree.js';
import * as Q from '../numbers/rational.js';
import type { KvProducerMap } from '../sharing/slot-map.js';
import { attentionKey, type AttentionEntry, type Totals } from './totals.js';

/** Tokens a layer keeps in its cache: the last `window` or `chunk` tokens; undefined: all of them. */
export type Reach = number | undefined;

/** The keys a causal self-attention layer can attend at decode: its chunk, else its window, else all. */
export function reachOf(info: AttentionInfo): Reach {
  return info.chunk ?? info.window;
}

/** Whether reach a covers strictly more keys than reach b at long enough contexts. */
export function further(a: Reach, b: Reach): boolean {
  if (a === undefined) return b !== undefined;
  return b !== undefined && a > b;
}

/** One cached self-attention layer of an instance, by its path inside the instance. */
export interface CachedLayer {
  readonly info: AttentionInfo;
  /** Layers at this path per instance (a nested stack's run of identical layers; exact at any size). */
  readonly count: bigint;
}

/**
 * The causal self-attention layers of an instance by path. Nested stacks are keyed by run
 * (`[start+count]`), so two instances pair their layers only where their layouts agree, which
 * is where the exporter's path-for-path borrowing (store-resolver.ts) pairs them too.
 */
export function cachedLayers(node: ModuleNode): ReadonlyMap<string, CachedLayer> {
  const out = new Map<string, CachedLayer>();
  const visit = (n: ModuleNode, path: string, count: bigint): void => {
    if (n.kind === 'layer') {
      const a = n.cost.attention;
      if (a && a.causal && !a.cross) out.set(path, { info: a, count });
    } else if (n.kind === 'block') {
      for (const m of n.members) visit(m.node, `${path}.${m.name}`, count);
    } else {
      let start = 0n;
      for (const run of n.runs) {
        visit(run.node, `${path}[${start}+${run.count}]`, count * run.count);
        start += run.count;
      }
    }
  };
  visit(node, '', 1n);
  return out;
}

/**
 * The attention entries of a stack's producers whose cache must reach further than their own
 * geometry: each listed entry replaces `producers` copies in the plain entry of its geometry.
 * `capacityOf(i)` is the share of tokens instance i sees (Mixture-of-Recursions routing).
 */
export function extendedCaches(stack: StackNode, producers: KvProducerMap, layersOf: (node: ModuleNode) => ReadonlyMap<string, CachedLayer>, capacityOf: (i: number) => Q.Rational): AttentionEntry[] {
  // Within one run every instance has the same geometry: only a cache read across runs can
  // need a longer reach. `foreignProducers` finds those in closed form for every(g) (O(runs))
  // and a periodic tie (O(runs · period)); an explicit map is scanned (O(N), as it is stored).
  if (stack.runs.length < 2) return [];
  // A stack `share kv` addresses holds at most 2⁵³ − 1 instances (indexable-stack.ts): its
  // instance indices are exact numbers.
  const runStarts: number[] = [];
  let start = 0;
  for (const run of stack.runs) {
    runStarts.push(start);
    start += Number(run.count);
  }
  const nodeAt = (i: number): ModuleNode => {
    let lo = 0;
    let hi = runStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runStarts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return stack.runs[lo]!.node;
  };
  // The furthest reach each (producer, path) must serve, where it exceeds the producer's own.
  const needs = new Map<number, Map<string, Reach>>();
  stack.runs.forEach((run, r) => {
    const readers = layersOf(run.node);
    if (readers.size === 0) return;
    for (const p of producers.foreignProducers(runStarts[r]!, runStarts[r]! + Number(run.count))) {
      const own = layersOf(nodeAt(p));
      for (const [path, layer] of readers) {
        const mine = own.get(path);
        if (!mine) continue;
        const need = needs.get(p)?.get(path) ?? reachOf(mine.info);
        if (!further(reachOf(layer.info), need)) continue;
        const byPath = needs.get(p) ?? new Map<string, Reach>();
        byPath.set(path, reachOf(layer.info));
        needs.set(p, byPath);
      }
    }
  });
  const out = new Map<string, AttentionEntry>();
  for (const [p, byPath] of needs) {
    const own = layersOf(nodeAt(p));
    for (const [path, reach] of byPath) {
      const layer = own.get(path)!;
      const key = `${attentionKey(layer.info)}|cache:${reach ?? 'all'}`;
      const copies = Q.mul(capacityOf(p), Q.fromBigInt(layer.count));
      const prev = out.get(key);
      out.set(key, { info: layer.info, instances: Q.ZERO, producers: prev ? Q.add(prev.producers, copies) : copies, cache: { reach } });
    }
  }
  return [...out.values()];
}

/** The totals with each extended producer moved from its geometry's plain entry to its own. */
export function withExtendedCaches(totals: Totals, extended: readonly AttentionEntry[]): Totals {
  if (extended.length === 0) return totals;
  const attention = new Map(totals.attention);
  for (const e of extended) {
    const plainKey = attentionKey(e.info);
    const plain = attention.get(plainKey);
    if (!plain) continue;
    attention.set(plainKey, { ...plain, producers: Q.sub(plain.producers, e.producers) });
    const key = `${plainKey}|cache:${e.cache?.reach ?? 'all'}`;
    const prev = attention.get(key);
    attention.set(key, prev ? { ...prev, producers: Q.add(prev.producers, e.producers) } : e);
  }
  return { ...totals, attention };
}
