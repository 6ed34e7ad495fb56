// The tokens of the `.npas` language: the kinds the scanner produces and the shape of one token.
// Keyword and punctuation kinds are spelled as the source text itself (`'model'`, `'<='`), so the
// parser reads like the grammar; the remaining kinds name token classes.

import { NUMBER_SUFFIXES } from '../numbers/units.js';

/**
 * The keywords that begin a sharing or training statement inside a model, block or variant: the
 * one list. The parser's keyword sets, completion and the Hugging Face import's name check derive
 * from it, so a new statement keyword is one entry here.
 */
export const STATEMENT_KEYWORDS = ['share', 'tie', 'adapt', 'hash', 'bank', 'dict', 'route', 'freeze', 'train', 'allocate', 'param', 'factorize', 'parallel', 'smash', 'precision', 'max_context', 'elastic'] as const;

/**
 * The words that may follow `share` to say what is shared (`share kv body: every(2)`, `share heads
 * body.attn: pairs(2)`, `share experts body.moe: sequence(10)`). Not reserved: each is a modifier
 * only when a path follows it on the same line, so `share kv: all` still shares a member `kv`.
 */
export const SHARE_MODIFIERS = ['kv', 'heads', 'experts'] as const;
/** The word after `precision` that makes the path form (`precision weights embed: int8`) when a path follows it. */
export const PRECISION_MODIFIERS = ['weights'] as const;

export type ShareModifier = (typeof SHARE_MODIFIERS)[number];

/** Whether `word` is one of `SHARE_MODIFIERS`. */
export function isShareModifier(word: string): word is ShareModifier {
  return (SHARE_MODIFIERS as readonly string[]).includes(word);
}

/** Reserved words: they can never be used as names. */
export const KEYWORDS = [
  'model', 'block', 'variant', 'of', 'budget',
  ...STATEMENT_KEYWORDS,
  'relax', 'tied',
  'if', 'then', 'else', 'for', 'in', 'and', 'or', 'not',
  'true', 'false', 'none',
] as const;

export type Keyword = (typeof KEYWORDS)[number];

/** Operators and punctuation, longest spellings first where one is a prefix of another. */
export const PUNCTUATORS = [
  '+', '-', '*', '/', '//', '%', '**',
  '==', '!=', '<', '<=', '>', '>=', '=',
  '(', ')', '[', ']', '{', '}', ',', ':', '.', '..', ';',
] as const;

export type Punctuator = (typeof PUNCTUATORS)[number];

/**
 * - `Identifier`: a name that is not a keyword (`kv`, `heads` and `experts` are identifiers);
 * - `Number`: a numeric literal with its optional unit suffix;
 * - `String`: a double-quoted string;
 * - `Unknown`: a run of characters that cannot start any token (the scanner reported it);
 * - `EOF`: the end of the text, always the last token.
 */
export type TokenKind = 'Identifier' | 'Number' | 'String' | 'Unknown' | 'EOF' | Keyword | Punctuator;

/**
 * One token. All tokens share one object shape so the parser's hot paths stay monomorphic.
 * `newlineBefore` is true when a line break (or the start of the file) separates this token from
 * the previous one; the EOF token always has it set, since the end of the file ends every line.
 */
export interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
  readonly newlineBefore: boolean;
  /**
   * Identifiers and keywords: the spelling. Numbers: the mantissa without `_` separators.
   * Strings: the decoded value. Other kinds: the empty string.
   */
  readonly value: string;
  /** Numbers: the unit or magnitude suffix (`''` when absent or unknown). Other kinds: `''`. */
  readonly suffix: string;
}

const KEYWORD_SET: ReadonlySet<string> = new Set<string>(KEYWORDS);

/** Whether `text` is a reserved word. */
export function isKeyword(text: string): text is Keyword {
  return KEYWORD_SET.has(text);
}

/**
 * The magnitude, byte and time suffixes a number may carry (docs/language.md, "Numbers and
 * units"): the spellings of `numbers/units.ts`'s table, which also says what each means.
 */
export const WRITTEN_SUFFIXES: ReadonlySet<string> = new Set([...NUMBER_SUFFIXES.keys()].filter((s) => s !== ''));

/** The keywords that begin a sharing or training statement inside a model, block or variant. */
export type StatementKeywordKind = (typeof STATEMENT_KEYWORDS)[number];

const STATEMENT_KEYWORD_SET: ReadonlySet<TokenKind> = new Set<TokenKind>(STATEMENT_KEYWORDS);

/** Whether a token kind begins a statement. */
export function isStatementKeyword(kind: TokenKind): kind is StatementKeywordKind {
  return STATEMENT_KEYWORD_SET.has(kind);
}

/** Whether a token kind begins a declaration that only exists at top level (never nested). */
export function isTopLevelOnlyKeyword(kind: TokenKind): boolean {
  return kind === 'model' || kind === 'variant' || kind === 'budget';
}

/** A readable description of a token for messages: `'model'`, `'<='`, `number`, `end of file`. */
export function describeToken(token: Token, text: string, base = 0): string {
  switch (token.kind) {
    case 'EOF':
      return 'end of file';
    case 'Identifier':
      return `name '${quote(text, token, base)}'`;
    case 'Number':
      return `number '${quote(text, token, base)}'`;
    case 'String':
      return 'string';
    case 'Unknown':
      return `'${quote(text, token, base)}'`;
    default:
      return `'${token.kind}'`;
  }
}

/** The token's text for a message, shortened so that a huge token does not make a huge message. */
function quote(text: string, token: Token, base: number): string {
  const start = token.start - base;
  const stop = token.end - base;
  const end = Math.min(stop, start + 40);
  // Never cut a surrogate pair in half.
  const cut = end < stop && (text.charCodeAt(end - 1) & 0xfc00) === 0xd800 ? end - 1 : end;
  return text.slice(start, cut) + (cut < stop ? '…' : '');
}
