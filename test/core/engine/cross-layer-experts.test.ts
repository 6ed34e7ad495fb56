// Cross-layer experts, each expected value derived by hand here:
// - `share experts STACK.moe: strategy` (Megrez2, ReXMoE, parameter-efficient Conformers): the
//   routed experts of the layers mapped to one store are one pool; routers, norms and shared
//   experts stay per layer. Stored counts each pool once, effective and active every layer.
// - A pool read by g layers: each layer's selection of k of E per token is uniform and
//   independent, so an expert escapes all g·B selections of a batch with probability
//   ((E − k)/E)^(g·B) and the union touches E·(1 − ((E − k)/E)^(g·B)) experts; the layers' own
//   reads (a decode step's traffic, as a tied block applied g times is read g times) are
//   g·E·(1 − ((E − k)/E)^B).
// - Chain-of-Experts (`MoE(…, iterations: C)`): C routers [E, d], each iteration runs top_k of the
//   same E experts (and the shared ones): active C·k experts; one layer's C selections touch
//   E·(1 − ((E − k)/E)^(C·B)) experts, its C passes read C·E·(1 − ((E − k)/E)^B).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type AnalysisOptions, type ModelReport } from '../../../src/core/index.js';
import { hoverAt, modelMarkdown } from '../../../src/core/service/hover.js';

function model(src: string, name: string | undefined, options: Partial<AnalysisOptions> = {}): ModelReport {
  const r = analyze(src, options);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  return name ? r.models.find((m) => m.name === name)! : r.models[0]!;
}

function codes(src: string): string[] {
  return analyze(src).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

// d = 64; MoE(d, 32, experts: 8, top_k: 2, shared: 1): router 8·64 = 512; each expert (gate, up,
// down) 3·64·32 = 6,144; the shared expert 6,144. A layer: RMSNorm 64 + 512 + 8·6,144 + 6,144
// = 55,872. Six layers, pooled in sequence(2): layers 0–2 read pool 0, layers 3–5 pool 1.
const POOLED = `
model M(L = 6, G = 2) {
  d = 64
  block Dec {
    norm = RMSNorm(d)
    moe  = MoE(d, 32, experts: 8, top_k: 2, shared: 1)
  }
  embed = Embedding(1000, d)
  body  = Dec * L
}
variant Pooled of M {
  share experts body.moe: sequence(G)
}
`;

test('an expert pool is stored once per pool; routers, norms and shared experts stay per layer', () => {
  const dense = model(POOLED, 'M');
  const pooled = model(POOLED, 'Pooled');
  const embed = 1000n * 64n;
  const perLayerOwn = 64n + 512n + 6_144n; // norm, router, shared expert
  const pool = 8n * 6_144n;
  assert.equal(dense.params.stored, embed + 6n * (perLayerOwn + pool));
  assert.equal(pooled.params.stored, embed + 6n * perLayerOwn + 2n * pool);
  // Effective and active count every layer's application of its pool.
  assert.equal(pooled.params.effective, dense.params.effective);
  assert.equal(pooled.params.active, embed + 6n * (perLayerOwn + 2n * 6_144n));
  assert.equal(pooled.flops.decode, dense.flops.decode, 'pooling changes no FLOP');
});

test('the pool report: stored, active, touched (union over its layers) and read experts at batch B', () => {
  for (const B of [1n, 4n, 16n]) {
    const m = model(POOLED, 'Pooled', { batch: Number(B) });
    assert.equal(m.pools.length, 1);
    const p = m.pools[0]!;
    assert.equal(p.stack, 'body');
    assert.deepEqual([p.experts, p.topK, p.draws, p.pools, p.layers], [8, 2, 1, 2, 6]);
    assert.equal(p.storedExperts, 16n);
    assert.equal(p.activeExperts, 12n);
    // Two pools of three layers: touched = 2·8·(1 − (6/8)^(3B)) = 16·(8^(3B) − 6^(3B)) / 8^(3B).
    const den = 8n ** (3n * B);
    const touchedNum = 16n * (den - 6n ** (3n * B));
    assert.equal(p.touchedParams, ceilDiv(touchedNum * 6_144n, den), `B = ${B}`);
    // The decode step's weight bytes follow each layer's own selection, not the union: 2 bf16
    // bytes per param read, (router 512 + norm 64 + shared 6,144 + 8·(1 − (6/8)^B)·6,144) per
    // layer, 6 layers, the expected params rounded up.
    const denB = 8n ** B;
    const readNum = 8n * (denB - 6n ** B);
    assert.equal(m.latency.decode.bytes, 2n * ceilDiv(6n * ((512n + 64n + 6_144n) * denB + 6_144n * readNum), denB), `B = ${B}`);
  }
  // At batch 1 a pool of three layers is touched by up to 3·2 selections: 8·(1 − (6/8)^3) = 4.625.
  assert.equal(model(POOLED, 'Pooled').pools[0]!.touchedExperts, '9.25');
  assert.equal(model(POOLED, 'Pooled').pools[0]!.readExperts, '12');
});

test('uneven pools: sequence(3) over 7 layers is pools of 3, 2 and 2 layers', () => {
  const src = POOLED.replace('share experts body.moe: sequence(G)', 'share experts body.moe: sequence(3)').replace('L = 6', 'L = 7');
  const p = model(src, 'Pooled', { batch: 2 }).pools[0]!;
  assert.deepEqual([p.pools, p.layers], [3, 7]);
  // touched = 8·(1 − (6/8)^(3·2)) + 2·8·(1 − (6/8)^(2·2)), over the common denominator 8^6.
  const den = 8n ** 6n;
  const num = 8n * (den - 6n ** 6n) + 2n * 8n * (den - 6n ** 4n * 8n ** 2n);
  assert.equal(p.touchedParams, ceilDiv(num * 6_144n, den));
  assert.equal(model(src, 'Pooled').params.stored, 1000n * 64n + 7n * (64n + 512n + 6_144n) + 3n * 8n * 6_144n);
});

test('ReXMoE: each layer routes over the G·E experts of its group, stored once, router [G·E, d]', () => {
  // L = 4 layers of E = 4 experts, groups of G = 2: each layer's MoE is declared over the group's
  // 2·4 = 8 experts and the group's layers share them. Stored = L·E·|expert| + L·d·(G·E)
  // (the paper's count: only the router grows), here 4·4·6,144 + 4·64·8.
  const src = `
model ReX {
  d = 64
  body = MoE(d, 32, experts: 8, top_k: 2) * 4
  share experts body: sequence(2)
}`;
  const r = analyze(src);
  // `share experts` needs the MoE layer inside each instance: here the instances are the layers.
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['npas-share-experts']);
  const block = `
model ReX {
  d = 64
  block Layer {
    moe = MoE(d, 32, experts: 8, top_k: 2)
  }
  body = Layer * 4
  share experts body.moe: sequence(2)
}`;
  const m = model(block, 'ReX');
  assert.equal(m.params.stored, 4n * 4n * 6_144n + 4n * 64n * 8n);
  assert.equal(m.params.active, 4n * (64n * 8n + 2n * 6_144n), 'active per token is unchanged: k experts and the router');
});

test('Chain-of-Experts: C routers, C·k experts applied, C·E·(1 − (1 − k/E)^B) read per layer', () => {
  // MoE(64, 32, experts: 8, top_k: 2, iterations: 2): routers 2·8·64 = 1,024; experts 8·6,144.
  const src = 'model C { x = MoE(64, 32, experts: 8, top_k: 2, iterations: 2) }';
  for (const B of [1n, 3n]) {
    const m = model(src, 'C', { batch: Number(B) });
    assert.equal(m.params.stored, 1_024n + 8n * 6_144n);
    assert.equal(m.params.active, 1_024n + 4n * 6_144n);
    // FLOPs per token: 2 iterations × (router 2·64·8 + 2 experts × 3 × 2·64·32) = 2·(1,024 + 24,576).
    assert.equal(m.flops.decode, B * 2n * (1_024n + 24_576n));
    const den = 8n ** B;
    const read = 2n * 8n * (den - 6n ** B); // × 1/den: the two passes' reads
    assert.equal(m.latency.decode.bytes, 2n * ceilDiv(1_024n * den + 6_144n * read, den), `B = ${B}`);
    const touchedDen = 8n ** (2n * B);
    const r = m.routing[0]!;
    assert.deepEqual([r.experts, r.topK, r.draws], [8, 2, 2]);
    // One layer's two selections per token touch 8·(1 − (6/8)^(2B)).
    const touched = (8n * (touchedDen - 6n ** (2n * B)) * 1000n) / touchedDen;
    assert.equal(r.touched.replace('…', ''), (Number(touched) / 1000).toFixed(3).replace(/\.?0+$/, ''), `B = ${B}`);
  }
  // With iterations: 1 nothing changes from a plain MoE.
  assert.deepEqual(model('model C { x = MoE(64, 32, experts: 8, top_k: 2, iterations: 1) }', 'C').params, model('model C { x = MoE(64, 32, experts: 8, top_k: 2) }', 'C').params);
});

test('Chain-of-Experts experts pooled across layers: the union counts every iteration of every layer', () => {
  const src = `
model M {
  d = 64
  block Dec {
    moe = MoE(d, 32, experts: 8, top_k: 2, iterations: 2)
  }
  body = Dec * 4
  share experts body.moe: all
}`;
  const p = model(src, 'M', { batch: 1 }).pools[0]!;
  assert.deepEqual([p.draws, p.pools, p.layers], [2, 1, 4]);
  assert.equal(p.activeExperts, 16n);
  // One pool, 4 layers × 2 iterations × 1 token = 8 selections: 8·(1 − (6/8)^8).
  const den = 8n ** 8n;
  assert.equal(p.touchedParams, ceilDiv(8n * (den - 6n ** 8n) * 6_144n, den));
});

test('share experts refuses what is not a pool of routed experts, with a located code', () => {
  const base = (stmt: string): string => `
model M {
  d = 64
  block Dec {
    norm = RMSNorm(d)
    mlp  = GatedMLP(d, 32)
    moe  = MoE(d, 32, experts: 8, top_k: 2)
  }
  body = Dec * 4
  ${stmt}
}`;
  assert.deepEqual(codes(base('share experts body.mlp: all')), ['npas-share-experts']);
  assert.deepEqual(codes(base('share experts body: all')), ['npas-share-experts']);
  assert.deepEqual(codes(base('share experts body.moe: cycle(2) relax lora(rank: 4)')), ['npas-share-experts']);
  assert.deepEqual(codes(base('share experts body.moe: cycle(5)')), ['npas-share-strategy']);
  assert.deepEqual(codes(base('share body.moe: all\n  share experts body.moe: cycle(2)')), ['npas-share-overlap']);
  assert.deepEqual(codes(base('share experts body.moe: cycle(2)')), []);
  // Layers that route differently cannot share one pool.
  const mixed = `
model M {
  d = 64
  block Dec(k = 2) {
    moe = MoE(d, 32, experts: 8, top_k: k)
  }
  body = [Dec(k: if i < 2 then 2 else 4) for i in 4]
  share experts body.moe: all
}`;
  assert.deepEqual(codes(mixed), ['npas-share-experts']);
  // `experts` stays an ordinary name where no path follows it.
  assert.deepEqual(codes('model M {\n  experts = MoE(64, 32, experts: 8, top_k: 2) * 2\n  share experts: all\n}'), []);
});

test('the hover names the modifier and shows each pool with its touched and read experts', () => {
  const text = POOLED;
  const r = analyze(text, { batch: 4 });
  const at = text.indexOf('experts body') + 2;
  const modifier = hoverAt(text, r, at);
  assert.ok(modifier?.markdown.startsWith('`share experts STACK.moe: strategy`'), modifier?.markdown);
  const md = modelMarkdown(r.models.find((m) => m.name === 'Pooled')!);
  // Two pools of 8 experts for 6 layers; at batch 4, 2·8·(1 − (6/8)^12) = 15.493… touched.
  assert.match(md, /expert pools of `body`: 2 pools of 8 experts for 6 layers — stored 16 experts, active 12 per token; a decode step at batch 4 touches 15\.493/);
});

// The layer-wise recurrent router (RMoE): MoE(…, router_rnn: p) has router_in [p, d] and router
// [E, p]; RecurrentRouter(p) is the GRU cell, input [3p, p] + bias 3p, state [3p, p] + bias 3p,
// declared in the block and shared across the stack. d = 64, p = 16, E = 8, k = 2: router_in
// 1,024, router 128, cell 2·(768 + 48) = 1,632, experts 8·6,144, RMSNorm 64.
const RMOE = `
model M(L = 4) {
  d = 64
  block Dec {
    norm = RMSNorm(d)
    cell = RecurrentRouter(16)
    moe  = MoE(d, 32, experts: 8, top_k: 2, router_rnn: 16)
  }
  body = Dec * L
}
variant R of M {
  share body.cell: all
}
`;

test('RMoE: the recurrent cell stored once, applied (effective, active, FLOPs, decode reads) by every layer', () => {
  for (const B of [1n, 5n]) {
    const arch = model(RMOE, 'M', { batch: Number(B) });
    const r = model(RMOE, 'R', { batch: Number(B) });
    const own = 64n + 1_024n + 128n; // norm, router_in, router
    const cell = 1_632n;
    assert.equal(arch.params.stored, 4n * (own + cell + 8n * 6_144n));
    assert.equal(r.params.stored, 4n * (own + 8n * 6_144n) + cell);
    assert.equal(r.params.effective, arch.params.stored);
    assert.equal(r.params.active, 4n * (own + cell + 2n * 6_144n));
    // Per token and layer: the cell's two products 2·(2·16·48) = 3,072, the router 2·64·16 +
    // 2·16·8 = 2,304, two experts 2·3·2·64·32 = 24,576.
    assert.equal(r.flops.decode, B * 4n * (3_072n + 2_304n + 24_576n));
    assert.equal(r.flops.decode, arch.flops.decode, 'sharing the cell changes no FLOP');
    // A decode step reads, per layer, the cell, the router, the norm and the experts its batch
    // touches, 8·(1 − (6/8)^B) of them (bf16: 2 bytes a param).
    const den = 8n ** B;
    const read = 8n * (den - 6n ** B);
    assert.equal(r.latency.decode.bytes, 2n * ceilDiv(4n * ((own + cell) * den + 6_144n * read), den), `B = ${B}`);
  }
  // The GRU's gates against a tanh RNN cell (one gate): 2·(256 + 16) = 544 params, 2·2·16·16 =
  // 1,024 FLOPs, beside one MoE reading it (router_in, router and experts as above).
  const rnn = model('model C {\n  c = RecurrentRouter(16, cell: rnn)\n  m = MoE(64, 32, experts: 8, top_k: 2, router_rnn: 16)\n}', 'C');
  assert.equal(rnn.params.stored, 544n + 1_024n + 128n + 8n * 6_144n);
  assert.equal(rnn.flops.decode, 1_024n + 2_304n + 24_576n);
  assert.equal(rnn.kvCacheBytes, 0n, 'the state runs across layers, not tokens');
});

// The cell and its readers are siblings, the cell first (docs/layers.md, "RecurrentRouter"): a
// reader without its cell was counted without the GRU, a cell of another width at a width no
// reader uses, a lone cell stored and never run — each is npas-router-cell at the member.
test('RMoE: a router_rnn MoE without its cell before it, of another width, or a cell nobody reads, is npas-router-cell at the member', () => {
  const cases: [string, string][] = [
    ['block B {\n    m = MoE(64, 32, experts: 8, top_k: 2, router_rnn: 16)\n  }', 'm = MoE(64, 32, experts: 8, top_k: 2, router_rnn: 16)'],
    ['block B {\n    c = RecurrentRouter(8)\n    m = MoE(64, 32, experts: 8, top_k: 2, router_rnn: 16)\n  }', 'm = MoE(64, 32, experts: 8, top_k: 2, router_rnn: 16)'],
    ['block B {\n    c = RecurrentRouter(16)\n    n = RMSNorm(64)\n  }', 'c = RecurrentRouter(16)'],
  ];
  for (const [block, at] of cases) {
    const src = `model M {\n  ${block}\n  body = B * 2\n}\n`;
    const errors = analyze(src).diagnostics.filter((x) => x.severity === 'error');
    assert.deepEqual(errors.map((x) => [x.code, src.slice(x.range.start, x.range.end)]), [['npas-router-cell', at]], block);
  }
  // The cell after its reader: the reader has no cell, and the cell no reader.
  const after = 'model M {\n  e = Embedding(10, 64)\n  m = MoE(64, 32, experts: 8, top_k: 2, router_rnn: 16)\n  c = RecurrentRouter(16)\n}\n';
  const errors = analyze(after).diagnostics.filter((x) => x.severity === 'error');
  assert.deepEqual(errors.map((x) => [x.code, after.slice(x.range.start, x.range.end)]), [['npas-router-cell', 'm = MoE(64, 32, experts: 8, top_k: 2, router_rnn: 16)'], ['npas-router-cell', 'c = RecurrentRouter(16)']]);
  // A variant re-evaluates its base's members; the error is reported once.
  assert.equal(codes(`${after}variant V of M { share body: all }`).filter((c) => c === 'npas-router-cell').length, 2);
});

test('RMoE: router_rnn with Chain-of-Experts iterations is refused at the argument', () => {
  const src = 'model M { x = MoE(64, 32, experts: 8, top_k: 2, router_rnn: 16, iterations: 2) }';
  const d = analyze(src).diagnostics.filter((x) => x.severity === 'error');
  assert.deepEqual(d.map((x) => x.code), ['npas-layer-shape']);
  assert.equal(src.slice(d[0]!.range.start, d[0]!.range.end), 'router_rnn: 16');
  assert.deepEqual(codes('model C { c = RecurrentRouter(16, cell: lstm) }').length, 1);
});
