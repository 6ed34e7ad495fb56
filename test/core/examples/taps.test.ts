// TAPS (examples/taps.npas) on ResNet-50: Wallingford et al., CVPR 2022 (arXiv:2203.16708). The
// published figure reachable here is the layer count of Figure 3's caption, "the 53 convolution
// layers of ResNet-50"; the paper's per-task parameter tables and per-dataset layer choices were
// not readable, so the example's subsets are an illustration and every count below is derived from
// torchvision's ResNet-50 as MattWallingford/TAPS@87e9188 models/taps_net.py defines it (Bottleneck,
// expansion 4, [3, 4, 6, 3], 1×1 projection + BatchNorm on each stage's first block,
// Linear(2048, 1000) with bias), independently of the engine. A task's ΔW is the shape of each
// kernel it adapts (`freeze_conv.residual`), stored by that task alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, sharingStructure } from '../../../src/core/index.js';

const text = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'taps.npas'), 'utf8');
const report = analyze(text);
const model = (name: string) => report.models.find((m) => m.name === name)!;

// Kernels [c_out, c_in, k, k] and BatchNorms (γ, β) of one bottleneck of width w reading c_in.
const bottleneck = (cIn: bigint, w: bigint, down: boolean) => {
  const kernels = [cIn * w, 9n * w * w, w * 4n * w, ...(down ? [cIn * 4n * w] : [])];
  return { kernels, bn: 2n * (w + w + 4n * w) + (down ? 2n * 4n * w : 0n) };
};
// Stages: (input channels of the first block, width, blocks).
const STAGES: readonly [bigint, bigint, number][] = [[64n, 64n, 3], [256n, 128n, 4], [512n, 256n, 6], [1024n, 512n, 3]];
const stage = (i: number) => {
  const [cIn, w, n] = STAGES[i]!;
  return Array.from({ length: n }, (_, b) => bottleneck(b === 0 ? cIn : 4n * w, w, b === 0));
};
const sum = (xs: readonly bigint[]) => xs.reduce((a, b) => a + b, 0n);
const STEM = 3n * 64n * 7n * 7n;
const blocks = [0, 1, 2, 3].flatMap(stage);
const KERNELS = [STEM, ...blocks.flatMap((b) => b.kernels)];
const BN = 2n * 64n + sum(blocks.map((b) => b.bn));
const FC = 2048n * 1000n + 1000n;
const RESNET50 = sum(KERNELS) + BN + FC;

test('ResNet-50 has the caption\'s 53 convolution layers and 25,557,032 parameters, derived from its definition', () => {
  assert.equal(KERNELS.length, 53, 'Figure 3: "the 53 convolution layers of ResNet-50"');
  assert.equal(RESNET50, 25_557_032n);
  assert.equal(sum(KERNELS), 23_454_912n);
  assert.equal(BN, 53_120n);
  assert.equal(model('ResNet50').params.stored, RESNET50);
});

test('TAPS: each task stores ΔW on its own layers; stored = shared + Σ per task; per_task is the largest task\'s', () => {
  const stage4 = sum(stage(3).flatMap((b) => b.kernels));
  const lastBlock = sum(stage(3)[2]!.kernels);
  const stage3LastConv3 = 256n * 1024n;
  const own = [lastBlock, lastBlock, lastBlock, lastBlock + stage3LastConv3, stage4];
  assert.deepEqual(own, [4_456_448n, 4_456_448n, 4_456_448n, 4_718_592n, 14_942_208n]);
  const taps = model('TAPS');
  assert.deepEqual(taps.tasks, { tasks: 5, perTask: 14_942_208n, shared: RESNET50, byTask: own });
  assert.equal(taps.params.stored, RESNET50 + sum(own));
  assert.equal(taps.params.stored, 58_587_176n);
  assert.equal(taps.params.trainable, sum(own), 'each task trains its own deltas; the base is frozen');
  // Merged (W + ΔW, one kernel): the forward FLOPs are the backbone's.
  assert.equal(taps.flops.prefill, model('ResNet50').flops.prefill);
  assert.ok(taps.budgets.every((b) => b.ok));
  // Against fine-tuning every convolution per task: 5 copies of the 53 kernels.
  const fine = model('FineTuneAll');
  assert.equal(fine.params.stored, RESNET50 + 5n * sum(KERNELS));
  assert.equal(fine.params.stored, 142_831_592n);
  assert.deepEqual(fine.tasks, { tasks: 5, perTask: sum(KERNELS), shared: RESNET50 });
  // The notebook's "% Parameters Changed" (VisualizeLayers.ipynb): (BatchNorm + W of every
  // turned-on layer) / (every parameter but the residuals, the 53 scores included).
  const changed = (t: number) => Number(BN + own[t]!) / Number(RESNET50 + 53n);
  assert.equal(changed(4).toFixed(3), '0.587');
  assert.equal(changed(0).toFixed(3), '0.176');
});

test('TAPS: the dashboard notes each delta with the tasks that own it', () => {
  const notes = sharingStructure(text).get('TAPS')!.notes.filter((n) => n.kind === 'adapter').map((n) => [n.member, n.index, n.label]);
  assert.deepEqual(notes, [
    ['layer4', null, 'full-rank delta, task 4 of 5'],
    ['layer4', 2, 'full-rank delta, tasks 0, 1, 2, 3 of 5'],
    ['layer3', 5, 'full-rank delta, task 3 of 5 on conv3'],
  ]);
});
