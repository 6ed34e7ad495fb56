// Go to definition, data-driven: the cursor ($0) on a name or path segment, and the text of the
// declaration it must lead to (its name, the selection range), or nothing for builtins.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definitionAt } from '../../../src/core/index.js';
import { marked } from './cursor.js';

const SPEC = `eps = 1e-5
model M(L = 4) {
  d = 256
  block Decoder(window = none) {
    norm = LayerNorm(d, eps: eps)
    attn = Attention(d, heads: 4, window: window)
    out = Linear(d, d) tied attn
  }
  embed = Embedding(1000, d)
  body = [Decoder(window: if i % 2 == 0 then 64 else none) for i in 0..L]
  tail = Decoder * 2
  head = Linear(d, 1000) tied embed
  share body: cycle(2)
}
variant V of M {
  d = 128
  share tail.attn: all
  adapt body[0].attn.q: lora(rank: 4)
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

const CASES: readonly { name: string; source: string; target: string | undefined; line?: string }[] = [
  { name: 'a constant used in a block', source: at('LayerNorm(d', 10), target: 'd', line: 'd = 256' },
  { name: 'a file constant', source: at('eps: eps', 6), target: 'eps', line: 'eps = 1e-5' },
  { name: 'a block parameter used in its body', source: at('window: window', 9), target: 'window', line: 'window = none' },
  { name: 'a model parameter', source: at('0..L', 3), target: 'L', line: 'L = 4' },
  { name: 'a block used in a stack', source: at('Decoder * 2', 2), target: 'Decoder', line: 'block Decoder(window = none) {' },
  { name: 'a block called with arguments', source: at('Decoder(window: if', 1), target: 'Decoder', line: 'block Decoder(window = none) {' },
  { name: 'a named block argument: the parameter', source: at('Decoder(window: if', 9), target: 'window', line: 'window = none' },
  { name: 'a loop variable', source: at('i % 2', 0), target: 'i', line: '[Decoder(window: if i % 2 == 0 then 64 else none) for i in 0..L]' },
  { name: '`tied` to a model member', source: at('tied embed', 6), target: 'embed', line: 'embed = Embedding(1000, d)' },
  { name: '`tied` to a sibling inside a block', source: at('tied attn', 6), target: 'attn', line: 'attn = Attention(d, heads: 4, window: window)' },
  { name: 'a share target', source: at('share body', 7), target: 'body', line: 'body = [Decoder(window: if i % 2 == 0 then 64 else none) for i in 0..L]' },
  { name: 'a share target in a variant (the base model member)', source: at('tail.attn', 1), target: 'tail', line: 'tail = Decoder * 2' },
  { name: 'a path segment inside the block', source: at('tail.attn', 6), target: 'attn', line: 'attn = Attention(d, heads: 4, window: window)' },
  { name: 'a path segment after an index', source: at('body[0].attn', 9), target: 'attn', line: 'attn = Attention(d, heads: 4, window: window)' },
  { name: 'a weight segment: its layer', source: at('attn.q:', 5), target: 'attn', line: 'attn = Attention(d, heads: 4, window: window)' },
  { name: 'a variant base', source: at('of M', 3), target: 'M', line: 'model M(L = 4) {' },
  { name: 'a budget target', source: at('budget V', 7), target: 'V', line: 'variant V of M {' },
  { name: 'a variant override: the binding it replaces', source: at('d = 128', 0), target: 'd', line: 'd = 256' },
  { name: 'a layer kind has no source', source: at('Linear(d, 1000)', 2), target: undefined },
  { name: 'a strategy has no source', source: at('cycle(2)', 2), target: undefined },
  { name: 'a declaration itself goes nowhere', source: at('embed =', 1), target: undefined },
];

for (const c of CASES) {
  test(`definition: ${c.name}`, () => {
    const { text, offset, analysis } = marked(c.source);
    const targets = definitionAt(text, analysis, offset);
    if (c.target === undefined) {
      assert.deepEqual(targets, []);
      return;
    }
    assert.equal(targets.length, 1);
    const t = targets[0]!;
    assert.equal(text.slice(t.targetSelectionRange.start, t.targetSelectionRange.end), c.target);
    const declaration = text.slice(t.targetRange.start, t.targetRange.end).split('\n')[0]!.trim();
    if (c.line !== undefined) assert.equal(declaration, c.line);
    assert.ok(t.originRange.start <= offset && offset <= t.originRange.end, 'the origin covers the cursor');
  });
}
