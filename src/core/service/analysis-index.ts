// Lookups over one AnalysisResult that several services share: evaluated values by binding
// name, report nodes by binding range, and model reports by name. Built lazily on first use
// and cached per result, so a hover on a 10,000-layer spec indexes the trees once, not per
// request, and the keystroke path (diagnostics) never pays for it.

import type { AnalysisResult } from '../analysis/analyze.js';
import type { ModelReport, NodeReport } from '../analysis/report-types.js';
import type { EvaluatedBinding } from '../semantics/evaluator.js';
import type { Value } from '../semantics/values.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import { rangeKey } from './syntax-walk.js';

/** A report node found at a binding, with the model or variant whose tree holds it. */
export interface NodeOccurrence {
  readonly model: ModelReport;
  readonly node: NodeReport;
  /** The enclosing nodes, root (the model) first. */
  readonly ancestors: readonly NodeReport[];
}

export interface AnalysisIndex {
  /** The evaluations of the binding whose name is at `nameRange`, in evaluation order. */
  valuesOf(nameRange: TextRange): readonly EvaluatedBinding[];
  /** Report nodes whose range is `range` (a binding's range, or a block declaration's for runs). */
  nodesAt(range: TextRange): readonly NodeOccurrence[];
  model(name: string): ModelReport | undefined;
}

const cache = new WeakMap<AnalysisResult, AnalysisIndex>();

export function indexOf(result: AnalysisResult): AnalysisIndex {
  let index = cache.get(result);
  if (!index) {
    index = buildIndex(result);
    cache.set(result, index);
  }
  return index;
}

function buildIndex(result: AnalysisResult): AnalysisIndex {
  let values: Map<string, EvaluatedBinding[]> | undefined;
  let nodes: Map<string, NodeOccurrence[]> | undefined;
  const valuesOf = (nameRange: TextRange): readonly EvaluatedBinding[] => {
    if (!values) {
      values = new Map();
      for (const e of result.evaluated) {
        const key = rangeKey(e.binding.name.range);
        const list = values.get(key);
        if (list) list.push(e);
        else values.set(key, [e]);
      }
    }
    return values.get(rangeKey(nameRange)) ?? [];
  };
  const nodesAt = (range: TextRange): readonly NodeOccurrence[] => {
    if (!nodes) {
      const map = new Map<string, NodeOccurrence[]>();
      for (const model of result.models) indexTree(model, model.tree, [], map);
      nodes = map;
    }
    return nodes.get(rangeKey(range)) ?? [];
  };
  const byName = new Map(result.models.map((m) => [m.name, m]));
  return { valuesOf, nodesAt, model: (name) => byName.get(name) };
}

/**
 * Indexes a model's tree. Runs of a stack share their instance's child reports, so each report
 * object is visited once: a block member appears once per distinct instance, not per run.
 */
function indexTree(model: ModelReport, node: NodeReport, ancestors: readonly NodeReport[], map: Map<string, NodeOccurrence[]>): void {
  const stack: { node: NodeReport; ancestors: readonly NodeReport[] }[] = [{ node, ancestors }];
  const visited = new Set<NodeReport>();
  while (stack.length > 0) {
    const { node: n, ancestors: a } = stack.pop()!;
    if (n.kind === 'weight' || visited.has(n)) continue;
    visited.add(n);
    // A node written in an imported file has offsets into that file: never one of this file's ranges.
    if (n.source === undefined) {
      const key = rangeKey(n.range);
      const list = map.get(key);
      const occurrence: NodeOccurrence = { model, node: n, ancestors: a };
      if (list) list.push(occurrence);
      else map.set(key, [occurrence]);
    }
    const next = [...a, n];
    for (let i = n.children.length - 1; i >= 0; i--) stack.push({ node: n.children[i]!, ancestors: next });
  }
}

/** A value's type in a few words, for hovers and completion details. */
export function valueKind(v: Value): string {
  switch (v.kind) {
    case 'number':
      return v.unit === 'count' ? 'number' : v.unit === 'bytes' ? 'size' : 'duration';
    case 'module':
      return v.node.kind === 'stack' ? 'stack' : v.node.kind === 'block' ? 'block instance' : 'layer';
    case 'layerKind':
      return 'layer kind';
    default:
      return v.kind;
  }
}

/**
 * How many instances of a block run in one model, from its run nodes; undefined when a run sits
 * inside a repeated parent (shared reports are indexed once, so the product is not visible).
 */
export function instancesIn(occurrences: readonly NodeOccurrence[], model: ModelReport): bigint | undefined {
  let total = 0n;
  for (const o of occurrences) {
    if (o.model !== model) continue;
    if (o.ancestors.slice(1, -1).some((a) => a.count !== 1n)) return undefined;
    total += o.node.count;
  }
  return total;
}

/** What one instance of a block applies: the sum of its members' effective params and FLOPs. */
export function instanceTotals(node: NodeReport): { params: bigint; flops: bigint } {
  if (node.children.length === 0 && node.count > 0n) {
    return { params: node.params.effective / node.count, flops: node.flopsPerToken / node.count };
  }
  let params = 0n;
  let flops = 0n;
  for (const c of node.children) {
    params += c.params.effective;
    flops += c.flopsPerToken;
  }
  return { params, flops };
}
