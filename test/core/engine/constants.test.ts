// Constant evaluation (docs/language.md, "Numbers and units" and "Operators"), tested through the
// evaluator's file scope and through layer sizes. Every expected value is worked out by hand
// from the documented meaning of the literal or operator; errors are checked for their stable
// code and for a range that covers the offending text (marked ⟦…⟧ in the sources below).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, parse, type Diagnostic } from '../../../src/core/index.js';
import { DiagnosticSink } from '../../../src/core/diagnostics/diagnostic.js';
import { EvalContext } from '../../../src/core/semantics/evaluator.js';
import { evaluateFile } from '../../../src/core/semantics/evaluate-model.js';
import type { Value } from '../../../src/core/semantics/values.js';

/** Evaluates a file's top-level constants; returns their values and every diagnostic. */
function constants(src: string): { get(name: string): Value; diagnostics: readonly Diagnostic[] } {
  const parsed = parse(src);
  const sink = new DiagnosticSink();
  sink.items.push(...parsed.diagnostics);
  const file = evaluateFile(parsed.file, new EvalContext(sink));
  return {
    get(name) {
      const e = file.fileScope.entries.get(name);
      assert.ok(e && e.kind === 'binding' && e.state === 'done' && e.value, `constant '${name}' was evaluated`);
      return e.value;
    },
    diagnostics: sink.items,
  };
}

type Expect = { num: bigint; den?: bigint; unit?: 'count' | 'bytes' | 'seconds' } | boolean;

function assertValue(v: Value, want: Expect, label: string): void {
  if (typeof want === 'boolean') {
    assert.deepEqual(v, { kind: 'bool', value: want }, label);
    return;
  }
  assert.equal(v.kind, 'number', `${label}: a number`);
  if (v.kind !== 'number') return;
  assert.deepEqual({ num: v.value.num, den: v.value.den, unit: v.unit }, { num: want.num, den: want.den ?? 1n, unit: want.unit ?? 'count' }, label);
}

// [expression, expected value, how it follows from the docs]
const VALUES: readonly [string, Expect, string][] = [
  ['256_000', { num: 256_000n }, 'underscores are ignored'],
  ['1.2B', { num: 1_200_000_000n }, '1.2 · 10^9'],
  ['7B', { num: 7_000_000_000n }, '7 · 10^9'],
  ['3G', { num: 3_000_000_000n }, 'G = B = 10^9'],
  ['2T', { num: 2_000_000_000_000n }, '2 · 10^12'],
  ['8K', { num: 8000n }, 'K = 10^3, not 2^10'],
  ['1.5M', { num: 1_500_000n }, '1.5 · 10^6'],
  ['4Ki', { num: 4096n }, '4 · 2^10'],
  ['8Mi', { num: 8_388_608n }, '8 · 2^20'],
  ['1Gi', { num: 1_073_741_824n }, '2^30'],
  ['128MiB', { num: 134_217_728n, unit: 'bytes' }, '128 · 2^20 bytes'],
  ['80GB', { num: 80_000_000_000n, unit: 'bytes' }, '80 · 10^9 bytes'],
  ['512bytes', { num: 512n, unit: 'bytes' }, 'plain bytes'],
  ['2KiB', { num: 2048n, unit: 'bytes' }, '2 · 2^10 bytes'],
  ['40ms', { num: 1n, den: 25n, unit: 'seconds' }, '40/1000 s = 1/25 s'],
  ['1.5s', { num: 3n, den: 2n, unit: 'seconds' }, '3/2 s'],
  ['200us', { num: 1n, den: 5000n, unit: 'seconds' }, '200/10^6 s = 1/5000 s'],
  ['1e-5', { num: 1n, den: 100_000n }, 'exact 10^-5'],
  ['2.5e3', { num: 2500n }, '2.5 · 10^3'],
  ['0.1', { num: 1n, den: 10n }, 'exact decimal'],
  ['2/3', { num: 2n, den: 3n }, 'exact division keeps the fraction'],
  ['0.1 * 3 == 0.3', true, 'exact rationals: no binary rounding'],
  ['0.1 + 0.2 == 0.3', true, 'exact rationals: no binary rounding'],
  ['1/3 + 1/3 + 1/3 == 1', true, 'thirds add up exactly'],
  ['7 // 2', { num: 3n }, 'floor(3.5)'],
  ['-7 // 2', { num: -4n }, 'floor(-3.5) = -4 (floor, not truncation)'],
  ['7 // 2.5', { num: 2n }, 'floor(2.8)'],
  ['7 % 3', { num: 1n }, '7 - 3·2'],
  ['-7 % 3', { num: 2n }, '-7 - 3·floor(-7/3) = -7 + 9'],
  ['7 % -3', { num: -2n }, '7 - (-3)·floor(-7/3) = 7 - 9 (sign of the divisor)'],
  ['7.5 % 2', { num: 3n, den: 2n }, '7.5 - 2·3'],
  ['2 ** 10', { num: 1024n }, '2^10'],
  ['2 ** 3 ** 2', { num: 512n }, 'right associative: 2^(3^2) = 2^9'],
  ['2 ** -2', { num: 1n, den: 4n }, 'negative integer exponent'],
  ['-2 ** 2', { num: -4n }, '** binds tighter than unary minus: -(2^2)'],
  ['(2/3) ** 2', { num: 4n, den: 9n }, 'exact power of a fraction'],
  ['1 + 2 * 3', { num: 7n }, '* before +'],
  ['(1 + 2) * 3', { num: 9n }, 'parentheses'],
  ['10 - 4 - 3', { num: 3n }, 'left associative: (10 - 4) - 3'],
  ['min(3, 1, 2)', { num: 1n }, 'smallest'],
  ['max(1KB, 1KiB)', { num: 1024n, unit: 'bytes' }, '1 KiB = 1024 > 1000 bytes'],
  ['min(40ms, 1s)', { num: 1n, den: 25n, unit: 'seconds' }, 'durations compare'],
  ['ceil(2/3)', { num: 1n }, 'smallest integer ≥ 0.67'],
  ['ceil(-2/3)', { num: 0n }, 'smallest integer ≥ -0.67'],
  ['floor(-2/3)', { num: -1n }, 'largest integer ≤ -0.67'],
  ['floor(5)', { num: 5n }, 'integers are unchanged'],
  ['round(2.5)', { num: 3n }, 'halves away from zero'],
  ['round(-2.5)', { num: -3n }, 'halves away from zero'],
  ['round(2.49)', { num: 2n }, 'below the half'],
  ['round(-1/3)', { num: 0n }, 'nearest'],
  ['abs(-4.5)', { num: 9n, den: 2n }, '|-4.5|'],
  ['1GB / 1MB', { num: 1000n }, 'bytes / bytes is a plain count'],
  ['1GB / 2', { num: 500_000_000n, unit: 'bytes' }, 'bytes / count keeps bytes'],
  ['3 * 1KiB', { num: 3072n, unit: 'bytes' }, 'count · bytes keeps bytes'],
  ['1s - 40ms', { num: 24n, den: 25n, unit: 'seconds' }, 'equal units subtract'],
  ['128MiB == 128 * 2 ** 20 * 1bytes', true, 'a unit literal equals its expansion'],
  ['1KB < 1KiB', true, '1000 < 1024 bytes'],
  ['8K != 8Ki', true, '8000 ≠ 8192'],
  ['if 1 < 2 then 10 else 1 / 0', { num: 10n }, 'the branch not taken is not evaluated'],
  ['false and 1 / 0 > 0', false, 'and short-circuits'],
  ['true or 1 / 0 > 0', true, 'or short-circuits'],
  ['not (1 == 2)', true, 'negation'],
  ['[10, 20, 30][1]', { num: 20n }, '0-based index'],
  ['[10, 20, 30][-1]', { num: 30n }, 'negative index from the end'],
];

test('constant values: magnitudes, units, exact rationals, operators and builtins', () => {
  const src = VALUES.map(([e], i) => `c${i} = ${e}`).join('\n');
  const c = constants(src);
  assert.deepEqual(c.diagnostics.map((d) => `${d.code}: ${d.message}`), []);
  VALUES.forEach(([expr, want, why], i) => assertValue(c.get(`c${i}`), want, `${expr} (${why})`));
});

test('constants may refer to names written later, and a model sees file constants', () => {
  const c = constants('a = b * 2\nb = c + 1\nc = 20');
  assertValue(c.get('a'), { num: 42n }, 'a = (20 + 1) · 2');
  // Linear(d_in, d_out) has d_in·d_out weights (docs/layers.md): 8K · 1.5 = 12,000 outputs.
  const r = analyze('width = 8K\nmodel M { l = Linear(2, width * 1.5) }');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.models[0]!.params.stored, 2n * 12_000n);
});

/** Strips ⟦ ⟧ markers, returning the clean source and the marked span. */
function marked(src: string): { text: string; start: number; end: number } {
  const start = src.indexOf('⟦');
  const end = src.indexOf('⟧') - 1;
  assert.ok(start >= 0 && end >= start, 'the case marks the offending text');
  return { text: src.replace('⟦', '').replace('⟧', ''), start, end };
}

/** Asserts an error with this code whose range covers the marked span and stays on its line. */
function assertErrorAt(src: string, code: string): void {
  const m = marked(src);
  const r = analyze(m.text);
  const found = r.diagnostics.filter((d) => d.code === code);
  const show = r.diagnostics.map((d) => `${d.code} [${m.text.slice(d.range.start, d.range.end)}]: ${d.message}`).join('\n  ');
  assert.ok(found.length > 0, `expected ${code} in:\n${m.text}\ngot:\n  ${show}`);
  const lineStart = m.text.lastIndexOf('\n', m.start - 1) + 1;
  const nl = m.text.indexOf('\n', m.end);
  const lineEnd = nl < 0 ? m.text.length : nl;
  const covering = found.find((d) => d.range.start <= m.start && d.range.end >= m.end && d.range.start >= lineStart && d.range.end <= lineEnd);
  assert.ok(covering, `${code} should cover '${m.text.slice(m.start, m.end)}'; got:\n  ${show}`);
  assert.equal(covering.severity, 'error');
}

// [source with the offending text marked, code]
const ERRORS: readonly [string, string][] = [
  ['x = 1GB ⟦+⟧ 2', 'npas-eval-unit'],
  ['x = 40ms ⟦-⟧ 1KB', 'npas-eval-unit'],
  ['x = 1s ⟦<⟧ 1', 'npas-eval-unit'],
  ['x = 1KB ⟦*⟧ 1KB', 'npas-eval-unit'],
  ['x = 2 ⟦**⟧ 1KB', 'npas-eval-unit'],
  ['x = min⟦(1KB, 2)⟧', 'npas-eval-unit'],
  ['x = 1 / ⟦0⟧', 'npas-eval-division-by-zero'],
  ['x = 5 % ⟦0⟧', 'npas-eval-division-by-zero'],
  ['x = 5 // ⟦0⟧', 'npas-eval-division-by-zero'],
  ['x = 1 / (⟦2 - 2⟧)', 'npas-eval-division-by-zero'],
  ['x = ⟦0 ** -1⟧', 'npas-eval-division-by-zero'],
  ['x = 2 ** ⟦0.5⟧', 'npas-eval-not-integer'],
  ['x = 2 ** ⟦1000000⟧', 'npas-eval-too-large'],
  ['x = ⟦foo⟧ + 1', 'npas-name-unknown'],
  ['model M { l = Linear(8, ⟦dd⟧) }', 'npas-name-unknown'],
  ['a = b\nb = ⟦a⟧', 'npas-name-cycle'],
  ['a = ⟦a⟧ + 1', 'npas-name-cycle'],
  ['dup = 1\n⟦dup⟧ = 2', 'npas-name-duplicate'],
  ['model M {\n  d = 1\n  ⟦d⟧ = 2\n  l = Linear(d, d)\n}', 'npas-name-duplicate'],
  ['model M { l = Linear(10, ⟦2.5⟧) }', 'npas-eval-not-integer'],
  ['model M { l = Linear(10, ⟦2MiB⟧) }', 'npas-eval-unit'],
  ['model M { l = Linear(⟦0⟧, 4) }', 'npas-eval-range'],
  ['model M { l = Linear(⟦-4⟧, 4) }', 'npas-eval-range'],
  ['model M { l = Linear(4, 4, ⟦bais⟧: true) }', 'npas-layer-unknown-arg'],
  ['model M { l = Linear⟦(4)⟧ }', 'npas-layer-missing-arg'],
  ['model M { l = Linear(4, 4) * ⟦0⟧ }', 'npas-eval-range'],
  ['model M { l = Linear(4, 4) * ⟦1.5⟧ }', 'npas-eval-not-integer'],
  ['model M {\n  block S { s = ⟦S()⟧ }\n  x = S\n}', 'npas-name-cycle'],
  ['model M { b = [Linear(2, ⟦i⟧) for i in 0..3] }', 'npas-eval-range'],
  ['x = [1, 2][⟦5⟧]', 'npas-eval-range'],
  ['x = if ⟦1⟧ then 2 else 3', 'npas-eval-type'],
  ['x = true ⟦+⟧ 1', 'npas-eval-type'],
  ['model M { l = Linear(2, 2) }\nvariant V of M { ⟦zz⟧ = 3 }', 'npas-override-unknown'],
  ['variant V of ⟦Nope⟧ { }', 'npas-model-unknown'],
];

for (const [src, code] of ERRORS) {
  test(`error ${code}: ${src.replace(/\n/g, ' ⏎ ')}`, () => assertErrorAt(src, code));
}

test('an error poisons its value: one diagnostic, no follow-on errors, other models still analysed', () => {
  const r = analyze('bad = 1 / 0\nx = bad + 1\ny = x * 2\nmodel M { l = Linear(2, 3) }');
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['npas-eval-division-by-zero']);
  assert.equal(r.models[0]!.params.stored, 6n);
});

test('index-dependent comprehension: [Blk(w: if i % 2 == 0 then 4 else none) for i in 0..6]', () => {
  // Even instances get w = 4, odd ones none → width 8. Linear(8, k) has 8·k weights:
  // 3·(8·4) + 3·(8·8) = 96 + 192 = 288, and 2·288 = 576 FLOPs per token.
  const src = `model M {
  block Blk(w = none) { l = Linear(8, if w == none then 8 else w) }
  body = [Blk(w: if i % 2 == 0 then 4 else none) for i in 0..6]
}`;
  const r = analyze(src);
  assert.deepEqual(r.diagnostics, []);
  const m = r.models[0]!;
  assert.equal(m.params.stored, 288n);
  assert.equal(m.params.effective, 288n);
  assert.equal(m.flops.decode, 576n);
  const stack = m.tree.children[0]!;
  assert.equal(stack.count, 6n);
  // Instances alternate, so no two neighbours merge: six runs of one.
  assert.deepEqual(stack.children.map((c) => [c.firstIndex, c.count, c.params.stored]), [
    [0n, 1n, 32n], [1n, 1n, 64n], [2n, 1n, 32n], [3n, 1n, 64n], [4n, 1n, 32n], [5n, 1n, 64n],
  ]);
});

test('comprehension forms: `for i in n` is 0..n, a..b excludes b, nested stacks flatten', () => {
  // [Linear(4, i + 1) for i in 3] = widths 1, 2, 3 → 4·(1+2+3) = 24.
  // [Linear(4, 2) for i in 1..4] = three of 4·2 → 24.  (A + B) * 2 + A = 5 instances.
  const src = `model M {
  a = [Linear(4, i + 1) for i in 3]
  b = [Linear(4, 2) for i in 1..4]
  c = (Linear(2, 2) + Linear(2, 3)) * 2 + Linear(2, 2)
}`;
  const r = analyze(src);
  assert.deepEqual(r.diagnostics, []);
  const [a, b, c] = r.models[0]!.tree.children;
  assert.equal(a!.params.stored, 24n);
  assert.equal(b!.params.stored, 24n);
  assert.equal(c!.count, 5n);
  // 3·(2·2) + 2·(2·3) = 12 + 12 = 24.
  assert.equal(c!.params.stored, 24n);
});

test('variants override constants and parameters, and every layer that uses them follows', () => {
  // Base: Linear(d, 4d) with d = 8 → 8·32 = 256. Variant d = 16 → 16·64 = 1024.
  // Model parameter L = 2 repeats it; the variant's L = 3 gives 3 · 1024.
  const src = `model M(L = 2) {
  d = 8
  l = Linear(d, 4 * d) * L
}
variant V of M { d = 16
  L = 3 }`;
  const r = analyze(src);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.models.map((m) => m.params.stored), [2n * 256n, 3n * 1024n]);
});

test('scopes: a file-level block does not see model constants; block parameters default left to right', () => {
  // C(a = 2, b = a·2): C → Linear(2, 4) = 8; C(3) → Linear(3, 6) = 18; C(b: 5) → Linear(2, 5) = 10.
  const r = analyze(`block B { l = Linear(d, 8) }
model M {
  d = 8
  x = B
}
block C(a = 2, b = a * 2) { l = Linear(a, b) }
model N {
  y = C
  z = C(3)
  w = C(b: 5)
}`);
  const unknown = r.diagnostics.filter((d) => d.code === 'npas-name-unknown');
  assert.equal(unknown.length, 1);
  assert.equal(unknown[0]!.range.start, 'block B { l = Linear('.length);
  assert.equal(r.models.find((m) => m.name === 'N')!.params.stored, 8n + 18n + 10n);
});

test('variants replace blocks and modules, and chain: a variant of a variant keeps its statements', () => {
  // O: Dec = Linear(8, 8) = 64, ×2, head Linear(8, 2) = 16 → 144.
  // O2 replaces Dec by Linear(d, 2d) = 128 and shares body: stored 128 + 16, effective 256 + 16.
  // O3 (of O2) sets d = 4 and head = Linear(d, 3): Dec = Linear(4, 8) = 32, one store;
  //   stored 32 + 12 = 44, effective 64 + 12 = 76.
  const r = analyze(`model O {
  d = 8
  block Dec { l = Linear(d, d) }
  body = Dec * 2
  head = Linear(d, 2)
}
variant O2 of O { block Dec { l = Linear(d, 2 * d) }
  share body: all }
variant O3 of O2 { head = Linear(d, 3)
  d = 4 }`);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.models.map((m) => [m.name, m.kind, m.base, m.params.stored, m.params.effective]), [
    ['O', 'model', undefined, 144n, 144n],
    ['O2', 'variant', 'O', 144n, 272n],
    ['O3', 'variant', 'O2', 44n, 76n],
  ]);
});
