// Token smashing (`smash MEMBERS: tokens(r)`) in the ONNX export: refused by name. The statement
// changes how often members run, not what they compute, so a graph of the members in sequence
// would run the smashed ones over every token; the same spec without it still exports with
// initializer elements = params.stored.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExportError, exportModel } from '../../kernels/export.js';

const TEXT = `model Tiny {
  d = 8
  block Layer {
    ln   = LayerNorm(d)
    attn = Attention(d, 2)
  }
  embed = Embedding(20, d)
  body  = Layer * 2
}
variant Smashed of Tiny {
  smash body: tokens(2)
}
`;

test('a smashed model is refused by name; its base exports at params.stored', () => {
  assert.throws(() => exportModel(TEXT, 'Smashed'), (e: unknown) => e instanceof ExportError && /'Smashed' runs body over smashed positions \(`smash`\)/.test(e.message));
  const base = exportModel(TEXT, 'Tiny');
  assert.equal(base.initializerElements, base.storedParams);
});
