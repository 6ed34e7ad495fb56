// The budget report as JSON: what `npas budget FILE --json` prints and what the language server
// answers to `npas/budgetReport` (the editor's Export Budget Report writes it to a file). One
// writer for both, so a script reads one shape whichever front end produced it; counts are exact
// JSON integers (exact-json.ts).

import type { ModelReport, NodeReport } from './report-types.js';
import { resolvePrecision } from './precision.js';
import { toJson } from '../text/exact-json.js';

/** How the report is written. */
export interface BudgetJsonOptions {
  /** Levels of the module tree listed below the members (default 2, as `--depth`). */
  readonly depth?: number;
  /**
   * The name written for an imported file a model or tree node lies in, from the id the
   * compilation knows it by (default: the id itself). The CLI's ids are paths; the language
   * server's are URIs, which it writes as the paths the CLI would.
   */
  readonly sourceName?: (source: string) => string;
}

/** `npas budget --json`'s text: the one budget-JSON writer, for the CLI and the language server (Export Budget Report). */
export function budgetJsonText(models: readonly ModelReport[], options: BudgetJsonOptions = {}): string {
  const depth = options.depth ?? 2;
  const name = options.sourceName ?? ((s: string): string => s);
  return `${toJson({ models: models.map((m) => jsonModel(m, depth, name)) })}\n`;
}

function jsonModel(m: ModelReport, depth: number, sourceName: (source: string) => string): object {
  return {
    name: m.name,
    kind: m.kind,
    base: m.base ?? null,
    ...(m.source === undefined ? {} : { source: sourceName(m.source) }),
    options: { ...m.options, srcSeq: m.options.srcSeq ?? m.options.seq, precision: resolvePrecision(m.options) },
    params: m.params,
    ...(m.routedEffective ? { routedEffective: { ...m.routedEffective, note: 'Clark et al. 2022 (arXiv:2202.01169) effective parameter count, a scaling-law fit per routing method: N = base (the active parameters), E = experts per routed layer; each value to 4 significant digits' } } : {}),
    ...(m.tasks ? { tasks: { ...m.tasks, note: 'stored = shared + tasks × perTask; with for_tasks (tasks owning different adapters) stored = shared + Σ byTask, perTask the largest' } } : {}),
    flops: { ...m.flops, note: 'a multiply-add counts 2 FLOPs; prefill and decode at seq; prefillPerToken and trainPerToken are exact decimals, or 3 places and a trailing … where the quotient does not terminate' },
    kvCacheBytes: m.kvCacheBytes,
    recurrentStateBytes: m.recurrentStateBytes,
    memory: m.memory,
    latency: m.latency,
    routing: m.routing,
    pools: m.pools,
    budgets: m.budgets.map((b) => ({ constraint: b.constraint, limit: b.limit, value: b.value, ok: b.ok })),
    tree: { ...jsonNode(m.tree, -1, depth, sourceName) },
    ...(m.parameterization ? { parameterization: m.parameterization } : {}),
    ...(m.factorized ? { factorized: m.factorized } : {}),
  };
}

interface JsonNode {
  name: string;
  kind: NodeReport['kind'];
  type: string;
  /** Exact at any size (a bigint, written as a JSON integer as every count here is). */
  count: bigint;
  firstIndex: bigint;
  params: NodeReport['params'];
  flopsPerToken: bigint;
  range: NodeReport['range'];
  /** The imported file the range lies in (absent: the spec itself). */
  source?: string;
  /** Consecutive identical stack pieces this entry stands for (absent: one). */
  pieces?: number;
  children: JsonNode[];
  /** Children left out below --depth (absent: none). */
  deeper?: number;
  /** Entries left out past the first `TREE_WIDTH` of this node (absent: none); their totals are in this node's. */
  more?: number;
}

/**
 * Most entries listed under one node of the tree, in the table and in the JSON: a written-out
 * 10 MB spec has 350,000 members, whose tree was 74 MB of table or 384 MB of JSON (minutes,
 * 3.8 GB). The node's own totals still count every child; `more` says how many were left out.
 */
export const TREE_WIDTH = 1000;

/**
 * The report tree to `depth` levels below the members (as the table), with consecutive stack
 * pieces whose subtrees are identical merged into one entry: counts, params and FLOPs summed,
 * `pieces` saying how many, and the children of one piece. A 10,000-instance comprehension is a
 * few entries instead of 194 MB; `--depth` asks for more levels.
 */
function jsonNode(n: NodeReport, level: number, depth: number, sourceName: (source: string) => string): JsonNode {
  const node: JsonNode = {
    name: n.name,
    kind: n.kind,
    type: n.type,
    count: n.count,
    firstIndex: n.firstIndex,
    params: n.params,
    flopsPerToken: n.flopsPerToken,
    range: n.range,
    ...(n.source === undefined ? {} : { source: sourceName(n.source) }),
    children: [],
  };
  if (n.children.length === 0) return node;
  if (level >= depth) {
    node.deeper = n.children.length;
    return node;
  }
  const children = n.kind === 'stack' ? mergeIdenticalPieces(n.children.map((c) => jsonNode(c, level + 1, depth, sourceName))) : listedChildren(n.children).map((c) => jsonNode(c, level + 1, depth, sourceName));
  node.children = children.slice(0, TREE_WIDTH);
  const more = n.kind === 'stack' ? children.length - node.children.length : n.children.length - node.children.length;
  if (more > 0) node.more = more;
  return node;
}

/** The first `TREE_WIDTH` children of a node (the rest are counted, not built). */
export function listedChildren(children: readonly NodeReport[]): readonly NodeReport[] {
  return children.length > TREE_WIDTH ? children.slice(0, TREE_WIDTH) : children;
}

function mergeIdenticalPieces(pieces: readonly JsonNode[]): JsonNode[] {
  const shape = (p: JsonNode): string => toJson({ ...p, name: '', firstIndex: 0n, range: null, pieces: 0 });
  const out: JsonNode[] = [];
  let runShape = '';
  for (const p of pieces) {
    const last = out[out.length - 1];
    const s = shape(p);
    if (last && s === runShape && last.firstIndex + last.count === p.firstIndex) {
      const params = { ...last.params };
      for (const k of Object.keys(params) as (keyof typeof params)[]) params[k] = last.params[k] + p.params[k];
      out[out.length - 1] = { ...last, name: `${p.type}[${last.firstIndex}..${p.firstIndex + p.count - 1n}]`, count: last.count + p.count, params, flopsPerToken: last.flopsPerToken + p.flopsPerToken, pieces: (last.pieces ?? 1) + 1 };
    } else {
      out.push(p);
      runShape = s;
    }
  }
  return out;
}
