// The engine's one-shot entry point: source text in, diagnostics and one budget report per model
// and variant out. A host that asks several questions of the same text (the language server,
// the dashboard, `npas report`) keeps the `Compilation` instead. Pure; never throws.

import { compile, type AnalysisResult } from './compilation.js';
import type { AnalysisOptions } from './report-types.js';

export { DEFAULT_OPTIONS, type AnalysisResult } from './compilation.js';

/** Analyses a `.npas` source at given settings. Never throws. */
export function analyze(text: string, options: Partial<AnalysisOptions> = {}): AnalysisResult {
  return compile(text).analysis(options);
}
