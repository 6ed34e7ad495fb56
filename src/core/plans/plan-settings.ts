// What a plan is: a cluster, a way to split the model over it, a schedule, a recomputation
// mode, an optimizer and a fine-tuning method. Plain data; `checkPlanSettings` says what is
// inconsistent in words a user can act on. docs/plans.md gives every rule with its source.

import type { DType } from '../analysis/report-types.js';
import { OPTIMIZER_NAMES, type OptimizerName } from './optimizers.js';

export type RecomputeMode = 'none' | 'selective' | 'full';
export type ZeroStage = 0 | 1 | 2 | 3;
export type FinetuneMode = 'full' | 'lora' | 'qlora';

export const RECOMPUTE_MODES: readonly RecomputeMode[] = ['none', 'selective', 'full'];
export const FINETUNE_MODES: readonly FinetuneMode[] = ['full', 'lora', 'qlora'];

export interface ParallelSettings {
  /** Tensor parallel size (Megatron column/row-parallel matmuls, with sequence parallelism). */
  readonly tp: number;
  /** Pipeline parallel size. */
  readonly pp: number;
  /** Virtual pipeline stages per GPU (interleaved 1F1B); 1 is plain 1F1B. */
  readonly vpp: number;
  /** Data parallel size. */
  readonly dp: number;
  /** Context parallel size: the sequence split over `cp` GPUs (ring attention). */
  readonly cp: number;
  /** Expert parallel size: experts split over `ep` GPUs of the data-parallel group. */
  readonly ep: number;
  /** Tensor parallel size inside each expert (Megatron's expert-TP, whose default is tp). */
  readonly etp: number;
  /** ZeRO stage over the data-parallel group: 1 shards optimizer states and master weights,
   * 2 also gradients, 3 also weights (FSDP's FULL_SHARD). */
  readonly zero: ZeroStage;
}

export interface PlanDtypes {
  /** Working weights (and what a gradient all-reduce sends when gradients share it). */
  readonly weights: DType;
  readonly activations: DType;
  /** Gradients as kept between backward and the optimizer step (Megatron keeps fp32 main grads). */
  readonly gradients: DType;
  /** Master weights kept by the optimizer when the working weights are narrower than fp32. */
  readonly master: DType;
}

/**
 * The fractions of the datasheet's peaks that a run reaches: matmul FLOPs, HBM bandwidth and
 * link bandwidth. 1 is the roofline's bound (the default); large dense training runs reach
 * 0.2–0.55 of the FLOPs peak as MFU (Chowdhery et al. 2022, Table 3; Narayanan et al. 2021,
 * §5.1); NCCL's bus bandwidth is typically about 0.8 of a link's rate.
 */
export interface Efficiency {
  readonly compute: number;
  readonly memory: number;
  readonly links: number;
}

export const ROOFLINE_EFFICIENCY: Efficiency = { compute: 1, memory: 1, links: 1 };

export const EFFICIENCY_NAMES: readonly (keyof Efficiency)[] = ['compute', 'memory', 'links'];

/** Why an efficiency is out of (0, 1], or undefined when it is a fraction of a peak. */
export function efficiencyProblem(name: string, v: number): string | undefined {
  return Number.isFinite(v) && v > 0 && v <= 1 ? undefined : `${name} efficiency must be a fraction of the peak in (0, 1], got ${v}`;
}

export interface PlanSettings {
  readonly device: string;
  readonly gpus: number;
  readonly gpusPerNode: number;
  /** Link bandwidths in bytes/s overriding the device's (see devices.ts `links`). */
  readonly intraNodeBandwidth?: number;
  readonly interNodeBandwidth?: number;
  readonly parallel: ParallelSettings;
  readonly microBatch: number;
  readonly globalBatch: number;
  readonly seq: number;
  readonly recompute: RecomputeMode;
  readonly optimizer: OptimizerName;
  /** Keep fp32 master weights (mixed precision); ignored when the weights are fp32 already. */
  readonly masterWeights: boolean;
  readonly finetune: FinetuneMode;
  readonly dtypes: PlanDtypes;
  /** The fractions of the device's peaks the step reaches (1: the roofline). */
  readonly efficiency: Efficiency;
}

export const DEFAULT_PARALLEL: ParallelSettings = { tp: 1, pp: 1, vpp: 1, dp: 1, cp: 1, ep: 1, etp: 1, zero: 0 };

export const DEFAULT_PLAN: PlanSettings = {
  device: 'H100',
  gpus: 1,
  gpusPerNode: 8,
  parallel: DEFAULT_PARALLEL,
  microBatch: 1,
  globalBatch: 1,
  seq: 4096,
  recompute: 'none',
  optimizer: 'adamw',
  masterWeights: true,
  finetune: 'full',
  dtypes: { weights: 'bf16', activations: 'bf16', gradients: 'bf16', master: 'fp32' },
  efficiency: ROOFLINE_EFFICIENCY,
};

/** Micro-batches per step and per data-parallel rank: B / (b · dp). */
export function microBatchesPerStep(s: PlanSettings): number {
  return s.globalBatch / (s.microBatch * s.parallel.dp);
}

/** What is inconsistent in a plan's settings, as sentences; empty when it can be evaluated. */
export function checkPlanSettings(s: PlanSettings, pipelineUnits: number, hasExperts: boolean): string[] {
  const problems: string[] = [];
  const p = s.parallel;
  const positive: [string, number][] = [
    ['gpus', s.gpus],
    ['gpus per node', s.gpusPerNode],
    ['tp', p.tp],
    ['pp', p.pp],
    ['vpp', p.vpp],
    ['dp', p.dp],
    ['cp', p.cp],
    ['ep', p.ep],
    ['etp', p.etp],
    ['micro-batch', s.microBatch],
    ['global batch', s.globalBatch],
    ['seq', s.seq],
  ];
  for (const [name, v] of positive) if (!Number.isSafeInteger(v) || v < 1) problems.push(`${name} must be a positive integer, got ${v}`);
  if (problems.length > 0) return problems;
  if (![0, 1, 2, 3].includes(p.zero)) problems.push(`zero must be 0, 1, 2 or 3, got ${String(p.zero)}`);
  if (!OPTIMIZER_NAMES.includes(s.optimizer)) problems.push(`unknown optimizer '${String(s.optimizer)}' (have: ${OPTIMIZER_NAMES.join(', ')})`);
  const product = p.tp * p.pp * p.cp * p.dp;
  if (product !== s.gpus) problems.push(`tp × pp × cp × dp = ${p.tp} × ${p.pp} × ${p.cp} × ${p.dp} = ${product}, but the cluster has ${s.gpus} GPUs`);
  if (p.tp > s.gpusPerNode) problems.push(`tp ${p.tp} spans more than one node of ${s.gpusPerNode} GPUs (tensor parallelism needs the intra-node links)`);
  if (p.pp * p.vpp > Math.max(1, pipelineUnits)) problems.push(`pp × vpp = ${p.pp * p.vpp} pipeline chunks, but the model has only ${pipelineUnits} stack instances to split`);
  if (p.vpp > 1 && p.pp === 1) problems.push('virtual pipeline stages (vpp > 1) need pp > 1');
  if (p.ep > 1 && !hasExperts) problems.push('ep > 1, but the model has no experts (MoE layers) to split');
  if ((p.dp * p.cp) % p.ep !== 0) problems.push(`ep ${p.ep} must divide dp × cp = ${p.dp * p.cp} (experts are split inside the data-parallel group)`);
  if (p.etp > 1 && p.etp * p.ep > p.tp * p.dp * p.cp) problems.push(`ep × etp = ${p.ep * p.etp} exceeds the GPUs of one pipeline stage (${p.tp * p.dp * p.cp})`);
  if (s.globalBatch % (s.microBatch * p.dp) !== 0) {
    problems.push(`global batch ${s.globalBatch} is not a multiple of micro-batch × dp = ${s.microBatch} × ${p.dp} = ${s.microBatch * p.dp}`);
  } else if (p.vpp > 1 && microBatchesPerStep(s) % p.pp !== 0) {
    problems.push(`the interleaved schedule needs micro-batches per step (${microBatchesPerStep(s)}) to be a multiple of pp (${p.pp})`);
  }
  for (const name of EFFICIENCY_NAMES) {
    const problem = efficiencyProblem(name, s.efficiency[name]);
    if (problem) problems.push(problem);
  }
  if (s.seq % p.cp !== 0) problems.push(`seq ${s.seq} is not a multiple of cp ${p.cp}`);
  return problems;
}
