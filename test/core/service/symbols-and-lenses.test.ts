// The outline (document symbols) and code lenses of a spec with every kind of item.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, codeLenses, documentSymbols, type OutlineSymbol } from '../../../src/core/index.js';

// Decoder: RMSNorm(64) 64 + Linear(64, 64) 4,096 = 4,160 params; 8,192 FLOPs per token.
const SPEC = `scale = 2
block Shared { w = Linear(8, 8) }
model M(L = 3) {
  d = 64
  block Decoder {
    n = RMSNorm(d)
    f = Linear(d, d)
  }
  embed = Embedding(100, d)
  body = Decoder * L
  head = Linear(d, 100) tied embed
  share body: all
}
variant V of M {
  L = 6
  share kv body: every(2)
}
budget V {
  params.stored <= 1K
  kv <= 1KiB
}
`;

const outline = (symbols: readonly OutlineSymbol[], depth = 0): string[] =>
  symbols.flatMap((s) => [`${'  '.repeat(depth)}${s.kind} ${s.name}${s.detail ? ` — ${s.detail}` : ''}`, ...outline(s.children, depth + 1)]);

test('outline: hierarchical symbols with kinds, details and name selection ranges', () => {
  const analysis = analyze(SPEC);
  const symbols = documentSymbols(SPEC, analysis);
  // M stores embed 6,400 + one Decoder 4,160 (share body: all) + head (tied) 0 = 10,560.
  assert.deepEqual(outline(symbols), [
    'constant scale — 2',
    'block Shared — block',
    '  layer w — Linear',
    'model M — model · 10,560 params stored',
    '  parameter L — = 3',
    '  constant d — 64',
    '  block Decoder — block',
    '    layer n — RMSNorm',
    '    layer f — Linear',
    '  layer embed — Embedding',
    '  stack body — 3 × Decoder',
    '  layer head — Linear tied embed',
    '  statement share body: all',
    'variant V — variant of M · 10,560 params stored',
    '  constant L — 6',
    '  statement share kv body: every(2)',
    'budget V — budget',
    '  constraint params.stored <= 1K — violated',
    '  constraint kv <= 1KiB — met',
  ]);
  const check = (s: OutlineSymbol): void => {
    assert.ok(s.range.start <= s.selectionRange.start && s.selectionRange.end <= s.range.end, `${s.name}: selection inside range`);
    s.children.forEach(check);
  };
  symbols.forEach(check);
  const model = symbols[2]!;
  assert.equal(SPEC.slice(model.selectionRange.start, model.selectionRange.end), 'M');
  assert.equal(SPEC.slice(model.range.start, model.range.end).split('\n').at(-1), '}');
});

test('outline: unnamed pieces of a broken file are skipped, never empty names', () => {
  const text = 'model {\n  = Linear(2, 2)\n  x = \n}\nbudget {\n}\n';
  const names = outline(documentSymbols(text, analyze(text)));
  assert.ok(names.every((n) => !/ $/.test(n.split(' — ')[0]!)), names.join('\n'));
});

test('code lenses: models and variants (with their names), blocks per instance, top-level modules', () => {
  const analysis = analyze(SPEC);
  const lenses = codeLenses(SPEC, analysis).map((l) => `${SPEC.slice(l.range.start, l.range.end)}: ${l.title}${l.model ? ` [${l.model}]` : ''}`);
  // FLOPs per token: body 3 × 8,192 + head 2·64·100 = 37,376 in M; V has L = 6: 61,952.
  // The top-level block Shared, which no model instantiates, has no lens.
  assert.deepEqual(lenses, [
    'M: 10,560 params stored · 37.38 KFLOP/token [M]',
    'Decoder: 4,160 params · 8.19 KFLOP/token per instance · ×3 in M',
    'embed: 6,400 params stored · 0 FLOP/token',
    'body: 4,160 params stored · 24.58 KFLOP/token · ×3',
    'head: 0 params stored · 12.8 KFLOP/token',
    'V: 10,560 params stored · 61.95 KFLOP/token [V]',
  ]);
});
