// The per-weight table of a model's factorised weights: for each distinct weight a `factorize`
// statement reaches, what it stores and the two ways of executing it — materialising W once per
// step and applying the dense matmul, or applying the factors to each token — and which one the
// engine's FLOPs and roofline count (`factorExecution`). Hover, `npas budget --json` and the
// dashboard read it.

import type { TextRange } from '../syntax/syntax-tree.js';
import type { Modifier, ResolvedSharing } from './declarations.js';
import { modifiersFor, type PathStep } from './store-resolver.js';
import { describeFactorMethod, factorExecution, factorLayout, factorsCheaperBelowTokens, type FactorExecution, type FactorLayout, type FactorTarget } from './factorization.js';

export interface FactorizedWeightRow {
  /** The `factorize` statement that factorises it. */
  readonly statement: TextRange;
  /** `body.attn.q`: the module path and weight name. */
  readonly path: string;
  /** The method as a short label (`FedPara R=8`, `TT 6 cores r=4`). */
  readonly method: string;
  readonly dOut: number;
  readonly dIn: number;
  /** Copies per layer instance (MoE experts). */
  readonly copies: number;
  /** Factor shapes of one copy, in order. */
  readonly factors: readonly (readonly number[])[];
  /** Numbers in the factors of one copy, and in the dense W. */
  readonly factorElements: bigint;
  readonly denseElements: bigint;
  /** An MPO's central tensor (0 without one), and where it is stored once. */
  readonly centralElements: bigint;
  readonly centralShared: 'layers' | 'experts' | 'own' | undefined;
  /** Materialising W from its factors, per copy and step (counted in flops.train as 6 × this). */
  readonly reconstructMacs: bigint;
  /** The convolution kernel's sides ([] for a matrix). */
  readonly kernel: readonly number[];
  /** The dense matmul per token (what the engine counts: the materialised W applied); for a kernel, per output position. */
  readonly denseMacsPerToken: bigint;
  /** Applying the factors to one token without materialising W, and their once-per-step setup (undefined for a convolution kernel). */
  readonly chainMacsPerToken: bigint | undefined;
  readonly chainSetupMacs: bigint;
  /** Which execution costs fewer MACs per token (kept for readers of the first table; `execution` is what is counted). */
  readonly cheaperPerToken: 'dense' | 'factors';
  /** The execution the engine's FLOPs, generation and roofline count: the cheaper at every token count (`factorExecution`), unless W must exist. */
  readonly execution: FactorExecution;
  /** Why W is materialised whatever the costs (`materialisedBy`); undefined when the costs chose. */
  readonly materialisedBecause: MaterialisedBecause | undefined;
  /** With `dense` counted: training steps of fewer tokens than this would still cost less applying the factors (0: none). */
  readonly factorsCheaperBelowTokens: bigint;
}

/**
 * Why a factorised W must exist as a dense tensor, whatever applying its factors would cost:
 * - `sparse mask`: a FISH mask (`adapt PATHS: sparse(elements: k)`) replaces k entries of W by
 *   its own values; the factors alone compute the unmasked W·x, so the masked W is formed (W
 *   materialised, then the k entries written) and applied;
 * - `kernel`: a convolution kernel has no factor chain here;
 * - `rebuilt by its layer`: the layer applies what it builds from W (LBDN's Cayley transform).
 */
export type MaterialisedBecause = 'sparse mask' | 'kernel' | 'rebuilt by its layer';

/**
 * Whether a sparse mask (FISH, `adapt … sparse(elements: k)`) replaces entries of weight `weight`:
 * one of `modifiers` (those reaching the weight) is a `sparse` adapter naming it or every matmul.
 * A pooled mask (`train PATHS: sparse(elements: k)`) is not one: it trains k of the stored
 * elements in place — a factorised weight's factors — and leaves the execution as it is.
 */
export function sparseMasked(modifiers: readonly Modifier[], weight: string): boolean {
  return modifiers.some((m) => m.effect.kind === 'adapter' && m.effect.method.kind === 'sparse' && (!m.effect.weights || m.effect.weights.includes(weight)));
}

/** Why the target's W must be materialised whatever the costs, or undefined when the costs decide. */
export function materialisedBy(t: Pick<FactorTarget, 'kernel' | 'generatesOwn'>, masked: boolean): MaterialisedBecause | undefined {
  if (t.kernel.length > 0) return 'kernel';
  if (t.generatesOwn) return 'rebuilt by its layer';
  return masked ? 'sparse mask' : undefined;
}

/**
 * The execution counted for one target weight: a matrix in a layer applying it as it is may run
 * its factors (when they dominate, `factorExecution`); a kernel, W rebuilt by its layer, or W
 * under a sparse mask is materialised (`masked`: `sparseMasked` of the modifiers reaching it).
 */
export function targetExecution(t: Pick<FactorTarget, 'kernel' | 'generatesOwn' | 'dOut' | 'dIn'>, layout: FactorLayout, masked = false): FactorExecution {
  return materialisedBy(t, masked) === undefined ? factorExecution(layout, BigInt(t.dOut) * BigInt(t.dIn)) : 'dense';
}

/** `body.attn` as name steps (a target's path drops stack indices: the row speaks for every instance). */
function nameSteps(path: string): PathStep[] {
  return path === '' ? [] : path.split('.').map((name) => ({ kind: 'name', name }));
}

/**
 * How a `factorize` statement's weights are executed, for a one-line label: all one way, or
 * `mixed`; with `because` when every weight is materialised for the same reason whatever the costs
 * (`materialisedBecause` of its rows: a sparse mask, a kernel, a layer rebuilding W).
 */
export function statementExecution(m: Modifier, sharing: ResolvedSharing): { readonly execution: FactorExecution | 'mixed' | undefined; readonly because: MaterialisedBecause | undefined } {
  const rows = statementRows(m, sharing);
  const executions = new Set(rows.map((r) => r.execution));
  const reasons = new Set(rows.map((r) => r.materialisedBecause));
  const execution = executions.size === 0 ? undefined : executions.size > 1 ? 'mixed' : [...executions][0];
  return { execution, because: execution === 'dense' && reasons.size === 1 ? [...reasons][0] : undefined };
}

export function factorizedWeights(sharing: ResolvedSharing): FactorizedWeightRow[] {
  const rows: FactorizedWeightRow[] = [];
  for (const m of sharing.modifiers) rows.push(...statementRows(m, sharing));
  return rows;
}

/** The rows of one `factorize` modifier's targets (none for another modifier). */
function statementRows(m: Modifier, sharing: ResolvedSharing): FactorizedWeightRow[] {
  const rows: FactorizedWeightRow[] = [];
  const e = m.effect;
  if (e.kind !== 'factorize') return rows;
  for (const t of e.targets) {
    const result = factorLayout(e.method, t.dOut, t.dIn, t.kernel);
    if (!result.ok) continue;
    const l = result.layout;
    // A mask written for every instance of the target's path (one on a single instance is
    // counted on that instance by the walk; the row speaks for the path).
    const masked = sparseMasked(modifiersFor({ members: [], sharing }, nameSteps(t.path), t.weight), t.weight);
    const because = materialisedBy(t, masked);
    const dense = t.kernel.reduce((p, k) => p * BigInt(k), BigInt(t.dOut) * BigInt(t.dIn));
    rows.push({
      statement: m.range,
      path: t.path === '' ? t.weight : `${t.path}.${t.weight}`,
      method: describeFactorMethod(e.method),
      dOut: t.dOut,
      dIn: t.dIn,
      copies: t.copies,
      kernel: t.kernel,
      factors: l.factors.map((f) => f.shape),
      factorElements: l.elements,
      denseElements: dense,
      centralElements: l.centralElements,
      centralShared: e.method.kind === 'mpo' ? e.method.central : undefined,
      reconstructMacs: l.reconstructMacs,
      denseMacsPerToken: dense,
      chainMacsPerToken: l.chainMacsPerToken,
      chainSetupMacs: l.chainSetupMacs,
      cheaperPerToken: l.chainMacsPerToken !== undefined && l.chainMacsPerToken < dense ? 'factors' : 'dense',
      execution: targetExecution(t, l, masked),
      materialisedBecause: because,
      factorsCheaperBelowTokens: because === undefined ? factorsCheaperBelowTokens(l, dense) : 0n,
    });
  }
  return rows;
}
