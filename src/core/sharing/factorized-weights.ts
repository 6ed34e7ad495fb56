// The per-weight table of a model's factorised weights: for each distinct weight a `factorize`
// statement reaches, what it stores and the two ways of executing it — materialising W once per
// step and applying the dense matmul, or applying the factors to each token — and which one the
// engine's FLOPs and roofline count (`factorExecution`). Hover, `npas budget --json` and the
// dashboard read it.

import type { TextRange } from '../syntax/syntax-tree.js';
import type { ResolvedSharing } from './declarations.js';
import { describeFactorMethod, factorExecution, factorLayout, factorsCheaperBelowTokens, type FactorExecution, type FactorLayout, type FactorMethod, type FactorTarget } from './factorization.js';

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
  /** The execution the engine's FLOPs, generation and roofline count: the cheaper at every token count (`factorExecution`). */
  readonly execution: FactorExecution;
  /** With `dense` counted: training steps of fewer tokens than this would still cost less applying the factors (0: none). */
  readonly factorsCheaperBelowTokens: bigint;
}

/** Whether a target's layer applies the weight as it is (a matrix, not a kernel, and not rebuilt by its layer): only then may its factors run instead of W. */
function appliesAsIs(t: Pick<FactorTarget, 'kernel' | 'generatesOwn'>): boolean {
  return t.kernel.length === 0 && !t.generatesOwn;
}

/** The execution counted for one target weight: a matrix in a layer applying it as it is may run its factors; a kernel, or W rebuilt by its layer, is dense. */
export function targetExecution(t: Pick<FactorTarget, 'kernel' | 'generatesOwn' | 'dOut' | 'dIn'>, layout: FactorLayout): FactorExecution {
  return appliesAsIs(t) ? factorExecution(layout, BigInt(t.dOut) * BigInt(t.dIn)) : 'dense';
}

/** How a `factorize` statement's weights are executed, for a one-line label: all one way, or `mixed`. */
export function statementExecution(method: FactorMethod, targets: readonly FactorTarget[]): FactorExecution | 'mixed' | undefined {
  const seen = new Set<FactorExecution>();
  for (const t of targets) {
    const result = factorLayout(method, t.dOut, t.dIn, t.kernel);
    if (result.ok) seen.add(targetExecution(t, result.layout));
  }
  return seen.size === 0 ? undefined : seen.size > 1 ? 'mixed' : [...seen][0];
}

export function factorizedWeights(sharing: ResolvedSharing): FactorizedWeightRow[] {
  const rows: FactorizedWeightRow[] = [];
  for (const m of sharing.modifiers) {
    const e = m.effect;
    if (e.kind !== 'factorize') continue;
    for (const t of e.targets) {
      const result = factorLayout(e.method, t.dOut, t.dIn, t.kernel);
      if (!result.ok) continue;
      const l = result.layout;
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
        execution: targetExecution(t, l),
        factorsCheaperBelowTokens: appliesAsIs(t) ? factorsCheaperBelowTokens(l, dense) : 0n,
      });
    }
  }
  return rows;
}
