import type { LayerClass } from './layer-classes.js';
import type { MaterialisedBecause } from '../sharing/factorized-weights.js';

export type { MaterialisedBecause };

// Plain, JSON-safe data for the dashboard: what the host sends to the webview and what the
// standalone report embeds. Exact counts travel as decimal strings (`Count`) so that no number
// above 2^53 is rounded on the way; charts convert them with Number() only to draw.

/** An exact non-negative integer written in decimal, e.g. "2506172416". */
export type Count = string;

export interface Range {
  readonly start: number;
  readonly end: number;
}

export interface CountsData {
  readonly stored: Count;
  readonly effective: Count;
  readonly active: Count;
  readonly trainable: Count;
}

/** One node of the report tree (model → stack → run → block → layer → weight). */
export interface TreeData {
  readonly name: string;
  readonly kind: 'model' | 'stack' | 'block' | 'layer' | 'weight';
  readonly type: string;
  /** Instances this node stands for, and the first one's index (they pass 2^53: exact). */
  readonly count: Count;
  readonly firstIndex: Count;
  readonly params: CountsData;
  readonly flopsPerToken: Count;
  readonly kvCacheBytes: Count;
  readonly range: Range;
  readonly children: readonly TreeData[];
}

/** MoE layers inside one instance: experts stored and used per token. */
export interface MoeData {
  /** Member path inside the instance (`ffn`, `attn.experts`), or the member's own name. */
  readonly path: string;
  readonly experts: number;
  readonly active: number;
  /** PERFT-E (`expert_adapter: r`): the width r of the unit each expert carries; absent without. */
  readonly adapter?: number;
  /** Chain-of-Experts (`iterations: C` > 1): the selections per token, `active` = C·top_k; absent for one. */
  readonly iterations?: number;
}

/** A run of identical instances of a top-level stack (or the single instance of a layer/block). */
export interface RunData {
  readonly type: string;
  readonly count: Count;
  readonly firstIndex: Count;
  readonly moe: readonly MoeData[];
  /** Whether an instance holds a layer that keeps a KV cache (causal self- or cross-attention). */
  readonly kv: boolean;
  /** The layer classes an instance holds (attention, recurrent, experts), in LAYER_CLASSES order. */
  readonly classes: readonly LayerClass[];
}

export interface MemberData {
  readonly name: string;
  readonly kind: 'layer' | 'block' | 'stack';
  readonly type: string;
  /** Instances (1 for a layer or block). */
  readonly length: Count;
  readonly runs: readonly RunData[];
  readonly range: Range;
}

export type StoreKind = 'slot' | 'tie' | 'hash' | 'bank' | 'dict' | 'factor';

/** A store that more than one reader takes weights from, or that generates weights (hash, bank, dict). */
export interface StoreData {
  readonly id: string;
  readonly kind: StoreKind;
  readonly label: string;
  /** The declaration as written (`share body: cycle(9)`), for hovers. */
  readonly declaration: string;
  readonly range: Range;
}

/** Instance `index` of `member` (null: the member itself, or every instance of it) reads `store`. */
export interface ReadData {
  readonly store: string;
  readonly member: string;
  readonly index: number | null;
  /** Member path inside the instance that reads the store (`attn`), empty for the whole instance. */
  readonly sub: string;
}

/** Cross-layer KV sharing on a top-level stack: producerOf[i] is the instance whose cache i reads. */
export interface KvData {
  readonly member: string;
  readonly label: string;
  readonly producerOf: readonly number[];
  readonly range: Range;
}

/** Adapters (LoRA and relatives), routing and other annotations that are not stores. */
export interface NoteData {
  readonly kind: 'adapter' | 'route' | 'halt' | 'parallel' | 'smash' | 'freeze' | 'train' | 'heads' | 'factorize' | 'dtype' | 'neighbours';
  readonly member: string;
  readonly index: number | null;
  readonly label: string;
  readonly range: Range;
}

/** A layer class present in the model and the layer kinds that make it up (the view's legend). */
export interface LayerClassData {
  readonly id: LayerClass;
  readonly kinds: readonly string[];
}

export interface StructureData {
  readonly members: readonly MemberData[];
  /** The layer classes of the model, in LAYER_CLASSES order. */
  readonly classes: readonly LayerClassData[];
  readonly stores: readonly StoreData[];
  readonly reads: readonly ReadData[];
  readonly kv: readonly KvData[];
  readonly notes: readonly NoteData[];
  /** Stacks longer than the structure limit are described per run only (no per-instance reads), or members past the member limit are left out. */
  readonly truncated: boolean;
}

export interface BudgetData {
  readonly constraint: string;
  /** The metric's name as written (`kv`, `params.stored`, `memory.inference`). */
  readonly metric: string;
  readonly limit: string;
  readonly value: string;
  readonly ok: boolean;
  readonly range: Range;
}

/** KV cache and memory at one sequence length (the other settings as analysed). */
export interface SweepPoint {
  readonly seq: number;
  readonly kvCacheBytes: Count;
  /** Recurrent layers' state (Mamba): constant in seq, drawn beside the KV cache. */
  readonly recurrentStateBytes: Count;
  readonly weightBytes: Count;
  readonly inferenceBytes: Count;
}

/** Bytes on one GPU of a pipeline rank, by tensor class (docs/plans.md). */
export interface PlanBytesData {
  readonly weights: Count;
  readonly gradients: Count;
  readonly optimizer: Count;
  readonly activations: Count;
  readonly loss: Count;
  readonly buffers: Count;
  readonly total: Count;
}

/** A `plan` declaration of the model, evaluated at the analysis settings (the Plan pane). */
export interface PlanData {
  /** The declaration's range (its target name). */
  readonly range: Range;
  /** `8 × H100: tp 2 · pp 2 · dp 2 · ZeRO 1`, and the schedule. */
  readonly layout: string;
  readonly schedule: string;
  /** Why the settings were refused (empty when the plan was evaluated). */
  readonly problems: readonly string[];
  readonly device: string;
  readonly deviceBytes: Count;
  readonly fits: boolean;
  readonly stages: readonly { readonly rank: number; readonly holds: string; readonly bytes: PlanBytesData; readonly fits: boolean }[];
  /** Seconds of the step and of each part (the roofline; nothing overlaps). */
  readonly step: { readonly seconds: number; readonly parts: readonly { readonly name: string; readonly seconds: number }[] };
  readonly mfu: number;
  readonly tokensPerSecond: number;
}

/** One factor of a `param` scheme's rule at the model's size: its formula and value (and the target's value given the base's). */
export interface MultiplierData {
  /** `m_N^-1·m_L^-1/2`, or `1`. */
  readonly formula: string;
  readonly value: number;
  readonly target: number | null;
}

/** The dashboard's drawing of how a model is parameterised: `param` multipliers and `factorize` weights. */
export interface ParameterisationData {
  /** The `param` statement's rule per weight class at the model's width and depth (null without one). */
  readonly multipliers: {
    readonly scheme: string;
    readonly width: string;
    readonly baseWidth: string;
    readonly depth: string;
    readonly baseDepth: string;
    /** One row per weight class, with the first weight of that class as an example. */
    readonly rows: readonly {
      readonly weightClass: string;
      readonly example: string;
      readonly initStd: MultiplierData | null;
      readonly lr: MultiplierData;
      readonly output: MultiplierData;
      readonly residual: MultiplierData;
      readonly weightDecay: MultiplierData | null;
    }[];
  } | null;
  /** Each distinct factorised weight: what it stores against its dense W, and which execution the FLOPs count. */
  readonly factorized: readonly {
    readonly path: string;
    readonly method: string;
    /** [d_out, d_in, kernel…] */
    readonly shape: readonly number[];
    readonly copies: number;
    readonly factorElements: Count;
    readonly denseElements: Count;
    readonly execution: 'dense' | 'factors';
    /** Why W is materialised whatever the costs (the report's `materialisedBecause`); null when the costs chose. */
    readonly materialisedBecause: MaterialisedBecause | null;
    /** FLOPs per token of the dense matmul and of the factor chain (null for a convolution kernel), and of materialising W once. */
    readonly denseFlopsPerToken: Count;
    readonly chainFlopsPerToken: Count | null;
    readonly materialiseFlops: Count;
  }[];
}

/** A supernet's subnet space and its Pareto front (active parameters up, decode FLOPs down), for the Variants pane. */
export interface SupernetData {
  /** Every subnet, the classes they form (subnets up to the order of their choices), the supernet's stored parameters; null when it could not be measured. */
  readonly subnets: Count | null;
  readonly classes: Count | null;
  readonly stored: Count | null;
  /** The model-wide choices (`elastic d: [512, 768]`), each name with its values as written; empty without any or when the statement could not be read. */
  readonly globals: readonly { readonly name: string; readonly values: readonly string[] }[];
  /** The front's classes by decode FLOPs ascending (at most DASHBOARD_FRONT_POINTS of `frontSize`). */
  readonly front: readonly { readonly label: string; readonly subnets: Count; readonly active: Count; readonly stored: Count; readonly decodeFlops: Count }[];
  readonly frontSize: number;
  /** Why no front is drawn (the supernet refused, or too many classes to walk per update). */
  readonly error: string | null;
}

export interface ModelData {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  readonly base: string | null;
  readonly range: Range;
  readonly params: CountsData;
  readonly flops: {
    readonly unit: 'token' | 'sample';
    readonly prefill: Count;
    readonly prefillPerToken: string;
    readonly decode: Count;
    readonly trainPerToken: string;
  };
  readonly kvCacheBytes: Count;
  readonly recurrentStateBytes: Count;
  readonly memory: {
    readonly weightBytes: Count;
    readonly kvCacheBytes: Count;
    readonly inferenceBytes: Count;
    readonly trainingBytes: Count;
    readonly activationBytes: Count;
  };
  readonly latency: {
    readonly device: string;
    readonly prefillSeconds: number;
    readonly prefillBound: 'compute' | 'memory';
    readonly decodeSeconds: number;
    readonly decodeBound: 'compute' | 'memory';
  };
  /**
   * Routed expert banks and the experts per layer a decode step of the batch reads, and a prefill
   * step of its B·S tokens (expected: uniform routing, or the layer's skewed load).
   */
  readonly routing: readonly { readonly experts: number; readonly topK: number; readonly expectedDistinct: string; readonly prefillTouched: string }[];
  /** Clark et al.'s routed effective parameter count, as the report's summary and basis lines (absent without one). */
  readonly routedEffective?: { readonly summary: string; readonly basis: string };
  /** A `parallel` statement: P streams (a KV cache each) or workers (one shared cache) over the same weights. */
  readonly parallel?: { readonly streams: number; readonly cache: 'separate' | 'shared' };
  /**
   * A prompt shared by continuations (the `sharedPrefix` setting): the report's
   * SharedPrefixReport with its counts as decimal strings — the Budget pane draws the
   * block-sparse mask and the shared-against-apart figures from it (absent without one).
   */
  readonly sharedPrefix?: SharedPrefixData;
  readonly budgets: readonly BudgetData[];
  readonly tree: TreeData;
  readonly structure: StructureData;
  readonly sweep: readonly SweepPoint[];
  /** The model's `plan` declarations, evaluated (empty when it has none). */
  readonly plans: readonly PlanData[];
  /** Its `param` multipliers and factorised weights (absent when it has neither). */
  readonly parameterisation?: ParameterisationData;
  /** Its supernet (`elastic …`; absent without one). */
  readonly supernet?: SupernetData;
}

/** ModelReport.sharedPrefix as the dashboard carries it (counts as exact decimal strings). */
export interface SharedPrefixData {
  readonly tokens: number;
  readonly continuations: number;
  readonly computedTokens: number;
  readonly unsharedTokens: number;
  readonly prefillFlops: string;
  readonly unsharedPrefillFlops: string;
  readonly kvCacheBytes: string;
  readonly unsharedKvCacheBytes: string;
}

export interface DashboardData {
  readonly format: 'npas-dashboard';
  readonly version: 1;
  /** The spec's file name as the host shows it. */
  readonly source: string;
  readonly options: {
    readonly seq: number;
    readonly srcSeq: number;
    readonly batch: number;
    readonly dtype: string;
    readonly device: string;
  };
  readonly device: { readonly name: string; readonly memoryBytes: Count };
  readonly models: readonly ModelData[];
  /** Spec errors (budget violations excluded) and warnings; the first few messages. */
  readonly diagnostics: { readonly errors: number; readonly warnings: number; readonly messages: readonly string[] };
}

// ---------------------------------------------------------------------------------------------
// Layout: positions as data
// ---------------------------------------------------------------------------------------------

export type KvRole = 'producer' | 'consumer' | 'mixed' | 'none';

export interface LayoutNode {
  /** Stable identity: `m:embed`, `i:body:3`, `r:body:0-17`, `s:slot:body:2`, `g:body`. */
  readonly id: string;
  readonly kind: 'instance' | 'run' | 'store' | 'group';
  readonly label: string;
  readonly detail: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  /** Palette index (0–5) of the store it reads first, or -1 when it owns its weights. */
  readonly colour: number;
  readonly member: string;
  /** First instance index and instance count (groups and runs cover several; a store: its readers). */
  readonly index: Count;
  readonly count: Count;
  readonly kv: KvRole;
  /** `2/8 experts` badges of MoE layers in the instance. */
  readonly moe: readonly string[];
  /** The layer classes the instance or run holds (none for groups and stores). */
  readonly classes: readonly LayerClass[];
  readonly notes: readonly string[];
  /** Where to reveal in the editor. */
  readonly range: Range;
  /** Whether the group can be collapsed (stacks with more than one instance). */
  readonly collapsible: boolean;
  readonly collapsed: boolean;
}

export interface LayoutLink {
  readonly id: string;
  readonly kind: 'reads' | 'kv';
  readonly source: string;
  readonly target: string;
  /** SVG path data. */
  readonly d: string;
}

export interface ArchitectureLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly LayoutNode[];
  readonly links: readonly LayoutLink[];
}
