// examples/once-for-all.npas against Once-for-All's published space (Cai et al., ICLR 2020, §3.2):
// "roughly ((3 × 3)² + (3 × 3)³ + (3 × 3)⁴)⁵ ≈ 2 × 10¹⁹ different sub-networks" — the count derived
// here from the paper's rule, and the sketch's parameters from docs/layers.md's Conv2d, BatchNorm
// and Linear formulas written out.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSupernet, compile, enumerateSubnets, type Supernet } from '../../../src/core/index.js';

const TEXT = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'once-for-all.npas'), 'utf8');
const compilation = compile(TEXT);

function supernet(model: string): Supernet {
  assert.deepEqual(compilation.diagnostics.map((d) => d.message), []);
  const r = analyzeSupernet(compilation, model, compilation.settings({}));
  if ('error' in r) assert.fail(r.error);
  return r.supernet;
}

// Per unit: depth 2, 3 or 4, each layer one of 3 kernels × 3 ratios.
const PER_UNIT = [2, 3, 4].reduce((s, d) => s + 9n ** BigInt(d), 0n);
// MBConv without SE: expand 1×1 (c → e·c), depthwise k×k (e·c, groups e·c), project 1×1, three BatchNorms (2 per channel).
const mb = (c: number, k: number, e: number): bigint => BigInt(c * e * c + 2 * e * c + e * c * k * k + 2 * e * c + e * c * c + 2 * c);
// Stem 3×3 (3 → 16) and its BatchNorm, the 1×1 transitions, the classifier with bias.
const REST = BigInt(3 * 16 * 9 + 2 * 16 + 16 * 24 + 24 * 40 + 40 * 80 + 80 * 112 + 112 * 160 + 160 * 1000 + 1000);
const WIDTHS = [24, 40, 80, 112, 160];

test('Once-for-All: ((3·3)² + (3·3)³ + (3·3)⁴)⁵ ≈ 2 × 10¹⁹ subnets; the supernet stores each unit\'s 4 layers at kernel 7, ratio 6 once', () => {
  const s = supernet('OFASpace');
  assert.equal(PER_UNIT, 7_371n);
  assert.equal(s.subnets, PER_UNIT ** 5n);
  assert.equal(s.subnets, 21_758_655_492_572_485_851n);
  assert.equal((s.subnets + 5n * 10n ** 18n) / 10n ** 19n, 2n, 'rounds to 2 × 10¹⁹');
  assert.equal(s.stored, REST + WIDTHS.reduce((sum, c) => sum + 4n * mb(c, 7, 6), 0n));
  assert.equal(s.stored, 2_967_928n);
  // The full space is counted, not enumerated: 705⁵ classes.
  assert.ok('error' in enumerateSubnets(s, { where: [], by: 'params.stored', top: 1 }));
});

test('Once-for-All, units 4 and 5 elastic: 7,371² subnets in 705² classes; the smallest keeps 2 layers of kernel 3, ratio 3 in each', () => {
  const s = supernet('OFALastUnits');
  assert.equal(s.subnets, PER_UNIT ** 2n);
  const r = enumerateSubnets(s, { where: [], by: 'params.stored', top: 1 });
  if ('error' in r) assert.fail(r.error);
  const classes = [2, 3, 4].reduce((sum, d) => sum + binomial(d + 8, 8), 0);
  assert.equal(classes, 705);
  assert.equal(r.classes, classes * classes);
  assert.equal(r.feasibleSubnets, PER_UNIT ** 2n);
  const fixed = WIDTHS.slice(0, 3).reduce((sum, c) => sum + 4n * mb(c, 7, 6), 0n);
  assert.equal(r.top[0]!.params.stored, REST + fixed + 2n * mb(112, 3, 3) + 2n * mb(160, 3, 3));
  assert.equal(r.top[0]!.params.stored, 1_268_888n);
});

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}
