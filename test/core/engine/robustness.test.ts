// analyze() never throws, never reports an internal error, and stays fast, on random mutations
// of the example gallery and on pathological inputs. Mutations come from a seeded PRNG, so a
// failure is reproducible from the printed seed and index.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, type AnalysisResult } from '../../../src/core/index.js';
import { prng } from '../../fixtures/prng.js';

const examplesDir = join(__dirname, '..', '..', '..', 'examples');
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.npas'))
  .sort()
  .map((f) => readFileSync(join(examplesDir, f), 'utf8'));

const FRAGMENTS = [
  '(', ')', '[', ']', '{', '}', ',', ':', ';', '.', '..', '*', '+', '-', '/', '//', '%', '**', '=', '==', '<=',
  '0', '1', '-1', '2.5', '10**9', '1e999', '8Ki', '1GB', '40ms', 'none', 'true', 'if', 'then', 'else', 'for', 'in',
  'share', 'kv', 'heads', 'tied', 'tie', 'adapt', 'route', 'bank', 'hash', 'freeze', 'train', 'relax', 'all',
  'cycle(0)', 'cycle(99)', 'map([0])', 'every(1)', 'lora(rank: 1)', 'mor(recursions: 9)', 'body', 'body[3]',
  'Decoder', 'Attention(', 'Linear(8, 8)', '"', '#', '\n', ' ', 'x', 'model', 'block', 'variant', 'budget',
];

function mutate(text: string, rnd: () => number): string {
  let t = text;
  const edits = 1 + Math.floor(rnd() * 4);
  for (let j = 0; j < edits; j++) {
    const pos = Math.floor(rnd() * (t.length + 1));
    const op = rnd();
    if (op < 0.3) t = t.slice(0, pos) + t.slice(pos + 1 + Math.floor(rnd() * 12));
    else if (op < 0.7) t = t.slice(0, pos) + FRAGMENTS[Math.floor(rnd() * FRAGMENTS.length)]! + t.slice(pos);
    else {
      const from = Math.floor(rnd() * t.length);
      t = t.slice(0, pos) + t.slice(from, from + Math.floor(rnd() * 60)) + t.slice(pos);
    }
  }
  return t;
}

/** The properties every analysis must have, whatever the input. */
function assertSane(text: string, r: AnalysisResult, label: string): void {
  for (const d of r.diagnostics) {
    assert.ok(!/internal (parser )?error/i.test(d.message) && (d.code as string) !== 'npas-internal-error', `${label}: ${d.code}: ${d.message}`);
    assert.ok(d.range.start >= 0 && d.range.start <= d.range.end && d.range.end <= text.length, `${label}: range ${d.range.start}..${d.range.end} inside the text`);
  }
  for (const m of r.models) {
    assert.ok(m.params.stored >= 0n && m.params.effective >= 0n && m.params.trainable >= 0n, `${label}: ${m.name} non-negative params`);
    assert.ok(m.kvCacheBytes >= 0n && m.flops.prefill >= 0n, `${label}: ${m.name} non-negative metrics`);
  }
}

test('the unmutated examples analyse without internal errors', () => {
  examples.forEach((t, i) => assertSane(t, analyze(t), `example ${i}`));
});

test('analyze never throws on 400 seeded random mutations of the examples', () => {
  const seed = 20_261_127;
  const rnd = prng(seed);
  const started = performance.now();
  for (let k = 0; k < 400; k++) {
    const text = mutate(examples[Math.floor(rnd() * examples.length)]!, rnd);
    let r: AnalysisResult;
    const t0 = performance.now();
    try {
      r = analyze(text);
    } catch (e) {
      assert.fail(`seed ${seed}, mutation ${k} threw: ${e instanceof Error ? e.stack : String(e)}\n${text}`);
    }
    assertSane(text, r, `seed ${seed}, mutation ${k}`);
    assert.ok(performance.now() - t0 < 2000, `seed ${seed}, mutation ${k} took ${(performance.now() - t0).toFixed(0)} ms`);
  }
  assert.ok(performance.now() - started < 20_000);
});

// [label, source, a diagnostic code that must be reported (or undefined for none)]
const PATHOLOGICAL: readonly [string, string, string | undefined][] = [
  ['huge power', 'x = 2 ** 1000000\n', 'npas-eval-too-large'],
  ['huge power of a big base', 'x = (10 ** 200) ** 1000\n', 'npas-eval-too-large'],
  ['huge literal', `x = 1${'0'.repeat(100_000)}\n`, 'npas-eval-too-large'],
  ['1e999', 'x = 1e999\n', undefined],
  // A repeat is one run, counted as a bigint: 10¹² layers are exact; only the model's totals are bounded (10³⁰).
  ['a trillion layers are counted exactly', 'block B { l = Linear(4, 4) }\nmodel M { body = B * 10**12 }\n', undefined],
  ['repetition past 10^30 parameters', 'block B { l = Linear(4, 4) }\nmodel M { body = B * 10**29 }\n', 'npas-eval-too-large'],
  ['a billion layers is still symbolic', 'block B { l = Linear(4, 4) }\nmodel M { body = B * 10**9 }\n', undefined],
  ['repeating a mixed stack a billion times', 'model M { body = (Linear(2, 2) + Linear(2, 3)) * 10**9 }\n', 'npas-eval-too-large'],
  ['self-instantiating block', 'model M {\n  block S { s = S() }\n  x = S\n}\n', 'npas-name-cycle'],
  ['bare self reference', 'model M {\n  block S { s = S }\n  x = S\n}\n', 'npas-name-cycle'],
  ['mutual block recursion', 'model M {\n  block A { b = B }\n  block B { a = A }\n  x = A\n}\n', 'npas-name-cycle'],
  [
    '100-deep block nesting',
    (() => {
      let s = 'model M {\n  block B0 { l = Linear(2, 2) }\n';
      for (let i = 1; i <= 100; i++) s += `  block B${i} { inner = B${i - 1} }\n`;
      return `${s}  top = B100\n}\n`;
    })(),
    'npas-eval-too-large',
  ],
  [
    '60-deep block nesting is fine',
    (() => {
      let s = 'model M {\n  block B0 { l = Linear(2, 2) }\n';
      for (let i = 1; i <= 60; i++) s += `  block B${i} { inner = B${i - 1} }\n`;
      return `${s}  top = B60\n}\n`;
    })(),
    undefined,
  ],
  ['100,000 nested parentheses', `x = ${'('.repeat(100_000)}1${')'.repeat(100_000)}\n`, 'npas-syntax-too-deep'],
  ['100,000 unary minus', `x = ${'-'.repeat(100_000)}1\n`, 'npas-syntax-too-deep'],
  ['a 100,000-term sum', `x = ${Array(100_000).fill('1').join(' + ')}\n`, undefined],
  ['comprehension beyond the limit', 'model M { b = [Linear(2, 2) for i in 0..10**7] }\n', 'npas-eval-too-large'],
  ['variant deriving from itself', 'variant A of B { }\nvariant B of A { }\n', 'npas-name-cycle'],
  ['only garbage', '}}}{{{)))(((]]]', undefined],
  ['empty file', '', undefined],
  ['unterminated string', 'x = "abc\nmodel M { l = Linear(2, 2) }\n', 'npas-syntax-unterminated-string'],
  ['share kv on a billion layers', 'model M { body = Attention(64, heads: 4) * 10**9 }\nvariant V of M { share kv body: every(3) }\n', undefined],
];

for (const [label, src, code] of PATHOLOGICAL) {
  test(`pathological input: ${label}`, () => {
    const t0 = performance.now();
    let r: AnalysisResult;
    try {
      r = analyze(src);
    } catch (e) {
      assert.fail(`threw: ${e instanceof Error ? e.message : String(e)}`);
    }
    const ms = performance.now() - t0;
    assertSane(src, r, label);
    if (code) assert.ok(r.diagnostics.some((d) => d.code === code), `${code} expected; got ${r.diagnostics.map((d) => d.code).join(', ')}`);
    assert.ok(ms < 3000, `${label} took ${ms.toFixed(0)} ms`);
  });
}

test('a billion-layer stack keeps exact counts', () => {
  // Linear(4, 4) = 16 params; 10^9 instances = 1.6·10^10; share kv every(3) on Attention(64,
  // heads 4) = 16,384 params: ⌈10^9/3⌉ = 333,333,334 producers, 666,666,666 borrowers drop
  // 8,192 each.
  const r = analyze('block B { l = Linear(4, 4) }\nmodel M { body = B * 10**9 }\nmodel A { body = Attention(64, heads: 4) * 10**9 }\nvariant V of A { share kv body: every(3) }\n');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.models[0]!.params.stored, 16_000_000_000n);
  assert.equal(r.models[2]!.params.stored, 16_384n * 10n ** 9n - 666_666_666n * 8192n);
});

test('invalid analysis settings from a host fall back to the defaults with a diagnostic', () => {
  // Defaults: seq 4,096, batch 1, bf16. Attention(64, heads: 4) caches 2·64 elements per
  // token: 128·4,096·2 bytes = 1,048,576.
  const src = 'model A { att = Attention(64, heads: 4) }';
  const bad: Record<string, unknown>[] = [{ seq: 0 }, { seq: -5 }, { seq: 1.5 }, { seq: Number.NaN }, { batch: 0 }, { srcSeq: -1 }, { dtype: 'fp7' }];
  for (const o of bad) {
    const r = analyze(src, o as never);
    assertSane(src, r, JSON.stringify(o));
    assert.ok(r.diagnostics.some((d) => d.code === 'npas-eval-range' && d.message.startsWith('the analysis setting')), JSON.stringify(o));
    assert.equal(r.models[0]!.kvCacheBytes, 1_048_576n, JSON.stringify(o));
  }
});

/** Every number a report carries, as JSON: no Infinity, NaN or null may appear (issue 12). */
function assertFinite(r: AnalysisResult, label: string): void {
  // The model-level numbers and the members' (a stack of 10⁶ pieces has a tree too large to stringify whole).
  const shallow = r.models.map((m) => ({ ...m, tree: { ...m.tree, children: m.tree.children.map((c) => ({ ...c, children: [] })) } }));
  const json = JSON.stringify(shallow, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  assert.doesNotMatch(json, /null|Infinity|NaN/, `${label}: a non-finite number in the report`);
}

test('seeded fuzz of work-heavy shapes: nested comprehensions, repeats, recursions and forward chains stay bounded and exact-or-refused', () => {
  const rnd = prng(12_012);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const big = (): number => pick([1, 2, 7, 100, 999, 5_000, 1_000_000, 999_999_999, 10 ** 9]);
  const generators: readonly (() => string)[] = [
    // Nested comprehensions of numbers and of modules, two or three deep.
    () => `xs = [[${rnd() < 0.5 ? `[i + j + k for k in ${big()}]` : 'i * j'} for j in ${big()}] for i in ${big()}]\nmodel M { l = Linear(4, 4) }\n`,
    () => `model M { block B(w = 1) { l = Linear(8, 8 + w) }\n  body = [[B(w: i + j) for j in ${big()}] for i in ${big()}]\n}\n`,
    // Repeats of repeats and of mixed stacks.
    () => `model M { body = ((RMSNorm(1) * ${big()}) * ${big()}) * ${pick([1, 2, 3])} }\n`,
    () => `model M { body = (Linear(4, 4) + RMSNorm(4)) * ${big()} }\n`,
    () => `model M { block A { l = Linear(4, 4) }\n  block B { a = A * ${big()} }\n  block C { b = B * ${big()} }\n  body = C * ${big()}\n}\n`,
    // Recursions over stacks of every size.
    () => `model M { block B { l = Linear(64, 64) }\n  body = B * ${big()}\n}\nvariant R of M { route body: mor(recursions: ${big()}) }\n`,
    // Forward chains, sometimes closing on themselves.
    () => {
      const n = pick([10, 100, 3_000]);
      let t = '';
      for (let i = 0; i < n; i++) t += `c${i} = c${i + 1} + 1\n`;
      return `${t}c${n} = ${rnd() < 0.3 ? 'c0' : '1'}\nmodel M { l = Linear(c0, 1) }\n`;
    },
  ];
  for (let i = 0; i < 40; i++) {
    const src = pick(generators)();
    const label = `work-heavy #${i}: ${src.slice(0, 100).replace(/\n/g, ' ')}`;
    const t0 = performance.now();
    let r: AnalysisResult;
    try {
      r = analyze(src);
    } catch (e) {
      assert.fail(`${label} threw: ${e instanceof Error ? e.message : String(e)}`);
    }
    const ms = performance.now() - t0;
    assertSane(src, r, label);
    assertFinite(r, label);
    assert.ok(ms < 20_000, `${label} took ${ms.toFixed(0)} ms`);
    if (ms > 2_000) console.log(`${label}: ${ms.toFixed(0)} ms`);
  }
});
