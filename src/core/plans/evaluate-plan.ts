// A training plan evaluated: per pipeline rank, the bytes of every tensor class on one GPU and
// whether they fit the device; the step time on the roofline, MFU and tokens per second.

import { findDevice, peakFlopsFor } from '../analysis/devices.js';
import * as Q from '../numbers/rational.js';
import { activationBytes, lossBytes } from './activations.js';
import { modelStateBytes } from './model-states.js';
import { layoutPipeline } from './pipeline-stages.js';
import type { PipelineModel } from './pipeline-units.js';
import { checkPlanSettings, type ParallelSettings, type PlanSettings } from './plan-settings.js';
import { linksOf, stepTime, type StepTime } from './step-time.js';

export interface PlanBytes {
  readonly weights: bigint;
  readonly gradients: bigint;
  /** Master weights and optimizer states. */
  readonly optimizer: bigint;
  readonly activations: bigint;
  readonly loss: bigint;
  readonly buffers: bigint;
  readonly total: bigint;
}

export interface StagePlan {
  /** Pipeline rank (0 holds the first chunk). */
  readonly rank: number;
  readonly holds: readonly string[];
  /** Params this rank stores (before the tp/ep split), replicated stores included. */
  readonly params: bigint;
  readonly bytes: PlanBytes;
  readonly fits: boolean;
}

export interface ReplicatedStorePlan {
  readonly store: string;
  readonly params: bigint;
  readonly ranks: readonly number[];
}

export interface TrainingPlan {
  readonly model: string;
  readonly device: string;
  readonly gpus: number;
  readonly parallel: ParallelSettings;
  readonly settings: PlanSettings;
  /** The most loaded GPU's bytes (the rank whose total is largest). */
  readonly perGpuBytes: PlanBytes;
  readonly deviceBytes: bigint;
  readonly fits: boolean;
  readonly step: StepTime;
  /** Model FLOPs (forward + backward, no recomputation) per second over the cluster's peak. */
  readonly mfu: number;
  /** Tokens per second (samples per second for a model counted per sample). */
  readonly tokensPerSecond: number;
  readonly microBatches: number;
  readonly stages: readonly StagePlan[];
  /** Stores held by several pipeline ranks, each all-reduced across them. */
  readonly replicated: readonly ReplicatedStorePlan[];
  readonly notes: readonly string[];
}

export type PlanOutcome = { readonly ok: true; readonly plan: TrainingPlan } | { readonly ok: false; readonly problems: readonly string[] };

export function evaluatePlan(model: PipelineModel, s: PlanSettings): PlanOutcome {
  if (model.refusal !== undefined) return { ok: false, problems: [model.refusal] };
  const problems = checkPlanSettings(s, model.units, !Q.isZero(model.params.expert));
  const device = findDevice(s.device);
  if (!device) problems.push(`unknown device '${s.device}'`);
  if (model.seq !== s.seq) problems.push(`the model was analysed at seq ${model.seq}, the plan asks for ${s.seq}`);
  if (s.finetune !== 'full' && Q.compare(model.params.trainable, model.params.stored) >= 0) {
    problems.push(`${s.finetune} fine-tuning needs adapters on a frozen base: declare them in the spec (\`adapt body: lora(rank: 16)\`, docs/language.md)`);
  }
  if (problems.length > 0 || !device) return { ok: false, problems };

  const layout = layoutPipeline(model, s.parallel.pp, s.parallel.vpp);
  const stages: StagePlan[] = layout.ranks.map((r) => {
    const states = modelStateBytes(r.params, s, r.instances.length > 0 || r.first ? model.largestLayer : 0n);
    const bytes = total({
      weights: Q.ceil(states.weights),
      gradients: Q.ceil(states.gradients),
      optimizer: Q.ceil(states.optimizer),
      activations: Q.ceil(activationBytes(r, s, model.perSample)),
      loss: Q.ceil(lossBytes(r, model.logitsPerToken, s, model.perSample)),
      buffers: Q.ceil(states.buffers),
    });
    return { rank: r.rank, holds: r.holds, params: Q.ceil(r.params.stored), bytes, fits: bytes.total <= device.memoryBytes };
  });
  const worst = stages.reduce((a, b) => (b.bytes.total > a.bytes.total ? b : a), stages[0]!);
  const totalFlopsPerToken = layout.ranks.reduce((acc, r) => Q.add(acc, r.flopsPerToken), Q.ZERO);
  const step = stepTime(layout, model.units, model.perSample, model.kvBytesPerToken, totalFlopsPerToken, model.prefillFlops, s, device, linksOf(device, s));
  // MFU is measured against the datasheet's peak, whatever efficiency the step assumed.
  const peak = peakFlopsFor(device, s.dtypes.weights).flops;
  const modelFlops = 3 * Number(model.prefillFlops) * s.globalBatch;
  return {
    ok: true,
    plan: {
      model: model.name,
      device: device.name,
      gpus: s.gpus,
      parallel: s.parallel,
      settings: s,
      perGpuBytes: worst.bytes,
      deviceBytes: device.memoryBytes,
      fits: stages.every((st) => st.fits),
      step,
      mfu: step.seconds > 0 ? modelFlops / (step.seconds * s.gpus * peak) : 0,
      tokensPerSecond: step.seconds > 0 ? (s.globalBatch * (model.perSample ? 1 : s.seq)) / step.seconds : 0,
      microBatches: s.globalBatch / (s.microBatch * s.parallel.dp),
      stages,
      replicated: layout.replicated.map((r) => ({ store: r.key, params: Q.ceil(r.params), ranks: r.ranks })),
      notes: model.notes,
    },
  };
}

function total(b: Omit<PlanBytes, 'total'>): PlanBytes {
  return { ...b, total: b.weights + b.gradients + b.optimizer + b.activations + b.loss + b.buffers };
}
