// Tests of the scanner: every token kind, number literals and their suffixes, strings, comments,
// the newlineBefore flag, and the diagnostics for characters that start no token.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scan } from '../../../src/core/syntax/scanner.js';
import { KEYWORDS, WRITTEN_SUFFIXES, PUNCTUATORS } from '../../../src/core/syntax/token.js';

/** Token kinds of `text`, without the final EOF. */
function kinds(text: string): string[] {
  return scan(text).tokens.slice(0, -1).map((t) => t.kind);
}

/** Diagnostics as `code@start-end` strings. */
function errors(text: string): string[] {
  return scan(text).diagnostics.map((d) => `${d.code}@${d.range.start}-${d.range.end}`);
}

test('every punctuator scans as one token with its exact range', () => {
  for (const p of PUNCTUATORS) {
    const { tokens, diagnostics } = scan(p);
    assert.deepEqual(tokens.map((t) => t.kind), [p, 'EOF'], p);
    assert.deepEqual([tokens[0]?.start, tokens[0]?.end], [0, p.length], p);
    assert.equal(diagnostics.length, 0, p);
  }
});

test('punctuators are scanned longest first', () => {
  const table: [string, string[]][] = [
    ['a<=b', ['Identifier', '<=', 'Identifier']],
    ['a<b', ['Identifier', '<', 'Identifier']],
    ['a>=b>c', ['Identifier', '>=', 'Identifier', '>', 'Identifier']],
    ['a==b=c', ['Identifier', '==', 'Identifier', '=', 'Identifier']],
    ['a!=b', ['Identifier', '!=', 'Identifier']],
    ['a**b*c', ['Identifier', '**', 'Identifier', '*', 'Identifier']],
    ['a//b/c', ['Identifier', '//', 'Identifier', '/', 'Identifier']],
    ['a.b..c', ['Identifier', '.', 'Identifier', '..', 'Identifier']],
    ['***', ['**', '*']],
    ['...', ['..', '.']],
    ['===', ['==', '=']],
    ['(){}[],:;%+-', ['(', ')', '{', '}', '[', ']', ',', ':', ';', '%', '+', '-']],
  ];
  for (const [text, expected] of table) assert.deepEqual(kinds(text), expected, text);
});

test('keywords are reserved and everything else name-like is an identifier', () => {
  for (const k of KEYWORDS) {
    const { tokens } = scan(k);
    assert.equal(tokens[0]?.kind, k);
    assert.equal(tokens[0]?.value, k);
  }
  for (const name of ['kv', 'heads', '_', '_x1', 'a1_b', 'modelx', 'Model', 'IF', 'tied_lora', 'bf16', 'L4']) {
    const { tokens } = scan(name);
    assert.equal(tokens[0]?.kind, 'Identifier', name);
    assert.equal(tokens[0]?.value, name);
    assert.deepEqual([tokens[0]?.start, tokens[0]?.end], [0, name.length]);
  }
});

test('number literals: digits without separators, then the suffix', () => {
  const table: [string, string, string][] = [
    ['0', '0', ''],
    ['007', '007', ''],
    ['256_000', '256000', ''],
    ['1_000_000', '1000000', ''],
    ['1_0.2_5', '10.25', ''],
    ['1.5', '1.5', ''],
    ['0.1', '0.1', ''],
    ['1e-5', '1e-5', ''],
    ['1E+3', '1E+3', ''],
    ['2e10', '2e10', ''],
    ['1.5e3K', '1.5e3', 'K'],
    ['1.2B', '1.2', 'B'],
    ['8K', '8', 'K'],
  ];
  for (const [text, digits, suffix] of table) {
    const { tokens, diagnostics } = scan(text);
    assert.deepEqual(
      { kind: tokens[0]?.kind, digits: tokens[0]?.value, suffix: tokens[0]?.suffix, end: tokens[0]?.end },
      { kind: 'Number', digits, suffix, end: text.length },
      text,
    );
    assert.equal(tokens.length, 2, text);
    assert.equal(diagnostics.length, 0, text);
  }
});

test('every documented suffix is accepted', () => {
  const documented = ['K', 'M', 'G', 'B', 'T', 'Ki', 'Mi', 'Gi', 'Ti', 'KB', 'MB', 'GB', 'TB',
    'KiB', 'MiB', 'GiB', 'TiB', 'bytes', 'ms', 'us', 's'];
  assert.deepEqual([...WRITTEN_SUFFIXES].sort(), [...documented].sort());
  for (const suffix of documented) {
    const { tokens, diagnostics } = scan(`12${suffix}`);
    assert.equal(tokens[0]?.suffix, suffix);
    assert.equal(tokens[0]?.value, '12');
    assert.equal(diagnostics.length, 0, suffix);
  }
});

test('a malformed suffix is one bad-number error and the number keeps an empty suffix', () => {
  const table: [string, string, string][] = [
    // text, digits, the error's span
    ['2x', '2', '1-2'],
    ['8Kx', '8', '1-3'],
    ['1kb', '1', '1-3'],
    ['1_', '1', '1-2'],
    ['1__0', '1', '1-4'],
    ['1e', '1', '1-2'],
    ['3MIB', '3', '1-4'],
  ];
  for (const [text, digits, span] of table) {
    const { tokens } = scan(text);
    assert.equal(tokens[0]?.kind, 'Number', text);
    assert.equal(tokens[0]?.value, digits, text);
    assert.equal(tokens[0]?.suffix, '', text);
    assert.equal(tokens[0]?.end, text.length, `${text}: the token still covers the whole literal`);
    assert.deepEqual(errors(text), [`npas-syntax-bad-number@${span}`], text);
  }
  // An exponent needs a digit: `1e+` is the number 1 with a bad suffix `e`, then `+`.
  assert.deepEqual(kinds('1e+'), ['Number', '+']);
  assert.deepEqual(errors('1e+'), ['npas-syntax-bad-number@1-2']);
});

test('a dot after a number is a decimal point only before a digit', () => {
  assert.deepEqual(kinds('0..18'), ['Number', '..', 'Number']);
  assert.deepEqual(scan('0..18').tokens.map((t) => [t.start, t.end]), [[0, 1], [1, 3], [3, 5], [5, 5]]);
  assert.deepEqual(kinds('1.5'), ['Number']);
  assert.deepEqual(kinds('1.'), ['Number', '.']);
  assert.deepEqual(kinds('1.x'), ['Number', '.', 'Identifier']);
  assert.deepEqual(kinds('1.5.2'), ['Number', '.', 'Number']);
});

test('strings decode their escapes and may not span lines', () => {
  const table: [string, string][] = [
    ['""', ''],
    ['"abc"', 'abc'],
    ['"a\\"b"', 'a"b'],
    ['"a\\\\b"', 'a\\b'],
    ['"a\\nb"', 'a\nb'],
    ['"# not a comment"', '# not a comment'],
    ['"ünï"', 'ünï'],
  ];
  for (const [text, value] of table) {
    const { tokens, diagnostics } = scan(text);
    assert.equal(tokens[0]?.kind, 'String', text);
    assert.equal(tokens[0]?.value, value, text);
    assert.equal(tokens[0]?.end, text.length, text);
    assert.equal(diagnostics.length, 0, text);
  }
});

test('an unterminated string ends at the end of its line', () => {
  const { tokens, diagnostics } = scan('"abc\nx');
  assert.deepEqual(tokens.map((t) => t.kind), ['String', 'Identifier', 'EOF']);
  assert.equal(tokens[0]?.value, 'abc');
  assert.equal(tokens[0]?.end, 4);
  assert.equal(tokens[1]?.newlineBefore, true);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.range.start, d.range.end]), [['npas-syntax-unterminated-string', 0, 4]]);
  assert.deepEqual(errors('"abc'), ['npas-syntax-unterminated-string@0-4']);
  assert.deepEqual(errors('"abc\\'), ['npas-syntax-unterminated-string@0-5']);
});

test('an unknown escape is reported and kept literally', () => {
  const { tokens } = scan('"a\\qb"');
  assert.equal(tokens[0]?.value, 'a\\qb');
  assert.deepEqual(errors('"a\\qb"'), ['npas-syntax-unexpected-char@2-4']);
});

test('comments run to the end of the line', () => {
  assert.deepEqual(kinds('# only a comment'), []);
  assert.deepEqual(kinds('a # comment = 1 (\nb'), ['Identifier', 'Identifier']);
  assert.deepEqual(kinds('a#b'), ['Identifier']);
});

test('newlineBefore marks tokens that start a line, the first token and EOF', () => {
  const table: [string, boolean[]][] = [
    ['a b\nc', [true, false, true, true]],
    ['a\r\nb', [true, true, true]],
    ['a\rb', [true, true, true]],
    ['\n\n  a # c\n  b', [true, true, true]],
    ['a # c\n', [true, true]],
    ['a; b', [true, false, false, true]],
  ];
  for (const [text, flags] of table) {
    assert.deepEqual(scan(text).tokens.map((t) => t.newlineBefore), flags, JSON.stringify(text));
  }
});

test('characters that start no token become one Unknown token per run, with one error', () => {
  const table: [string, string[], string[]][] = [
    ['$', ['Unknown'], ['npas-syntax-unexpected-char@0-1']],
    ['$$$ a', ['Unknown', 'Identifier'], ['npas-syntax-unexpected-char@0-3']],
    ['a!b', ['Identifier', 'Unknown', 'Identifier'], ['npas-syntax-unexpected-char@1-2']],
    ['é', ['Unknown'], ['npas-syntax-unexpected-char@0-1']],
    ['caf\u00e9', ['Identifier', 'Unknown'], ['npas-syntax-unexpected-char@3-4']],
    ['\u{1F600}', ['Unknown'], ['npas-syntax-unexpected-char@0-2']],
    ['a @ b ` c', ['Identifier', 'Unknown', 'Identifier', 'Unknown', 'Identifier'],
      ['npas-syntax-unexpected-char@2-3', 'npas-syntax-unexpected-char@6-7']],
    ['\u0000', ['Unknown'], ['npas-syntax-unexpected-char@0-1']],
  ];
  for (const [text, expectedKinds, expectedErrors] of table) {
    assert.deepEqual(kinds(text), expectedKinds, JSON.stringify(text));
    assert.deepEqual(errors(text), expectedErrors, JSON.stringify(text));
  }
  assert.match(scan('\u{1F600}').diagnostics[0]?.message ?? '', /Unexpected character '\u{1F600}'/u);
});

test('a byte order mark, tabs and form feeds are whitespace', () => {
  const { tokens, diagnostics } = scan('\uFEFFa\t\f\vb');
  assert.deepEqual(tokens.map((t) => [t.kind, t.start]), [['Identifier', 1], ['Identifier', 5], ['EOF', 6]]);
  assert.equal(diagnostics.length, 0);
});

test('the EOF token sits at the end of the text', () => {
  for (const text of ['', 'a', 'a  ', 'a\n']) {
    const { tokens } = scan(text);
    const eof = tokens[tokens.length - 1];
    assert.deepEqual([eof?.kind, eof?.start, eof?.end], ['EOF', text.length, text.length]);
  }
});

test('the scanner is linear: a megabyte of mixed input scans quickly', () => {
  const line = 'attn = Attention(d, heads: 8, kv_heads: 1, head_dim: 256) # comment\n';
  const text = line.repeat(Math.ceil(1_000_000 / line.length));
  scan(text);
  const t0 = performance.now();
  const { tokens } = scan(text);
  const elapsed = performance.now() - t0;
  assert.ok(tokens.length > 200_000);
  assert.ok(elapsed < 1000, `scan took ${elapsed.toFixed(1)} ms`);
});
