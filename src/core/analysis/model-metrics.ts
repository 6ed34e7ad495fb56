// Turns a model's sequence-independent totals into the numbers that depend on the analysis
// settings: FLOPs for a prefill of S tokens and a decode step at context S (a multiply-add
// counts 2, attention's score and value products included), KV cache bytes, memory and
// roofline latency. Totals are computed once per model; these formulas run per setting, which
// is what makes budgets at several sequence lengths cheap.

import * as Q from '../numbers/rational.js';
import { findDevice, DEVICES } from './devices.js';
import { bytesOf, DTYPE_BITS } from './dtypes.js';
import type { AnalysisOptions, FlopsReport, LatencyEstimate, LatencyReport, MemoryReport } from './report-types.js';
import type { AttentionEntry, Totals } from './totals.js';

/** Totals of one top-level member, and whether it is an encoder (runs over the source once). */
export interface MemberTotals {
  readonly totals: Totals;
  readonly encoder: boolean;
}

export interface ModelMetrics {
  readonly flops: FlopsReport;
  readonly kvCacheBytes: bigint;
  /** Recurrent layers' state per sequence × batch (Mamba, linear attention), constant in seq. */
  readonly recurrentStateBytes: bigint;
  readonly memory: MemoryReport;
  readonly latency: LatencyReport;
  /** Exact values for budgets: FLOPs per token of prefill, of training. */
  readonly prefillPerToken: Q.Rational;
  readonly trainPerToken: Q.Rational;
}

const big = (n: number): bigint => BigInt(n);

/** Σ_{t=1..s} min(t, w): keys attended over a causal prefill of s tokens with window w. */
export function causalKeys(s: number, w: number | undefined): bigint {
  const S = big(s);
  if (w === undefined || w >= s) return (S * (S + 1n)) / 2n;
  const W = big(w);
  return (W * (W + 1n)) / 2n + (S - W) * W;
}

/** Keys attended over a causal prefill of s tokens in chunks of c: each chunk is its own causal prefix. */
export function chunkedKeys(s: number, c: number): bigint {
  const full = big(Math.floor(s / c));
  const rest = big(s % c);
  const C = big(c);
  return (full * C * (C + 1n)) / 2n + (rest * (rest + 1n)) / 2n;
}

function keyFlops(e: AttentionEntry): Q.Rational {
  // Per query token per attended key: q·k (scoreDim MACs) and p·v (valueDim MACs) per head.
  return Q.mul(e.instances, Q.fromBigInt(2n * big(e.info.queryHeads) * big(e.info.scoreDim + e.info.valueDim)));
}

/** Marks top-level members that form an encoder: only bidirectional self-attention, in a model with cross-attention. */
export function classifyEncoders(members: readonly Totals[]): boolean[] {
  const hasCross = members.some((t) => [...t.attention.values()].some((e) => e.info.cross));
  return members.map((t) => {
    if (!hasCross) return false;
    const entries = [...t.attention.values()];
    return entries.length > 0 && entries.every((e) => !e.info.cross && !e.info.causal);
  });
}

export function computeMetrics(members: readonly MemberTotals[], whole: Totals, options: AnalysisOptions): ModelMetrics {
  const S = options.seq;
  const src = options.srcSeq ?? options.seq;
  const B = big(options.batch);
  const perSample = whole.perSample;

  let prefill = Q.ZERO;
  let decode = Q.ZERO;
  let kvElements = Q.ZERO;
  for (const m of members) {
    const t = m.totals;
    const tokens = m.encoder ? src : S;
    if (perSample) {
      prefill = Q.add(prefill, t.flops);
      decode = Q.add(decode, t.flops);
    } else {
      prefill = Q.add(prefill, Q.mul(t.flops, Q.fromInt(tokens)));
      // Cross-attention K/V projections run once per source token, then are cached.
      prefill = Q.add(prefill, Q.mul(t.crossKvFlops, Q.fromInt(src)));
      if (!m.encoder) decode = Q.add(decode, t.flops);
    }
    for (const e of t.attention.values()) {
      const per = keyFlops(e);
      const w = e.info.window;
      if (e.info.cross) {
        prefill = Q.add(prefill, Q.mul(per, Q.fromBigInt(big(S) * big(src))));
        decode = Q.add(decode, Q.mul(per, Q.fromInt(src)));
        kvElements = Q.add(kvElements, Q.mul(e.producers, Q.fromBigInt(big(src) * big(e.info.kvElementsPerToken))));
      } else if (e.info.causal && e.info.chunk !== undefined) {
        // A chunked layer's cache and a decode step's keys are capped at one chunk, as a window's are.
        const c = e.info.chunk;
        prefill = Q.add(prefill, Q.mul(per, Q.fromBigInt(chunkedKeys(S, c))));
        if (!m.encoder) decode = Q.add(decode, Q.mul(per, Q.fromInt(Math.min(S, c))));
        kvElements = Q.add(kvElements, Q.mul(e.producers, Q.fromBigInt(big(Math.min(S, c)) * big(e.info.kvElementsPerToken))));
      } else if (e.info.causal) {
        prefill = Q.add(prefill, Q.mul(per, Q.fromBigInt(causalKeys(S, w))));
        if (!m.encoder) decode = Q.add(decode, Q.mul(per, Q.fromInt(Math.min(S, w ?? S))));
        kvElements = Q.add(kvElements, Q.mul(e.producers, Q.fromBigInt(big(Math.min(S, w ?? S)) * big(e.info.kvElementsPerToken))));
      } else {
        // Bidirectional self-attention: every token sees the whole (windowed) sequence; no cache.
        prefill = Q.add(prefill, Q.mul(per, Q.fromBigInt(big(tokens) * big(Math.min(tokens, w ?? tokens)))));
        if (!m.encoder) decode = Q.add(decode, Q.mul(per, Q.fromInt(Math.min(S, w ?? S))));
      }
    }
  }
  const prefillPerToken = perSample ? prefill : Q.div(prefill, Q.fromInt(S));
  // Generation (SSN templates, MASA atoms) runs once per step: forward 2 FLOPs per MAC, backward twice that.
  const generationPerStep = 6n * whole.generationMacs;
  const tokensPerStep = perSample ? B : B * big(S);
  const trainPerToken = Q.add(Q.mul(Q.fromInt(3), prefillPerToken), Q.div(Q.fromBigInt(generationPerStep), Q.fromBigInt(tokensPerStep)));

  const kvCacheBytes = bytesOf(Q.ceil(Q.mul(kvElements, Q.fromBigInt(B))), options.dtype);
  // Recurrent state: elements at the analysis dtype plus states with their own dtype, per sequence.
  const stateBits = (whole.state.elements * BigInt(DTYPE_BITS[options.dtype]) + whole.state.fixedBits) * B;
  const recurrentStateBytes = (stateBits + 7n) / 8n;
  const stored = whole.stored;
  const weightBytes = bytesOf(stored, options.dtype);
  const activationElements = Q.ceil(Q.mul(whole.activation, Q.fromBigInt(perSample ? B : B * big(S))));
  const activationBytes = bytesOf(activationElements, options.dtype);
  // Mixed precision with Adam: gradients in the working dtype, fp32 master weights and two fp32
  // moments (12 bytes) per trainable param; pure fp32 training needs no master copy (8 bytes).
  const optimizerBytesPerParam = DTYPE_BITS[options.dtype] >= 32 ? 8n : 12n;
  const trainable = whole.trainable;
  const trainingBytes = weightBytes + bytesOf(trainable, options.dtype) + trainable * optimizerBytesPerParam + activationBytes;
  const memory: MemoryReport = {
    weightBytes,
    kvCacheBytes,
    recurrentStateBytes,
    inferenceBytes: weightBytes + kvCacheBytes + recurrentStateBytes,
    trainingBytes,
    activationBytes,
  };

  const device = findDevice(options.device) ?? DEVICES[0]!;
  const peak = device.peakFlops[options.dtype];
  const estimate = (flops: bigint, bytes: bigint): LatencyEstimate => {
    const compute = Number(flops) / peak;
    const memoryTime = Number(bytes) / device.bandwidth;
    return { seconds: Math.max(compute, memoryTime), bound: compute >= memoryTime ? 'compute' : 'memory', flops, bytes };
  };
  const prefillFlops = Q.ceil(prefill) * B;
  const decodeFlops = Q.ceil(decode) * B;
  // A decode step reads every weight its layers apply (a tied block applied N times is read N
  // times) except embedding tables, of which it reads one row per token, plus the KV cache. In an
  // encoder-decoder it runs the decoder alone: the encoder ran once over the source and the
  // cross-attention K/V projections once per source token, both cached with the KV.
  let notRead = whole.crossKvActive;
  for (const m of members) if (m.encoder && !perSample) notRead = Q.add(notRead, Q.sub(m.totals.active, Q.fromBigInt(m.totals.embeddingParams)));
  const readParams = Q.ceil(Q.sub(whole.active, notRead)) - whole.embeddingParams;
  // A step reads and rewrites the recurrent state; counted once, as the KV cache is.
  const decodeBytes = bytesOf(readParams > 0n ? readParams : 0n, options.dtype) + kvCacheBytes + recurrentStateBytes;
  const latency: LatencyReport = {
    device: device.name,
    prefill: estimate(prefillFlops, weightBytes + kvCacheBytes),
    decode: estimate(decodeFlops, decodeBytes),
  };

  const flops: FlopsReport = {
    unit: perSample ? 'sample' : 'token',
    prefill: Q.round(prefill),
    prefillPerToken: Q.toDecimalString(prefillPerToken, 3),
    decode: Q.round(decode),
    trainPerToken: Q.toDecimalString(trainPerToken, 3),
    generationPerStep,
  };
  return { flops, kvCacheBytes, recurrentStateBytes, memory, latency, prefillPerToken, trainPerToken };
}
