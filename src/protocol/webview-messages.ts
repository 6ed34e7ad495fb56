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

export type ViewId = 'architecture' | 'budget' | 'variants' | 'allocation' | 'probe';
export const VIEW_IDS: readonly ViewId[] = ['architecture', 'budget', 'variants', 'allocation', 'probe'];

/** Results of the NPAS allocator, when that feature exists: a layers × groups matrix. */
export interface AllocationData {
  readonly model: string;
  readonly layers: readonly string[];
  readonly groups: readonly string[];
  /** cells[layer][group]: parameters allocated (exact decimal). */
  readonly cells: readonly (readonly string[])[];
}

/** Results of a GPU probe, when that feature exists: measured against roofline. */
export interface ProbeData {
  readonly model: string;
  readonly device: string;
  readonly rows: readonly { readonly phase: string; readonly measuredSeconds: number; readonly rooflineSeconds: number }[];
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

export type HostToWebview = UpdateMessage | ShowMessage | AllocationMessage | ProbeMessage | ErrorMessage;

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

export type WebviewToHost = ReadyMessage | RevealMessage | ExportMessage | LogMessage;

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
}
