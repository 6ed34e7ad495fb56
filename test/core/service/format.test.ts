// The canonical formatter: expected output for each rule; idempotence and equivalence (same
// tokens, line structure and comments, an equal tree) over every example; edits that rebuild
// the formatted text; and seeded fuzzing of whitespace and of arbitrary mutations, where the
// formatter must never lose text and never format a file with a syntax error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatEdits, formatSource, parse, type TextEdit } from '../../../src/core/index.js';
import { scan } from '../../../src/core/syntax/scanner.js';
import { prng } from '../../fixtures/prng.js';

const EXAMPLES_DIR = join(__dirname, '..', '..', '..', 'examples');
const EXAMPLES = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.npas'))
  .sort()
  .map((f) => ({ name: f, text: readFileSync(join(EXAMPLES_DIR, f), 'utf8') }));

function apply(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.range.start - a.range.start)) out = out.slice(0, e.range.start) + e.newText + out.slice(e.range.end);
  return out;
}

/** The parse tree without positions, for comparing two texts' structure. */
function shape(text: string): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (!/range$/i.test(k)) out[k] = strip(x);
      return out;
    }
    return v;
  };
  return strip(parse(text).file);
}

/** Comments in order, without trailing whitespace. */
function comments(text: string): string[] {
  return [...text.matchAll(/#[^\r\n]*/g)].map((m) => m[0].trimEnd());
}

const RULES: readonly { name: string; input: string; output: string }[] = [
  { name: 'one space around = and binary operators', input: 'model M{\nd=8\nx=Linear(d*2+1,d-1)\n}', output: 'model M {\n  d = 8\n  x = Linear(d * 2 + 1, d - 1)\n}\n' },
  { name: '`name: value` in arguments, no space inside brackets', input: 'model M {\n  x = Attention( 64 , heads : 4 )\n}\n', output: 'model M {\n  x = Attention(64, heads: 4)\n}\n' },
  { name: 'unary minus, power, comparison, conditional', input: 'a = - 1\nb = 2**-a\nc = if a>0 then -a else a\n', output: 'a = -1\nb = 2 ** -a\nc = if a > 0 then -a else a\n' },
  { name: 'indexing, members, ranges and comprehensions', input: 'model M {\n  block B { x = Linear(2, 2) }\n  body = [ B for i in 0 .. 4 ]\n  adapt body [ 0 ] . x : lora ( rank : 2 )\n}\n', output: 'model M {\n  block B { x = Linear(2, 2) }\n  body = [B for i in 0..4]\n  adapt body[0].x: lora(rank: 2)\n}\n' },
  { name: '2-space indentation by nesting, closers back at their opener', input: 'model M {\nblock B {\nx = Linear(\n2,\n2\n)\n}\n        body = B * 2\n    }\n', output: 'model M {\n  block B {\n    x = Linear(\n      2,\n      2\n    )\n  }\n  body = B * 2\n}\n' },
  { name: 'several brackets opened on one line indent once', input: 'model M {\n  x = max([\n  1, 2\n  ])\n  y = Linear(x, x)\n}\n', output: 'model M {\n  x = max([\n    1, 2\n  ])\n  y = Linear(x, x)\n}\n' },
  { name: 'blank lines collapse to one; none at the start; one line break at the end', input: '\n\n\nd = 1\n\n\n\ne = 2\n\n\n', output: 'd = 1\n\ne = 2\n' },
  { name: 'trailing whitespace goes, comments stay (two spaces before a trailing one)', input: 'd = 1   # one   \n   # own line  \ne = 2\t\n', output: 'd = 1  # one\n# own line\ne = 2\n' },
  { name: 'semicolons and one-line bodies', input: 'model M {x = Linear(2, 2) ;y = RMSNorm(2)}\n', output: 'model M { x = Linear(2, 2); y = RMSNorm(2) }\n' },
  { name: 'metrics with keyword parts and settings', input: 'model M { x = Linear(2, 2) }\nbudget M {\nflops.train (seq:8K)<=1T\nkv ( dtype : bf16 ) <= 128MiB\n}\n', output: 'model M { x = Linear(2, 2) }\nbudget M {\n  flops.train(seq: 8K) <= 1T\n  kv(dtype: bf16) <= 128MiB\n}\n' },
  { name: 'statements with modifiers, relax, tie and tied', input: 'model M {\n  block B { a = Attention(8, heads: 2) }\n  body = B*4\n  e = Embedding(10, 8)\n  h = Linear(8, 10)  tied  e\n  share kv body:tied\n  share body:cycle(2)relax lora(rank:2)\n  tie h=e\n}\n', output: 'model M {\n  block B { a = Attention(8, heads: 2) }\n  body = B * 4\n  e = Embedding(10, 8)\n  h = Linear(8, 10) tied e\n  share kv body: tied\n  share body: cycle(2) relax lora(rank: 2)\n  tie h = e\n}\n' },
  { name: 'CRLF line endings are kept', input: 'model M {\r\n x = Linear(2, 2)\r\n}\r\n', output: 'model M {\r\n  x = Linear(2, 2)\r\n}\r\n' },
  { name: 'an empty body', input: 'model M {   }\n', output: 'model M {}\n' },
  { name: 'an empty file stays empty', input: '\n\n  \n', output: '' },
];

for (const r of RULES) {
  test(`format: ${r.name}`, () => {
    assert.equal(formatSource(r.input), r.output);
    assert.equal(apply(r.input, formatEdits(r.input)), r.output);
    assert.equal(formatSource(r.output), r.output, 'idempotent');
  });
}

test('format: a file with a syntax error gets no edits', () => {
  for (const text of ['model M {\n  x = \n}\n', 'model M {\n  x = Linear(2, 2\n}\n', 'd = 8x\n', 'model M { x = Linear(2, 2) }\n}\n', 'd = "open\n']) {
    assert.deepEqual(formatEdits(text), [], JSON.stringify(text));
    assert.equal(formatSource(text), undefined);
  }
});

for (const e of EXAMPLES) {
  test(`format ${e.name}: idempotent, and the same tree, tokens and comments`, () => {
    const once = formatSource(e.text);
    assert.ok(once !== undefined, 'the example formats');
    assert.equal(formatSource(once), once, 'idempotent');
    assert.deepEqual(shape(once), shape(e.text));
    assert.deepEqual(comments(once), comments(e.text));
    assert.equal(apply(e.text, formatEdits(e.text)), once, 'the edits rebuild the formatted text');
    assert.ok(!/[ \t]+$/m.test(once), 'no trailing whitespace');
    assert.ok(!/\n\n\n/.test(once), 'single blank lines');
  });
}

/**
 * Re-spaces a text between its tokens (comments and strings untouched): a gap on one line gets
 * random horizontal whitespace (possibly none where there was none), a line break gets random
 * trailing and leading blanks, and a blank line random extra ones. None of this may change the
 * canonical form.
 */
function respace(text: string, random: () => number): string {
  const blanks = (): string => ['', ' ', '  ', '\t', ' \t '][Math.floor(random() * 5)]!;
  const tokens = scan(text).tokens;
  let out = '';
  let pos = 0;
  for (const t of tokens) {
    const gap = text.slice(pos, t.start);
    if (gap.includes('#')) out += gap;
    else if (!/[\r\n]/.test(gap)) out += gap === '' && pos > 0 ? (random() < 0.3 ? ' ' : '') : pos === 0 ? gap : blanks() || ' ';
    else {
      const lines = gap.split(/\r?\n/).length - 1;
      out += `${blanks()}\n${lines > 1 ? `${blanks()}\n`.repeat(1 + Math.floor(random() * 2)) : ''}${blanks()}`;
    }
    out += text.slice(t.start, t.end);
    pos = t.end;
  }
  return out + text.slice(pos);
}

test('format fuzz: re-spaced examples format to the same canonical text', () => {
  for (const e of EXAMPLES) {
    const canonical = formatSource(e.text)!;
    for (let seed = 1; seed <= 20; seed++) {
      const variant = respace(e.text, prng(seed * 7919 + e.name.length));
      const formatted = formatSource(variant);
      assert.equal(formatted, canonical, `${e.name}, seed ${seed}`);
    }
  }
});

test('format fuzz: arbitrary mutations never lose text and never format a broken file', () => {
  const pieces = ['(', ')', '{', '}', '[', ']', ',', ':', '=', '-', '*', '**', '..', '.', '#', '\n', ' ', 'x', '8', 'Ki', 'share ', 'tied ', '"s"', ';'];
  let formatted = 0;
  for (const e of EXAMPLES.slice(0, 6)) {
    for (let seed = 1; seed <= 150; seed++) {
      const random = prng(seed * 104729 + e.name.length);
      let text = e.text;
      const edits = 1 + Math.floor(random() * 3);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(random() * text.length);
        const cut = random() < 0.5 ? Math.floor(random() * 4) : 0;
        text = text.slice(0, at) + pieces[Math.floor(random() * pieces.length)]! + text.slice(at + cut);
      }
      const out = formatSource(text);
      const where = `${e.name}, seed ${seed}`;
      if (parse(text).diagnostics.length > 0) {
        assert.equal(out, undefined, `${where}: a file with errors is not formatted`);
        continue;
      }
      assert.ok(out !== undefined, `${where}: a clean file formats`);
      formatted++;
      assert.deepEqual(shape(out), shape(text), `${where}: same tree`);
      assert.deepEqual(comments(out), comments(text), `${where}: same comments`);
      assert.equal(formatSource(out), out, `${where}: idempotent`);
      assert.equal(apply(text, formatEdits(text)), out, `${where}: edits rebuild it`);
    }
  }
  // Enough clean mutants to mean something (comments and whitespace absorb many edits).
  assert.ok(formatted > 100, `only ${formatted} clean mutants`);
});
