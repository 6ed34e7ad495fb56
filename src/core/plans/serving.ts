// Serving on a device: each GPU holds its pipeline rank's weights split by tp (experts by ep)
// and its share of the KV cache; the largest batch at a context and the largest context at a
// batch that fit; prefill and decode tokens per second on the roofline. The KV cache of a rank
// is its share of the stack instances' KV (attention heads split over tp). Peaks are scaled by
// the settings' efficiency (absent: 1, the roofline).

import { findDevice, peakFlopsFor, type DeviceProfile } from '../analysis/devices.js';
import type { DType, ModelReport } from '../analysis/report-types.js';
import * as Q from '../numbers/rational.js';
import { layoutPipeline, type PipelineRank } from './pipeline-stages.js';
import type { PipelineModel } from './pipeline-units.js';
import { EFFICIENCY_NAMES, ROOFLINE_EFFICIENCY, efficiencyProblem, type Efficiency } from './plan-settings.js';
import { bytesPerElement } from './precision.js';

export interface ServingSettings {
  readonly device: string;
  readonly tp: number;
  readonly pp: number;
  readonly ep: number;
  readonly batch: number;
  readonly seq: number;
  /** Weights and KV cache dtype (the engine's analysis dtype). */
  readonly dtype: DType;
  /** The fractions of the FLOPs peak and HBM bandwidth reached (absent: the roofline's 1). */
  readonly efficiency?: Efficiency;
}

export interface ServingPlan {
  readonly model: string;
  readonly device: string;
  readonly gpus: number;
  readonly perGpuBytes: { readonly weights: bigint; readonly kv: bigint; readonly total: bigint };
  readonly deviceBytes: bigint;
  readonly fits: boolean;
  /** The largest batch whose KV cache at `seq` fits beside the weights (0: none). */
  readonly maxBatch: number;
  /** The largest context one sequence (batch 1) can reach (0: not even one token). */
  readonly maxContext: number;
  readonly prefillTokensPerSecond: number;
  readonly decodeTokensPerSecond: number;
}

export type ServingOutcome = { readonly ok: true; readonly plan: ServingPlan } | { readonly ok: false; readonly problems: readonly string[] };

/** What serving keeps per sequence at (seq, batch), from the engine: the KV cache plus the
 * recurrent state of recurrent layers (Mamba's conv and SSM states). */
export type KvAt = (seq: number, batch: number) => bigint;

/**
 * Weight bytes one decode step of `batch` sequences reads, from the engine: a routed bank is read
 * once per expert any of the batch's tokens chose, E·(1 − (1 − k/E)^B) in expectation (routing.ts).
 */
export type DecodeReadsAt = (batch: number) => bigint;

/** The largest context tried by the maximum-context search. */
export const MAX_CONTEXT_SEARCHED = 1 << 26;

/**
 * `report` is the engine's analysis at (seq, batch 1, dtype); `kvAt` evaluates the KV cache at
 * other settings (it is piecewise linear in the context: sliding windows stop growing).
 */
export function planServing(model: PipelineModel, report: ModelReport, kvAt: KvAt, s: ServingSettings, decodeReadsAt?: DecodeReadsAt): ServingOutcome {
  if (model.refusal !== undefined) return { ok: false, problems: [model.refusal] };
  const problems: string[] = [];
  for (const [name, v] of [['tp', s.tp], ['pp', s.pp], ['ep', s.ep], ['batch', s.batch], ['seq', s.seq]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) problems.push(`${name} must be a positive integer, got ${v}`);
  }
  for (const name of EFFICIENCY_NAMES) {
    const problem = efficiencyProblem(name, (s.efficiency ?? ROOFLINE_EFFICIENCY)[name]);
    if (problem) problems.push(problem);
  }
  const device = findDevice(s.device);
  if (!device) problems.push(`unknown device '${s.device}'`);
  if (s.pp > Math.max(1, model.units)) problems.push(`pp ${s.pp} exceeds the model's ${model.units} stack instances`);
  if (s.ep > 1 && Q.isZero(model.params.expert)) problems.push('ep > 1, but the model has no experts to split');
  if (problems.length > 0 || !device) return { ok: false, problems };

  const layout = layoutPipeline(model, s.pp, 1);
  const wBytes = bytesPerElement(s.dtype);
  const weightsOf = (r: PipelineRank): bigint => {
    const expert = r.params.expert;
    const dense = Q.sub(r.params.stored, expert);
    return Q.ceil(Q.mul(Q.add(Q.div(dense, Q.fromInt(s.tp)), Q.div(expert, Q.fromInt(s.ep))), wBytes));
  };
  const kvShare = (r: PipelineRank): Q.Rational => Q.div(Q.fromInt(model.units === 0 ? 1 : r.instances.length), Q.fromInt(Math.max(1, model.units) * s.tp));
  const weights = layout.ranks.map(weightsOf);
  const kvPerGpu = (seq: number, batch: number): bigint[] => {
    const kv = Q.fromBigInt(kvAt(seq, batch));
    return layout.ranks.map((r) => Q.ceil(Q.mul(kv, kvShare(r))));
  };
  const fitsAt = (seq: number, batch: number): boolean => kvPerGpu(seq, batch).every((kv, i) => weights[i]! + kv <= device.memoryBytes);

  const kvNow = kvPerGpu(s.seq, s.batch);
  let worst = 0;
  layout.ranks.forEach((_, i) => {
    if (weights[i]! + kvNow[i]! > weights[worst]! + kvNow[worst]!) worst = i;
  });
  // KV grows linearly in the batch: the largest batch is one division per rank.
  const kvOne = kvPerGpu(s.seq, 1);
  let maxBatch = Number.MAX_SAFE_INTEGER;
  layout.ranks.forEach((_, i) => {
    const room = device.memoryBytes - weights[i]!;
    const b = room < 0n ? 0 : kvOne[i] === 0n ? Number.MAX_SAFE_INTEGER : Number(room / kvOne[i]!);
    maxBatch = Math.min(maxBatch, b);
  });
  const maxContext = largestContext(fitsAt);
  // Without the engine at the serving batch, the batch-1 reads (the top-k experts only).
  const decodeWeightBytes = decodeReadsAt ? Number(decodeReadsAt(s.batch)) : Math.max(0, Number(report.latency.decode.bytes) - Number(report.kvCacheBytes) - Number(report.recurrentStateBytes));
  const { prefill, decode } = throughput(layout.ranks, report, s, device, weights, kvNow, decodeWeightBytes);
  return {
    ok: true,
    plan: {
      model: model.name,
      device: device.name,
      gpus: s.tp * s.pp,
      perGpuBytes: { weights: weights[worst]!, kv: kvNow[worst]!, total: weights[worst]! + kvNow[worst]! },
      deviceBytes: device.memoryBytes,
      fits: fitsAt(s.seq, s.batch),
      maxBatch,
      maxContext,
      prefillTokensPerSecond: prefill,
      decodeTokensPerSecond: decode,
    },
  };
}

/** Binary search for the largest context that fits at batch 1 (KV never shrinks as S grows). */
function largestContext(fitsAt: (seq: number, batch: number) => boolean): number {
  if (!fitsAt(1, 1)) return 0;
  let lo = 1;
  let hi = 2;
  while (hi <= MAX_CONTEXT_SEARCHED && fitsAt(hi, 1)) {
    lo = hi;
    hi *= 2;
  }
  if (hi > MAX_CONTEXT_SEARCHED) return lo;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fitsAt(mid, 1)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Prefill of `batch` sequences and one decode step of `batch` tokens: each rank in turn (a
 * request passes the stages one after the other) at max(FLOPs / peak, bytes / bandwidth); the
 * rank's FLOPs are its share of the weight FLOPs, split over tp.
 */
function throughput(
  ranks: readonly PipelineRank[],
  report: ModelReport,
  s: ServingSettings,
  device: DeviceProfile,
  weights: readonly bigint[],
  kvPerGpu: readonly bigint[],
  /** Weight bytes a decode step of the whole batch reads (experts the batch touches included). */
  decodeWeightBytes: number,
): { prefill: number; decode: number } {
  const efficiency = s.efficiency ?? ROOFLINE_EFFICIENCY;
  const peak = peakFlopsFor(device, s.dtype).flops * efficiency.compute;
  const bandwidth = device.bandwidth * efficiency.memory;
  const total = ranks.reduce((acc, r) => acc + Q.toNumber(r.flopsPerToken), 0);
  let prefillTime = 0;
  let decodeTime = 0;
  ranks.forEach((r, i) => {
    const share = total > 0 ? Q.toNumber(r.flopsPerToken) / total : 1 / ranks.length;
    const prefillFlops = (Number(report.flops.prefill) * s.batch * share) / s.tp;
    prefillTime += Math.max(prefillFlops / peak, Number(weights[i]!) / bandwidth);
    const decodeFlops = (Number(report.flops.decode) * s.batch * share) / s.tp;
    // A decode step reads the weights its tokens use (not whole embedding tables) and the KV.
    const decodeBytes = (decodeWeightBytes * share) / s.tp + Number(kvPerGpu[i]!);
    decodeTime += Math.max(decodeFlops / peak, decodeBytes / bandwidth);
  });
  return { prefill: prefillTime > 0 ? (s.batch * s.seq) / prefillTime : 0, decode: decodeTime > 0 ? s.batch / decodeTime : 0 };
}
