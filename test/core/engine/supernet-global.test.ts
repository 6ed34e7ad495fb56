// Model-wide (global) elastic choices (`elastic d: [64, 128]`): one value of a model constant per
// subnet, which every layer using it follows (the embedding and head included), beside per-layer
// choices. The space, every subnet's params, prefill FLOPs and KV bytes are written out here from
// docs/layers.md's formulas by hand (not read from the engine), and the enumeration is compared
// with a brute force over every ordered subnet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSupernet, compile, enumerateSubnets, parseSubnetFilter, subnetVariant, type Supernet } from '../../../src/core/index.js';

const VOCAB = 1000;
const HEAD_DIM = 16;

// A 2-layer decoder whose width d is a model parameter: the embedding, every norm, attention
// (d / 16 heads of 16) and gated MLP (expand · d) and the head all read d.
const TEXT = `vocab = ${VOCAB}
model Net(d = 128) {
  block Decoder(expand = 4) {
    n = RMSNorm(d)
    attn = Attention(d, heads: d / ${HEAD_DIM}, head_dim: ${HEAD_DIM})
    mlp = GatedMLP(d, expand * d)
  }
  embed = Embedding(vocab, d)
  body = Decoder * 2
  head = Linear(d, vocab, bias: false)
  elastic d: [64, 128]
  elastic body: Decoder(expand: [2, 4])
}
`;

// docs/layers.md: RMSNorm d; Attention q, k, v [H·16, d] and o [d, H·16] (H·16 = d here), no biases;
// GatedMLP 3·d·(expand·d). Rest: Embedding vocab·d + head d·vocab.
const instanceParams = (d: number, e: number): bigint => BigInt(d + 4 * d * d + 3 * d * e * d);
const restParams = (d: number): bigint => BigInt(2 * VOCAB * d);
// Per prefill of S tokens: 2 FLOPs per weight MAC per token (the embedding is a lookup, norms are
// not matmuls), and per attention layer 2·H·(16 + 16) per attended key, Σ_t t = S(S + 1)/2 keys.
const instanceFlops = (d: number, e: number, S: number): bigint =>
  BigInt(S) * BigInt(2 * (4 * d * d + 3 * d * e * d)) + (2n * BigInt(d / HEAD_DIM) * BigInt(2 * HEAD_DIM) * BigInt(S) * BigInt(S + 1)) / 2n;
const restFlops = (d: number, S: number): bigint => BigInt(S) * BigInt(2 * d * VOCAB);
// KV cache at bf16: K and V, H·16 = d values each, 2 bytes, per token per attention layer.
const instanceKv = (d: number, S: number): bigint => BigInt(2 * d * 2 * S);

function analysed(text: string, seq: number): Supernet {
  const c = compile(text);
  assert.deepEqual(c.diagnostics.map((d) => d.message), []);
  const r = analyzeSupernet(c, 'Net', c.settings({ seq }));
  if ('error' in r) assert.fail(r.error);
  return r.supernet;
}

test('global width × per-layer expand: the space multiplies by the global count once, the supernet stores the largest subnet once', () => {
  const s = analysed(TEXT, 256);
  // 2 widths × (2 expand choices)^2 layers = 8 subnets (not 2^2 × 2^2: the width is chosen once, not per layer).
  assert.equal(s.subnets, 2n * 2n ** 2n);
  assert.equal(s.subnets, 8n);
  assert.deepEqual(s.globals.map((g) => [g.name, g.values.map((v) => v.text)]), [['d', ['64', '128']]]);
  assert.deepEqual(s.points.map((p) => p.values), [['64'], ['128']]);
  // Largest subnet: d = 128, expand 4 in both layers: 2·1000·128 + 2·(128 + 4·128² + 3·4·128²) = 256,000 + 2·(128 + 65,536 + 196,608) = 780,544.
  assert.equal(s.stored, restParams(128) + 2n * instanceParams(128, 4));
  assert.equal(s.stored, 780_544n);
  assert.equal(s.points[s.largest]!.values[0], '128');
  // Every point's rest and per-instance numbers are the formulas at its width.
  for (const [p, d] of [[0, 64], [1, 128]] as const) {
    const pt = s.points[p]!;
    assert.equal(pt.rest[0], restParams(d));
    assert.deepEqual(pt.stacks[0]!.perInstance.map((v) => v[0]), [instanceParams(d, 2), instanceParams(d, 4)]);
    assert.equal(pt.subnets, 4n);
  }
});

/** Every ordered subnet: (d, expand of layer 0, expand of layer 1) with its numbers from the formulas. */
function everySubnet(S: number) {
  const out: { d: number; key: string; params: bigint; flops: bigint; kv: bigint }[] = [];
  for (const d of [64, 128]) {
    for (const e0 of [2, 4]) {
      for (const e1 of [2, 4]) {
        out.push({
          d,
          key: `${d}:${[e0, e1].filter((e) => e === 2).length}`,
          params: restParams(d) + instanceParams(d, e0) + instanceParams(d, e1),
          flops: restFlops(d, S) + instanceFlops(d, e0, S) + instanceFlops(d, e1, S),
          kv: 2n * instanceKv(d, S),
        });
      }
    }
  }
  return out;
}

test('global width: each subnet\'s params, prefill FLOPs and KV equal the hand derivation, and a filter counts as a brute force does', () => {
  const S = 128;
  const s = analysed(TEXT, S);
  const all = everySubnet(S);
  assert.equal(BigInt(all.length), s.subnets);
  const r = enumerateSubnets(s, { where: [], by: 'params.stored', top: 100 });
  if ('error' in r) assert.fail(r.error);
  // Classes: per width, the multisets of 2 choices over 2 layers (3), so 6.
  assert.equal(r.classes, 6);
  const classes = new Map<string, { params: bigint; flops: bigint; kv: bigint; n: bigint }>();
  for (const x of all) classes.set(x.key, { ...x, n: (classes.get(x.key)?.n ?? 0n) + 1n });
  const expected = [...classes.values()].sort((a, b) => (a.params < b.params ? -1 : 1));
  assert.deepEqual(
    r.top.map((c) => [c.params.stored, c.params.active, c.flops.prefill, c.kvBytes, c.subnets]),
    expected.map((c) => [c.params, c.params, c.flops, c.kv, c.n]),
  );
  // d = 64, both layers expand 2: 128,000 + 2·(64 + 16,384 + 24,576) = 210,048.
  assert.equal(r.top[0]!.params.stored, 210_048n);
  assert.deepEqual(r.top[0]!.globals, ['64']);
  // A filter between the widths keeps the d = 64 subnets and the smallest d = 128 one.
  const limit = restParams(128) + 2n * instanceParams(128, 2);
  const f = parseSubnetFilter(`params.active <= ${limit} and kv >= ${2n * instanceKv(64, S)}bytes`);
  if ('error' in f) assert.fail(f.error);
  const e = enumerateSubnets(s, { where: f.constraints, by: 'flops.prefill', top: 3 });
  if ('error' in e) assert.fail(e.error);
  assert.equal(e.feasibleSubnets, BigInt(all.filter((x) => x.params <= limit).length));
  assert.equal(e.feasibleSubnets, 5n);
  assert.deepEqual(e.top.map((c) => c.flops.prefill), all.filter((x) => x.params <= limit).map((x) => x.flops).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).filter((v, i, a) => a.indexOf(v) === i).slice(0, 3));
});

test('global width: an emitted subnet overrides the width and compiles to the class\'s numbers', () => {
  const s = analysed(TEXT, 256);
  const r = enumerateSubnets(s, { where: [], by: 'params.stored', top: 2 });
  if ('error' in r) assert.fail(r.error);
  const second = r.top[1]!;
  const text = subnetVariant(s, second, 'Pick');
  assert.equal(text, 'variant Pick of Net {\n  d = 64\n  body = Decoder(expand: 2) * 1 + Decoder(expand: 4) * 1\n}\n');
  const back = compile(TEXT + text);
  assert.deepEqual(back.diagnostics.map((d) => d.message), []);
  assert.equal(back.analysis().models.find((m) => m.name === 'Pick')!.params.stored, restParams(64) + instanceParams(64, 2) + instanceParams(64, 4));
  assert.equal(second.params.stored, restParams(64) + instanceParams(64, 2) + instanceParams(64, 4));
});

test('global choices alone (width and depth): the space is the product of their counts, each subnet the model at those values', () => {
  const text = `model Net(d = 128, L = 4) {
  block Decoder(c) {
    mlp = MLP(c, 2 * c)
  }
  embed = Embedding(100, d)
  body = Decoder(d) * L
  elastic d: [32, 64, 128]
  elastic L: [2, 4]
}
`;
  const s = analysed(text, 64);
  assert.equal(s.subnets, 6n);
  assert.deepEqual(s.stacks, []);
  // MLP(c, 2c) with biases: 2·2c·c + 2c + c; Embedding 100·d.
  const params = (d: number, L: number): bigint => BigInt(100 * d + L * (4 * d * d + 3 * d));
  assert.deepEqual(s.points.map((p) => [p.values, p.stored]), [32, 64, 128].flatMap((d) => [2, 4].map((L) => [[String(d), String(L)], params(d, L)])));
  assert.equal(s.stored, params(128, 4));
  const r = enumerateSubnets(s, { where: [], by: 'params.active', top: 1 });
  if ('error' in r) assert.fail(r.error);
  assert.equal(r.top[0]!.params.active, params(32, 2));
  assert.equal(subnetVariant(s, r.top[0]!, 'Small'), 'variant Small of Net {\n  d = 32\n  L = 2\n}\n');
});

test('global width: a per-layer choice written with the width follows it at every point', () => {
  // Decoder takes its width as an argument written with `d`: at d = 64 its instances are Decoder(64, …).
  const text = `model Net(d = 128) {
  block Decoder(c, expand = 4) {
    mlp = MLP(c, expand * c, bias: false)
  }
  body = Decoder(d) * 2
  elastic d: [64, 128]
  elastic body: Decoder(d, expand: [1, 2]) * [1, 2]
}
`;
  const s = analysed(text, 64);
  // Per width: depths 1 and 2 with 2 choices: 2 + 4 = 6 subnets; 12 in all.
  assert.equal(s.subnets, 12n);
  assert.deepEqual(s.points[0]!.stacks[0]!.choices.map((c) => c.call), ['Decoder(64, expand: 1)', 'Decoder(64, expand: 2)']);
  assert.deepEqual(s.points[0]!.stacks[0]!.perInstance.map((v) => v[0]), [2n * 64n * 64n, 2n * 2n * 64n * 64n]);
  assert.equal(s.stored, 2n * (2n * 2n * 128n * 128n));
});

test('elastic NAME: every bad global choice is a located npas-elastic error', () => {
  const base = `w = 8
model Net(d = 16) {
  block B(x = 1) {
    l = Linear(d, d)
  }
  k = 2
  body = B * k
  head = Linear(d, 4)
  STATEMENT
}
`;
  const cases: [string, RegExp][] = [
    ['elastic w: [4, 8]', /declared outside the model/],
    ['elastic head: [1, 2]', /'head' is a module/],
    ['elastic nothing: [1, 2]', /no constant or parameter 'nothing'/],
    ['elastic B: [1, 2]', /'B' is a block/],
    ['elastic d: []', /non-empty/],
    ['elastic d: [16, 16]', /lists 16 twice/],
    ['elastic d: ["x"]', /plain number/],
    ['elastic d: Linear(d, d)', /'d' is a constant: a model-wide choice lists its values/],
    ['elastic d.x: [1, 2]', /not a path into it/],
    [`elastic d: [${Array.from({ length: 65 }, (_, i) => i + 1).join(', ')}]`, /at most 64 choices/],
  ];
  for (const [statement, message] of cases) {
    const text = base.replace('STATEMENT', statement);
    const diags = compile(text).diagnostics.filter((d) => d.code === 'npas-elastic');
    assert.equal(diags.length, 1, `${statement}: ${JSON.stringify(compile(text).diagnostics.map((d) => d.message))}`);
    assert.match(diags[0]!.message, message, statement);
    const at = text.indexOf(statement);
    assert.ok(diags[0]!.range.start >= at && diags[0]!.range.end <= at + statement.length, `${statement}: located in the statement`);
  }
  // A constant of the model and a stack both elastic, well formed: no diagnostic.
  assert.deepEqual(compile(base.replace('STATEMENT', 'elastic k: [1, 2]\n  elastic d: [8, 16]')).diagnostics.map((d) => d.message), []);
});

test('global choices: a value the model cannot be built with, or too many measurements, is refused by name', () => {
  const bad = compile(TEXT.replace('elastic d: [64, 128]', 'elastic d: [64, 100]'));
  assert.deepEqual(bad.diagnostics.map((d) => d.message), []);
  // 100 / 16 heads is not a whole number.
  const r = analyzeSupernet(bad, 'Net', bad.settings({}));
  assert.ok('error' in r && /does not compile/.test(r.error), 'error' in r ? r.error : 'analysed');
  const many = compile(`model Net(a = 1, b = 1) {
  l = Linear(a, b)
  elastic a: [${Array.from({ length: 40 }, (_, i) => i + 1).join(', ')}]
  elastic b: [${Array.from({ length: 40 }, (_, i) => i + 1).join(', ')}]
}
`);
  assert.deepEqual(many.diagnostics.map((d) => d.message), []);
  const t0 = performance.now();
  const r2 = analyzeSupernet(many, 'Net', many.settings({}));
  assert.ok('error' in r2 && /1600 combinations of global values × 1 choice per combination make 1600 measurements; at most 1024/.test(r2.error), 'error' in r2 ? r2.error : 'analysed');
  assert.ok(performance.now() - t0 < 2_000, 'refused without compiling the points');
});

test('global width: a choice list that repeats a value at another width is refused naming that width', () => {
  // Valid as written (d = 128: expand [2, 1]); at d = 64, `d / 64` is 1 again and the list repeats it.
  const text = `model Net(d = 128) {
  block Decoder(expand = 1) {
    mlp = MLP(d, expand * d, bias: false)
  }
  body = Decoder * 2
  elastic d: [64, 128]
  elastic body: Decoder(expand: [d / 64, 1])
}
`;
  const c = compile(text);
  assert.deepEqual(c.diagnostics.map((d) => d.message), []);
  const r = analyzeSupernet(c, 'Net', c.settings({}));
  assert.ok('error' in r, 'refused');
  assert.match(r.error, /^at d: 64: 'expand' lists 1 twice/);
});
