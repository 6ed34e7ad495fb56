// The foundation of the recursive-descent parser: the token cursor, error reporting with
// de-duplication and a cap, node ranges, the newline rule, and the skipping primitives that
// recovery uses. The grammar itself lives in the subclasses (parser-expressions.ts,
// parser-statements.ts, parser.ts), which share this state through inheritance.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import { Scanner } from './scanner.js';
import { groupDigits } from '../text/number-format.js';
import type { Identifier, MissingExpression, TextRange } from './syntax-tree.js';
import { STATEMENT_KEYWORDS, describeToken, isTopLevelOnlyKeyword, type Token, type TokenKind } from './token.js';

/** Nesting deeper than this (parentheses, unary operators, operator chains, blocks) is refused. */
export const MAX_DEPTH = 1000;

/** At most this many syntax errors are reported per file; parsing goes on silently after that. */
export const MAX_ERRORS = 100;

/** Tokens that only make sense in the middle of an expression or declaration. */
const CONTINUATION_TOKENS: ReadonlySet<TokenKind> = new Set<TokenKind>([
  '+', '-', '*', '/', '//', '%', '**', '==', '!=', '<', '<=', '>', '>=', '.', '..',
  'and', 'or', 'tied', 'relax', 'of', 'then', 'else',
]);

/** Keywords that can only begin a member or a declaration, never appear inside an expression. */
const STRUCTURAL_KEYWORDS: ReadonlySet<TokenKind> = new Set<TokenKind>(['model', 'variant', 'budget', 'block', ...STATEMENT_KEYWORDS]);

export abstract class ParserBase {
  /** The number of tokens consumed so far; loops compare it to prove they made progress. */
  protected pos = 0;
  protected current: Token;
  /** End offset of the last consumed token (0 before the first). */
  protected prevEnd = 0;
  /** Open `(` and `[` (and `if … else`) around the cursor; line breaks only matter at depth 0. */
  protected bracketDepth = 0;
  /** Current nesting of the tree being built, guarded by MAX_DEPTH. */
  protected depth = 0;
  /** The part of `depth` that chained binary operators make (`a + b + c` is two levels), for tooDeep's message. */
  protected chainedOperators = 0;
  /**
   * How many errors were raised so far, including those suppressed as duplicates or over the
   * cap. Recovery compares snapshots of it to avoid reporting a consequence of an earlier error.
   */
  protected errorEvents = 0;
  /**
   * Set while parsing a budget constraint: its argument lists are short and one constraint
   * follows another line by line, so a new line inside an unclosed `(` means the `)` is missing.
   */
  protected lineStartEndsLists = false;
  /**
   * Set when recovery skipped a broken member up to a new line. If that line cannot start a
   * member either (`2,` after a call that lost its `(`), it is a continuation of the broken
   * member and is skipped without a second error.
   */
  protected skippedToLine = false;
  /** Whether a lexical error was reported for the current token. */
  private lexicalErrorAtCurrent = false;
  /** Errors raised in the current item (see beginItem). */
  private itemErrors = 0;
  readonly diagnostics: Diagnostic[] = [];

  private readonly scanner: Scanner;
  /** Tokens scanned ahead of `current` by `peek`, from index `aheadHead` on. */
  private readonly ahead: Token[] = [];
  private aheadHead = 0;
  private readonly reportedStarts = new Set<number>();
  private scanIndex = 0;

  /** `base`: where the text's offsets start (0, or an imported file's slot: imports/source-set.ts). */
  constructor(
    protected readonly text: string,
    protected readonly base = 0,
  ) {
    this.prevEnd = base;
    this.scanner = new Scanner(text, base);
    this.current = this.scanner.nextToken();
    this.flushScanDiagnostics();
  }

  // ---------------------------------------------------------------------------------------------
  // Cursor
  // ---------------------------------------------------------------------------------------------

  /** The token `offset` (>= 1) positions after the current one (EOF past the end). */
  protected peek(offset = 1): Token {
    while (this.ahead.length - this.aheadHead < offset) this.ahead.push(this.scanner.nextToken());
    return this.ahead[this.aheadHead + offset - 1] ?? this.current;
  }

  /** Consumes the current token and returns it; at EOF it stays put, so loops must check EOF. */
  protected next(): Token {
    const token = this.current;
    if (token.kind === 'EOF') return token;
    this.pos++;
    this.prevEnd = token.end;
    if (this.aheadHead < this.ahead.length) {
      this.current = this.ahead[this.aheadHead++] ?? token;
      if (this.aheadHead === this.ahead.length) {
        this.ahead.length = 0;
        this.aheadHead = 0;
      }
    } else {
      this.current = this.scanner.nextToken();
    }
    this.flushScanDiagnostics();
    return token;
  }

  protected at(kind: TokenKind): boolean {
    return this.current.kind === kind;
  }

  /** Whether the current token ends the line's construct: EOF, or a line break outside brackets. */
  protected atLineBreak(): boolean {
    return this.current.kind === 'EOF' || (this.current.newlineBefore && this.bracketDepth === 0);
  }

  /** Consumes the current token if it has this kind and is on the same line (outside brackets). */
  protected accept(kind: TokenKind): Token | undefined {
    return this.current.kind === kind && !this.atLineBreak() ? this.next() : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Ranges and placeholders
  // ---------------------------------------------------------------------------------------------

  /**
   * Where a missing piece is reported: on the current token when it sits on the same line (it is
   * the surprise), otherwise as an empty range right after the last token (the line just ended).
   */
  protected expectedRange(): TextRange {
    return this.atLineEnd() ? { start: this.prevEnd, end: this.prevEnd } : { start: this.current.start, end: this.current.end };
  }

  /**
   * Whether the construct being parsed ran into the end of its line: EOF, or a token on a new
   * line that is significant there (outside brackets, or a terminator even inside them).
   */
  private atLineEnd(): boolean {
    const t = this.current;
    if (t.kind === 'EOF') return true;
    return t.newlineBefore && (this.bracketDepth === 0 || this.atListTerminator(false));
  }

  /**
   * The exact range of the tokens consumed since the cursor was at offset `start` (taken from
   * `this.current.start`). When nothing was consumed the range is empty and sits right after the
   * last consumed token, so that a node always lies inside its parent's range.
   * Tokens are never empty, so something was consumed exactly when the last token ends after `start`.
   */
  protected rangeFrom(start: number): TextRange {
    if (this.prevEnd > start) return { start, end: this.prevEnd };
    return { start: this.prevEnd, end: this.prevEnd };
  }

  /**
   * Like rangeFrom, for a node whose first child may be an empty placeholder: that placeholder
   * sits right after the previous token, possibly before `start` (`( + 2)`), and the node must
   * still contain it.
   */
  protected rangeCovering(start: number, first: { readonly range: TextRange }): TextRange {
    const own = first.range;
    // A node that spans exactly its first child (a positional argument, a one-name path) shares
    // the child's range object: ranges are immutable, and this saves an allocation per node.
    if (own.end === this.prevEnd && (own.start === start || own.start < start)) return own;
    const range = this.rangeFrom(start);
    return own.start < range.start ? { start: own.start, end: range.end } : range;
  }

  /** A placeholder for an expression that is not there; empty, right after the last token. */
  protected missing(): MissingExpression {
    return { kind: 'Missing', range: { start: this.prevEnd, end: this.prevEnd } };
  }

  /** A placeholder for a name that is not there; empty text, right after the last token. */
  protected missingIdentifier(): Identifier {
    return { kind: 'Identifier', text: '', range: { start: this.prevEnd, end: this.prevEnd } };
  }

  protected identifierOf(token: Token): Identifier {
    return { kind: 'Identifier', text: token.value, range: { start: token.start, end: token.end } };
  }

  protected describeCurrent(): string {
    return describeToken(this.current, this.text, this.base);
  }

  /**
   * Extra advice when the unexpected token is an operator that starts a line: the user most
   * likely meant to continue the previous line's expression, which the newline rule forbids.
   */
  protected continuationHint(): string {
    const t = this.current;
    if (!t.newlineBefore || !CONTINUATION_TOKENS.has(t.kind)) return '';
    return ` (an operator at the start of a line does not continue the previous line; wrap a multi-line expression in parentheses)`;
  }

  // ---------------------------------------------------------------------------------------------
  // Diagnostics
  // ---------------------------------------------------------------------------------------------

  /**
   * Reports a parser error, unless the current item (member, constraint or declaration header)
   * already has one, one was already reported at the same offset (the second is nearly always a
   * consequence of the first), or the file already has MAX_ERRORS errors.
   */
  protected error(code: DiagnosticCode, message: string, range: TextRange): void {
    this.errorEvents++;
    // Within one item, the first syntax error explains the rest: later ones are cascades.
    if (this.itemErrors > 0) return;
    this.report(code, message, range);
    this.itemErrors++;
  }

  /** Reports regardless of the item scope (still de-duplicated by offset and capped). */
  protected report(code: DiagnosticCode, message: string, range: TextRange): void {
    if (this.reportedStarts.has(range.start) || this.diagnostics.length >= MAX_ERRORS) return;
    this.reportedStarts.add(range.start);
    this.diagnostics.push({ code, severity: 'error', message, range });
  }

  /**
   * Starts the error scope of one item (a member, a constraint, a top-level declaration's
   * header): only its first parser error is reported. Returns the enclosing scope's state, to be
   * given back to `endItem` (items nest: a block member holds members of its own).
   */
  protected beginItem(): number {
    const saved = this.itemErrors;
    // A lexical error in the item's first token (`1model`) already belongs to this item.
    this.itemErrors = this.lexicalErrorAtCurrent ? 1 : 0;
    return saved;
  }

  protected endItem(saved: number): void {
    this.itemErrors = saved;
  }

  /** `Expected X, found Y` at the current position. */
  protected expected(what: string): void {
    const found = this.at('EOF') ? 'end of file' : this.atLineEnd() ? 'end of line' : this.describeCurrent();
    this.error('npas-syntax-expected', `Expected ${what}, found ${found}`, this.expectedRange());
  }

  /**
   * Lexical errors are reported when their token becomes current, so that they come out in
   * source order with the parser's own errors and win the de-duplication at their offset.
   */
  private flushScanDiagnostics(): void {
    const limit = this.current.kind === 'EOF' ? Infinity : this.current.end;
    const pending = this.scanner.diagnostics;
    this.lexicalErrorAtCurrent = false;
    while (this.scanIndex < pending.length) {
      const d = pending[this.scanIndex];
      if (d === undefined || d.range.start >= limit) break;
      this.scanIndex++;
      // Lexical errors are independent facts about the text: they are never suppressed as
      // cascades, and they mark the item so that the parser does not add its own view of them.
      this.errorEvents++;
      this.report(d.code, d.message, d.range);
      this.itemErrors++;
      this.lexicalErrorAtCurrent = true;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Terminators and skipping
  // ---------------------------------------------------------------------------------------------

  /** Whether the current token can only begin a member or declaration (never part of an expression). */
  protected atStructuralKeyword(): boolean {
    return STRUCTURAL_KEYWORDS.has(this.current.kind);
  }

  /** Whether the current `{` ends its line or is closed right away (`{}`): it opens a body. */
  protected atBraceOpeningBody(): boolean {
    const next = this.peek();
    return next.newlineBefore || next.kind === '}';
  }

  /** A line that starts with `name =` is a new binding, whatever came before. */
  protected atLineStartBinding(): boolean {
    return this.current.newlineBefore && this.current.kind === 'Identifier' && this.peek().kind === '=';
  }

  /**
   * Whether a bracketed list must stop here because its closing bracket is evidently missing:
   * the token cannot occur inside brackets at all (`}`, `{`, `;`, a declaration or statement
   * keyword), or, where `name = …` is not valid inside the list, a new line starts a binding.
   */
  protected atListTerminator(lineBindingsAllowed: boolean): boolean {
    const kind = this.current.kind;
    if (kind === 'EOF' || kind === '}' || kind === ';') return true;
    // A `{` that ends its line (or is closed at once) opens a body, so the list before it was
    // left open; a `{` in the middle of a line is a stray, skipped like any other token.
    if (kind === '{') return this.atBraceOpeningBody();
    if (this.atStructuralKeyword()) return true;
    if (this.current.newlineBefore && this.lineStartEndsLists) return true;
    return !lineBindingsAllowed && this.atLineStartBinding();
  }

  /**
   * Recovery: skips tokens inside a bracketed list until a `,`, a closing bracket or a
   * terminator at the list's own nesting level, so the list can resume at the next item.
   */
  protected skipInList(lineBindingsAllowed: boolean): void {
    let nest = 0;
    for (;;) {
      if (this.atListTerminator(lineBindingsAllowed)) return;
      const kind = this.current.kind;
      if (nest === 0 && (kind === ',' || kind === ')' || kind === ']')) return;
      if (kind === '(' || kind === '[') nest++;
      else if (kind === ')' || kind === ']') nest--;
      this.next();
    }
  }

  /**
   * Consumes the closing bracket of a list opened when `errorEventsAtOpen` was recorded.
   * Recovery: if something else is in the way on the same construct, it is reported and skipped
   * up to the bracket; if a terminator shows the bracket is simply missing, that is reported once
   * at the end of the last token, and not at all when an error inside the list already explains it.
   */
  protected closeBracket(closer: ')' | ']', errorEventsAtOpen: number, lineBindingsAllowed: boolean): void {
    if (this.at(closer)) {
      this.next();
      return;
    }
    if (!this.atListTerminator(lineBindingsAllowed)) {
      this.error('npas-syntax-expected', `Expected '${closer}', found ${this.describeCurrent()}`, {
        start: this.current.start,
        end: this.current.end,
      });
      this.skipInList(lineBindingsAllowed);
      if (this.at(closer)) {
        this.next();
        return;
      }
      // A stray ',' or the other kind of closer: step over it and look for ours once more.
      while (!this.atListTerminator(lineBindingsAllowed) && !this.at(closer)) {
        this.next();
        this.skipInList(lineBindingsAllowed);
      }
      if (this.at(closer)) this.next();
      return;
    }
    if (this.errorEvents === errorEventsAtOpen) {
      const at = this.prevEnd;
      this.error('npas-syntax-expected', `Expected '${closer}'`, { start: at, end: at });
    }
  }

  /**
   * Recovery for expressions nested too deeply: reports once and skips the rest of the
   * expression without recursing, so no input can overflow the stack.
   */
  protected tooDeep(): MissingExpression {
    const start = this.current.start;
    // The limit counts levels of the tree: brackets, calls, indexing, prefix operators and each
    // chained binary operator. Say which one ran out, so a long flat sum is not called "nested".
    const chained = this.chainedOperators * 2 > this.depth;
    this.error(
      'npas-syntax-too-deep',
      chained
        ? `Expression chains more than ${groupDigits(MAX_DEPTH)} operators (each operator of \`a + b + …\` is one level of the tree, at most ${groupDigits(MAX_DEPTH)} levels); split it into named parts, such as sums of fewer terms`
        : `Expression nested more than ${groupDigits(MAX_DEPTH)} levels deep (brackets, calls, indexing and operators each add a level); split it into named parts`,
      this.expectedRange(),
    );
    let nest = 0;
    for (;;) {
      if (this.atListTerminator(false)) break;
      const kind = this.current.kind;
      if (nest === 0 && (kind === ')' || kind === ']' || kind === ',' || this.atLineBreak())) break;
      if (kind === '(' || kind === '[') nest++;
      else if (kind === ')' || kind === ']') nest--;
      this.next();
    }
    return { kind: 'Missing', range: this.rangeFrom(start) };
  }

  /**
   * Recovery inside a body: skips the rest of a broken member up to the next token that starts
   * a line at the same brace depth, a `;` or the body's `}`. It always consumes the current token
   * (the one that was reported), so callers make progress. Parentheses are tracked so that a
   * call spread over several lines is skipped whole, but a line that clearly starts a new member
   * stops the skip even inside an unclosed parenthesis.
   */
  protected syncMember(): void {
    let parens = 0;
    let braces = 0;
    // Braces opened in the middle of a line count only until that line ends: a `{` that does not
    // end its line is most likely a stray, and matching it would eat the body's own `}`.
    let lineBraces = 0;
    let first = true;
    for (;;) {
      const kind = this.current.kind;
      if (kind === 'EOF') return;
      if (isTopLevelOnlyKeyword(kind) && !first) return;
      if (this.current.newlineBefore) lineBraces = 0;
      if (kind === '}' && lineBraces > 0) {
        lineBraces--;
        first = false;
        this.next();
        continue;
      }
      if (kind === '{' && !this.atBraceOpeningBody()) {
        lineBraces++;
        first = false;
        this.next();
        continue;
      }
      if (braces === 0 && !first) {
        if (kind === '}' || kind === ';') return;
        if (this.current.newlineBefore) {
          if (parens === 0 || this.atStructuralKeyword() || this.atLineStartBinding()) {
            this.skippedToLine = true;
            return;
          }
        }
      }
      if (braces === 0 && first && kind === '}') return;
      first = false;
      if (kind === '(' || kind === '[') parens++;
      else if ((kind === ')' || kind === ']') && parens > 0) parens--;
      else if (kind === '{') braces++;
      else if (kind === '}') braces--;
      this.next();
    }
  }

  /**
   * Recovery at top level: skips to the next `model`, `block`, `variant` or `budget`, or a line
   * that starts with `name =`, stepping over braced bodies whole. Always consumes the current token.
   */
  protected syncTopLevel(): void {
    let braces = 0;
    let first = true;
    for (;;) {
      const kind = this.current.kind;
      if (kind === 'EOF') return;
      if (!first) {
        // `model`, `variant` and `budget` are never nested, so they end the skip even when a
        // brace is unbalanced; `block` and bindings only count outside any braces.
        if (isTopLevelOnlyKeyword(kind)) return;
        if (braces === 0 && (kind === 'block' || this.atLineStartBinding())) return;
      }
      first = false;
      if (kind === '{') braces++;
      else if (kind === '}' && braces > 0) braces--;
      this.next();
    }
  }
}
