// Parallel streams: one model run as P streams over the same weights (ParScale, Hogwild!
// workers). Read after the walk from a model's `parallel` statement, like `param`: it adds the
// streams' own stores (learned prefixes, an aggregation head) and tells the metrics which
// members run once per stream. The weights stay stored once and a decode step reads them once
// for all P streams, while FLOPs, activations and (with separate caches) the KV cache grow P×.
//
//   parallel 4                                      four streams, separate caches, nothing learned
//   parallel streams(8, prefix: 48, merge: lm_head) ParScale: per-stream KV prefixes, an MLP
//                                                    aggregator on the hidden states before lm_head
//   parallel workers(4)                              Hogwild!: four workers over one shared cache

import * as Q from '../numbers/rational.js';
import type { ModelMember } from '../model/module-tree.js';
import { evaluate, toSmallInteger, type EvalContext } from '../semantics/evaluator.js';
import type { ScopedStatement } from '../sharing/resolve-statements.js';
import { asStatementCall, readStatementArgs, type StatementArgSpec } from '../sharing/statement-args.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import { EMPTY_TOTALS, type Totals } from './totals.js';

/** The most streams analysed (ParScale trains up to 8; Hogwild! runs a handful of workers). */
export const MAX_STREAMS = 1024;

export type StreamCache = 'separate' | 'shared';
export type StreamAggregate = 'mlp' | 'mean';

export interface ParallelStreams {
  /** P: streams (or workers) run per token. */
  readonly streams: number;
  /** `separate`: one KV cache per stream (ParScale); `shared`: every worker reads and writes one cache (Hogwild!). */
  readonly cache: StreamCache;
  /** m: learned prefix tokens per stream in every KV-producing causal self-attention layer (prefix tuning). */
  readonly prefixTokens: number;
  /** How the streams' outputs become one: ParScale's MLP over the concatenated hidden states, or a plain mean. */
  readonly aggregate: StreamAggregate;
  /** Width w of the hidden state the aggregator reads. */
  readonly width: number;
  /** Members [0, mergeIndex) run once per stream; the rest (the readout after the merge) once. */
  readonly mergeIndex: number;
  /** The member the streams merge before, when `merge:` names one. */
  readonly merge: string | undefined;
  /** P·m·(2·kv_heads·head_dim) per KV-producing self-attention instance before the merge. */
  readonly prefixParams: bigint;
  /** The aggregator's weights: P·w·w + w (Linear(P·w, w)) + w·P + P (Linear(w, P)) for `mlp`; 0 for `mean`. */
  readonly aggregatorParams: bigint;
  /**
   * What the streams add to the model, as totals run once per token: the prefixes and the
   * aggregator stored and trained, the aggregator's params active, its FLOPs and saved
   * activations (the prefixes are read from the KV cache, not applied as weights).
   */
  readonly own: Totals;
  readonly range: TextRange;
}

const STREAM_ARGS: readonly (StatementArgSpec & { readonly doc: string })[] = [
  { name: 'count', type: 'int', required: true, min: 1, doc: 'P: the streams run per token over the same weights.' },
  { name: 'prefix', type: 'int', required: false, min: 0, doc: 'm: learned prefix tokens per stream in every self-attention layer\'s KV (ParScale: 48; default 0).' },
  { name: 'merge', type: 'name-list', required: false, doc: 'The top-level member the streams merge before (ParScale: lm_head); it and the members after it run once. Default: every member runs per stream.' },
  { name: 'width', type: 'int', required: false, min: 1, doc: 'Width of the hidden state the aggregator reads (default: the first embedding table\'s width).' },
];

/** The methods a `parallel` statement takes, for completion and hovers. */
export const PARALLEL_METHODS: readonly { readonly name: string; readonly snippet: string; readonly doc: string; readonly args: readonly (StatementArgSpec & { readonly doc: string })[] }[] = [
  {
    name: 'streams',
    snippet: 'streams(${1:8}, prefix: ${2:48}, merge: ${3:lm_head})',
    doc: 'ParScale: P streams with separate KV caches, each with m learned KV prefix tokens per attention layer, merged by an MLP aggregator (P·w·w + w + w·P + P params) before the named member.',
    args: [...STREAM_ARGS, { name: 'aggregate', type: 'name-list', required: false, values: ['mlp', 'mean'], doc: '`mlp` (ParScale\'s dynamic weighted sum, default) or `mean` (no parameters).' }],
  },
  {
    name: 'workers',
    snippet: 'workers(${1:4})',
    doc: 'Hogwild! inference: P workers over one shared KV cache — the prompt is prefilled once, each decode step runs P tokens, the cache holds the context once.',
    args: [STREAM_ARGS[0]!],
  },
];

/**
 * The model's `parallel` statement (a variant's replaces its base's), resolved against the
 * members' totals. Undefined without one, or after a located `npas-parallel` error.
 */
export function resolveParallel(
  statements: readonly ScopedStatement[],
  members: readonly ModelMember[],
  memberTotals: readonly Totals[],
  declaration: TextRange,
  ctx: EvalContext,
): ParallelStreams | undefined {
  const all = statements.filter((s) => s.statement.keyword === 'parallel');
  const last = all[all.length - 1];
  if (!last) return undefined;
  const own = all.filter((p) => p.statement.range.start >= declaration.start && p.statement.range.end <= declaration.end);
  for (const p of own.slice(0, -1)) ctx.sink.error('npas-parallel', 'one `parallel` statement per model or variant (a variant\'s replaces its base\'s)', p.statement.keywordRange);
  const s = last.statement;
  const fail = (message: string, range: TextRange): undefined => {
    ctx.sink.error('npas-parallel', message, range);
    return undefined;
  };
  if (!s.value) return fail('`parallel` needs a count or a method: `parallel 4`, `parallel streams(8, prefix: 48, merge: lm_head)` or `parallel workers(4)`', s.keywordRange);
  let count: number | undefined;
  let prefix = 0;
  let merge: string | undefined;
  let width: number | undefined;
  let aggregate: StreamAggregate = 'mean';
  let cache: StreamCache = 'separate';
  let at = s.value.range;
  if (s.value.kind === 'Call' || s.value.kind === 'Name') {
    const call = asStatementCall(s.value);
    const method = call ? PARALLEL_METHODS.find((m) => m.name === call.name) : undefined;
    if (!call || !method) return fail('`parallel` takes a count or one of streams(P, prefix: m, merge: NAME, aggregate: mlp|mean), workers(P)', s.value.range);
    const args = readStatementArgs(call, method.args, 'npas-parallel', last.scope, ctx);
    if (!args) return undefined;
    at = call.argsRange;
    count = args.get('count') as number;
    if (method.name === 'workers') cache = 'shared';
    else {
      prefix = (args.get('prefix') as number | undefined) ?? 0;
      merge = (args.get('merge') as readonly string[] | undefined)?.[0];
      width = args.get('width') as number | undefined;
      const agg = (args.get('aggregate') as readonly string[] | undefined)?.[0] ?? 'mlp';
      if (agg !== 'mlp' && agg !== 'mean') return fail(`streams(): aggregate is mlp or mean, got '${agg}'`, call.argsRange);
      aggregate = agg;
    }
  } else {
    const v = evaluate(s.value, last.scope, ctx);
    if (v.kind === 'error') return undefined;
    count = toSmallInteger(v, s.value.range, ctx, '`parallel`');
    if (count === undefined) return undefined;
  }
  if (count < 1 || count > MAX_STREAMS) return fail(`the stream count must lie in 1..${MAX_STREAMS}, got ${count}`, at);
  let mergeIndex = members.length;
  if (merge !== undefined) {
    mergeIndex = members.findIndex((m) => m.name === merge);
    if (mergeIndex < 0) return fail(`streams(): '${merge}' is not a top-level member; merge names the member the streams merge before (${members.map((m) => m.name).join(', ')})`, at);
    if (mergeIndex === 0) return fail(`streams(): merging before the first member '${merge}' leaves nothing to run per stream`, at);
  }
  const P = BigInt(count);
  // Prefix tuning (ParScale's prefix_k, prefix_v): per stream and per KV-producing causal
  // self-attention application, m cached tokens of 2·kv_heads·head_dim elements each (MLA: its
  // latent, kv_rank + rope_dim, whichever way it decodes; MoA: its shared key and value).
  let prefixSlots = Q.ZERO;
  if (prefix > 0) {
    for (const t of memberTotals.slice(0, mergeIndex)) {
      for (const e of t.attention.values()) {
        if (e.info.cross || !e.info.causal) continue;
        prefixSlots = Q.add(prefixSlots, Q.mul(e.producers, Q.fromInt(e.info.prefixElementsPerToken ?? e.info.kvElementsPerToken)));
      }
    }
    if (!Q.isInteger(prefixSlots)) return fail('streams(): learned prefixes on a routed stack (fractional KV producers) are not modelled; drop prefix or the routing', at);
    if (prefixSlots.num === 0n) return fail('streams(): prefix needs causal self-attention layers before the merge to hold the prefix tokens', at);
  }
  const prefixParams = P * BigInt(prefix) * prefixSlots.num;
  let w = 0;
  let aggregatorParams = 0n;
  let aggregator: Totals = EMPTY_TOTALS;
  if (aggregate === 'mlp' && count > 1) {
    const inferred = width ?? firstEmbeddingWidth(members);
    if (inferred === undefined) return fail('streams(): the model has no embedding table to read the aggregator\'s width from; give width', at);
    w = inferred;
    const W = BigInt(w);
    // ParScale's aggregate_layer: Linear(P·w, w) with bias, SiLU, Linear(w, P) with bias; its
    // softmax weights the P hidden states (an elementwise sum, not counted as a matmul).
    aggregatorParams = P * W * W + W + W * P + P;
    const flops = Q.fromBigInt(2n * (P * W * W + W * P));
    aggregator = {
      ...EMPTY_TOTALS,
      stored: aggregatorParams,
      effective: aggregatorParams,
      trainable: aggregatorParams,
      active: Q.fromBigInt(aggregatorParams),
      flops,
      trainableFlops: flops,
      // Saved for backward: the concatenated input P·w, the hidden w and the P logits.
      activation: Q.fromBigInt(P * W + W + P),
    };
  } else {
    w = width ?? firstEmbeddingWidth(members) ?? 0;
  }
  return {
    streams: count,
    cache,
    prefixTokens: prefix,
    aggregate,
    width: w,
    mergeIndex,
    merge,
    prefixParams,
    aggregatorParams,
    own: { ...aggregator, stored: aggregator.stored + prefixParams, effective: aggregator.effective + prefixParams, trainable: aggregator.trainable + prefixParams },
    range: s.range,
  };
}

/** The columns of the first embedding table among the members (the residual stream's width). */
function firstEmbeddingWidth(members: readonly ModelMember[]): number | undefined {
  for (const m of members) {
    const w = embeddingWidthIn(m.node);
    if (w !== undefined) return w;
  }
  return undefined;
}

function embeddingWidthIn(node: ModelMember['node']): number | undefined {
  if (node.kind === 'layer') {
    const t = node.cost.weights.find((x) => x.role === 'embedding' && x.shape.length === 2);
    return t?.shape[1];
  }
  if (node.kind === 'block') {
    for (const m of node.members) {
      const w = embeddingWidthIn(m.node);
      if (w !== undefined) return w;
    }
    return undefined;
  }
  return node.runs[0] ? embeddingWidthIn(node.runs[0].node) : undefined;
}
