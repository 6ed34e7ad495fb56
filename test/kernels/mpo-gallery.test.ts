// The MPO gallery examples (examples/mpobert.npas, examples/mpoe.npas) in the ONNX export: every
// stored factor one initializer, so initializer elements = params.stored, with MPOBERT's central
// tensors once per matrix for all layers and MPOE's once per layer for all its experts. (The
// factor chains themselves run on the CPU provider against dense twins in
// factorized-weights.test.ts; these models are exported without data — 294M numbers for MPOE8.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../src/core/index.js';
import { exportModel } from '../../kernels/export.js';
import type { WeightFill } from '../../kernels/graph-builder.js';

const none: WeightFill = () => new Uint8Array(0);
const read = (file: string): string => readFileSync(join(__dirname, '..', '..', 'examples', file), 'utf8');
const names = (text: string, model: string): { elements: bigint; stored: bigint; initializers: string[] } => {
  const r = exportModel(text, model, { fill: none });
  assert.equal(r.storedParams, analyze(text).models.find((m) => m.name === model)!.params.stored);
  return { elements: r.initializerElements, stored: r.storedParams, initializers: r.spec.graph.initializers.map((i) => i.name) };
};

test('MPOBERT12 exports its six shared central tensors once and every layer\'s auxiliary tensors: initializers = params.stored', () => {
  const text = read('mpobert.npas');
  const r = names(text, 'MPOBERT12');
  assert.equal(r.elements, r.stored);
  assert.equal(r.stored, 19_523_760n); // test/core/examples/mpo-gallery.test.ts derives it
  // Per layer and matrix: the four auxiliary tensors (core1, core2, core4, core5); no layer owns a core3.
  for (const m of ['attn.q', 'attn.k', 'attn.v', 'attn.o', 'mlp.up', 'mlp.down']) {
    assert.equal(r.initializers.filter((n) => new RegExp(`^body\\[\\d+\\]\\.${m.replace('.', '\\.')}\\.core[1245]$`).test(n)).length, 12 * 4, m);
  }
  assert.equal(r.initializers.filter((n) => /\.core3$/.test(n)).length, 0);
  assert.equal(r.initializers.filter((n) => n.startsWith('factorize@')).length, 6);
});

test('MPOE8 and MPOE16 export one central tensor per layer and matrix, shared by its experts: initializers = params.stored', () => {
  const text = read('mpoe.npas');
  for (const model of ['MPOE8', 'MPOE16']) {
    const r = names(text, model);
    assert.equal(r.elements, r.stored, model);
    assert.equal(r.initializers.filter((n) => /^(encoder|decoder)\[\d+\]\.ff\.expert_(up|down)\.core3$/.test(n)).length, 24 * 2, model);
  }
  const sw = names(text, 'Switch8');
  assert.equal(sw.elements, sw.stored);
});
