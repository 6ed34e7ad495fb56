// JSON-safe summaries of every model and variant: the budget report with every bigint written
// as a decimal string (JSON numbers are doubles; counts can pass 2^53), for the status bar,
// Compare Variants and Export Report. Ranges stay offsets here; the server turns them into
// positions (src/protocol/lsp-extensions.ts has the wire shapes).

import { decimalCounts, decimalTree } from '../analysis/decimal-report.js';
import type { AnalysisResult } from '../analysis/analyze.js';
import type { LatencyEstimate, ModelReport, NodeReport, ParamCounts } from '../analysis/report-types.js';
import type { TextRange } from '../syntax/syntax-tree.js';

export interface ParamCountsSummary {
  readonly stored: string;
  readonly effective: string;
  readonly active: string;
  readonly trainable: string;
}

export interface LatencySummary {
  readonly seconds: number;
  readonly bound: 'compute' | 'memory';
  readonly flops: string;
  readonly bytes: string;
}

export interface TreeSummary {
  readonly name: string;
  readonly kind: NodeReport['kind'];
  readonly type: string;
  /** Decimal strings: instance counts are exact at any size. */
  readonly count: string;
  readonly firstIndex: string;
  readonly params: ParamCountsSummary;
  readonly flopsPerToken: string;
  readonly range: TextRange;
  readonly children: readonly TreeSummary[];
}

export interface ModelSummary {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  readonly base: string | null;
  readonly range: TextRange;
  readonly params: ParamCountsSummary;
  readonly flops: {
    readonly unit: 'token' | 'sample';
    readonly prefill: string;
    readonly prefillPerToken: string;
    readonly decode: string;
    readonly trainPerToken: string;
    readonly generationPerStep: string;
  };
  readonly kvCacheBytes: string;
  readonly memory: {
    readonly weightBytes: string;
    readonly kvCacheBytes: string;
    readonly inferenceBytes: string;
    readonly trainingBytes: string;
    readonly activationBytes: string;
  };
  readonly latency: { readonly device: string; readonly prefill: LatencySummary; readonly decode: LatencySummary };
  readonly budgets: readonly { readonly constraint: string; readonly limit: string; readonly value: string; readonly ok: boolean; readonly range: TextRange }[];
  readonly tree?: TreeSummary;
}

/** One summary per model and variant, in file order; with each model's tree when asked. */
export function summarizeModels(analysis: AnalysisResult, options: { readonly includeTree?: boolean } = {}): ModelSummary[] {
  return analysis.models.map((m) => summarize(m, options.includeTree === true));
}

function summarize(m: ModelReport, includeTree: boolean): ModelSummary {
  const summary: ModelSummary = {
    name: m.name,
    kind: m.kind,
    base: m.base ?? null,
    range: m.range,
    params: params(m.params),
    flops: {
      unit: m.flops.unit,
      prefill: m.flops.prefill.toString(),
      prefillPerToken: m.flops.prefillPerToken,
      decode: m.flops.decode.toString(),
      trainPerToken: m.flops.trainPerToken,
      generationPerStep: m.flops.generationPerStep.toString(),
    },
    kvCacheBytes: m.kvCacheBytes.toString(),
    memory: {
      weightBytes: m.memory.weightBytes.toString(),
      kvCacheBytes: m.memory.kvCacheBytes.toString(),
      inferenceBytes: m.memory.inferenceBytes.toString(),
      trainingBytes: m.memory.trainingBytes.toString(),
      activationBytes: m.memory.activationBytes.toString(),
    },
    latency: { device: m.latency.device, prefill: latency(m.latency.prefill), decode: latency(m.latency.decode) },
    budgets: m.budgets.map((b) => ({ constraint: b.constraint, limit: b.limit, value: b.value, ok: b.ok, range: b.range })),
  };
  return includeTree ? { ...summary, tree: tree(m.tree) } : summary;
}

const params = (p: ParamCounts): ParamCountsSummary => decimalCounts(p);

function latency(l: LatencyEstimate): LatencySummary {
  return { seconds: l.seconds, bound: l.bound, flops: l.flops.toString(), bytes: l.bytes.toString() };
}

const tree = (n: NodeReport): TreeSummary => decimalTree(n);
