// FISH's pooled mask (Sung et al., "Training Neural Networks with Fixed Sparse Masks", NeurIPS
// 2021): the mask is the top-k of the Fisher information over every parameter of the model
// together — the k elements may fall in any weight, norms and embeddings included — not k per
// weight. `train PATHS: sparse(elements: k)` freezes the weights under the paths but for k
// elements pooled over all of them, trained in place: trainable = k exactly, stored unchanged.
// Expected values are derived by hand below, never read from the engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { modelReport } from '../../fixtures/model-report.js';


// Per layer: RMSNorm 32, MLP up [64, 32] 2,048 and down [32, 64] 2,048 (no biases); the
// embedding table [100, 32] 3,200; four layers.
const BASE = `
model M {
  d = 32
  block B {
    norm = RMSNorm(d)
    mlp  = MLP(d, 64, bias: false)
  }
  embed = Embedding(100, d)
  body  = B * 4
}
`;
const LAYER = 32n + 2_048n + 2_048n;
const PARAMS = 3_200n + 4n * LAYER;

test('a model-wide pooled mask: trainable is k exactly, stored and inference as the base', () => {
  const src = `${BASE}
variant Fish of M { train embed, body: sparse(elements: 1_000) }
`;
  const base = modelReport(src, 'M');
  const fish = modelReport(src, 'Fish');
  assert.equal(fish.params.stored, PARAMS, 'the trained elements are the weights\' own: nothing new is stored');
  assert.equal(fish.params.trainable, 1_000n, 'k elements over the whole model, not k per weight');
  assert.equal(fish.params.effective, PARAMS);
  assert.equal(fish.flops.decode, base.flops.decode);
  // Training per token: forward 4 · 2 · 4,096 = 32,768 FLOPs, the input gradients as much again,
  // and the k trained elements' gradients 2 · 1,000 (the frozen weights' gradients are not computed).
  assert.equal(fish.flops.trainPerToken, String(2n * 32_768n + 2n * 1_000n));
  // The base model trains every weight: 2 · forward for the backward.
  assert.equal(base.flops.trainPerToken, String(3n * 32_768n));
});

test('a pool over some paths: the weights outside stay trainable, the pool is what the paths hold', () => {
  // Only the MLPs pooled: the norms and the embedding train in full (3,200 + 4 · 32 = 3,328).
  const src = `${BASE}
variant V of M { train body.mlp: sparse(elements: 16_384) }
`;
  const v = modelReport(src, 'V');
  assert.equal(v.params.trainable, 3_328n + 16_384n);
  assert.equal(v.params.stored, PARAMS);
  // 16,385 > 4 · 4,096 = 16,384 elements in the four MLPs: refused at the statement.
  const over = `${BASE}\nvariant TooMany of M { train body.mlp: sparse(elements: 16_385) }`;
  const errors = analyze(over).diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.code), ['npas-train-sparse']);
  assert.match(errors[0]!.message, /16385 elements exceed the 16384 trainable elements/);
  assert.equal(over.slice(errors[0]!.range.start, errors[0]!.range.end), 'train body.mlp: sparse(elements: 16_385)');
});

test('a shared store is one pool entry: the pool counts stored elements, not instances', () => {
  // The four layers share one store: the pool is one layer (4,128) and the embedding (3,200).
  const src = `${BASE}
variant Shared of M { share body: all
  train embed, body: sparse(elements: 7_328) }
`;
  const shared = modelReport(src, 'Shared');
  assert.equal(shared.params.stored, 3_200n + LAYER);
  assert.equal(shared.params.trainable, 7_328n);
  const over = `${BASE}\nvariant Over of M { share body: all\n  train embed, body: sparse(elements: 7_329) }`;
  assert.deepEqual(analyze(over).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['npas-train-sparse']);
});

test('a later train or freeze statement still wins over the pool; an unknown method is located', () => {
  const src = `${BASE}
variant V of M {
  train embed, body: sparse(elements: 10)
  train embed
}
`;
  // The embedding trains in full after the mask: 3,200 + 10 (the pool is then the body's 16,512).
  assert.equal(modelReport(src, 'V').params.trainable, 3_210n);
  const bad = analyze(`${BASE}\nvariant W of M { train body: dense(elements: 3) }`);
  const errors = bad.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.code), ['npas-train-sparse']);
  const zero = analyze(`${BASE}\nvariant W of M { train body: sparse(elements: 0) }`);
  assert.deepEqual(zero.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['npas-train-sparse']);
});

test('an allocation cannot stand beside a pooled mask (it replaces the stores the mask chooses from); beside plain train it can', () => {
  const masked = analyze(`${BASE}\nvariant V of M {\n  train body: sparse(elements: 10)\n  allocate params: 10_000\n}`);
  const errors = masked.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.code), ['npas-allocate']);
  assert.match(errors[0]!.message, /cannot be combined with 'train' statements/);
  const plain = analyze(`${BASE}\nvariant V of M {\n  train body\n  allocate params: 10_000\n}`);
  assert.deepEqual(plain.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), []);
});
