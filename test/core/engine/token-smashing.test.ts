// Token smashing (`smash MEMBERS: tokens(r)`; docs/language.md, "Token smashing"): the named
// members see S tokens as ⌈S / r⌉ positions — weights and attention over positions, one KV
// entry per position, a decode step running them once per r tokens; stored unchanged. Expected
// values derived by hand here from the layer formulas (docs/layers.md), never from the engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';

const MODEL = (statement: string, window = ''): string => `model M {
  d = 64
  block B {
    attn = Attention(d, heads: 4${window})
    mlp = MLP(d, 256, bias: false)
  }
  embed = Embedding(1000, d)
  body = B * 2
  head = Linear(d, 1000)
  ${statement}
}
`;
const L = 2n;
const body = L * (2n * 4n * 64n * 64n + 2n * 2n * 64n * 256n); // the stack's weight FLOPs per position
const head = 2n * 64n * 1000n; // per token
const perKey = 2n * 4n * (16n + 16n); // per layer, per query and key: q·k and p·v
const kvPerPosition = L * 2n * 64n; // elements, both layers
const tri = (n: bigint): bigint => (n * (n + 1n)) / 2n;
const run = (text: string, options: object = {}) => analyze(text, { seq: 100, batch: 1, dtype: 'bf16', ...options });

test('a smashed stack runs over ⌈S / r⌉ positions: FLOPs, quadratic attention, KV and decode', () => {
  const plain = run(MODEL('')).models[0]!;
  // r = 3/2 at S = 100: ⌈200/3⌉ = 67 positions.
  const m = run(MODEL('smash body: tokens(3/2)')).models[0]!;
  const n = 67n;
  assert.equal(m.params.stored, plain.params.stored);
  assert.equal(m.flops.prefill, n * body + L * perKey * tri(n) + 100n * head);
  assert.equal(m.kvCacheBytes, kvPerPosition * n * 2n);
  // A decode step: the stack once per 3/2 tokens, over its 67 cached positions; the head per token.
  // (2/3)·(body + L·perKey·67) + head, rounded half up as the report rounds: ⌊(2·x + 3) / 6⌋ of x/3.
  const decodeNum = 2n * (body + L * perKey * n) + 3n * head;
  assert.equal(m.flops.decode, (2n * decodeNum + 3n) / 6n);
  // Decode reads the stack's weights once per r tokens: 1/3 of its 2 layers' params are not read.
  const stackParams = L * (4n * 64n * 64n + 2n * 64n * 256n);
  assert.equal(plain.latency.decode.bytes - plain.kvCacheBytes - (m.latency.decode.bytes - m.kvCacheBytes), (stackParams / 3n) * 2n);
  assert.deepEqual(m.smashed, [{ member: 'body', tokensPerEntry: '1.5' }]);
});

test('a window applies to positions, and a shared prompt is smashed with its continuations', () => {
  const w = run(MODEL('smash body: tokens(4)', ', window: 10')).models[0]!;
  const n = 25n; // 100 / 4
  const keys = tri(10n) + (n - 10n) * 10n;
  assert.equal(w.flops.prefill, n * body + L * perKey * keys + 100n * head);
  assert.equal(w.kvCacheBytes, kvPerPosition * 10n * 2n);
  // Prompt 60 of S = 100, k = 2 continuations, r = 2: the stack sees a prompt of 30 positions in
  // 50, each continuation's 20 positions after it.
  const p = run(MODEL('smash body: tokens(2)'), { sharedPrefix: { tokens: 60, continuations: 2 } }).models[0]!;
  const positions = 30n + 2n * 20n;
  const stackKeys = tri(30n) + 2n * (tri(50n) - tri(30n));
  assert.equal(p.flops.prefill, positions * body + L * perKey * stackKeys + (60n + 2n * 40n) * head);
  assert.equal(p.kvCacheBytes, kvPerPosition * positions * 2n);
});

test('a variant adds smashing; r = 1 changes nothing', () => {
  const text = `${MODEL('')}variant Smashed of M {\n  smash body: tokens(2)\n}\nvariant One of M {\n  smash body: tokens(1)\n}\n`;
  const r = run(text);
  const [m, smashed, one] = ['M', 'Smashed', 'One'].map((name) => r.models.find((x) => x.name === name)!);
  assert.equal(smashed!.params.stored, m!.params.stored);
  assert.equal(smashed!.kvCacheBytes * 2n, m!.kvCacheBytes);
  assert.deepEqual(one!.flops, m!.flops);
  assert.equal(one!.kvCacheBytes, m!.kvCacheBytes);
});

test('malformed smash statements: located npas-smash errors', () => {
  const cases: [string, RegExp][] = [
    ['smash body: tokens(1/2)', /1 to 65536 tokens/],
    ['smash body.attn: tokens(2)', /not a top-level member/],
    ['smash nothing: tokens(2)', /not a top-level member/],
    ['smash body: tokens(2)\n  smash body: tokens(3)', /smashed twice/],
    ['smash body: 2', /takes the members and tokens per KV entry/],
  ];
  for (const [statement, message] of cases) {
    const text = MODEL(statement);
    const errors = run(text).diagnostics.filter((d) => d.code === 'npas-smash');
    assert.equal(errors.length, 1, statement);
    assert.match(errors[0]!.message, message, statement);
    assert.ok(errors[0]!.range.start >= text.indexOf('smash'), statement);
  }
  const encoderDecoder = `model ED {
  d = 64
  enc = Attention(d, heads: 4, causal: false)
  dec = Attention(d, heads: 4)
  cross = Attention(d, heads: 4, cross: true)
  smash enc: tokens(2)
  smash cross: tokens(2)
}
`;
  const errors = run(encoderDecoder).diagnostics.filter((d) => d.code === 'npas-smash');
  assert.equal(errors.length, 2);
  for (const e of errors) assert.match(e.message, /encoder side or attends to a source/);
});
