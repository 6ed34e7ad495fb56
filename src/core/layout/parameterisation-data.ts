// The dashboard's copy of how a model is parameterised: the `param` statement's multipliers per
// weight class (the hover's table, as numbers) and the factorised weights with the execution the
// FLOPs count. Read from the report's typed fields; exact counts as decimal strings.

import type { ModelReport } from '../analysis/report-types.js';
import type { Factor } from '../parameterization/transfer.js';
import type { MultiplierData, ParameterisationData } from './types.js';

const multiplier = (f: Factor): MultiplierData => ({ formula: f.formula, value: f.value, target: f.target ?? null });

/** Undefined when the model has neither a `param` statement nor a factorised weight. */
export function parameterisationData(m: ModelReport): ParameterisationData | undefined {
  const t = m.parameterization;
  const rows = m.factorized ?? [];
  if (!t && rows.length === 0) return undefined;
  const seen = new Set<string>();
  return {
    multipliers: t
      ? {
          scheme: t.scheme,
          width: t.width,
          baseWidth: t.baseWidth,
          depth: t.depth,
          baseDepth: t.baseDepth,
          rows: t.rows
            .filter((r) => {
              if (seen.has(r.weightClass)) return false;
              seen.add(r.weightClass);
              return true;
            })
            .map((r) => ({
              weightClass: r.weightClass,
              example: r.path,
              initStd: r.initStd ? multiplier(r.initStd) : null,
              lr: multiplier(r.lr),
              output: multiplier(r.output),
              residual: multiplier(r.residual),
              weightDecay: r.weightDecay ? multiplier(r.weightDecay) : null,
            })),
        }
      : null,
    factorized: rows.map((r) => ({
      path: r.path,
      method: r.method,
      shape: [r.dOut, r.dIn, ...r.kernel],
      copies: r.copies,
      factorElements: String(r.factorElements),
      denseElements: String(r.denseElements),
      execution: r.execution,
      materialisedBecause: r.materialisedBecause ?? null,
      denseFlopsPerToken: String(2n * r.denseMacsPerToken),
      chainFlopsPerToken: r.chainMacsPerToken === undefined ? null : String(2n * r.chainMacsPerToken),
      materialiseFlops: String(2n * r.reconstructMacs),
    })),
  };
}
