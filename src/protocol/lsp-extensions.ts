// The NPAS extensions to the Language Server Protocol, shared by the language server
// (src/server) and the VS Code client (src/extension): method names, command ids and the JSON
// shapes they carry. Types and constants only — no logic, no imports — so either side can
// depend on this file without pulling in the other (or the engine).
//
// Exact counts travel as decimal strings: JSON numbers are doubles and a parameter count or a
// FLOP total can exceed 2^53 (see test/fixtures/specs/huge.npas).

/** A zero-based position, as LSP counts it (UTF-16 code units within the line). */
export interface ProtocolPosition {
  readonly line: number;
  readonly character: number;
}

/** A half-open range of positions, as in LSP. */
export interface ProtocolRange {
  readonly start: ProtocolPosition;
  readonly end: ProtocolPosition;
}

/**
 * `npas/dashboardData`: the dashboard's data (`DashboardData`, src/core/layout/types.ts: exact
 * counts as decimal strings, ranges as engine offsets) for one open document at the server's
 * settings, built from the server's compilation of the document's current version, so the
 * extension host runs no engine work while a user edits.
 */
export const DASHBOARD_DATA_METHOD = 'npas/dashboardData';

export interface DashboardDataParams {
  /** The document's URI; the server answers from its open copy (unsaved edits included). */
  readonly uri: string;
  /** The spec's name as the dashboard shows it. */
  readonly source: string;
  /**
   * The settings to measure at (the client's validated `npas.analysis`, sent along so a
   * settings change cannot race the request); the server's own when absent.
   */
  readonly settings?: AnalysisSettingsJson;
}

/**
 * `npas/dashboardData`'s answer: what the host reports of the data (names, errors) beside the
 * data itself, encoded once by the server so the host forwards it to the page untouched: it
 * never decodes the data on its thread, and a 10,000-layer spec's 4.6 MB of JSON crosses it as
 * about 290 KB (gzip, then base64: no character JSON escapes, one plain string to copy).
 */
export interface DashboardDataAnswer {
  /** The models and variants, in file order. */
  readonly models: readonly string[];
  /** The spec's error count. */
  readonly errors: number;
  /**
   * The files the compilation read through the document's imports, directly or through other
   * files (docs/language.md, "Imports"), the ones they import first, as the URIs the server reads
   * them by: the dashboard follows them, so an edit to a library updates its importer's dashboard.
   */
  readonly imports: readonly string[];
  /** The `DashboardData` (src/core/layout/types.ts) as base64 of its gzipped UTF-8 JSON; the page decodes and validates it. */
  readonly encoded: string;
}

/** `npas/modelReports`: the budget report of every model and variant of one open document. */
export const MODEL_REPORTS_METHOD = 'npas/modelReports';

export interface ModelReportsParams {
  /** The document's URI; the server answers from its open copy (unsaved edits included). */
  readonly uri: string;
  /** Also send each model's module tree (model → stack → run → block → layer), default false. */
  readonly includeTree?: boolean;
}

/** The answer: `models` is empty (never an error) when the document is not open or does not parse. */
export interface ModelReportsResult {
  readonly uri: string;
  /** The document version the reports were computed from; null when the document is not open. */
  readonly version: number | null;
  /** The settings the numbers were computed at. */
  readonly settings: AnalysisSettingsJson;
  /** One summary per model and variant, in file order. */
  readonly models: readonly ModelSummaryJson[];
  /** How many error diagnostics the document has (a report of a broken spec is partial). */
  readonly errorCount: number;
}

/**
 * `npas/budgetReport`: the budget report of one open document, exactly as `npas budget FILE
 * --json` writes it (one writer, core/analysis/budget-json.ts), from the server's compilation of
 * the document's current version at the server's settings (the ones its diagnostics and hovers
 * use: per-class and per-path dtypes, the devices file). Export Budget Report writes it to a file.
 */
export const BUDGET_REPORT_METHOD = 'npas/budgetReport';

export interface BudgetReportParams {
  /** The document's URI; the server answers from its open copy (unsaved edits included). */
  readonly uri: string;
}

/**
 * The answer; null when the document is not open. A spec with errors (a violated budget is a
 * result, not an error) has no report: its errors are listed instead, as its diagnostics say them.
 */
export type BudgetReportAnswer =
  | {
      readonly kind: 'report';
      /** The report's JSON text, exact integers as JSON integers: byte for byte what the CLI prints for the same text and settings. */
      readonly json: string;
      /** How many models and variants it reports, and how many of their budget constraints are violated. */
      readonly models: number;
      readonly violated: number;
      /** The settings it was measured at. */
      readonly settings: AnalysisSettingsJson;
    }
  | { readonly kind: 'errors'; readonly errors: readonly BudgetReportErrorJson[] };

/** One error that keeps a spec from being reported, located in the requested document. */
export interface BudgetReportErrorJson {
  readonly code: string;
  readonly message: string;
  readonly range: ProtocolRange;
}

/**
 * `npas/childProgram`: the texts a child process (`npas export-onnx`, `npas probe`) must read to
 * compile what the editor shows, from the server's compilation of the document's current version:
 * the document's text and every file its imports reach, each as the server read it (open
 * documents first, then disk), so Export ONNX and Run GPU Probe write scratch copies of unsaved
 * edits without the extension host compiling anything; and, for a probe, the fingerprint of the
 * probed model's text (core/service/model-fingerprint.ts), by which the server later judges a
 * measurement current.
 */
export const CHILD_PROGRAM_METHOD = 'npas/childProgram';

export interface ChildProgramParams {
  readonly uri: string;
  /** The model or variant a probe measures: its fingerprint is answered too. */
  readonly model?: string;
}

/** The answer; null when the document is not open. */
export interface ChildProgramAnswer {
  /** The document version the texts are of. */
  readonly version: number;
  readonly text: string;
  /** The files the document's imports reach, by the server's source id (the document URI an import resolves to), with their texts. */
  readonly imported: readonly { readonly uri: string; readonly text: string }[];
  /** `model`'s fingerprint in `text`; absent without `model` or when the text declares no such model. */
  readonly fingerprint?: string;
}

/**
 * `npas/allocationInput`: what the allocator (src/core/allocation) reads of one model of an open
 * document, summed, for Allocate Parameters' budget prompt: from the server's compilation of the
 * document's current version. Counts are plain numbers: the allocator refuses models past 2^53.
 */
export const ALLOCATION_INPUT_METHOD = 'npas/allocationInput';

export interface AllocationInputParams {
  readonly uri: string;
  readonly model: string;
}

/** The answer; null when the document is not open. */
export type AllocationInputAnswer =
  | {
      readonly ok: true;
      /** The model's stored parameters as the allocator counts them (its weights and what it keeps fixed). */
      readonly stored: number;
      /** The smallest budget the allocator can take: the fixed parameters and one more. */
      readonly minimum: number;
    }
  | { readonly ok: false; readonly message: string };

/**
 * `npas/allocate`: an NPAS allocation plan for one model of an open document at an exact
 * parameter budget, and the variant that writes it, from the server's compilation of the
 * document's current version (as `npas allocate FILE --model M --params N --groups G --method K --emit`).
 */
export const ALLOCATE_METHOD = 'npas/allocate';

export interface AllocateParams {
  readonly uri: string;
  readonly model: string;
  /** Exact stored parameters the plan must reach. */
  readonly target: number;
  /** As `npas allocate --groups`: `auto`, `all`, `shape`, `role`, `depth:K`, `cluster:K` (a checkpoint grouping reads a file: the CLI's alone). */
  readonly grouping: string;
  /** As `npas allocate --method`: `wavg`, `wavg(K)`, `repeat`, `hash`. */
  readonly method: string;
}

/** The answer; null when the document is not open. The plan is the core's `AllocationPlan` (src/core/allocation/types.ts), JSON as it is. */
export type AllocateAnswer<Plan = unknown> =
  | {
      readonly ok: true;
      readonly plan: Plan;
      /** A variant name the document does not use yet, and the variant declaring the plan under it. */
      readonly variantName: string;
      readonly variantText: string;
    }
  | { readonly ok: false; readonly message: string; readonly minimum?: number };

/** The analysis settings (`npas.analysis.*`) after validation. */
export interface AnalysisSettingsJson {
  readonly sequenceLength: number;
  readonly batchSize: number;
  readonly dtype: string;
  readonly device: string;
  /** One dtype per tensor class (PRECISION_SETTING_KEYS); 'default' or absent: the model's `precision` statement, else `dtype` and the engine's rules. */
  readonly weightsDtype?: string;
  readonly expertsDtype?: string;
  readonly kvDtype?: string;
  readonly activationsDtype?: string;
  readonly computeDtype?: string;
  readonly gradientsDtype?: string;
  readonly masterDtype?: string;
  readonly optimizerDtype?: string;
  /** Weights stored in a dtype of their own, by path (`{ "embed": "int8", "body.attn": "fp8" }`), after the spec's `precision weights` statements. */
  readonly weightsDtypeByPath?: Readonly<Record<string, string>>;
  /** A devices JSON file (as `npas budget --devices`), an absolute path; '' or absent: none. */
  readonly devicesFile?: string;
  /** A prompt of this many tokens shared by `continuations` continuations (`npas budget --shared-prefix`); absent: none. */
  readonly sharedPrefixTokens?: number;
  /** Continuations of the shared prompt; present with `sharedPrefixTokens`. */
  readonly continuations?: number;
}

/** The per-class dtype settings under `npas.analysis`, by the engine's precision class. */
export const PRECISION_SETTING_KEYS = {
  weights: 'weightsDtype',
  experts: 'expertsDtype',
  kv: 'kvDtype',
  activations: 'activationsDtype',
  compute: 'computeDtype',
  gradients: 'gradientsDtype',
  master: 'masterDtype',
  optimizer: 'optimizerDtype',
} as const;

/** The value of a per-class dtype setting that sets nothing. */
export const DEFAULT_PRECISION_SETTING = 'default';

export interface ParamCountsJson {
  readonly stored: string;
  readonly effective: string;
  readonly active: string;
  readonly trainable: string;
}

/** FLOPs, a multiply-add counted as 2. */
export interface FlopsJson {
  /** `token` for sequence models, `sample` for convolutional ones. */
  readonly unit: 'token' | 'sample';
  /** Forward FLOPs of a causal prefill of `sequenceLength` tokens. */
  readonly prefill: string;
  /** `prefill / sequenceLength`, an exact decimal (may have a fraction). */
  readonly prefillPerToken: string;
  /** One decode step attending to `sequenceLength` cached positions. */
  readonly decode: string;
  /** Training FLOPs per token (forward + backward + weight generation), an exact decimal. */
  readonly trainPerToken: string;
  readonly generationPerStep: string;
}

export interface MemoryJson {
  readonly weightBytes: string;
  readonly kvCacheBytes: string;
  readonly inferenceBytes: string;
  readonly trainingBytes: string;
  readonly activationBytes: string;
}

/** A roofline estimate: max(FLOPs / peak, bytes / bandwidth) on the device. */
export interface LatencyEstimateJson {
  readonly seconds: number;
  readonly bound: 'compute' | 'memory';
  readonly flops: string;
  readonly bytes: string;
}

export interface LatencyJson {
  readonly device: string;
  readonly prefill: LatencyEstimateJson;
  readonly decode: LatencyEstimateJson;
}

export interface BudgetJson {
  /** The constraint as written, e.g. `params.stored <= 1.6B`. */
  readonly constraint: string;
  /** Limit and measured value in the metric's unit (count, bytes or seconds), decimal strings. */
  readonly limit: string;
  readonly value: string;
  readonly ok: boolean;
  readonly range: ProtocolRange;
}

/** One node of a model's module tree (sent when `includeTree` is set). */
export interface ModelTreeNodeJson {
  readonly name: string;
  readonly kind: 'model' | 'stack' | 'block' | 'layer' | 'weight';
  /** Layer kind or block name. */
  readonly type: string;
  /** For stack runs: how many consecutive identical instances this node stands for, and the
   * first one's index: decimal strings, exact beyond 2^53. */
  readonly count: string;
  readonly firstIndex: string;
  readonly params: ParamCountsJson;
  /** Forward FLOPs per token of this subtree, excluding attention's context term. */
  readonly flopsPerToken: string;
  readonly range: ProtocolRange;
  readonly children: readonly ModelTreeNodeJson[];
}

export interface ModelSummaryJson {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  /** For variants: the model or variant it derives from; null for models. */
  readonly base: string | null;
  /** The range of the declaration's name. */
  readonly range: ProtocolRange;
  readonly params: ParamCountsJson;
  readonly flops: FlopsJson;
  /** KV cache bytes at (sequenceLength, batchSize, dtype). */
  readonly kvCacheBytes: string;
  readonly memory: MemoryJson;
  readonly latency: LatencyJson;
  readonly budgets: readonly BudgetJson[];
  /** Present only when the request set `includeTree`. */
  readonly tree?: ModelTreeNodeJson;
}

/**
 * The command a model's code lens runs; arguments `[modelName, documentUri]`. The client
 * registers it (the dashboard); the server only names it.
 */
export const SHOW_DASHBOARD_COMMAND = 'npas.showDashboard';

/**
 * The command the code action "Allocate N parameters to NAME…" runs (on a `model NAME` or
 * `variant NAME` line); arguments `[{ model, document }]` (the extension's `AllocateArgs`). The
 * client registers it; the server only names it.
 */
export const ALLOCATE_COMMAND = 'npas.allocate';

/**
 * `npas/probeMeasured` (client → server notification): a probe of one model of an open document
 * succeeded (NPAS: Run GPU Probe runs in the extension, not in the server). The server keeps the
 * latest measurement per (document, model), shows it in the hover on the model's name and in a
 * code lens, and forgets it when the document closes (the extension keeps the latest ones in its
 * workspace state and sends them again when the document opens or the server starts). It
 * validates the notification like any other message: a malformed one is logged and dropped.
 */
export const PROBE_MEASURED_NOTIFICATION = 'npas/probeMeasured';

export interface ProbeMeasuredParams {
  readonly uri: string;
  /**
   * The document version whose text was probed. When the server's copy is already at another
   * version, the measurement is kept but shown as measured on an earlier version; absent, the
   * server's current version is assumed.
   */
  readonly version?: number;
  /**
   * The identity of the probed text: `modelFingerprint(text, parse(text).file, model)`
   * (model-fingerprint.ts), 64 lowercase hex digits. When present it decides staleness and
   * `version` is not used: the measurement is current while the model's fingerprint in the
   * server's text equals it (an edit to another model or a budget keeps it current), whatever the
   * versions — after a window reload the extension re-sends stored measurements, and versions
   * restart. With it, the server also keeps a measurement that arrives before the document's
   * didOpen.
   */
  readonly modelFingerprint?: string;
  readonly measurement: ProbeMeasurementJson;
}

/** One probe's numbers, as the editor shows them (milliseconds, rates per second, floating point). */
export interface ProbeMeasurementJson {
  readonly model: string;
  readonly requestedProvider: 'cuda' | 'cpu';
  /** The provider that ran the graph. */
  readonly provider: 'cuda' | 'cpu';
  /** Set, in words, when the requested provider was not used (a CPU fallback); never silent. */
  readonly fallback: string | null;
  /** The engine's device profile the roofline was computed on (`H100`, `CPU`). */
  readonly device: string;
  readonly dtype: 'fp32' | 'fp16';
  readonly batch: number;
  readonly seq: number;
  readonly ortVersion: string;
  readonly prefill: ProbePhaseJson;
  /** One decode step with a KV cache of context `seq`; `medianMs` null when not measurable. */
  readonly decode: ProbePhaseJson;
  readonly memory: { readonly kind: 'gpu' | 'host-rss-growth'; readonly bytes: number } | { readonly kind: 'unavailable'; readonly reason: string };
  readonly sessionCreateMs: number;
  /** When the probe finished, ISO 8601. */
  readonly measuredAt: string;
}

export interface ProbePhaseJson {
  /** Median of the timed runs; null when the phase was not measured (see `unavailable`). */
  readonly medianMs: number | null;
  readonly minMs: number | null;
  /** The engine's roofline for the same work on `device`. */
  readonly rooflineMs: number;
  readonly bound: 'compute' | 'memory';
  readonly achievedFlopsPerSecond: number | null;
  readonly achievedBytesPerSecond: number | null;
  /** Why the phase was not measured (a bidirectional model has no decode step); null when measured. */
  readonly unavailable: string | null;
}
