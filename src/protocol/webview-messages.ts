// The typed protocol between the extension host (or the standalone report's bootstrap) and
// the dashboard webview. Types only: validation lives in webview/protocol.ts, which both sides
// can import (it touches no DOM). Every message is a plain JSON object with a `type`
// discriminant; exact counts travel as decimal strings (see src/core/layout/types.ts).
//
// Handshake: the webview posts `ready` once its message listener is installed; the host
// answers with `update` (and again, debounced, after every edit while the panel is visible).
// A message that fails validation is logged and dropped on either side, never acted on.

import type { DashboardData, Range } from '../core/layout/types.js';

export const PROTOCOL_VERSION = 1;

export type ViewId = 'architecture' | 'budget' | 'variants' | 'plan' | 'allocation' | 'probe';
export const VIEW_IDS: readonly ViewId[] = ['architecture', 'budget', 'variants', 'plan', 'allocation', 'probe'];

/** How one weight is generated from its group's store (src/core/allocation `Generator`). */
export type AllocationGeneratorKind = 'direct' | 'mix' | 'slice' | 'interpolate' | 'tile' | 'hash';
export const ALLOCATION_GENERATOR_KINDS: readonly AllocationGeneratorKind[] = ['direct', 'mix', 'slice', 'interpolate', 'tile', 'hash'];

/** One group (store) of an NPAS plan. Counts are exact decimal strings. */
export interface AllocationGroupData {
  readonly id: string;
  /** Store size P_g (for a direct group: the weight itself). */
  readonly params: string;
  /** Σ |W| of the weights it generates. */
  readonly demand: string;
  /** Store entries no weight reads (0 in every plan the allocator returns). */
  readonly unused: string;
  /** Entries the SSN reference layout would leave unread in the same store. */
  readonly referenceUnused: string;
  /** A singleton group that stores its weight whole. */
  readonly direct: boolean;
  /** Weights it generates (rows of the matrix that read it). */
  readonly weights: number;
}

/** One generated weight (a row of the matrix), in model order. */
export interface AllocationLayerData {
  /** `body[3].attn.q` */
  readonly path: string;
  readonly shape: readonly number[];
  /** Its group's id (a column of the matrix). */
  readonly group: string;
  readonly generator: {
    readonly kind: AllocationGeneratorKind;
    /** Templates K (1 for direct, slice, interpolate, tile, single-template hash). */
    readonly templates: number;
    /** Mixing coefficients it owns in the checkpoint (counted in stored). */
    readonly coefficients: number;
  };
}

/**
 * An NPAS plan as the Allocation pane draws it: a layers × groups matrix. `stored` equals
 * `target`, and stores + coefficients + fixed equal `stored` exactly: the validator refuses a
 * plan where they do not.
 */
export interface AllocationData {
  readonly model: string;
  /** The spec's file name. */
  readonly source: string;
  readonly target: string;
  readonly stored: string;
  /** Σ group params. */
  readonly stores: string;
  readonly coefficients: string;
  /** Norms, biases, routers: stored as they are. */
  readonly fixed: string;
  readonly demand: string;
  readonly unused: string;
  readonly referenceUnused: string;
  readonly minimum: string;
  readonly generationMacs: string;
  /** `shape`, `depth:4`, … and why (`auto` states its rule). */
  readonly grouping: string;
  readonly groupingReason: string;
  readonly method: 'wavg' | 'repeat' | 'hash';
  readonly regime: 'low' | 'high';
  readonly groups: readonly AllocationGroupData[];
  readonly layers: readonly AllocationLayerData[];
  /** The variant Apply would append, if the host offers it. */
  readonly variantName: string | null;
}

/** One measured phase beside the roofline (kernel-rpc `Measurement`, flattened). */
export interface ProbePhaseData {
  readonly phase: 'prefill' | 'decode';
  /** What was run: `prefill (1×128 tokens)`, `decode step (KV context 128)`. */
  readonly label: string;
  /** Median and fastest of the timed runs, null when the phase was not measured. */
  readonly measuredMs: number | null;
  readonly minMs: number | null;
  readonly runs: number;
  readonly rooflineMs: number;
  readonly bound: 'compute' | 'memory';
  /** The engine's FLOPs and bytes for this work (exact decimal strings). */
  readonly flops: string;
  readonly bytes: string;
  readonly achievedFlopsPerSecond: number | null;
  readonly achievedBytesPerSecond: number | null;
  /** Why the phase was not measured (a bidirectional model has no decode step). */
  readonly unavailable: string | null;
  /**
   * A measured decode step: the elements it reads besides the weights — the KV cache of its
   * context, and the recurrent layers' states (Mamba, Mamba-2, Gated DeltaNet) it reads and
   * writes — exact decimal strings. Absent for the prefill and an unmeasured step (and from
   * results saved before it existed).
   */
  readonly stepState?: { readonly kvCacheElements: string; readonly recurrentStateElements: string };
}

/** A probe result as the Probe pane draws it: measured against the roofline. */
export interface ProbeData {
  readonly model: string;
  readonly source: string;
  readonly ortVersion: string;
  readonly requestedProvider: 'cuda' | 'cpu';
  /** The provider that ran the graph. */
  readonly provider: 'cuda' | 'cpu';
  /** Set when the requested provider was not used (a CPU fallback): shown loudly. Never silent. */
  readonly fallback: string | null;
  /** Said beside the numbers when the CPU was asked for (CPU numbers, not GPU numbers). */
  readonly providerNote: string | null;
  /** The roofline's device profile. */
  readonly device: string;
  readonly dtype: 'fp16' | 'fp32';
  readonly batch: number;
  readonly seq: number;
  readonly sessionCreateMs: number;
  readonly storedParams: string;
  readonly initializerElements: string;
  /** In words: `512.0 MiB (GPU memory of the probe process)`, or why it was not measured. */
  readonly memory: string;
  /** In words: nodes per provider and how that is known. */
  readonly placement: string;
  readonly phases: readonly ProbePhaseData[];
  readonly notes: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Host → webview
// ---------------------------------------------------------------------------------------------

/** The analysis of the spec the dashboard follows (sent after `ready` and after each edit). */
export interface UpdateMessage {
  readonly type: 'update';
  readonly data: DashboardData;
}

/** Show a view (and optionally a model), e.g. from a command such as `npas.compareVariants`. */
export interface ShowMessage {
  readonly type: 'show';
  readonly view: ViewId;
  readonly model?: string;
}

export interface AllocationMessage {
  readonly type: 'allocation';
  readonly result: AllocationData | null;
}

export interface ProbeMessage {
  readonly type: 'probe';
  readonly result: ProbeData | null;
}

/** The followed document could not be analysed at all (unreadable, closed). */
export interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
}

/**
 * The language server's `npas/dashboardData` answer forwarded as it came (`encoded`: the data as
 * base64 of its gzipped UTF-8 JSON, `DashboardDataAnswer`): the page decodes and validates it
 * into an `update` (webview/protocol.ts, decodeHostMessage), so the host's thread never decodes the data.
 */
export interface EncodedUpdateMessage {
  readonly type: 'update';
  readonly encoded: string;
}

/** A host message as the page works with it, after validation (an encoded update decoded). */
export type HostToWebview = UpdateMessage | ShowMessage | AllocationMessage | ProbeMessage | ErrorMessage;

/** A host message as the host posts it. */
export type HostToWebviewPosted = HostToWebview | EncodedUpdateMessage;

// ---------------------------------------------------------------------------------------------
// Webview → host
// ---------------------------------------------------------------------------------------------

/** The webview's listener is installed; the host should send `update`. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly protocol: number;
}

/** Reveal a declaration in the spec's editor (a click on a node, a budget line, a table row). */
export interface RevealMessage {
  readonly type: 'reveal';
  readonly range: Range;
}

/** Save an exported view. `data` is SVG text, or a PNG as a `data:image/png;base64,` URL. */
export interface ExportMessage {
  readonly type: 'export';
  readonly format: 'svg' | 'png';
  readonly fileName: string;
  readonly data: string;
}

/** A problem the webview saw (a malformed message, a rendering failure), for the output channel. */
export interface LogMessage {
  readonly type: 'log';
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

/** The webview validated an allocation plan or probe result and drew it in its pane (once per result; what the host's tests wait on). */
export interface ReceivedMessage {
  readonly type: 'received';
  readonly kind: 'allocation' | 'probe';
  readonly model: string;
  /** Rows of the pane's table: weights of the plan, phases of the probe. */
  readonly rows: number;
}

export type WebviewToHost = ReadyMessage | RevealMessage | ExportMessage | LogMessage | ReceivedMessage;

// ---------------------------------------------------------------------------------------------
// Persisted webview state (vscode.setState / the panel serializer's `state` argument)
// ---------------------------------------------------------------------------------------------

export interface DashboardState {
  readonly version: number;
  readonly view: ViewId;
  /** Selected model or variant (by name). */
  readonly model: string | null;
  /** Collapsed stacks per model; absent: the default (long stacks collapsed). */
  readonly collapsed: Readonly<Record<string, readonly string[]>>;
  readonly variantsAxis: 'kv' | 'flops';
  readonly sort: { readonly key: string; readonly descending: boolean };
  /** Standalone report only: the chosen theme. */
  readonly theme: 'dark' | 'light' | null;
  /** The last data received, so a restored panel draws before the host answers. */
  readonly data: DashboardData | null;
  /** The last allocation plan and probe result received (kept across reloads). */
  readonly allocation: AllocationData | null;
  readonly probe: ProbeData | null;
}
