// The token stream of a source with its comments, for the services that work below the tree:
// completion (what precedes the cursor, even in half-written text), keyword hovers, and the
// formatter (which must reproduce every token and comment). The scanner drops comments; they
// are recovered from the gaps between tokens, which hold only whitespace and comments.

import { scan } from '../syntax/scanner.js';
import type { Token } from '../syntax/token.js';
import type { TextRange } from '../syntax/syntax-tree.js';

export interface SourceTokens {
  /** Every token, EOF last. */
  readonly tokens: readonly Token[];
  /** Every `#` comment, without its line break, in source order. */
  readonly comments: readonly TextRange[];
  /** Whether scanning reported an error (then the formatter stays away). */
  readonly hasLexicalErrors: boolean;
}

let last: { text: string; result: SourceTokens } | undefined;

/** Scans `text` (the last result is cached: services of one request share it). */
export function sourceTokens(text: string): SourceTokens {
  if (last && last.text === text) return last.result;
  const scanned = scan(text);
  const comments: TextRange[] = [];
  let pos = 0;
  for (const t of scanned.tokens) {
    collectComments(text, pos, t.start, comments);
    pos = t.end;
  }
  const result: SourceTokens = { tokens: scanned.tokens, comments, hasLexicalErrors: scanned.diagnostics.length > 0 };
  last = { text, result };
  return result;
}

/** Comments in a gap between two tokens: each `#` up to the line end. */
function collectComments(text: string, from: number, to: number, out: TextRange[]): void {
  let i = from;
  while (i < to) {
    if (text.charCodeAt(i) === 35) {
      let end = i;
      while (end < to && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
      out.push({ start: i, end });
      i = end;
    } else i++;
  }
}

/** The index of the last token that starts before `offset` (−1 when none). */
export function tokenIndexBefore(tokens: readonly Token[], offset: number): number {
  let lo = 0;
  let hi = tokens.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = tokens[mid]!;
    if (t.start < offset && t.kind !== 'EOF') {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The token under `offset` (its end included), if any. */
export function tokenAt(tokens: readonly Token[], offset: number): Token | undefined {
  const i = tokenIndexBefore(tokens, offset + 1);
  const t = i >= 0 ? tokens[i] : undefined;
  return t && t.start <= offset && offset <= t.end ? t : undefined;
}

/** Whether `offset` is inside a comment (after its `#`). */
export function inComment(comments: readonly TextRange[], offset: number): boolean {
  return comments.some((c) => c.start < offset && offset <= c.end);
}
