// Sharing semantics (docs/language.md, "Sharing") on models small enough to count by hand.
// Each expected number is derived in the comment next to it from the layer formulas of
// docs/layers.md: Linear(i, o) = i·o, RMSNorm(d) = d, Embedding(r, w) = r·w,
// Attention(d, heads) = 4·d² (q, k, v, o with head_dim = d/heads), of which k and v are 2·d²,
// MLP(d, h, bias: false) = 2·d·h. FLOPs per token are 2 per weight of every matmul.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type AnalysisOptions, type Diagnostic, type ModelReport } from '../../../src/core/index.js';
import * as S from '../../../src/core/sharing/slot-map.js';
import { prng } from '../../fixtures/prng.js';

function models(src: string, options: Partial<AnalysisOptions> = {}): Map<string, ModelReport> {
  const r = analyze(src, options);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => `${d.code} [${src.slice(d.range.start, d.range.end)}]: ${d.message}`), [], 'no errors');
  return new Map(r.models.map((m) => [m.name, m]));
}

interface Want {
  stored?: bigint;
  effective?: bigint;
  active?: bigint;
  trainable?: bigint;
  kv?: bigint;
  /** FlopsReport.decode (one decode step). */
  decode?: bigint;
  /** FlopsReport.prefill (whole prefill). */
  prefill?: bigint;
  generationPerStep?: bigint;
}

function check(m: ModelReport | undefined, want: Want, label: string): void {
  assert.ok(m, `${label}: model reported`);
  const got: Want = {};
  const exp: Want = {};
  for (const k of Object.keys(want) as (keyof Want)[]) {
    exp[k] = want[k];
    got[k] =
      k === 'kv' ? m.kvCacheBytes
      : k === 'decode' ? m.flops.decode
      : k === 'prefill' ? m.flops.prefill
      : k === 'generationPerStep' ? m.flops.generationPerStep
      : m.params[k];
  }
  assert.deepEqual(got, exp, label);
}

// -------------------------------------------------------------------------------------------
// σ(i) for N = 6, M = 3, straight from the table in "Tying instances of a stack".

test('slot maps: σ(i) and store counts match the documented table', () => {
  const rows: [string, S.SlotMap, string, number][] = [
    ['none', S.noneMap(6), '012345', 6],
    ['all', S.allMap(), '000000', 1],
    ['cycle(3)', S.cycleMap(3), '012012', 3],
    ['sequence(3)', S.sequenceMap(3, 6), '001122', 3],
    ['cycle_rev(3)', S.cycleRevMap(3, 6), '012210', 3],
    ['map([2, 2, 0, 1, 0, 2])', S.explicitMap([2, 2, 0, 1, 0, 2]), '220102', 3],
    // N = 7: sequence ⌊i·3/7⌋ = 0,0,0,1,1,2,2; cycle_rev's last cycle starts at 3·(⌈7/3⌉ − 1) = 6.
    ['sequence(3), N = 7', S.sequenceMap(3, 7), '0001122', 3],
    ['cycle_rev(3), N = 7', S.cycleRevMap(3, 7), '0120122', 3],
    // N = M: the only cycle is the last one and runs backwards.
    ['cycle_rev(3), N = 3', S.cycleRevMap(3, 3), '210', 3],
    ['sequence(4), N = 6', S.sequenceMap(4, 6), '001223', 4],
  ];
  for (const [label, map, sigma, stores] of rows) {
    const n = sigma.length;
    assert.equal(Array.from({ length: n }, (_, i) => map.slotOf(i)).join(''), sigma, `${label}: σ`);
    assert.equal(map.slots, stores, `${label}: stores`);
    // firstsIn counts first users of a store; over any split of [0, N) they add up to M.
    for (let cut = 0; cut <= n; cut++) assert.equal(map.firstsIn(0, cut) + map.firstsIn(cut, n), stores, `${label}: firsts split at ${cut}`);
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      const first = !seen.has(map.slotOf(i));
      seen.add(map.slotOf(i));
      assert.equal(map.firstsIn(i, i + 1), first ? 1 : 0, `${label}: instance ${i} first user`);
    }
  }
});

test('KV producer maps: every(n) groups and explicit sources', () => {
  // every(4) on 6 instances: groups {0..3}, {4, 5}; producers 0 and 4.
  const e = S.everyKv(4);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => e.producerOf(i)), [0, 0, 0, 0, 4, 4]);
  assert.equal(e.producersIn(0, 6), 2);
  assert.equal(e.producersIn(1, 4), 0);
  assert.equal(e.producersIn(3, 5), 1);
  const m = S.explicitKv([0, 0, 2, 2, 2, 5]);
  assert.equal(m.producersIn(0, 6), 3);
  assert.equal(m.producersIn(1, 3), 1);
});

// -------------------------------------------------------------------------------------------
// Layer tying on a toy LM. Blk = RMSNorm(8) + Linear(8, 8) = 8 + 64 = 72 params.
// embed = 100·8 = 800; head = Linear(8, 100) = 800, tied to embed (stored 0, effective 800).
// stored = 800 + 6·72 = 1,232; effective = 800 + 432 + 800 = 2,032.
// FLOPs/token: 6·2·64 (body) + 2·8·100 (head) = 768 + 1,600 = 2,368; decode = that.

const LM = `model M {
  d = 8
  block Blk { n = RMSNorm(d); l = Linear(d, d) }
  embed = Embedding(100, d)
  body = Blk * 6
  head = Linear(d, 100) tied embed
}
`;

const STRATEGIES: readonly [string, Want, string][] = [
  ['', { stored: 1232n, effective: 2032n, active: 2032n, trainable: 1232n, decode: 2368n }, 'base'],
  ['share body: none', { stored: 1232n, effective: 2032n }, 'N stores'],
  ['share body: all', { stored: 800n + 72n, effective: 2032n, decode: 2368n }, '1 store'],
  ['share body: cycle(3)', { stored: 800n + 3n * 72n, effective: 2032n }, '3 stores'],
  ['share body: cycle(6)', { stored: 1232n }, '6 stores = none'],
  ['share body: sequence(3)', { stored: 800n + 3n * 72n }, '3 stores'],
  ['share body: sequence(4)', { stored: 800n + 4n * 72n }, '4 stores: 001223'],
  ['share body: cycle_rev(3)', { stored: 800n + 3n * 72n }, '3 stores'],
  ['share body: cycle_rev(4)', { stored: 800n + 4n * 72n }, '4 stores: 012310'],
  ['share body: map([0, 1, 0, 1, 2, 2])', { stored: 800n + 3n * 72n }, '3 distinct values'],
  ['share body: [0, 0, 0, 0, 0, 1]', { stored: 800n + 2n * 72n }, 'list literal = map, 2 distinct'],
  ['share body: map([5, 5, 9, 9, 9, 5])', { stored: 800n + 2n * 72n }, 'store labels need not be dense'],
  // Sub-paths: only the named member is shared; the norms stay per instance.
  ['share body.l: all', { stored: 800n + 6n * 8n + 64n, effective: 2032n }, 'norms per instance'],
  ['share body.l: cycle(2)', { stored: 800n + 6n * 8n + 2n * 64n }, 'two stores of l'],
  ['share body.n, body.l: all', { stored: 800n + 8n + 64n }, 'both members shared separately'],
  // tie a = b: a's weights become b's stores.
  ['tie body[1].l = body[0].l', { stored: 1232n - 64n, effective: 2032n }, 'one Linear'],
  ['tie body[5] = body[0]', { stored: 1232n - 72n, effective: 2032n }, 'a whole block'],
  ['tie body[1].l.weight = body[0].l.weight', { stored: 1232n - 64n }, 'a single weight'],
  // Trainability: freeze removes stored weights from trainable, a later train adds them back.
  ['freeze body', { trainable: 800n }, 'embedding only'],
  ['freeze body\n  train body[0]', { trainable: 800n + 72n }, 'later train wins for instance 0'],
  ['freeze embed', { stored: 1232n, trainable: 432n }, 'the tied head has no store of its own'],
  ['freeze body.n', { trainable: 1232n - 6n * 8n }, 'norms of every instance'],
  ['share body: all\n  freeze body.l', { stored: 872n, trainable: 872n - 64n }, 'frozen shared store counted once'],
];

test('weight sharing strategies, sub-paths, tie and freeze/train on a hand-countable LM', () => {
  const src = LM + STRATEGIES.map(([s], i) => `variant V${i} of M {\n  ${s}\n}\n`).join('');
  const got = models(src);
  STRATEGIES.forEach(([s, want, why], i) => check(got.get(`V${i}`), want, `${s || 'base'} (${why})`));
});

test('`tied` ties only the main weight: an LM head bias keeps its own store', () => {
  // Linear(8, 100, bias: true) = 800 + 100; tied to the 800 table → stored 100.
  const got = models(`model M {
  embed = Embedding(100, 8)
  head  = Linear(8, 100, bias: true) tied embed
}
model U {
  embed = Embedding(100, 8)
  head  = Linear(8, 100, bias: true)
}`);
  check(got.get('M'), { stored: 800n + 100n, effective: 800n + 900n, decode: 1600n }, 'tied');
  check(got.get('U'), { stored: 800n + 900n, effective: 1700n, decode: 1600n }, 'untied');
});

test('`tied` inside a block names a sibling, and survives stack sharing', () => {
  // Blk: a = Linear(8, 8, bias) = 72; b = same, weight tied to a → stores its bias 8 only.
  // 3 blocks → 3·80 = 240; share all → 80. Effective: 3·144 = 432 either way.
  const got = models(`model T {
  block Blk { a = Linear(8, 8, bias: true); b = Linear(8, 8, bias: true) tied a }
  body = Blk * 3
}
variant Ta of T { share body: all }`);
  check(got.get('T'), { stored: 240n, effective: 432n }, 'block tie');
  check(got.get('Ta'), { stored: 80n, effective: 432n }, 'block tie + share all');
});

test('stacks of instances that differ only in non-weight arguments can share stores', () => {
  // Attention(8, heads: 2) = 4·64 = 256; windows alternate 4 / none, shapes are equal.
  // 6 instances: 1,536; cycle(2) and sequence(2) → 2 stores = 512. KV unchanged (bf16,
  // seq 10): 3 windowed layers cache min(10, 4) = 4 tokens, 3 full layers 10 tokens, each
  // 2·8 elements: (3·4 + 3·10)·16·2 bytes = 1,344.
  const base = `model M {
  block Blk(w = none) { att = Attention(8, heads: 2, window: w) }
  body = [Blk(w: if i % 2 == 0 then 4 else none) for i in 0..6]
}
variant C of M { share body: cycle(2) }
variant Q of M { share body: sequence(2) }`;
  const got = models(base, { seq: 10 });
  check(got.get('M'), { stored: 1536n, kv: 1344n }, 'base');
  check(got.get('C'), { stored: 512n, effective: 1536n, kv: 1344n }, 'cycle(2)');
  check(got.get('Q'), { stored: 512n, effective: 1536n, kv: 1344n }, 'sequence(2)');
});

// -------------------------------------------------------------------------------------------
// Relaxation LoRA: r·(d_in + d_out) per matrix per instance, never deduplicated by sharing;
// 2·r·(d_in + d_out) FLOPs per token unless merged.

test('relax lora: per instance, not deduplicated, FLOPs unless merged, targets restrict', () => {
  // On the toy LM with cycle(3): 6 instances × 1 matrix (8→8) × 2·(8 + 8) = 6·32 = 192.
  // stored 1,016 + 192 = 1,208; effective 2,032 + 192; decode 2,368 + 6·2·32 = 2,752.
  // Trainable: relaxation keeps the base trainable, so every stored param trains.
  const got = models(`${LM}
variant R of M { share body: cycle(3) relax lora(rank: 2) }
variant Rm of M { share body: cycle(3) relax lora(rank: 2, merged: true) }
variant Ra of M { share body: all relax lora(rank: 2) }`);
  check(got.get('R'), { stored: 1016n + 192n, effective: 2032n + 192n, trainable: 1208n, decode: 2368n + 384n }, 'cycle(3) relax');
  check(got.get('Rm'), { stored: 1208n, decode: 2368n }, 'merged: no extra FLOPs');
  check(got.get('Ra'), { stored: 872n + 192n }, 'all: still one LoRA per instance');

  // Attention(8, heads: 2): q, k, v, o are 8→8. targets: [q] → 4 instances · 2·16 = 128.
  // Blk = RMSNorm(8) + 256 = 264; cycle(2) → 2·264 = 528.
  const att = models(`model P {
  block Blk { n = RMSNorm(8); att = Attention(8, heads: 2) }
  body = Blk * 4
}
variant All of P { share body: cycle(2) relax lora(rank: 2) }
variant Q of P { share body: cycle(2) relax lora(rank: 2, targets: [q]) }`);
  check(att.get('All'), { stored: 528n + 4n * 4n * 32n }, 'all four matrices');
  check(att.get('Q'), { stored: 528n + 4n * 32n }, 'q only');
});

// -------------------------------------------------------------------------------------------
// KV sharing on Dec = Attention(64, heads: 4) + MLP(64, 128, bias: false):
// att = 4·64² = 16,384 (k + v = 8,192), ff = 2·64·128 = 16,384, Dec = 32,768; ×6 = 196,608.
// FLOPs/token: 2·32,768 = 65,536 per instance; attention: 2·heads·(d_h + d_h) = 2·4·32 = 256
// per attended key. At seq S = 100, bf16, batch 1:
//   KV = 6 · 2·64 · 100 · 2 bytes = 153,600;
//   decode = 6·65,536 + 6·256·100 = 393,216 + 153,600 = 546,816;
//   prefill = 100·393,216 + 6·256·(100·101/2) = 39,321,600 + 7,756,800 = 47,078,400.
// A borrowing instance drops k and v: −8,192 params, −16,384 FLOPs/token, no KV.

const KV_BASE = `model K {
  d = 64
  block Dec { att = Attention(d, heads: 4); ff = MLP(d, 128, bias: false) }
  body = Dec * 6
}
`;
const perLayerKv = 2n * 64n * 100n * 2n; // 25,600 bytes

const KV_CASES: readonly [string, Want, string][] = [
  ['', { stored: 196_608n, effective: 196_608n, kv: 6n * perLayerKv, decode: 546_816n, prefill: 47_078_400n }, 'base'],
  ['share body: all', { stored: 32_768n, effective: 196_608n, kv: 6n * perLayerKv, decode: 546_816n, prefill: 47_078_400n }, 'sharing weights never shrinks KV'],
  // every(2): producers 0, 2, 4; borrowers 1, 3, 5.
  ['share kv body: every(2)', { stored: 196_608n - 3n * 8192n, effective: 196_608n - 3n * 8192n, kv: 3n * perLayerKv, decode: 546_816n - 3n * 16_384n, prefill: 47_078_400n - 3n * 16_384n * 100n }, 'CLA2'],
  // every(4): groups {0..3}, {4, 5} → producers 0, 4.
  ['share kv body: every(4)', { stored: 196_608n - 4n * 8192n, kv: 2n * perLayerKv }, 'groups of 4, last group short'],
  ['share kv body: every(1)', { stored: 196_608n, kv: 6n * perLayerKv }, 'every layer produces'],
  ['share kv body: map([0, 0, 2, 2, 2, 5])', { stored: 196_608n - 3n * 8192n, kv: 3n * perLayerKv, decode: 546_816n - 3n * 16_384n }, 'producers 0, 2, 5'],
  // keep_weights: the borrowers' k and v stay stored (a checkpoint that ships them unused, Gemma 3n);
  // effective, FLOPs and KV drop as without it.
  ['share kv body: map([0, 0, 2, 2, 2, 5], keep_weights: true)', { stored: 196_608n, effective: 196_608n - 3n * 8192n, kv: 3n * perLayerKv, decode: 546_816n - 3n * 16_384n, prefill: 47_078_400n - 3n * 16_384n * 100n }, 'readers keep their unused K/V weights stored'],
  ['share kv body: every(2, keep_weights: true)', { stored: 196_608n, effective: 196_608n - 3n * 8192n, kv: 3n * perLayerKv }, 'every(n) keeps them too'],
  ['share kv body: every(2, keep_weights: false)', { stored: 196_608n - 3n * 8192n, kv: 3n * perLayerKv }, 'keep_weights: false is the default'],
  // cycle(3): stores 0,1,2,0,1,2; tied → instances 3..5 read the KV of 0..2. Their stores are
  // also used by producers, so k and v stay stored: 3·32,768.
  ['share body: cycle(3)\n  share kv body: tied', { stored: 3n * 32_768n, effective: 196_608n - 3n * 8192n, kv: 3n * perLayerKv }, 'recursive KV sharing'],
  ['share body: sequence(3)\n  share kv body: tied', { stored: 3n * 32_768n, kv: 3n * perLayerKv }, 'stores 001122: producers 0, 2, 4'],
  // all + every(2): the one store is used by producer 0 → k, v stay.
  ['share body: all\n  share kv body: every(2)', { stored: 32_768n, effective: 196_608n - 3n * 8192n, kv: 3n * perLayerKv }, 'one store, still produced'],
  // cycle(2) + every(2): stores 0,1,0,1,0,1; producers 0, 2, 4 all use store 0, so store 1's
  // k and v are never run: 2·32,768 − 8,192.
  ['share body: cycle(2)\n  share kv body: every(2)', { stored: 2n * 32_768n - 8192n, kv: 3n * perLayerKv }, 'store 1 only borrows'],
  // Sub-path sharing of the attention: ff stays per instance (6·16,384 = 98,304).
  // att: all → one store, used by producer 0, keeps k and v: 98,304 + 16,384.
  ['share body.att: all\n  share kv body: every(2)', { stored: 98_304n + 16_384n, effective: 196_608n - 3n * 8192n, kv: 3n * perLayerKv }, 'shared attention store still produces'],
  // att: cycle(2) → stores 0,1,0,1,0,1; producers 0, 2, 4 use store 0; store 1 only borrows.
  ['share body.att: cycle(2)\n  share kv body: every(2)', { stored: 98_304n + 2n * 16_384n - 8192n, kv: 3n * perLayerKv }, 'shared attention store 1 only borrows'],
  // ff shared, attention per instance: borrowers drop their own k, v.
  ['share body.ff: all\n  share kv body: every(2)', { stored: 16_384n + 6n * 16_384n - 3n * 8192n, kv: 3n * perLayerKv }, 'unshared attention drops k, v'],
  // Relaxation LoRA (rank 2) on every matmul of every instance: 4·2·(64 + 64) + 2·2·(64 + 128)
  // = 1,792 per instance. A borrower (1, 3, 5) never runs k and v, so it stores no adapter on
  // them either: −3·2·256 = −1,536 stored, effective and FLOPs (2·256 per adapter per token).
  // Base weights as 'store 1 only borrows' above: 2·32,768 − 8,192.
  ['share body: cycle(2) relax lora(rank: 2)\n  share kv body: every(2)', { stored: 2n * 32_768n - 8192n + 6n * 1792n - 1536n, effective: 196_608n - 3n * 8192n + 6n * 1792n - 1536n, decode: 546_816n - 3n * 16_384n + 6n * 2n * 1792n - 2n * 1536n, kv: 3n * perLayerKv }, 'borrowers store no adapters on k, v'],
];

test('share kv: KV bytes, dropped K/V projections in stored/effective/FLOPs', () => {
  const src = KV_BASE + KV_CASES.map(([s], i) => `variant V${i} of K {\n  ${s}\n}\n`).join('');
  const got = models(src, { seq: 100 });
  KV_CASES.forEach(([s, want, why], i) => check(got.get(`V${i}`), want, `${s || 'base'} (${why})`));
});

test('route mor: capacities (R − r)/R scale active params, FLOPs and KV; R routers of d, router r at c_{r−1}', () => {
  // N = 6, R = 3: recursion ⌊i·3/6⌋ = 0,0,1,1,2,2; capacities 1, 2/3, 1/3.
  // Applications per token: 2·(1 + 2/3 + 1/3) = 4 instance-equivalents.
  // Routers: 3 of d = 64 → stored/effective +192. Router r scores the tokens that reached
  // recursion r: c_{r−1}, 1 for the first → 1 + 1 + 2/3 = 8/3; active 64·8/3 = 512/3.
  // active = 4·32,768 + 512/3 = 131,242.67 → 131,243 (reports round);
  // KV = 4·25,600 = 102,400;
  // decode = 4·65,536 + 2·512/3 + 4·256·100 = 262,144 + 341.33 + 102,400 → 364,885.
  // Custom capacities [1, 1/2, 1/4]: Σ = 7/4 → 2·(7/4)·32,768 = 114,688; routers 1 + 1 + 1/2
  //   → 64·5/2 = 160. KV = 2·(7/4)·25,600 = 89,600.
  // N = 5, R = 2: recursion ⌊i·2/5⌋ = 0,0,0,1,1 → 3·1 + 2·(1/2) = 4 instance-equivalents;
  //   stored 5·32,768 + 2·64 = 163,968; routers 1 + 1 → active 4·32,768 + 128 = 131,200.
  const got = models(`${KV_BASE}
variant R of K { route body: mor(recursions: 3) }
variant Rc of K { route body: mor(recursions: 3, capacity: [1, 1/2, 1/4]) }
variant Rs of K { share body: cycle(2)
  route body: mor(recursions: 3) }
model K5 {
  block Dec { att = Attention(64, heads: 4); ff = MLP(64, 128, bias: false) }
  body = Dec * 5
}
variant R5 of K5 { route body: mor(recursions: 2) }`, { seq: 100 });
  check(got.get('R'), { stored: 196_608n + 192n, effective: 196_608n + 192n, active: 131_243n, kv: 4n * perLayerKv, decode: 364_885n }, 'default capacities');
  check(got.get('Rc'), { active: 114_688n + 160n, kv: 89_600n }, 'explicit capacities');
  check(got.get('Rs'), { stored: 2n * 32_768n + 192n, active: 131_243n, kv: 4n * perLayerKv }, 'with cycle(2) weight sharing');
  check(got.get('R5'), { stored: 163_968n, active: 131_200n, kv: 4n * perLayerKv }, 'N not a multiple of R');
});

// -------------------------------------------------------------------------------------------
// Adapters, hashing, banks, dictionaries and head sharing on
// P = 2 × (RMSNorm(8) + Attention(8, heads: 2)): 2·(8 + 4·64) = 528 params; 8 matrices 8→8.

const P = `model P {
  block Blk { n = RMSNorm(8); att = Attention(8, heads: 2) }
  body = Blk * 2
}
`;

const ADAPTERS: readonly [string, Want, string][] = [
  // q and v of 2 instances = 4 targets; LoRA r = 2: 2·(8 + 8) = 32 each → 128.
  // Adapters freeze the base: trainable = 128. FLOPs +2·128 = 256 per token.
  // Effective and active count the materialised A·B of every adapted matrix: +128 as well.
  ['adapt body.att.q, body.att.v: lora(rank: 2)', { stored: 528n + 128n, effective: 528n + 128n, active: 528n + 128n, trainable: 128n }, 'lora'],
  ['adapt body.att: lora(rank: 2, targets: [q, v])', { stored: 528n + 128n, trainable: 128n }, 'lora targets restrict'],
  ['adapt body.att: lora(rank: 2)', { stored: 528n + 256n, trainable: 256n }, 'lora on all 8 matrices'],
  ['adapt body[1].att.q: lora(rank: 2)', { stored: 528n + 32n, trainable: 32n }, 'one instance'],
  // tied_lora: one A·B per distinct shape (all 8×8): 2·16 = 32, plus per target u (r) and
  // v (d_out): 4·(2 + 8) = 40 → 72.
  // Effective: each target applies A·B (32) plus its u, v (10): 4·42 = 168.
  ['adapt body.att.q, body.att.v: tied_lora(rank: 2)', { stored: 528n + 72n, effective: 528n + 168n, trainable: 72n }, 'tied_lora'],
  // aslora: r·d_in + g·r·d_out per shape = 2·8 + 2·2·8 = 48.
  ['adapt body.att.q, body.att.v: aslora(rank: 2, groups: 2)', { stored: 528n + 48n, effective: 528n + 128n, trainable: 48n }, 'aslora'],
  // vblora: bank h·b = 4·8 = 32; S = Σ r·(d_in + d_out)/b = 4·32/8 = 16 sub-vectors, each
  // k − 1 + k = 3 numbers → 48. Total 80.
  ['adapt body.att.q, body.att.v: vblora(rank: 2, vectors: 4, length: 8, top_k: 2)', { stored: 528n + 80n, effective: 528n + 128n }, 'vblora'],
  // MoS (shards l = 2, pool n = 3, private p = 1): pools per side and width, n·8/2 = 12 for
  // the A side and 12 for the B side; private p·(8 + 8)/2 = 8 per target → 32. Total 56.
  ['adapt body.att.q, body.att.v: mos(rank: 2, shards: 2, pool: 3, private: 1)', { stored: 528n + 56n, effective: 528n + 128n }, 'mos'],
  // Trainability: a later `train` makes the norms trainable again: 128 + 2·8.
  ['adapt body.att.q, body.att.v: lora(rank: 2)\n  train body.n', { trainable: 128n + 16n }, 'train after adapt'],
  // ROAST: every matmul reads m = 50 params; untouched norms 2·8 = 16 → 66; scales: +1 per
  // matrix (8) → 74. rps is the same count.
  ['hash body: roast(memory: 50)', { stored: 50n + 16n, effective: 528n, decode: 1664n }, 'roast'],
  ['hash body: roast(memory: 50, scales: true)', { stored: 50n + 16n + 8n }, 'roast with scales'],
  ['hash body: rps(memory: 50)', { stored: 66n }, 'rps'],
  ['hash body.att.q: roast(memory: 10)', { stored: 528n - 2n * 64n + 10n }, 'only q is hashed'],
  // SSN: |W| = 64 for all 8 matrices. P = 150: K = clamp(⌊150/64⌋ = 2, 1, 8) = 2 → 2
  // coefficients each = 16; stored 150 + 16 + norms 16 = 182. Generation 8·2·64 = 1,024 MACs,
  // reported as 6 × MACs = 6,144 FLOPs per step. P = 40: K = clamp(0, 1, 8) = 1 → no
  // coefficients: 40 + 16 = 56, 512 MACs. templates: 1 caps K at 1.
  ['bank g = body: ssn(params: 150, templates: 8)', { stored: 182n, effective: 528n, generationPerStep: 6n * 1024n }, 'ssn K = 2'],
  ['bank g = body: ssn(params: 40, templates: 8)', { stored: 56n, generationPerStep: 6n * 512n }, 'ssn K = 1'],
  ['bank g = body: ssn(params: 150, templates: 1)', { stored: 150n + 16n }, 'ssn capped at one template'],
  ['bank g = body: ssn(params: 1000, templates: 4)', { stored: 1000n + 8n * 4n + 16n }, 'ssn capped at K = 4'],
  // MASA: 4 projection types × S·|W| = 4·3·64 = 768 atoms, L·S coefficients per type
  // = 4·2·3 = 24; + norms 16 → 808.
  ['dict body.att: masa(atoms: 3)', { stored: 768n + 24n + 16n, effective: 528n }, 'masa'],
  // Head sharing: n·head_dim·(d_q_in + d_k_in) = 1·4·(8 + 8) = 64; with qkvo also v rows and
  // o columns: 4·8 + 4·8 → 128.
  ['share heads body.att: pairs(1)', { stored: 528n - 64n, effective: 528n, kv: 640n, decode: 1664n }, 'pairs(1)'],
  ['share heads body.att: pairs(2)', { stored: 528n - 128n }, 'pairs(2)'],
  ['share heads body.att: pairs(1, qkvo: true)', { stored: 528n - 128n }, 'pairs(1, qkvo)'],
];

test('adapters, hashed memory, SSN banks, MASA dictionaries and head sharing', () => {
  // Base at seq 10: KV = 2 layers · 2·8 · 10 · 2 bytes = 640; decode = 2·2·256 + 2·(2·2·8)·10
  // = 1,024 + 640 = 1,664.
  const src = P + ADAPTERS.map(([s], i) => `variant V${i} of P {\n  ${s}\n}\n`).join('');
  const got = models(src, { seq: 10 });
  check(got.get('P'), { stored: 528n, kv: 640n, decode: 1664n }, 'base');
  ADAPTERS.forEach(([s, want, why], i) => check(got.get(`V${i}`), want, `${s} (${why})`));
});

test('adapter FLOPs: 2·r·(d_in + d_out) per adapted matrix per token unless merged', () => {
  // 4 targets · 2·32 = 256 extra decode FLOPs on top of 1,664.
  const got = models(`${P}
variant L of P { adapt body.att.q, body.att.v: lora(rank: 2) }
variant Lm of P { adapt body.att.q, body.att.v: lora(rank: 2, merged: true) }`, { seq: 10 });
  check(got.get('L'), { decode: 1664n + 256n }, 'unmerged');
  check(got.get('Lm'), { decode: 1664n }, 'merged');
});

test('head sharing does not count frozen base weights as trainable savings', () => {
  // LoRA on q of 2 instances = 2·32 = 64 trainable; the base (and the head slices it saves)
  // is frozen, so trainable stays 64 while stored drops by 64.
  const got = models(`${P}
variant H of P { adapt body.att.q: lora(rank: 2)
  share heads body.att: pairs(1) }`);
  check(got.get('H'), { stored: 528n + 64n - 64n, trainable: 64n }, 'adapters + head sharing');
});

test('hashed memories, banks and dictionaries are frozen with the base weights that read them', () => {
  // LoRA on q (2 instances · 32 = 64) freezes the base, so the ROAST memory (50), the SSN bank
  // (150) and the norms do not train: trainable = 64. `freeze body` leaves nothing trainable.
  // Tied-LoRA's shared A·B (32) is adapter weight and trains: 2·(2 + 8) + 32 = 52.
  const got = models(`${P}
variant HA of P { hash body: roast(memory: 50)
  adapt body.att.q: lora(rank: 2) }
variant BA of P { bank g = body: ssn(params: 150, templates: 8)
  adapt body.att.q: lora(rank: 2) }
variant Hf of P { hash body: roast(memory: 50)
  freeze body }
variant Df of P { dict body.att: masa(atoms: 3)
  freeze body }
variant Hp of P { hash body: roast(memory: 50)
  freeze body[1] }
variant T of P { adapt body.att.q: tied_lora(rank: 2) }`);
  check(got.get('HA'), { stored: 50n + 16n + 64n, trainable: 64n }, 'roast + lora');
  check(got.get('BA'), { stored: 150n + 16n + 16n + 64n, trainable: 64n }, 'ssn + lora');
  check(got.get('Hf'), { stored: 66n, trainable: 0n }, 'roast, frozen');
  check(got.get('Df'), { stored: 808n, trainable: 0n }, 'masa, frozen');
  // Instance 0 still trains and reads the memory: 50 + its norm 8.
  check(got.get('Hp'), { stored: 66n, trainable: 58n }, 'roast, half frozen');
  check(got.get('T'), { stored: 528n + 52n, trainable: 52n }, 'tied_lora bank trains');
});

test('SSN with layers of different sizes: K_ℓ = clamp(⌊P/|W_ℓ|⌋, 1, K)', () => {
  // |W| = 64 → ⌊200/64⌋ = 3 coefficients; |W| = 256 → ⌊200/256⌋ = 0 → 1 template, none.
  // stored = 200 + 3; generation = 3·64 + 1·256 = 448 MACs → 6·448 FLOPs per step.
  const got = models(`model B {
  a = Linear(8, 8)
  b = Linear(8, 32)
}
variant S of B { bank g = a, b: ssn(params: 200, templates: 8) }`);
  check(got.get('S'), { stored: 203n, effective: 64n + 256n, generationPerStep: 6n * 448n }, 'mixed sizes');
});

test('VB-LoRA on RoBERTa-base q and v (r = 4, h = 90, b = 256, k = 2) stores 24,768', () => {
  // 12 layers × {q, v} = 24 matrices of 768→768. LoRA r = 4: 24·4·1536 = 147,456.
  // VB-LoRA: S = 147,456 / 256 = 576 sub-vectors; 90·256 + 576·(2·2 − 1) = 23,040 + 1,728.
  const got = models(`model R {
  block Layer { attn = Attention(768, heads: 12, bias: true); ff = MLP(768, 3072) }
  body = Layer * 12
}
variant Lora of R { adapt body.attn.q, body.attn.v: lora(rank: 4) }
variant Vb of R { adapt body.attn.q, body.attn.v: vblora(rank: 4, vectors: 90, length: 256, top_k: 2) }`);
  const base = got.get('R')!.params.stored;
  assert.equal(got.get('Lora')!.params.stored - base, 147_456n);
  assert.equal(got.get('Vb')!.params.stored - base, 24_768n);
});

// -------------------------------------------------------------------------------------------
// Every sharing error: its code, and a range covering the offending text (marked ⟦…⟧).

const ERR_BASE = `model P {
  block Blk { n = RMSNorm(8); att = Attention(8, heads: 2) }
  embed = Embedding(10, 8)
  body = Blk * 4
  one = Linear(8, 8)
  head = Linear(8, 10) tied embed
}
`;

const SHARE_ERRORS: readonly [string, string][] = [
  ['share ⟦nope⟧: all', 'npas-share-target'],
  ['share body.⟦nope⟧: all', 'npas-share-target'],
  ['freeze body[⟦9⟧]', 'npas-share-target'],
  ['share ⟦one⟧: all', 'npas-share-not-stack'],
  ['share body: map(⟦[0, 1]⟧)', 'npas-share-strategy'],
  ['share body: ⟦[0, 1, 2]⟧', 'npas-share-strategy'],
  ['share body: ⟦zigzag⟧(2)', 'npas-share-strategy'],
  ['share body: cycle⟦(5)⟧', 'npas-share-strategy'],
  ['share body: cycle(⟦0⟧)', 'npas-share-strategy'],
  ['share kv body: ⟦sometimes⟧', 'npas-share-strategy'],
  ['share kv body: every(⟦0⟧)', 'npas-share-strategy'],
  ['share kv body: map(⟦[0, 2, 2, 3]⟧)', 'npas-kv-source'],
  ['share kv body: map(⟦[0, 0, 1, 3]⟧)', 'npas-kv-source'],
  ['share kv body: map(⟦[0, 0]⟧)', 'npas-kv-source'],
  ['share kv body: ⟦tied⟧', 'npas-kv-source'],
  ['share kv ⟦one⟧: every(2)', 'npas-share-not-stack'],
  ['share body: all\n  share ⟦body.att⟧: cycle(2)', 'npas-share-overlap'],
  ['share body.att: all\n  share ⟦body⟧: cycle(2)', 'npas-share-overlap'],
  ['share kv body: every(2)\n  share kv ⟦body⟧: every(4)', 'npas-share-overlap'],
  ['⟦tie one = embed⟧', 'npas-tie-shape'],
  ['⟦tie body[1].att.q = body[0].att⟧', 'npas-tie-shape'],
  ['adapt ⟦body.n⟧: lora(rank: 2)', 'npas-adapter'],
  ['adapt body.att: ⟦dora(rank: 2)⟧', 'npas-adapter'],
  ['adapt ⟦body.att⟧: lora(rank: 2, targets: [qq])', 'npas-adapter'],
  ['share ⟦body⟧: all relax lora(rank: 2, targets: [qq])', 'npas-adapter'],
  ['adapt body.att: lora⟦()⟧', 'npas-adapter'],
  ['hash body: ⟦crush(memory: 3)⟧', 'npas-hash'],
  ['bank g = body: ⟦pool(params: 3)⟧', 'npas-bank'],
  ['route ⟦one⟧: mor(recursions: 2)', 'npas-share-not-stack'],
  ['route ⟦body⟧: mor(recursions: 5)', 'npas-route'],
  ['route body: mor⟦(recursions: 2, capacity: [1/2, 1])⟧', 'npas-route'],
  // The walk reads one route per stack: a second one (mor after mor or after halt) was dropped silently.
  ['route body: mor(recursions: 2)\n  route ⟦body⟧: mor(recursions: 4)', 'npas-route'],
  ['route body: halt(expected_depth: 2)\n  route ⟦body⟧: mor(recursions: 2)', 'npas-route'],
  ['share heads ⟦body.n⟧: pairs(1)', 'npas-share-target'],
  ['share heads body.att: pairs⟦(9)⟧', 'npas-share-strategy'],
];

function assertCovered(src: string, code: string): void {
  const start = src.indexOf('⟦');
  const end = src.indexOf('⟧') - 1;
  const text = src.replace('⟦', '').replace('⟧', '');
  const r = analyze(text);
  const show = r.diagnostics.map((d: Diagnostic) => `${d.code} [${text.slice(d.range.start, d.range.end)}]`).join(', ');
  const hit = r.diagnostics.find((d) => d.code === code && d.severity === 'error' && d.range.start <= start && d.range.end >= end && d.range.end - d.range.start <= 80);
  assert.ok(hit, `${code} covering '${text.slice(start, end)}' expected; got ${show}`);
  // The bad statement is dropped; the model still has numbers.
  assert.ok(r.models.length >= 2, 'model and variant still reported');
}

for (const [stmt, code] of SHARE_ERRORS) {
  test(`sharing error ${code}: ${stmt.replace(/\n/g, ' ⏎ ')}`, () => assertCovered(`${ERR_BASE}variant V of P {\n  ${stmt}\n}\n`, code));
}

// A chain of `tied` back to itself holds no store (it once counted every weight on it as another's
// and the export stored them all): reported where the chain closes, and that tie not made.
test('sharing errors: a chain of `tied` that comes back to where it started, at the top level and in a block', () => {
  const N = 'model N { l = Linear(1, 1) }';
  assertCovered(`model M {\n  embed = Embedding(10, 8)\n  a = Linear(8, 8) tied b\n  b = Linear(8, 8) tied ⟦a⟧\n}\n${N}`, 'npas-tie-cycle');
  assertCovered(`model M {\n  embed = Embedding(10, 8)\n  a = Linear(8, 8) tied ⟦a.weight⟧\n}\n${N}`, 'npas-tie-cycle');
  assertCovered(`model M {\n  embed = Embedding(10, 8)\n  block B {\n    x = Linear(8, 8) tied ⟦y⟧\n    y = Linear(8, 8) tied x\n  }\n  body = B * 2\n}\n${N}`, 'npas-tie-cycle');
  // Stored: the table 10·8 = 80; at the top level a's tie stands (a reads b) and b's, which closes
  // the chain, is not made: b stores 8·8 = 64. In the block both ties are dropped, z still reads
  // x: 2 instances × (x, y) × 64.
  const stored = (text: string): bigint => analyze(text).models[0]!.params.stored;
  assert.equal(stored('model M {\n  embed = Embedding(10, 8)\n  a = Linear(8, 8) tied b\n  b = Linear(8, 8) tied a\n}'), 80n + 64n);
  assert.equal(stored('model M {\n  embed = Embedding(10, 8)\n  block B {\n    x = Linear(8, 8) tied y\n    y = Linear(8, 8) tied x\n    z = Linear(8, 8) tied x\n  }\n  body = B * 2\n}'), 80n + 2n * 2n * 64n);
  // A chain that ends is no cycle: c reads b, which reads a; one store.
  const chain = analyze('model M {\n  embed = Embedding(10, 8)\n  a = Linear(8, 8)\n  b = Linear(8, 8) tied a\n  c = Linear(8, 8) tied b\n}');
  assert.deepEqual(chain.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(chain.models[0]!.params.stored, 80n + 64n);
});

test('sharing errors: tying different shapes with `tied`, and stores of different shapes', () => {
  assertCovered('model M {\n  embed = Embedding(10, 8)\n  head = Linear(8, 11) tied ⟦embed⟧\n}\nmodel N { l = Linear(1, 1) }', 'npas-tie-shape');
  // A·2 + B·2 with cycle(2): instance 2 (B) would share store 0 with instance 0 (A).
  assertCovered(`model N {
  block A { l = Linear(8, 8) }
  block B { l = Linear(8, 16) }
  body = A * 2 + B * 2
}
variant V of N { share ⟦body⟧: cycle(2) }`, 'npas-share-shape');
  // A map that keeps shapes apart is fine: 2·64 → 64, 2·128 → 128.
  const ok = models(`model N {
  block A { l = Linear(8, 8) }
  block B { l = Linear(8, 16) }
  body = A * 2 + B * 2
}
variant V of N { share body: [0, 0, 1, 1] }`);
  check(ok.get('V'), { stored: 64n + 128n, effective: 384n }, 'shape-respecting map');
});

// -------------------------------------------------------------------------------------------
// Differential test: random stacks, strategies and KV maps against a brute-force count.

test('random share / share kv combinations match a brute-force count of stores, K/V and KV bytes', () => {
  // Blk(w) = RMSNorm(8) + Attention(8, heads: 2, window: w) = 8 + 256, of which k + v = 128.
  // Brute force, from σ and the KV producers written out instance by instance:
  //   no share:           Σ_i (264, or 136 for a borrower);
  //   share body:         Σ_stores (264 if a producer uses the store, else 136);
  //   share body.att:     8·N + Σ_stores (256 if a producer uses it, else 128);
  //   effective:          Σ_i (264, or 136 for a borrower);
  //   KV (seq 10, bf16):  Σ_producers 2·8·min(10, reach_p) · 2 bytes, where reach_p is the
  //                       furthest window among p and the instances reading p's KV (none = all):
  //                       a windowed producer read by a full-attention instance caches all.
  const seed = 4242;
  const rnd = prng(seed);
  const ri = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  for (let iter = 0; iter < 300; iter++) {
    const n = ri(1, 14);
    const pattern = ri(0, 3);
    const windows = ['none', 'if i % 2 == 0 then 4 else none', `if i < ${n} / 2 then 4 else none`, 'if i % 3 == 1 then 4 else none'];
    const win = (i: number): number | undefined => [undefined, i % 2 === 0 ? 4 : undefined, i < n / 2 ? 4 : undefined, i % 3 === 1 ? 4 : undefined][pattern];
    const m = ri(1, n);
    const idx = Array.from({ length: n }, (_, i) => i);
    const strategies: [string, number[]][] = [
      ['none', idx],
      ['all', idx.map(() => 0)],
      [`cycle(${m})`, idx.map((i) => i % m)],
      [`sequence(${m})`, idx.map((i) => Math.floor((i * m) / n))],
      [`cycle_rev(${m})`, idx.map((i) => (i >= m * (Math.ceil(n / m) - 1) ? m - 1 - (i % m) : i % m))],
    ];
    const mapped = idx.map(() => ri(0, 3));
    strategies.push([`map([${mapped.join(', ')}])`, mapped]);
    const [strategy, sigma] = strategies[ri(0, strategies.length - 1)]!;
    const share = rnd() < 0.8 ? (rnd() < 0.4 ? 'body.att' : 'body') : undefined;
    let producer = idx.map(() => true);
    let source = idx.slice();
    let kv = '';
    const kvKind = ri(0, 3);
    if (kvKind === 1) {
      const g = ri(1, 4);
      producer = idx.map((i) => i % g === 0);
      source = idx.map((i) => i - (i % g));
      kv = `share kv body: every(${g})`;
    } else if (kvKind === 2) {
      const src: number[] = [];
      for (let i = 0; i < n; i++) {
        const producers = src.flatMap((s, j) => (s === j ? [j] : []));
        src.push(i === 0 || rnd() < 0.4 ? i : producers[ri(0, producers.length - 1)]!);
      }
      producer = src.map((s, i) => s === i);
      source = src;
      kv = `share kv body: map([${src.join(', ')}])`;
    } else if (kvKind === 3 && share === 'body') {
      const seen = new Set<number>();
      producer = sigma.map((s) => (seen.has(s) ? false : (seen.add(s), true)));
      source = sigma.map((s) => sigma.indexOf(s));
      kv = 'share kv body: tied';
    }
    const statements = [share ? `share ${share}: ${strategy}` : '', kv].filter(Boolean);
    const src = `model M {
  block Blk(w = none) { n = RMSNorm(8); att = Attention(8, heads: 2, window: w) }
  body = [Blk(w: ${windows[pattern]}) for i in 0..${n}]
}
variant V of M {
  ${statements.join('\n  ')}
}`;
    const storeHasProducer = new Map<number, boolean>();
    sigma.forEach((s, i) => storeHasProducer.set(s, (storeHasProducer.get(s) ?? false) || producer[i]!));
    const perInstance = producer.reduce((a, p) => a + (p ? 264n : 136n), 0n);
    let stored = perInstance;
    if (share === 'body') stored = [...storeHasProducer.values()].reduce((a, p) => a + (p ? 264n : 136n), 0n);
    if (share === 'body.att') stored = BigInt(8 * n) + [...storeHasProducer.values()].reduce((a, p) => a + (p ? 256n : 128n), 0n);
    const reach = (i: number): number => Math.min(10, win(i) ?? 10);
    const cached = idx.map((p) => Math.max(...idx.filter((i) => source[i] === p).map(reach)));
    const kvBytes = producer.reduce((a, p, i) => a + (p ? BigInt(16 * cached[i]! * 2) : 0n), 0n);
    const r = analyze(src, { seq: 10 });
    const label = `seed ${seed}, case ${iter}:\n${src}`;
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], label);
    const v = r.models[1]!;
    assert.deepEqual([v.params.stored, v.params.effective, v.kvCacheBytes], [stored, perInstance, kvBytes], label);
  }
});

// `tie a = b` closing a chain used to have no error: the walk stored none of the chain's weights
// (stored 0) while the export stored them all (128 elements).
test('sharing errors: a chain of `tie a = b` that comes back, whole modules and through a member', () => {
  const blocks = 'model M {\n  d = 8\n  block B {\n    up = Linear(d, d, bias: false)\n    down = Linear(d, d, bias: false)\n  }\n  a = B\n  b = B\n  c = B\n';
  assertCovered(`${blocks}  tie a = b\n  ⟦tie b = a⟧\n}\nmodel N { l = Linear(1, 1) }\n`, 'npas-tie-cycle');
  assertCovered(`${blocks}  ⟦tie a = a⟧\n}\nmodel N { l = Linear(1, 1) }\n`, 'npas-tie-cycle');
  assertCovered(`${blocks}  tie a = b\n  tie b = c\n  ⟦tie c = a⟧\n}\nmodel N { l = Linear(1, 1) }\n`, 'npas-tie-cycle');
  // a.up reads b.up; tying b to a would make b.up read a.up: a cycle through a member.
  assertCovered(`${blocks}  tie a.up = b.up\n  ⟦tie b = a⟧\n}\nmodel N { l = Linear(1, 1) }\n`, 'npas-tie-cycle');
  // b to a after a.up to c.up is no cycle: b's up is c's, b's down a's.
  const crossed = analyze(`${blocks}  tie a.up = c.up\n  tie b = a\n}\n`);
  assert.deepEqual(crossed.diagnostics.filter((x) => x.severity === 'error'), []);
  // Stores: c.up, c.down, a.down (a.up is c's; b is a's): 3 × 8·8.
  assert.equal(crossed.models[0]!.params.stored, 3n * 64n);
  // The refused tie is not made: a reads b, and b and c keep their own stores: 2 blocks × 2 × 8·8.
  assert.equal(analyze(`${blocks}  tie a = b\n  tie b = a\n}\n`).models[0]!.params.stored, 2n * 2n * 64n);
});
