// Folding ranges from the syntax tree: the bodies of models, variants, blocks and budgets, and
// argument lists, lists and comprehensions written over several lines; runs of comment lines;
// `# region` … `# endregion` pairs (comments whose first word is the marker, as VS Code's
// languages mark regions).
// A region ends at the last character before its closing bracket, so the bracket's line stays
// visible when folded (`model M {…}` folds to its header and its `}`).

import type { SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { sourceTokens } from './source-tokens.js';
import { forEachNode } from './syntax-walk.js';
import { appendAll } from '../collections/append-all.js';

export interface FoldingRegion {
  /** From the opening line (its first character folded is after `start`)… */
  readonly start: number;
  /** …to the last character folded. The two are on different lines. */
  readonly end: number;
  /** region: a bracketed construct; marker: a `# region` … `# endregion` pair; comment: a run of comment lines. */
  readonly kind: 'region' | 'marker' | 'comment';
}

/** The foldable regions of a file, in source order of their start. */
export function foldingRegions(text: string, file: SourceFile): FoldingRegion[] {
  const out: FoldingRegion[] = [];
  const region = (range: TextRange): void => {
    const end = contentEnd(text, range);
    if (end > range.start && text.slice(range.start, end).includes('\n')) out.push({ start: range.start, end, kind: 'region' });
  };
  forEachNode(file, (node) => {
    switch (node.kind) {
      case 'Model':
      case 'Variant':
      case 'Block':
      case 'Budget':
      case 'List':
      case 'Comprehension':
        region(node.range);
        return;
      case 'Call':
        region(node.argsRange);
        return;
      default:
        return;
    }
  });
  const { comments } = sourceTokens(text);
  appendAll(out, markerPairs(text, comments));
  appendAll(out, commentRuns(text, comments.filter((c) => markerOf(text, c) === undefined)));
  return out.sort((a, b) => a.start - b.start || b.end - a.end);
}

/** The end of a bracketed range's content: the last non-blank character before its closing bracket. */
function contentEnd(text: string, range: TextRange): number {
  let end = range.end;
  const last = text.charAt(end - 1);
  if (last === '}' || last === ')' || last === ']') end--;
  while (end > range.start && /\s/.test(text.charAt(end - 1))) end--;
  return end;
}

/** Whether a comment is a region marker: its first word (after `#` and blanks) is `region` or `endregion`. */
function markerOf(text: string, comment: TextRange): 'region' | 'endregion' | undefined {
  let i = comment.start + 1;
  while (i < comment.end && (text[i] === ' ' || text[i] === '\t')) i++;
  for (const word of ['region', 'endregion'] as const) {
    const after = i + word.length;
    if (after <= comment.end && text.startsWith(word, i) && (after === comment.end || !isWordChar(text.charCodeAt(after)))) return word;
  }
  return undefined;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** `# region` … `# endregion` pairs, nested as brackets nest; an unpaired marker folds nothing. */
function markerPairs(text: string, comments: readonly TextRange[]): FoldingRegion[] {
  const out: FoldingRegion[] = [];
  const open: TextRange[] = [];
  for (const c of comments) {
    const marker = markerOf(text, c);
    if (marker === 'region') open.push(c);
    else if (marker === 'endregion') {
      const start = open.pop();
      if (start && text.slice(start.start, c.end).includes('\n')) out.push({ start: start.start, end: c.end, kind: 'marker' });
    }
  }
  return out;
}

/** Two or more comment lines in a row, each alone on its line or after code. */
function commentRuns(text: string, comments: readonly TextRange[]): FoldingRegion[] {
  const out: FoldingRegion[] = [];
  let i = 0;
  while (i < comments.length) {
    let j = i;
    // Consecutive: only blanks and one line break between the end of one and the next.
    while (j + 1 < comments.length && /^[ \t\r]*\n[ \t]*$/.test(text.slice(comments[j]!.end, comments[j + 1]!.start))) j++;
    if (j > i) out.push({ start: comments[i]!.start, end: comments[j]!.end, kind: 'comment' });
    i = j + 1;
  }
  return out;
}
