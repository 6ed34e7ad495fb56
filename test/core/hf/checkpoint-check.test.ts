// compareWithCheckpoint: which model of a spec a checkpoint matches (DeepSeek-V3's variant with
// its prediction module), and quantised tensors — MXFP4 blocks hold two values per byte, FP8 and
// MXFP4 scales are not parameters.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, compareWithCheckpoint, type CheckpointTensor } from '../../../src/core/index.js';

const SPEC = `
model M(extra = 0) {
  embed = Embedding(10, 8)
  body  = Linear(8, 8) * 2
  more  = [Linear(8, 8) for i in extra]
}
variant WithMore of M { extra = 1 }
`;

const tensor = (name: string, shape: number[], dtype = 'BF16'): CheckpointTensor => ({ name, dtype, shape, bytes: shape.reduce((p, d) => p * d, 1) * (dtype === 'BF16' ? 2 : 1) });

test('the model or variant whose stored count equals the checkpoint is the one compared', () => {
  const models = analyze(SPEC).models;
  const base = [tensor('embed.weight', [10, 8]), tensor('body.0.weight', [8, 8]), tensor('body.1.weight', [8, 8])];
  const plain = compareWithCheckpoint(models, base);
  assert.deepEqual([plain.model, plain.specStored, plain.differences], ['M', 208n, []]);
  assert.equal(plain.specBytes, 416n);
  const more = compareWithCheckpoint(models, [...base, tensor('more.0.weight', [8, 8])]);
  assert.deepEqual([more.model, more.specStored, more.differences], ['WithMore', 272n, []]);
});

test('quantised checkpoints: MXFP4 blocks count two values per byte, scales are set apart, bytes are not compared', () => {
  const models = analyze(SPEC).models;
  const tensors = [
    tensor('embed.weight', [10, 8]),
    // 64 FP4 values of body.0 in 32 bytes (blocks of 32 values, 16 bytes each) and one E8M0 scale per block.
    tensor('body.0.weight_blocks', [8, 2, 2], 'U8'),
    tensor('body.0.weight_scales', [8, 2], 'U8'),
    // FP8 body.1 with a block scale.
    tensor('body.1.weight', [8, 8], 'F8_E4M3'),
    tensor('body.1.weight_scale_inv', [1, 1], 'F32'),
  ];
  const c = compareWithCheckpoint(models, tensors);
  assert.equal(c.checkpointParams, 208n);
  assert.equal(c.scaleElements, 17n);
  assert.equal(c.specBytes, undefined);
  assert.deepEqual(c.differences, []);
});
