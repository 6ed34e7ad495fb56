// A model's own dtypes: `precision weights: bf16, experts: mxfp4, kv: fp8` declares the format a
// model is stored and run in (GPT-OSS ships MXFP4 experts beside bf16 attention), as a setting
// of the model rather than of every command line. Precedence, per tensor class: a class set in
// the analysis settings (`--experts-dtype`, a budget's `experts_dtype`, the editor's setting)
// wins; then the model's statement (a variant's statements after its base's, the last one per
// class winning); then the settings' `dtype` shorthand and precision.ts's rules.

import type { DiagnosticSink } from '../diagnostics/diagnostic.js';
import type { Statement } from '../syntax/syntax-tree.js';
import { DTYPE_NAMES, isDType } from './dtypes.js';
import { PRECISION_CLASSES } from './precision.js';
import type { AnalysisOptions, Precision } from './report-types.js';

type MutablePrecision = { -readonly [K in keyof Precision]?: Precision[K] };

/** The classes the `precision` statements set; a bad class or dtype is reported (once per range) and skipped. */
export function readModelPrecision(statements: readonly Statement[], sink: DiagnosticSink): Partial<Precision> {
  const out: MutablePrecision = {};
  const report = (message: string, range: { start: number; end: number }): void => {
    // A variant repeats its base's statements: report each problem once.
    if (!sink.items.some((d) => d.code === 'npas-precision' && d.range.start === range.start && d.range.end === range.end)) sink.error('npas-precision', message, range);
  };
  for (const s of statements) {
    // `precision weights PATHS: dtype` is a per-path override (precision-scheme.ts), not a class setting.
    if (s.keyword !== 'precision' || s.modifier) continue;
    if (s.args.length === 0) report(`precision needs at least one class: ${PRECISION_CLASSES.map((c) => `${c}: T`).join(', ')}`, s.keywordRange);
    for (const a of s.args) {
      const cls = a.name?.text;
      if (!cls || !(PRECISION_CLASSES as readonly string[]).includes(cls)) {
        report(`${cls ? `unknown tensor class '${cls}'` : 'a precision setting names its tensor class'} (use ${PRECISION_CLASSES.join(', ')})`, a.name?.range ?? a.range);
        continue;
      }
      const v = a.value.kind === 'Name' ? a.value.name.text : a.value.kind === 'String' ? a.value.value : a.value.kind === 'None' ? 'none' : undefined;
      const c = cls as keyof Precision;
      if (c === 'master' && v === 'none') out.master = 'none';
      else if (v !== undefined && isDType(v)) out[c] = v;
      else report(`${cls} must be one of ${DTYPE_NAMES.join(', ')}${c === 'master' ? ' or none' : ''}`, a.value.range);
    }
  }
  return out;
}

/** The settings with the model's declared classes under the ones the settings set themselves. */
export function withModelPrecision(options: AnalysisOptions, declared: Partial<Precision>): AnalysisOptions {
  if (Object.keys(declared).length === 0) return options;
  const precision: MutablePrecision = { ...declared };
  for (const [k, v] of Object.entries(options.precision ?? {})) if (v !== undefined) (precision as Record<string, unknown>)[k] = v;
  return { ...options, precision };
}
