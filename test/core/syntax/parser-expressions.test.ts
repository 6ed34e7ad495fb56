// Tests of expression parsing: precedence and associativity exactly as in docs/language.md,
// postfix forms, lists and comprehensions, the newline rule, and exact node ranges.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../../src/core/syntax/parser.js';
import { render } from './render-tree.js';
import type { Expression } from '../../../src/core/syntax/syntax-tree.js';


/** Parses `x = <source>` and returns the bound expression, asserting there were no errors. */
function expr(source: string): Expression {
  const { file, diagnostics } = parse(`x = ${source}`);
  assert.deepEqual(diagnostics.map((d) => d.message), [], source);
  const item = file.items[0];
  assert.ok(item?.kind === 'Binding', source);
  assert.equal(file.items.length, 1, source);
  return item.value;
}

test('precedence and associativity follow the operator table', () => {
  const table: [string, string][] = [
    ['1 + 2 * 3', '(+ 1 (* 2 3))'],
    ['1 * 2 + 3', '(+ (* 1 2) 3)'],
    ['a - b - c', '(- (- a b) c)'],
    ['a / b // c % d * e', '(* (% (// (/ a b) c) d) e)'],
    ['2 ** 3 ** 2', '(** 2 (** 3 2))'],
    ['-2 ** 2', '(- (** 2 2))'],
    ['2 ** -1', '(** 2 (- 1))'],
    ['2 ** -2 ** 2', '(** 2 (- (** 2 2)))'],
    ['-a * b', '(* (- a) b)'],
    ['- - a', '(- (- a))'],
    ['a * -b', '(* a (- b))'],
    ['2 * 3 ** 2', '(* 2 (** 3 2))'],
    ['a < b + 1', '(< a (+ b 1))'],
    ['a + 1 >= b * 2', '(>= (+ a 1) (* b 2))'],
    ['a == b and c != d', '(and (== a b) (!= c d))'],
    ['a <= b or a > c', '(or (<= a b) (> a c))'],
    ['a or b and c', '(or a (and b c))'],
    ['a and b or c', '(or (and a b) c)'],
    ['a or b or c', '(or (or a b) c)'],
    ['not a and b', '(and (not a) b)'],
    ['not a == b', '(not (== a b))'],
    ['not not a', '(not (not a))'],
    ['a and not b', '(and a (not b))'],
    ['if a then b else c', '(if a b c)'],
    ['if a then b else c + 1', '(if a b (+ c 1))'],
    ['if a > 1 then x or y else if b then 2 else 3', '(if (> a 1) (or x y) (if b 2 3))'],
    ['if if a then b else c then d else e', '(if (if a b c) d e)'],
    ['(1 + 2) * 3', '(* (+ 1 2) 3)'],
    ['((a))', 'a'],
    ['-(a + b)', '(- (+ a b))'],
    ['Dense + MoEDecoder * 26', '(+ Dense (* MoEDecoder 26))'],
    ['Decoder * 18', '(* Decoder 18)'],
  ];
  for (const [source, expected] of table) assert.equal(render(expr(source)), expected, source);
});

test('literals', () => {
  const table: [string, string][] = [
    ['256_000', '256000'],
    ['1.2B', '1.2B'],
    ['128MiB', '128MiB'],
    ['40ms', '40ms'],
    ['1e-5', '1e-5'],
    ['"text"', '"text"'],
    ['true', 'true'],
    ['false', 'false'],
    ['none', 'none'],
    ['bf16', 'bf16'],
    ['kv', 'kv'],
  ];
  for (const [source, expected] of table) assert.equal(render(expr(source)), expected, source);
});

test('postfix call, member and index bind tightest and chain left to right', () => {
  const table: [string, string][] = [
    ['f()', '(call f)'],
    ['f(x)(y)', '(call (call f x) y)'],
    ['f(a, b: 2,)', '(call f a b:2)'],
    ['Attention(d, heads: 8, kv_heads: 1)', '(call Attention d heads:8 kv_heads:1)'],
    ['a.b.c', '(. (. a b) c)'],
    ['a[1][2]', '([] ([] a 1) 2)'],
    ['x.y(1).z[2]', '([] (. (call (. x y) 1) z) 2)'],
    ['-f(x) ** 2', '(- (** (call f x) 2))'],
    ['min(a, b, c)', '(call min a b c)'],
    ['lora(rank: r, targets: [q, v])', '(call lora rank:r targets:[q v])'],
    ['(f)(x)', '(call f x)'],
  ];
  for (const [source, expected] of table) assert.equal(render(expr(source)), expected, source);
});

test('lists and comprehensions', () => {
  const table: [string, string][] = [
    ['[]', '[]'],
    ['[a]', '[a]'],
    ['[a, b]', '[a b]'],
    ['[a, b,]', '[a b]'],
    ['[[1, 2], [3]]', '[[1 2] [3]]'],
    ['[1, 2/3, 1/3]', '[1 (/ 2 3) (/ 1 3)]'],
    ['[x for i in 3]', '(for x i _ 3)'],
    ['[x for i in 0..18]', '(for x i 0 18)'],
    ['[i for i in a+1..b*2]', '(for i i (+ a 1) (* b 2))'],
    [
      '[Decoder(window: if i % 2 == 0 then 4096 else none) for i in 0..18]',
      '(for (call Decoder window:(if (== (% i 2) 0) 4096 none)) i 0 18)',
    ],
    ['[[j for j in i] for i in 4]', '(for (for j j _ i) i _ 4)'],
  ];
  for (const [source, expected] of table) assert.equal(render(expr(source)), expected, source);
});

test('inside brackets, line breaks are ignored', () => {
  const table: [string, string][] = [
    ['f(a,\n  b)', '(call f a b)'],
    ['f(\n  a,\n  b,\n)', '(call f a b)'],
    ['(a\n  + b)', '(+ a b)'],
    ['[a\n  , b]', '[a b]'],
    ['[x\n for i\n in 0\n ..4]', '(for x i 0 4)'],
    ['if a\n  then b\n  else c', '(if a b c)'],
  ];
  for (const [source, expected] of table) assert.equal(render(expr(source)), expected, JSON.stringify(source));
});

test('outside brackets, an operator that starts a line does not continue the expression', () => {
  const { file, diagnostics } = parse('model M {\n  a = b\n  c = d * 2\n  e = f(1)\n}');
  assert.equal(diagnostics.length, 0);
  const model = file.items[0];
  assert.ok(model?.kind === 'Model');
  assert.deepEqual(model.members.map((m) => (m.kind === 'Binding' ? `${m.name.text}=${render(m.value)}` : m.kind)), [
    'a=b',
    'c=(* d 2)',
    'e=(call f 1)',
  ]);

  for (const op of ['+', '-', '*', '/', '//', '%', '**', '==', '<', 'and', 'or', '.']) {
    const text = `x = a\n${op} b`;
    const result = parse(text);
    const x = result.file.items[0];
    assert.ok(x?.kind === 'Binding', op);
    assert.equal(render(x.value), 'a', `${op} at the start of a line must not continue`);
    assert.equal(result.diagnostics.length, 1, op);
    assert.equal(result.diagnostics[0]?.range.start, 6, op);
  }
  // The message explains the rule.
  const hint = parse('x = a\n  + b').diagnostics[0]?.message ?? '';
  assert.match(hint, /does not continue the previous line/);
});

test('an operand cannot be on the next line outside brackets', () => {
  const { file, diagnostics } = parse('x = 1 +\ny = 2');
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.range.start, d.range.end]),
    [['npas-syntax-expected', 7, 7]],
  );
  assert.deepEqual(
    file.items.map((i) => (i.kind === 'Binding' ? `${i.name.text}=${render(i.value)}` : i.kind)),
    ['x=(+ 1 ?)', 'y=2'],
  );
});

test('expression ranges are exact, including enclosing parentheses', () => {
  // Offsets are relative to the expression (the `x = ` prefix is 4 characters).
  const source = '(a + b) * f(c, k: [1, 2])[0].m';
  const e = expr(source);
  const r = (start: number, end: number) => ({ start: start + 4, end: end + 4 });
  assert.equal(e.kind, 'Binary');
  if (e.kind !== 'Binary') return;
  assert.deepEqual(e.range, r(0, source.length));
  assert.deepEqual(e.operatorRange, r(8, 9));
  assert.deepEqual(e.left.range, r(1, 6), 'the parenthesised operand itself excludes its parentheses');
  const member = e.right;
  assert.ok(member.kind === 'Member');
  assert.deepEqual(member.range, r(10, 30));
  assert.deepEqual(member.member.range, r(29, 30));
  const index = member.object;
  assert.ok(index.kind === 'Index');
  assert.deepEqual(index.range, r(10, 28));
  assert.deepEqual(index.index.range, r(26, 27));
  const call = index.object;
  assert.ok(call.kind === 'Call');
  assert.deepEqual(call.range, r(10, 25));
  assert.deepEqual(call.argsRange, r(11, 25));
  assert.deepEqual(call.callee.range, r(10, 11));
  assert.deepEqual(call.args.map((a) => a.range), [r(12, 13), r(15, 24)]);
  const named = call.args[1];
  assert.deepEqual(named?.name?.range, r(15, 16));
  assert.deepEqual(named?.value.range, r(18, 24));

  const paren = expr('(a + b)');
  assert.deepEqual(paren.range, { start: 5, end: 10 });
  const outer = expr('(a) * (b)');
  assert.deepEqual(outer.range, { start: 4, end: 13 });

  const unary = expr('-2 ** 2');
  assert.deepEqual(unary.range, { start: 4, end: 11 });
  assert.ok(unary.kind === 'Unary');
  assert.deepEqual(unary.operand.range, { start: 5, end: 11 });

  const cond = expr('if a then b else c');
  assert.deepEqual(cond.range, { start: 4, end: 22 });

  const comp = expr('[i for i in 0..4]');
  assert.ok(comp.kind === 'Comprehension');
  assert.deepEqual(comp.range, { start: 4, end: 21 });
  assert.deepEqual(comp.variable.range, { start: 11, end: 12 });
  assert.deepEqual(comp.from?.range, { start: 16, end: 17 });
  assert.deepEqual(comp.to.range, { start: 19, end: 20 });

  const num = expr('1.2B');
  assert.deepEqual(num.range, { start: 4, end: 8 });
  const name = expr('abc');
  assert.ok(name.kind === 'Name');
  assert.deepEqual(name.name.range, { start: 4, end: 7 });
});

test('a chained comparison is one error and still yields a whole tree', () => {
  const { file, diagnostics } = parse('x = a < b < c');
  assert.deepEqual(diagnostics.map((d) => [d.code, d.range.start, d.range.end]), [['npas-syntax-unexpected-token', 10, 11]]);
  const x = file.items[0];
  assert.ok(x?.kind === 'Binding');
  assert.equal(render(x.value), '(< (< a b) c)');
  // Comparisons on either side of `and` are fine, and parentheses make a chain explicit.
  assert.equal(render(expr('a < b and b < c')), '(and (< a b) (< b c))');
  assert.equal(render(expr('(a < b) == c')), '(== (< a b) c)');
});
