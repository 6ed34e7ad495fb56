// LoRETTA (Yang, Zhou, Wong & Zhang, NAACL 2024, arXiv 2402.11417): adapters whose matrices are
// tensor trains. The reference code (yifanycc/loretta@c66bbb3fe0a717d04dd02e4c5278bf2b61016348,
// loretta/loretta/tensor_layers/layers.py, TensorizedLinear_module) stores a linear map
// x ↦ x·M, M ∈ ℝ^{rows×cols} (rows the input width), as a tensor train over M's elements: modes
// n₁…n_d with ∏ n_k = rows·cols and cores G_k ∈ ℝ^{r_{k−1}×n_k×r_k}, r₀ = r_d = 1, one TT rank r
// for every inner bond (low_rank_tensors.py, TensorTrain). Its forward materialises the full
// tensor and reshapes it to (rows, cols) (forward_tt_full_precision).
// - LoRETTA_rep (tuners/loretta_rep.py, Linear): LoRA's A (d_in → r) and B (r → d_out), each such
//   a train, no bias.
// - LoRETTA_adp (tuners/loretta_adp.py, Linear): a bottleneck d → b → d (down, nonlinearity, up)
//   with both projections such trains, each with its bias (b and d).
// This file holds one train's layout and exact costs and the two ways of executing it, so the
// counting (analysis/layer-totals.ts), the statement check (schemes/adapt.ts) and the exporter
// (kernels/generated/tt-adapter.ts) agree. Counts in multiply-adds (MACs), exact.

import type { AdapterMethod } from './declarations.js';
import { factorExecution, mergeSweeps, type FactorExecution } from './factorization.js';

/**
 * The reference's default modes, TRANSFORMERS_HIDDEN_SIZE_TO_TENSOR_SHAPE
 * (yifanycc/loretta@c66bbb3, loretta/loretta/utils/tensor_util.py): for a bottleneck (LoRA rank or
 * adapter width) and a hidden width d, the modes of a d × bottleneck matrix (∏ = d·bottleneck).
 * Both factors of an adapter read the entry of their own hidden width.
 */
export const REFERENCE_TT_SHAPES: ReadonlyMap<number, ReadonlyMap<number, readonly number[]>> = new Map(
  Object.entries({
    5: { 768: [5, 8, 12, 8], 1024: [4, 8, 5, 8, 4], 1280: [4, 8, 5, 8, 5], 1536: [4, 8, 5, 8, 6], 1600: [5, 8, 5, 8, 5], 2304: [5, 8, 8, 4, 9], 4096: [16, 16, 5, 4, 4], 5120: [5, 8, 10, 8, 8], 8192: [4, 16, 16, 10, 4] },
    8: { 768: [8, 8, 12, 8], 1024: [4, 8, 8, 8, 4], 1280: [4, 8, 8, 8, 5], 1536: [4, 8, 8, 8, 6], 1600: [5, 8, 8, 8, 5], 2304: [8, 8, 8, 4, 9], 4096: [16, 16, 8, 4, 4], 5120: [8, 8, 10, 8, 8], 8192: [4, 16, 16, 16, 4] },
    16: { 768: [8, 16, 12, 8], 1024: [4, 8, 16, 8, 4], 1280: [4, 8, 16, 8, 5], 1536: [4, 8, 16, 8, 6], 1600: [5, 8, 16, 8, 5], 2304: [8, 8, 8, 8, 9], 4096: [16, 16, 16, 4, 4], 5120: [8, 16, 10, 8, 8], 8192: [4, 16, 16, 16, 8] },
    32: { 768: [4, 8, 12, 8, 8], 1024: [4, 8, 16, 8, 4], 1280: [4, 8, 16, 8, 5], 1536: [4, 8, 16, 8, 6], 1600: [5, 8, 16, 8, 5], 2304: [8, 8, 16, 8, 9], 4096: [16, 16, 16, 4, 4], 5120: [8, 16, 10, 8, 8], 8192: [4, 16, 16, 16, 8] },
    64: { 768: [8, 8, 12, 8, 8], 1024: [4, 8, 8, 8, 8, 4], 1280: [4, 8, 8, 8, 8, 5], 1536: [4, 8, 8, 8, 8, 6], 1600: [5, 8, 8, 8, 8, 5], 2304: [8, 8, 8, 8, 8, 9], 4096: [16, 16, 16, 4, 4, 4], 5120: [5, 8, 8, 16, 8, 8], 8192: [4, 16, 16, 16, 8, 4] },
    128: { 768: [8, 16, 12, 8, 8], 1024: [4, 8, 16, 8, 8, 4], 1280: [4, 8, 16, 8, 8, 5], 1536: [4, 8, 16, 8, 8, 6], 1600: [5, 8, 16, 8, 8, 5], 4096: [16, 16, 16, 8, 4, 4], 5120: [5, 8, 16, 16, 8, 8], 8192: [4, 16, 16, 16, 16, 4] },
  }).map(([b, widths]) => [Number(b), new Map(Object.entries(widths).map(([d, modes]) => [Number(d), modes]))]),
);

/** One tensor-train matrix x ↦ x·M, M ∈ ℝ^{rows×cols}, and what executing it costs. */
export interface TtMatrix {
  /** Which factor of its adapter: LoRA's `a`/`b`, or the bottleneck's `down`/`up`. */
  readonly role: 'a' | 'b' | 'down' | 'up';
  readonly rows: number;
  readonly cols: number;
  /** n₁…n_d, ∏ = rows·cols. */
  readonly modes: readonly number[];
  /** r₀…r_d, r₀ = r_d = 1. */
  readonly ranks: readonly number[];
  /** The cores' shapes [r_{k−1}, n_k, r_k], in order. */
  readonly cores: readonly (readonly number[])[];
  /** Σ_k r_{k−1}·n_k·r_k. */
  readonly elements: bigint;
  /** Materialising M from the cores once: the cheaper merge sweep (`mergeSweeps`). */
  readonly reconstructMacs: bigint;
  readonly reconstructOrder: 'left' | 'right';
  /**
   * The split s (cores 1…s span the rows: ∏_{k≤s} n_k = rows) that lets the train run without
   * forming M: M = L·R with L = G₁…G_s ∈ ℝ^{rows×r_s} and R = G_{s+1}…G_d ∈ ℝ^{r_s×cols}, each
   * merged once per step, then per token x·L·R. Undefined when no prefix of the modes multiplies
   * to `rows` (the reshape to (rows, cols) cuts a mode): M must be materialised.
   */
  readonly split: number | undefined;
  /** rows·r_s + r_s·cols per token with the split; undefined without one. */
  readonly chainMacsPerToken: bigint | undefined;
  /** Merging L (left to right) and R (right to left) once per step; 0 without a split. */
  readonly chainSetupMacs: bigint;
  /** What the engine counts (`factorExecution`): the split factors applied per token, or M materialised then rows·cols per token. */
  readonly execution: FactorExecution;
  /** The counted execution's MACs per token and per step. */
  readonly macsPerToken: bigint;
  readonly setupMacs: bigint;
}

const big = (n: number): bigint => BigInt(n);

/** One TT matrix of the given modes and uniform TT rank, or why it cannot be one. */
export function ttMatrix(role: TtMatrix['role'], rows: number, cols: number, modes: readonly number[], ttRank: number): { readonly ok: true; readonly matrix: TtMatrix } | { readonly ok: false; readonly message: string } {
  const product = modes.reduce((p, n) => p * big(n), 1n);
  if (product !== big(rows) * big(cols)) return { ok: false, message: `[${modes.join(', ')}] multiply to ${product}, not the ${rows} × ${cols} = ${big(rows) * big(cols)} elements of ${role === 'a' || role === 'b' ? role.toUpperCase() : `'${role}'`}` };
  const d = modes.length;
  const ranks = modes.map((_, k) => (k === 0 ? 1 : ttRank));
  ranks.push(1);
  const r = ranks.map(big);
  const n = modes.map(big);
  const cores = modes.map((m, k) => [ranks[k]!, m, ranks[k + 1]!]);
  const elements = cores.reduce((s, c) => s + big(c[0]!) * big(c[1]!) * big(c[2]!), 0n);
  const full = mergeSweeps(n, r);
  let split: number | undefined;
  let prefix = 1n;
  for (let s = 1; s < d; s++) {
    prefix *= n[s - 1]!;
    if (prefix === big(rows)) {
      split = s;
      break;
    }
    if (prefix > big(rows)) break;
  }
  let chainMacsPerToken: bigint | undefined;
  let chainSetupMacs = 0n;
  if (split !== undefined) {
    chainMacsPerToken = r[split]! * (big(rows) + big(cols));
    chainSetupMacs = mergeSweeps(n.slice(0, split), r.slice(0, split + 1)).left + mergeSweeps(n.slice(split), r.slice(split)).right;
  }
  const reconstructMacs = full.left <= full.right ? full.left : full.right;
  const dense = big(rows) * big(cols);
  const execution = factorExecution({ chainMacsPerToken, chainSetupMacs, reconstructMacs }, dense);
  return {
    ok: true,
    matrix: {
      role,
      rows,
      cols,
      modes,
      ranks,
      cores,
      elements,
      reconstructMacs,
      reconstructOrder: full.left <= full.right ? 'left' : 'right',
      split,
      chainMacsPerToken,
      chainSetupMacs,
      execution,
      macsPerToken: execution === 'factors' ? chainMacsPerToken! : dense,
      setupMacs: execution === 'factors' ? chainSetupMacs : reconstructMacs,
    },
  };
}

export type LorettaMethod = Extract<AdapterMethod, { readonly kind: 'loretta_rep' | 'loretta_adp' }>;

/** The matrices of a LoRETTA adapter on a d_in → d_out weight, or why its modes do not fit it. */
export function lorettaMatrices(method: LorettaMethod, dIn: number, dOut: number): { readonly ok: true; readonly matrices: readonly TtMatrix[] } | { readonly ok: false; readonly message: string } {
  // [role, rows, cols, written modes, the argument that writes them, the width keying the reference's table]
  const plan: [TtMatrix['role'], number, number, readonly number[] | undefined, string, number][] =
    method.kind === 'loretta_rep'
      ? [
          ['a', dIn, method.rank, method.modesA, 'modes_a', dIn],
          ['b', method.rank, dOut, method.modesB, 'modes_b', dOut],
        ]
      : (() => {
          const d = method.side === 'input' ? dIn : dOut;
          return [
            ['down', d, method.bottleneck, method.modesDown, 'modes_down', d],
            ['up', method.bottleneck, d, method.modesUp, 'modes_up', d],
          ];
        })();
  const bottleneck = method.kind === 'loretta_rep' ? method.rank : method.bottleneck;
  const matrices: TtMatrix[] = [];
  for (const [role, rows, cols, written, arg, width] of plan) {
    const modes = written ?? REFERENCE_TT_SHAPES.get(bottleneck)?.get(width);
    if (!modes) return { ok: false, message: `${method.kind}: the reference code has no tensor shape for width ${width} at ${method.kind === 'loretta_rep' ? 'rank' : 'bottleneck'} ${bottleneck} (TRANSFORMERS_HIDDEN_SIZE_TO_TENSOR_SHAPE); write ${arg}: [n₁, …, n_d] with ∏ n_k = ${big(rows) * big(cols)}` };
    const result = ttMatrix(role, rows, cols, modes, method.ttRank);
    if (!result.ok) return { ok: false, message: `${method.kind}: ${written ? arg : 'the reference\'s default modes'} ${result.message}` };
    matrices.push(result.matrix);
  }
  return { ok: true, matrices };
}

/** Per copy of one adapted weight: stored (= trainable) numbers, materialised numbers, FLOPs per token and generation MACs per step. */
export function lorettaCost(method: LorettaMethod, dIn: number, dOut: number): { readonly stored: bigint; readonly used: bigint; readonly flops: bigint; readonly generationMacs: bigint } | undefined {
  const result = lorettaMatrices(method, dIn, dOut);
  if (!result.ok) return undefined;
  const cores = result.matrices.reduce((s, m) => s + m.elements, 0n);
  const macs = result.matrices.reduce((s, m) => s + m.macsPerToken, 0n);
  const generationMacs = result.matrices.reduce((s, m) => s + m.setupMacs, 0n);
  if (method.kind === 'loretta_rep') {
    // ΔW = B·A: no bias (lora_A/lora_B are built with bias=False). Merged: W + s·B·A served, no extra FLOPs.
    const r = big(method.rank);
    return { stored: cores, used: r * (big(dIn) + big(dOut)), flops: method.merged ? 0n : 2n * macs, generationMacs };
  }
  // The bottleneck's biases (adapter_down and adapter_up are built with bias=True): b and d.
  const d = big(method.side === 'input' ? dIn : dOut);
  const b = big(method.bottleneck);
  return { stored: cores + b + d, used: 2n * d * b + b + d, flops: 2n * macs, generationMacs };
}

/** How a LoRETTA statement's matrices run, over every weight it adapts: all one way, or `mixed`. */
export function lorettaExecution(method: LorettaMethod, shapes: readonly { readonly dIn: number; readonly dOut: number }[]): FactorExecution | 'mixed' | undefined {
  const seen = new Set<FactorExecution>();
  for (const s of shapes) {
    const result = lorettaMatrices(method, s.dIn, s.dOut);
    if (result.ok) for (const m of result.matrices) seen.add(m.execution);
  }
  return seen.size === 0 ? undefined : seen.size > 1 ? 'mixed' : [...seen][0];
}
