// Gemma 3n's layer kinds (docs/layers.md): AltUp, AltUpProjections, Laurel, PerLayerEmbedding and
// PerLayerInput, their parameters and FLOPs derived by hand from the modules of Transformers'
// modeling_gemma3n.py (Gemma3nTextAltUp, Gemma3nTextLaurelBlock, Gemma3nTextModel's PLE and
// AltUp projections, Gemma3nTextDecoderLayer's per-layer gate), a multiply-add counted as 2.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { storedParams } from '../../../src/core/layers/weight-specs.js';
import { buildLayer } from './build-layer.js';

test('AltUp(d, n): router, prediction and correction coefficients, output scale', () => {
  const d = 2048;
  const n = 4;
  const cost = buildLayer('AltUp', { d, inputs: n });
  // correct_output_scale [d], correction_coefs [n, n], prediction_coefs [n², n], modality_router [n, d], router_norm [d].
  assert.equal(storedParams(cost), BigInt(d + n * n + n * n * n + n * d + d));
  assert.equal(storedParams(cost), 12_368n);
  // The router on the active copy twice (predict, correct), both coefficient maps, and the
  // prediction: each of the n copies a combination of the n copies (n²·d multiply-adds).
  assert.equal(cost.flopsPerToken, BigInt(2 * (2 * d * n) + 2 * n * n * n + 2 * n * n + 2 * n * n * d));
  assert.deepEqual(cost.weights.map((w) => [w.name, w.shape.join('x')]), [['router_norm', '2048'], ['modality_router', '4x2048'], ['prediction_coefs', '16x4'], ['correction_coefs', '4x4'], ['correct_output_scale', '2048']]);
});

test('AltUpProjections(d, n): n − 1 square projections; n = 1 is refused at the argument', () => {
  const cost = buildLayer('AltUpProjections', { d: 2048, inputs: 4 });
  assert.equal(storedParams(cost), 3n * 2048n * 2048n);
  assert.equal(cost.flopsPerToken, 3n * 2n * 2048n * 2048n);
  const bad = analyze('model M {\n  p = AltUpProjections(64, 1)\n}\n');
  assert.ok(bad.diagnostics.some((x) => x.severity === 'error' && /at least 2 copies/.test(x.message)), bad.diagnostics.map((x) => x.message).join('; '));
});

test('Laurel(d, r): left [r, d], right [d, r], norm [d]', () => {
  const cost = buildLayer('Laurel', { d: 2048, rank: 64 });
  assert.equal(storedParams(cost), BigInt(2 * 2048 * 64 + 2048));
  assert.equal(cost.flopsPerToken, BigInt(2 * 2 * 2048 * 64));
});

test('PerLayerEmbedding(rows, d, L, w) and PerLayerInput(d, w): the E2B shapes', () => {
  const table = buildLayer('PerLayerEmbedding', { rows: 262_144, d: 2048, layers: 30, width: 256 });
  // embed_tokens_per_layer [262,144, 30·256], per_layer_model_projection [30·256, 2048], per_layer_projection_norm [256].
  assert.equal(storedParams(table), 262_144n * 7680n + 7680n * 2048n + 256n);
  // The lookup is free; the projection of the token embedding is a matmul.
  assert.equal(table.flopsPerToken, 2n * 2048n * 7680n);
  assert.equal(table.weights.find((w) => w.name === 'table')?.role, 'embedding');
  const gate = buildLayer('PerLayerInput', { d: 2048, width: 256 });
  assert.equal(storedParams(gate), BigInt(2 * 2048 * 256 + 2048));
  assert.equal(gate.flopsPerToken, BigInt(2 * 2 * 2048 * 256));
  // The table counts as embedding parameters: a model of it alone reports them so.
  const m = analyze('model M {\n  ple = PerLayerEmbedding(1000, 64, 4, 8)\n}\n').models[0]!;
  assert.equal(m.params.stored, BigInt(1000 * 32 + 32 * 64 + 8));
  const huge = analyze('model M {\n  ple = PerLayerEmbedding(10, 64, 9007199254740991, 8)\n}\n');
  assert.ok(huge.diagnostics.some((x) => x.severity === 'error'), 'a table width past 2^53 is refused');
});
