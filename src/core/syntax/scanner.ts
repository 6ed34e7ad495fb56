// The scanner: turns `.npas` source text into tokens in one linear pass, on demand.
// It reads UTF-16 code units with charCodeAt and a small ASCII class table, so it never runs a
// regular expression per character. It never throws: malformed input becomes a token plus a
// diagnostic (an `Unknown` token for stray characters, a `Number` with suffix '' for a bad unit,
// a `String` cut at the end of the line when the closing quote is missing).

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import { isKeyword, WRITTEN_SUFFIXES, type Token, type TokenKind } from './token.js';

export interface ScanResult {
  /** Every token in source order; the last one is always `EOF`. */
  readonly tokens: readonly Token[];
  /** Lexical errors, sorted by their start offset. */
  readonly diagnostics: readonly Diagnostic[];
}

// Character classes of the ASCII range; everything above 127 is `INVALID`, since names are ASCII.
const INVALID = 0;
const SPACE = 1;
const NEWLINE = 2;
const DIGIT = 3;
const LETTER = 4; // letters and `_`
const PUNCT = 5;
const HASH = 6;
const QUOTE = 7;

const CLASS = new Uint8Array(128);
for (const c of [9, 11, 12, 32]) CLASS[c] = SPACE;
CLASS[10] = NEWLINE;
CLASS[13] = NEWLINE;
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
for (let c = 65; c <= 90; c++) CLASS[c] = LETTER;
for (let c = 97; c <= 122; c++) CLASS[c] = LETTER;
CLASS[95] = LETTER;
for (const ch of '+-*/%=!<>()[]{},:.;') CLASS[ch.charCodeAt(0)] = PUNCT;
CLASS[35] = HASH;
CLASS[34] = QUOTE;

const BOM = 0xfeff;
const CH_LF = 10;
const CH_CR = 13;
const CH_QUOTE = 34;
const CH_BACKSLASH = 92;
const CH_DOT = 46;
const CH_UNDERSCORE = 95;
const CH_PLUS = 43;
const CH_MINUS = 45;
const CH_EQUALS = 61;
const CH_BANG = 33;

function classOf(code: number): number {
  return code < 128 ? (CLASS[code] ?? INVALID) : code === BOM ? SPACE : INVALID;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isNameChar(code: number): boolean {
  // Spelled out rather than via classOf: this runs for every character of every name.
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95;
}

/** Scans the whole text into an array. Linear in its length; never throws. */
export function scan(text: string): ScanResult {
  const scanner = new Scanner(text);
  const tokens: Token[] = [];
  for (;;) {
    const token = scanner.nextToken();
    tokens.push(token);
    if (token.kind === 'EOF') break;
  }
  return { tokens, diagnostics: scanner.diagnostics };
}

/**
 * An on-demand scanner: the parser pulls one token at a time, so tokens it has passed become
 * garbage at once instead of living (and being copied by the collector) for the whole parse.
 */
export class Scanner {
  /** Lexical errors found so far, in source order. */
  readonly diagnostics: Diagnostic[] = [];
  private pos = 0;
  // The start of the file counts as a line start, so the first token begins a line like any other.
  private newline = true;

  /** `base`: added to every offset, for a file laid on a compilation's line of offsets after others (imports/source-set.ts). */
  constructor(
    private readonly text: string,
    private readonly base = 0,
  ) {}

  /** The next token; after the end of the text, EOF again and again. */
  nextToken(): Token {
    const text = this.text;
    const length = text.length;
    for (;;) {
      if (this.pos >= length) return this.make('EOF', length, length, '', '');
      const code = text.charCodeAt(this.pos);
      switch (classOf(code)) {
        case SPACE:
          // Indentation comes in runs; skip a run of plain spaces in one tight loop.
          do this.pos++;
          while (text.charCodeAt(this.pos) === 32);
          break;
        case NEWLINE:
          this.newline = true;
          this.pos++;
          break;
        case HASH:
          // A comment runs to the end of the line; the line break itself is scanned next.
          while (this.pos < length && classOf(text.charCodeAt(this.pos)) !== NEWLINE) this.pos++;
          break;
        case DIGIT:
          return this.scanNumber();
        case LETTER:
          return this.scanName();
        case QUOTE:
          return this.scanString();
        case PUNCT:
          return this.scanPunctuator(code);
        default:
          return this.scanUnknown();
      }
    }
  }

  private make(kind: TokenKind, start: number, end: number, value: string, suffix: string): Token {
    // EOF always "starts a line": the end of the file terminates whatever member is open.
    const newlineBefore = this.newline || kind === 'EOF';
    this.newline = false;
    return { kind, start: start + this.base, end: end + this.base, newlineBefore, value, suffix };
  }

  private error(code: DiagnosticCode, message: string, start: number, end: number): void {
    this.diagnostics.push({ code, severity: 'error', message, range: { start: start + this.base, end: end + this.base } });
  }

  // Identifier = [A-Za-z_] [A-Za-z0-9_]* ; a keyword when the spelling is reserved.
  private scanName(): Token {
    const start = this.pos;
    let pos = start + 1;
    while (pos < this.text.length && isNameChar(this.text.charCodeAt(pos))) pos++;
    this.pos = pos;
    const word = this.text.slice(start, pos);
    return this.make(isKeyword(word) ? word : 'Identifier', start, pos, word, '');
  }

  // Number = Digits [ "." Digits ] [ ("e"|"E") ["+"|"-"] Digits ] [ Suffix ]
  // Digits = digit { ["_"] digit }   (a "_" is a separator only when a digit follows it)
  private scanNumber(): Token {
    const text = this.text;
    const start = this.pos;
    let pos = this.skipDigits(start);
    // A "." is a decimal point only when a digit follows, so `0..18` stays a range.
    if (text.charCodeAt(pos) === CH_DOT && isDigit(text.charCodeAt(pos + 1))) {
      pos = this.skipDigits(pos + 1);
    }
    const e = text.charCodeAt(pos);
    if (e === 101 || e === 69) {
      const sign = text.charCodeAt(pos + 1);
      if (isDigit(sign)) pos = this.skipDigits(pos + 1);
      else if ((sign === CH_PLUS || sign === CH_MINUS) && isDigit(text.charCodeAt(pos + 2))) {
        pos = this.skipDigits(pos + 2);
      }
    }
    const mantissaEnd = pos;
    // The suffix is everything name-like glued to the number, so `8Kx` or `1_` is one bad literal
    // (one error) instead of a number followed by a surprising name.
    while (pos < text.length && isNameChar(text.charCodeAt(pos))) pos++;
    this.pos = pos;
    const spelled = text.slice(start, mantissaEnd);
    const digits = spelled.includes('_') ? spelled.replaceAll('_', '') : spelled;
    let suffix = text.slice(mantissaEnd, pos);
    if (suffix !== '' && !WRITTEN_SUFFIXES.has(suffix)) {
      // Recovery: keep the number without its unit so evaluation of the rest can continue.
      this.error(
        'npas-syntax-bad-number',
        suffix.charCodeAt(0) === CH_UNDERSCORE
          ? `'_' in a number must separate two digits`
          : `Unknown number suffix '${clip(suffix)}'; expected one of K M G B T, Ki Mi Gi Ti, ` +
              `KB MB GB TB, KiB MiB GiB TiB, bytes, ms us s`,
        mantissaEnd,
        pos,
      );
      suffix = '';
    }
    return this.make('Number', start, pos, digits, suffix);
  }

  /** Skips a run of digits with single `_` separators; `pos` is at a digit. */
  private skipDigits(pos: number): number {
    const text = this.text;
    for (;;) {
      const code = text.charCodeAt(pos);
      if (isDigit(code)) pos++;
      else if (code === CH_UNDERSCORE && isDigit(text.charCodeAt(pos + 1))) pos += 2;
      else return pos;
    }
  }

  // String = '"' { char | "\" ( '"' | "\" | "n" ) } '"'   (never spans a line)
  private scanString(): Token {
    const text = this.text;
    const start = this.pos;
    let pos = start + 1;
    let value = '';
    let chunkStart = pos;
    for (;;) {
      if (pos >= text.length || classOf(text.charCodeAt(pos)) === NEWLINE) {
        // Recovery: the string ends at the end of the line, so the next line scans normally.
        value += text.slice(chunkStart, pos);
        this.error('npas-syntax-unterminated-string', 'String literal is missing its closing \'"\'', start, pos);
        break;
      }
      const code = text.charCodeAt(pos);
      if (code === CH_QUOTE) {
        value += text.slice(chunkStart, pos);
        pos++;
        break;
      }
      if (code === CH_BACKSLASH) {
        const next = text.charCodeAt(pos + 1);
        if (next === CH_QUOTE || next === CH_BACKSLASH || next === 110) {
          value += text.slice(chunkStart, pos) + (next === 110 ? '\n' : String.fromCharCode(next));
          pos += 2;
          chunkStart = pos;
          continue;
        }
        if (pos + 1 < text.length && next !== CH_LF && next !== CH_CR) {
          // Recovery: an unknown escape keeps both characters literally.
          this.error('npas-syntax-unexpected-char', `Unknown escape '\\${text.charAt(pos + 1)}' in string; use \\" \\\\ or \\n`, pos, pos + 2);
          pos += 2;
          continue;
        }
      }
      pos++;
    }
    this.pos = pos;
    return this.make('String', start, pos, value, '');
  }

  private scanPunctuator(code: number): Token {
    const text = this.text;
    const start = this.pos;
    const next = text.charCodeAt(start + 1);
    let kind: TokenKind;
    let length = 1;
    switch (code) {
      case 43: kind = '+'; break;
      case 45: kind = '-'; break;
      case 42:
        if (next === 42) { kind = '**'; length = 2; } else kind = '*';
        break;
      case 47:
        if (next === 47) { kind = '//'; length = 2; } else kind = '/';
        break;
      case 37: kind = '%'; break;
      case 61:
        if (next === CH_EQUALS) { kind = '=='; length = 2; } else kind = '=';
        break;
      case CH_BANG:
        if (next !== CH_EQUALS) {
          // A lone `!` is not an operator (`not` is); report it like any stray character.
          return this.scanUnknown();
        }
        kind = '!=';
        length = 2;
        break;
      case 60:
        if (next === CH_EQUALS) { kind = '<='; length = 2; } else kind = '<';
        break;
      case 62:
        if (next === CH_EQUALS) { kind = '>='; length = 2; } else kind = '>';
        break;
      case 40: kind = '('; break;
      case 41: kind = ')'; break;
      case 91: kind = '['; break;
      case 93: kind = ']'; break;
      case 123: kind = '{'; break;
      case 125: kind = '}'; break;
      case 44: kind = ','; break;
      case 58: kind = ':'; break;
      case 59: kind = ';'; break;
      default:
        // Only "." is left in the PUNCT class.
        if (next === CH_DOT) { kind = '..'; length = 2; } else kind = '.';
    }
    this.pos = start + length;
    return this.make(kind, start, start + length, '', '');
  }

  /** A run of characters that cannot start a token becomes one `Unknown` token and one error. */
  private scanUnknown(): Token {
    const text = this.text;
    const start = this.pos;
    let pos = start + 1;
    while (pos < text.length) {
      const code = text.charCodeAt(pos);
      const c = classOf(code);
      if (c !== INVALID && !(code === CH_BANG && text.charCodeAt(pos + 1) !== CH_EQUALS)) break;
      pos++;
    }
    this.pos = pos;
    const run = text.slice(start, pos);
    // A run of one character may still be two code units (a surrogate pair such as an emoji).
    const single = run.length === 1 || (run.length === 2 && (run.codePointAt(0) ?? 0) > 0xffff);
    this.error(
      'npas-syntax-unexpected-char',
      single ? `Unexpected character '${run}'` : `Unexpected characters '${clip(run)}'`,
      start,
      pos,
    );
    return this.make('Unknown', start, pos, '', '');
  }
}

/** Shortens user text quoted in a message so a megabyte of garbage does not become a megabyte message. */
function clip(s: string): string {
  if (s.length <= 24) return s;
  // Never cut a surrogate pair in half: a lone surrogate in a message is itself garbage.
  const code = s.charCodeAt(23);
  const cut = code >= 0xd800 && code <= 0xdbff ? 23 : 24;
  return `${s.slice(0, cut)}…`;
}
