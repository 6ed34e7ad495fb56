// One training step on the roofline: each pipeline rank's compute per micro-batch at the
// device's peak, the collectives it waits for at the link bandwidths, the pipeline's fill and
// drain, and the gradient synchronisation after the last micro-batch, each at the fraction of
// the peak the plan's efficiency says (1 by default: the roofline). Nothing overlaps (an
// upper bound on a well-tuned run, which hides part of the DP and PP traffic behind compute).
// Ring collectives move 2(n − 1)/n of the buffer per GPU for an all-reduce and (n − 1)/n for an
// all-gather, a reduce-scatter or an all-to-all (Patarasuk & Yuan 2009; NCCL's bus bandwidth).

import { peakFlopsFor, type DeviceProfile } from '../analysis/devices.js';
import * as Q from '../numbers/rational.js';
import { tokensPerMicroBatch } from './activations.js';
import type { PipelineLayout, PipelineRank } from './pipeline-stages.js';
import { microBatchesPerStep, type PlanSettings } from './plan-settings.js';
import { bytesPerElement } from './precision.js';
import { shardFactors } from './model-states.js';

export interface StepTime {
  /** Seconds of the whole step. */
  readonly seconds: number;
  /** Compute of the slowest rank over the step's micro-batches. */
  readonly compute: number;
  readonly tensorParallel: number;
  readonly expertParallel: number;
  /** Context parallelism's ring exchange of keys and values (and their gradients). */
  readonly contextParallel: number;
  readonly pipelineBubble: number;
  readonly pipelineSends: number;
  readonly dataParallel: number;
  /** All-reduce of stores held by several pipeline ranks (shared blocks, tied embeddings). */
  readonly sharedStores: number;
}

export interface Links {
  readonly intraNode: number;
  readonly interNode: number;
}

/** The link bandwidths a collective reaches: the device's (or the plan's override) times the link efficiency. */
export function linksOf(device: DeviceProfile, s: PlanSettings): Links {
  const e = s.efficiency.links;
  return { intraNode: (s.intraNodeBandwidth ?? device.links.intraNode) * e, interNode: (s.interNodeBandwidth ?? device.links.interNode) * e };
}

const allReduce = (bytes: number, n: number, bw: number): number => (n <= 1 ? 0 : (2 * (n - 1) * bytes) / (n * bw));
const oneWay = (bytes: number, n: number, bw: number): number => (n <= 1 ? 0 : ((n - 1) * bytes) / (n * bw));

/** Training FLOPs multiplier of the forward pass: backward is twice the forward; full recomputation runs the forward again. */
export function trainFactor(s: PlanSettings): number {
  return s.recompute === 'full' ? 4 : 3;
}

/**
 * Megatron's rank order is tp, cp, dp, pp from the fastest-varying: a group whose members lie
 * `stride` ranks apart and that spans `size` of them stays inside one node when stride·size fits.
 */
function groupLink(stride: number, size: number, s: PlanSettings, links: Links): number {
  return stride * size <= s.gpusPerNode ? links.intraNode : links.interNode;
}

export function stepTime(
  layout: PipelineLayout,
  units: number,
  perSample: boolean,
  kvBytesPerToken: Q.Rational,
  totalFlopsPerToken: Q.Rational,
  /** Forward FLOPs of one sequence of the plan's length (attention context included). */
  prefillFlopsPerSequence: bigint,
  s: PlanSettings,
  device: DeviceProfile,
  links: Links,
): StepTime {
  const { tp, pp, vpp, dp, cp, ep, zero } = s.parallel;
  // Matmuls run in the activations' type (precision.ts's compute rule): weights stored narrower
  // (fp8, int4) are widened first, so the step runs at the activations' peak, not the weights'.
  // The FLOPs a kernel reaches: the peak times the compute efficiency (1: the roofline).
  const peak = peakFlopsFor(device, s.dtypes.activations).flops * s.efficiency.compute;
  const m = microBatchesPerStep(s);
  const tokens = Q.toNumber(tokensPerMicroBatch(s, perSample));
  const actBytes = Q.toNumber(bytesPerElement(s.dtypes.activations));
  const tpLink = groupLink(1, tp, s, links);
  const epLink = groupLink(tp * cp, ep, s, links);
  const cpLink = groupLink(tp, cp, s, links);
  const dpLink = groupLink(tp * cp, dp, s, links);
  const ppLink = groupLink(tp * cp * dp, pp, s, links);
  const perSequence = Number(prefillFlopsPerSequence);
  const total = Q.toNumber(totalFlopsPerToken);

  // Ring attention (context parallelism): each GPU passes its keys and values around the cp ring
  // in the forward, and again with their gradients in the backward: 3 × (cp − 1)/cp of the
  // micro-batch's KV for the rank's layers (split over tp with the heads).
  const kvPerInstance = units > 0 ? Q.toNumber(kvBytesPerToken) / units : 0;
  const perRank = layout.ranks.map((r) => {
    const t = rankMicroBatch(r, s, perSequence, total, peak, tokens, actBytes, tpLink, epLink, ppLink);
    const kv = (kvPerInstance * r.instances.length * s.microBatch * s.seq) / tp;
    const context = 3 * oneWay(kv, cp, cpLink);
    return { ...t, context, total: t.total + context };
  });
  const slowest = perRank.reduce((a, b) => (a.total >= b.total ? a : b), perRank[0]!);
  const bubble = ((pp - 1) / vpp) * slowest.total;

  // Gradients (ZeRO-0..2: all-reduce, or reduce-scatter + all-gather of the same volume; ZeRO-3
  // adds the forward and backward weight all-gathers: 1.5× — Rajbhandari et al. 2020 §7).
  const d = dp * cp;
  let dataParallel = 0;
  layout.ranks.forEach((r) => {
    const f = shardFactors(r.params, s).replicated;
    const gradBytes = Q.toNumber(Q.mul(Q.mul(r.params.trainable, f), bytesPerElement(s.dtypes.gradients)));
    const t = allReduce(gradBytes, d, dpLink) * (zero >= 3 ? 1.5 : 1);
    dataParallel = Math.max(dataParallel, t);
  });
  let sharedStores = 0;
  for (const store of layout.replicated) {
    const bytes = Q.toNumber(Q.mul(store.trainable, bytesPerElement(s.dtypes.gradients))) / tp;
    sharedStores += allReduce(bytes, store.ranks.length, ppLink);
  }
  const compute = slowest.compute * m;
  const tensorParallel = slowest.tensor * m;
  const expertParallel = slowest.expert * m;
  const contextParallel = slowest.context * m;
  const pipelineSends = slowest.sends * m;
  const seconds = compute + tensorParallel + expertParallel + contextParallel + pipelineSends + bubble + dataParallel + sharedStores;
  return { seconds, compute, tensorParallel, expertParallel, contextParallel, pipelineBubble: bubble, pipelineSends, dataParallel, sharedStores };
}

interface RankTime {
  readonly compute: number;
  readonly tensor: number;
  readonly expert: number;
  readonly sends: number;
  readonly total: number;
}

function rankMicroBatch(
  r: PipelineRank,
  s: PlanSettings,
  perSequence: number,
  totalFlopsPerToken: number,
  peak: number,
  tokens: number,
  actBytes: number,
  tpLink: number,
  epLink: number,
  ppLink: number,
): RankTime {
  const { tp, cp, ep, pp } = s.parallel;
  // The rank's share of the model's forward FLOPs is its share of the weight FLOPs per token.
  const share = totalFlopsPerToken > 0 ? Q.toNumber(r.flopsPerToken) / totalFlopsPerToken : 1 / pp;
  const forward = (perSequence * s.microBatch * share) / (tp * cp);
  const compute = (trainFactor(s) * forward) / peak;
  // Megatron: two all-reduces of the layer input forward and two backward per transformer
  // layer (sequence parallelism: an all-gather and a reduce-scatter each), two more when full
  // recomputation reruns the forward.
  const collectives = s.recompute === 'full' ? 6 : 4;
  let tensor = 0;
  let expert = 0;
  for (const inst of r.instances) {
    const bytes = tokens * Number(inst.inputPerToken) * actBytes;
    tensor += collectives * allReduce(bytes, tp, tpLink);
    // Dispatch and combine, forward and backward: four all-to-alls of the routed tokens.
    if (inst.routedPerToken > 0n) expert += 4 * oneWay(tokens * Number(inst.routedPerToken) * actBytes, ep, epLink);
  }
  // One activation forward and one gradient backward per stage boundary, split over tp.
  const boundary = r.instances.length > 0 ? tokens * Number(r.instances[r.instances.length - 1]!.inputPerToken) * actBytes / tp : 0;
  const sends = pp > 1 && !r.last ? (2 * boundary) / ppLink : 0;
  return { compute, tensor, expert, sends, total: compute + tensor + expert + sends };
}
