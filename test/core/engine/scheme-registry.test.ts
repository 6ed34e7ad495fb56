// The sharing schemes are one registry (src/core/schemes/registry.ts): every statement keyword
// has exactly one plain form there, keyword and modifier pick one scheme, and the parser's share
// modifiers are the registered ones.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { SHARING_SCHEMES } from '../../../src/core/schemes/registry.js';
import { PRECISION_MODIFIERS, SHARE_MODIFIERS, STATEMENT_KEYWORDS } from '../../../src/core/syntax/token.js';
import type { ModifierEffect } from '../../../src/core/sharing/declarations.js';

test('every statement keyword has one plain-form scheme; no keyword and modifier is registered twice', () => {
  for (const k of STATEMENT_KEYWORDS) assert.equal(SHARING_SCHEMES.filter((s) => s.keyword === k && s.modifier === undefined).length, 1, k);
  const names = SHARING_SCHEMES.map((s) => `${s.keyword} ${s.modifier ?? ''}`);
  assert.equal(new Set(names).size, names.length);
});

// Every subtree modifier kind the resolved sharing can hold; a kind added to ModifierEffect
// without an entry here does not type-check, and then needs a scheme that draws it.
const MODIFIER_KINDS: Record<ModifierEffect['kind'], true> = { 'tie-main': true, 'tie-all': true, adapter: true, hash: true, bank: true, dict: true, factorize: true, freeze: true, train: true, 'train-sparse': true, dtype: true };

test('each modifier kind is drawn by exactly one scheme (its registry entry\'s drawing hook; layout/structure.ts names none)', () => {
  for (const kind of Object.keys(MODIFIER_KINDS)) {
    assert.deepEqual(SHARING_SCHEMES.filter((s) => s.drawing?.effects.includes(kind as ModifierEffect['kind'])).length, 1, kind);
  }
  const drawn = SHARING_SCHEMES.flatMap((s) => s.drawing?.effects ?? []);
  assert.deepEqual(new Set(drawn), new Set(Object.keys(MODIFIER_KINDS)));
});

const MODEL = (statement: string): string => `model M {
  d = 64
  block B {
    attn = Attention(d, heads: 4)
    mlp = GatedMLP(d, 256)
  }
  body = B * 4
  ${statement}
}
`;

test('the parser reads as share and precision modifiers exactly the ones schemes register', () => {
  const registered = SHARING_SCHEMES.filter((s) => s.modifier !== undefined);
  assert.ok(registered.every((s) => s.keyword === 'share' || s.keyword === 'precision'), 'only share and precision have modifiers');
  assert.deepEqual(registered.filter((s) => s.keyword === 'share').map((s) => s.modifier).sort(), [...SHARE_MODIFIERS].sort());
  assert.deepEqual(registered.filter((s) => s.keyword === 'precision').map((s) => s.modifier).sort(), [...PRECISION_MODIFIERS].sort());
});

test('a word before `:` is a stack, not a modifier: `share kv: all` shares the stack named kv', () => {
  const text = `model M {\n  d = 64\n  kv = Linear(d, d, bias: false) * 4\n  share kv: all\n}\n`;
  assert.deepEqual(analyze(text).diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(analyze(text).models[0]!.params.stored, 64n * 64n);
});

test('allocate may stand only beside schemes that keep stores as written (freeze, train, param, precision, max_context, smash)', () => {
  const keep = SHARING_SCHEMES.filter((s) => s.keepsStores).map((s) => s.keyword).sort();
  assert.deepEqual(keep, ['freeze', 'max_context', 'param', 'precision', 'precision', 'smash', 'train']);
  const beside = (statement: string): string[] => analyze(MODEL(`allocate params: 100K\n  ${statement}`)).diagnostics.filter((d) => d.code === 'npas-allocate').map((d) => d.message);
  assert.deepEqual(beside('freeze body'), []);
  assert.deepEqual(beside('max_context 4Ki'), []);
  assert.match(beside('hash body: roast(memory: 1M)')[0] ?? '', /cannot be combined with 'hash'/);
});

test('share heads reads the head projections the layer kind names: Attention saves n·head_dim·(d_q + d_k) (+ d_v + d_o with qkvo); a kind naming none is refused', () => {
  const stored = (statement: string): bigint => analyze(MODEL(statement)).models[0]!.params.stored;
  const base = stored('');
  // Attention(64, heads: 4): head_dim 16; a head is 16 rows of W_q [64, 64] and of W_k, 16 rows of W_v, 16 columns of W_o.
  assert.equal(base - stored('share heads body.attn: pairs(2)'), 2n * 16n * (64n + 64n));
  assert.equal(base - stored('share heads body.attn: pairs(2, qkvo: true)'), 2n * 16n * (64n + 64n + 64n + 64n));
  const moa = `model M {\n  d = 64\n  body = MoA(d, 4, 2, head_dim: 16) * 2\n  share heads body: pairs(1)\n}\n`;
  const errors = analyze(moa).diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.code), ['npas-share-target']);
});
