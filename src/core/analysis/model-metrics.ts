// Turns a model's sequence-independent totals into the numbers that depend on the analysis
// settings: FLOPs for a prefill of S tokens and a decode step at context S (a multiply-add
// counts 2, attention's score and value products included), KV cache bytes, memory and
// roofline latency. Totals are computed once per model; these formulas run per setting, which
// is what makes budgets at several sequence lengths cheap.

import * as Q from '../numbers/rational.js';
import { findDevice, peakFlopsFor, DEVICES } from './devices.js';
import { bytesOf, bytesOfParts, DTYPE_BITS } from './dtypes.js';
import { resolvePrecision } from './precision.js';
import type { AnalysisOptions, DType, ExpertPoolReport, FlopsReport, LatencyEstimate, LatencyReport, MemoryReport, RoutedBankReport } from './report-types.js';
import { reachOf } from './kv-reach.js';
import { expectedDistinct } from './routing.js';
import { smashedPositions } from './token-smashing.js';
import type { AttentionEntry, PoolUse, Totals } from './totals.js';

/** Totals of one top-level member, and whether it is an encoder (runs over the source once). */
export interface MemberTotals {
  readonly totals: Totals;
  readonly encoder: boolean;
  /** Times the member runs per token: P before a `parallel` statement's merge, else 1 (default). */
  readonly streams?: number;
  /**
   * Average tokens per position of a smashed member (`smash`, token-smashing.ts): it runs over
   * ⌈S / r⌉ positions and caches one KV entry per position; absent (1) when not smashed.
   */
  readonly smash?: Q.Rational;
}

/** What the metrics need of a `parallel` statement (analysis/parallel-streams.ts). */
export interface StreamSettings {
  readonly streams: number;
  /** `shared`: the workers prefill the prompt once and keep one KV cache (Hogwild!). */
  readonly cache: 'separate' | 'shared';
  /** Learned prefix tokens per stream that every causal self-attention query also attends to. */
  readonly prefixTokens: number;
}

/** The part of a model a `precision weights` override stores in `dtype`, walked alone (weight-dtypes.ts). */
export interface DtypeView {
  readonly dtype: DType;
  readonly members: readonly MemberTotals[];
  readonly whole: Totals;
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
  /** Each routed bank (MoE experts) and the copies a decode step of the batch reads. */
  readonly routing: readonly RoutedBankReport[];
  /** Expert pools shared across layers and the experts a decode step touches of them. */
  readonly pools: readonly ExpertPoolReport[];
}

const big = (n: number): bigint => BigInt(n);

/** The device's roofline at the settings: its name and a step's time from its FLOPs and bytes. */
export interface Roofline {
  readonly device: string;
  estimate(flops: number, bytes: number): { readonly seconds: number; readonly bound: 'compute' | 'memory' };
}

/**
 * The roofline of the settings' device at the compute dtype's peak: max(FLOPs / peak, bytes /
 * bandwidth). The metrics use it, and so do sums of members' FLOPs and bytes (supernet subnets).
 */
export function rooflineAt(options: AnalysisOptions): Roofline {
  const device = findDevice(options.device, options.devices) ?? DEVICES[0]!;
  const peak = peakFlopsFor(device, resolvePrecision(options).compute).flops;
  return {
    device: device.name,
    estimate(flops, bytes) {
      const compute = flops / peak;
      const memoryTime = bytes / device.bandwidth;
      return { seconds: Math.max(compute, memoryTime), bound: compute >= memoryTime ? 'compute' : 'memory' };
    },
  };
}

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
  return perKeyFlops(e, e.info.scoreDim, e.info.valueDim);
}

/** Per decode step per cached key: the layer's decode form (MLA absorbed) may differ from prefill's. */
function decodeKeyFlops(e: AttentionEntry): Q.Rational {
  const d = e.info.decode ?? e.info;
  return perKeyFlops(e, d.scoreDim, d.valueDim);
}

/**
 * Per query token per attended key: q·k (scoreDim MACs) and p·v (valueDim MACs) per head, and
 * relative-position attention's position term (positionScoreDim MACs).
 */
function perKeyFlops(e: AttentionEntry, scoreDim: number, valueDim: number): Q.Rational {
  return Q.mul(e.instances, Q.fromBigInt(2n * big(e.info.queryHeads) * big(scoreDim + valueDim + (e.info.positionScoreDim ?? 0))));
}

/**
 * Tokens one producer of a causal self-attention entry caches at context s: its chunk, window
 * or the whole context — or further, when a layer borrowing its KV reaches further (kv-reach.ts).
 */
function cachedTokens(e: AttentionEntry, s: number): bigint {
  const reach = e.cache ? e.cache.reach : reachOf(e.info);
  return big(reach === undefined ? s : Math.min(s, reach));
}

/**
 * A shared prompt (`AnalysisOptions.sharedPrefix`): each sequence is P prompt tokens and k
 * continuations of C = S − P tokens, every continuation attending to the prompt and to its own
 * earlier tokens (the block-sparse mask of prefix sharing). With no shared prompt, P = 0 and k = 1.
 */
interface PromptSharing {
  readonly prompt: number;
  readonly continuations: number;
  /** Tokens a sequence computes: P + k·C. */
  readonly processed: number;
  /** Keys attended over the prefill, from the unshared count f(s) of a prefix of s tokens: f(P) + k·(f(S) − f(P)). */
  keys(f: (s: number) => bigint): bigint;
  /** Positions cached of n = min(S, reach) per continuation: the prompt's share once, each continuation's own k times. */
  cached(n: bigint): bigint;
}

function promptSharing(S: number, share: AnalysisOptions['sharedPrefix']): PromptSharing {
  // A budget measured at a seq not above the prompt (`kv(seq: 256)` with a 512-token prompt)
  // leaves no continuation: it is measured without sharing.
  const valid = share !== undefined && share.tokens < S;
  const P = valid ? share.tokens : 0;
  const k = valid ? share.continuations : 1;
  const C = S - P;
  const K = big(k);
  return {
    prompt: P,
    continuations: k,
    processed: P + k * C,
    keys: (f) => f(P) + K * (f(S) - f(P)),
    cached: (n) => {
      // The cache keeps the last n positions of each continuation: min(C, n) of its own, the
      // rest from the shared prompt.
      const own = n < big(C) ? n : big(C);
      return n - own + K * own;
    },
  };
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

/**
 * `parallel` streams (`streams` > 1 on a member) run every weight operation, attention product
 * and saved activation of that member once per stream; a decode step still reads each weight
 * once for all of them (the weights are the same; memory-bound decode reads them once). With
 * separate caches each stream prefills the prompt and keeps its own KV cache, P× the single
 * model's, each holding the stream's m learned prefix tokens that every query also attends to;
 * with a shared cache (Hogwild! workers) the prompt is prefilled once and the cache held once,
 * while each decode step runs P tokens.
 */
export function computeMetrics(members: readonly MemberTotals[], whole: Totals, options: AnalysisOptions, parallel?: StreamSettings, views?: readonly DtypeView[]): ModelMetrics {
  const S = options.seq;
  const src = options.srcSeq ?? options.seq;
  const B = big(options.batch);
  const perSample = whole.perSample;

  // Forward FLOPs per sequence, split into the weight operations (whose input gradients cost
  // as much again, and whose weight gradients do too where the weights train) and attention's
  // score and value products (both operands are activations: backward costs twice forward).
  let prefillWeights = Q.ZERO;
  let prefillAttention = Q.ZERO;
  let trainableWeights = Q.ZERO;
  let decode = Q.ZERO;
  let kvElements = Q.ZERO;
  let activation = Q.ZERO;
  let maskElements = Q.ZERO;
  let stateElements = 0n;
  let stateFixedBits = 0n;
  const prefix = parallel?.prefixTokens ?? 0;
  const unsmashed = promptSharing(S, options.sharedPrefix);
  const k = unsmashed.continuations;
  for (const m of members) {
    const t = m.totals;
    // A smashed member (token smashing) sees the S tokens, and the shared prompt, as ⌈· / r⌉
    // positions: its weights run, its attention attends and its cache holds per position.
    const r = m.smash;
    const positions = r === undefined ? S : smashedPositions(S, r);
    const sharing = r === undefined ? unsmashed : promptSharing(positions, options.sharedPrefix && { ...options.sharedPrefix, tokens: smashedPositions(options.sharedPrefix.tokens, r) });
    const perGenerated = r === undefined ? Q.ONE : Q.div(Q.ONE, r);
    // Activations are saved per position: per token of the unsmashed sequence, positions/tokens of them.
    const positionShare = r === undefined ? Q.ONE : Q.rational(BigInt(sharing.processed), BigInt(unsmashed.processed));
    const tokens = m.encoder ? src : sharing.processed;
    const trainableShare = Q.isZero(t.flops) ? Q.ZERO : Q.div(t.trainableFlops, t.flops);
    // Per-stream members: P× in decode; P× in prefill, training and the cache unless the
    // workers share one cache (then the prompt and its cache exist once).
    const streams = m.streams ?? 1;
    const shared = parallel?.cache === 'shared';
    const decodeCopies = Q.fromInt(streams);
    const prefillCopies = Q.fromInt(shared ? 1 : streams);
    const prefillStart = prefillWeights;
    const trainableStart = trainableWeights;
    const decodeStart = decode;
    const attentionStart = prefillAttention;
    const kvStart = kvElements;
    activation = Q.add(activation, Q.mul(Q.mul(t.activation, positionShare), prefillCopies));
    maskElements = Q.add(maskElements, Q.mul(Q.mul(t.maskElements, positionShare), prefillCopies));
    stateElements += t.state.elements * BigInt(shared ? 1 : streams);
    stateFixedBits += t.state.fixedBits * BigInt(shared ? 1 : streams);
    if (perSample) {
      prefillWeights = Q.add(prefillWeights, t.flops);
      trainableWeights = Q.add(trainableWeights, t.trainableFlops);
      decode = Q.add(decode, t.flops);
    } else {
      prefillWeights = Q.add(prefillWeights, Q.mul(t.flops, Q.fromInt(tokens)));
      trainableWeights = Q.add(trainableWeights, Q.mul(t.trainableFlops, Q.fromInt(tokens)));
      // Cross-attention K/V projections run once per source token, then are cached.
      const crossKv = Q.mul(t.crossKvFlops, Q.fromInt(src));
      prefillWeights = Q.add(prefillWeights, crossKv);
      trainableWeights = Q.add(trainableWeights, Q.mul(crossKv, trainableShare));
      if (!m.encoder) decode = Q.add(decode, Q.mul(t.flops, Q.fromInt(k)));
    }
    for (const e of t.attention.values()) {
      if (streams > 1 && prefix > 0 && e.info.causal && !e.info.cross) {
        // Each stream's m learned prefix tokens sit in front of its cache: every query attends
        // to them too, and the cache holds them (ParScale's ParscaleCache).
        prefillAttention = Q.add(prefillAttention, Q.mul(keyFlops(e), Q.fromBigInt(big(sharing.processed) * big(prefix))));
        if (!m.encoder) decode = Q.add(decode, Q.mul(decodeKeyFlops(e), Q.fromInt(prefix * k)));
        kvElements = Q.add(kvElements, Q.mul(e.producers, Q.fromBigInt(big(prefix) * big(e.info.kvElementsPerToken))));
      }
      const per = keyFlops(e);
      const decodePer = decodeKeyFlops(e);
      const w = e.info.window;
      if (e.info.cross) {
        prefillAttention = Q.add(prefillAttention, Q.mul(per, Q.fromBigInt(big(sharing.processed) * big(src))));
        decode = Q.add(decode, Q.mul(decodePer, Q.fromInt(src * k)));
        kvElements = Q.add(kvElements, Q.mul(e.producers, Q.fromBigInt(big(src) * big(e.info.kvElementsPerToken))));
      } else if (e.info.causal && e.info.chunk !== undefined) {
        // A chunked layer's cache and a decode step's keys are capped at one chunk, as a window's are.
        const c = e.info.chunk;
        prefillAttention = Q.add(prefillAttention, Q.mul(per, Q.fromBigInt(sharing.keys((s) => chunkedKeys(s, c)))));
        if (!m.encoder) decode = Q.add(decode, Q.mul(decodePer, Q.fromInt(Math.min(positions, c) * k)));
        kvElements = Q.add(kvElements, Q.mul(e.producers, Q.fromBigInt(sharing.cached(cachedTokens(e, positions)) * big(e.info.kvElementsPerToken))));
      } else if (e.info.causal) {
        prefillAttention = Q.add(prefillAttention, Q.mul(per, Q.fromBigInt(sharing.keys((s) => causalKeys(s, w)))));
        if (!m.encoder) decode = Q.add(decode, Q.mul(decodePer, Q.fromInt(Math.min(positions, w ?? positions) * k)));
        kvElements = Q.add(kvElements, Q.mul(e.producers, Q.fromBigInt(sharing.cached(cachedTokens(e, positions)) * big(e.info.kvElementsPerToken))));
      } else {
        // Bidirectional self-attention: every token sees the whole (windowed) sequence; no cache.
        prefillAttention = Q.add(prefillAttention, Q.mul(per, Q.fromBigInt(big(tokens) * big(Math.min(tokens, w ?? tokens)))));
        if (!m.encoder) decode = Q.add(decode, Q.mul(decodePer, Q.fromInt(Math.min(positions, w ?? positions) * k)));
      }
    }
    // A decode step of a smashed member produces r tokens: per generated token, 1/r of it.
    if (r !== undefined) decode = Q.add(decodeStart, Q.mul(Q.sub(decode, decodeStart), perGenerated));
    if (streams > 1) {
      const scaled = (start: Q.Rational, end: Q.Rational, copies: Q.Rational): Q.Rational => Q.add(start, Q.mul(Q.sub(end, start), copies));
      prefillWeights = scaled(prefillStart, prefillWeights, prefillCopies);
      trainableWeights = scaled(trainableStart, trainableWeights, prefillCopies);
      prefillAttention = scaled(attentionStart, prefillAttention, prefillCopies);
      decode = scaled(decodeStart, decode, decodeCopies);
      kvElements = scaled(kvStart, kvElements, prefillCopies);
    }
  }
  const prefill = Q.add(prefillWeights, prefillAttention);
  // Per token of the k continuations' sequences (k·S, the tokens an unshared batch would run):
  // the shared prompt's cost is spread over them.
  const perSequence = perSample ? Q.ONE : Q.fromInt(S * k);
  const prefillPerToken = Q.div(prefill, perSequence);
  // Generation (SSN templates, MASA atoms) runs once per step: forward 2 FLOPs per MAC, backward twice that.
  const generationPerStep = 6n * whole.generationMacs;
  // Tokens a step computes and saves activations for (the prompt once per sequence).
  const tokensPerStep = perSample ? B : B * big(unsmashed.processed);
  // Training = forward + input gradients (the weight operations once more, attention twice)
  // + weight gradients of the trainable weights only: 3 × forward when everything trains,
  // about 2 × forward for a frozen base with adapters.
  const trainPerSequence = Q.add(Q.add(Q.mul(Q.fromInt(2), prefillWeights), Q.mul(Q.fromInt(3), prefillAttention)), trainableWeights);
  const trainPerToken = Q.add(Q.div(trainPerSequence, perSequence), Q.div(Q.fromBigInt(generationPerStep), Q.fromBigInt(perSample ? B : B * big(S * k))));

  const precision = resolvePrecision(options);
  const kvCacheBytes = bytesOf(Q.ceil(Q.mul(kvElements, Q.fromBigInt(B))), precision.kv);
  // Recurrent state: elements in the cache's dtype (the KV class) plus states with their own dtype, per sequence.
  const stateQuarterBits = (stateElements * BigInt(Math.round(DTYPE_BITS[precision.kv] * 4)) + stateFixedBits * 4n) * B;
  const recurrentStateBytes = (stateQuarterBits + 31n) / 32n;
  // Weights in their dtypes: the routed experts' matrices in the experts' (MXFP4 experts beside
  // bf16 attention), the weights a `precision weights` override reaches in its own, the rest in
  // the weights'. The override views count their parts with the walk's own rules (weight-dtypes.ts).
  const traffic = weightTraffic(members, whole, B, tokensPerStep, perSample);
  const viewTraffic = (views ?? []).map((v) => ({ dtype: v.dtype, t: weightTraffic(v.members, v.whole, B, tokensPerStep, perSample) }));
  const inClasses = (pick: (t: WeightTraffic) => { readonly other: Q.Rational; readonly routed: Q.Rational }): bigint => {
    let { other, routed } = pick(traffic);
    const parts: { count: Q.Rational; dtype: DType }[] = [];
    for (const v of viewTraffic) {
      const part = pick(v.t);
      other = Q.sub(other, part.other);
      routed = Q.sub(routed, part.routed);
      parts.push({ count: Q.add(part.other, part.routed), dtype: v.dtype });
    }
    return bytesOfParts([{ count: other, dtype: precision.weights }, { count: routed, dtype: precision.experts }, ...parts]);
  };
  const weightBytes = inClasses((t) => ({ other: Q.fromBigInt(t.stored - t.routedStored), routed: Q.fromBigInt(t.routedStored) }));
  const activationElements = Q.ceil(Q.mul(activation, Q.fromBigInt(tokensPerStep)));
  // The loss: a cross-entropy saves its fp32 log-softmax over the final projection's width for
  // every token of the step (a chunked loss only a chunk's worth at a time, a fused one none).
  const loss = options.loss ?? { kind: 'full' };
  const lossTokens = loss.kind === 'fused' ? 0n : loss.kind === 'chunked' && big(loss.chunk) < tokensPerStep ? big(loss.chunk) : tokensPerStep;
  const lossBytes = typeof whole.tail === 'number' ? lossTokens * big(whole.tail) * 4n : 0n;
  // Dropout keeps a one-byte mask per element it drops.
  const maskBytes = Q.ceil(Q.mul(maskElements, Q.fromBigInt(tokensPerStep)));
  const activationBytes = bytesOf(activationElements, precision.activations) + lossBytes + maskBytes;
  // Adam with mixed precision: per trainable weight a gradient, the master copy (none when the
  // weights are 32-bit already) and two moments, each in its class's dtype.
  const trainable = whole.trainable;
  const trainingStateBytes =
    bytesOf(trainable, precision.gradients) + (precision.master === 'none' ? 0n : bytesOf(trainable, precision.master)) + 2n * bytesOf(trainable, precision.optimizer);
  const trainingBytes = weightBytes + trainingStateBytes + activationBytes;
  const memory: MemoryReport = {
    weightBytes,
    kvCacheBytes,
    recurrentStateBytes,
    inferenceBytes: weightBytes + kvCacheBytes + recurrentStateBytes,
    trainingBytes,
    activationBytes,
    lossBytes,
    maskBytes,
  };

  const roofline = rooflineAt(options);
  const estimate = (flops: bigint, bytes: bigint): LatencyEstimate => ({ ...roofline.estimate(Number(flops), Number(bytes)), flops, bytes });
  const prefillFlops = Q.ceil(prefill) * B;
  const decodeFlops = Q.ceil(decode) * B;
  // A decode step reads every weight its layers apply, a prefill every stored weight once, each
  // of a routed bank only the experts the step's tokens chose (weightTraffic); a step reads and
  // rewrites the recurrent state, counted once, as the KV cache is.
  const decodeBytes = inClasses((t) => ({ other: Q.sub(t.read, t.expertsRead), routed: t.expertsRead })) + kvCacheBytes + recurrentStateBytes;
  const prefillWeightBytes = inClasses((t) => ({ other: Q.fromBigInt(t.stored - t.routedStored), routed: Q.sub(Q.fromBigInt(t.routedStored), t.prefillUnread) }));
  const routing = traffic.routing;
  const pools = whole.pools.map((p) => poolReport(p, B));
  const latency: LatencyReport = {
    device: roofline.device,
    prefill: estimate(prefillFlops, prefillWeightBytes + kvCacheBytes),
    decode: estimate(decodeFlops, decodeBytes),
  };

  const flops: FlopsReport = {
    unit: perSample ? 'sample' : 'token',
    prefill: Q.round(Q.mul(prefill, Q.fromBigInt(B))),
    prefillPerToken: Q.toDecimalString(prefillPerToken, 3),
    decode: Q.round(Q.mul(decode, Q.fromBigInt(B))),
    // Exact whenever it terminates (generation MACs over a power-of-two token count): the dashboard
    // and JSON readers take it as an exact decimal.
    trainPerToken: Q.toExactDecimalString(trainPerToken, 3),
    generationPerStep,
    // Computed once, not per token or step (Arrow's prototypes): shown only where a model has any.
    ...(whole.setupMacs > 0n ? { setup: 2n * whole.setupMacs } : {}),
  };
  return { flops, kvCacheBytes, recurrentStateBytes, memory, latency, prefillPerToken, trainPerToken, routing, pools };
}

/** What a model's weights (or a dtype view's part of them) cost a decode step and a prefill to read. */
interface WeightTraffic {
  readonly stored: bigint;
  /** The part of `stored` in routed banks' weight matrices (MoE experts). */
  readonly routedStored: bigint;
  /** Params a decode step of the batch reads. */
  readonly read: Q.Rational;
  /** The part of `read` in routed banks' weight matrices. */
  readonly expertsRead: Q.Rational;
  /** Stored routed matrices a prefill of the batch leaves unread (experts none of its tokens chose). */
  readonly prefillUnread: Q.Rational;
  /** Each routed bank and the copies a decode step and a prefill read. */
  readonly routing: RoutedBankReport[];
}

/**
 * A decode step reads every weight its layers apply (a tied block applied N times is read N
 * times) except embedding tables, of which it reads one row per token. In an encoder-decoder it
 * runs the decoder alone: the encoder ran once over the source and the cross-attention K/V
 * projections once per source token, both cached with the KV. A smashed member runs once per r
 * generated tokens. A routed bank (MoE experts) is read once per copy any token of the batch
 * chose: at batch B, E·(1 − (1 − k/E)^B) copies in expectation rather than the k one token uses
 * (routing.ts); a Chain-of-Experts layer runs its `draws` selections one after the other, each a
 * pass that reads its own selection's experts, as a tied block applied twice is read twice.
 * A prefill step runs the batch's B·S tokens through every layer at once: it reads each stored
 * weight once, of a routed bank's stored matrices only the experts one of those tokens chose,
 * E·(1 − (1 − k/E)^(draws·B·S)) of E per layer under uniform routing (Σ_i under a skewed load).
 */
function weightTraffic(members: readonly MemberTotals[], whole: Totals, B: bigint, prefillTokens: bigint, perSample: boolean): WeightTraffic {
  let notRead = whole.crossKvActive;
  for (const m of members) {
    const t = m.totals;
    if (m.encoder) {
      if (!perSample) notRead = Q.add(notRead, Q.sub(t.active, Q.fromBigInt(t.embeddingParams)));
    } else if (m.smash !== undefined) notRead = Q.add(notRead, Q.mul(Q.sub(Q.ONE, Q.div(Q.ONE, m.smash)), Q.sub(t.active, Q.fromBigInt(t.embeddingParams))));
  }
  const routing: RoutedBankReport[] = [];
  let bankReads = Q.ZERO;
  let expertReads = Q.ZERO;
  let prefillUnread = Q.ZERO;
  for (const bank of whole.banks.values()) {
    const distinct = expectedDistinct(bank.copies, bank.active, B, bank.load);
    const touched = expectedDistinct(bank.copies, bank.active, B * big(bank.draws), bank.load);
    const prefillTouched = expectedDistinct(bank.copies, bank.active, prefillTokens * big(bank.draws), bank.load);
    prefillUnread = Q.add(prefillUnread, Q.mul(Q.fromBigInt(bank.storedMatrix), Q.div(Q.sub(Q.fromInt(bank.copies), prefillTouched), Q.fromInt(bank.copies))));
    routing.push({
      experts: bank.copies,
      topK: bank.active,
      draws: bank.draws,
      ...(bank.load ? { load: { hotExperts: bank.load.hot, hotShare: Q.toDecimalString(Q.rational(BigInt(bank.load.share.num), BigInt(bank.load.share.den)), 3) } } : {}),
      expectedDistinct: Q.toDecimalString(distinct, 3),
      touched: Q.toDecimalString(touched, 3),
      prefillTouched: Q.toDecimalString(prefillTouched, 3),
    });
    const draws = Q.fromInt(bank.draws);
    bankReads = Q.add(bankReads, Q.mul(Q.mul(draws, Q.sub(distinct, Q.fromInt(bank.active))), bank.paramsPerCopy));
    expertReads = Q.add(expertReads, Q.mul(Q.mul(draws, distinct), bank.matrixParamsPerCopy));
  }
  const read = Q.sub(Q.add(Q.sub(whole.active, notRead), bankReads), Q.fromBigInt(whole.embeddingParams));
  const expertsRead = Q.compare(expertReads, read) > 0 ? read : expertReads;
  return { stored: whole.stored, routedStored: whole.routedStored, read, expertsRead, prefillUnread, routing };
}

/**
 * What a decode step of B tokens touches of an expert pool. Each of the g layers reading one pool
 * makes `draws` selections of k per token, uniformly and independently, so an expert escapes all
 * g·draws·B selections with probability ((E − k)/E)^(g·draws·B): the union is
 * E·(1 − ((E − k)/E)^(g·draws·B)) (routing.ts with g·draws·B selections). The layers' own reads
 * are g·draws·E·(1 − ((E − k)/E)^B).
 */
function poolReport(p: PoolUse, B: bigint): ExpertPoolReport {
  let pools = 0n;
  let layers = 0n;
  let touched = Q.ZERO;
  const perLayer = expectedDistinct(p.copies, p.active, B, p.load);
  for (const [g, count] of p.uses) {
    pools += count;
    layers += count * big(g);
    touched = Q.add(touched, Q.mul(Q.fromBigInt(count), expectedDistinct(p.copies, p.active, B * big(g) * big(p.draws), p.load)));
  }
  const read = Q.mul(Q.fromBigInt(layers * big(p.draws)), perLayer);
  return {
    stack: p.stack,
    experts: p.copies,
    topK: p.active,
    draws: p.draws,
    pools: Number(pools),
    layers: Number(layers),
    storedExperts: pools * big(p.copies),
    activeExperts: layers * big(p.draws) * big(p.active),
    touchedExperts: Q.toDecimalString(touched, 3),
    readExperts: Q.toDecimalString(read, 3),
    touchedParams: Q.ceil(Q.mul(touched, p.paramsPerCopy)),
  };
}
