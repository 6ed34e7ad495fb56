// What the refactorings share: line arithmetic for moving members between declarations (their
// lines, re-indented), free names, and the stored parameter count a rewritten text would have
// (for titles that preview a sharing scheme), cached per text since an editor asks for code
// actions again at every cursor move.

import { analyze } from '../analysis/analyze.js';
import { findLayerKind } from '../layers/registry.js';
import { isKeyword } from '../syntax/token.js';
import type { SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { sourceTokens } from './source-tokens.js';
import { forEachIdentifier } from './syntax-walk.js';

/** The offset where the line holding `offset` starts. */
export function lineStart(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && text.charCodeAt(i - 1) !== 10) i--;
  return i;
}

/** The offset of the line break ending the line that holds `offset` (or the text's end). */
export function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl < 0 ? text.length : nl;
}

/** The whitespace that indents the line holding `offset`. */
export function indentAt(text: string, offset: number): string {
  const start = lineStart(text, offset);
  let i = start;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return text.slice(start, i);
}

/** Whether `range` has only whitespace before it on its first line and after it on its last (comments allowed after). */
export function ownsItsLines(text: string, range: TextRange): boolean {
  const before = text.slice(lineStart(text, range.start), range.start);
  const after = text.slice(range.end, lineEnd(text, range.end));
  return before.trim() === '' && (after.trim() === '' || after.trim().startsWith('#'));
}

/** Moves whole lines from one indentation to another (lines that do not start with `from` keep theirs). */
export function reindent(lines: string, from: string, to: string): string {
  return lines
    .split('\n')
    .map((l) => (l.trim() === '' ? '' : l.startsWith(from) ? to + l.slice(from.length) : to + l.trimStart()))
    .join('\n');
}

/** Whether any comment lies inside `range`. */
export function hasComment(text: string, range: TextRange): boolean {
  return sourceTokens(text).comments.some((c) => c.start >= range.start && c.start < range.end);
}

/** The first of `candidates` (then `candidates[0]` with 2, 3, … appended) that no identifier of the file spells and that is no keyword or layer kind. */
export function freeName(file: SourceFile, candidates: readonly string[]): string {
  const used = new Set<string>();
  forEachIdentifier(file, (id) => {
    used.add(id.text);
  });
  const free = (n: string): boolean => !used.has(n) && !isKeyword(n) && !findLayerKind(n);
  for (const c of candidates) if (free(c)) return c;
  for (let k = 2; ; k++) if (free(`${candidates[0]}${k}`)) return `${candidates[0]}${k}`;
}

/** What a rewritten text would analyse to: stored parameters by model or variant, and its error count. */
export interface RewriteOutcome {
  readonly stored: ReadonlyMap<string, bigint>;
  readonly errors: number;
}

const outcomes = new Map<string, RewriteOutcome>();

/** The outcome of analysing `text`; the last few texts are cached. */
export function rewriteOutcome(text: string): RewriteOutcome {
  const known = outcomes.get(text);
  if (known) return known;
  const analysis = analyze(text);
  const outcome = { stored: new Map(analysis.models.map((m) => [m.name, m.params.stored])), errors: errorCount(analysis.diagnostics) };
  if (outcomes.size >= 16) outcomes.delete(outcomes.keys().next().value!);
  outcomes.set(text, outcome);
  return outcome;
}

/** The stored parameters of `model` in a rewritten text, or undefined when the rewrite adds an error to the `errorsBefore` the text had. */
export function storedAfterRewrite(text: string, model: string, errorsBefore: number): bigint | undefined {
  const outcome = rewriteOutcome(text);
  return outcome.errors > errorsBefore ? undefined : outcome.stored.get(model);
}

export function errorCount(diagnostics: readonly { readonly severity: string }[]): number {
  return diagnostics.filter((d) => d.severity === 'error').length;
}
