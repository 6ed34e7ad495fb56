// Regular bottleneck adapters (`adapt PATHS: bottleneck_adapter(…)`), derived by hand from
// fairseq's BottleneckAdapter (facebookresearch/fairseq@1ecbb80,
// fairseq/modules/bottleneck_adapter_block.py: layer_norm nn.LayerNorm(d), fc1 Linear(d, r), fc2
// Linear(r, d)) and BottleneckAdapterBlock (one per language: `tasks: N`), and a located error for
// a bottleneck below 1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { modelReport } from '../../fixtures/model-report.js';

const text = `
model M {
  d = 16
  block B {
    attn = Attention(d, 2)
    ff   = MLP(d, 32)
  }
  embed = Embedding(50, d)
  body  = B * 3
  head  = Linear(d, 50)
}
variant One of M { adapt body.ff: bottleneck_adapter(bottleneck: 4, targets: [down]) }
variant Languages of M { adapt body.ff: bottleneck_adapter(bottleneck: 4, tasks: 7, targets: [down]) }
variant Bare of M { adapt body.ff: bottleneck_adapter(bottleneck: 4, norm: false, post_norm: true, tasks: 7, targets: [down]) }
`;

test('bottleneck_adapter: LayerNorm(d), Linear(d, r), Linear(r, d) per target and task, by hand', () => {
  const [d, r, layers, languages] = [16n, 4n, 3n, 7n];
  const adapter = 2n * d + (d * r + r) + (r * d + d); // layer_norm, fc1, fc2
  const m = modelReport(text, 'M');
  const one = modelReport(text, 'One');
  assert.equal(one.params.stored - m.params.stored, layers * adapter);
  assert.equal(one.params.trainable, layers * adapter); // the base is frozen
  assert.equal(one.params.effective - m.params.effective, layers * adapter);
  assert.equal(one.flops.decode - m.flops.decode, layers * 4n * d * r); // fc1 and fc2 per token
  // One adapter per language in every layer: stored and trained N times, one runs per token.
  const langs = modelReport(text, 'Languages');
  assert.equal(langs.params.stored - m.params.stored, languages * layers * adapter);
  assert.equal(langs.params.trainable, languages * layers * adapter);
  assert.equal(langs.params.effective, one.params.effective);
  assert.equal(langs.flops.decode, one.flops.decode);
  assert.deepEqual(langs.tasks, { tasks: 7, perTask: layers * adapter, shared: m.params.stored });
  // Without the norm, 2·d fewer per adapter; post-norm changes no count.
  const bare = modelReport(text, 'Bare');
  assert.equal(langs.params.stored - bare.params.stored, languages * layers * 2n * d);
});

test('bottleneck_adapter: a bottleneck of 0 is a located diagnostic', () => {
  const bad = `${text}variant Zero of M { adapt body.ff: bottleneck_adapter(bottleneck: 0, targets: [down]) }\n`;
  const d = analyze(bad).diagnostics.filter((x) => x.severity === 'error');
  assert.equal(d.length, 1, JSON.stringify(d));
  assert.equal(bad.slice(d[0]!.range.start, d[0]!.range.end), '0');
});
