// Resolved sharing and training declarations: what the statements of a model or variant mean,
// after their paths and arguments were checked. Two families:
// - subtree modifiers (ties, adapters, hashing, banks, dictionaries, freeze/train) that apply
//   uniformly to every weight under a path pattern;
// - stack strategies (share, share kv, route) that depend on the instance index and are
//   applied where the walk reaches their stack.

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
  /** `elements` trainable entries of each target weight, the rest frozen (FISH masks), merged into the weight. */
  | { readonly kind: 'sparse'; readonly elements: number };

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
   * top-level member; undefined for a block member tied to a sibling (the walk's own marker).
   */
  | { readonly kind: 'tie-main'; readonly source: TieSource | undefined }
  /** `tie a = b`: every weight of `a` (canonical key `targetKey`) is `b`'s store. */
  | { readonly kind: 'tie-all'; readonly targetKey: string; readonly source: TieSource }
  /** An adapter on every matmul weight (optionally only the named ones). `relax` adapters keep the base trainable. */
  /**
   * `tasks` > 1 (`lora(rank: 8, tasks: 8)`): one adapter per task, each stored and trained, of
   * which a token (belonging to one task) applies one; 1: one adapter shared by every task.
   */
  | { readonly kind: 'adapter'; readonly method: AdapterMethod; readonly weights: readonly string[] | undefined; readonly relax: boolean; readonly tasks: number }
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
  | { readonly kind: 'train' };

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
  readonly headShares: readonly HeadShare[];
  /** Whether the model has adapters, which freeze the base by default. */
  readonly hasAdapters: boolean;
}
