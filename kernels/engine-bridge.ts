// The exporter's view of the engine: a model's evaluated module tree, its resolved sharing
// declarations and its budget report, from one `Compilation`. The store key of every weight of
// every layer instance (the unit of sharing: one store, one ONNX initializer), its modifiers, KV
// producer and route come from the core's store resolver (src/core/sharing/store-resolver.ts),
// re-exported here for the layer builders.
//
// It reads the core only through its public surface (src/core/index.ts).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compile, nodeAt, ParsedSources, type Compilation, type PathStep } from '../src/core/index.js';
import type { AnalysisOptions, ArchitectureModel, Diagnostic, ModelMember, ModelReport, ResolvedSharing } from '../src/core/index.js';

export type { BlockMember, ConvInfo, LayerNode, ModelMember, Modifier, ModuleNode, WeightSpec } from '../src/core/index.js';

/** A step of a concrete instance path: a member name, or an instance index of a stack (the core's store resolver's). */
export type { PathStep } from '../src/core/index.js';

/** What the exporter refuses, and whether the spec itself is at fault ('spec': errors, no such model) or the exporter cannot build it ('unsupported'). */
export class ExportError extends Error {
  constructor(
    message: string,
    readonly reason: 'spec' | 'unsupported' = 'unsupported',
  ) {
    super(message);
  }
}

export interface LoadedModel {
  readonly name: string;
  readonly members: readonly ModelMember[];
  readonly sharing: ResolvedSharing;
  readonly report: ModelReport;
  /** `share heads PATH: pairs(n)`, one per target (layers/head-share.ts builds them). */
  readonly headShares: readonly HeadSharePlan[];
  /** A `parallel streams(…)` statement (ParScale): the members before `mergeIndex` run per stream (layers/parallel-streams.ts). */
  readonly streams: StreamsPlan | undefined;
  /** `smash MEMBERS: tokens(r)`: top-level member name → r (num/den), the tokens one of its positions stands for. */
  readonly smashed: ReadonlyMap<string, { readonly num: bigint; readonly den: bigint }>;
}

/** What the graph builds of a `parallel` statement (streams, or Hogwild! workers over one cache). */
export interface StreamsPlan {
  /** P: the batch is tiled P times (stream-major rows) before the first member. */
  readonly count: number;
  /** m: learned prefix tokens per stream in front of every causal self-attention's keys and values before the merge. */
  readonly prefixTokens: number;
  readonly aggregate: 'mlp' | 'mean';
  /** Width of the hidden state the aggregator reads. */
  readonly width: number;
  /** Members [0, mergeIndex) run per stream; the aggregate is taken before member mergeIndex (or after the last). */
  readonly mergeIndex: number;
  /**
   * Hogwild! workers (`parallel workers(P)`): one prompt and one KV cache; a decode step runs the P
   * workers' tokens over the shared cache (layers/parallel-streams.ts, workersContext).
   */
  readonly sharedCache: boolean;
}

/**
 * Head-wise sharing of one target: the attention instances it fans out over (their concrete
 * paths, in stack order), the number of heads that read another layer's head slices, and
 * whether W_v and W_o slices are shared too (`qkvo: true`).
 */
export interface HeadSharePlan {
  readonly layers: readonly (readonly PathStep[])[];
  readonly heads: number;
  readonly qkvo: boolean;
}

/**
 * A spec's text compiled as the file at `path`, its imports read from disk relative to it
 * (docs/language.md, "Imports"), as the CLI reads a spec; without a path, the text alone.
 */
export function compileSpec(text: string, path: string | undefined): Compilation {
  if (path === undefined) return compile(text);
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  return compile(text, { source: path, imports: { read, resolve: (importer, imported) => join(dirname(importer), imported), cache: new ParsedSources() } });
}

/** Compiles `text` (or takes its compilation) and returns model `name` (or the only model); throws ExportError on errors. */
export function loadModel(source: string | Compilation, name: string | undefined, options: Partial<AnalysisOptions> = {}): LoadedModel {
  const compilation = typeof source === 'string' ? compile(source) : source;
  const analysis = compilation.analysis(options);
  const errors = analysis.diagnostics.filter((d: Diagnostic) => d.severity === 'error' && !d.code.startsWith('npas-budget'));
  const chosen = name ?? (analysis.models.length === 1 ? analysis.models[0]!.name : undefined);
  if (chosen === undefined) throw new ExportError(`the file defines ${analysis.models.length} models and variants (${analysis.models.map((m) => m.name).join(', ')}); name one with --model`, 'spec');
  const report = analysis.models.find((m) => m.name === chosen);
  if (!report) throw new ExportError(`no model or variant named '${chosen}' (this file has: ${analysis.models.map((m) => m.name).join(', ') || 'none'})`, 'spec');
  if (errors.length > 0) throw new ExportError(`the spec has errors (first: ${errors[0]!.code}: ${errors[0]!.message}); run npas check`, 'spec');

  const model = compilation.model(chosen);
  if (!model) throw new ExportError(`model '${chosen}' did not evaluate`, 'spec');
  const sharing = model.sharing;

  const p = model.parallel;
  const streams: StreamsPlan | undefined = p ? { count: p.streams, prefixTokens: p.prefixTokens, aggregate: p.aggregate, width: p.width, mergeIndex: p.mergeIndex, sharedCache: p.cache === 'shared' } : undefined;
  // Token smashing: the members that run over ⌈S / r⌉ positions (layers/token-smashing.ts).
  const smashed = new Map(model.smashed.map((m) => [m.member, { num: m.tokensPerEntry.num, den: m.tokensPerEntry.den }] as const));
  return { name: chosen, members: model.members, sharing, report, headShares: headSharePlans(model, sharing), streams, smashed };
}

/**
 * One plan per head-shared target (the engine resolved its path, n and qkvo): the target must
 * fan out over one stack of MHA layers, each instance a layer.
 */
function headSharePlans(model: ArchitectureModel, sharing: ResolvedSharing): HeadSharePlan[] {
  return sharing.headShares.map(({ target: r, pairs, qkvo }) => {
    if (!r.fanOut || r.fanOut.sub.some((s) => s.kind === 'index')) throw new ExportError(`share heads ${r.key}: the ONNX exporter shares heads across the instances of one stack (a path such as body.attn)`);
    const info = r.node.kind === 'layer' ? r.node.cost.attention : undefined;
    if (!info) throw new ExportError(`share heads ${r.key}: not an attention layer`);
    if (info.kvHeads !== info.queryHeads) throw new ExportError(`share heads ${r.key}: head-wise sharing of grouped-query attention (kv_heads ${info.kvHeads} < heads ${info.queryHeads}) is not built by the ONNX exporter`);
    const { stack, sub, stackPattern } = r.fanOut;
    // `share heads` resolved only on a stack of at most 2⁵³ − 1 instances (indexable-stack.ts).
    const layers = Array.from({ length: Number(stack.length) }, (_, k): PathStep[] => [...stackPattern, { kind: 'index', index: k }, ...sub]);
    // A path that fans out over nested stacks would leave an outer index out: refuse it.
    if (layers.some((l) => nodeAt(model, l)?.kind !== 'layer')) throw new ExportError(`share heads ${r.key}: the ONNX exporter shares heads across the instances of one stack, not nested stacks`);
    return { layers, heads: pairs, qkvo };
  });
}

export { adapterModifiersFor, adapterTaskRows, taskZeroOwns, keepsBorrowedKvWeights, kvProducerPath, modifiersFor, nodeAt, pathText, routeOf, storePath, tiedWeight, weightStoreKey, type StackRoute } from '../src/core/index.js';
