// examples/autoformer.npas against AutoFormer's released models and spaces (Chen et al., ICCV 2021;
// microsoft/Cream@4a13c4091e78f9abd2160e7e01c02e48c1cf8fb9 AutoFormer/). The layer configs below are
// experiments/subnet/AutoFormer-{T,S,B}.yaml's RETRAIN lists and the spaces experiments/supernet/*.yaml's
// SEARCH_SPACE lists, copied value for value; the count is the code's get_sampled_params_numel
// (LinearSuper, qkv_super, LayerNormSuper, PatchembedSuper, RelativePosition2D_super's
// calc_sampled_param_num + e · (2 + 196)), written out here. Published: README, T 5.8M, S 22.9M, B 53.7M.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSupernet, compile, enumerateSubnets, exactClass, parseSubnetFilter, type Supernet } from '../../../src/core/index.js';
import { supernetData } from '../../../src/core/layout/supernet-data.js';

const TEXT = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'autoformer.npas'), 'utf8');
const compilation = compile(TEXT);
const SETTINGS = compilation.settings({ seq: 197 });

const measured = new Map<string, Supernet>();
function supernet(model: string): Supernet {
  const known = measured.get(model);
  if (known) return known;
  assert.deepEqual(compilation.diagnostics.map((d) => d.message), []);
  const r = analyzeSupernet(compilation, model, SETTINGS);
  if ('error' in r) assert.fail(r.error);
  measured.set(model, r.supernet);
  return r.supernet;
}

interface Released {
  readonly e: number;
  readonly ratios: readonly number[];
  readonly heads: readonly number[];
  readonly publishedM: string;
}
const T: Released = { e: 192, ratios: [3.5, 3.5, 3.0, 3.5, 3.0, 3.0, 4.0, 4.0, 3.5, 4.0, 3.5, 4.0, 3.5], heads: [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3], publishedM: '5.8' };
const S: Released = { e: 384, ratios: [3.0, 3.5, 3.0, 3.5, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.5, 4.0], heads: [6, 6, 5, 7, 5, 5, 5, 6, 6, 7, 7, 6, 7], publishedM: '22.9' };
const B: Released = { e: 576, ratios: [3.5, 3.5, 4.0, 3.5, 4.0, 3.5, 3.5, 3.0, 4.0, 4.0, 3.0, 4.0, 3.0, 3.5], heads: [9, 9, 9, 9, 9, 10, 9, 9, 10, 9, 10, 9, 9, 10], publishedM: '53.7' };
const SPACES = {
  AutoFormerTSpace: { embed: [192, 216, 240], ratio: [3.5, 4], heads: [3, 4], depth: [12, 13, 14] },
  AutoFormerSSpace: { embed: [320, 384, 448], ratio: [3.0, 3.5, 4.0], heads: [5, 6, 7], depth: [12, 13, 14] },
  AutoFormerBSpace: { embed: [528, 576, 624], ratio: [3.0, 3.5, 4.0], heads: [9, 10], depth: [14, 15, 16] },
};

// One layer: qkv (e → 3·64h, bias), proj (64h → e, bias), k and v relative tables (2 × 2 × [30, 64]), two LayerNorms, fc1/fc2 with biases.
const layer = (e: number, ratio: number, heads: number): number => {
  const q = 64 * heads;
  const f = Math.floor(e * ratio);
  return e * 3 * q + 3 * q + (q * e + e) + 2 * 2 * (2 * 14 + 2) * 64 + 2 * 2 * e + (e * f + f) + (f * e + e);
};
// Patch embedding Conv2d(3, e, 16) with bias, class token and 197 positions, final LayerNorm, head with bias.
const rest = (e: number): number => 3 * 16 * 16 * e + e + e * (2 + 196) + 2 * e + (e * 1000 + 1000);
const released = (m: Released): number => rest(m.e) + m.ratios.reduce((sum, r, i) => sum + layer(m.e, r, m.heads[i]!), 0);

const call = (ratio: number, heads: number): string => `Layer(ratio: ${ratio === 3.5 ? '(7/2)' : ratio}, heads: ${heads})`;

/** A released config as a subnet of a space: its point and counts per choice. */
function subnetOf(s: Supernet, m: Released) {
  const point = s.points.findIndex((pt) => pt.values[0] === String(m.e));
  const choices = s.points[point]!.stacks[0]!.choices.map((c) => c.call);
  const counts = choices.map(() => 0);
  m.ratios.forEach((r, i) => {
    const k = choices.indexOf(call(r, m.heads[i]!));
    assert.ok(k >= 0, call(r, m.heads[i]!));
    counts[k]!++;
  });
  return exactClass(s, point, [{ stack: 'blocks', depth: m.ratios.length, counts }], 1n);
}

test('AutoFormer: the released S and B are subnets of their spaces with the README\'s parameters; T is written out', () => {
  for (const [m, space] of [[S, 'AutoFormerSSpace'], [B, 'AutoFormerBSpace']] as const) {
    const c = subnetOf(supernet(space), m);
    assert.equal(c.params.stored, BigInt(released(m)), space);
    assert.equal((released(m) / 1e6).toFixed(1), m.publishedM, space);
  }
  assert.equal(released(S), 22_891_432);
  assert.equal(released(B), 53_691_688);
  const models = compilation.analysis({ seq: 197 }).models;
  for (const [m, name] of [[T, 'AutoFormerT'], [S, 'AutoFormerS'], [B, 'AutoFormerB']] as const) {
    assert.equal(models.find((x) => x.name === name)!.params.stored, BigInt(released(m)), name);
  }
  // T's config has ratio 3.0, outside its space's [3.5, 4], and its count rounds to 5.9M, not the README's 5.8M (the header says so).
  assert.ok(T.ratios.some((r) => !SPACES.AutoFormerTSpace.ratio.includes(r)));
  assert.equal(released(T), 5_867_944);
  assert.equal((released(T) / 1e6).toFixed(1), '5.9');
});

test('AutoFormer: each space\'s size from its yaml, and the supernet stores the largest subnet once', () => {
  for (const [name, sp] of Object.entries(SPACES)) {
    const s = supernet(name);
    const K = BigInt(sp.ratio.length * sp.heads.length);
    assert.equal(s.subnets, BigInt(sp.embed.length) * sp.depth.reduce((sum, d) => sum + K ** BigInt(d), 0n), name);
    const widest = Math.max(...sp.embed);
    const deepest = Math.max(...sp.depth);
    assert.equal(s.stored, BigInt(rest(widest) + deepest * layer(widest, Math.max(...sp.ratio), Math.max(...sp.heads))), name);
  }
  assert.equal(3n * (4n ** 12n + 4n ** 13n + 4n ** 14n), 1_056_964_608n);
  assert.equal(3n * (9n ** 12n + 9n ** 13n + 9n ** 14n), 77_103_263_459_313n);
  assert.equal(3n * (6n ** 14n + 6n ** 15n + 6n ** 16n), 10_108_977_168_384n);
});

test('AutoFormer-T\'s space: the feasible count under 6M parameters and the front, from the layer formula', () => {
  const s = supernet('AutoFormerTSpace');
  const f = parseSubnetFilter('params.active <= 6M');
  if ('error' in f) assert.fail(f.error);
  const r = enumerateSubnets(s, { where: f.constraints, by: 'flops.prefill', top: 1 });
  if ('error' in r) assert.fail(r.error);
  const sp = SPACES.AutoFormerTSpace;
  const kinds = sp.ratio.flatMap((ratio) => sp.heads.map((heads) => [ratio, heads] as const));
  // Classes: 3 widths × Σ_d C(d + 3, 3).
  assert.equal(r.classes, 3 * (455 + 560 + 680));
  let feasible = 0n;
  for (const e of sp.embed) {
    for (const d of sp.depth) {
      for (const counts of multisets(d, kinds.length)) {
        const params = rest(e) + counts.reduce((sum, n, k) => sum + n * layer(e, kinds[k]![0], kinds[k]![1]), 0);
        if (params <= 6_000_000) feasible += orderings(counts);
      }
    }
  }
  assert.equal(r.feasibleSubnets, feasible);
  // The fewest FLOPs: the narrowest, shallowest subnet with the smallest layer everywhere.
  assert.equal(r.front[0]!.params.active, BigInt(rest(192) + 12 * layer(192, 3.5, 3)));
  assert.ok(r.front.every((c) => c.params.active <= 6_000_000n));
  const drawn = supernetData(compilation, 'AutoFormerTSpace', SETTINGS)!;
  assert.equal(drawn.error, null);
  assert.deepEqual(drawn.globals, [{ name: 'e', values: ['192', '216', '240'] }]);
  assert.ok(drawn.frontSize > 1);
});

function multisets(n: number, k: number): number[][] {
  if (k === 1) return [[n]];
  const out: number[][] = [];
  for (let first = 0; first <= n; first++) for (const r of multisets(n - first, k - 1)) out.push([first, ...r]);
  return out;
}

function orderings(counts: readonly number[]): bigint {
  const fact = (n: number): bigint => (n <= 1 ? 1n : BigInt(n) * fact(n - 1));
  return counts.reduce((acc, n) => acc / fact(n), fact(counts.reduce((a, b) => a + b, 0)));
}
