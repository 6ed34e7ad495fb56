// Tests of error recovery: each malformed input must yield exactly the listed errors (usually
// one), at exact ranges, and the members after the mistake must still be parsed. Also covers the
// de-duplication of errors, the cap of 100 errors per file, and the nesting guard.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../../src/core/syntax/parser.js';
import type { Member, SourceFile } from '../../../src/core/syntax/syntax-tree.js';

type Span = readonly [number, number];

/** The span of the `occurrence`-th (from 1) occurrence of `needle` in `text`. */
function span(text: string, needle: string, occurrence = 1): Span {
  let at = -1;
  for (let i = 0; i < occurrence; i++) {
    at = text.indexOf(needle, at + 1);
    assert.ok(at >= 0, `'${needle}' occurs ${occurrence} times in the test input`);
  }
  return [at, at + needle.length];
}

/** The empty span right after the first occurrence of `needle`. */
function after(text: string, needle: string): Span {
  const [, end] = span(text, needle);
  return [end, end];
}

function memberOutline(m: Member): string {
  switch (m.kind) {
    case 'Binding':
      return m.name.text;
    case 'Block':
      return `block ${m.name.text}{${m.members.map(memberOutline).join(',')}}`;
    case 'Statement':
      return m.keyword;
  }
}

/** A one-line outline of the declarations and members that were parsed. */
function outline(file: SourceFile): string {
  return file.items
    .map((item) => {
      switch (item.kind) {
        case 'Binding':
          return item.name.text;
        case 'Budget':
          return `budget ${item.target.text}{${item.constraints.map((c) => c.metric.map((m) => m.text).join('.')).join(',')}}`;
        case 'Import':
          return `import ${JSON.stringify(item.path.value)}${item.names ? `{${item.names.map((n) => n.text).join(',')}}` : ''}`;
        case 'Plan':
          return `plan ${item.target.text}{${[...item.settings.map((b) => b.name.text), ...item.constraints.map((c) => c.metric.map((m) => m.text).join('.'))].join(',')}}`;
        default:
          return `${item.kind.toLowerCase()} ${item.name.text}{${item.members.map(memberOutline).join(',')}}`;
      }
    })
    .join(' ');
}

interface RecoveryCase {
  readonly name: string;
  readonly text: string;
  /** [code, span] for every expected error, in order. */
  readonly errors: (text: string) => readonly (readonly [string, Span])[];
  readonly outline: string;
}

const CASES: readonly RecoveryCase[] = [
  {
    name: 'missing ) before the next binding',
    text: 'model M {\n  attn = Attention(d, heads: 8, kv_heads: 1, head_dim: 256\n  mlp = MLP(d)\n}',
    errors: (t) => [['npas-syntax-expected', after(t, '256')]],
    outline: 'model M{attn,mlp}',
  },
  {
    name: 'tied inside an unclosed argument list',
    text: 'model M {\n  lm_head = Linear(d, vocab tied embed\n  norm = RMSNorm(d)\n}',
    errors: (t) => [['npas-syntax-unexpected-token', span(t, 'tied')]],
    outline: 'model M{lm_head,norm}',
  },
  {
    name: 'a stray character',
    text: 'model M {\n  x = 3 $ 4\n  y = 2\n}',
    errors: (t) => [['npas-syntax-unexpected-char', span(t, '$')]],
    outline: 'model M{x,y}',
  },
  {
    name: 'a misspelled declaration keyword skips the whole braced body',
    text: 'modle Gemma {\n  block D {\n    a = 1\n  }\n  x = 2\n}\nmodel N { y = 1 }',
    errors: (t) => [['npas-syntax-expected', span(t, 'Gemma')]],
    outline: 'modle model N{y}',
  },
  {
    name: 'missing } before the next declaration',
    text: 'model M {\n  x = 1\nvariant V of M {\n  share body: all\n}',
    errors: (t) => [['npas-syntax-expected', after(t, 'x = 1')]],
    outline: 'model M{x} variant V{share}',
  },
  {
    name: 'missing = in a binding',
    text: 'model M {\n  x 3\n  y = 2\n}',
    errors: (t) => [['npas-syntax-expected', span(t, '3')]],
    outline: 'model M{x,y}',
  },
  {
    name: ': instead of = in a binding',
    text: 'model M {\n  x: 3\n  y = 2\n}',
    errors: (t) => [['npas-syntax-expected', span(t, ':')]],
    outline: 'model M{x,y}',
  },
  {
    name: 'missing : in a statement',
    text: 'variant V of M {\n  share body cycle(9)\n  y = 1\n}',
    errors: (t) => [['npas-syntax-expected', span(t, 'cycle')]],
    outline: 'variant V{share,y}',
  },
  {
    name: 'missing , between share targets',
    text: 'variant V of M {\n  share body.attn body.moe: all\n  y = 1\n}',
    errors: (t) => [['npas-syntax-expected', span(t, 'body', 2)]],
    outline: 'variant V{share,y}',
  },
  {
    name: 'missing , between freeze targets',
    text: 'variant V of M {\n  freeze a zz\n  train b\n}',
    errors: (t) => [['npas-syntax-expected', span(t, 'zz')]],
    outline: 'variant V{freeze,train}',
  },
  {
    name: 'missing ) in parentheses',
    text: 'model M {\n  x = (a b)\n  y = 2\n}',
    errors: (t) => [['npas-syntax-expected', span(t, 'b')]],
    outline: 'model M{x,y}',
  },
  {
    name: 'an extra )',
    text: 'model M {\n  x = f(a, b))\n  y = 2\n}',
    errors: (t) => [['npas-syntax-unexpected-token', [t.indexOf('))') + 1, t.indexOf('))') + 2]]],
    outline: 'model M{x,y}',
  },
  {
    name: 'an unterminated string',
    text: 'model M {\n  x = "abc\n  y = 2\n}',
    errors: (t) => [['npas-syntax-unterminated-string', [t.indexOf('"'), t.indexOf('abc') + 3]]],
    outline: 'model M{x,y}',
  },
  {
    name: 'an unknown number suffix',
    text: 'model M {\n  x = 2x + 1\n  y = 2\n}',
    errors: (t) => [['npas-syntax-bad-number', span(t, 'x', 2)]],
    outline: 'model M{x,y}',
  },
  {
    name: 'an operand missing at the end of the line',
    text: 'model M {\n  x = 1 +\n  y = 2\n}',
    errors: (t) => [['npas-syntax-expected', after(t, '+')]],
    outline: 'model M{x,y}',
  },
  {
    name: 'a constraint without its comparison',
    text: 'budget B {\n  params.stored 1.2B\n  kv <= 1MiB\n}',
    errors: (t) => [['npas-syntax-expected', span(t, '1.2B')]],
    outline: 'budget B{params.stored,kv}',
  },
  {
    name: 'a constraint with an unclosed argument list',
    text: 'budget B {\n  kv(seq: 8K <= 1MiB\n  latency.decode(device: L4) <= 40ms\n}',
    errors: (t) => [['npas-syntax-expected', after(t, '1MiB')]],
    outline: 'budget B{kv,latency.decode}',
  },
  {
    name: 'missing ] in a list',
    text: 'model M {\n  x = [1, 2\n  y = 2\n}',
    errors: (t) => [['npas-syntax-expected', after(t, '2')]],
    outline: 'model M{x,y}',
  },
  {
    name: 'a model without {',
    text: 'model M\n  x = 1\n}\nmodel N {}',
    errors: (t) => [['npas-syntax-expected', after(t, 'model M')]],
    outline: 'model M{x} model N{}',
  },
  {
    name: 'a parameter list without )',
    text: 'model M(a = 1, b {\n  x = 1\n}',
    errors: (t) => [['npas-syntax-expected', after(t, 'b')]],
    outline: 'model M{x}',
  },
  {
    name: 'if without else',
    text: 'x = if a then b\ny = 3',
    errors: (t) => [['npas-syntax-expected', after(t, 'then b')]],
    outline: 'x y',
  },
  {
    name: 'a keyword used as a binding name',
    text: 'model M {\n  train = 3\n  y = 2\n}',
    errors: (t) => [['npas-syntax-unexpected-token', span(t, 'train')]],
    outline: 'model M{train,y}',
  },
  {
    name: 'stray closing braces at top level',
    text: '}}}\nx = 1',
    errors: () => [['npas-syntax-unexpected-token', [0, 1]]],
    outline: 'x',
  },
  {
    name: 'an operator at the start of a line',
    text: 'model M {\n  x = a\n    + b\n  y = 1\n}',
    errors: (t) => [['npas-syntax-unexpected-token', span(t, '+')]],
    outline: 'model M{x,y}',
  },
  {
    name: 'a statement at top level',
    text: 'share body: all\nmodel M {}',
    errors: (t) => [['npas-syntax-unexpected-token', span(t, 'share')]],
    outline: 'model M{}',
  },
  {
    name: 'a doubled =',
    text: 'model M {\n  x = = 3\n  y = 1\n}',
    errors: (t) => [['npas-syntax-expected', span(t, '=', 2)]],
    outline: 'model M{x,y}',
  },
  {
    name: 'a member name missing after .',
    text: 'model M {\n  x = a.\n  y = 1\n}',
    errors: (t) => [['npas-syntax-expected', after(t, 'a.')]],
    outline: 'model M{x,y}',
  },
  {
    name: 'the file ends inside an argument list',
    text: 'model M {\n  x = f(1,',
    errors: (t) => [['npas-syntax-expected', [t.length, t.length]]],
    outline: 'model M{x}',
  },
  {
    name: 'two members on one line',
    text: 'model M {\n  x = 1 y = 2\n  z = 3\n}',
    errors: (t) => [['npas-syntax-unexpected-token', span(t, 'y')]],
    outline: 'model M{x,z}',
  },
  {
    name: 'a variant without of',
    text: 'variant V M {\n  share body: all\n}',
    errors: (t) => [['npas-syntax-expected', span(t, 'M')]],
    outline: 'variant V{share}',
  },
  {
    name: 'a missing comma between parameters on separate lines',
    text: 'block B(\n  a = 1\n  b = 2\n) {\n  x = a\n}',
    errors: (t) => [['npas-syntax-expected', span(t, 'b', 2)]],
    outline: 'block B{x}',
  },
  {
    name: 'a missing comma between arguments',
    text: 'model M {\n  attn = Attention(d heads: 8)\n  y = 1\n}',
    errors: (t) => [['npas-syntax-expected', span(t, 'heads')]],
    outline: 'model M{attn,y}',
  },
  {
    name: 'a comprehension without in',
    text: 'model M {\n  x = [i for i 3]\n  y = 1\n}',
    errors: (t) => [['npas-syntax-expected', span(t, '3')]],
    outline: 'model M{x,y}',
  },
  {
    name: 'a block without a name',
    text: 'model M {\n  block {\n    x = 1\n  }\n  y = 2\n}',
    errors: (t) => [['npas-syntax-expected', span(t, '{', 2)]],
    outline: 'model M{block {x},y}',
  },
  {
    name: 'a stray token at the start of a member',
    text: 'model M {\n  ) x = 1\n  y = 2\n}',
    errors: (t) => [['npas-syntax-unexpected-token', span(t, ')')]],
    outline: 'model M{y}',
  },
  {
    name: 'a chained comparison',
    text: 'x = a < b < c\ny = 1',
    errors: (t) => [['npas-syntax-unexpected-token', span(t, '<', 2)]],
    outline: 'x y',
  },
  {
    name: 'relax on the next line',
    text: 'variant V of M {\n  share body: all\n  relax lora(rank: 4)\n  freeze x\n}',
    errors: (t) => [['npas-syntax-unexpected-token', span(t, 'relax')]],
    outline: 'variant V{share,freeze}',
  },
  {
    name: 'an allocate without arguments',
    text: 'model M {\n  allocate\n  y = 1\n}',
    errors: (t) => [['npas-syntax-expected', after(t, 'allocate')]],
    outline: 'model M{allocate,y}',
  },
];

test('each malformed input yields exactly its errors, and later members survive', () => {
  assert.ok(CASES.length >= 15);
  for (const c of CASES) {
    const { file, diagnostics } = parse(c.text);
    const actual = diagnostics.map((d) => [d.code, [d.range.start, d.range.end]]);
    assert.deepEqual(actual, c.errors(c.text), `${c.name}: ${diagnostics.map((d) => d.message).join(' | ')}`);
    assert.equal(outline(file), c.outline, c.name);
    for (const d of diagnostics) assert.equal(d.severity, 'error');
  }
});

test('recovered values are what the user evidently meant', () => {
  // `x: 3` keeps its value; `share body cycle(9)` keeps its strategy; `shar e` skips nothing else.
  const colon = parse('model M {\n  x: 3\n}').file.items[0];
  assert.ok(colon?.kind === 'Model');
  const x = colon.members[0];
  assert.ok(x?.kind === 'Binding');
  assert.equal(x.value.kind, 'Number');

  const share = parse('variant V of M {\n  share body cycle(9)\n}').file.items[0];
  assert.ok(share?.kind === 'Variant');
  const statement = share.members[0];
  assert.ok(statement?.kind === 'Statement');
  assert.equal(statement.value?.kind, 'Call');
  assert.equal(statement.targets.length, 1);

  // A missing `=`: the binding exists with a Missing value (no cascade of unknown names later).
  const missing = parse('model M {\n  x 3\n}').file.items[0];
  assert.ok(missing?.kind === 'Model');
  const bare = missing.members[0];
  assert.ok(bare?.kind === 'Binding');
  assert.equal(bare.value.kind, 'Missing');
  assert.deepEqual(bare.value.range, { start: 13, end: 13 }, 'empty, right after the name');
});

test('missing pieces are empty placeholders right where they were expected', () => {
  const text = 'x =\nblock {}\ntie a =\nmodel M { share : all }';
  const { file } = parse(text);
  const [x, block, model] = file.items;
  assert.ok(x?.kind === 'Binding' && block?.kind === 'Block' && model?.kind === 'Model');
  assert.deepEqual(x.value, { kind: 'Missing', range: { start: 3, end: 3 } });
  assert.deepEqual(block.name, { kind: 'Identifier', text: '', range: { start: 9, end: 9 } });
  const share = model.members[0];
  assert.ok(share?.kind === 'Statement');
  const target = share.targets[0];
  assert.ok(target !== undefined);
  const at = text.indexOf('share') + 5;
  assert.deepEqual(target.range, { start: at, end: at });
  assert.equal(share.value?.kind, 'Name');
});

test('never two errors at the same offset', () => {
  // The unknown character, the missing operand and the stray token all sit at `$`.
  const { diagnostics } = parse('x = $\ny = (\n');
  const starts = diagnostics.map((d) => d.range.start);
  assert.equal(new Set(starts).size, starts.length);
  assert.deepEqual(diagnostics.map((d) => d.code), ['npas-syntax-unexpected-char', 'npas-syntax-expected']);
});

test('at most 100 errors are reported, and parsing continues past them', () => {
  const text = 'model M {\n' + '  x = )\n'.repeat(500) + '  last = 1\n}';
  const { file, diagnostics } = parse(text);
  assert.equal(diagnostics.length, 100);
  const model = file.items[0];
  assert.ok(model?.kind === 'Model');
  assert.equal(model.members.length, 501);
  assert.equal(model.members[500]?.kind === 'Binding' && model.members[500].name.text, 'last');
});

test('nesting is capped instead of overflowing the stack', () => {
  const table: [string, string][] = [
    ['x = ' + '('.repeat(10_000), 'parentheses without end'],
    ['x = ' + '('.repeat(10_000) + '1' + ')'.repeat(10_000) + '\ny = 2', 'balanced parentheses'],
    ['x = ' + '['.repeat(10_000) + '\ny = 2', 'brackets'],
    ['x = ' + '-'.repeat(10_000) + '1\ny = 2', 'unary minus'],
    ['x = ' + 'not '.repeat(10_000) + 'a\ny = 2', 'not'],
    ['x = ' + '2 ** '.repeat(10_000) + '2\ny = 2', 'power'],
    ['x = 1' + ' + 1'.repeat(10_000) + '\ny = 2', 'a long left-leaning chain'],
    ['x = a' + '.b'.repeat(10_000) + '\ny = 2', 'a long member chain'],
    ['x = ' + 'f('.repeat(10_000) + '\ny = 2', 'nested calls'],
    ['model M {\n' + 'block B {\n'.repeat(10_000), 'nested blocks'],
  ];
  for (const [text, what] of table) {
    const { file, diagnostics } = parse(text);
    assert.equal(file.kind, 'SourceFile', what);
    const tooDeep = diagnostics.filter((d) => d.code === 'npas-syntax-too-deep');
    assert.equal(tooDeep.length, 1, `${what}: ${diagnostics.map((d) => d.message).join(' | ')}`);
    assert.ok(diagnostics.length <= 2, `${what}: at most the depth error and one missing bracket`);
    if (text.includes('\ny = 2')) {
      assert.deepEqual(file.items.map((i) => (i.kind === 'Binding' ? i.name.text : i.kind)), ['x', 'y'], what);
    }
  }
  // Nesting within the limit is fine.
  const ok = parse('x = ' + '('.repeat(150) + '1' + ')'.repeat(150));
  assert.equal(ok.diagnostics.length, 0);
});

test('the depth message says what the limit counts: a long flat sum is a chain of operators, not nesting', () => {
  // Issue 12: a flat 2,500,000-term sum was refused as "nested more than 1000 levels deep".
  const sum = parse(`x = ${Array(2_000).fill('1').join(' + ')}\ny = 2`).diagnostics.filter((d) => d.code === 'npas-syntax-too-deep');
  assert.equal(sum.length, 1);
  assert.match(sum[0]!.message, /chains more than 1,000 operators/);
  assert.doesNotMatch(sum[0]!.message, /nested/);
  const parens = parse(`x = ${'('.repeat(2_000)}1${')'.repeat(2_000)}`).diagnostics.filter((d) => d.code === 'npas-syntax-too-deep');
  assert.equal(parens.length, 1);
  assert.match(parens[0]!.message, /nested more than 1,000 levels deep/);
  // A sum inside deep brackets is still nesting: brackets make most of the depth.
  const mixed = parse(`x = ${'('.repeat(990)}${Array(20).fill('1').join(' + ')}${')'.repeat(990)}`).diagnostics.filter((d) => d.code === 'npas-syntax-too-deep');
  assert.equal(mixed.length, 1);
  assert.match(mixed[0]!.message, /nested more than/);
});

test('messages quote at most a short piece of a huge token', () => {
  for (const junk of ['$'.repeat(100_000), '9'.repeat(100_000) + 'x', 'a'.repeat(100_000)]) {
    const { diagnostics } = parse(`x = 1 ${junk}`);
    assert.equal(diagnostics.length, 1);
    assert.ok((diagnostics[0]?.message.length ?? 0) < 200, diagnostics[0]?.message.slice(0, 300));
  }
});
