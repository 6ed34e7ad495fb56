// A parameterisation evaluated at the model's size: each weight's factors as numbers (and as
// formulas), and — given the base model's tuned learning rate, init std and weight decay — the
// target's values. This is μTransfer's table: tune the base, read off every layer's rate here.

import type { WeightRole } from '../layers/layer-kind.js';
import * as Q from '../numbers/rational.js';
import type { Parameterization } from './resolve-parameterization.js';
import { formatScaling, scalingValue, type DecayRule, type Scaling, type SchemeName, type WeightClass } from './schemes.js';

export interface Factor {
  /** `m_N^-1·m_L^-1/2`, or `1`. */
  readonly formula: string;
  /** Its value at this model's width and depth ratios. */
  readonly value: number;
  /** The base value times `value`, when the base value is known. */
  readonly target?: number;
}

export interface TransferRow {
  readonly path: string;
  readonly weightClass: WeightClass;
  readonly role: WeightRole;
  readonly shape: readonly number[];
  /** A decimal string, as the widths and depths here: instance counts are exact at any size. */
  readonly instances: string;
  /** Undefined for norm scales and biases (they start at 1 and 0). */
  readonly initStd: Factor | undefined;
  readonly lr: Factor;
  readonly output: Factor;
  /** The block's residual branch multiplier (1 outside residual blocks). */
  readonly residual: Factor;
  /** Undefined where the scheme applies no weight decay (norm scales, biases). */
  readonly weightDecay: Factor | undefined;
}

export interface TransferTable {
  readonly scheme: SchemeName;
  readonly alpha: string | undefined;
  readonly width: string;
  readonly baseWidth: string;
  readonly depth: string;
  readonly baseDepth: string;
  /** m_N = width / base_width and m_L = depth / base_depth. */
  readonly widthRatio: number;
  readonly depthRatio: number;
  readonly base: { readonly lr?: number; readonly initStd?: number; readonly weightDecay?: number };
  readonly rows: readonly TransferRow[];
}

/** Base values given here replace the statement's (the CLI's `--lr`). */
export interface BaseOverrides {
  readonly lr?: number;
  readonly initStd?: number;
  readonly weightDecay?: number;
}

export function transferTable(p: Parameterization, overrides: BaseOverrides = {}): TransferTable {
  const mN = Q.toNumber(Q.div(p.width, p.baseWidth));
  const mL = Q.toNumber(Q.div(p.depth, p.baseDepth));
  const base = {
    lr: overrides.lr ?? (p.base.lr ? Q.toNumber(p.base.lr) : undefined),
    initStd: overrides.initStd ?? (p.base.initStd ? Q.toNumber(p.base.initStd) : undefined),
    weightDecay: overrides.weightDecay ?? (p.base.weightDecay ? Q.toNumber(p.base.weightDecay) : undefined),
  };
  const factor = (x: Scaling, baseValue?: number): Factor => {
    const value = scalingValue(x, mN, mL);
    return { formula: formatScaling(x), value, ...(baseValue !== undefined ? { target: baseValue * value } : {}) };
  };
  const decay = (d: DecayRule): Factor | undefined => (d.kind === 'none' ? undefined : factor(d.factor, base.weightDecay));
  const identity: Scaling = { width: { num: 0, den: 1 }, depth: { num: 0, den: 1 } };
  return {
    scheme: p.scheme,
    alpha: p.alpha ? (p.alpha.den === 1 ? `${p.alpha.num}` : `${p.alpha.num}/${p.alpha.den}`) : undefined,
    width: Q.toDecimalString(p.width),
    baseWidth: Q.toDecimalString(p.baseWidth),
    depth: Q.toDecimalString(p.depth),
    baseDepth: Q.toDecimalString(p.baseDepth),
    widthRatio: mN,
    depthRatio: mL,
    base: stripUndefined(base),
    rows: p.rows.map((r) => ({
      path: r.path,
      weightClass: r.weightClass,
      role: r.role,
      shape: r.shape,
      instances: r.instances.toString(),
      initStd: r.rule.initStd ? factor(r.rule.initStd, base.initStd) : undefined,
      lr: factor(r.rule.lr, base.lr),
      output: factor(r.rule.output),
      residual: factor(r.inBranch ? p.residual : identity),
      weightDecay: decay(r.rule.weightDecay),
    })),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
