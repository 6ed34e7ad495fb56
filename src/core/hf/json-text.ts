// A strict JSON reader for Hugging Face config files that reports where the text goes wrong.
// JSON.parse's messages differ between Node versions and do not always carry a position, and a
// refusal must say "line 3, column 14" so the user can fix the file; so the import parses the
// text itself. It also accepts NaN, Infinity and -Infinity, which Python's json.dump writes for
// non-finite floats and which do appear in saved configs.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export type JsonParseResult =
  | { readonly ok: true; readonly value: JsonValue }
  | { readonly ok: false; readonly message: string; readonly line: number; readonly column: number };

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Deep structures are refused rather than risking the call stack (configs are shallow). */
const MAX_DEPTH = 200;

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    this.skipSpace();
    if (this.pos >= this.text.length) this.fail('the text is empty');
    const value = this.parseValue(0);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describeHere()} after the end of the JSON value`);
    return value;
  }

  private parseValue(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail('values are nested too deeply');
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.parseObject(depth);
      case '[':
        return this.parseArray(depth);
      case '"':
        return this.parseString();
      case 't':
        return this.parseWord('true', true);
      case 'f':
        return this.parseWord('false', false);
      case 'n':
        return this.parseWord('null', null);
      case 'N':
        return this.parseWord('NaN', Number.NaN);
      case 'I':
        return this.parseWord('Infinity', Number.POSITIVE_INFINITY);
      default:
        if (c === '-' && this.text.startsWith('-Infinity', this.pos)) {
          return this.parseWord('-Infinity', Number.NEGATIVE_INFINITY);
        }
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
        return this.fail(`expected a value but found ${this.describeHere()}`);
    }
  }

  private parseObject(depth: number): JsonObject {
    // A null prototype keeps keys such as "__proto__" or "constructor" ordinary data.
    const result = Object.create(null) as JsonObject;
    this.pos++; // '{'
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') {
        this.fail(`expected a property name in double quotes but found ${this.describeHere()}`);
      }
      const key = this.parseString();
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after the property name "${key}" but found ${this.describeHere()}`);
      this.pos++;
      this.skipSpace();
      // Python's json keeps the last of duplicate keys, and so do we.
      result[key] = this.parseValue(depth + 1);
      this.skipSpace();
      const next = this.text[this.pos];
      if (next === ',') {
        this.pos++;
        continue;
      }
      if (next === '}') {
        this.pos++;
        return result;
      }
      this.fail(`expected ',' or '}' after the value of "${key}" but found ${this.describeHere()}`);
    }
  }

  private parseArray(depth: number): JsonValue[] {
    const result: JsonValue[] = [];
    this.pos++; // '['
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      result.push(this.parseValue(depth + 1));
      this.skipSpace();
      const next = this.text[this.pos];
      if (next === ',') {
        this.pos++;
        continue;
      }
      if (next === ']') {
        this.pos++;
        return result;
      }
      this.fail(`expected ',' or ']' in a list but found ${this.describeHere()}`);
    }
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) {
        this.pos = start;
        this.fail('a string is not closed');
      }
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        out += this.parseEscape();
        continue;
      }
      if (c < ' ') this.fail('a control character (such as a raw line break) inside a string');
      out += c;
      this.pos++;
    }
  }

  private parseEscape(): string {
    const c = this.text[this.pos + 1];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (c !== undefined && c in simple) {
      this.pos += 2;
      return simple[c] ?? '';
    }
    if (c === 'u') {
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('a \\u escape needs four hexadecimal digits');
      this.pos += 6;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    return this.fail(`unknown escape \\${c ?? ''} in a string`);
  }

  private parseNumber(): number {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (match === null || match[0] === '-') this.fail(`malformed number starting with ${this.describeHere()}`);
    const literal = (match as RegExpExecArray)[0];
    this.pos += literal.length;
    return Number(literal);
  }

  private parseWord<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected a value but found ${this.describeHere()}`);
    this.pos += word.length;
    return value;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else break;
    }
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'the end of the text';
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos, this.pos + 40));
    if (word !== null) return `'${word[0]}'`;
    return `'${this.text[this.pos] ?? ''}'`;
  }

  private fail(reason: string): never {
    throw new JsonSyntaxError(this.pos, reason);
  }
}

/** Line and column (both from 1) of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export function parseJsonText(text: string): JsonParseResult {
  // A byte-order mark is not JSON, but editors on Windows write one; it carries no meaning.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return { ok: true, value: new Parser(body).parseDocument() };
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      const { line, column } = lineAndColumn(body, error.offset);
      return { ok: false, message: error.reason, line, column };
    }
    // Only a JsonSyntaxError is expected; anything else (stack overflow) is reported at the start.
    return { ok: false, message: 'the text could not be read as JSON', line: 1, column: 1 };
  }
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
