// `parallel` (docs/language.md, "Parallel streams"): P streams over the same weights. Small
// models whose numbers are derived by hand here; the ParScale configuration is checked in
// test/core/examples/parscale.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';

const MODEL = (statement: string, extra = ''): string => `model M {
  d = 64
  block B {
    norm = RMSNorm(d)
    attn = Attention(d, heads: 4, kv_heads: 2)
    mlp = MLP(d, 256)
  }
  embed = Embedding(1000, d)
  body = B * 3
  head = Linear(d, 1000)
  ${statement}
}
${extra}`;

const S = 128n;
const opts = { seq: Number(S), batch: 1, dtype: 'bf16' as const };
const one = (text: string) => {
  const r = analyze(text, opts);
  return { r, m: r.models[0]! };
};
// Per layer: q 64×64, k and v 64×32, o 64×64, MLP 64×256 twice (with biases 256 + 64).
const layerMatmul = 64n * 64n * 2n + 2n * 64n * 32n + 2n * 64n * 256n;
const perKey = 2n * 4n * (16n + 16n); // heads · (score + value dims) · 2
const kvPerToken = 2n * 2n * 16n; // 2 · kv_heads · head_dim

test('parallel P: FLOPs, activations and KV ×P, stored and weight reads once', () => {
  const { m: plain } = one(MODEL(''));
  const { r, m } = one(MODEL('parallel 4'));
  assert.deepEqual(r.diagnostics, []);
  assert.equal(m.params.stored, plain.params.stored);
  assert.equal(m.params.active, plain.params.active);
  assert.equal(m.flops.decode, 4n * plain.flops.decode);
  assert.equal(m.flops.prefill, 4n * plain.flops.prefill);
  assert.equal(m.kvCacheBytes, 4n * plain.kvCacheBytes);
  assert.equal(m.kvCacheBytes, 4n * 3n * kvPerToken * S * 2n);
  assert.equal(m.latency.decode.bytes - m.kvCacheBytes, plain.latency.decode.bytes - plain.kvCacheBytes);
  // Saved activations of every member ×4 (no loss term changes: the model ends in `head` either way).
  const acts = (x: typeof m) => x.memory.activationBytes - x.memory.lossBytes - x.memory.maskBytes;
  assert.equal(acts(m), 4n * acts(plain));
  assert.equal(m.flops.decode, 4n * (3n * (2n * layerMatmul + perKey * S) + 2n * 64n * 1000n));
});

test('streams(P, prefix: m, merge: NAME): prefixes and an MLP aggregator stored; the merged members run once', () => {
  const P = 2n;
  const m = 5n;
  const { m: plain } = one(MODEL(''));
  const { r, m: x } = one(MODEL(`parallel streams(${P}, prefix: ${m}, merge: head)`));
  assert.deepEqual(r.diagnostics, []);
  const prefixes = 3n * P * m * kvPerToken; // per attention layer and stream: m tokens of 2·kv_heads·head_dim
  const aggregator = P * 64n * 64n + 64n + 64n * P + P;
  assert.equal(x.params.stored, plain.params.stored + prefixes + aggregator);
  assert.equal(x.params.trainable, plain.params.trainable + prefixes + aggregator);
  // The aggregator is applied per token; the prefixes are read from the cache.
  assert.equal(x.params.active, plain.params.active + aggregator);
  const decode = P * 3n * (2n * layerMatmul + perKey * (S + m)) + 2n * (P * 64n * 64n + 64n * P) + 2n * 64n * 1000n;
  assert.equal(x.flops.decode, decode);
  assert.equal(x.kvCacheBytes, P * 3n * kvPerToken * (S + m) * 2n);
});

test('aggregate: mean stores no aggregator; workers(P) share one cache', () => {
  const { m: plain } = one(MODEL(''));
  const { m: mean } = one(MODEL('parallel streams(3, aggregate: mean)'));
  assert.equal(mean.params.stored, plain.params.stored);
  assert.equal(mean.flops.decode, 3n * plain.flops.decode);
  const { m: workers } = one(MODEL('parallel workers(3)'));
  assert.equal(workers.kvCacheBytes, plain.kvCacheBytes);
  assert.equal(workers.flops.prefill, plain.flops.prefill);
  assert.equal(workers.flops.decode, 3n * plain.flops.decode);
});

test('a variant\'s parallel statement replaces its base\'s; a variant inherits it otherwise', () => {
  const text = MODEL('parallel 2', 'variant V of M {\n  parallel 8\n}\nvariant W of M {\n  d = 32\n}\n');
  const r = analyze(text, opts);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.models.find((x) => x.name === 'V')!.parallel?.streams, 8);
  assert.equal(r.models.find((x) => x.name === 'W')!.parallel?.streams, 2);
});

test('bad parallel declarations are located npas-parallel errors, and the model keeps its numbers', () => {
  const cases: [string, RegExp][] = [
    ['parallel 0', /1\.\.1024/],
    ['parallel streams(4, merge: nowhere)', /'nowhere' is not a top-level member/],
    ['parallel streams(4, merge: embed)', /nothing to run per stream/],
    ['parallel split(4)', /takes a count or one of/],
    ['parallel streams(4, aggregate: max)', /aggregate is mlp or mean/],
    ['parallel 2\n  parallel 4', /one `parallel` statement/],
  ];
  const { m: plain } = one(MODEL(''));
  for (const [statement, message] of cases) {
    const text = MODEL(statement);
    const r = analyze(text, opts);
    const errors = r.diagnostics.filter((x) => x.code === 'npas-parallel');
    assert.equal(errors.length, 1, `${statement}: ${r.diagnostics.map((x) => x.message).join('; ')}`);
    assert.match(errors[0]!.message, message, statement);
    assert.ok(errors[0]!.range.start >= text.indexOf('parallel'), statement);
    assert.equal(r.models[0]!.params.stored, plain.params.stored, statement);
  }
  // Prefix tuning needs causal self-attention before the merge.
  const noAttention = analyze('model N {\n  embed = Embedding(100, 8)\n  mlp = MLP(8, 16)\n  parallel streams(2, prefix: 4)\n}\n', opts);
  assert.match(noAttention.diagnostics.find((x) => x.code === 'npas-parallel')?.message ?? '', /prefix needs causal self-attention/);
  // The aggregator reads the embedding's width unless told.
  const noWidth = analyze('model N {\n  mlp = MLP(8, 16)\n  parallel streams(2)\n}\n', opts);
  assert.match(noWidth.diagnostics.find((x) => x.code === 'npas-parallel')?.message ?? '', /give width/);
  const width = analyze('model N {\n  mlp = MLP(8, 16)\n  parallel streams(2, width: 8)\n}\n', opts);
  assert.deepEqual(width.diagnostics, []);
  assert.equal(width.models[0]!.params.stored, 2n * 8n * 16n + 16n + 8n + 2n * 8n * 8n + 8n + 8n * 2n + 2n);
});

// Prefixes on every causal self-attention the language has (docs/language.md, "Parallel
// streams"): what a prefix token stores, what each stream's cache holds, and the keys a decode
// step attends. Each row derives, by hand from the layer's configuration, the elements a prefix
// token stores (e_p), those it caches (e_c, per cached token of the layer), the tokens a stream
// caches per layer at S (c, before the prefix), and the decode FLOPs per attended key (f).
// `aggregate: mean` stores no aggregator, so the streams add exactly the prefixes.
const L = 3n;
// Prefill FLOPs per attended key are the expanded form's (fp), which MLA's absorbed decode is not.
const PREFIX_ROWS: { name: string; layer: string; ep: bigint; ec: bigint; cached: bigint; perKey: bigint; fp?: bigint }[] = [
  // MLA absorbed: the latent kv_rank + rope_dim is stored and cached; a decode query scores
  // kv_rank + rope_dim and weighs kv_rank per head (4 heads).
  { name: 'MLA absorbed', layer: 'MLA(d, 4, 32, 8, 16, 16)', ep: 32n + 8n, ec: 32n + 8n, cached: S, perKey: 2n * 4n * (40n + 32n), fp: 2n * 4n * (24n + 16n) },
  // MLA expanded: the prefix is still a stored latent, cached expanded: heads·(nope + rope + v).
  { name: 'MLA expanded', layer: 'MLA(d, 4, 32, 8, 16, 16, decode: expanded)', ep: 32n + 8n, ec: 4n * (24n + 16n), cached: S, perKey: 2n * 4n * (24n + 16n) },
  // MoA: 8 experts, 2 per token, expert_dim 32 = 2 heads of 16: one shared key and value of 32
  // each; a token's 2 experts are 4 query heads.
  { name: 'MoA', layer: 'MoA(d, 8, 2, 16, expert_dim: 32)', ep: 2n * 32n, ec: 2n * 32n, cached: S, perKey: 2n * 4n * (16n + 16n) },
  // A sliding window of 32: the cache holds the window and the prefix (always in view, as sinks).
  { name: 'windowed', layer: 'Attention(d, heads: 4, kv_heads: 2, window: 32)', ep: kvPerToken, ec: kvPerToken, cached: 32n, perKey },
  // Chunked attention (chunk 48): the cache holds one chunk at most, and the prefix.
  { name: 'chunked', layer: 'Attention(d, heads: 4, kv_heads: 2, chunk: 48)', ep: kvPerToken, ec: kvPerToken, cached: 48n, perKey },
];

for (const row of PREFIX_ROWS) {
  test(`streams(P, prefix: m) on ${row.name} attention: prefixes stored, KV and decode keys per stream`, () => {
    const P = 4n;
    const m = 6n;
    const spec = (statement: string) => `model M {
  d = 64
  block B {
    norm = RMSNorm(d)
    attn = ${row.layer}
    mlp = MLP(d, 256)
  }
  embed = Embedding(1000, d)
  body = B * 3
  head = Linear(d, 1000)
  ${statement}
}
`;
    const { r: rp, m: plain } = one(spec(''));
    const { r, m: x } = one(spec(`parallel streams(${P}, prefix: ${m}, aggregate: mean)`));
    assert.deepEqual(rp.diagnostics, []);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(x.params.stored - plain.params.stored, P * m * L * row.ep);
    assert.equal(x.params.active, plain.params.active);
    // bf16: 2 bytes per cached element; each stream caches its c tokens and its m prefix tokens.
    assert.equal(plain.kvCacheBytes, L * row.cached * row.ec * 2n);
    assert.equal(x.kvCacheBytes, P * L * (row.cached + m) * row.ec * 2n);
    // Every member runs per stream (no merge); each stream's decode step also attends its m prefix keys.
    assert.equal(x.flops.decode, P * (plain.flops.decode + L * m * row.perKey));
    // Each stream prefills the S tokens, every one of them also attending the m prefix keys.
    assert.equal(x.flops.prefill, P * (plain.flops.prefill + L * S * m * (row.fp ?? row.perKey)));
  });
}
