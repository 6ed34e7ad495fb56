// ReXMoE (examples/rexmoe.npas) against its paper's published model names (Tan et al., 2025,
// arXiv:2510.17483, Table 1 and Table 8): every expected value is derived here from the table's
// configurations, independently of the engine — stored, active, the routers' shapes and the
// experts a decode step touches, for the base MoE and its REX-R{r} variants.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import type { AnalysisOptions, ModelReport, NodeReport } from '../../../src/core/analysis/report-types.js';

const text = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'rexmoe.npas'), 'utf8');

function models(options: Partial<AnalysisOptions> = {}): readonly ModelReport[] {
  const result = analyze(text, options);
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`), [], 'rexmoe.npas analyses without errors');
  return result.models;
}

const named = (all: readonly ModelReport[], name: string): ModelReport => {
  const m = all.find((x) => x.name === name);
  assert.ok(m, name);
  return m;
};

// Table 1 / Table 8: hidden, expert width, layers, heads (query / key-value), experts chosen per
// token (shared + routed) of experts per layer; vocabulary 32,000 (§4.1).
interface Shape {
  readonly d: bigint;
  readonly ffn: bigint;
  readonly L: bigint;
  readonly heads: bigint;
  readonly kvHeads: bigint;
  readonly shared: bigint;
  readonly routedChosen: bigint;
  readonly total: bigint;
}
const VOCAB = 32_000n;
const SMALL: Shape = { d: 768n, ffn: 384n, L: 16n, heads: 16n, kvHeads: 2n, shared: 0n, routedChosen: 4n, total: 32n };
const MID: Shape = { d: 512n, ffn: 744n, L: 32n, heads: 16n, kvHeads: 2n, shared: 0n, routedChosen: 8n, total: 64n };
const MID_SE: Shape = { ...MID, shared: 2n, routedChosen: 6n };
const TOP2: Shape = { ...SMALL, ffn: 1536n, routedChosen: 2n, total: 8n };

interface Conventions {
  /** Weight matrices per expert: 3 for SwiGLU (gate, up, down), 2 for a plain MLP. */
  readonly matrices?: bigint;
  readonly tied?: boolean;
  /** Whether Table 1's "Total" counts the shared experts (true) or only the routed ones. */
  readonly totalCountsShared?: boolean;
}

/** ReX-R{r} of a Table 1 model: each layer routes over its group's r·E routed experts; r = 1 is the base MoE. */
function rex(s: Shape, r: bigint, c: Conventions = {}) {
  const matrices = c.matrices ?? 3n;
  const tied = c.tied ?? false;
  const E = c.totalCountsShared ?? true ? s.total - s.shared : s.total; // routed experts per layer
  const headDim = s.d / s.heads;
  const attention = 2n * s.d * s.d + 2n * s.d * (s.kvHeads * headDim); // q, o; k, v (GQA)
  const norms = 2n * s.d; // RMSNorm before attention and before the MoE
  const expert = matrices * s.d * s.ffn;
  const router = [r * E, s.d] as const; // W ∈ R^{rN×d}
  const routerParams = router[0] * router[1];
  const layerOwn = attention + norms + routerParams + s.shared * expert;
  const tables = (tied ? 1n : 2n) * VOCAB * s.d;
  // The experts: L/r groups of r·E, i.e. L·E whatever r is (no expert is added).
  const stored = s.L * layerOwn + (s.L / r) * (r * E) * expert + s.d + tables;
  // Per token: every layer's router, shared experts and k routed experts; neither table.
  const active = s.L * (attention + norms + routerParams + (s.shared + s.routedChosen) * expert) + s.d;
  // Effective counts each layer applying its whole candidate pool (r·E experts).
  const effective = s.L * layerOwn + s.L * r * E * expert + s.d + tables;
  return { stored, active, activeWithTables: active + 2n * VOCAB * s.d, effective, expert, router, E };
}

/** The names' digits: x truncated to `unit` (0.07B is 7 with unit 10^7). */
const truncated = (x: bigint, unit: bigint): bigint => x / unit;
const B100M = 100_000_000n, B10M = 10_000_000n;

const routerShapes = (m: ModelReport): number[][] => {
  const out: number[][] = [];
  const walk = (n: NodeReport, path: string): void => {
    const here = path ? `${path}.${n.name}` : n.name;
    if (n.kind === 'weight' && /\.moe\.router$/.test(here)) out.push([...n.weight!.shape]);
    for (const ch of n.children) walk(ch, here);
  };
  walk(m.tree, '');
  return out;
};

test('ReXMoE 2.3B: stored, active and effective of the base and of R2 … R32, each name as published', () => {
  const all = models();
  for (const [name, r] of [['MoE_2_3B', 1n], ['Rex_2_3B_R2', 2n], ['Rex_2_3B_R4', 4n], ['Rex_2_3B_R8', 8n], ['Rex_2_3B_R16', 16n], ['Rex_2_3B_R32', 32n]] as const) {
    const m = named(all, name);
    const want = rex(MID, r);
    assert.equal(m.params.stored, want.stored, `${name} stored`);
    assert.equal(m.params.active, want.activeWithTables, `${name} active (the engine counts both tables)`);
    assert.equal(m.params.effective, want.effective, `${name} effective`);
    // "2.3BA0.3B" holds for the base, R2 and R4 (Table 2's names); from R8 on the routers alone
    // (32 · (r − 1) · 64 · 512) carry the total past 2.4B — Table 7 names those runs REX-R{r} only.
    assert.equal(truncated(m.params.stored, B100M), r <= 4n ? 23n : 24n, `${name}: stored ${m.params.stored}`);
    assert.equal(truncated(m.params.active - 2n * VOCAB * MID.d, B100M), 3n, `${name}: A0.3B`);
  }
  assert.equal(rex(MID, 8n).stored, 2_400_485_888n);
  assert.equal(rex(MID, 1n).stored, 2_393_145_856n);
  assert.equal(rex(MID, 1n).active, 312_508_928n);
  assert.equal(rex(MID, 1n).expert, 1_142_784n);
  // "The only additional overhead comes from the router": R4 adds 32 · (256 − 64) · 512.
  assert.equal(rex(MID, 4n).stored - rex(MID, 1n).stored, 32n * (256n - 64n) * 512n);
  assert.equal(rex(MID, 4n).stored, 2_396_291_584n);
  for (const b of named(all, 'Rex_2_3B_R4').budgets) assert.ok(b.ok, `${b.constraint} (value ${b.value})`);
});

test('ReXMoE 0.5B, 0.5B-Top2 and 2.3B-SE: stored and active of each base and its R2, R4, names as published', () => {
  const all = models();
  const cases = [
    ['MoE_0_5B', SMALL, 1n], ['Rex_0_5B_R2', SMALL, 2n], ['Rex_0_5B_R4', SMALL, 4n],
    ['MoE_0_5B_Top2', TOP2, 1n], ['Rex_0_5B_Top2_R2', TOP2, 2n], ['Rex_0_5B_Top2_R4', TOP2, 4n],
    ['MoE_2_3B_SE', MID_SE, 1n], ['Rex_2_3B_SE_R4', MID_SE, 4n],
  ] as const;
  for (const [name, shape, r] of cases) {
    const m = named(all, name);
    const want = rex(shape, r);
    assert.equal(m.params.stored, want.stored, `${name} stored`);
    assert.equal(m.params.active, want.activeWithTables, `${name} active`);
    assert.equal(m.params.effective, want.effective, `${name} effective`);
    const activeNoTables = m.params.active - 2n * VOCAB * shape.d;
    if (shape === SMALL) {
      assert.equal(truncated(m.params.stored, B100M), 5n, `${name}: 0.5B`);
      assert.equal(truncated(activeNoTables, B10M), 7n, `${name}: A0.07B`);
    } else if (shape === TOP2) {
      assert.equal(truncated(m.params.stored, B100M), 5n, `${name}: 0.5B`);
      assert.equal(truncated(activeNoTables, B10M), 13n, `${name}: A0.13B`);
    } else {
      assert.equal(truncated(m.params.stored, B100M), 23n, `${name}: 2.3B`);
      assert.equal(truncated(activeNoTables, B100M), 3n, `${name}: A0.3B`);
    }
  }
  assert.equal(rex(SMALL, 1n).stored, 523_789_056n);
  assert.equal(rex(SMALL, 1n).active, 78_275_328n);
  assert.equal(rex(TOP2, 1n).active, 134_603_520n);
});

test('ReXMoE: the names pin what the paper leaves unsaid (SwiGLU experts, an untied head, "Total" with the shared experts)', () => {
  // Two matrices per expert would make the 2.3B model 1.6B.
  assert.equal(truncated(rex(MID, 1n, { matrices: 2n }).stored, B100M), 16n);
  // A tied head would make the 0.5B model 0.4B (499,213,056), under the truncation "0.07B" needs
  // (78,275,328 active; rounding would name it 0.08B).
  assert.equal(rex(SMALL, 1n, { tied: true }).stored, 499_213_056n);
  assert.equal(truncated(rex(SMALL, 1n, { tied: true }).stored, B100M), 4n);
  // 2 shared experts beside 64 routed would make the SE model 2.4B: its 64 includes the shared two.
  assert.equal(truncated(rex(MID_SE, 1n, { totalCountsShared: false }).stored, B100M), 24n);
  assert.equal(truncated(rex(MID_SE, 1n).stored, B100M), 23n);
});

test('ReXMoE: each layer keeps its own router over its group\'s r·E experts; the groups are the pools', () => {
  const all = models({ seq: 1, batch: 1 });
  for (const [name, shape, r] of [['MoE_2_3B', MID, 1n], ['Rex_2_3B_R4', MID, 4n], ['Rex_2_3B_SE_R4', MID_SE, 4n], ['Rex_0_5B_R2', SMALL, 2n]] as const) {
    const m = named(all, name);
    const want = rex(shape, r);
    // A router per layer, [r·E, d] (the 32 layers are one run of the tree): R4 of the 2.3B model is [256, 512].
    assert.deepEqual(routerShapes(m), [[Number(want.router[0]), Number(want.router[1])]], name);
    if (r === 1n) {
      assert.deepEqual(m.pools, [], `${name}: no pool`);
      continue;
    }
    const p = m.pools[0]!;
    assert.equal(m.pools.length, 1);
    assert.deepEqual([p.stack, p.experts, p.topK, p.pools, p.layers], ['body', Number(r * want.E), Number(shape.routedChosen), Number(shape.L / r), Number(shape.L)], name);
    assert.equal(p.storedExperts, shape.L * want.E, `${name}: L·E experts stored`);
    assert.equal(p.activeExperts, shape.L * shape.routedChosen, `${name}: k per layer active`);
  }
  assert.deepEqual(routerShapes(named(all, 'Rex_2_3B_R4')), [[256, 512]]);
});

test('ReXMoE: a decode step touches the union of each group\'s selections, 8·256·(1 − (31/32)^(4B)) for R4', () => {
  const E = 256n, k = 8n, g = 4n, pools = 8n;
  const expert = rex(MID, 4n).expert;
  for (const batch of [1n, 8n, 64n]) {
    const all = models({ seq: 1, batch: Number(batch) });
    const p = named(all, 'Rex_2_3B_R4').pools[0]!;
    // Σ over 8 pools of E·(1 − ((E − k)/E)^(g·B)) experts, each of `expert` params, rounded up.
    const den = E ** (g * batch);
    const touched = pools * E * (den - (E - k) ** (g * batch));
    assert.equal(p.touchedParams, (touched * expert + den - 1n) / den, `batch ${batch}`);
    // Each layer still reads its own 256·(1 − (31/32)^B) (the roofline's traffic).
    const readDen = E ** batch;
    const read = 32n * E * (readDen - (E - k) ** batch);
    assert.ok(sameRatio(p.readExperts, read, readDen), `batch ${batch} reads ${p.readExperts}`);
  }
  // At B = 1 the four layers of a group collide: 244.24 distinct experts for 256 selections, where
  // the base model's 32 layers touch their 8 each (256).
  const p1 = named(models({ seq: 1, batch: 1 }), 'Rex_2_3B_R4').pools[0]!;
  assert.ok(sameRatio(p1.touchedExperts, pools * E * (E ** g - (E - k) ** g), E ** g), p1.touchedExperts);
  assert.ok(p1.touchedExperts.startsWith('244.24'), p1.touchedExperts);
});

/**
 * Whether a decimal string the report printed is n/d: exactly when it terminates, within one unit
 * of its last place when the report cut it (a trailing `…`).
 */
function sameRatio(text: string, n: bigint, d: bigint): boolean {
  const cut = text.endsWith('…');
  const [whole, frac = ''] = text.replace('…', '').split('.');
  const scale = 10n ** BigInt(frac.length);
  const diff = BigInt(whole! + frac) * d - n * scale;
  return cut ? (diff < 0n ? -diff : diff) <= d : diff === 0n;
}
