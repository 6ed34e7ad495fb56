// Weight-sharing supernets (`elastic STACK: Block(arg: [a, b]) * [d1, d2]`): the size of the
// subnet space, the entangled stored parameters, and the enumeration under a filter — checked
// against the layer formulas of docs/layers.md written out here and against a brute force over
// every ordered subnet (not against the engine's own sums), plus every bad argument's diagnostic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSupernet, compile, enumerateSubnets, parseSubnetFilter, subnetVariant, type Supernet } from '../../../src/core/index.js';
import { elasticDecoderSpec } from '../../fixtures/supernet-spec.js';

const D = 64;
const VOCAB = 1000;
const HEAD_DIM = 16;

function spec(choices: string, depths: string, extra = ''): string {
  return elasticDecoderSpec({ vocab: VOCAB, d: D, headDim: HEAD_DIM, depth: 8, model: 'Net', choices, depths, extraMembers: extra });
}

// docs/layers.md: RMSNorm d; Attention q, k, v [H·16, d] and o [d, H·16], no biases; GatedMLP 3·d·hidden.
const instanceParams = (expand: number, heads: number): bigint => BigInt(D + 4 * heads * HEAD_DIM * D + 3 * D * expand * D);
// Embedding vocab·d, the final RMSNorm d, the head d·vocab without bias.
const REST = BigInt(VOCAB * D + D + D * VOCAB);
// Per token of a causal prefill of S tokens: 2 FLOPs per weight MAC (the embedding is a lookup),
// and per attention layer 2·heads·(score + value dims) per attended key, Σ_t t / S = (S + 1)/2 keys on average.
const instanceFlopsTotal = (expand: number, heads: number, S: number): bigint =>
  BigInt(S) * BigInt(2 * (4 * heads * HEAD_DIM * D + 3 * D * expand * D)) + (2n * BigInt(heads) * BigInt(2 * HEAD_DIM) * BigInt(S) * BigInt(S + 1)) / 2n;
const restFlopsTotal = (S: number): bigint => BigInt(S) * BigInt(2 * D * VOCAB);

function supernet(text: string, seq = 1024): Supernet {
  const c = compile(text);
  assert.deepEqual(c.diagnostics.map((d) => d.message), []);
  const r = analyzeSupernet(c, 'Net', c.settings({ seq }));
  if ('error' in r) assert.fail(r.error);
  return r.supernet;
}

test('supernet: the subnet space Σ_d Kᵈ and the entangled stored parameters (the largest choice at every position of the deepest stack)', () => {
  const s = supernet(spec('expand: [2, 3, 4], heads: [2, 4]', '[6, 7, 8]'));
  assert.equal(s.subnets, 6n ** 6n + 6n ** 7n + 6n ** 8n);
  assert.equal(s.subnets, 2_006_208n);
  assert.equal(s.stored, REST + 8n * instanceParams(4, 4));
  assert.deepEqual(s.stacks[0]!.choices.map((c) => c.call), [2, 3, 4].flatMap((e) => [2, 4].map((h) => `Decoder(expand: ${e}, heads: ${h})`)));
  assert.equal(s.rest[0], REST);
  s.stacks[0]!.choices.forEach((_, k) => assert.equal(s.stacks[0]!.perInstance[k]![0], instanceParams([2, 3, 4][Math.floor(k / 2)]!, [2, 4][k % 2]!)));
});

test('supernet: without a depth list the stack keeps its own depth; a single-valued list is a fixed argument', () => {
  const s = supernet(spec('expand: [2, 3], heads: [4]', ''));
  assert.deepEqual(s.stacks[0]!.space.depths, [8]);
  assert.equal(s.subnets, 2n ** 8n);
  assert.deepEqual(s.stacks[0]!.choices.map((c) => c.call), ['Decoder(expand: 2, heads: 4)', 'Decoder(expand: 3, heads: 4)']);
});

/** Every ordered subnet of a small space, measured from the formulas above. */
function bruteForce(options: readonly { expand: number; heads: number }[], depths: readonly number[], S: number) {
  const out: { key: string; stored: bigint; flops: bigint }[] = [];
  for (const d of depths) {
    const idx = new Array<number>(d).fill(0);
    for (;;) {
      let stored = REST;
      let flops = restFlopsTotal(S);
      for (const i of idx) {
        stored += instanceParams(options[i]!.expand, options[i]!.heads);
        flops += instanceFlopsTotal(options[i]!.expand, options[i]!.heads, S);
      }
      const counts = options.map((_, k) => idx.filter((i) => i === k).length);
      out.push({ key: `${d}:${counts.join(',')}`, stored, flops });
      let p = 0;
      while (p < d && idx[p] === options.length - 1) idx[p++] = 0;
      if (p === d) break;
      idx[p]!++;
    }
  }
  return out;
}

test('supernet: the feasible count, the best by FLOPs and the Pareto front equal a brute force over every ordered subnet', () => {
  const S = 256;
  const s = supernet(spec('expand: [1, 2, 3], heads: [1, 2]', '[2, 3, 4]'), S);
  const options = [1, 2, 3].flatMap((expand) => [1, 2].map((heads) => ({ expand, heads })));
  const all = bruteForce(options, [2, 3, 4], S);
  assert.equal(BigInt(all.length), s.subnets);
  const limit = 260_000n;
  const filter = parseSubnetFilter(`params.active <= 260K and flops.prefill >= 100K`);
  if ('error' in filter) assert.fail(filter.error);
  const r = enumerateSubnets(s, { where: filter.constraints, by: 'flops.prefill', top: 5 });
  if ('error' in r) assert.fail(r.error);
  // Active = stored here: no experts, embeddings counted in full.
  const feasible = all.filter((x) => x.stored <= limit && x.flops >= 100_000n * BigInt(S));
  assert.equal(r.feasibleSubnets, BigInt(feasible.length));
  const classes = new Map<string, { stored: bigint; flops: bigint; n: bigint }>();
  for (const x of feasible) classes.set(x.key, { ...x, n: (classes.get(x.key)?.n ?? 0n) + 1n });
  assert.equal(r.feasibleClasses, classes.size);
  const sorted = [...classes.values()].sort((a, b) => (a.flops < b.flops ? -1 : a.flops > b.flops ? 1 : a.stored > b.stored ? -1 : a.stored < b.stored ? 1 : 0));
  assert.deepEqual(r.top.map((c) => [c.flops.prefill, c.params.stored, c.subnets]), sorted.slice(0, 5).map((c) => [c.flops, c.stored, c.n]));
  // Pareto front: no other feasible subnet has less or equal FLOPs and more active parameters.
  const front = sorted.filter((c) => !sorted.some((o) => o !== c && o.flops <= c.flops && o.stored >= c.stored && (o.flops < c.flops || o.stored > c.stored)));
  const uniqueFront = front.filter((c, i) => front.findIndex((o) => o.flops === c.flops && o.stored === c.stored) === i);
  assert.deepEqual(r.front.map((c) => [c.flops.prefill, c.params.active]), uniqueFront.map((c) => [c.flops, c.stored]));
  assert.equal(r.front[0]!.flops.prefillPerToken, String(r.front[0]!.flops.prefill / BigInt(S)));
});

test('supernet: an emitted subnet is a variant that compiles to the class\'s numbers', () => {
  const s = supernet(spec('expand: [2, 3, 4], heads: [2, 4]', '[6, 7, 8]'));
  const r = enumerateSubnets(s, { where: [], by: 'params.stored', top: 3 });
  if ('error' in r) assert.fail(r.error);
  const best = r.front[r.front.length - 1]!;
  const text = spec('expand: [2, 3, 4], heads: [2, 4]', '[6, 7, 8]') + subnetVariant(s, best, 'Pick');
  const c = compile(text);
  assert.deepEqual(c.diagnostics.map((d) => d.message), []);
  const largest = REST + 8n * instanceParams(4, 4);
  assert.equal(best.params.stored, largest);
  assert.equal(c.analysis().models.find((m) => m.name === 'Pick')!.params.stored, largest);
});

test('supernet: a filter no subnet meets leaves nothing; bad filters are refused in words', () => {
  const s = supernet(spec('expand: [2, 4]', '[2, 3]'));
  const f = parseSubnetFilter('params.stored < 1K');
  if ('error' in f) assert.fail(f.error);
  const r = enumerateSubnets(s, { where: f.constraints, by: 'flops.decode', top: 3 });
  if ('error' in r) assert.fail(r.error);
  assert.equal(r.feasibleSubnets, 0n);
  assert.deepEqual(r.top, []);
  assert.match((parseSubnetFilter('params.trainable <= 1B') as { error: string }).error, /filtered by/);
  assert.match((parseSubnetFilter('kv <= 5') as { error: string }).error, /bytes/);
  assert.match((parseSubnetFilter('kv(seq: 8K) <= 1GiB') as { error: string }).error, /settings/);
  assert.match((parseSubnetFilter('params.active <=') as { error: string }).error, /filter/);
});

test('supernet: a stack whose instances are not independent, or a choice that does not compile, is refused', () => {
  const shared = compile(spec('expand: [2, 4]', '[2, 4]', '  share kv body: every(2)\n'));
  const r = analyzeSupernet(shared, 'Net', shared.settings({}));
  assert.ok('error' in r && /share kv/.test(r.error), JSON.stringify(r));
  const bad = compile(spec('expand: [2, 1/3]', '[2, 4]'));
  const r2 = analyzeSupernet(bad, 'Net', bad.settings({}));
  assert.ok('error' in r2 && /does not compile/.test(r2.error), 'error' in r2 ? r2.error : 'analysed');
});

test('elastic: every bad argument is a located npas-elastic error', () => {
  const cases: [string, RegExp][] = [
    ['elastic body: Decoder(width: [2, 3]) * [2]', /no parameter 'width'/],
    ['elastic body: Decoder(expand: []) * [2]', /non-empty/],
    ['elastic body: Decoder(expand: [2, 2]) * [2]', /twice/],
    ['elastic body: Decoder(expand: [2]) * [0]', /depth/],
    ['elastic body: Decoder(expand: [2]) * [3, 3]', /listed twice/],
    ['elastic body: Decoder([2, 3]) * [2]', /by name/],
    ['elastic head: Decoder(expand: [2]) * [2]', /is a layer/],
    ['elastic nothing: Decoder(expand: [2]) * [2]', /no member/],
    ['elastic body.attn: Decoder(expand: [2]) * [2]', /top-level member/],
    ['elastic body: RMSNorm(d) * [2]', /not a block/],
    ['elastic body: Decoder(expand: ["x"]) * [2]', /plain number/],
    [`elastic body: Decoder(expand: [${Array.from({ length: 20 }, (_, i) => i + 1).join(', ')}], heads: [${Array.from({ length: 13 }, (_, i) => i + 1).join(', ')}]) * [2]`, /260 combinations per instance; at most 256/],
  ];
  for (const [statement, message] of cases) {
    const text = spec('expand: [2]', '[2]').replace('elastic body: Decoder(expand: [2]) * [2]', statement);
    const diags = compile(text).diagnostics.filter((d) => d.code === 'npas-elastic');
    assert.equal(diags.length, 1, `${statement}: ${JSON.stringify(compile(text).diagnostics.map((d) => d.message))}`);
    assert.match(diags[0]!.message, message, statement);
    const at = text.indexOf(statement);
    assert.ok(diags[0]!.range.start >= at && diags[0]!.range.end <= at + statement.length, `${statement}: located in the statement`);
  }
});

test('supernet over two stacks: the space is the product, the stored the sum, and the enumeration equals a brute force over both', () => {
  const text = `d = 32
block A(w = 2) {
  mlp = MLP(d, w * d)
}
block B(h = 1) {
  attn = Attention(d, heads: h, head_dim: 8)
}
model Two {
  embed = Embedding(100, d)
  first = A * 3
  second = B * 2
  head = Linear(d, 100)
  elastic first: A(w: [1, 2, 3]) * [1, 2]
  elastic second: B(h: [1, 2]) * [2, 3]
}
`;
  const c = compile(text);
  assert.deepEqual(c.diagnostics.map((d) => d.message), []);
  const r = analyzeSupernet(c, 'Two', c.settings({ seq: 64 }));
  if ('error' in r) assert.fail(r.error);
  const s = r.supernet;
  // MLP(d, w·d): 2·w·d² + w·d + d (biases); Attention(d, h, head_dim 8): 4·8h·d; rest: embedding, head (Linear: no bias by default).
  const mlp = (w: number): bigint => BigInt(2 * w * 32 * 32 + w * 32 + 32);
  const attn = (h: number): bigint => BigInt(4 * 8 * h * 32);
  const rest = BigInt(100 * 32 + 32 * 100);
  assert.equal(s.subnets, (3n + 9n) * (4n + 8n));
  assert.equal(s.stored, rest + 2n * mlp(3) + 3n * attn(2));
  const all: bigint[] = [];
  for (const d1 of [1, 2]) for (const d2 of [2, 3]) {
    const firsts = d1 === 1 ? [1, 2, 3].map((w) => mlp(w)) : [1, 2, 3].flatMap((a) => [1, 2, 3].map((b) => mlp(a) + mlp(b)));
    const seconds = d2 === 2 ? [1, 2].flatMap((a) => [1, 2].map((b) => attn(a) + attn(b))) : [1, 2].flatMap((a) => [1, 2].flatMap((b) => [1, 2].map((c2) => attn(a) + attn(b) + attn(c2))));
    for (const f of firsts) for (const g of seconds) all.push(rest + f + g);
  }
  assert.equal(BigInt(all.length), s.subnets);
  const limit = rest + mlp(2) + mlp(1) + 3n * attn(1);
  const f = parseSubnetFilter(`params.stored <= ${limit}`);
  if ('error' in f) assert.fail(f.error);
  const e = enumerateSubnets(s, { where: f.constraints, by: 'params.stored', top: 100 });
  if ('error' in e) assert.fail(e.error);
  assert.equal(e.feasibleSubnets, BigInt(all.filter((x) => x <= limit).length));
  assert.equal(e.top[0]!.params.stored, all.reduce((m, x) => (x < m ? x : m)));
  const emitted = subnetVariant(s, e.top[e.top.length - 1]!, 'Pick');
  const back = compile(text + emitted);
  assert.deepEqual(back.diagnostics.map((d) => d.message), []);
  assert.equal(back.analysis().models.find((m) => m.name === 'Pick')!.params.stored, e.top[e.top.length - 1]!.params.stored);
});

test('supernet: more than 1,024 choices over all elastic stacks are refused before any is compiled', () => {
  const stacks = Array.from({ length: 5 }, (_, i) => `  s${i} = Decoder * 2\n  elastic s${i}: Decoder(expand: [${Array.from({ length: 16 }, (_, k) => k + 1).join(', ')}], heads: [${Array.from({ length: 16 }, (_, k) => k + 1).join(', ')}]) * [1, 2]\n`).join('');
  const text = spec('expand: [2]', '[2]').replace('model Net {\n', `model Net {\n${stacks}`);
  const c = compile(text);
  assert.deepEqual(c.diagnostics.map((d) => d.message), []);
  const t0 = performance.now();
  const r = analyzeSupernet(c, 'Net', c.settings({}));
  assert.ok('error' in r && /1281 choices in all; at most 1024/.test(r.error), 'error' in r ? r.error : 'analysed');
  assert.ok(performance.now() - t0 < 2_000, 'refused without compiling the probes');
});
