// The parallel configurations of a cluster that fit, fastest first: every tp (inside a node),
// pp (up to the stack instances), virtual stages, ep (models with experts), ZeRO stage and
// recomputation (none or full: selective equals none under flash attention), with the data-
// parallel size what remains of the GPUs and expert-TP equal to tp (Megatron's default). Batch, sequence, optimizer and dtypes stay as given.

import * as Q from '../numbers/rational.js';
import { evaluatePlan, type TrainingPlan } from './evaluate-plan.js';
import type { PipelineModel } from './pipeline-units.js';
import type { PlanSettings, RecomputeMode, ZeroStage } from './plan-settings.js';

export interface PlanSearch {
  /** Configurations that fit, fastest step first. */
  readonly fitting: readonly TrainingPlan[];
  /** Consistent configurations evaluated (fitting or not). */
  readonly evaluated: number;
}

export function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

const ZERO_STAGES: readonly ZeroStage[] = [0, 1, 2, 3];
const SEARCHED_RECOMPUTE: readonly RecomputeMode[] = ['none', 'full'];

export function searchPlans(model: PipelineModel, base: PlanSettings): PlanSearch {
  const fitting: TrainingPlan[] = [];
  let evaluated = 0;
  const hasExperts = !Q.isZero(model.params.expert);
  const cp = base.parallel.cp;
  if (base.gpus % cp !== 0) return { fitting, evaluated };
  for (const tp of divisors(base.gpus / cp)) {
    if (tp > base.gpusPerNode) continue;
    for (const pp of divisors(base.gpus / (cp * tp))) {
      if (pp > Math.max(1, model.units)) continue;
      const dp = base.gpus / (cp * tp * pp);
      for (const vpp of pp > 1 ? [1, 2] : [1]) {
        for (const ep of hasExperts ? divisors(dp * cp) : [1]) {
          for (const zero of ZERO_STAGES) {
            for (const recompute of SEARCHED_RECOMPUTE) {
              const settings: PlanSettings = { ...base, recompute, parallel: { ...base.parallel, tp, pp, vpp, dp, ep, etp: tp, zero } };
              const outcome = evaluatePlan(model, settings);
              if (!outcome.ok) continue;
              evaluated += 1;
              if (outcome.plan.fits) fitting.push(outcome.plan);
            }
          }
        }
      }
    }
  }
  fitting.sort((a, b) => a.step.seconds - b.step.seconds || Number(a.perGpuBytes.total - b.perGpuBytes.total));
  return { fitting, evaluated };
}

/**
 * The smallest power-of-two GPU count, up to `limit`, at which some configuration fits; the
 * global batch grows to a multiple of the data-parallel size where it must (never shrinks).
 */
export function smallestCluster(model: PipelineModel, base: PlanSettings, limit: number): { readonly gpus: number; readonly plan: TrainingPlan } | undefined {
  for (let gpus = 1; gpus <= limit; gpus *= 2) {
    const found = searchPlans(model, { ...base, gpus, globalBatch: Math.max(base.globalBatch, gpus * base.microBatch) }).fitting[0];
    if (found) return { gpus, plan: found };
  }
  return undefined;
}
