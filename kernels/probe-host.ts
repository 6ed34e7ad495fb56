// The probe host: a child process that speaks JSON-RPC over Node's IPC channel (process.send /
// 'message'), exports a model to ONNX, runs it with onnxruntime-node and reports measurements
// beside the engine's roofline. It runs apart from the editor and the CLI so that a native
// crash or a hang in ONNX Runtime takes down only this process; the parent (probe-client.ts)
// owns deadlines and cancellation and kills it. Bundled to dist/probe-host.js (esbuild.mjs),
// onnxruntime-node external.
//
// Environment: NPAS_PROVIDER_PATH — `npas.probe.providerPath`: load ORT from a shadow package
// whose bin folder holds those provider libraries (kernels/runtime.ts); otherwise
// `require('onnxruntime-node')`.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { KERNEL_RPC, type HostInfo, type JsonRpcRequest, type JsonRpcResponse, type Measurement, type ProbeErrorKind, type ProbeParams, type ProbeProgress, type ProbeResult, type SharedPrefixMeasured } from '../src/protocol/kernel-rpc.js';
import type { SharedPrefix } from '../src/core/index.js';
import { ExportError, exportModel, onnxBytes, writeOnnx, type ExportResult } from './export.js';
import { compileSpec, loadModel } from './engine-bridge.js';
import { availableMemory, memoryRefusal, probeMemoryEstimate } from './probe-memory.js';
import { watchParent, type ParentWatchdog } from './parent-watchdog.js';
import { defaultFill, type WeightFill } from './graph-builder.js';
import { DEFAULT_EXTERNAL_THRESHOLD } from './onnx-writer.js';
import { synthetic } from './weights.js';
import { CUDA_INSTALL_HINT, binDir, hasCudaProvider, ortPackageDir, shadowPackage } from './runtime.js';

class ProbeFailure extends Error {
  constructor(
    readonly kind: ProbeErrorKind,
    message: string,
  ) {
    super(message);
  }
}

let ortModule: typeof Ort | undefined;
let shadow: string | undefined;

/** The onnxruntime-node package folder this host loads (a shadow one for a provider folder). */
function ortPackage(): string | undefined {
  const providers = process.env.NPAS_PROVIDER_PATH;
  if (!providers) return undefined;
  if (!shadow) {
    const real = ortPackageDir();
    if (!real) throw new ProbeFailure('provider-missing', 'onnxruntime-node is not installed next to the probe host');
    shadow = shadowPackage(real, providers);
  }
  return shadow;
}

function ort(): typeof Ort {
  if (!ortModule) {
    const pkg = ortPackage();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ortModule = (pkg ? require(pkg) : require('onnxruntime-node')) as typeof Ort;
  }
  return ortModule;
}

function runtimeDir(): string {
  const pkg = ortPackage() ?? ortPackageDir();
  return pkg ? binDir(pkg) : '';
}

function send(message: JsonRpcRequest | JsonRpcResponse): void {
  process.send?.(message);
}

function progress(p: ProbeProgress): void {
  send({ jsonrpc: '2.0', method: KERNEL_RPC.progress, params: p });
}

function info(): HostInfo {
  const dir = runtimeDir();
  return {
    ortVersion: ort().env.versions.node ?? 'unknown',
    nodeVersion: process.version,
    providers: ['cpu', ...(dir && hasCudaProvider(dir) ? ['cuda'] : [])],
    runtimeDir: dir,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Device-wide used memory in bytes (nvidia-smi), for a before/after delta when per-process use is hidden (containers). */
function gpuMemoryUsed(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-i', '0'], { encoding: 'utf8', timeout: 5000 });
    const mib = Number(out.trim().split('\n')[0]);
    return Number.isFinite(mib) ? mib * 1024 * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function gpuMemoryOfSelf(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000 });
    for (const line of out.split('\n')) {
      const [pid, mib] = line.split(',').map((s) => s.trim());
      if (Number(pid) === process.pid) return Number(mib) * 1024 * 1024;
    }
  } catch {
    // no nvidia-smi: reported as unavailable
  }
  return undefined;
}

/** Nodes per provider from an ORT profile file (events of category Node carry args.provider). */
function nodesByProvider(file: string): Record<string, number> {
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat?: string; name?: string; args?: { provider?: string; op_name?: string } }[];
  const seen = new Map<string, string>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.args?.provider || !e.name) continue;
    seen.set(e.name.replace(/_(kernel_time|fence_before|fence_after)$/, ''), e.args.provider);
  }
  const out: Record<string, number> = {};
  for (const p of seen.values()) out[p] = (out[p] ?? 0) + 1;
  return out;
}

/** Weights above this many bytes go to an external data file (NPAS_PROBE_EXTERNAL_THRESHOLD lowers it in tests). */
const externalThreshold = (): number => Number(process.env.NPAS_PROBE_EXTERNAL_THRESHOLD) || DEFAULT_EXTERNAL_THRESHOLD;

/** What the prefill graph's attention and norms are built from, read from the graph itself (a fused export falls back to standard ops per layer). */
function opsNotes(exported: ExportResult): string[] {
  const nodes = exported.spec.graph.nodes;
  const count = (op: string) => nodes.filter((n) => n.op === op).length;
  // The builders tally what they emit (GraphParts): attention layers on standard ops, and the
  // fused cross-attention, which structureNotes describes.
  const standard = exported.parts.standardAttention;
  const gqa = count('GroupQueryAttention');
  const mha = count('MultiHeadAttention') - exported.parts.fusedCrossAttention;
  const notes: string[] = [];
  if (gqa > 0) notes.push(`Causal attention is ORT's fused com.microsoft GroupQueryAttention (${gqa} layers): no S×S mask or score tensor in the graph; on CUDA it is flash attention, which skips the masked half, and is implemented for fp16/bf16 only (in fp32 ORT places it on the CPU). Achieved FLOP/s uses the engine's count.`);
  if (mha > 0) notes.push(`Bidirectional attention is com.microsoft MultiHeadAttention (${mha} layers): the full S×S scores, as the engine counts them.`);
  if (standard > 0) {
    notes.push(
      gqa + mha > 0
        ? `${standard} attention layer(s) have no contrib op (bidirectional GQA/MQA, or a head size not a multiple of 8) and are standard ops (MatMul, Softmax, an additive mask): the full S×S score matrix, twice the causal work the engine counts.`
        : 'Attention is built from standard ops (MatMul, Softmax, an additive causal mask): it computes the full S×S score matrix, twice the causal work the engine counts; achieved FLOP/s uses the engine\'s count.',
    );
  }
  const skip = count('SkipSimplifiedLayerNormalization') + count('SkipLayerNormalization');
  if (skip > 0) notes.push(`${skip} residual adds are fused into the norm that reads the sum (SkipLayerNormalization / SkipSimplifiedLayerNormalization).`);
  // Routed experts: one com.microsoft MoE node per layer (kernels/layers/moe-fused.ts), or one
  // NonZero-led dispatch per expert, whose count makes ORT's session creation quadratic.
  const moe = count('MoE');
  const dispatches = count('NonZero');
  if (moe > 0) notes.push(`${moe} MoE layer(s) run their routed experts in ORT's com.microsoft MoE op (one node per layer, stacked expert banks)${dispatches > 0 ? `; ${dispatches} expert dispatch(es) elsewhere are standard ops (NonZero → GatherND → expert → ScatterND)` : ''}.`);
  else if (dispatches > 0) notes.push(`${dispatches} expert dispatch(es) are standard ops (NonZero → GatherND → expert → ScatterND, each with a data-dependent row count): ORT's session creation grows quadratically in their number.`);
  return notes;
}

/** What an encoder-decoder's, a routed (MoR) or a parallel-streams model's graph runs, read from the export (kernels/data-flow.ts, layers/routing.ts, layers/parallel-streams.ts). */
function structureNotes(exported: ExportResult): string[] {
  const notes: string[] = [];
  if (exported.inputs.length > 1) {
    const fused = exported.parts.fusedCrossAttention;
    const cross = fused > 0 ? `${fused} layer(s) on com.microsoft MultiHeadAttention, the rest standard ops` : 'standard ops';
    notes.push(
      `Encoder-decoder: the prefill runs the encoder over input_ids [batch, src_seq] and the decoder over decoder_input_ids [batch, seq] (src_seq is --src-seq, seq by default, as the engine's); cross-attention (${cross}) attends every source token from every target token, as the engine counts it. ` +
        'The decode step runs the decoder only, over self-attention caches of seq positions and cross-attention caches of the source; the engine\'s decode bytes likewise count the decoder\'s weights without the cross K/V projections, plus the caches.',
    );
  }
  const recursions = exported.parts.recursions;
  if (recursions > 0 && exported.parts.halting) {
    notes.push(
      `Per-token halting: after every token runs a halting stack's first step, each of the ${recursions} later steps any token reaches runs on the round(c_r·S) tokens per sequence its halting unit most lets continue (c_r the reach of the step at the expected depth), their update weighed by the continue probability; a step nobody reaches does not run — the expected-depth work the engine counts. The decode step runs the new token through every step some token reaches, over the round(c_r·S) positions each step's cache holds: the engine's KV, and its decode FLOPs where every reach is 0 or 1 (⌈D⌉ steps where the engine counts a fractional expected depth D; docs/probes.md, "Per-token halting").`,
    );
  } else if (recursions > 0) {
    notes.push(
      `MoR routing: each of the ${recursions} recursions runs on the round(capacity·S) tokens its router keeps per sequence (TopK of sigmoid scores, GatherND → layers → gated update written back with ScatterND), the capacity-scaled work the engine counts; attention inside a recursion is standard ops over the selected tokens. The decode step runs the new token through every recursion (the reference code's top_k = max(1, int(c·1)) = 1 for a step of one token), gated, over the round(c_r·S) positions each recursion's cache holds: the engine's KV, and the full depth where the engine's decode FLOPs count c_r of each recursion (docs/probes.md, "MoR routing").`,
    );
  }
  if (exported.parts.parallelStreams) {
    notes.push(
      'Parallel streams (ParScale): the P streams are the batch of one pass — the ids tiled P times, each stream\'s learned prefix keys and values in front of every attention (standard ops), the streams merged before the merge member. The weights are read once per step for all P streams while FLOPs and the caches are P×, as the engine counts them.',
    );
  }
  return notes;
}

/**
 * One int64 tensor [batch, length] per graph input (the export lists them: `input_ids`, or an
 * encoder-decoder's source `input_ids`, length srcSeq — the engine's src_seq, seq by default — and
 * target `decoder_input_ids`, length seq), ids below each input's vocabulary: (i·2654435761) mod V for a
 * prefill, (i·7919 + 1) mod V for a decode step, as scripts/gpu-probe-torch.py draws them.
 */
function tokenFeeds(o: typeof Ort, inputs: ExportResult['inputs'], batch: number, seq: number, srcSeq: number, decode: boolean): Record<string, Ort.Tensor> {
  const feeds: Record<string, Ort.Tensor> = {};
  for (const input of inputs) {
    const length = decode ? (input.decodeTokens ?? 1) : input.length === 'src_seq' ? srcSeq : seq;
    const data = new BigInt64Array(batch * length);
    for (let i = 0; i < data.length; i++) data[i] = BigInt(((decode ? i * 7919 + 1 : i * 2654435761) % input.vocab));
    feeds[input.name] = new o.Tensor('int64', data, [batch, length]);
  }
  return feeds;
}

/**
 * A decode step's recurrent-state inputs (Mamba, Mamba-2, Gated DeltaNet: layers/recurrent-step.ts),
 * filled with deterministic synthetic values (uniform ±0.5, drawn by name) in the graph's dtype.
 */
function stateFeeds(o: typeof Ort, r: ExportResult): Record<string, Ort.Tensor> {
  const feeds: Record<string, Ort.Tensor> = {};
  for (const input of r.stateInputs) {
    const bytes = synthetic(input.name, input.dims.reduce((a, b) => a * b, 1), r.dtype, 0.5);
    feeds[input.name] = r.dtype === 'fp16' ? new o.Tensor('float16', new Uint16Array(bytes.buffer), input.dims) : new o.Tensor('float32', new Float32Array(bytes.buffer), input.dims);
  }
  return feeds;
}

/** The export without its initializers' bytes (written to disk already): what the probe still reads of it is the graph and the counts. */
function withoutWeights(r: ExportResult): ExportResult {
  return { ...r, spec: { ...r.spec, graph: { ...r.spec.graph, initializers: [] } } };
}

async function probe(p: ProbeParams): Promise<ProbeResult> {
  const notes: string[] = [];
  const device = p.device ?? (p.ep === 'cuda' ? 'H100' : 'CPU');
  // A prompt shared by k continuations (docs/probes.md, "Shared prompts"): the prefill's rows pack
  // the prompt and the continuations, P + k·(seq − P) tokens, and the decode step runs the k
  // continuations' tokens over the prompt's cache held once.
  const share = p.sharedPrefix !== undefined ? { tokens: p.sharedPrefix, continuations: p.continuations ?? 2 } : undefined;
  if (share && !(Number.isSafeInteger(share.tokens) && share.tokens >= 1 && share.tokens < p.seq && Number.isSafeInteger(share.continuations) && share.continuations >= 1)) {
    throw new ProbeFailure('spec', `a shared prompt needs 1 ≤ tokens < seq (${p.seq}) and at least one continuation; got ${share.tokens} tokens, ${share.continuations} continuations`);
  }
  const rowTokens = share ? share.tokens + share.continuations * (p.seq - share.tokens) : p.seq;
  // One set of engine settings for the pre-check, both exports and the roofline beside the measurements.
  const analysis = { seq: p.seq, srcSeq: p.srcSeq, batch: p.batch, dtype: p.dtype, device, ...(share ? { sharedPrefix: share } : {}) };
  // Compiled once, its imports followed from the spec's file (a multi-file spec probes as the CLI reads it).
  const spec = compileSpec(p.specText, p.specPath);
  progress({ stage: 'export', message: `exporting ${p.model} (${p.dtype})` });
  const t0 = performance.now();
  let exported: ExportResult;
  // Weights are drawn once and shared by the prefill and decode exports.
  const drawn = new Map<string, Uint8Array>();
  const fill: WeightFill = (key, shape, dtype, scale, offset) => {
    let raw = drawn.get(key);
    if (!raw) drawn.set(key, (raw = defaultFill(key, shape, dtype, scale, offset)));
    return raw;
  };
  // Refuse up front what cannot fit this machine, before drawing a weight (probe-memory.ts).
  if (!p.ignoreMemory) {
    let refusal: string | undefined;
    try {
      const report = loadModel(spec, p.model, analysis).report;
      refusal = memoryRefusal(p.model, p.dtype, probeMemoryEstimate(report), availableMemory());
    } catch (e) {
      if (e instanceof ExportError) throw new ProbeFailure('spec', e.message);
      throw e;
    }
    if (refusal) throw new ProbeFailure('memory', refusal);
  }
  try {
    exported = exportModel(spec, p.model, { dtype: p.dtype, ops: p.ops ?? 'fused', generation: p.generation, fill, analysis });
  } catch (e) {
    if (e instanceof ExportError) throw new ProbeFailure('spec', e.message);
    throw e;
  }
  if (exported.maxSeq !== undefined && p.seq > exported.maxSeq) throw new ProbeFailure('spec', `seq ${p.seq} exceeds the model's learned position table (${exported.maxSeq} positions)`);
  const tmp = mkdtempSync(join(tmpdir(), 'npas-probe-'));
  watchdog?.track(tmp);
  try {
    const weightBytes = exported.spec.graph.initializers.reduce((s, t) => s + t.raw.length, 0);
    let source: string | Uint8Array;
    let bytes: number;
    const externalData = weightBytes > externalThreshold();
    if (externalData) {
      const path = join(tmp, 'model.onnx');
      const w = writeOnnx(exported, path, { externalThresholdBytes: externalThreshold() });
      source = path;
      bytes = w.bytes + w.externalBytes;
      // The weights are on disk: let go of the drawn tensors before ONNX Runtime loads its own
      // copy, so a large model peaks near one copy of its weights (plus what ORT folds), not two.
      // The decode export draws them again, deterministically by store key.
      drawn.clear();
      exported = withoutWeights(exported);
    } else {
      source = onnxBytes(exported);
      bytes = source.length;
    }
    const exportMs = performance.now() - t0;

    // Provider.
    let provider = p.ep;
    let fallback: string | undefined;
    const dir = runtimeDir();
    if (p.ep === 'cuda' && !hasCudaProvider(dir)) {
      if (!p.allowCpuFallback) throw new ProbeFailure('provider-missing', `${CUDA_INSTALL_HINT} (looked in ${dir || 'no onnxruntime-node found'})`);
      provider = 'cpu';
      fallback = `CPU FALLBACK: the CUDA provider is not installed, so this probe ran on the CPU provider. ${CUDA_INSTALL_HINT}`;
    }
    const o = ort();
    const baseOptions: Ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      ...(p.threads ? { intraOpNumThreads: p.threads } : {}),
    };
    const options = (strict: boolean, profile: boolean): Ort.InferenceSession.SessionOptions => ({
      ...baseOptions,
      executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: 0 }] : ['cpu'],
      ...(profile ? { enableProfiling: true, profileFilePrefix: join(tmp, 'profile') } : {}),
      extra: { session: { disable_cpu_ep_fallback: provider === 'cuda' && strict ? '1' : '0' } },
    });

    progress({ stage: 'session', message: `creating the ${provider} session (${(bytes / 1e6).toFixed(1)} MB)` });
    const rss0 = process.memoryUsage().rss;
    const gpu0 = provider === 'cuda' ? gpuMemoryUsed() : undefined;
    let session: Ort.InferenceSession;
    let strictPlacement = provider === 'cuda';
    const tc = performance.now();
    try {
      session = await createSession(o, source, options(true, false));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (provider === 'cuda' && /fallback to CPU EP has been explicitly disabled|assigned to the default CPU EP/i.test(msg)) {
        notes.push(`Some nodes are assigned to the CPU provider (ORT: ${msg.split('\n')[0]}); the session was recreated with CPU fallback and the placement below comes from a profile.`);
        strictPlacement = false;
        session = await createSession(o, source, options(false, false));
      } else if (provider === 'cuda' && /providers_(shared|cuda)|Failed to load|libcu|cudnn/i.test(msg)) {
        throw new ProbeFailure('provider-missing', `the CUDA provider failed to load: ${msg.split('\n')[0]}. ${CUDA_INSTALL_HINT}`);
      } else throw new ProbeFailure('session', `ONNX Runtime refused the model: ${msg}`);
    }
    const sessionCreateMs = performance.now() - tc;

    // Inputs: token ids [batch, seq] per graph input (an encoder-decoder's source and target; a
    // shared prompt's packed rows, [batch, P + k·C]), kept small; outputs: last-token values [batch, width].
    const feeds = tokenFeeds(o, exported.inputs, p.batch, rowTokens, p.srcSeq ?? p.seq, false);
    const once = async (s: Ort.InferenceSession = session, f: Record<string, Ort.Tensor> = feeds): Promise<number> => {
      const t = process.hrtime.bigint();
      try {
        const out = await s.run(f);
        for (const v of Object.values(out)) v.dispose?.();
      } catch (e) {
        throw new ProbeFailure('run', `the run failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const warmup = p.warmup ?? 2;
    const runs = Math.max(1, p.runs ?? 10);
    progress({ stage: 'warmup', message: `${warmup} warm-up runs at batch ${p.batch}, seq ${p.seq}${share ? ` (rows of ${rowTokens} tokens: a prompt of ${share.tokens} and ${share.continuations} continuations)` : ''}` });
    for (let i = 0; i < warmup; i++) await once();
    progress({ stage: 'measure', message: `${runs} timed runs` });
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await once());

    let memory: ProbeResult['memory'];
    if (provider === 'cuda') {
      const gpu = gpuMemoryOfSelf();
      const gpu1 = gpuMemoryUsed();
      if (gpu !== undefined) memory = { kind: 'gpu', bytes: gpu };
      else if (gpu0 !== undefined && gpu1 !== undefined) {
        memory = { kind: 'gpu', bytes: Math.max(0, gpu1 - gpu0) };
        notes.push('GPU memory is the device-wide growth of memory.used while the session lived (nvidia-smi lists no per-process use here).');
      } else memory = { kind: 'unavailable', reason: 'nvidia-smi is not available or lists no memory for this process' };
    } else memory = { kind: 'host-rss-growth', bytes: Math.max(0, process.memoryUsage().rss - rss0) };
    await session.release();

    // One decode step over a KV cache of `seq` positions (a second graph with the same weights).
    let decodeTimes: number[] | undefined;
    let decodeUnavailable: string | undefined;
    let decodeCacheElements = 0n;
    let decodeStateElements = 0n;
    try {
      let dec = exportModel(spec, p.model, { dtype: p.dtype, generation: p.generation, ops: p.ops ?? 'fused', fill, decode: { batch: p.batch, past: p.seq }, analysis });
      if (dec.maxSeq !== undefined && p.seq + 1 > dec.maxSeq) throw new ExportError(`the position table has ${dec.maxSeq} positions; a decode step at context ${p.seq} needs ${p.seq + 1}`);
      decodeCacheElements = dec.kvCacheElements;
      decodeStateElements = dec.recurrentStateElements;
      progress({ stage: 'measure', message: `decode step: session with a KV cache of ${p.seq} positions` });
      const decBytes = dec.spec.graph.initializers.reduce((s, t) => s + t.raw.length, 0);
      let decSource: string | Uint8Array;
      if (decBytes > externalThreshold()) {
        decSource = join(tmp, 'decode.onnx');
        writeOnnx(dec, decSource, { externalThresholdBytes: externalThreshold() });
        drawn.clear();
        dec = withoutWeights(dec);
      } else decSource = onnxBytes(dec);
      const ds = await createSession(o, decSource, options(strictPlacement, false));
      const decFeeds = { ...tokenFeeds(o, dec.inputs, p.batch, 1, 1, true), ...stateFeeds(o, dec) };
      for (let i = 0; i < warmup; i++) await once(ds, decFeeds);
      decodeTimes = [];
      for (let i = 0; i < runs; i++) decodeTimes.push(await once(ds, decFeeds));
      await ds.release();
    } catch (e) {
      if (e instanceof ExportError) decodeUnavailable = `not measured: ${e.message}`;
      else if (e instanceof ProbeFailure) decodeUnavailable = `not measured: ${e.message}`;
      else throw e;
    }

    let placement: ProbeResult['placement'];
    if (p.profile || (provider === 'cuda' && !strictPlacement)) {
      progress({ stage: 'profile', message: 'one profiled run for node placement' });
      const ps = await createSession(o, source, options(strictPlacement, true));
      await ps.run(feeds);
      ps.endProfiling();
      await ps.release();
      const file = readdirSync(tmp).find((f) => f.startsWith('profile') && f.endsWith('.json'));
      placement = file
        ? { source: 'profile', nodesByProvider: nodesByProvider(join(tmp, file)), note: 'nodes that ran, by provider, from one profiled run' }
        : { source: 'not-measured', nodesByProvider: {}, note: 'ORT wrote no profile file' };
    } else if (strictPlacement) {
      placement = { source: 'strict-session', nodesByProvider: { CUDAExecutionProvider: exported.nodes }, note: 'the session was created with disable_cpu_ep_fallback=1, so ORT placed every node on the CUDA provider' };
    } else {
      placement = { source: 'not-measured', nodesByProvider: {}, note: 'CPU provider only: every node runs on CPUExecutionProvider (pass --profile to count them)' };
    }

    // Engine numbers at the same settings.
    const report = exported.report; // the engine's report at the probe's settings, made by the export
    const pre = report.latency.prefill;
    const measurement = (ts: number[], est: typeof pre): Measurement => {
      const ms = median(ts);
      return {
        medianMs: ms,
        minMs: Math.min(...ts),
        runs: ts.length,
        flops: String(est.flops),
        bytes: String(est.bytes),
        achievedFlopsPerSecond: Number(est.flops) / (ms / 1e3),
        achievedBytesPerSecond: Number(est.bytes) / (ms / 1e3),
        roofline: { device: report.latency.device, seconds: est.seconds, bound: est.bound },
        efficiency: est.seconds / (ms / 1e3),
      };
    };
    if (decodeTimes && !share) {
      const states = decodeStateElements > 0n ? ` and the recurrent layers' states (${decodeStateElements} elements, synthetic, fed as inputs; their updates are outputs)` : '';
      notes.push(`The decode step reads a synthetic KV cache of ${p.seq} positions held by the session (${decodeCacheElements} elements); its input is ${p.batch} token id(s)${states}.`);
    }
    const sharedPrefix = share ? sharedPrefixMeasured(exported, share, rowTokens, decodeTimes ? decodeCacheElements : undefined) : undefined;
    if (sharedPrefix) notes.push(sharedPrefixNote(sharedPrefix, p.batch, p.seq));
    notes.push(...structureNotes(exported));
    notes.push(...opsNotes(exported), 'The LM head runs on every position (as the engine counts it); only the last position leaves the device.');
    if (provider === 'cpu' && device !== 'CPU') notes.push(`The roofline is for ${device}, not for this CPU.`);
    if (device === 'CPU') notes.push('The CPU roofline is the engine\'s generic 16-core AVX-512 profile, not this machine.');
    const gen = exported.generation;
    const genMacs = exported.report.flops.generationPerStep / 6n; // the engine's generation MACs (6 FLOPs per MAC, forward and backward)
    if (gen.tensors > 0) {
      const counted = genMacs > 0n ? `the engine counts ${genMacs} generation multiply-adds per training step` : 'the engine counts no generation multiply-adds for it: gathers and adapter factors';
      notes.push(
        gen.mode === 'live'
          ? `Generation is in every measured run: ${gen.tensors} generated tensors are rebuilt from the stored ones per forward (--generation live), which the roofline leaves out (${counted}).`
          : `Generation is not in the measured time: ${gen.tensors} generated tensors were materialised once when the session was created (ONNX Runtime folds them; session creation includes it), as inference would; --generation live measures it per run (${counted}).`,
      );
    }
    const dec = report.latency.decode;
    return {
      model: exported.modelName,
      ortVersion: o.env.versions.node ?? 'unknown',
      requestedProvider: p.ep,
      provider,
      fallback,
      dtype: p.dtype,
      ops: p.ops ?? 'fused',
      batch: p.batch,
      seq: p.seq,
      ...(exported.inputs.some((i) => i.length === 'src_seq') ? { srcSeq: p.srcSeq ?? p.seq } : {}),
      storedParams: String(exported.storedParams),
      initializerElements: String(exported.initializerElements),
      export: { ms: exportMs, bytes, nodes: exported.nodes, initializers: exported.initializers, externalData },
      sessionCreateMs,
      prefill: measurement(times, pre),
      decode: decodeTimes
        ? { ...measurement(decodeTimes, dec), kvCacheElements: String(decodeCacheElements), ...(decodeStateElements > 0n ? { recurrentStateElements: String(decodeStateElements) } : {}) }
        : { unavailable: decodeUnavailable ?? 'not measured', roofline: { device: report.latency.device, seconds: dec.seconds, bound: dec.bound, flops: String(dec.flops), bytes: String(dec.bytes) } },
      memory,
      placement,
      ...(gen.tensors > 0 ? { generation: { mode: gen.mode, tensors: gen.tensors, macs: String(genMacs), inMeasuredTime: gen.mode === 'live' } } : {}),
      ...(sharedPrefix ? { sharedPrefix } : {}),
      notes,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    watchdog?.untrack(tmp);
  }
}

/** A shared prompt's probe: what the graphs ran beside the engine's shared and unshared figures (the report the export carries, at the probe's settings). */
function sharedPrefixMeasured(exported: ExportResult, share: SharedPrefix, packedTokens: number, decodeCacheElements: bigint | undefined): SharedPrefixMeasured {
  const engine = exported.report.sharedPrefix;
  if (!engine) throw new ProbeFailure('internal', 'the engine report carries no shared prompt');
  const bytesPerElement = exported.dtype === 'fp16' ? 2n : 4n;
  return {
    tokens: share.tokens,
    continuations: share.continuations,
    packedTokens,
    unsharedTokens: engine.unsharedTokens,
    prefillFlops: String(engine.prefillFlops),
    unsharedPrefillFlops: String(engine.unsharedPrefillFlops),
    kvCacheBytes: String(engine.kvCacheBytes),
    unsharedKvCacheBytes: String(engine.unsharedKvCacheBytes),
    ...(decodeCacheElements !== undefined ? { decodeKvCacheElements: String(decodeCacheElements), decodeKvCacheBytes: String(decodeCacheElements * bytesPerElement) } : {}),
  };
}

function sharedPrefixNote(m: SharedPrefixMeasured, batch: number, seq: number): string {
  const k = m.continuations;
  const cache =
    m.decodeKvCacheBytes === undefined
      ? 'The decode step was not measured.'
      : `The decode step runs the ${k} continuations' new tokens per sequence (input ids [${batch}, ${k}]) at position ${seq}, over the prompt's cache held once per sequence and each continuation's own: ${m.decodeKvCacheElements} elements, ${m.decodeKvCacheBytes} B ${m.decodeKvCacheBytes === m.kvCacheBytes ? '= the engine\'s KV' : `≠ the engine's KV ${m.kvCacheBytes} B`} (apart: ${m.unsharedKvCacheBytes} B).`;
  return `Shared prompt: each row of the prefill packs the prompt's ${m.tokens} tokens and ${k} continuations of ${seq - m.tokens}, ${m.packedTokens} tokens against ${m.unsharedTokens} run apart; each continuation attends to the prompt and itself (block-sparse mask, standard ops); the engine counts ${m.prefillFlops} prefill FLOPs (apart: ${m.unsharedPrefillFlops}). ${cache}`;
}

async function createSession(o: typeof Ort, source: string | Uint8Array, options: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession> {
  return typeof source === 'string' ? o.InferenceSession.create(source, options) : o.InferenceSession.create(source, options);
}

async function handle(req: JsonRpcRequest): Promise<void> {
  if (req.method === KERNEL_RPC.shutdown) process.exit(0);
  if (req.id === undefined) return;
  const id = req.id;
  try {
    let result: unknown;
    if (req.method === KERNEL_RPC.probe) result = await probe(req.params as ProbeParams);
    else if (req.method === KERNEL_RPC.info) result = info();
    else {
      send({ jsonrpc: '2.0', id, error: { code: -32601, message: `unknown method ${req.method}` } });
      return;
    }
    send({ jsonrpc: '2.0', id, result });
  } catch (e) {
    const kind: ProbeErrorKind = e instanceof ProbeFailure ? e.kind : 'internal';
    const message = e instanceof Error ? e.message : String(e);
    send({ jsonrpc: '2.0', id, error: { code: -32000, message, data: { kind } } });
  }
}

/** Ends this host when its parent dies, even in the middle of a long synchronous step. */
const watchdog: ParentWatchdog | undefined = process.send ? watchParent() : undefined;

if (process.send) {
  process.on('message', (m: unknown) => void handle(m as JsonRpcRequest));
  // The parent went away: nothing left to report to.
  process.on('disconnect', () => process.exit(0));
}
