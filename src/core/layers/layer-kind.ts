// The contract every builtin layer kind implements: an argument schema (for checking,
// completion and docs) and a pure `build` that turns checked argument values into the layer's
// weights, FLOPs, attention geometry and saved activations. The engine never special-cases a
// layer kind; everything it knows about a layer comes through this interface.

/** The type of one layer argument. `dim` is a positive integer size; `count` a non-negative one. */
export type ArgType =
  | { readonly kind: 'dim' }
  | { readonly kind: 'count' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** A positive ratio, e.g. MoR capacity; kept exact as numerator/denominator. */
  | { readonly kind: 'ratio' };

/** A checked argument value handed to `build`. `undefined` means `none` or not given (optional). */
export type ArgValue = number | boolean | string | Ratio | undefined;

/** An exact positive ratio `num/den` (both safe integers). */
export interface Ratio {
  readonly num: number;
  readonly den: number;
}

export interface ArgSpec {
  readonly name: string;
  readonly type: ArgType;
  /** Required arguments have no default; optional ones default to `default` (or none). */
  readonly required: boolean;
  readonly default?: number | boolean | string;
  /** Whether the argument may be given positionally (in the order of `args`). */
  readonly positional: boolean;
  /** One line for hovers, completion and docs/language.md. */
  readonly doc: string;
}

/** Where a weight sits in the cost model (drives FLOPs, adapters, active counting). */
export type WeightRole =
  | 'matmul' // a dense projection [out, in]; FLOPs 2·in·out per token
  | 'conv' // a convolution kernel [out, in/groups, kh, kw]
  | 'embedding' // a lookup table [rows, width]; 0 FLOPs
  | 'position' // a learned or relative position table; 0 FLOPs
  | 'norm' // a normalisation scale or shift
  | 'bias' // an additive bias
  | 'router'; // an MoE/MoR router projection; counts as matmul for FLOPs

/**
 * One weight tensor of a layer. `copies` > 1 describes a bank of identical-shape tensors (MoE
 * experts); `activeCopies` of them are used per token (top-k), the rest only stored.
 */
export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: WeightRole;
  readonly copies: number;
  readonly activeCopies: number;
  /** For matmul/router weights: the input and output widths (LoRA sizes: r·(in+out)). */
  readonly matmul?: { readonly dIn: number; readonly dOut: number };
  /**
   * For a routed bank (MoE experts): each token makes `draws` independent selections of `topK`
   * of the `copies` (one per Chain-of-Experts iteration; 1 for a plain MoE), so `activeCopies`
   * = draws·topK copies are applied per token. Absent: a bank with `activeCopies` < `copies` is
   * one selection of `activeCopies`; otherwise the weight is not routed.
   */
  readonly routing?: RoutedSelection;
}

/**
 * A skewed router load (`MoE(…, hot_experts: h, hot_share: f)`): the h most-used experts take the
 * fraction f of all selections, the others share the rest evenly. Absent: uniform routing.
 */
export interface RouterLoad {
  readonly hot: number;
  readonly share: Ratio;
}

/** How tokens pick copies of a routed bank: `draws` selections of `topK` per token, under `load`. */
export interface RoutedSelection {
  readonly topK: number;
  readonly draws: number;
  readonly load?: RouterLoad;
}

/** Elements a recurrent layer keeps per sequence, and their bits when not the analysis dtype. */
export interface RecurrentState {
  readonly elements: bigint;
  /** Bits per element when the state has its own dtype (fp32 SSM states); undefined: the analysis dtype. */
  readonly bits: number | undefined;
}

/** Attention geometry of a layer that keeps a KV cache (or reads one). */
export interface AttentionInfo {
  readonly variant: 'mha' | 'mla';
  /** Query heads. */
  readonly queryHeads: number;
  /** Key/value heads (GQA/MQA); for MLA, the number of heads keys/values are expanded to. */
  readonly kvHeads: number;
  /** Per-head dimension used in q·k scores (MLA: nope + rope dims). */
  readonly scoreDim: number;
  /** Per-head dimension of values. */
  readonly valueDim: number;
  /**
   * Per-head width of a second score term per attended key, beside q·k: relative-position
   * attention's (q + v)·p_j (`Attention(…, rel_pos: true)`, WeNet's RelPositionMultiHeadedAttention).
   * Absent: none.
   */
  readonly positionScoreDim?: number;
  /**
   * Where a decode step attends differently from prefill (MLA's absorbed form: queries absorbed
   * into W_UK score the cached latent directly), its per-head score and value widths per key.
   */
  readonly decode?: { readonly scoreDim: number; readonly valueDim: number };
  /** Cached elements per token for this layer: 2·kvHeads·headDim, or MLA's d_c + d_R. */
  readonly kvElementsPerToken: number;
  /**
   * Elements one learned prefix token stores (ParScale's prefix tuning, `parallel streams(…,
   * prefix: m)`) where that differs from what the cache holds per token: MLA learns its prefix
   * as the latent (kv_rank + rope_dim) whichever way decode runs; an expanded cache holds it
   * expanded. Absent: kvElementsPerToken (a prefix token is one cached key and value).
   */
  readonly prefixElementsPerToken?: number;
  /** Sliding window in tokens, or undefined for full attention. */
  readonly window: number | undefined;
  /**
   * Chunked attention (Llama 4): tokens attend only within their chunk of this many positions
   * (causally); undefined without. The KV cache holds one chunk at most.
   */
  readonly chunk?: number;
  /** Causal self-attention (decoder) vs bidirectional (encoder). */
  readonly causal: boolean;
  /** Cross-attention: keys and values come from the encoder output (source length). */
  readonly cross: boolean;
  /**
   * Names of this layer's weights that only produce K and V. A layer that borrows another
   * layer's KV (CLA, MLKV, YOCO) drops them from stored, effective and FLOPs.
   */
  readonly kvProducerWeights: readonly string[];
  /**
   * The weights that hold the heads, by name, for head-wise sharing (`share heads`): `query` and
   * `key` have `scoreDim` rows per query head, `value` has `valueDim` rows per head and `output`
   * `valueDim` columns per head. Absent where heads are not separate slices of a projection
   * (MLA's latent projections), which refuses head-wise sharing.
   */
  readonly headProjections?: { readonly query: string; readonly key: string; readonly value: string; readonly output: string };
  /**
   * Rotary position embedding of queries and keys (Attention's `rope`), rotate-half over the
   * first `dim` dims of each head with inverse frequencies theta^(-2i/dim); absent without one.
   * Parameter-free and 0 FLOPs (elementwise). MLA's decoupled rope is part of its geometry.
   */
  readonly rope?: { readonly dim: number; readonly theta: number };
}

/** Everything the engine needs from one layer instance. All counts are exact. */
export interface LayerCost {
  readonly weights: readonly WeightSpec[];
  /**
   * Forward FLOPs per token of the layer's weight-bearing operations (matmuls, convolutions,
   * routers), active experts only, a multiply-add counted as 2. The attention score and
   * value terms, which depend on context length, are not included: the engine adds them
   * from `attention`. Convolutions count all output positions of one sample.
   */
  readonly flopsPerToken: bigint;
  /** FLOPs of the K/V projections alone, removed when the layer borrows KV from another. */
  readonly kvProjectionFlopsPerToken: bigint;
  readonly attention: AttentionInfo | undefined;
  /**
   * Activation elements per token this layer saves for the backward pass (no recomputation,
   * flash attention: the s² score matrix is not saved). Used for training memory.
   */
  readonly activationElementsPerToken: bigint;
  /** Positions a learned absolute position table covers: a longer sequence has no position to look up. */
  readonly positionLimit?: number;
  /** Elements per token of a dropout mask saved for backward (one byte each: torch keeps a bool mask). */
  readonly maskElementsPerToken?: bigint;
  /** True for convolutional layers, whose FLOPs are per sample rather than per token. */
  readonly perSample: boolean;
  /**
   * A recurrent layer's state per sequence (Mamba's convolution and SSM states, a linear
   * attention's matrix): constant in the sequence length, kept instead of a KV cache.
   */
  readonly recurrentState?: RecurrentState;
  /** Convolutions: the geometry the costs were computed from (the ONNX exporter builds its Conv from it). */
  readonly conv?: ConvInfo;
  /**
   * Multiply-adds per training step that recompute the layer's applied weights from its stored
   * ones (LBDN's Cayley transform), counted like SSN or MASA generation: 6 FLOPs per MAC per step.
   */
  readonly generationMacsPerStep?: bigint;
  /**
   * How the layer's parameters enter its neighbours' weights when the network is read as a plain
   * feedforward one (LBDN's sandwich layers: layer k's A and Ψ meet layer k+1's B in the weight
   * 2·B_{k+1}·A_kᵀ between them). The dashboard notes it on the member; nothing is counted twice.
   */
  readonly neighbourSharing?: string;
  /**
   * A layer-wise recurrent router's state (RMoE): a `cell` (RecurrentRouter) advances a state of
   * `width` that the `reader`s after it (MoE(…, router_rnn: width)) score their experts from.
   * The evaluator checks that every reader has a cell of its width before it among its siblings
   * and that every cell has a reader after it (semantics/router-cells.ts), as the exporter needs.
   */
  readonly routerState?: { readonly role: 'cell' | 'reader'; readonly width: number };
}

/** A convolution's geometry (square kernel), as torch.nn.Conv1d/Conv2d take it. */
export interface ConvInfo {
  readonly cIn: number;
  readonly cOut: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
  /** The declared input size, one entry per spatial dimension (length; or height, width). */
  readonly inputSides: readonly number[];
  /** The output size per spatial dimension, as torch computes it. */
  readonly outputSides: readonly number[];
}

/** Reports a problem with one argument (or the call as a whole when `arg` is undefined). */
export type ArgProblemReporter = (arg: string | undefined, message: string) => void;

export interface LayerKind {
  readonly name: string;
  /** One paragraph for hovers and docs. */
  readonly doc: string;
  readonly args: readonly ArgSpec[];
  /**
   * Builds the cost of one instance from checked arguments (types, required, defaults and
   * ranges of single arguments are already enforced). Cross-argument consistency (heads
   * dividing width, top_k ≤ experts, …) is checked here; on a problem, call `report` and
   * return undefined.
   */
  build(args: ReadonlyMap<string, ArgValue>, report: ArgProblemReporter): LayerCost | undefined;
}
