// `npas diff A B`: the deltas are derived here from the models' definitions, not read back from
// `npas budget`. ALBERT-base unshared vs shared (examples/albert-vs-bert.npas): sharing the encoder
// layer across L = 12 layers stores one layer instead of twelve and changes no compute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInProcess as run } from './run-in-process.js';

const ALBERT = 'examples/albert-vs-bert.npas';
const TINY = 'test/fixtures/specs/tiny.npas';
const TINY_V2 = 'test/fixtures/specs/tiny-v2.npas';

interface DiffJson {
  pairs: { a: { model: string }; b: { model: string }; metrics: { metric: string; a: number; b: number; delta: number; ratio: number | null }[]; members: { name: string; a: number; b: number; delta: number }[] }[];
  onlyInA: string[];
  onlyInB: string[];
}

// One BERT encoder layer at H = 768, FFN 4H, with biases: Q, K, V, O (H² + H each), two FFN
// projections (H·4H + 4H, 4H·H + H) and two LayerNorms (2H each).
const H = 768n;
const ENCODER_LAYER = 4n * (H * H + H) + (H * 4n * H + 4n * H) + (4n * H * H + H) + 2n * 2n * H;

test('diff of two variants of one file: every metric, B − A exact; sharing 12 layers stores one', () => {
  const r = run('diff', `${ALBERT}#ALBERTBaseNotShared`, `${ALBERT}#ALBERTBase`, '--seq', '512', '--json');
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as DiffJson;
  assert.equal(json.pairs.length, 1);
  const metric = (name: string) => json.pairs[0]!.metrics.find((m) => m.metric === name)!;
  assert.equal(BigInt(metric('params.stored').delta), -11n * ENCODER_LAYER);
  assert.equal(metric('params.stored').a - metric('params.stored').b, Number(11n * ENCODER_LAYER));
  for (const same of ['params.effective', 'params.active', 'flops.prefill', 'flops.decode', 'memory.activationBytes']) assert.equal(metric(same).delta, 0, same);
  assert.equal(metric('params.effective').ratio, 1);
  assert.equal(metric('memory.weightBytes').delta, -2 * Number(11n * ENCODER_LAYER), 'bf16 weights: 2 bytes each');
  assert.equal(metric('kvCacheBytes').ratio, null, 'an encoder caches nothing: no ratio to 0');
  assert.deepEqual(json.pairs[0]!.members, [{ name: 'body', a: Number(12n * ENCODER_LAYER), b: Number(ENCODER_LAYER), delta: -Number(11n * ENCODER_LAYER) }]);
});

test('diff of two versions of a spec pairs models by name and lists the rest', () => {
  const r = run('diff', TINY, TINY_V2, '--json');
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as DiffJson;
  assert.deepEqual(json.pairs.map((p) => [p.a.model, p.b.model]), [['Toy', 'Toy'], ['Att', 'Att']]);
  assert.deepEqual([json.onlyInA, json.onlyInB], [['ToyShared'], ['Extra']]);
  const toy = json.pairs[0]!;
  // Toy at width d: embedding 100·d, 6 × (RMSNorm d + Linear d·d), head tied to the embedding.
  const stored = (d: number): number => 100 * d + 6 * (d + d * d);
  assert.equal(toy.metrics.find((m) => m.metric === 'params.stored')!.delta, stored(16) - stored(8));
  assert.deepEqual(toy.members.map((m) => [m.name, m.delta]), [['embed', 800], ['body', 6 * (16 + 256) - 6 * (8 + 64)]]);
  const att = json.pairs[1]!;
  // More heads of the same width: the same weights, FLOPs and KV; only the per-head softmax
  // statistics saved for backward grow (activations), which the test does not derive.
  for (const m of att.metrics.filter((x) => /^(params|flops)\.|^kvCacheBytes$|^memory\.(weight|inference)Bytes$/.test(x.metric))) assert.equal(m.delta, 0, m.metric);
  const text = run('diff', TINY, TINY_V2);
  assert.match(text.stdout, /^A Toy \(test\/fixtures\/specs\/tiny\.npas\) {2}vs {2}B Toy/m);
  assert.match(text.stdout, /^params\.stored +1,232 +3,232 +\+2,000 +2\.6234×$/m);
  assert.match(text.stdout, /^only in test\/fixtures\/specs\/tiny\.npas: ToyShared$/m);
});

test('diff refusals name what is wrong and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [[TINY], /usage: npas diff A\[#MODEL\] B\[#MODEL\]/],
    [[`${TINY}#Nope`, TINY_V2], /no model or variant named 'Nope' \(have: Toy, Att, ToyShared\)/],
    [[`${TINY}#Toy`, TINY_V2], /tiny-v2\.npas declares 3 models: name one as .*#MODEL/],
    [[`${TINY}#`, TINY_V2], /must be FILE or FILE#MODEL/],
    [[TINY, 'test/fixtures/specs/broken.npas'], /broken\.npas:\d+:\d+: error npas-/],
    [[TINY, 'examples/mamba.npas'], /share no model name/],
  ];
  for (const [args, message] of cases) {
    const r = run('diff', ...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
});
