// The allocator's contract on hand-written models: exact stored counts, full coverage, the
// groupings' shapes, the generators chosen in each regime, and refusals that state the minimum.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateSource, analyze, emitVariant } from '../../../src/core/index.js';
import { balancedRuns } from '../../../src/core/allocation/depth-groups.js';
import { kMeans } from '../../../src/core/allocation/cluster-groups.js';
import { apportion } from '../../../src/core/allocation/apportion.js';
import { allocateAndEmit, checkPlan, request, storedOf } from './helpers.js';

const TINY = `
model Tiny {
  d = 64
  block B {
    attn = Attention(d, heads: 4)
    norm = RMSNorm(d)
    mlp  = MLP(d, 256)
  }
  embed   = Embedding(1000, d)
  body    = B * 4
  lm_head = Linear(d, 1000) tied embed
}
`;

test('Tiny: the demand, fixed params and stored total agree with the engine', () => {
  const r = allocateSource(TINY, 'Tiny', request(100_000, { kind: 'all' }));
  assert.ok(r.ok);
  assert.equal(BigInt(r.plan.demand + r.plan.fixed), storedOf(TINY, 'Tiny'));
  // The tied head is not a separate weight: 1 embedding + 4 × (q, k, v, o, up, down).
  assert.equal(r.plan.items.length, 1 + 4 * 6);
  assert.ok(!r.plan.items.some((it) => it.path.startsWith('lm_head')));
});

test('every grouping stores exactly B at low, equal and high budgets, and the emitted variant agrees', () => {
  const total = Number(storedOf(TINY, 'Tiny'));
  for (const grouping of [{ kind: 'auto' }, { kind: 'all' }, { kind: 'shape' }, { kind: 'role' }, { kind: 'depth', k: 2 }, { kind: 'cluster', k: 3 }] as const) {
    for (const frac of [0.3, 0.5, 1, 1.5, 4]) {
      const B = Math.round(total * frac);
      for (const method of ['wavg', 'repeat', 'hash'] as const) allocateAndEmit(TINY, 'Tiny', request(B, grouping, method));
    }
  }
});

test('low budgets: single-weight groups are stored whole; shared groups get the rest in proportion to demand', () => {
  const r = allocateSource(TINY, 'Tiny', request(150_000, { kind: 'shape' }));
  assert.ok(r.ok);
  const embed = r.plan.groups.find((g) => g.layers.some((i) => r.plan.items[i]!.path === 'embed.weight'))!;
  assert.equal(embed.direct, true);
  assert.equal(embed.params, 64_000);
  assert.equal(r.plan.layers[embed.layers[0]!]!.generator.kind, 'direct');
  const shared = r.plan.groups.filter((g) => !g.direct);
  const budget = shared.reduce((s, g) => s + g.params, 0) + r.plan.coefficients;
  const demand = shared.reduce((s, g) => s + g.demand, 0);
  for (const g of shared) assert.ok(Math.abs(g.params - (budget * g.demand) / demand) <= 64 + budget * 0.01, `${g.id} ∝ demand`);
});

test('high budgets: the surplus becomes templates beyond the cap, and every entry is read', () => {
  const total = Number(storedOf(TINY, 'Tiny'));
  const r = allocateSource(TINY, 'Tiny', request(total * 20, { kind: 'shape' }));
  assert.ok(r.ok);
  checkPlan(r.plan);
  assert.equal(r.plan.regime, 'high');
  assert.ok(r.plan.layers.some((l) => l.generator.templates > 8), 'templates beyond K_max = 8');
  assert.ok(r.plan.referenceUnused > 0, 'the reference layout, capped at 8 templates, leaves entries unread');
  // Inference is unchanged: the emitted variant has the model's FLOPs and KV cache.
  const a = analyze(`${TINY}\n${emitVariant(r.plan)}`);
  const base = a.models.find((m) => m.name === 'Tiny')!;
  const plan = a.models.find((m) => m.name === 'Tiny_npas')!;
  assert.equal(plan.flops.prefill, base.flops.prefill);
  assert.equal(plan.kvCacheBytes, base.kvCacheBytes);
  assert.equal(plan.params.effective, base.params.effective);
});

test('a store smaller than a weight: interpolate (wavg), tile (repeat) or hash, all reading the whole store', () => {
  for (const [method, kind] of [['wavg', 'interpolate'], ['repeat', 'tile'], ['hash', 'hash']] as const) {
    const r = allocateSource(TINY, 'Tiny', request(5_000, { kind: 'all' }, method));
    assert.ok(r.ok);
    checkPlan(r.plan);
    const store = r.plan.groups[0]!.params;
    const up = r.plan.layers.filter((l) => l.generator.kind === kind);
    assert.ok(up.length > 0);
    for (const l of up) assert.equal(l.generator.reads, store);
  }
});

test('refusals state the minimum', () => {
  const fixed = 4 * (64 + 256 + 64); // per block: the RMSNorm and the MLP's two biases
  for (const bad of [0, -5, 1.5, Number.NaN]) {
    const r = allocateSource(TINY, 'Tiny', request(bad));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /positive whole number/);
  }
  const low = allocateSource(TINY, 'Tiny', request(fixed, { kind: 'all' }));
  assert.ok(!low.ok);
  assert.equal(low.minimum, fixed + 1);
  assert.match(low.message, new RegExp(`below the minimum of ${fixed + 1} for all grouping: ${fixed} fixed`));
  assert.ok(allocateSource(TINY, 'Tiny', request(fixed + 1, { kind: 'all' })).ok, 'the minimum itself is accepted');
  const shape = allocateSource(TINY, 'Tiny', request(50_000, { kind: 'shape' }));
  assert.ok(!shape.ok);
  assert.match(shape.message, /minimum of 65539 for shape grouping: 1536 fixed \(norms, biases, routers\) \+ 64000 for single-weight groups stored whole \+ 3 for one entry per shared store; grouping 'all' \(one store\) needs only 1537/);
  const none = allocateSource('model Z { n = RMSNorm(8) }', 'Z', request(100));
  assert.ok(!none.ok);
  assert.match(none.message, /no matrices, convolutions or tables/);
  const missing = allocateSource(TINY, 'Nope', request(100));
  assert.ok(!missing.ok);
  assert.match(missing.message, /no model or variant named 'Nope' \(this file has: Tiny\)/);
  const broken = allocateSource('model Q { a = Linear(4) }', 'Q', request(100));
  assert.ok(!broken.ok);
  assert.match(broken.message, /the file has errors/);
  const shared = allocateSource(`${TINY}\nvariant S of Tiny {\n  share body: all\n}\n`, 'S', request(100_000));
  assert.ok(!shared.ok);
  assert.match(shared.message, /already declares sharing \('share' at 15:3\)/);
});

test('auto: shape grouping when single-weight groups are affordable, one store otherwise', () => {
  const total = Number(storedOf(TINY, 'Tiny'));
  const low = allocateSource(TINY, 'Tiny', request(Math.round(total * 0.05)));
  assert.ok(low.ok);
  assert.equal(low.plan.grouping.kind, 'all');
  const mid = allocateSource(TINY, 'Tiny', request(Math.round(total * 0.6)));
  assert.ok(mid.ok);
  assert.equal(mid.plan.grouping.kind, 'shape');
  const high = allocateSource(TINY, 'Tiny', request(total * 2));
  assert.ok(high.ok);
  assert.equal(high.plan.grouping.kind, 'shape');
  assert.match(high.plan.groupingReason, /surplus becomes templates/);
});

test('depth:K balances demand over contiguous runs (dynamic programming)', () => {
  assert.deepEqual(balancedRuns([1, 1, 1, 1], 2), [0, 2]);
  assert.deepEqual(balancedRuns([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2), [0, 1]);
  assert.deepEqual(balancedRuns([1, 2, 3], 5), [0, 1, 2], 'no more runs than units');
  const r = allocateSource(TINY, 'Tiny', request(100_000, { kind: 'depth', k: 2 }));
  assert.ok(r.ok);
  // Units: embed (64k) then four blocks of 49,152 (q,k,v,o 16,384 + MLP 32,768): {embed, b0} | {b1, b2, b3}.
  const byGroup = r.plan.groups.map((g) => [...new Set(g.layers.map((i) => r.plan.items[i]!.unit))]);
  assert.deepEqual(byGroup, [[0, 1], [2, 3, 4]]);
});

test('cluster:K is deterministic and separates distinct shapes', () => {
  const pts = [[0, 0], [0, 0.1], [10, 10], [10, 10.1], [0, 0.05]];
  assert.deepEqual(kMeans(pts, 2), [0, 0, 1, 1, 0]);
  assert.deepEqual(kMeans(pts, 2), kMeans(pts, 2));
  const a = allocateSource(TINY, 'Tiny', request(100_000, { kind: 'cluster', k: 3 }));
  const b = allocateSource(TINY, 'Tiny', request(100_000, { kind: 'cluster', k: 3 }));
  assert.ok(a.ok && b.ok);
  assert.deepEqual(a.plan.groups.map((g) => g.layers), b.plan.groups.map((g) => g.layers));
  assert.equal(a.plan.groups.length, 3);
});

test('apportion sums exactly, keeps every part ≥ 1 and is proportional', () => {
  assert.deepEqual(apportion(10, [1, 1, 1], false), [4, 3, 3]);
  assert.deepEqual(apportion(3, [1000, 1, 1], true), [1, 1, 1]);
  assert.deepEqual(apportion(100, [3, 1], false), [75, 25]);
  const big = apportion(9_007_199_254_740_991, [123_456_789_012, 987_654_321], false);
  assert.equal(BigInt(big[0]!) + BigInt(big[1]!), 9_007_199_254_740_991n);
});

test('SSN WRN-28-10 at 10%: the reference numbers (methods §1(e)) and an exact plan', () => {
  const text = require('node:fs').readFileSync(require('node:path').join(__dirname, '..', '..', '..', 'examples', 'ssn-wrn-28-10.npas'), 'utf8') as string;
  const r = allocateSource(text, 'WRN28_10', request(3_651_883, { kind: 'all' }));
  assert.ok(r.ok);
  checkPlan(r.plan);
  assert.equal(r.plan.demand, 36_518_832, '29 shared-capable layers');
  assert.equal(r.plan.fixed, 18_052, 'BatchNorm 17,952 + classifier bias 100');
  assert.equal(r.plan.items.length, 29);
  // The template counts of the reference at this budget: 132 coefficients, 65,897,856 MACs per step.
  assert.equal(r.plan.coefficients, 132);
  assert.equal(r.plan.generationMacs, 65_897_856);
  const k = (path: string): number => r.plan.layers.find((l) => l.path === path)!.generator.templates;
  assert.equal(k('group1[1].conv1.weight'), 8, '160×160×3×3: K = 8');
  assert.equal(k('group2[1].conv1.weight'), 3, '320×320×3×3: K = 3');
  assert.equal(k('group3[0].conv1.weight'), 1, '640×320×3×3: K = 1');
  assert.equal(r.plan.layers.find((l) => l.path === 'group3[1].conv1.weight')!.generator.kind, 'interpolate', '640×640×3×3 is generated from a smaller store');
  assert.ok(r.plan.referenceUnused > 0 && r.plan.unused === 0);
  // The engine's bank example stores 3,670,067; our plan stores exactly B.
  assert.equal(storedOf(text, 'WRN28_10_SSN10'), 3_670_067n);
  assert.equal(storedOf(`${text}\n${emitVariant(r.plan)}`, 'WRN28_10_npas'), 3_651_883n);
  // By shape at the reference's budget for the stores (B plus the fixed params): eight
  // single-weight groups keep their 2,650,032 weights; the three 7-weight groups get 47.7k, 191k
  // and 763k (methods §1(e)) and generate every weight from one smaller template.
  const shape = allocateSource(text, 'WRN28_10', request(3_651_883 + 18_052, { kind: 'shape' }));
  assert.ok(shape.ok);
  checkPlan(shape.plan);
  const whole = shape.plan.groups.filter((g) => g.direct);
  assert.equal(whole.length, 8);
  assert.equal(whole.reduce((s, g) => s + g.params, 0), 2_650_032);
  assert.deepEqual(shape.plan.groups.filter((g) => !g.direct).map((g) => g.params), [47_707, 190_829, 763_315]);
  assert.ok(shape.plan.layers.every((l) => l.generator.kind === 'direct' || (l.generator.kind === 'interpolate' && l.generator.templates === 1)));
  // High budget by shape: the reference's template cap leaves ~45% of the shared stores unread.
  const high = allocateSource(text, 'WRN28_10', request(2 * 36_536_884, { kind: 'shape' }));
  assert.ok(high.ok);
  checkPlan(high.plan);
  for (const g of high.plan.groups.filter((x) => x.layers.length === 7)) {
    const frac = g.referenceUnused / g.params;
    assert.ok(frac > 0.4 && frac < 0.5, `${g.id}: ${frac}`);
  }
});

test('the allocate statement: a variant reports exactly N stored, refusals are npas-allocate errors', () => {
  const src = `${TINY}
variant A of Tiny {
  allocate params: 100_000, groups: shape, generate: wavg(8)
}
variant D of Tiny {
  allocate params: 0.5M, groups: depth(2), generate: repeat
}
variant C of Tiny {
  allocate params: 120K, groups: cluster(3)
}
variant Low of Tiny {
  allocate params: 10
}
variant Mixed of Tiny {
  share body: all
  allocate params: 100_000
}
variant Ckpt of Tiny {
  allocate params: 100_000, groups: checkpoint
}
variant Odd of Tiny {
  allocate params: 100_000, groups: stripes, size: 3
}
variant Twice of Tiny {
  allocate params: 100_000
  allocate params: 200_000
}
`;
  const a = analyze(src);
  const stored = new Map(a.models.map((m) => [m.name, m.params.stored]));
  assert.equal(stored.get('A'), 100_000n);
  assert.equal(stored.get('D'), 500_000n);
  assert.equal(stored.get('C'), 120_000n);
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  assert.ok(errors.every((d) => d.code === 'npas-allocate'));
  const messages = errors.map((d) => d.message).join('\n');
  assert.match(messages, /below the minimum of 1537 for all grouping/);
  assert.match(messages, /cannot be combined with 'share' statements/);
  assert.match(messages, /allocate takes params: N, groups: auto \| all \| shape \| role \| depth\(K\) \| cluster\(K\) and generate: wavg \| wavg\(K\) \| repeat \| hash, not 'size'/);
  assert.match(messages, /only one allocation request per model or variant/);
  assert.equal(stored.get('Twice'), 100_000n, 'the first request stands');
  assert.match(messages, /checkpoint grouping reads a file, which the engine does not/);
  assert.ok(!a.diagnostics.some((d) => d.severity === 'warning' && d.code === 'npas-allocate'), 'the old not-built warning is gone');
});

test('depth:K dynamic programming matches a brute-force search over every split', () => {
  // Σ (run demand)² over all ways to cut n units into min(k, n) non-empty contiguous runs.
  const objective = (d: number[], starts: number[]): number =>
    starts.reduce((o, s, g) => {
      const e = g + 1 < starts.length ? starts[g + 1]! : d.length;
      const sum = d.slice(s, e).reduce((a, b) => a + b, 0);
      return o + sum * sum;
    }, 0);
  const brute = (d: number[], k: number): number => {
    let best = Infinity;
    const g = Math.min(k, d.length);
    const rec = (starts: number[], next: number): void => {
      if (starts.length === g) {
        best = Math.min(best, objective(d, starts));
        return;
      }
      for (let s = next; s <= d.length - (g - starts.length); s++) rec([...starts, s], s + 1);
    };
    rec([0], 1);
    return best;
  };
  let seed = 11;
  const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let t = 0; t < 300; t++) {
    const d = Array.from({ length: 1 + Math.floor(rnd() * 9) }, () => Math.floor(rnd() * (rnd() < 0.3 ? 1000 : 10)));
    const k = 1 + Math.floor(rnd() * 5);
    const starts = balancedRuns(d, k);
    assert.equal(starts.length, Math.min(k, d.length));
    assert.equal(objective(d, starts), brute(d, k), JSON.stringify({ d, k, starts }));
  }
});
