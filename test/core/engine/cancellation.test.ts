// Issue 12: `compile(text, { cancelled })` (src/core/semantics/cancellation.ts). A host that
// stops wanting a compilation (the language server, when a newer version arrives) gets
// `AnalysisCancelled` out of `compile`, whatever phase the compilation is in, and nothing else:
// never an internal-error diagnostic, never a partial result. A question that never says stop
// changes nothing. Fuzzed: every example, mutated with a seeded PRNG, cancelled at a random ask.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AnalysisCancelled, compile } from '../../../src/core/index.js';
import { prng } from '../../fixtures/prng.js';

const examplesDir = join(__dirname, '..', '..', '..', 'examples');
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.npas'))
  .sort()
  .map((f) => [f, readFileSync(join(examplesDir, f), 'utf8')] as const);

/** 10,000 instances with distinct windows: thousands of asks, evaluation and walk both long. */
const BIG = `model M {
  d = 64
  block Decoder(window = none) {
    n = RMSNorm(d)
    attn = Attention(d, heads: 4, window: window)
  }
  body = [Decoder(window: i + 1) for i in 0..10000]
}
`;

/** A question that says stop at its `stopAt`-th ask, counting the asks. */
function stopAfter(stopAt: number): { asks: number; cancelled: () => boolean } {
  const q = {
    asks: 0,
    cancelled: () => ++q.asks >= stopAt,
  };
  return q;
}

test('a question that never says stop changes nothing', () => {
  for (const [name, text] of examples) {
    const plain = compile(text).analysis();
    let asks = 0;
    const asked = compile(text, { cancelled: () => (asks++, false) }).analysis();
    assert.deepEqual(asked.diagnostics, plain.diagnostics, name);
    assert.deepEqual(
      asked.models.map((m) => [m.name, m.params]),
      plain.models.map((m) => [m.name, m.params]),
      name,
    );
  }
});

test('a long compilation asks often and stops at the first "stop": AnalysisCancelled, nothing else', () => {
  const counting = stopAfter(Number.POSITIVE_INFINITY);
  compile(BIG, { cancelled: counting.cancelled });
  // About one ask per 1,024 evaluation steps or walked nodes: 10,000 instances ask many times.
  assert.ok(counting.asks >= 20, `asked ${counting.asks} times`);
  for (const stopAt of [1, 2, Math.floor(counting.asks / 2), counting.asks]) {
    const q = stopAfter(stopAt);
    assert.throws(() => compile(BIG, { cancelled: q.cancelled }), AnalysisCancelled, `stop at ask ${stopAt}`);
    assert.equal(q.asks, stopAt, 'no ask after the one that said stop');
  }
});

test('fuzz: mutated examples cancelled at a random ask throw AnalysisCancelled or finish without an internal error', () => {
  const seed = 0x5eed12;
  const rnd = prng(seed);
  for (let i = 0; i < 60; i++) {
    const [name, text] = examples[i % examples.length]!;
    // Mutations: a big comprehension appended (many asks), or a slice of the text repeated.
    const mutated = rnd() < 0.5 ? `${text}\n${BIG.replace('0..10000', `0..${1 + Math.floor(rnd() * 5000)}`)}` : text + text.slice(Math.floor(rnd() * text.length));
    const stopAt = 1 + Math.floor(rnd() * 8);
    try {
      const c = compile(mutated, { cancelled: stopAfter(stopAt).cancelled });
      const codes = c.analysis().diagnostics.map((d) => d.code);
      assert.ok(!codes.includes('npas-internal-error'), `seed ${seed} case ${i} (${name}): ${codes.join(', ')}`);
    } catch (e) {
      assert.ok(e instanceof AnalysisCancelled, `seed ${seed} case ${i} (${name}): ${String(e)}`);
    }
  }
});
