// The statement vocabulary that completion offers and hovers explain must be what the engine
// accepts: every method of every registered scheme, written as its completion snippet inserts
// it, analyses without a statement error; every layer kind's signature snippet is a valid call shape.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYER_KINDS, analyze } from '../../../src/core/index.js';
import { MEMBER_KEYWORDS, methodsAt } from '../../../src/core/service/vocabulary.js';
import { SHARING_SCHEMES } from '../../../src/core/schemes/registry.js';

/** A snippet with its placeholders filled by their defaults. */
const filled = (snippet: string): string => snippet.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\{?\d+\}?/g, '');

// `parallel streams(…, merge: lm_head)` merges before a named top-level member and reads the embedding's width.
const MODEL = (statement: string): string => `model M {
  d = 64
  embed = Embedding(100, d)
  block B {
    attn = Attention(d, heads: 4)
    mlp = GatedMLP(d, 256)
  }
  body = B * 4
  block X {
    moe = MoE(d, 256, experts: 4, top_k: 1)
  }
  pooled = X * 4
  lm_head = Linear(d, 100)
  ${statement}
}
`;

const STATEMENT_CODES = new Set(['npas-share-strategy', 'npas-adapter', 'npas-hash', 'npas-bank', 'npas-route', 'npas-param', 'npas-factorize', 'npas-factorize-shape', 'npas-factorize-target', 'npas-parallel', 'npas-smash', 'npas-halt', 'npas-train-sparse', 'npas-kv-source', 'npas-share-target', 'npas-share-experts', 'npas-syntax-expected', 'npas-syntax-unexpected-token']);

/**
 * Where each scheme's method is written in MODEL (the stack has 4 instances, as many as the map
 * snippets' defaults list). A scheme with methods and no entry here fails the test below.
 */
const WRITTEN: Readonly<Record<string, (method: string, name: string) => string>> = {
  share: (m) => `share body: ${m}`,
  'share kv': (m, name) => (name === 'tied' ? 'share body: cycle(2)\n  share kv body: tied' : `share kv body: ${m}`),
  'share heads': (m) => `share heads body.attn: ${m}`,
  'share experts': (m) => `share experts pooled.moe: ${m}`,
  adapt: (m) => `share body: cycle(2) relax ${m}`,
  hash: (m) => `hash body: ${m}`,
  bank: (m) => `bank g = body: ${m}`,
  dict: (m) => `dict body.attn: ${m}`,
  route: (m) => `route body: ${m.replace('3', '2')}`,
  param: (m) => `param ${m}`,
  parallel: (m) => `parallel ${m}`,
  smash: (m) => `smash body: ${m}`,
  factorize: (m) => `factorize body: ${m}`,
  train: (m) => `train embed, body: ${m}`,
};

const slotName = (s: { keyword: string; modifier?: string }): string => (s.modifier ? `${s.keyword} ${s.modifier}` : s.keyword);

test('vocabulary: every scheme with methods says where they are written', () => {
  const missing = SHARING_SCHEMES.filter((s) => s.methods.length > 0 && !WRITTEN[slotName(s)]).map(slotName);
  assert.deepEqual(missing, []);
});

const statements: string[] = SHARING_SCHEMES.flatMap((s) => {
  const write = WRITTEN[slotName(s)];
  return write ? methodsAt(s).map((m) => write(filled(m.snippet), m.name)) : [];
});

for (const statement of statements) {
  test(`vocabulary: \`${statement.split('\n').at(-1)!.trim()}\` is accepted by the engine`, () => {
    const errors = analyze(MODEL(statement)).diagnostics.filter((d) => STATEMENT_CODES.has(d.code));
    assert.deepEqual(errors.map((d) => `${d.code}: ${d.message}`), []);
  });
}

test('vocabulary: the member keyword snippets parse inside a model (sharing statements) or a block', () => {
  for (const k of MEMBER_KEYWORDS) {
    const text = filled(k.snippet);
    const diagnostics = analyze(MODEL(text)).diagnostics.filter((d) => d.code.startsWith('npas-syntax'));
    assert.deepEqual(diagnostics.map((d) => d.message), [], k.keyword);
  }
});

test('vocabulary: every scheme method documents itself and each argument', () => {
  for (const scheme of SHARING_SCHEMES) {
    for (const m of scheme.methods) {
      assert.ok(m.doc.length > 0, `${slotName(scheme)} ${m.name}`);
      for (const a of m.args) assert.ok(a.doc.length > 0, `${slotName(scheme)} ${m.name}.${a.name}`);
    }
  }
});

test('vocabulary: every layer kind has a doc for each argument', () => {
  for (const kind of LAYER_KINDS.values()) {
    assert.ok(kind.doc.length > 0, kind.name);
    for (const a of kind.args) assert.ok(a.doc.length > 0, `${kind.name}.${a.name}`);
  }
});
