// JSON-safe renderings of report parts: exact counts as decimal strings (JSON-RPC and webview
// messages cannot carry bigint). One converter for the language server's summaries and the
// dashboard's data, so both always say the same digits.

import type { NodeReport, ParamCounts } from './report-types.js';
import type { TextRange } from '../syntax/syntax-tree.js';

export interface DecimalCounts {
  readonly stored: string;
  readonly effective: string;
  readonly active: string;
  readonly trainable: string;
}

export interface DecimalTree {
  readonly name: string;
  readonly kind: NodeReport['kind'];
  readonly type: string;
  /** Instances this node stands for and the first one's index, exact decimal strings (they pass 2⁵³). */
  readonly count: string;
  readonly firstIndex: string;
  readonly params: DecimalCounts;
  readonly flopsPerToken: string;
  readonly kvCacheBytes: string;
  readonly range: TextRange;
  readonly children: readonly DecimalTree[];
}

export function decimalCounts(p: ParamCounts): DecimalCounts {
  return { stored: p.stored.toString(), effective: p.effective.toString(), active: p.active.toString(), trainable: p.trainable.toString() };
}

/** The tree with exact counts as decimal strings, down to `depth` levels below `n` (all by default). */
export function decimalTree(n: NodeReport, depth = Infinity): DecimalTree {
  return new DecimalTreeWriter().tree(n, depth);
}

/**
 * One conversion of a tree. The walk shares the count objects and subtrees of identical members
 * (10,000 written-out layers of one block share one), so each is written in decimal once and the
 * copies share the result, as the report shares them.
 */
class DecimalTreeWriter {
  private readonly counts = new Map<ParamCounts, DecimalCounts>();
  private readonly trees = new Map<NodeReport, { readonly depth: number; readonly tree: DecimalTree }>();

  tree(n: NodeReport, depth: number): DecimalTree {
    const hit = this.trees.get(n);
    if (hit && hit.depth === depth) return hit.tree;
    let params = this.counts.get(n.params);
    if (!params) this.counts.set(n.params, (params = decimalCounts(n.params)));
    const tree: DecimalTree = {
      name: n.name,
      kind: n.kind,
      type: n.type,
      count: n.count.toString(),
      firstIndex: n.firstIndex.toString(),
      params,
      flopsPerToken: n.flopsPerToken.toString(),
      kvCacheBytes: n.kvCacheBytes.toString(),
      range: { start: n.range.start, end: n.range.end },
      children: depth > 0 ? n.children.map((c) => this.tree(c, depth - 1)) : [],
    };
    this.trees.set(n, { depth, tree });
    return tree;
  }
}
