// The statement vocabulary that completion offers and hovers explain must be what the engine
// accepts: every strategy and method, written as its completion snippet inserts it, analyses
// without a statement error; every layer kind's signature snippet is a valid call shape.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYER_KINDS, analyze } from '../../../src/core/index.js';
import { ADAPTERS, HEAD_STRATEGIES, KV_STRATEGIES, STACK_STRATEGIES, STATEMENT_METHODS, MEMBER_KEYWORDS } from '../../../src/core/service/vocabulary.js';

/** A snippet with its placeholders filled by their defaults. */
const filled = (snippet: string): string => snippet.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\{?\d+\}?/g, '');

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

const STATEMENT_CODES = new Set(['npas-share-strategy', 'npas-adapter', 'npas-hash', 'npas-bank', 'npas-route', 'npas-param', 'npas-factorize', 'npas-factorize-shape', 'npas-factorize-target', 'npas-parallel', 'npas-halt', 'npas-kv-source', 'npas-share-target', 'npas-syntax-expected', 'npas-syntax-unexpected-token']);

const statements: string[] = [
  // The stack has 4 instances, as many as the map snippet's default lists.
  ...STACK_STRATEGIES.map((m) => `share body: ${filled(m.snippet)}`),
  ...KV_STRATEGIES.map((m) => (m.name === 'tied' ? 'share body: cycle(2)\n  share kv body: tied' : `share kv body: ${filled(m.snippet)}`)),
  ...HEAD_STRATEGIES.map((m) => `share heads body.attn: ${filled(m.snippet)}`),
  ...ADAPTERS.map((m) => `share body: cycle(2) relax ${filled(m.snippet)}`),
  ...STATEMENT_METHODS.hash.map((m) => `hash body: ${filled(m.snippet)}`),
  ...STATEMENT_METHODS.bank.map((m) => `bank g = body: ${filled(m.snippet)}`),
  ...STATEMENT_METHODS.dict.map((m) => `dict body.attn: ${filled(m.snippet)}`),
  ...STATEMENT_METHODS.route.map((m) => `route body: ${filled(m.snippet).replace('3', '2')}`),
  ...STATEMENT_METHODS.param.map((m) => `param ${filled(m.snippet)}`),
  ...STATEMENT_METHODS.factorize.map((m) => `factorize body: ${filled(m.snippet)}`),
];

// `parallel` merges before a named top-level member and reads the embedding's width.
const STREAMS_MODEL = (statement: string): string => `model M {
  embed = Embedding(100, 64)
  block B {
    attn = Attention(64, heads: 4)
  }
  body = B * 2
  lm_head = Linear(64, 100)
  ${statement}
}
`;
for (const m of STATEMENT_METHODS.parallel) {
  test(`vocabulary: \`parallel ${filled(m.snippet)}\` is accepted by the engine`, () => {
    const errors = analyze(STREAMS_MODEL(`parallel ${filled(m.snippet)}`)).diagnostics.filter((d) => STATEMENT_CODES.has(d.code));
    assert.deepEqual(errors.map((d) => `${d.code}: ${d.message}`), []);
  });
}

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

test('vocabulary: every layer kind has a doc for each argument', () => {
  for (const kind of LAYER_KINDS.values()) {
    assert.ok(kind.doc.length > 0, kind.name);
    for (const a of kind.args) assert.ok(a.doc.length > 0, `${kind.name}.${a.name}`);
  }
});
