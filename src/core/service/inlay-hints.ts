// Inlay hints: the evaluated value after a constant whose value is not a literal
// (`ff = 4 * d` shows `= 8,192`), and the length after a stack whose length is not written
// as a literal count (`Decoder * L` shows `×18`). Values come from the analysis itself, in the
// model or variant that declares the binding, so a hint is exactly what the engine used.

import { inCompiledFile } from '../imports/source-set.js';
import type { AnalysisResult } from '../analysis/analyze.js';
import type { EvaluatedBinding } from '../semantics/evaluator.js';
import type { Expression, TextRange } from '../syntax/syntax-tree.js';
import { renderValue } from './render-value.js';
import { groupDigits } from './text-format.js';

export interface InlayHintInfo {
  /** Where the hint is drawn: right after the binding's value. */
  readonly offset: number;
  readonly label: string;
  readonly kind: 'value' | 'stack';
  readonly tooltip: string;
}

/** The hints of the bindings that end inside `range` (the whole file when absent). */
export function inlayHints(_text: string, analysis: AnalysisResult, range?: TextRange): InlayHintInfo[] {
  // The first evaluation of a binding is in the model or variant that declares it (models are
  // evaluated in file order, and a variant's own bindings only in the variant); a block's
  // constants may differ between instances, and then no single value is shown.
  const byBinding = new Map<string, EvaluatedBinding[]>();
  for (const e of analysis.evaluated) {
    const end = e.binding.value.range.end;
    // Bindings of imported files are hinted in their own file.
    if (!inCompiledFile(e.binding.value.range) || (range && (end < range.start || end > range.end))) continue;
    const key = `${e.binding.name.range.start}:${e.binding.name.range.end}`;
    const list = byBinding.get(key);
    if (list) list.push(e);
    else byBinding.set(key, [e]);
  }
  const out: InlayHintInfo[] = [];
  for (const evaluations of byBinding.values()) {
    const first = evaluations[0]!;
    const same = evaluations.filter((e) => e.model === first.model);
    const value = first.value;
    const expr = first.binding.value;
    const where = first.model ? `in ${first.model}` : 'at file level';
    if (value.kind === 'module') {
      if (value.node.kind !== 'stack' || literalRepeat(expr)) continue;
      if (same.some((e) => e.value.kind !== 'module' || e.value.node.kind !== 'stack' || e.value.node.length !== (value.node.kind === 'stack' ? value.node.length : -1))) continue;
      out.push({ offset: expr.range.end, label: `×${groupDigits(value.node.length)}`, kind: 'stack', tooltip: `${groupDigits(value.node.length)} instances (${where})` });
      continue;
    }
    if (value.kind === 'error' || value.kind === 'block' || value.kind === 'layerKind' || value.kind === 'builtin' || isLiteral(expr)) continue;
    const rendered = renderValue(value, true);
    if (same.some((e) => renderValue(e.value, true) !== rendered)) continue;
    out.push({ offset: expr.range.end, label: `= ${rendered}`, kind: 'value', tooltip: `${renderValue(value)} (${where})` });
  }
  return out.sort((a, b) => a.offset - b.offset);
}

/** Literals show their value already: `2048`, `8Ki`, `-1`, `true`, `"x"`, `none`. */
function isLiteral(e: Expression): boolean {
  if (e.kind === 'Unary' && e.operator === '-') return e.operand.kind === 'Number';
  // A number with a magnitude (`8Ki`, `1.2B`) is a literal too: its value is one hover away.
  return e.kind === 'Number' || e.kind === 'String' || e.kind === 'Boolean' || e.kind === 'None' || e.kind === 'Missing';
}

/** `Decoder * 18` or `18 * Decoder`: the length is written right there. */
function literalRepeat(e: Expression): boolean {
  return e.kind === 'Binary' && e.operator === '*' && (e.right.kind === 'Number' || e.left.kind === 'Number');
}
