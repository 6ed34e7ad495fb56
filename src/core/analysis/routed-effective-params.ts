// The effective parameter count of a routed model: the size N̄ of the dense model a scaling-law
// fit says reaches the same loss as a routed model of base size N with E experts per routed layer
// (Clark et al., "Unified Scaling Laws for Routed Language Models", ICML 2022, arXiv:2202.01169).
// The paper fits, for each routing method, log L(N, E) = a·log N + b·log Ê + c·log N·log Ê + d
// (logs base 10) with the saturated expert count
//   1/Ê = 1/(E − 1 + (1/E_start − 1/E_max)⁻¹) + 1/E_max          (Ê = E_start at E = 1, → E_max),
// and defines N̄ by L(N̄, 1) = L(N, E). With α(x) = a + c·log x that solves to
//   N̄ = N^(α(Ê)/α(E_start)) · (Ê/E_start)^(b/α(E_start)),
// so a model of one expert is its own N̄. It is a fit, not a count: a real number, reported to
// four significant digits, one per routing method the paper fitted.
//
// Sources (read; the paper itself was not): the coefficients of the paper's Table 3 and the law as
// quoted in a public literature survey's section on Clark et al. 2022 (S-BASE, RL-R and HASH rows)
// and in a public note on MoE scaling laws that derives the closed form above from L(N̄, 1) =
// L(N, E) and tabulates it for S-BASE (e.g. N = 10M, E = 128 → 90.77M). Both give the same S-BASE
// row. The paper fitted top-1 routed decoder models on 130B tokens, N being the base (dense) model's
// size; the engine takes N as the model's active parameters per token.

import type { RoutedBankReport } from './report-types.js';
import { groupDigits } from '../text/number-format.js';

export type RoutingMethod = 'S-BASE' | 'RL-R' | 'HASH';

/** One routing method's fit of Clark et al.'s Eq. 1 (their Table 3). */
export interface RoutingFit {
  readonly method: RoutingMethod;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly eStart: number;
  readonly eMax: number;
}

/** Table 3 of Clark et al. 2022, one row per routing method (the values as published, three decimals). */
export const ROUTING_FITS: readonly RoutingFit[] = [
  { method: 'S-BASE', a: -0.082, b: -0.108, c: 0.009, d: 1.104, eStart: 1.847, eMax: 314.478 },
  { method: 'RL-R', a: -0.083, b: -0.126, c: 0.012, d: 1.111, eStart: 1.88, eMax: 469.982 },
  { method: 'HASH', a: -0.087, b: -0.136, c: 0.012, d: 1.157, eStart: 4.175, eMax: 477.741 },
];

/** Significant digits the effective count is reported to (the fit's coefficients carry three or four). */
export const ROUTED_EFFECTIVE_DIGITS = 4;

/** Ê: the expert count saturated between E_start (at E = 1) and E_max (as E grows). */
export function saturatedExperts(experts: number, fit: RoutingFit): number {
  const offset = 1 / (1 / fit.eStart - 1 / fit.eMax);
  return 1 / (1 / (experts - 1 + offset) + 1 / fit.eMax);
}

/** N̄ for a routed model of base size n with `experts` experts per routed layer, under `fit`. */
export function routedEffectiveParams(n: number, experts: number, fit: RoutingFit): number {
  const alpha = (x: number): number => fit.a + fit.c * Math.log10(x);
  const eHat = saturatedExperts(experts, fit);
  const dense = alpha(fit.eStart);
  return Math.pow(n, alpha(eHat) / dense) * Math.pow(eHat / fit.eStart, fit.b / dense);
}

/** A positive number to `digits` significant digits as a plain decimal string ("51830000", "0.1235"). */
export function significantDecimal(x: number, digits: number): string {
  if (!(x > 0) || !Number.isFinite(x)) return String(x);
  const exponent = Math.floor(Math.log10(x));
  const shift = exponent - (digits - 1);
  if (shift < 0) return x.toFixed(-shift);
  const mantissa = Math.round(x / Math.pow(10, shift));
  // Rounding 9999.6 up gives 10000: still the right digits, one more zero.
  return `${mantissa}${'0'.repeat(shift)}`;
}

/** The report's routed effective parameter counts (absent for a model without routed experts). */
export interface RoutedEffectiveReport {
  /** N: the model's active parameters per token. */
  readonly base: bigint;
  /** E: the routed experts of each routed layer. */
  readonly experts: number;
  /** Experts each token selects per layer (the fits are top-1). */
  readonly topK: number;
  /** N̄ per routing method, to `ROUTED_EFFECTIVE_DIGITS` significant digits. */
  readonly fits: readonly { readonly method: RoutingMethod; readonly effective: string }[];
}

/**
 * The routed effective parameter counts of a model whose routed layers all have the same number of
 * experts (the law has one E); undefined without routed layers or with layers of different E.
 */
export function routedEffective(active: bigint, routing: readonly RoutedBankReport[]): RoutedEffectiveReport | undefined {
  const first = routing[0];
  if (!first || routing.some((r) => r.experts !== first.experts || r.topK !== first.topK)) return undefined;
  const n = Number(active);
  return {
    base: active,
    experts: first.experts,
    topK: first.topK,
    fits: ROUTING_FITS.map((fit) => ({ method: fit.method, effective: significantDecimal(routedEffectiveParams(n, first.experts, fit), ROUTED_EFFECTIVE_DIGITS) })),
  };
}

/**
 * One line for a reader: "S-BASE 90,770,000 · RL-R … · HASH …" — the fits' effective counts with
 * their digits grouped (already rounded; the grouping adds no precision).
 */
export function routedEffectiveSummary(r: RoutedEffectiveReport): string {
  return r.fits.map((f) => `${f.method} ${groupDigits(f.effective)}`).join(' · ');
}

/** What the numbers rest on, said once wherever they are shown. */
export function routedEffectiveBasis(r: RoutedEffectiveReport): string {
  return `Clark et al. 2022 scaling-law fit, N = ${groupDigits(r.base)} active, E = ${r.experts} experts per layer${r.topK === 1 ? '' : ` (fitted on top-1 routing; this model routes top-${r.topK})`}, ${ROUTED_EFFECTIVE_DIGITS} significant digits`;
}
