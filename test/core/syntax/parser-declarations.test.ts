// Tests of declarations and statements: every top-level item, every member and statement form,
// keyword versus identifier, separators, and exact ranges. Includes the Gemma example of
// docs/language.md parsed without a single error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GEMMA } from './gemma-sample.js';
import { parse } from '../../../src/core/syntax/parser.js';
import { render, renderArg } from './render-tree.js';
import type {
  Member,
  Path,
  Statement,
  TopLevelItem,
} from '../../../src/core/syntax/syntax-tree.js';



function renderPath(p: Path | undefined): string {
  if (p === undefined) return '-';
  return p.segments
    .map((s, i) => (s.kind === 'PathName' ? (i === 0 ? s.name.text : `.${s.name.text}`) : `[${render(s.index)}]`))
    .join('');
}

/** One line per statement: keyword, modifier, label, targets, source, value, relax, args. */
function renderStatement(s: Statement): string {
  return [
    s.keyword,
    s.modifier ? `mod=${s.modifier.text}` : '',
    s.label ? `label=${s.label.text}` : '',
    `targets=${s.targets.map(renderPath).join(',')}`,
    s.source ? `source=${renderPath(s.source)}` : '',
    s.value ? `value=${render(s.value)}` : '',
    s.relax ? `relax=${render(s.relax)}` : '',
    s.args.length > 0 ? `args=${s.args.map(renderArg).join(',')}` : '',
  ]
    .filter((part) => part !== '')
    .join(' ');
}

function renderMember(m: Member): string {
  switch (m.kind) {
    case 'Binding':
      return `${m.name.text}=${render(m.value)}${m.tiedTo ? ` tied ${renderPath(m.tiedTo)}` : ''}`;
    case 'Block':
      return `block ${m.name.text}{${m.members.map(renderMember).join('; ')}}`;
    case 'Statement':
      return renderStatement(m);
  }
}

/** Parses a whole file, asserting it has no errors. */
function items(text: string): readonly TopLevelItem[] {
  const { file, diagnostics } = parse(text);
  assert.deepEqual(diagnostics.map((d) => `${d.code} ${d.range.start}: ${d.message}`), [], text);
  return file.items;
}

/** Parses `model M { <body> }` and returns its members. */
function members(body: string): readonly Member[] {
  const model = items(`model M {\n${body}\n}`)[0];
  assert.ok(model?.kind === 'Model');
  return model.members;
}

test('the Gemma example of docs/language.md parses without errors', () => {
  const parsed = items(GEMMA);
  assert.deepEqual(parsed.map((i) => i.kind), ['Model', 'Variant', 'Budget']);
  const [model, variant, budget] = parsed;
  assert.ok(model?.kind === 'Model' && variant?.kind === 'Variant' && budget?.kind === 'Budget');
  assert.equal(model.name.text, 'Gemma2B');
  assert.deepEqual(model.members.map(renderMember), [
    'vocab=256000',
    'd=2048',
    'block Decoder{attn_norm=(call RMSNorm d); attn=(call Attention d heads:8 kv_heads:1 head_dim:256); ' +
      'mlp_norm=(call RMSNorm d); mlp=(call GatedMLP d 16384 act:gelu)}',
    'embed=(call Embedding vocab d)',
    'body=(* Decoder 18)',
    'norm=(call RMSNorm d)',
    'lm_head=(call Linear d vocab) tied embed',
  ]);
  assert.equal(variant.name.text, 'RecursiveGemma');
  assert.equal(variant.base.text, 'Gemma2B');
  assert.deepEqual(variant.members.map(renderMember), [
    'share targets=body value=(call cycle 9) relax=(call lora rank:64)',
    'share mod=kv targets=body value=(call every 2)',
  ]);
  assert.equal(budget.target.text, 'RecursiveGemma');
  assert.deepEqual(
    budget.constraints.map((c) => `${c.metric.map((m) => m.text).join('.')}(${c.args.map(renderArg).join(',')}) ${c.operator} ${render(c.limit)}`),
    ['params.stored() <= 1.2B', 'kv(seq:8K,batch:1,dtype:bf16) <= 128MiB'],
  );
  // The file's range is the whole text; each item's range runs from its keyword to its `}`.
  const { file } = parse(GEMMA);
  assert.deepEqual(file.range, { start: 0, end: GEMMA.length });
  assert.equal(GEMMA.slice(model.range.start, model.range.end).startsWith('model Gemma2B {'), true);
  assert.equal(GEMMA.slice(model.range.end - 1, model.range.end), '}');
  assert.equal(GEMMA.slice(budget.range.start, budget.range.end), GEMMA.slice(GEMMA.indexOf('budget'), -1));
});

test('top-level bindings, with and without tied', () => {
  const parsed = items('L = 12\nd = 64 * 12\nhead = Linear(d, 10) tied body[3].attn.q\n');
  assert.deepEqual(parsed.map((i) => (i.kind === 'Binding' ? renderMember(i) : i.kind)), [
    'L=12',
    'd=(* 64 12)',
    'head=(call Linear d 10) tied body[3].attn.q',
  ]);
});

test('binding, path and segment ranges are exact', () => {
  const text = 'h = Linear(d) tied body[3].q';
  const b = items(text)[0];
  assert.ok(b?.kind === 'Binding');
  assert.deepEqual(b.range, { start: 0, end: text.length });
  assert.deepEqual(b.name.range, { start: 0, end: 1 });
  assert.deepEqual(b.value.range, { start: 4, end: 13 });
  const path = b.tiedTo;
  assert.ok(path !== undefined);
  assert.deepEqual(path.range, { start: 19, end: 28 });
  assert.deepEqual(path.segments.map((s) => [s.kind, s.range.start, s.range.end]), [
    ['PathName', 19, 23],
    ['PathIndex', 23, 26],
    ['PathName', 26, 28],
  ]);
  const last = path.segments[2];
  assert.ok(last?.kind === 'PathName');
  assert.deepEqual(last.name.range, { start: 27, end: 28 });
});

test('blocks and models with parameters', () => {
  const text = 'block Decoder(window = none, d,) {\n  x = 1\n}\nmodel GPT(L = 12, d = 768) { body = Decoder(d: d) * L }';
  const [block, model] = items(text);
  assert.ok(block?.kind === 'Block' && model?.kind === 'Model');
  assert.equal(block.name.text, 'Decoder');
  assert.deepEqual(block.parameters.map((p) => `${p.name.text}=${render(p.defaultValue)}`), ['window=none', 'd=-']);
  assert.deepEqual(block.parameters.map((p) => [p.range.start, p.range.end]), [[14, 27], [29, 30]]);
  assert.deepEqual(block.range, { start: 0, end: 44 });
  assert.deepEqual(block.members.map(renderMember), ['x=1']);
  assert.deepEqual(model.parameters.map((p) => `${p.name.text}=${render(p.defaultValue)}`), ['L=12', 'd=768']);
  assert.deepEqual(model.members.map(renderMember), ['body=(* (call Decoder d:d) L)']);
  // Parameters may span lines, and a `{` may start the next line.
  const multi = items('model M(\n  a = 1,\n  b = 2\n)\n{\n  x = a\n}')[0];
  assert.ok(multi?.kind === 'Model');
  assert.deepEqual(multi.parameters.map((p) => p.name.text), ['a', 'b']);
  assert.deepEqual(multi.members.map(renderMember), ['x=a']);
});

test('nested blocks, variants and budgets', () => {
  const text = [
    'model M {',
    '  block Outer {',
    '    block Inner(k = 2) { w = Linear(k, k) }',
    '    i = Inner * 2',
    '  }',
    '  body = Outer',
    '}',
    'variant Small of M { d = 512; mlp = MoE(d, experts: 8) }',
    'variant Smaller of Small {',
    '}',
    'budget Small {',
    '  params.stored <= 1.2B',
    '  params.active < 1B',
    '  flops.train >= 1',
    '  memory.train > 2GiB',
    '  latency.decode(device: L4) == 40ms',
    '}',
    'budget Empty {}',
  ].join('\n');
  const [model, small, smaller, budget, empty] = items(text);
  assert.ok(model?.kind === 'Model');
  assert.deepEqual(model.members.map(renderMember), [
    'block Outer{block Inner{w=(call Linear k k)}; i=(* Inner 2)}',
    'body=Outer',
  ]);
  assert.ok(small?.kind === 'Variant' && smaller?.kind === 'Variant');
  assert.deepEqual([small.name.text, small.base.text], ['Small', 'M']);
  assert.deepEqual(small.members.map(renderMember), ['d=512', 'mlp=(call MoE d experts:8)']);
  assert.deepEqual([smaller.name.text, smaller.base.text, smaller.members.length], ['Smaller', 'Small', 0]);
  assert.ok(budget?.kind === 'Budget' && empty?.kind === 'Budget');
  assert.deepEqual(
    budget.constraints.map((c) => `${c.metric.map((m) => m.text).join('.')}${c.args.length ? `(${c.args.map(renderArg).join(',')})` : ''} ${c.operator} ${render(c.limit)}`),
    ['params.stored <= 1.2B', 'params.active < 1B', 'flops.train >= 1', 'memory.train > 2GiB', 'latency.decode(device:L4) == 40ms'],
  );
  assert.equal(empty.constraints.length, 0);
  const last = budget.constraints[4];
  assert.ok(last !== undefined);
  assert.equal(text.slice(last.range.start, last.range.end), 'latency.decode(device: L4) == 40ms');
  assert.deepEqual(last.metric.map((m) => text.slice(m.range.start, m.range.end)), ['latency', 'decode']);
});

test('every statement form builds the uniform Statement node', () => {
  const table: [string, string][] = [
    ['share body: cycle(9)', 'share targets=body value=(call cycle 9)'],
    ['share body: cycle(9) relax lora(rank: 64)', 'share targets=body value=(call cycle 9) relax=(call lora rank:64)'],
    ['share body: all', 'share targets=body value=all'],
    ['share body: none', 'share targets=body value=none'],
    ['share body: [0, 0, 1]', 'share targets=body value=[0 0 1]'],
    ['share body.attn, body.moe: all', 'share targets=body.attn,body.moe value=all'],
    ['share kv body: every(2)', 'share mod=kv targets=body value=(call every 2)'],
    ['share kv body: tied', 'share mod=kv targets=body value=tied'],
    ['share heads body.attn: pairs(2, qkvo: true)', 'share mod=heads targets=body.attn value=(call pairs 2 qkvo:true)'],
    ['share kv: all', 'share targets=kv value=all'],
    ['share heads: all', 'share targets=heads value=all'],
    ['share kv.x: all', 'share targets=kv.x value=all'],
    ['share kv[0]: all', 'share targets=kv[0] value=all'],
    ['tie a.b = c[0].d', 'tie targets=a.b source=c[0].d'],
    ['adapt body.attn.q, body.attn.v: lora(rank: 8)', 'adapt targets=body.attn.q,body.attn.v value=(call lora rank:8)'],
    ['hash body: roast(memory: 1M)', 'hash targets=body value=(call roast memory:1M)'],
    ['bank g1 = body.mlp, head: ssn(params: 10M, templates: 4)', 'bank label=g1 targets=body.mlp,head value=(call ssn params:10M templates:4)'],
    ['dict body.attn: masa(atoms: 4)', 'dict targets=body.attn value=(call masa atoms:4)'],
    ['route body: mor(recursions: 3, capacity: [1, 2/3, 1/3])', 'route targets=body value=(call mor recursions:3 capacity:[1 (/ 2 3) (/ 1 3)])'],
    ['freeze embed, body', 'freeze targets=embed,body'],
    ['train lm_head', 'train targets=lm_head'],
    ['allocate params: 3.65M, groups: shape, generate: wavg(8)', 'allocate targets= args=params:3.65M,groups:shape,generate:(call wavg 8)'],
    ['allocate params: 1M,', 'allocate targets= args=params:1M'],
  ];
  for (const [source, expected] of table) {
    const [member] = members(`  ${source}`);
    assert.ok(member?.kind === 'Statement', source);
    assert.equal(renderStatement(member), expected, source);
    // The statement's range runs from its keyword to the end of its last token.
    assert.equal(member.range.end - member.range.start, source.replace(/,$/, ',').length, source);
    assert.deepEqual(member.keywordRange, { start: member.range.start, end: member.range.start + member.keyword.length });
  }
});

test('members are separated by line breaks or semicolons', () => {
  assert.deepEqual(members('a = 1; b = 2;; share body: all; freeze a').map(renderMember), [
    'a=1',
    'b=2',
    'share targets=body value=all',
    'freeze targets=a',
  ]);
  assert.deepEqual(items('a = 1; b = 2\nc = 3').map((i) => (i.kind === 'Binding' ? i.name.text : '')), ['a', 'b', 'c']);
  assert.deepEqual(items('model A {}\nmodel B { x = 1 }; model C {}').map((i) => i.kind), ['Model', 'Model', 'Model']);
  assert.deepEqual(items(''), []);
  assert.deepEqual(items('# only a comment\n\n'), []);
});

test('kv and heads are identifiers everywhere except as the share modifier', () => {
  assert.deepEqual(members('kv = 2\nheads = kv * 4\nx = f(heads: heads)').map(renderMember), [
    'kv=2',
    'heads=(* kv 4)',
    'x=(call f heads:heads)',
  ]);
});

test('statement and binding ranges, and the modifier and label identifiers', () => {
  const text = 'model M {\n  share kv body: every(2)\n  bank g = a: ssn(params: 1M)\n}';
  const model = items(text)[0];
  assert.ok(model?.kind === 'Model');
  const [share, bank] = model.members;
  assert.ok(share?.kind === 'Statement' && bank?.kind === 'Statement');
  const slice = (r: { start: number; end: number } | undefined) => (r ? text.slice(r.start, r.end) : undefined);
  assert.equal(slice(share.range), 'share kv body: every(2)');
  assert.equal(slice(share.keywordRange), 'share');
  assert.equal(slice(share.modifier?.range), 'kv');
  assert.equal(slice(share.targets[0]?.range), 'body');
  assert.equal(slice(share.value?.range), 'every(2)');
  assert.equal(slice(bank.range), 'bank g = a: ssn(params: 1M)');
  assert.equal(slice(bank.label?.range), 'g');
  assert.deepEqual(model.range, { start: 0, end: text.length });
});
