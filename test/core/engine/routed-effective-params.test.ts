// The routed-model effective parameter count (Clark et al. 2022, arXiv:2202.01169): N̄ with
// L(N̄, 1) = L(N, E) under the paper's fit log₁₀ L = a·log N + b·log Ê + c·log N·log Ê + d.
// The expected values are found here by solving that equation numerically (bisection on log N̄,
// the loss law written out), not through the engine's closed form; the published S-BASE examples
// are a public note's table computed from the same fit (N = 10M, E = 128 → 90.77M; …).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, budgetJsonText } from '../../../src/core/index.js';
import { dashboardData } from '../../../src/core/layout/index.js';
import { modelMarkdown } from '../../../src/core/service/hover.js';
import { ROUTING_FITS, routedEffectiveParams, significantDecimal, type RoutingFit } from '../../../src/core/analysis/routed-effective-params.js';

// Table 3 of the paper, written out again (the test's own copy of the published coefficients).
const TABLE_3: Record<string, readonly [number, number, number, number, number, number]> = {
  'S-BASE': [-0.082, -0.108, 0.009, 1.104, 1.847, 314.478],
  'RL-R': [-0.083, -0.126, 0.012, 1.111, 1.88, 469.982],
  HASH: [-0.087, -0.136, 0.012, 1.157, 4.175, 477.741],
};

/** log₁₀ L(N, E) by the paper's Eq. 1 with its saturating transform. */
function logLoss(method: string, n: number, e: number): number {
  const [a, b, c, d, eStart, eMax] = TABLE_3[method]!;
  const eHat = 1 / (1 / (e - 1 + 1 / (1 / eStart - 1 / eMax)) + 1 / eMax);
  const ln = Math.log10(n), le = Math.log10(eHat);
  return a * ln + b * le + c * ln * le + d;
}

/** N̄ solving L(N̄, 1) = L(N, E) by bisection on log₁₀ N̄ (the loss falls as N grows). */
function solvedEffective(method: string, n: number, e: number): number {
  const target = logLoss(method, n, e);
  let lo = 0, hi = 20;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (logLoss(method, Math.pow(10, mid), 1) > target) lo = mid;
    else hi = mid;
  }
  return Math.pow(10, (lo + hi) / 2);
}

const fit = (method: string): RoutingFit => ROUTING_FITS.find((f) => f.method === method)!;

test('the engine\'s fits are the paper\'s Table 3, one per routing method', () => {
  assert.deepEqual(ROUTING_FITS.map((f) => [f.method, [f.a, f.b, f.c, f.d, f.eStart, f.eMax]]), Object.entries(TABLE_3));
});

test('N̄ solves L(N̄, 1) = L(N, E) for every method, size and expert count; one expert is its own N̄', () => {
  for (const method of Object.keys(TABLE_3)) {
    for (const n of [5e6, 1e8, 1.3e9, 7e10]) {
      for (const e of [2, 8, 64, 128, 512]) {
        const expected = solvedEffective(method, n, e);
        const got = routedEffectiveParams(n, e, fit(method));
        assert.ok(Math.abs(got - expected) / expected < 1e-9, `${method} N=${n} E=${e}: ${got} vs ${expected}`);
      }
      assert.ok(Math.abs(routedEffectiveParams(n, 1, fit(method)) - n) / n < 1e-12, `${method}: E = 1`);
    }
  }
});

test('S-BASE against the published table (N, E → N̄ to two decimals of M or B)', () => {
  const rows: [number, number, string][] = [
    [10e6, 8, '23.88M'], [10e6, 128, '90.77M'], [100e6, 16, '265.50M'], [1e9, 64, '3.14B'],
    [7e9, 16, '11.85B'], [70e9, 128, '116.51B'], [200e9, 8, '225.88B'],
  ];
  for (const [n, e, published] of rows) {
    const v = routedEffectiveParams(n, e, fit('S-BASE'));
    const shown = v >= 1e9 ? `${(v / 1e9).toFixed(2)}B` : `${(v / 1e6).toFixed(2)}M`;
    assert.equal(shown, published, `N=${n} E=${e}`);
  }
});

test('four significant digits, as plain decimals', () => {
  assert.equal(significantDecimal(90_766_422.78, 4), '90770000');
  assert.equal(significantDecimal(99_996_000, 4), '100000000');
  assert.equal(significantDecimal(1234.5, 4), '1235');
  assert.equal(significantDecimal(12.345, 4), '12.35');
});

const MOE = (experts: number, topK: number, second = experts) => `
model M {
  d = 64
  block B {
    n   = RMSNorm(d)
    moe = MoE(d, 128, experts: ${experts}, top_k: ${topK})
  }
  block C {
    n   = RMSNorm(d)
    moe = MoE(d, 128, experts: ${second}, top_k: ${topK})
  }
  embed = Embedding(100, d)
  body  = B * 2
  tail  = C * 1
  head  = Linear(d, 100)
}
`;

test('a routed model reports N̄ per method from its active parameters and E; hover, JSON and dashboard show it', () => {
  const r = analyze(MOE(16, 1));
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  const m = r.models[0]!;
  const re = m.routedEffective!;
  assert.equal(re.base, m.params.active);
  assert.equal(re.experts, 16);
  assert.equal(re.topK, 1);
  for (const f of re.fits) assert.equal(f.effective, significantDecimal(solvedEffective(f.method, Number(m.params.active), 16), 4), f.method);
  assert.match(modelMarkdown(m), /\*\*Routed effective params\*\*: S-BASE [\d,]+ · RL-R [\d,]+ · HASH [\d,]+ \(Clark et al\. 2022 scaling-law fit, N = [\d,]+ active, E = 16 experts per layer, 4 significant digits\)/);
  const json = JSON.parse(budgetJsonText(r.models)) as { models: { routedEffective: { experts: number; fits: { method: string; effective: string }[] } }[] };
  assert.deepEqual(json.models[0]!.routedEffective.fits, re.fits);
  const dash = dashboardData(MOE(16, 1), {}, { source: 'm', sweep: false }).models[0]!;
  assert.match(dash.routedEffective!.summary, /^S-BASE [\d,]+ · RL-R [\d,]+ · HASH [\d,]+$/);
  // Top-2 routing is reported with the caveat that the fits are top-1.
  assert.match(modelMarkdown(analyze(MOE(16, 2)).models[0]!), /fitted on top-1 routing; this model routes top-2/);
});

test('no N̄ without routed experts, or when routed layers have different expert counts', () => {
  assert.equal(analyze(MOE(16, 1, 8)).models[0]!.routedEffective, undefined);
  const dense = analyze('model D {\n  embed = Embedding(100, 64)\n  head = Linear(64, 100)\n}\n').models[0]!;
  assert.equal(dense.routedEffective, undefined);
  assert.doesNotMatch(modelMarkdown(dense), /Routed effective/);
});

test('Mixtral-8x7B (examples/reference-llms.npas) reads as docs/language.md says', () => {
  const text = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'reference-llms.npas'), 'utf8');
  const mixtral = analyze(text).models.find((m) => m.name === 'Mixtral8x7B')!;
  const re = mixtral.routedEffective!;
  assert.deepEqual([re.base, re.experts, re.topK], [12_879_925_248n, 8, 2]);
  const documented = { 'S-BASE': '17900000000', 'RL-R': '14090000000', HASH: '15390000000' } as Record<string, string>;
  for (const f of re.fits) {
    assert.equal(f.effective, significantDecimal(solvedEffective(f.method, 12_879_925_248, 8), 4), f.method);
    assert.equal(f.effective, documented[f.method], f.method);
  }
});
