// The canonical formatter. It rewrites only the whitespace between tokens and comments, never a
// token or a comment's text, so it cannot lose anything:
// - 2-space indentation by bracket nesting (a line is indented one level inside each line that
//   opened a `{`, `(` or `[` still open; a line that starts by closing returns to its opener's);
// - line breaks are kept where they are (they end members), blank lines collapse to one, none
//   at the start of the file, one line break at its end;
// - one space around `=` and binary operators, `name: value` in arguments, `f(x)`, `a[i]`,
//   `a.b`, `0..n`, unary `-x`, two spaces before a trailing comment, no trailing whitespace.
// A file with a syntax error gets no edits. After formatting, the result is scanned and parsed
// again and must give the same tokens, line structure and comments; if it ever does not, the
// formatter returns no edits rather than risk the text.

import { parse } from '../syntax/parser.js';
import { scan } from '../syntax/scanner.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import type { Token, TokenKind } from '../syntax/token.js';
import { sourceTokens } from './source-tokens.js';

export interface TextEdit {
  readonly range: TextRange;
  readonly newText: string;
}

/** Applies non-overlapping edits (in any order) to a text. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.range.start - b.range.start);
  let out = '';
  let pos = 0;
  for (const e of sorted) {
    out += text.slice(pos, e.range.start) + e.newText;
    pos = e.range.end;
  }
  return out + text.slice(pos);
}

const INDENT = '  ';

/** The canonical text of `text`, or undefined when it has syntax errors (or formatting could not be verified). */
export function formatSource(text: string): string | undefined {
  const result = layout(text);
  return result?.formatted;
}

/** The edits that turn `text` into its canonical form: one per changed gap; none on syntax errors. */
export function formatEdits(text: string): TextEdit[] {
  const result = layout(text);
  if (!result) return [];
  const edits: TextEdit[] = [];
  for (const g of result.gaps) if (text.slice(g.start, g.end) !== g.text) edits.push({ range: { start: g.start, end: g.end }, newText: g.text });
  return edits;
}

interface Gap {
  /** The original span between two elements (or before the first / after the last). */
  readonly start: number;
  readonly end: number;
  /** Its canonical replacement. */
  readonly text: string;
}

interface Element {
  readonly start: number;
  readonly end: number;
  /** The token, or undefined for a comment. */
  readonly token: Token | undefined;
}

function layout(text: string): { formatted: string; gaps: Gap[] } | undefined {
  const parsed = parse(text);
  if (parsed.diagnostics.length > 0) return undefined;
  const { tokens, comments } = sourceTokens(text);
  const elements: Element[] = [];
  for (const t of tokens) if (t.kind !== 'EOF') elements.push({ start: t.start, end: t.end, token: t });
  for (const c of comments) elements.push({ start: c.start, end: trimEnd(text, c.start, c.end), token: undefined });
  elements.sort((a, b) => a.start - b.start);

  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const bom = text.charCodeAt(0) === 0xfeff ? '\ufeff' : '';
  const gaps: Gap[] = [];
  const parts: string[] = [];
  /** Open brackets: the level of the line that opened each, and the level of its contents. */
  const open: { kind: TokenKind; lineLevel: number; contentLevel: number }[] = [];
  let lineLevel = 0;
  let prevToken: Token | undefined;
  let beforePrev: Token | undefined;
  let prevEnd = 0;
  let prevWasComment = false;

  for (let i = 0; i < elements.length; i++) {
    const el = elements[i]!;
    const gap = text.slice(prevEnd, el.start);
    let sep: string;
    if (i === 0) {
      sep = bom;
      lineLevel = levelAt(el, open);
      sep += INDENT.repeat(lineLevel);
    } else {
      const breaks = countLineBreaks(gap);
      if (breaks > 0) {
        lineLevel = levelAt(el, open);
        sep = eol.repeat(Math.min(breaks, 2)) + INDENT.repeat(lineLevel);
      } else if (!el.token) sep = '  ';
      else sep = prevWasComment ? ' ' : spaceBetween(prevToken, el.token, beforePrev);
    }
    gaps.push({ start: prevEnd, end: el.start, text: sep });
    parts.push(sep, text.slice(el.start, el.end));
    if (el.token) {
      const k = el.token.kind;
      if (k === '(' || k === '[' || k === '{') open.push({ kind: k, lineLevel, contentLevel: lineLevel + 1 });
      else if (k === ')' || k === ']' || k === '}') open.pop();
      beforePrev = prevToken;
      prevToken = el.token;
    }
    prevWasComment = !el.token;
    prevEnd = el.end;
  }
  const tail = elements.length > 0 ? eol : '';
  gaps.push({ start: prevEnd, end: text.length, text: elements.length > 0 ? tail : bom });
  parts.push(elements.length > 0 ? tail : bom);
  const formatted = parts.join('');
  return sameContent(text, formatted) ? { formatted, gaps } : undefined;
}

/** The indentation level of a line starting with `el`. */
function levelAt(el: Element, open: readonly { kind: TokenKind; lineLevel: number; contentLevel: number }[]): number {
  const top = open[open.length - 1];
  if (!top) return 0;
  const k = el.token?.kind;
  // A line that starts by closing a bracket lines up with the line that opened it.
  if (k === ')' || k === ']' || k === '}') return top.lineLevel;
  return top.contentLevel;
}

/** Line breaks in a gap: `\r\n`, `\n` and a lone `\r` each count once, as the scanner reads them. */
function countLineBreaks(gap: string): number {
  let n = 0;
  for (let i = 0; i < gap.length; i++) {
    const c = gap.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13) {
      n++;
      if (gap.charCodeAt(i + 1) === 10) i++;
    }
  }
  return n;
}

function trimEnd(text: string, start: number, end: number): number {
  let e = end;
  while (e > start) {
    const c = text.charCodeAt(e - 1);
    if (c === 32 || c === 9 || c === 11 || c === 12 || c === 0xfeff) e--;
    else break;
  }
  return e;
}

const BINARY_OR_PUNCT: ReadonlySet<TokenKind> = new Set<TokenKind>([
  '(', '[', '{', ',', ':', ';', '=', '==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '//', '%', '**', '..',
]);

/** Whether a `-` is unary: nothing before it, or an operator, an opening bracket or a keyword such as `then`. */
function isUnaryMinus(before: Token | undefined): boolean {
  if (!before) return true;
  if (BINARY_OR_PUNCT.has(before.kind)) return true;
  return /^[a-z]+$/.test(before.kind) && before.kind !== 'true' && before.kind !== 'false' && before.kind !== 'none';
}

function isWordLike(t: Token): boolean {
  return t.kind === 'Identifier' || /^[a-z]+$/.test(t.kind);
}

/** The space between two tokens on one line. */
function spaceBetween(p: Token | undefined, n: Token, pp: Token | undefined): string {
  if (!p) return '';
  const a = p.kind;
  const b = n.kind;
  if (b === ',' || b === ';' || b === ':' || b === ')' || b === ']' || b === '.' || b === '..') return '';
  if (a === '(' || a === '[' || a === '.' || a === '..') return '';
  if (a === '{') return b === '}' ? '' : ' ';
  if (b === '(' || b === '[') {
    // A call or an index: `f(x)`, `a[i]`, `flops.train(seq: …)`; after an operator, a group or a list.
    if (a === 'Identifier' || a === ')' || a === ']') return '';
    if (isWordLike(p) && pp?.kind === '.') return '';
    return ' ';
  }
  if (a === '-' && isUnaryMinus(pp)) return '';
  return ' ';
}

/** The two texts hold the same tokens on the same lines and the same comments, and the result parses cleanly. */
function sameContent(original: string, formatted: string): boolean {
  const a = scan(original);
  const b = scan(formatted);
  if (a.tokens.length !== b.tokens.length || b.diagnostics.length > 0) return false;
  for (let i = 0; i < a.tokens.length; i++) {
    const x = a.tokens[i]!;
    const y = b.tokens[i]!;
    if (x.kind !== y.kind || x.value !== y.value || x.suffix !== y.suffix || x.newlineBefore !== y.newlineBefore) return false;
    if (original.slice(x.start, x.end) !== formatted.slice(y.start, y.end)) return false;
  }
  const ca = sourceTokens(original).comments.map((c) => original.slice(c.start, trimEnd(original, c.start, c.end)));
  const cb = sourceTokens(formatted).comments.map((c) => formatted.slice(c.start, c.end));
  if (ca.length !== cb.length || ca.some((c, i) => c !== cb[i])) return false;
  return parse(formatted).diagnostics.length === 0;
}
