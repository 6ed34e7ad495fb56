// Semantic tokens, data-driven: a spec and, per line, each token as `text:type[+modifier…]` in
// source order. Names spelt alike but meaning different things must get different tokens.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, lineColumn, semanticTokens } from '../../../src/core/index.js';

const SPEC = `d = 256
block Decoder(window = none) {
  attn = Attention(d, heads: 4, window: window)
  mlp = MLP(d, 4 * d, act: gelu)
}
model M(L = 4) {
  embed = Embedding(1000, d)
  body = [Decoder(window: if i % 2 == 0 then 64 else none) for i in 0..L]
  n = max(L, 2)
  share kv body: cycle(2)
  adapt body.attn.q: lora(rank: 4)
}
variant V of M {
  L = 8
}
budget V {
  params.stored <= 1B
}
`;

const EXPECTED: readonly (readonly [number, string])[] = [
  [0, 'd:variable+declaration+readonly'],
  [1, 'Decoder:class+declaration window:parameter+declaration'],
  [2, 'attn:property+declaration Attention:class+defaultLibrary d:variable+readonly heads:parameter window:parameter window:parameter'],
  [3, 'mlp:property+declaration MLP:class+defaultLibrary d:variable+readonly d:variable+readonly act:parameter gelu:enumMember+defaultLibrary'],
  [5, 'M:type+declaration L:parameter+declaration'],
  [6, 'embed:property+declaration Embedding:class+defaultLibrary d:variable+readonly'],
  [7, 'body:property+declaration Decoder:class window:parameter i:variable i:variable+declaration L:parameter'],
  [8, 'n:variable+declaration+readonly max:function+defaultLibrary L:parameter'],
  [9, 'share:keyword kv:keyword body:property cycle:method+defaultLibrary'],
  [10, 'adapt:keyword body:property attn:property q:property+defaultLibrary lora:method+defaultLibrary rank:parameter'],
  [12, 'V:type+declaration M:type'],
  [13, 'L:parameter+declaration'],
  [15, 'V:type'],
  [16, 'params:property+defaultLibrary stored:property+defaultLibrary'],
];

test('semantic tokens tell layer kinds, blocks, constants, members, parameters, strategies and keywords apart', () => {
  const analysis = analyze(SPEC);
  const tokens = semanticTokens(SPEC, analysis);
  const lineOf = (offset: number): number => lineColumn(SPEC, offset).line - 1;
  const byLine = new Map<number, string[]>();
  for (const t of tokens) {
    const line = lineOf(t.range.start);
    assert.equal(lineOf(t.range.end), line, 'a token never spans lines');
    const rendered = `${SPEC.slice(t.range.start, t.range.end)}:${[t.type, ...t.modifiers].join('+')}`;
    byLine.set(line, [...(byLine.get(line) ?? []), rendered]);
  }
  assert.deepEqual([...byLine].map(([line, ts]) => [line, ts.join(' ')]), EXPECTED);
  const starts2 = tokens.map((t) => t.range.start);
  assert.deepEqual(starts2, [...starts2].sort((a, b) => a - b), 'in source order');
});

test('semantic tokens on broken text: no throw, and names after the error still classified', () => {
  const text = 'model M {\n  a = Attention(64,\n  b = Linear(64, 64)\n}\n';
  const tokens = semanticTokens(text, analyze(text));
  const linear = tokens.find((t) => text.slice(t.range.start, t.range.end) === 'Linear');
  assert.equal(linear?.type, 'class');
});
