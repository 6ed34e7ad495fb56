// From a spec's text to what plans evaluate: the engine's report of one model or variant at the
// plan's sequence length, and its pipeline view with the stores its instances share.

import { compile, type Compilation } from '../analysis/compilation.js';
import type { DType, ModelReport } from '../analysis/report-types.js';
import { blocksMeasurement, type Diagnostic } from '../diagnostics/diagnostic.js';
import { pipelineModel, type PipelineModel } from './pipeline-units.js';
import { sharedStores } from './shared-stores.js';
import type { DecodeReadsAt, KvAt } from './serving.js';

export type PlanSource =
  | { readonly ok: true; readonly report: ModelReport; readonly model: PipelineModel; readonly kvAt: KvAt; readonly decodeReadsAt: DecodeReadsAt }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[]; readonly message: string };

/** Analyses a spec (text, or its compilation) at (seq, batch 1, dtype) and returns model `name` (the first model when undefined). */
export function planSource(source: string | Compilation, name: string | undefined, seq: number, dtype: DType): PlanSource {
  const compilation = typeof source === 'string' ? compile(source) : source;
  const result = compilation.analysis({ seq, batch: 1, dtype });
  const errors = result.diagnostics.filter(blocksMeasurement);
  if (errors.length > 0) return { ok: false, diagnostics: errors, message: `the spec has ${errors.length} error(s)` };
  const report = name === undefined ? result.models[0] : result.models.find((m) => m.name === name);
  if (!report) {
    const have = result.models.map((m) => m.name).join(', ') || 'none';
    return { ok: false, diagnostics: [], message: name === undefined ? 'the spec declares no model' : `no model or variant named '${name}' (have: ${have})` };
  }
  const compiled = compilation.model(report.name)!;
  // Other (seq, batch) points are metrics of the same compilation, never a second analysis.
  const kvAt: KvAt = (s, b) => {
    const at = compilation.metricsAt(compiled, { ...report.options, seq: s, batch: b });
    return at.kvCacheBytes + at.recurrentStateBytes;
  };
  const decodeReadsAt: DecodeReadsAt = (b) => {
    const at = compilation.metricsAt(compiled, { ...report.options, batch: b });
    const reads = at.latency.decode.bytes - at.kvCacheBytes - at.recurrentStateBytes;
    return reads > 0n ? reads : 0n;
  };
  const model = pipelineModel(report, sharedStores(compiled));
  if (model.refusal !== undefined) return { ok: false, diagnostics: [], message: model.refusal };
  return { ok: true, report, model, kvAt, decodeReadsAt };
}
