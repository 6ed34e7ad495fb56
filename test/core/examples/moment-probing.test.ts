// Moment Probing (examples/moment-probing.npas) against the #Params column of
// mingzeG/Moment-Probing@0ddc040's README ("checkpoint list (ViT-B/16 SUP)", ImageNet-1K):
// Linear Probing 0.77M, Full Finetuning 86.57M, Moment Probing 3.65M, Moment Probing+ 4.10M.
// Every expected value is derived here from timm's vit_base_patch16_224_in21k shapes and the
// repository's MP.py, PSRP.py and optim_factory.py (which parameters train), independently of
// the engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';

const text = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'moment-probing.npas'), 'utf8');
const linear = (i: bigint, o: bigint): bigint => i * o + o;
const d = 768n, classes = 1000n;

// ViT-B/16: the 16×16 patch convolution, cls_token, 197 positions, 12 blocks (two LayerNorms,
// qkv and proj with biases, MLP 768 → 3072 → 768), the final LayerNorm.
const backbone = linear(3n * 16n * 16n, d) + d + 197n * d + 12n * (2n * 2n * d + 4n * linear(d, d) + linear(d, 4n * d) + linear(4n * d, d)) + 2n * d;
const linearHead = linear(d, classes);
// Moment_Probing_ViT(in_dim 768, hidden_dim 512, num_heads 4, near): proj, LayerNorm(128),
// classifier1, classifier2 over 3·31·31 = 2,883 features, two Conv2d(3, 3, 3, bias=False).
const proj = linear(d, 512n);
const mpHead = proj + 2n * 128n + linear(d, classes) + linear(2_883n, classes) + 2n * 81n;
// PSRP(768, reduction 16) in each of the 12 blocks: three bias-free Linear.
const psrp = 12n * 3n * d * 16n;

/** Millions to two decimals, as the README prints them. */
const millions = (n: bigint): string => (Number(n) / 1e6).toFixed(2);

test('Full Finetuning and Linear Probing: 86.57M and 0.77M, as published', () => {
  const models = analyze(text).models;
  const full = models.find((m) => m.name === 'ViTB16')!;
  assert.equal(full.params.stored, backbone + linearHead);
  assert.equal(full.params.trainable, backbone + linearHead);
  assert.equal(millions(full.params.trainable), '86.57');
  const lp = models.find((m) => m.name === 'LinearProbe')!;
  assert.equal(lp.params.trainable, linearHead);
  assert.equal(millions(lp.params.trainable), '0.77');
});

test('MP and MP+: the released code trains 4,047,146 and 4,489,514; the README\'s 3.65M and 4.10M leave out the projection', () => {
  const report = analyze(text);
  assert.deepEqual(report.diagnostics.filter((x) => x.severity === 'error').map((x) => x.message), []);
  const mp = report.models.find((m) => m.name === 'MP')!;
  assert.equal(mpHead, 4_047_146n);
  assert.equal(mp.params.stored, backbone + mpHead);
  assert.equal(mp.params.trainable, mpHead);
  const plus = report.models.find((m) => m.name === 'MPPlus')!;
  assert.equal(plus.params.stored, backbone + mpHead + psrp);
  assert.equal(plus.params.trainable, mpHead + psrp);
  // The published figures are these counts without proj Linear(768, 512).
  assert.equal(millions(mp.params.trainable - proj), '3.65');
  assert.equal(millions(plus.params.trainable - proj), '4.10');
  assert.notEqual(millions(mp.params.trainable), '3.65');
});
