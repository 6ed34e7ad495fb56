// The Hyper-Adapters gallery example (examples/hyper-adapters.npas) in the ONNX export: each model
// exports at its exact size — the three vocabulary tables, the Transformer and, in the variants,
// the one hyper-network (pre-norm and post-norm) or every language's regular adapters —
// initializer elements = params.stored. The
// graph's numbers are checked against the reference's forward in language-hypernetwork.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel } from '../../kernels/export.js';
import type { WeightFill } from '../../kernels/graph-builder.js';

const text = readFileSync(join(__dirname, '..', '..', 'examples', 'hyper-adapters.npas'), 'utf8');

test('the Hyper-Adapters example exports at its exact size: initializers = params.stored, the hyper-network stored once', () => {
  const none: WeightFill = () => new Uint8Array(0);
  const stored = new Map<string, bigint>();
  for (const name of ['MultilingualTransformer', 'HyperAdapters', 'LanguageAdapters', 'HyperAdaptersPostNorm']) {
    const r = exportModel(text, name, { fill: none });
    assert.equal(r.initializerElements, r.storedParams, name);
    stored.set(name, r.storedParams);
    if (name.startsWith('HyperAdapters')) {
      // Every hyper-network initializer is the statement's, one set for both stacks.
      const net = r.spec.graph.initializers.filter((i) => i.name.includes(':hypernetwork.'));
      assert.equal(new Set(net.map((i) => i.name.slice(0, i.name.indexOf(':')))).size, 1, name);
      assert.ok(net.some((i) => i.name.endsWith('.layer_emb')), name);
    }
  }
  // 428,225,536 for the Transformer; the hyper-networks' 8,593,940 (pre-norm) and 8,593,768 (post-norm),
  // derived module by module in test/core/examples/hyper-adapters.test.ts.
  assert.equal(stored.get('MultilingualTransformer'), 428_225_536n);
  assert.equal(stored.get('HyperAdapters')! - stored.get('MultilingualTransformer')!, 8_593_940n);
  assert.equal(stored.get('HyperAdaptersPostNorm')! - stored.get('MultilingualTransformer')!, 8_593_768n);
  // The regular language adapters: all 52 languages' [52, …] stores, 82,827,264.
  assert.equal(stored.get('LanguageAdapters')! - stored.get('MultilingualTransformer')!, 82_827_264n);
});
