// Factorised weight parameterisations: a dense matrix W (d_out × d_in) stored as smaller factors
// and materialised from them. One place holds the layouts and their exact costs, so the counting
// (layer-totals.ts), the hover and the exporter (kernels/generated/factorized.ts) agree.
//
// - FedPara (Hyeon-Woo, Ye-Bin & Oh, ICLR 2022), low-rank Hadamard product:
//   W = (X₁Y₁ᵀ) ⊙ (X₂Y₂ᵀ), X_i ∈ ℝ^{m×R}, Y_i ∈ ℝ^{n×R}: 2R(m + n) stored, rank up to R²
//   (Proposition 1); a convolution kernel O×I×k_h×k_w as (T₁ ×₁ X₁ ×₂ Y₁) ⊙ (T₂ ×₁ X₂ ×₂ Y₂),
//   T_i ∈ ℝ^{R×R×k_h×k_w}, X_i ∈ ℝ^{R×O}, Y_i ∈ ℝ^{R×I}: 2(R²·k_h·k_w + R(O + I)) (Proposition 3).
//   The rank is given, or derived per weight from the paper's ratio γ.
// - Tensor train / matrix product operator (Novikov et al., NeurIPS 2015; Gao et al., Phys. Rev.
//   Research 2020): W reshaped to a 2d-way tensor with modes m₁…m_d (rows, ∏ m_k = d_out) and
//   n₁…n_d (columns, ∏ n_k = d_in) is a chain of cores G_k ∈ ℝ^{r_{k−1}×m_k×n_k×r_k}, r₀ = r_d = 1.
//   MPO names the middle core (index ⌊d/2⌋) the central tensor and the others auxiliary tensors;
//   MPOBERT shares the central tensor across layers, MPOE across experts.
//
// Every count is exact (bigint), in multiply-adds (MACs; a multiply-add is 2 FLOPs).

import * as Q from '../numbers/rational.js';
import type { WeightSpec } from '../layers/layer-kind.js';

/** Where an MPO's central tensor is stored once. */
export type CentralSharing =
  /** One central tensor per weight name and shape for every instance under the statement's paths (MPOBERT: across layers). */
  | 'layers'
  /** One central tensor per layer instance, shared by its copies (MPOE: across the experts of an MoE layer). */
  | 'experts'
  /** Every copy owns its central tensor (plain MPO compression). */
  | 'own';

export const CENTRAL_SHARINGS: readonly CentralSharing[] = ['layers', 'experts', 'own'];

export type FactorMethod =
  /** `rank` for every weight, or `ratio` γ: R = ⌈(1 − γ)·r_min + γ·r_max⌉ per weight (`fedparaRank`). */
  | { readonly kind: 'fedpara'; readonly rank: number | undefined; readonly ratio: Q.Rational | undefined }
  | {
      readonly kind: 'tensor_train' | 'mpo';
      /** Number of cores d (≥ 2). */
      readonly cores: number;
      /** Row modes m₁…m_d (∏ = d_out); undefined: d balanced factors of each weight's d_out. */
      readonly modesOut: readonly number[] | undefined;
      /** Column modes n₁…n_d (∏ = d_in); undefined: d balanced factors of each weight's d_in. */
      readonly modesIn: readonly number[] | undefined;
      /** The d − 1 inner ranks r₁…r_{d−1} (bond dimensions); undefined with `maxRank`. */
      readonly ranks: readonly number[] | undefined;
      /**
       * A truncation number D instead of `ranks`: each weight's bonds are its full-rank bonds
       * capped at D (`truncatedBonds`), as the MPO papers' reference code sets them.
       */
      readonly maxRank: number | undefined;
      /** MPO only: where the central tensor lives; `own` for a tensor train. */
      readonly central: CentralSharing;
    };

/** A distinct weight a `factorize` path reaches (for the per-weight table; counts come from the walk). */
export interface FactorTarget {
  /** The kernel's spatial sides for a convolution (FedPara), [] for a matrix. */
  readonly kernel: readonly number[];
  /** The module path under the statement's target (`body.attn`). */
  readonly path: string;
  readonly weight: string;
  readonly dOut: number;
  readonly dIn: number;
  /** Copies per layer instance (MoE experts). */
  readonly copies: number;
  /** The layer rebuilds its own weights from W (LBDN's Cayley transform): it applies what it builds, so W is materialised (dense execution). */
  readonly generatesOwn: boolean;
}

/** One stored factor of a weight: its name (as exported) and shape. */
export interface FactorTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/** How one d_out × d_in weight is stored and what materialising or applying it costs. */
export interface FactorLayout {
  /** The stored factors of one copy, in order (for a TT/MPO: G₁…G_d). */
  readonly factors: readonly FactorTensor[];
  /** The index in `factors` of an MPO's central tensor (shared per `central`); undefined otherwise. */
  readonly centralIndex: number | undefined;
  /** Elements of all factors of one copy. */
  readonly elements: bigint;
  /** Elements of the central tensor (0 without one). */
  readonly centralElements: bigint;
  /** MACs to materialise the dense W from its factors once (reconstruct-then-matmul). */
  readonly reconstructMacs: bigint;
  /** For a TT/MPO: the sweep `reconstructMacs` counts (cores merged from the first or from the last); `left` for FedPara. */
  readonly reconstructOrder: 'left' | 'right';
  /** MACs to apply the factors to one input vector without materialising W (factor chain); undefined for a convolution kernel. */
  readonly chainMacsPerToken: bigint | undefined;
  /** MACs the factor chain spends once per step before any token (FedPara's Khatri–Rao factors). */
  readonly chainSetupMacs: bigint;
  /** For a TT/MPO: the sweep `chainMacsPerToken` counts (the input contracted with the first core first, or the last); `left` for FedPara. */
  readonly chainOrder: 'left' | 'right';
  /** The TT/MPO modes actually used (after balancing), for hovers and the exporter. */
  readonly modesOut: readonly number[];
  readonly modesIn: readonly number[];
  /** r₀ … r_d for a TT/MPO (r₀ = r_d = 1); [R] for FedPara. */
  readonly ranks: readonly number[];
}

const big = (n: number): bigint => BigInt(n);
const product = (xs: readonly number[], from = 0, to = xs.length): bigint => {
  let p = 1n;
  for (let i = from; i < to; i++) p *= big(xs[i]!);
  return p;
};

/**
 * `n` split into `parts` factors as evenly as possible: its prime factors, largest first, each
 * multiplied into the currently smallest part (the earliest on a tie); the parts are returned
 * largest first. A prime n gives [n, 1, …, 1].
 */
export function balancedModes(n: number, parts: number): number[] {
  const primes: number[] = [];
  let rest = n;
  for (let p = 2; p * p <= rest; p++) {
    while (rest % p === 0) {
      primes.push(p);
      rest /= p;
    }
  }
  if (rest > 1) primes.push(rest);
  primes.sort((a, b) => b - a);
  const out = new Array<number>(parts).fill(1);
  for (const p of primes) {
    let smallest = 0;
    for (let i = 1; i < parts; i++) if (out[i]! < out[smallest]!) smallest = i;
    out[smallest]! *= p;
  }
  return out.sort((a, b) => b - a);
}

/** What is wrong with a method for one weight, or its layout. */
export type FactorResult = { readonly ok: true; readonly layout: FactorLayout } | { readonly ok: false; readonly message: string };

/**
 * The widths of a weight a method factorises: a matmul [d_out, d_in] (kernel []), or — FedPara
 * only — a convolution kernel [O, I, k…] (d_out = O, d_in = I). Undefined: the method leaves it dense.
 */
export function factorShape(method: FactorMethod, w: WeightSpec): { readonly dOut: number; readonly dIn: number; readonly kernel: readonly number[] } | undefined {
  if (w.role === 'matmul' && w.matmul) return { dOut: w.matmul.dOut, dIn: w.matmul.dIn, kernel: [] };
  if (w.role === 'conv' && method.kind === 'fedpara' && w.shape.length >= 3) return { dOut: w.shape[0]!, dIn: w.shape[1]!, kernel: w.shape.slice(2) };
  return undefined;
}

/** ⌈√n⌉ for a non-negative integer n. */
function ceilSqrt(n: bigint): bigint {
  let s = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (s * s < n) s++;
  while (s > 0n && (s - 1n) * (s - 1n) >= n) s--;
  return s;
}

/**
 * FedPara's rank for one weight: the given one, or from the ratio γ as the reference code
 * computes it (`_calc_from_ratio`): r_min = min(⌈√O⌉, ⌈√I⌉) (the least rank whose R² reaches
 * full rank), r_max = the largest R whose factors hold at most the dense weight (a kernel:
 * k²R² + (O + I)R ≤ O·I·k²/2, k² its taps; a matrix: 2R(O + I) ≤ O·I),
 * R = ⌈(1 − γ)·r_min + γ·r_max⌉, at least 1. Exact: r_max by integer search, the mix a rational.
 */
export function fedparaRank(method: { readonly rank: number | undefined; readonly ratio: Q.Rational | undefined }, dOut: number, dIn: number, kernel: readonly number[]): number {
  if (method.rank !== undefined) return method.rank;
  const o = big(dOut);
  const i = big(dIn);
  const taps = product(kernel);
  const rMin = ceilSqrt(o) < ceilSqrt(i) ? ceilSqrt(o) : ceilSqrt(i);
  // The factors' size at rank r must not pass the dense weight's: 2r(O + I) ≤ O·I for a matrix
  // (Proposition 1), 2(k²r² + r(O + I)) ≤ O·I·k² for a kernel (Proposition 3).
  const fits = (r: bigint): boolean => (kernel.length === 0 ? 2n * r * (o + i) <= o * i : 2n * taps * r * r + 2n * (o + i) * r <= o * i * taps);
  let rMax = kernel.length === 0 ? (o * i) / (2n * (o + i)) : BigInt(Math.max(0, Math.floor((-Number(o + i) + Math.sqrt(Number(o + i) ** 2 + 2 * Number(taps * o * i * taps))) / (2 * Number(taps)))));
  while (rMax > 0n && !fits(rMax)) rMax--;
  while (fits(rMax + 1n)) rMax++;
  const g = method.ratio ?? Q.ZERO;
  const mix = Q.add(Q.mul(Q.sub(Q.ONE, g), Q.fromBigInt(rMin)), Q.mul(g, Q.fromBigInt(rMax)));
  const r = Q.ceil(mix);
  return Number(r < 1n ? 1n : r);
}

/** The layout of a d_out × d_in weight (a convolution kernel with `kernel` taps, FedPara only) under `method`. */
export function factorLayout(method: FactorMethod, dOut: number, dIn: number, kernel: readonly number[] = []): FactorResult {
  if (method.kind === 'fedpara') {
    const rank = fedparaRank(method, dOut, dIn, kernel);
    return { ok: true, layout: kernel.length === 0 ? fedparaLayout(rank, dOut, dIn) : fedparaConvLayout(rank, dOut, dIn, kernel) };
  }
  if (kernel.length > 0) return { ok: false, message: `${method.kind} factorises matrices, not convolution kernels` };
  const d = method.cores;
  const modesOut = method.modesOut ?? balancedModes(dOut, d);
  const modesIn = method.modesIn ?? balancedModes(dIn, d);
  if (product(modesOut) !== big(dOut)) return { ok: false, message: `modes_out [${modesOut.join(', ')}] multiply to ${product(modesOut)}, not the weight's d_out ${dOut}` };
  if (product(modesIn) !== big(dIn)) return { ok: false, message: `modes_in [${modesIn.join(', ')}] multiply to ${product(modesIn)}, not the weight's d_in ${dIn}` };
  const ranks = [1, ...(method.ranks ?? truncatedBonds(modesOut, modesIn, method.maxRank ?? 1)), 1];
  return { ok: true, layout: trainLayout(modesOut, modesIn, ranks, method.kind === 'mpo') };
}

/**
 * The inner bonds r₁…r_{d−1} of a tensor train or MPO over the modes (m_k, n_k) truncated at D:
 * r_k = min(D, ∏_{l≤k} m_l·n_l, ∏_{l>k} m_l·n_l). The two products are the ranks of W's k-th
 * unfolding, so without truncation the decomposition is exact (successive SVDs reach no larger
 * bond); D below them is the MPO papers' truncation ("dimension squeezing"; the reference code's
 * `MPO.compute_rank_position` with `truncate_num`, lpyhdzx/MPOBERT-code Matrix2MPO_beta.py).
 */
export function truncatedBonds(modesOut: readonly number[], modesIn: readonly number[], maxRank: number): number[] {
  const d = modesOut.length;
  const cap = big(maxRank);
  const out: number[] = [];
  for (let k = 1; k < d; k++) {
    let left = 1n;
    let right = 1n;
    for (let l = 0; l < k; l++) left *= big(modesOut[l]!) * big(modesIn[l]!);
    for (let l = k; l < d; l++) right *= big(modesOut[l]!) * big(modesIn[l]!);
    let r = cap;
    if (left < r) r = left;
    if (right < r) r = right;
    out.push(Number(r));
  }
  return out;
}

/**
 * FedPara, W = (X₁Y₁ᵀ) ⊙ (X₂Y₂ᵀ) with m = d_out, n = d_in.
 * - Reconstruct: two rank-R products (m·n·R MACs each) and the Hadamard product (m·n
 *   multiplies, counted one MAC each): m·n·(2R + 1).
 * - Factor chain: W = (X₁ • X₂)(Y₁ • Y₂)ᵀ with • the face-splitting (row-wise Khatri–Rao)
 *   product, a rank-R² factorisation; forming X₁ • X₂ and Y₁ • Y₂ is R²·(m + n) multiplies per
 *   step, and applying it R²·(m + n) MACs per token.
 */
function fedparaLayout(rank: number, dOut: number, dIn: number): FactorLayout {
  const r = big(rank);
  const m = big(dOut);
  const n = big(dIn);
  const factors: FactorTensor[] = [
    { name: 'x1', shape: [dOut, rank] },
    { name: 'y1', shape: [dIn, rank] },
    { name: 'x2', shape: [dOut, rank] },
    { name: 'y2', shape: [dIn, rank] },
  ];
  const chain = r * r * (m + n);
  return {
    factors,
    centralIndex: undefined,
    elements: 2n * r * (m + n),
    centralElements: 0n,
    reconstructMacs: m * n * (2n * r + 1n),
    reconstructOrder: 'left',
    chainMacsPerToken: chain,
    chainSetupMacs: chain,
    chainOrder: 'left',
    modesOut: [dOut],
    modesIn: [dIn],
    ranks: [rank],
  };
}

/**
 * FedPara for a convolution kernel O×I×k… (Proposition 3; the reference code's
 * einsum("xyzw,xo,yi->oizw", T, X, Y)): each half T ×₁ X ×₂ Y costs R²·K·O MACs (T with X over
 * its first index) then R·O·I·K (with Y), K = ∏ k; the Hadamard product O·I·K multiplies,
 * counted one MAC each. No factor chain: a convolution is not applied per token here.
 */
function fedparaConvLayout(rank: number, dOut: number, dIn: number, kernel: readonly number[]): FactorLayout {
  const r = big(rank);
  const o = big(dOut);
  const i = big(dIn);
  const taps = product(kernel);
  const half = r * r * taps * o + r * o * i * taps;
  return {
    factors: [
      { name: 't1', shape: [rank, rank, ...kernel] },
      { name: 'x1', shape: [rank, dOut] },
      { name: 'y1', shape: [rank, dIn] },
      { name: 't2', shape: [rank, rank, ...kernel] },
      { name: 'x2', shape: [rank, dOut] },
      { name: 'y2', shape: [rank, dIn] },
    ],
    centralIndex: undefined,
    elements: 2n * (r * r * taps + r * (o + i)),
    centralElements: 0n,
    reconstructMacs: 2n * half + o * i * taps,
    reconstructOrder: 'left',
    chainMacsPerToken: undefined,
    chainSetupMacs: 0n,
    chainOrder: 'left',
    modesOut: [dOut],
    modesIn: [dIn],
    ranks: [rank],
  };
}

/**
 * MACs to merge a train of cores [r_k, s_k, r_{k+1}] (s_k the core's mode sizes multiplied; the
 * end ranks need not be 1) into one tensor [r_0, ∏ s_k, r_d]: left to right, merging core k+1
 * into the product of cores 0…k (a (r_0·∏_{l≤k} s_l) × r_{k+1} matrix) costs
 * r_0·(∏_{l≤k} s_l)·r_{k+1}·s_{k+1}·r_{k+2}; right to left mirrors it. Both sweeps are returned.
 */
export function mergeSweeps(sizes: readonly bigint[], ranks: readonly bigint[]): { readonly left: bigint; readonly right: bigint } {
  const d = sizes.length;
  let left = 0n;
  let prefix = ranks[0]!;
  for (let k = 0; k < d - 1; k++) {
    prefix *= sizes[k]!;
    left += prefix * ranks[k + 1]! * sizes[k + 1]! * ranks[k + 2]!;
  }
  let right = 0n;
  let suffix = ranks[d]!;
  for (let k = d - 1; k > 0; k--) {
    suffix *= sizes[k]!;
    right += suffix * ranks[k]! * sizes[k - 1]! * ranks[k - 1]!;
  }
  return { left, right };
}

/**
 * A tensor train of cores G_k ∈ ℝ^{r_{k−1}×m_k×n_k×r_k}.
 * - Reconstruct: merge the cores one by one; left to right, merging G_{k+1} into the product of
 *   G₁…G_k (a (∏_{l≤k} m_l n_l) × r_k matrix) costs (∏_{l≤k} m_l n_l)·r_k·m_{k+1}n_{k+1}r_{k+1}
 *   MACs; right to left mirrors it. The cheaper sweep is counted.
 * - Factor chain: contract the input (n₁…n_d) with one core at a time; right to left, core k
 *   costs (∏_{l<k} n_l)(∏_{l>k} m_l)·r_{k−1}m_k n_k r_k MACs, left to right
 *   (∏_{l<k} m_l)(∏_{l>k} n_l)·r_{k−1}m_k n_k r_k. The cheaper sweep is counted.
 */
function trainLayout(modesOut: readonly number[], modesIn: readonly number[], ranks: readonly number[], mpo: boolean): FactorLayout {
  const d = modesOut.length;
  const r = (k: number): bigint => big(ranks[k]!);
  const mn = (k: number): bigint => big(modesOut[k]!) * big(modesIn[k]!);
  const factors: FactorTensor[] = [];
  let elements = 0n;
  for (let k = 0; k < d; k++) {
    factors.push({ name: `core${k + 1}`, shape: [ranks[k]!, modesOut[k]!, modesIn[k]!, ranks[k + 1]!] });
    elements += r(k) * mn(k) * r(k + 1);
  }
  const { left, right } = mergeSweeps(modesOut.map((m, k) => big(m) * big(modesIn[k]!)), ranks.map(big));
  let chainRight = 0n;
  let chainLeft = 0n;
  for (let k = 0; k < d; k++) {
    const core = r(k) * mn(k) * r(k + 1);
    chainRight += product(modesIn, 0, k) * product(modesOut, k + 1) * core;
    chainLeft += product(modesOut, 0, k) * product(modesIn, k + 1) * core;
  }
  const centralIndex = mpo ? Math.floor(d / 2) : undefined;
  const central = centralIndex === undefined ? 0n : r(centralIndex) * mn(centralIndex) * r(centralIndex + 1);
  return {
    factors,
    centralIndex,
    elements,
    centralElements: central,
    reconstructMacs: left <= right ? left : right,
    reconstructOrder: left <= right ? 'left' : 'right',
    chainMacsPerToken: chainLeft < chainRight ? chainLeft : chainRight,
    chainSetupMacs: 0n,
    chainOrder: chainLeft < chainRight ? 'left' : 'right',
    modesOut,
    modesIn,
    ranks,
  };
}

/** Stored elements of `copies` copies of one weight in one layer instance, and the central tensor kept once model-wide (`layers`). */
export function factorStorage(method: FactorMethod, layout: FactorLayout, copies: number): { readonly perInstance: bigint; readonly global: bigint } {
  const c = big(copies);
  if (method.kind === 'fedpara' || method.central === 'own') return { perInstance: layout.elements * c, global: 0n };
  const aux = layout.elements - layout.centralElements;
  if (method.central === 'experts') return { perInstance: aux * c + layout.centralElements, global: 0n };
  return { perInstance: aux * c, global: layout.centralElements };
}

/** A short label of a method, for drawings and hovers: `FedPara R=8`, `TT 4 cores r=[4, 4, 4]`, `MPO 5 cores r=8, central per layers`, `MPO 5 cores r≤100000` (a truncation number). */
export function describeFactorMethod(method: FactorMethod): string {
  if (method.kind === 'fedpara') return method.rank !== undefined ? `FedPara R=${method.rank}` : `FedPara γ=${Q.toDecimalString(method.ratio ?? Q.ZERO)}`;
  const given = method.ranks;
  const ranks = given === undefined ? `r≤${method.maxRank}` : given.every((r) => r === given[0]) ? `r=${given[0]}` : `r=[${given.join(', ')}]`;
  if (method.kind === 'tensor_train') return `TT ${method.cores} cores ${ranks}`;
  return `MPO ${method.cores} cores ${ranks}${method.central === 'own' ? '' : `, central shared across ${method.central}`}`;
}

/** How a factorised weight is executed: W materialised then the dense matmul, or the factors applied to each token. */
export type FactorExecution = 'dense' | 'factors';

/**
 * The execution the roofline counts for one weight applied `dense` MACs per token when
 * materialised. The factor chain is chosen when it dominates: per token no dearer than the dense
 * matmul and per step no dearer than materialising W, one of them strictly cheaper — then it is
 * the cheaper at every token count, at inference (W materialised once) and in training (W
 * materialised every step) alike. FedPara and TT/MPO satisfy the step condition whenever the
 * token condition holds (their setup, R²(m + n) or 0, is below m·n ≤ the materialisation), so
 * the choice is the per-token comparison. A convolution kernel has no chain: dense.
 */
export function factorExecution(layout: Pick<FactorLayout, 'chainMacsPerToken' | 'chainSetupMacs' | 'reconstructMacs'>, denseMacsPerToken: bigint): FactorExecution {
  const chain = layout.chainMacsPerToken;
  if (chain === undefined) return 'dense';
  const perToken = chain <= denseMacsPerToken;
  const perStep = layout.chainSetupMacs <= layout.reconstructMacs;
  const strictly = chain < denseMacsPerToken || layout.chainSetupMacs < layout.reconstructMacs;
  return perToken && perStep && strictly ? 'factors' : 'dense';
}

/**
 * With the dense execution chosen, the training-step token count below which applying the
 * factors would still cost less (materialising W once per step outweighs the chain's extra
 * per-token cost): the least T with reconstruct + dense·T ≤ setup + chain·T, minus one; 0 when
 * there is none (the chain is no dearer per step, or there is no chain).
 */
export function factorsCheaperBelowTokens(layout: FactorLayout, denseMacsPerToken: bigint): bigint {
  const chain = layout.chainMacsPerToken;
  if (chain === undefined || chain <= denseMacsPerToken) return 0n;
  const saved = layout.reconstructMacs - layout.chainSetupMacs;
  if (saved <= 0n) return 0n;
  const extra = chain - denseMacsPerToken;
  // Factors strictly cheaper while setup + chain·T < reconstruct + dense·T, i.e. T·extra < saved.
  return (saved + extra - 1n) / extra;
}
