// The FISH gallery example (examples/fish-mask.npas) in the ONNX export and the CPU probe: a
// pooled mask trains the base weights in place, so the graph is BERT-large's and every stored
// element is an initializer; a small BERT with the same statement is probed on CPU.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel } from '../../kernels/export.js';
import { runProbe } from '../../kernels/probe-client.js';
import type { WeightFill } from '../../kernels/graph-builder.js';

const root = join(__dirname, '..', '..');
const text = readFileSync(join(root, 'examples', 'fish-mask.npas'), 'utf8');

test('the FISH example exports at its exact size: initializers = params.stored = 335,143,938, the mask adds none', () => {
  const none: WeightFill = () => new Uint8Array(0);
  for (const name of ['BertLargeGlue', 'FishMask']) {
    const r = exportModel(text, name, { fill: none });
    assert.equal(r.storedParams, 335_143_938n, name);
    assert.equal(r.initializerElements, r.storedParams, name);
  }
  assert.equal(exportModel(text, 'FishMask', { fill: none }).report.params.trainable, 1_675_719n);
});

test('the probe measures a small BERT under a pooled FISH mask on CPU, initializers = params.stored', async () => {
  // The example's model at L 2, H 64, A 4, a 100-token vocabulary; the mask keeps 500 elements.
  const small = `${text}\nvariant TinyFish of BertLargeGlue {\n  L = 2\n  H = 64\n  A = 4\n  vocab = 100\n  train word, position, segment, emb_norm, body, pooler: sparse(elements: 500)\n}\n`;
  const out = await runProbe({ specText: small, model: 'TinyFish', ep: 'cpu', batch: 2, seq: 8, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(root, 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  assert.equal(out.result.initializerElements, out.result.storedParams);
  assert.ok(out.result.prefill.medianMs > 0);
});
