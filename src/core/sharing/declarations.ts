// Resolved sharing and training declarations: what the statements of a model or variant mean,
// after their paths and arguments were checked. Two families:
// - subtree modifiers (ties, adapters, hashing, banks, dictionaries, freeze/train) that apply
//   uniformly to every weight under a path pattern;
// - stack strategies (share, share kv, route) that depend on the instance index and are
//   applied where the walk reaches their stack.

import type { DType } from '../analysis/report-types.js';
import type { RouterLoad } from '../layers/layer-kind.js';
import type { Rational } from '../numbers/rational.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import type { ResolvedPath } from './resolve-path.js';
import type { FactorMethod, FactorTarget } from './factorization.js';
import type { KvProducerMap, SlotMap } from './slot-map.js';

/** One step of a path pattern: a member/weight name, or a concrete instance index. */
export type PatternStep = { readonly kind: 'name'; readonly name: string } | { readonly kind: 'index'; readonly index: number };

export type AdapterMethod =
  | { readonly kind: 'lora'; readonly rank: number; readonly merged: boolean }
  | { readonly kind: 'tied_lora'; readonly rank: number; readonly merged: boolean }
  | { readonly kind: 'aslora'; readonly rank: number; readonly groups: number; readonly merged: boolean }
  | { readonly kind: 'vblora'; readonly rank: number; readonly vectors: number; readonly length: number; readonly topK: number; readonly merged: boolean }
  | { readonly kind: 'mos'; readonly rank: number; readonly shards: number; readonly pool: number; readonly privateShards: number; readonly merged: boolean }
  /** An inventory of `skills` LoRA modules per target mixed per task by learned logits (Polytropon; `splits` > 1: Multi-Head Routing). */
  | { readonly kind: 'poly'; readonly rank: number; readonly skills: number; readonly splits: number; readonly merged: boolean }
  /** A full-rank residual ΔW of the weight's shape (TAPS: a task's own delta on the layers it adapts). */
  | { readonly kind: 'delta'; readonly merged: boolean }
  /**
   * ScaLearn (Frohmann et al. 2023): `sources` frozen bottleneck adapters d_out → r → d_out (with
   * biases, ReLU; Pfeiffer adapters trained one per source task) on the output of each target,
   * their outputs combined by learned scales ω [sources, d_out] (`scaling: vector`) or
   * [sources, 1] (`scalar`, ScaLearnUniform) per target and task, or, with `shared`, one ω per
   * statement and width read by every layer (ScaLearn++ / ScaLearnUniform++). Only ω trains.
   */
  | { readonly kind: 'scalearn'; readonly bottleneck: number; readonly sources: number; readonly scaling: 'vector' | 'scalar'; readonly shared: boolean }
  /**
   * A library of `experts` rank-r LoRAs per target routed per token with no trained router (Arrow,
   * Ostapenko et al. 2024): each expert's prototype, the top right singular vector of its B·A,
   * is stored beside the library; a token takes the top_k experts by |prototype·x| and mixes
   * them by a softmax over those scores. Targets named in `shared_a` (q, k, v: one input; `tie` here) share one
   * A and one prototype per expert, as mttl's tie_params for Phi-2's fused Wqkv.
   */
  | { readonly kind: 'arrow'; readonly rank: number; readonly experts: number; readonly topK: number; readonly tie: readonly string[] }
  /**
   * PSRP (Moment Probing's MP+, Gao et al. 2023): a scale and shift of a target's output made from
   * the residual stream x its sub-layer adds to (the reference's Block.forward: the stream after
   * the attention's residual add, before norm2) by down [r, d], ReLU, up_weight and up_bias [d, r] (no biases):
   * y ↦ up_bias(h) + (1 + up_weight(h)) ⊙ y, h = relu(down(x)).
   */
  | { readonly kind: 'psrp'; readonly rank: number }
  /**
   * A regular bottleneck adapter on a target's output y (width d): LayerNorm(d) (with `norm`),
   * Linear(d, r), ReLU, Linear(r, d) with biases and the residual — fairseq's BottleneckAdapter;
   * one per language with `tasks` (its BottleneckAdapterBlock). `postNorm`: the norm after the
   * residual add (normalize_before false).
   */
  | { readonly kind: 'bottleneck_adapter'; readonly bottleneck: number; readonly norm: boolean; readonly postNorm: boolean }
  /**
   * Hyper-Adapters (Baziotis et al. 2022): one hypernetwork generates a bottleneck adapter
   * d → r → d per language pair and layer from the concatenated source-language, target-language
   * and layer embeddings (width `embedding` each), through an encoder Linear(3e, h)·act and
   * `encoderLayers` residual blocks (LayerNorm(h), two Linear(h, h)), optional LayerNorms on its
   * input and output, and heads Linear(h, ·) for the down and up weights and biases (and, with
   * `norm`, the adapter's LayerNorm). `languages` sizes both language tables (one with `tied`);
   * `layers` is the layer embeddings, one per instance of every distinct stack the statement's
   * paths reach (encoder and decoder layers together), `offset` the first of this path's stack.
   */
  | {
      readonly kind: 'hyper_lang';
      readonly bottleneck: number;
      readonly languages: number;
      readonly embedding: number;
      readonly hidden: number;
      readonly encoderLayers: number;
      readonly norm: boolean;
      readonly tied: boolean;
      readonly inputNorm: boolean;
      readonly outputNorm: boolean;
      /** The reference's normalize_before false: residual blocks and the adapter normalise after their residual add (same parameters). */
      readonly postNorm: boolean;
      readonly layers: number;
      readonly offset: number;
    }
  /** `elements` trainable entries of each target weight, the rest frozen (FISH masks), merged into the weight. */
  | { readonly kind: 'sparse'; readonly elements: number }
  /**
   * LoRETTA_rep (Yang et al., NAACL 2024): LoRA's A [d_in → r] and B [r → d_out], each a tensor
   * train over its elements with cores [r_{k−1}, n_k, r_k] of one TT rank (sharing/tt-adapter.ts).
   * Modes undefined: the reference code's table for the width and r. `runs`: how the statement's
   * trains execute (set once its targets resolve, for the drawing).
   */
  | { readonly kind: 'loretta_rep'; readonly rank: number; readonly ttRank: number; readonly modesA: readonly number[] | undefined; readonly modesB: readonly number[] | undefined; readonly merged: boolean; readonly runs?: 'factors' | 'dense' | 'mixed' }
  /**
   * LoRETTA_adp: a bottleneck adapter d → b → d (down, nonlinearity, up, with biases) whose down
   * and up matrices are tensor trains, on the weight's input (d = d_in: the reference's
   * mh_adapter, before the matmul) or output (d = d_out: output_adapter, after it).
   */
  | { readonly kind: 'loretta_adp'; readonly bottleneck: number; readonly ttRank: number; readonly side: 'input' | 'output'; readonly modesDown: readonly number[] | undefined; readonly modesUp: readonly number[] | undefined; readonly runs?: 'factors' | 'dense' | 'mixed' }
  /**
   * Adapters generated by one hypernetwork (HyperFormer++, Karimi Mahabadi et al. 2021): a
   * bottleneck d_out → r → d_out (with biases, and a LayerNorm after it with `norm`) on the output
   * of each target, generated per task, layer and target from the concatenated task, layer and
   * block embeddings (width `embedding` each) through an MLP (`hidden`, `projected`). Stored: the
   * generator once per statement, the task embeddings once per model; nothing per target.
   * `layers` (L: layer embeddings) and `blocks` (K: block-type embeddings) are read from the
   * statement's targets when it resolves: L the instances the paths fan out over, K the weights
   * one instance adapts.
   */
  | {
      readonly kind: 'hyper';
      readonly bottleneck: number;
      readonly embedding: number;
      readonly hidden: number;
      readonly projected: number;
      readonly norm: boolean;
      readonly layers: number;
      readonly blocks: number;
    };

/** What a tie reads: the source module (or one weight of it) as resolved. */
export interface TieSource {
  readonly pattern: readonly PatternStep[];
  /** Canonical key of the source (`embed`, `body[3].attn`, `embed.table` when it names a weight). */
  readonly key: string;
  /** The source weight when the path names one (`tied embed.table`). */
  readonly weight: string | undefined;
  /** Whether the source path fans out over a stack (the exporter needs one instance). */
  readonly fansOut: boolean;
}

export type ModifierEffect =
  /**
   * `tied x`: the main weight is another module's store. `source` is the resolved `x` of a
   * top-level member; undefined for a block member tied to a sibling (the store resolver's
   * `memberTie`, which finds the sibling from the instance path: `tiedWeight`).
   */
  | { readonly kind: 'tie-main'; readonly source: TieSource | undefined }
  /** `tie a = b`: every weight of `a` (canonical key `targetKey`) is `b`'s store. */
  | { readonly kind: 'tie-all'; readonly targetKey: string; readonly source: TieSource }
  /** An adapter on every matmul weight (optionally only the named ones). `relax` adapters keep the base trainable. */
  /**
   * `tasks` > 1 (`lora(rank: 8, tasks: 8)`): one adapter per task, each stored and trained, of
   * which a token (belonging to one task) applies one; 1: one adapter shared by every task.
   * `owners` (`delta(tasks: 5, for_tasks: [0, 3])`, TAPS's per-task layer subsets): only these
   * tasks, ascending, own an adapter here, so |owners| are stored; absent: every task does.
   */
  | { readonly kind: 'adapter'; readonly method: AdapterMethod; readonly weights: readonly string[] | undefined; readonly relax: boolean; readonly tasks: number; readonly owners?: readonly number[] }
  /** ROAST (`roast`: tiles) / STABLE-RPS (`rps`: RANDOMFOLD): weights read a global memory of `memory` params. */
  | { readonly kind: 'hash'; readonly method: 'roast' | 'rps'; readonly memory: bigint; readonly scales: boolean }
  /**
   * SSN: weights generated from a bank of `params` with up to `templates` templates each.
   * `fixed` (written by the NPAS allocator): every weight uses exactly `templates` templates, and
   * embedding and position tables under the paths are generated too.
   */
  | { readonly kind: 'bank'; readonly label: string; readonly params: bigint; readonly templates: number; readonly fixed: boolean }
  /** MASA: each projection type is a mix of `atoms` shared atoms. */
  | { readonly kind: 'dict'; readonly atoms: number }
  /**
   * `factorize`: every matmul weight under the paths (or the named one) is stored as factors
   * (FedPara, tensor train, MPO) and materialised from them each step (factorization.ts).
   * `label` keys an MPO's central tensor shared across layers.
   */
  | { readonly kind: 'factorize'; readonly method: FactorMethod; readonly label: string; readonly targets: readonly FactorTarget[] }
  | { readonly kind: 'freeze' }
  | { readonly kind: 'train' }
  /**
   * `train PATHS: sparse(elements: k)` (FISH, Sung et al. 2021): the weights under the paths are
   * frozen but for k elements chosen by Fisher information over all of them together, trained
   * in place; `elements` is the statement's whole pool, counted once per model (compilation.ts).
   */
  | { readonly kind: 'train-sparse'; readonly elements: number }
  /** `precision weights PATHS: dtype`: the weights under the paths are stored in `dtype` (the last such statement wins). */
  | { readonly kind: 'dtype'; readonly dtype: DType };

export interface Modifier {
  /** Unique within the model; also orders freeze/train (a later one wins). */
  readonly id: number;
  readonly pattern: readonly PatternStep[];
  readonly effect: ModifierEffect;
  readonly range: TextRange;
}

export interface StackShare {
  readonly kind: 'share';
  readonly slots: SlotMap;
  /** Member path inside each instance; empty for whole instances. */
  readonly sub: readonly string[];
  /**
   * `share experts`: only these weights of the MoE layer at `sub` (its routed expert bank) are
   * shared, one pool per store; its router, norms and shared experts stay per instance.
   */
  readonly pool?: ExpertPool;
  readonly range: TextRange;
}

/** The routed experts `share experts` pools: which weights, and how tokens pick from them. */
export interface ExpertPool {
  /** The bank's weights (`expert_gate`, `expert_up`, `expert_down` and their biases). */
  readonly weights: readonly string[];
  /** Experts in one pool (E). */
  readonly experts: number;
  /** Experts one selection picks (k). */
  readonly topK: number;
  /** Selections per token and layer (Chain-of-Experts iterations; 1 otherwise). */
  readonly draws: number;
  /** A skewed router load (hot experts); undefined: uniform routing. */
  readonly load?: RouterLoad;
}

export interface StackKvShare {
  readonly kind: 'kv';
  readonly producers: KvProducerMap;
  /** `keep_weights: true`: readers keep their K/V projections stored (unused); only effective, active and FLOPs drop. */
  readonly keepsWeights?: boolean;
  readonly range: TextRange;
}

export interface StackRoute {
  readonly kind: 'route';
  /** Capacity of each recursion (fraction of tokens), non-increasing. */
  readonly capacities: readonly Rational[];
  /** Router input width (one d→1 router per recursion). */
  readonly routerWidth: number;
  /**
   * Per-token halting (`halt(…)`, sharing/halting.ts): the recursions are the halting steps,
   * their capacities the probabilities of reaching each, and one halting unit shared by every
   * step replaces the per-recursion routers. Absent for Mixture-of-Recursions.
   */
  readonly halting?: HaltingUnit;
  readonly range: TextRange;
}

/** The halting unit of a halted stack: stored once, applied before every step after the first. */
export interface HaltingUnit {
  /** Stored parameters (weights and biases). */
  readonly params: bigint;
  /** The weights applied as multiply-adds (2 FLOPs each per application). */
  readonly matmulParams: bigint;
  readonly width: number;
  /** Hidden width of an MLP unit (Linear(width, hidden) + bias, an activation, then the outputs); undefined: one Linear. */
  readonly hidden: number | undefined;
  /** Its output logits: 1 (ACT's sigmoid halting probability) or 2 (SUT's stick-breaking softmax). */
  readonly outputs: number;
  /** Whether the output Linear has biases. */
  readonly outBias: boolean;
  /** Σ of the steps' reach probabilities: the expected steps per token. */
  readonly expectedDepth: Rational;
}

export type StackStrategy = StackShare | StackKvShare | StackRoute;

/** Head-wise sharing (`share heads PATH: pairs(n, qkvo)`) of one target: a stored-params reduction computed at resolution time. */
export interface HeadShare {
  /** The attention layer(s) the statement names, as resolved (fan-out over a stack's instances). */
  readonly target: ResolvedPath;
  /** n: heads that read another layer's head slices. */
  readonly pairs: number;
  /** Whether W_v rows and W_o columns are shared too. */
  readonly qkvo: boolean;
  readonly savedParams: bigint;
  readonly range: TextRange;
}

export interface ResolvedSharing {
  readonly modifiers: readonly Modifier[];
  /** Stack strategies keyed by the canonical path of their stack (`body`, `encoder.layers`). */
  readonly stacks: ReadonlyMap<string, readonly StackStrategy[]>;
  /** The path of each key of `stacks`, typed (`body[2].layers` names instance 2 of `body`). */
  readonly stackPatterns: ReadonlyMap<string, readonly PatternStep[]>;
  readonly headShares: readonly HeadShare[];
  /** Whether the model has adapters, which freeze the base by default. */
  readonly hasAdapters: boolean;
}
