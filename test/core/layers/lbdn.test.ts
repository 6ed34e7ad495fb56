// LBDN sandwich layers against acfr/LBDN's `SandwichFc`, `SandwichLin` and `SandwichConv`, the
// counts derived here from the reference's parameter shapes: nn.Linear(d_in + d_out, d_out) (weight
// [d_out, d_in + d_out] and bias), psi [d_out], alpha [1]; the Cayley transform's multiply-adds
// written out step by step; and the report's generation FLOPs (6 per MAC per step).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { buildLayer } from './build-layer.js';

const numel = (shape: readonly number[]): bigint => shape.reduce((p, s) => p * BigInt(s), 1n);
const params = (cost: ReturnType<typeof buildLayer>): bigint => cost.weights.reduce((s, w) => s + numel(w.shape), 0n);

/** Cayley of [U; V], U n×n, V m×n: VᵀV, (I+A)⁻¹ (n³), (I+A)⁻¹(I−A), V(I+A)⁻¹. */
function cayley(n: bigint, m: bigint): bigint {
  const vtv = m * n * n;
  const inverse = n * n * n;
  const product = n * n * n;
  const vTimes = m * n * n;
  return vtv + inverse + product + vTimes;
}

test('SandwichLinear: SandwichFc(512, 256) stores 256·768 + 256 (bias) + 256 (psi) + 1 (alpha)', () => {
  const c = buildLayer('SandwichLinear', { d_in: 512, d_out: 256 });
  assert.equal(params(c), 256n * 768n + 256n + 256n + 1n);
  assert.deepEqual(c.weights.find((w) => w.name === 'weight')!.shape, [256, 768]);
  // B·h then Aᵀ·Ψz.
  assert.equal(c.flopsPerToken, 2n * 256n * 512n + 2n * 256n * 256n);
  assert.equal(c.generationMacsPerStep, cayley(256n, 512n));
  assert.equal(c.activationElementsPerToken, 512n + 2n * 256n);
});

test('SandwichLinear last: SandwichLin(1024, 10) stores 10·1034 + 10 (bias) + 1 (alpha), no psi, and applies B alone', () => {
  const c = buildLayer('SandwichLinear', { d_in: 1024, d_out: 10, last: true });
  assert.equal(params(c), 10n * 1034n + 10n + 1n);
  assert.ok(!c.weights.some((w) => w.name === 'psi'));
  assert.equal(c.flopsPerToken, 2n * 10n * 1024n);
  const noBias = buildLayer('SandwichLinear', { d_in: 1024, d_out: 10, last: true, bias: false });
  assert.equal(params(noBias), 10n * 1034n + 1n);
});

test('SandwichConv2d: SandwichConv(64, 128, 3) on 16×16 stores 128·192·9 + 128 + 128 + 1; Fourier-domain FLOPs per sample', () => {
  const c = buildLayer('SandwichConv2d', { c_in: 64, c_out: 128, kernel: 3, size: 16 });
  assert.equal(params(c), 128n * 192n * 9n + 128n + 128n + 1n);
  assert.equal(c.perSample, true);
  const frequencies = 16n * 9n; // rfft2 of 16×16: 16·(16/2 + 1)
  // Per frequency a complex (128×64) and a complex (128×128) product: 4 real MACs = 8 FLOPs each.
  assert.equal(c.flopsPerToken, frequencies * (128n * 64n + 128n * 128n) * 8n);
  assert.equal(c.generationMacsPerStep, frequencies * 4n * cayley(128n, 64n));
});

test('SandwichConv2d refuses a kernel larger than its input', () => {
  const r = analyze('model M {\n  c = SandwichConv2d(3, 8, 5, size: 4)\n}\n');
  assert.ok(r.diagnostics.some((d) => d.severity === 'error' && /kernel \(5\) is larger than the 4×4 input/.test(d.message)));
});

test('a network of sandwich layers reports the Cayley transforms as generation FLOPs per step (6 per MAC)', () => {
  const r = analyze('model M {\n  a = SandwichLinear(1, 86)\n  body = SandwichLinear(86, 86) * 8\n  out = SandwichLinear(86, 1, last: true)\n}\n');
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  const macs = cayley(86n, 1n) + 8n * cayley(86n, 86n) + cayley(1n, 86n);
  assert.equal(r.models[0]!.flops.generationPerStep, 6n * macs);
});

test('training FLOPs per token stay an exact decimal when generation MACs divide by a power-of-two token count', () => {
  const r = analyze('model M {\n  a = SandwichLinear(1, 86)\n  body = SandwichLinear(86, 86) * 8\n  out = SandwichLinear(86, 1, last: true)\n}\n', { seq: 4096 });
  const s = r.models[0]!.flops.trainPerToken;
  assert.match(s, /^\d+\.\d+$/, `exact, not cut: ${s}`);
  // The generation term 6·MACs/4096 has a 12-digit terminating expansion at most; scaled back by
  // 4096 the decimal must give an integer number of FLOPs per step.
  const [whole, frac] = s.split('.');
  const scaled = (BigInt(whole!) * 10n ** BigInt(frac!.length) + BigInt(frac!)) * 4096n;
  assert.equal(scaled % 10n ** BigInt(frac!.length), 0n);
  // A non-terminating expansion (seq 3001, a prime, in the denominator) is still cut with '…'.
  const cut = analyze('model M {\n  a = SandwichLinear(1, 86)\n}\n', { seq: 3001 }).models[0]!.flops.trainPerToken;
  assert.match(cut, /…$/);
});
