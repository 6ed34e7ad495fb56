// The JSON-RPC protocol between a host (the CLI, the extension) and the probe host, a child
// process (kernels/probe-host.ts → dist/probe-host.js) that loads onnxruntime-node. Messages
// travel over Node's IPC channel as JSON-RPC 2.0 objects. Types and method names only: the
// probe host implements them, kernels/probe-client.ts calls them.
//
// Exact counts travel as decimal strings (JSON has no bigint); measurements as numbers.

export const KERNEL_RPC = {
  /** Request: ProbeParams → ProbeResult. */
  probe: 'probe/run',
  /** Notification child → parent: ProbeProgress. */
  progress: 'probe/progress',
  /** Request: {} → HostInfo (ORT version and providers, no session). */
  info: 'probe/info',
  /** Notification parent → child: release sessions and exit. */
  shutdown: 'probe/shutdown',
} as const;

export type ExecutionProviderName = 'cuda' | 'cpu';
export type ProbeDType = 'fp16' | 'fp32';
/** 'fused': ORT com.microsoft contrib ops (GroupQueryAttention, …); 'standard': ai.onnx ops only. */
export type ProbeOps = 'fused' | 'standard';
/** How generated weights run: folded once at session creation, or rebuilt on every run. */
export type GenerationMode = 'materialised' | 'live';

export interface ProbeParams {
  /** The `.npas` source and the model or variant to probe. */
  readonly specText: string;
  /** The spec's file, when it has one: its imports are read from disk relative to it (absent: imports are reported, not followed). */
  readonly specPath?: string;
  readonly model: string;
  readonly ep: ExecutionProviderName;
  /** With ep 'cuda': run on CPU when CUDA is unavailable (reported loudly) instead of failing. */
  readonly allowCpuFallback?: boolean;
  readonly batch: number;
  readonly seq: number;
  /** An encoder-decoder's source length (input_ids; the engine's src_seq). Default: seq. */
  readonly srcSeq?: number;
  readonly dtype: ProbeDType;
  /** Device profile of the roofline prediction (engine device name). Default: H100 for cuda, CPU for cpu. */
  readonly device?: string;
  /** Timed runs after warm-up (default 10) and warm-up runs (default 2). */
  readonly runs?: number;
  readonly warmup?: number;
  /** Run once more with ORT profiling and report which provider ran each node. */
  readonly profile?: boolean;
  /** Folder of execution provider libraries (`npas.probe.providerPath`); empty: the bundled ones. */
  readonly providerPath?: string;
  /** CPU threads for the CPU provider (default: ORT's choice). */
  readonly threads?: number;
  /** Which ops the exported graphs use (default 'fused'; docs/probes.md). */
  readonly ops?: ProbeOps;
  /**
   * Generated weights (hash, bank, dict, VB-LoRA, MoS, AS-LoRA): 'materialised' (default) — ORT
   * folds them once at session creation, as inference would; 'live' — rebuilt on every run, so
   * the measured time includes generation (its training-time cost).
   */
  readonly generation?: GenerationMode;
  /** Skip the host-memory pre-check (kernels/probe-memory.ts) and try anyway. */
  readonly ignoreMemory?: boolean;
  /**
   * A prompt of this many tokens (below `seq`) shared by `continuations` continuations of
   * seq − sharedPrefix tokens (docs/language.md, "Shared prompts"): the prefill packs each row as
   * the prompt and the continuations end to end, the decode step runs the k continuations' tokens
   * over the prompt's cache held once (docs/probes.md, "Shared prompts"); absent: none.
   */
  readonly sharedPrefix?: number;
  /** Continuations of the shared prompt (default 2); only with `sharedPrefix`. */
  readonly continuations?: number;
}

/**
 * `npas probe --request FILE`: a probe's parameters as one typed JSON object — what the
 * extension's Run GPU Probe writes, instead of flattening them into flags the CLI would parse
 * back. The spec is read from `specPath` (its imports relative to it). The answer is `--json`'s:
 * a `ProbeResult`, or a `CliJsonFailure`, on stdout. A count may also be written as the flags
 * take it (`"seq": "8Ki"`); a field not named here is refused.
 */
export interface ProbeRequest extends Omit<ProbeParams, 'specText' | 'specPath'> {
  readonly specPath: string;
  /** Seconds before the probe host is killed and the probe reported as timed out (default 600). */
  readonly timeoutSeconds?: number;
}

/**
 * `npas export-onnx --request FILE`: an export's parameters as one typed JSON object (what the
 * extension's Export ONNX writes). The answer is `--json`'s: an `ExportOnnxJson`, or a
 * `CliJsonFailure`, on stdout.
 */
export interface ExportOnnxRequest {
  readonly specPath: string;
  /** The model or variant; may be absent when the spec declares one. */
  readonly model?: string;
  /** The .onnx file to write; may be absent when `graphJson` is given (a graph description only). */
  readonly out?: string;
  readonly dtype?: ProbeDType;
  readonly ops?: ProbeOps;
  readonly generation?: GenerationMode;
  /** A decode step over a KV cache of this many positions (absent: the prefill graph). */
  readonly decodePast?: number;
  /** The decode step's batch (default 1; a prefill graph takes any batch). */
  readonly batch?: number;
  /**
   * Token smashing: the decode step is a micro step (the token joins the group a macro step
   * opened; it reads the macro step's `smashed_state`) instead of the macro step; only with
   * `decodePast` (docs/probes.md, "Token smashing").
   */
  readonly microStep?: boolean;
  /**
   * A prefill packing a prompt of this many tokens with `continuations` continuations per row of
   * input_ids, or with `decodePast` their decode step (docs/probes.md, "Shared prompts"); absent:
   * one sequence per row.
   */
  readonly sharedPrefix?: number;
  /** Continuations of the shared prompt (default 2); only with `sharedPrefix`. */
  readonly continuations?: number;
  /** A JSON description of the graph to write (`--graph-json`), without weights unless `withWeights`. */
  readonly graphJson?: string;
  readonly withWeights?: boolean;
  /** Tensors past this many bytes in all go to external data (default: the protobuf limit). */
  readonly externalThresholdBytes?: number;
  /** Skip the host-memory pre-check. */
  readonly ignoreMemory?: boolean;
}

export interface ProbeProgress {
  readonly stage: 'export' | 'session' | 'warmup' | 'measure' | 'profile';
  readonly message: string;
}

/** A measured latency beside the engine's roofline prediction for the same work. */
export interface Measurement {
  readonly medianMs: number;
  readonly minMs: number;
  readonly runs: number;
  /** The engine's FLOPs and bytes for this work (exact decimal strings). */
  readonly flops: string;
  readonly bytes: string;
  readonly achievedFlopsPerSecond: number;
  readonly achievedBytesPerSecond: number;
  readonly roofline: {
    readonly device: string;
    readonly seconds: number;
    readonly bound: 'compute' | 'memory';
  };
  /** roofline seconds / measured seconds (1 = at the roofline). */
  readonly efficiency: number;
}

export interface ProbeResult {
  readonly model: string;
  readonly ortVersion: string;
  readonly requestedProvider: ExecutionProviderName;
  /** The provider that ran the graph. */
  readonly provider: ExecutionProviderName;
  /** Set, in words, when the requested provider was not used. Never silent. */
  readonly fallback: string | undefined;
  readonly dtype: ProbeDType;
  /** The ops the measured graphs used (absent from hosts that predate the option: standard). */
  readonly ops?: ProbeOps;
  readonly batch: number;
  readonly seq: number;
  /** The source length an encoder-decoder was measured at (absent for other models). */
  readonly srcSeq?: number;
  readonly storedParams: string;
  readonly initializerElements: string;
  readonly export: { readonly ms: number; readonly bytes: number; readonly nodes: number; readonly initializers: number; readonly externalData: boolean };
  readonly sessionCreateMs: number;
  readonly prefill: Measurement;
  /** One decode step with a KV cache of context `seq`, or why it was not measured (with the roofline alone). */
  readonly decode: (Measurement & { readonly kvCacheElements: string; /** Elements of the recurrent layers' states the step reads and writes (Mamba, Mamba-2, Gated DeltaNet). */ readonly recurrentStateElements?: string }) | DecodeUnavailable;
  /** Device memory held by this process (CUDA, from nvidia-smi), or host RSS growth (CPU). */
  readonly memory: { readonly kind: 'gpu' | 'host-rss-growth'; readonly bytes: number } | { readonly kind: 'unavailable'; readonly reason: string };
  /** Nodes per provider from an ORT profile (when requested), or how placement is known. */
  readonly placement: { readonly source: 'profile' | 'strict-session' | 'not-measured'; readonly nodesByProvider: Readonly<Record<string, number>>; readonly note: string };
  /**
   * Set when the model generates weights from stored tensors: how many tensors, the engine's
   * generation multiply-adds per training step (decimal string) and whether the measured prefill
   * and decode include generation ('live') or not ('materialised').
   */
  readonly generation?: { readonly mode: GenerationMode; readonly tensors: number; readonly macs: string; readonly inMeasuredTime: boolean };
  /** Set when a prompt was shared (ProbeParams.sharedPrefix): what the graphs ran beside the engine's figures. */
  readonly sharedPrefix?: SharedPrefixMeasured;
  readonly notes: readonly string[];
}

/**
 * A shared prompt's probe: the packed prefill's row length and the decode step's cache, beside the
 * engine's shared and unshared figures at the probe's settings (exact decimal strings).
 */
export interface SharedPrefixMeasured {
  readonly tokens: number;
  readonly continuations: number;
  /** Tokens per row of the packed prefill's input_ids, P + k·C: the engine's computed tokens per sequence. */
  readonly packedTokens: number;
  /** The same k continuations run apart: k·seq tokens per sequence. */
  readonly unsharedTokens: number;
  /** The engine's forward prefill FLOPs of the batch, shared and apart (the prefill measurement's `flops` is the shared one). */
  readonly prefillFlops: string;
  readonly unsharedPrefillFlops: string;
  /** The engine's KV cache bytes, shared and apart. */
  readonly kvCacheBytes: string;
  readonly unsharedKvCacheBytes: string;
  /** The decode step's cache in the graph: elements and bytes in the graph's dtype (absent when the step was not measured). */
  readonly decodeKvCacheElements?: string;
  readonly decodeKvCacheBytes?: string;
}

export interface DecodeUnavailable {
  readonly unavailable: string;
  readonly roofline: Measurement['roofline'] & { readonly flops: string; readonly bytes: string };
}

export interface HostInfo {
  readonly ortVersion: string;
  readonly nodeVersion: string;
  /** Providers whose libraries are present (cpu always). */
  readonly providers: readonly string[];
  readonly runtimeDir: string;
}

/** Error codes of failed probe requests (JSON-RPC error.data.kind). */
export type ProbeErrorKind =
  | 'spec' // the spec or model cannot be exported (message says why)
  | 'memory' // the model would not fit this machine's memory (message gives the estimate); nothing was drawn
  | 'provider-missing' // the requested execution provider is not installed (message says how to install)
  | 'session' // ORT refused the model or the provider failed to start
  | 'run' // a run failed
  | 'timeout' // the parent's deadline passed (child killed)
  | 'cancelled' // the parent cancelled (child killed)
  | 'crash' // the child died (signal or exit code in the message)
  | 'internal';

/**
 * What `npas export-onnx --json` and `npas probe --json` print on stdout when they fail — every
 * failure, usage and spec errors included — so a caller reads the kind and the message as fields
 * instead of parsing stderr. `message` has no `npas:` or command prefix. `export`: the exporter
 * cannot build the model (an unsupported layer or sharing) or cannot write the file.
 */
export interface CliJsonFailure {
  readonly error: { readonly kind: CliFailureKind; readonly message: string };
}

export type CliFailureKind = ProbeErrorKind | 'export';

export interface JsonRpcRequest {
  readonly jsonrpc: '2.0';
  readonly id?: number;
  readonly method: string;
  readonly params?: unknown;
}

export interface JsonRpcResponse {
  readonly jsonrpc: '2.0';
  readonly id: number;
  readonly result?: unknown;
  readonly error?: { readonly code: number; readonly message: string; readonly data?: { readonly kind: ProbeErrorKind } };
}

/**
 * `npas export-onnx … --json`: what the export wrote, one JSON object on stdout (exact counts as
 * decimal strings), so a caller (the extension's Export to ONNX) reads typed fields instead of
 * the human summary. A failure is a `CliJsonFailure` on stdout (beside the `npas: …` line on
 * stderr, with the same exit code).
 */
export interface ExportOnnxJson {
  readonly model: string;
  /** The .onnx path written, or null for a graph description only (`--graph-json` without `-o`). */
  readonly output: string | null;
  readonly bytes: number;
  /** The external data file beside it, when weights passed the threshold. */
  readonly externalData: string | null;
  readonly externalBytes: number;
  readonly dtype: ProbeDType;
  readonly ops: ProbeOps;
  readonly generation: GenerationMode;
  readonly initializers: number;
  /** Elements in the initializers: equal to `storedParams` (minus `skippedParams` for a decode step of an encoder-decoder). */
  readonly initializerElements: string;
  readonly storedParams: string;
  readonly skippedParams: string;
  readonly matchesStored: boolean;
  readonly nodes: number;
  readonly generatedTensors: number;
}
