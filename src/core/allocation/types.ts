// The vocabulary of the NPAS allocator: the generated weights it works on (items), the request,
// and the plan it returns. Counts are plain numbers: the allocator checks that every total it
// handles is a safe integer (below 2^53), so they are exact.

import type { PatternStep } from '../sharing/declarations.js';

/** Weight roles the allocator generates from stores; norms, biases and routers stay as they are. */
export const GENERATED_ROLES: ReadonlySet<string> = new Set(['matmul', 'conv', 'embedding', 'position']);

/** One generated weight tensor of one layer instance (an SSN "layer"). */
export interface AllocationItem {
  /** `body[3].attn.q` — the weight's path, usable in `bank` statements. */
  readonly path: string;
  /** The same path as walk-pattern steps. */
  readonly steps: readonly PatternStep[];
  /** The path with its first stack index removed (`body.attn.q`), when it has one. */
  readonly fanPath: string | undefined;
  /** The first stack on the path: its instance index and length (for compressing paths). */
  readonly fanIndex: number;
  readonly fanLength: number;
  /** `Attention.q`, `Conv2d.weight`: layer kind and weight name. */
  readonly role: string;
  /** The weight role in the cost model (matmul, conv, embedding, position). */
  readonly weightRole: string;
  readonly shape: readonly number[];
  /** Elements of one copy. */
  readonly numel: number;
  /** Copies (MoE experts); each copy is generated separately. */
  readonly copies: number;
  /** Index of the top-level module instance it belongs to (depth order). */
  readonly unit: number;
}

/** The architecture as the allocator sees it. */
export interface AllocationInput {
  readonly model: string;
  readonly items: readonly AllocationItem[];
  /** Stored params that are not generated (norms, biases, routers). */
  readonly fixed: number;
  /** Number of depth units (top-level module instances). */
  readonly units: number;
}

export type GroupingSpec =
  | { readonly kind: 'auto' }
  | { readonly kind: 'all' }
  | { readonly kind: 'shape' }
  | { readonly kind: 'role' }
  | { readonly kind: 'depth'; readonly k: number }
  | { readonly kind: 'cluster'; readonly k: number }
  | { readonly kind: 'checkpoint'; readonly path: string };

export type GenerationMethod = 'wavg' | 'repeat' | 'hash';

export interface AllocationRequest {
  /** B: the stored parameters the whole model must have. */
  readonly target: number;
  readonly grouping: GroupingSpec;
  readonly method: GenerationMethod;
  /** Template cap of the low-budget regime (SSN `--bank_size`, default 8; repeat and hash use 1). */
  readonly maxTemplates: number;
  /** For `checkpoint:` grouping: one similarity sketch per item path (see checkpoint-groups.ts). */
  readonly sketches?: ReadonlyMap<string, Float64Array>;
}

export type GeneratorKind = 'direct' | 'mix' | 'slice' | 'interpolate' | 'tile' | 'hash';

export interface Generator {
  readonly kind: GeneratorKind;
  /** Templates K_ℓ (1 for direct, slice, interpolate, tile, single-template hash). */
  readonly templates: number;
  /** Coefficients this weight owns in the checkpoint: K_ℓ·copies when K_ℓ ≥ 2, else 0. */
  readonly coefficients: number;
  /** First store entry it reads (the window runs on modulo the store size). */
  readonly offset: number;
  /** Store entries the window spans: copies·K_ℓ·|W| capped at the store size. */
  readonly reads: number;
}

export interface GroupPlan {
  readonly id: string;
  /** Store size P_g; for a direct group the weight itself. */
  readonly params: number;
  /** Σ |W| of its weights (demand). */
  readonly demand: number;
  readonly direct: boolean;
  /** Item indices, in depth order. */
  readonly layers: readonly number[];
  /** Store entries no weight reads (always 0 in a plan). */
  readonly unused: number;
  /** Entries the SSN reference layout (template cap, block placement, `inter` shrink) leaves unread in the same store. */
  readonly referenceUnused: number;
}

export interface LayerPlan {
  readonly path: string;
  readonly group: string;
  readonly generator: Generator;
}

export interface AllocationPlan {
  readonly model: string;
  readonly target: number;
  /** Σ stores + coefficients + fixed: equals target. */
  readonly stored: number;
  readonly unused: number;
  readonly referenceUnused: number;
  /** Which grouping ran (`auto` resolves to one of the others) and why. */
  readonly grouping: GroupingSpec;
  readonly groupingReason: string;
  readonly method: GenerationMethod;
  readonly regime: 'low' | 'high';
  readonly demand: number;
  readonly fixed: number;
  readonly coefficients: number;
  /** Generation multiply-adds per training step: Σ K_ℓ·|W_ℓ|·copies (as the engine counts banks). */
  readonly generationMacs: number;
  /** The smallest target this grouping and method accept. */
  readonly minimum: number;
  readonly groups: readonly GroupPlan[];
  readonly layers: readonly LayerPlan[];
  readonly items: readonly AllocationItem[];
}

export type AllocationResult =
  | { readonly ok: true; readonly plan: AllocationPlan }
  | { readonly ok: false; readonly message: string; readonly minimum?: number };
