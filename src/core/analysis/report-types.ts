// The budget report: the engine's output for one model or variant, as plain data.
// Counts are bigint (exact, never rounded); latencies are estimates and are numbers.

import type { SourceId } from '../imports/source-id.js';
import type { RoutedEffectiveReport } from './routed-effective-params.js';
import type { WeightRole } from '../layers/layer-kind.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import type { TransferTable } from '../parameterization/transfer.js';
import type { FactorizedWeightRow } from '../sharing/factorized-weights.js';
import type { DeviceProfile } from './devices.js';

/** Element types the report can be evaluated at (sizes in analysis/dtypes.ts). */
export type DType = 'fp32' | 'tf32' | 'bf16' | 'fp16' | 'fp8' | 'int8' | 'int4' | 'mxfp4' | 'nvfp4';

/**
 * The element type of each class of tensor. `AnalysisOptions.dtype` is the shorthand for
 * weights, KV cache and activations; each class can be set on its own (W4A16 is
 * `weights: int4` with bf16 activations; an fp8 KV cache is `kv: fp8`). See
 * analysis/precision.ts for the defaults of the training classes.
 */
export interface Precision {
  readonly weights: DType;
  /** The weights of routed banks (MoE experts): GPT-OSS ships them in mxfp4 beside bf16 attention. Default: the weights'. */
  readonly experts: DType;
  readonly kv: DType;
  readonly activations: DType;
  /** The dtype matmuls run in: picks the device's peak. Default: the activations'. */
  readonly compute: DType;
  readonly gradients: DType;
  /** A full-precision copy of the trainable weights kept by mixed-precision training, or none. */
  readonly master: DType | 'none';
  /** Each of Adam's two moments per trainable weight. */
  readonly optimizer: DType;
}

/** The tensor classes a precision names, as the CLI, settings and budgets spell them. */
export type PrecisionClass = keyof Precision;

/**
 * How the training loss keeps its logits: `full` saves the logits (activations dtype) and the
 * fp32 log-softmax for every token of the step; `chunked` only `chunk` tokens' worth at a time;
 * `fused` (a fused linear-cross-entropy kernel) saves neither.
 */
export type LossMode = { readonly kind: 'full' } | { readonly kind: 'chunked'; readonly chunk: number } | { readonly kind: 'fused' };

/** One path override of the settings: the weights under `path` (as a statement writes it) in `dtype`. */
export interface WeightDtypeSetting {
  readonly path: string;
  readonly dtype: DType;
}

export interface AnalysisOptions {
  /** Sequence length S: prefill length and decode context. */
  readonly seq: number;
  /** Source (encoder) length for cross-attention; defaults to `seq`. */
  readonly srcSeq: number | undefined;
  readonly batch: number;
  /** Element type of weights, activations and KV cache, unless `precision` sets a class. */
  readonly dtype: DType;
  /** Per-class element types over `dtype` (see analysis/precision.ts for the defaults). */
  readonly precision?: Partial<Precision>;
  /** Device profile for roofline latency (see analysis/devices.ts), a builtin or one of `devices`. */
  readonly device: string;
  /** User-defined device profiles (a JSON file the CLI or the extension read). */
  readonly devices?: readonly DeviceProfile[];
  /** How the training loss keeps its logits (default full). */
  readonly loss?: LossMode;
  /**
   * Weights stored in a dtype of their own, as a spec's `precision weights PATH: dtype` says,
   * after the spec's own (`--weights-dtype embed=int8,body.attn=fp8`, the editor's
   * `npas.analysis.weightsDtypeByPath`): each path in the language's syntax (weight-dtypes.ts).
   */
  readonly weightDtypes?: readonly WeightDtypeSetting[];
  /**
   * A prompt shared by several continuations (prefix sharing for preference tuning, parallel
   * sampling): each of the batch's sequences is `tokens` prompt tokens followed by
   * `continuations` continuations of seq − tokens tokens each, the prompt computed and cached
   * once (model-metrics.ts has the formulas). Absent: one continuation per sequence.
   */
  readonly sharedPrefix?: SharedPrefix;
}

/**
 * What a shared prompt saves (ModelReport.sharedPrefix): the batch's prefill and KV cache with the
 * prompt computed and cached once, beside the same k continuations run as k·batch separate
 * sequences of seq tokens (the prompt repeated in each).
 */
export interface SharedPrefixReport {
  readonly tokens: number;
  readonly continuations: number;
  /** Tokens each sequence computes, P + k·C, against the k·seq of the continuations run apart. */
  readonly computedTokens: number;
  readonly unsharedTokens: number;
  /** Forward prefill FLOPs of the batch, shared and apart. */
  readonly prefillFlops: bigint;
  readonly unsharedPrefillFlops: bigint;
  readonly kvCacheBytes: bigint;
  readonly unsharedKvCacheBytes: bigint;
}

export interface SharedPrefix {
  /** P: prompt tokens, shared; below seq. */
  readonly tokens: number;
  /** k: continuations of the prompt, each seq − P tokens long. */
  readonly continuations: number;
}

export interface ParamCounts {
  /** Unique numbers a checkpoint holds: every tied or shared store once, adapters included. */
  readonly stored: bigint;
  /** The unrolled dense equivalent: Σ over layer instances of the weights each one uses. */
  readonly effective: bigint;
  /** Per token: effective, with MoE experts counted at top_k (+ shared) of E; embeddings in full. */
  readonly active: bigint;
  /** Stored numbers that receive gradients (adapters vs a frozen base). */
  readonly trainable: bigint;
}

/** FLOPs, a multiply-add counted as 2. */
export interface FlopsReport {
  /** `token` for sequence models; `sample` when the model is convolutional (per image). */
  readonly unit: 'token' | 'sample';
  /** Forward FLOPs to prefill S tokens of each of the batch's sequences with causal attention (all positions summed). */
  readonly prefill: bigint;
  /** `prefill / S`, exact as a decimal string (may have a fraction). */
  readonly prefillPerToken: string;
  /** Forward FLOPs of one decode step of the batch: each sequence's new token attends to S cached positions. */
  readonly decode: bigint;
  /** Training FLOPs per token: forward + input gradients + weight gradients of trainable weights + weight generation per step / tokens. */
  readonly trainPerToken: string;
  /** FLOPs per training step spent generating weights (SSN templates, MASA atoms): 2 per MAC forward plus twice that backward, so 6 × MACs; independent of batch and tokens. */
  readonly generationPerStep: bigint;
  /** FLOPs computed once before the model serves, 2 per MAC (Arrow's prototypes: docs/language.md, "Adapters"); absent when none. */
  readonly setup?: bigint;
}

export interface MemoryReport {
  /** Stored parameters × dtype bytes (plus integer indices where a method stores them). */
  readonly weightBytes: bigint;
  /** KV cache at (seq, batch, dtype). */
  readonly kvCacheBytes: bigint;
  /** Recurrent layers' state (Mamba's conv and SSM states), beside the KV cache. */
  readonly recurrentStateBytes: bigint;
  /** Weights + KV cache. */
  readonly inferenceBytes: bigint;
  /** Weights + gradients + Adam states (fp32 m, v and master) + activations at (seq, batch). */
  readonly trainingBytes: bigint;
  /** Saved for backward at (seq, batch): the layers' activations (activations dtype), the loss's
   * fp32 log-softmax and the dropout masks. */
  readonly activationBytes: bigint;
  /** The loss's part of `activationBytes`: tokens × the final projection's width × 4 (see LossMode). */
  readonly lossBytes: bigint;
  /** The dropout masks' part of `activationBytes`: one byte per dropped element. */
  readonly maskBytes: bigint;
}

/** A routed bank of experts and how many of them one decode step of the batch reads. */
export interface RoutedBankReport {
  readonly experts: number;
  readonly topK: number;
  /** Selections of top_k per token and layer (Chain-of-Experts iterations; 1 for a plain MoE). */
  readonly draws: number;
  /** The router's skewed load when the layer declares one (`hot_experts`, `hot_share`); absent: uniform routing. */
  readonly load?: { readonly hotExperts: number; readonly hotShare: string };
  /** One selection over the batch: E·(1 − (1 − k/E)^B) under uniform routing (Σ_i 1 − (1 − p_i)^B under a load), as a decimal to 3 places. */
  readonly expectedDistinct: string;
  /** Distinct experts one layer's `draws` selections touch: E·(1 − (1 − k/E)^(draws·B)); equal to `expectedDistinct` at draws 1. */
  readonly touched: string;
  /**
   * Distinct experts per layer a prefill step of the batch reads: its B·S tokens' `draws`
   * selections, E·(1 − (1 − k/E)^(draws·B·S)) (Σ_i under a load), to 3 places; the prefill's
   * roofline reads only these of each stored expert matrix.
   */
  readonly prefillTouched: string;
}

/**
 * An expert pool shared by several layers (`share experts`): stored once per pool, read by every
 * layer's router. Under uniform routing, independent across layers, a batch of B tokens touches
 * E·(1 − (1 − k/E)^(g·draws·B)) distinct experts of a pool that g layers read (the union of their
 * selections), while the layers' own reads (the roofline's traffic) are g·draws·E·(1 − (1 − k/E)^B).
 */
export interface ExpertPoolReport {
  /** The stack whose instances share the pools. */
  readonly stack: string;
  readonly experts: number;
  readonly topK: number;
  readonly draws: number;
  /** Pools stored (stores of the strategy). */
  readonly pools: number;
  /** Layers reading the pools, in all. */
  readonly layers: number;
  /** Expert copies stored: pools × experts. */
  readonly storedExperts: bigint;
  /** Expert copies applied per token: layers × draws × top_k. */
  readonly activeExperts: bigint;
  /** Distinct expert copies a decode step of the batch touches across all pools (exact decimal, 3 places). */
  readonly touchedExperts: string;
  /** Expert copies the layers read in one decode step, each layer its own selection (exact decimal, 3 places). */
  readonly readExperts: string;
  /** Params of the touched experts (rounded up). */
  readonly touchedParams: bigint;
}

/** A model's `parallel` statement (docs/language.md, "Parallel streams"), as the report states it. */
export interface ParallelReport {
  /** P: streams (ParScale) or workers (Hogwild!) per token. */
  readonly streams: number;
  /** `separate`: a KV cache per stream; `shared`: one cache all workers read and write. */
  readonly cache: 'separate' | 'shared';
  /** Learned prefix tokens per stream in each self-attention layer. */
  readonly prefixTokens: number;
  readonly aggregate: 'mlp' | 'mean';
  /** The member the streams merge before (it and the members after it run once). */
  readonly merge: string | undefined;
  /** Stored params of the prefixes and of the aggregator (both in `params`). */
  readonly prefixParams: bigint;
  readonly aggregatorParams: bigint;
}

export interface LatencyEstimate {
  readonly seconds: number;
  readonly bound: 'compute' | 'memory';
  readonly flops: bigint;
  readonly bytes: bigint;
}

export interface LatencyReport {
  readonly device: string;
  readonly prefill: LatencyEstimate;
  readonly decode: LatencyEstimate;
}

export interface BudgetResult {
  /** The constraint as written, e.g. `params.stored <= 1.2B`. */
  readonly constraint: string;
  /** The metric it bounds, e.g. `params.stored` or `kv` (its name in `BUDGET_METRICS`). */
  readonly metric: string;
  /** The limit, in the metric's unit (count, bytes or seconds), as a decimal string. */
  readonly limit: string;
  /** The measured value, same unit. */
  readonly value: string;
  readonly ok: boolean;
  readonly range: TextRange;
}

/** One node of the model tree: model → stack → instance run → block → layer → weight. */
export interface NodeReport {
  readonly name: string;
  readonly kind: 'model' | 'stack' | 'block' | 'layer' | 'weight';
  /** Layer kind or block name. */
  readonly type: string;
  /** For stack runs: how many consecutive identical instances this node stands for (exact at any size). */
  readonly count: bigint;
  /** Index of the first instance this node stands for, within its stack. */
  readonly firstIndex: bigint;
  readonly params: ParamCounts;
  /** Forward FLOPs per token of this subtree, excluding the attention context term. */
  readonly flopsPerToken: bigint;
  readonly kvCacheBytes: bigint;
  /** Elements per token this subtree saves for the backward pass (no recomputation, flash
   * attention; rounded up where a routing capacity makes it fractional). Plans split it per
   * pipeline stage. */
  readonly activationPerToken: bigint;
  /** Params of embedding tables in this subtree (counted in effective). */
  readonly embeddingParams: bigint;
  /** For weight nodes: the tensor's role and shape (one copy), as the layer kind declares them. */
  readonly weight?: { readonly role: WeightRole; readonly shape: readonly number[] };
  /** Where the node is written, in the file `source` names. */
  readonly range: TextRange;
  /** The imported file the node is written in (absent: the compiled file). */
  readonly source?: SourceId;
  readonly children: readonly NodeReport[];
}

export interface ModelReport {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  /** For variants: the model or variant it derives from. */
  readonly base: string | undefined;
  /** The name's range, in the file `source` names. */
  readonly range: TextRange;
  /** The imported file that declares the model (absent: the compiled file). */
  readonly source?: SourceId;
  readonly options: AnalysisOptions;
  readonly params: ParamCounts;
  readonly flops: FlopsReport;
  readonly kvCacheBytes: bigint;
  /** Recurrent state per sequence × batch at the analysis settings (0 without recurrent layers). */
  readonly recurrentStateBytes: bigint;
  readonly memory: MemoryReport;
  readonly latency: LatencyReport;
  /** Routed banks (MoE experts) with the copies a decode step of the batch reads; empty without. */
  readonly routing: readonly RoutedBankReport[];
  /** The `parallel` statement's streams; absent without one. */
  readonly parallel?: ParallelReport;
  /** The settings' shared prompt and what it saves; absent without one (or where seq leaves no continuation). */
  readonly sharedPrefix?: SharedPrefixReport;
  /**
   * Members run over smashed positions (`smash MEMBERS: tokens(r)`, token smashing): r tokens per
   * position and KV entry on average, as a decimal; absent without a `smash` statement.
   */
  readonly smashed?: readonly { readonly member: string; readonly tokensPerEntry: string }[];
  /** Expert pools shared across layers (`share experts`) and what a decode step touches of them; empty without. */
  readonly pools: readonly ExpertPoolReport[];
  /**
   * The routed-model effective parameter count of Clark et al. 2022 (a scaling-law fit, per routing
   * method: routed-effective-params.ts); absent without routed experts or with layers of different E.
   */
  readonly routedEffective?: RoutedEffectiveReport;
  /** With per-task adapters (`tasks: T`): stored = shared + tasks × perTask; with `for_tasks`, shared + Σ byTask (perTask the largest). */
  readonly tasks?: { readonly tasks: number; readonly perTask: bigint; readonly shared: bigint; readonly byTask?: readonly bigint[] };
  readonly budgets: readonly BudgetResult[];
  readonly tree: NodeReport;
  /** The `param` statement's table: each weight's init std, LR, multiplier, residual and decay factors. */
  readonly parameterization?: TransferTable;
  /** The weights `factorize` statements store as factors, with both executions' costs (absent without one). */
  readonly factorized?: readonly FactorizedWeightRow[];
}
