// Find references and document highlights, data-driven: the cursor ($0) on a name, and the lines
// of the spec with every occurrence marked — `[name]` for a use, `{name}` for a declaration (or a
// variant's override). Only the marked lines are listed, so a missing or extra occurrence shows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { occurrencesAt } from '../../../src/core/index.js';
import { marked } from './cursor.js';

const SPEC = `d = 256
eps = 1e-5
block Decoder(window = none, heads = 4) {
  norm = LayerNorm(d, eps: eps)
  attn = Attention(d, heads: heads, window: window)
  out = Linear(d, d) tied attn
}
model M(L = 4) {
  embed = Embedding(1000, d)
  body = [Decoder(window: if i % 2 == 0 then 64 else none) for i in 0..L]
  tail = Decoder(heads: 8) * 2
  head = Linear(d, 1000) tied embed
  share body: cycle(2)
  tie tail.attn.q = body.attn.q
}
model Other {
  d = 64
  x = Linear(d, d)
}
variant V of M {
  L = 8
  share tail.attn: all
}
variant W of V {
  L = 2
}
budget V {
  params.stored <= 1B
}
`;

/** The source with $0 inserted `delta` characters into the `occurrence`-th `needle`. */
const at = (needle: string, delta: number, occurrence = 0): string => {
  let i = -1;
  for (let k = 0; k <= occurrence; k++) i = SPEC.indexOf(needle, i + 1);
  assert.ok(i >= 0, needle);
  return SPEC.slice(0, i + delta) + '$0' + SPEC.slice(i + delta);
};

/** The lines of `text` holding an occurrence, each occurrence bracketed. */
function markedLines(text: string, occurrences: readonly { range: { start: number; end: number }; declaring: boolean }[]): string[] {
  let out = '';
  let pos = 0;
  for (const o of occurrences) {
    const name = text.slice(o.range.start, o.range.end);
    out += text.slice(pos, o.range.start) + (o.declaring ? `{${name}}` : `[${name}]`);
    pos = o.range.end;
  }
  out += text.slice(pos);
  // The spec itself has no `[name]` or `{name}`, so these are exactly the marked lines.
  return out.split('\n').filter((l) => /\[[A-Za-z_]\w*\]|\{[A-Za-z_]\w*\}/.test(l)).map((l) => l.trim());
}

const CASES: readonly { name: string; source: string; lines: readonly string[] | undefined }[] = [
  {
    name: 'a file constant: its declaration and every use, not the model-local `d` of Other',
    source: at('d = 256', 0),
    lines: ['{d} = 256', 'norm = LayerNorm([d], eps: eps)', 'attn = Attention([d], heads: heads, window: window)', 'out = Linear([d], [d]) tied attn', 'embed = Embedding(1000, [d])', 'head = Linear([d], 1000) tied embed'],
  },
  { name: 'a shadowing model-local constant', source: at('x = Linear(d', 11), lines: ['{d} = 64', 'x = Linear([d], [d])'] },
  {
    name: 'a block: declaration, calls and stacks',
    source: at('Decoder(heads: 8)', 2),
    lines: ['block {Decoder}(window = none, heads = 4) {', 'body = [[Decoder](window: if i % 2 == 0 then 64 else none) for i in 0..L]', 'tail = [Decoder](heads: 8) * 2'],
  },
  {
    name: 'a block parameter: its uses in the body and the named arguments that set it',
    source: at('window = none', 0),
    lines: ['block Decoder({window} = none, heads = 4) {', 'attn = Attention(d, heads: heads, window: [window])', 'body = [Decoder([window]: if i % 2 == 0 then 64 else none) for i in 0..L]'],
  },
  {
    name: 'a named block argument finds the parameter',
    source: at('heads: 8', 1),
    lines: ['block Decoder(window = none, {heads} = 4) {', 'attn = Attention(d, heads: [heads], window: window)', 'tail = Decoder([heads]: 8) * 2'],
  },
  {
    name: 'a block member through sharing paths',
    source: at('attn = Attention', 1),
    lines: ['{attn} = Attention(d, heads: heads, window: window)', 'out = Linear(d, d) tied [attn]', 'tie tail.[attn].q = body.[attn].q', 'share tail.[attn]: all'],
  },
  {
    name: 'a model parameter with the variant overrides that replace it (through a variant of a variant)',
    source: at('0..L', 3),
    lines: ['model M({L} = 4) {', 'body = [Decoder(window: if i % 2 == 0 then 64 else none) for i in 0..[L]]', '{L} = 8', '{L} = 2'],
  },
  { name: 'an override finds the same symbol', source: at('L = 2', 0), lines: ['model M({L} = 4) {', 'body = [Decoder(window: if i % 2 == 0 then 64 else none) for i in 0..[L]]', '{L} = 8', '{L} = 2'] },
  { name: 'a loop variable, only in its comprehension', source: at('for i', 4), lines: ['body = [Decoder(window: if [i] % 2 == 0 then 64 else none) for {i} in 0..L]'] },
  { name: 'a model: variant base and no budget of another', source: at('model M', 6), lines: ['model {M}(L = 4) {', 'variant V of [M] {'] },
  { name: 'a variant: its derived variant and its budget', source: at('variant V', 8), lines: ['variant {V} of M {', 'variant W of [V] {', 'budget [V] {'] },
  { name: 'a member used by `tied`', source: at('tied embed', 6), lines: ['{embed} = Embedding(1000, d)', 'head = Linear(d, 1000) tied [embed]'] },
  { name: 'a layer kind: every call of it (highlights)', source: at('Linear(d, d) tied', 2), lines: ['out = [Linear](d, d) tied attn', 'head = [Linear](d, 1000) tied embed', 'x = [Linear](d, d)'] },
  { name: 'a number has no occurrences', source: at('1000, d', 1), lines: undefined },
  { name: 'a budget metric has no occurrences', source: at('params.stored', 8), lines: undefined },
  { name: 'whitespace has none', source: at('  share body', 0), lines: undefined },
];

for (const c of CASES) {
  test(`occurrences: ${c.name}`, () => {
    const { text, offset, analysis } = marked(c.source);
    const found = occurrencesAt(analysis.file, offset);
    if (c.lines === undefined) {
      assert.equal(found, undefined);
      return;
    }
    assert.ok(found, 'a symbol under the cursor');
    assert.deepEqual(markedLines(text, found.occurrences), c.lines);
  });
}

test('occurrences are in source order, each once, and every one resolves back to the same symbol', () => {
  const { text, offset, analysis } = marked(at('d = 256', 0));
  const found = occurrencesAt(analysis.file, offset)!;
  const starts = found.occurrences.map((o) => o.range.start);
  assert.deepEqual(starts, [...new Set(starts)].sort((a, b) => a - b));
  for (const o of found.occurrences) {
    assert.equal(text.slice(o.range.start, o.range.end), 'd');
    assert.equal(occurrencesAt(analysis.file, o.range.start)?.symbol.key, found.symbol.key);
  }
});
