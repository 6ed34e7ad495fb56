// Hyper-Adapters (`adapt PATHS: hyper_lang(…)`): the hypernetwork stored once per statement with
// one layer embedding per encoder and decoder layer, nothing per target, derived by hand from
// fairseq/modules/hyper_adapter.py's modules; generation per step; a located error for targets of
// two widths.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { modelReport } from '../../fixtures/model-report.js';

const text = `
model M {
  d = 16
  block Enc {
    attn = Attention(d, 2, causal: false)
    ff   = MLP(d, 32)
  }
  block Dec {
    attn = Attention(d, 2)
    ff   = MLP(d, 32)
  }
  embed   = Embedding(50, d)
  encoder = Enc * 3
  decoder = Dec * 2
  head    = Linear(d, 50)
}
variant H of M { adapt encoder.ff, decoder.ff: hyper_lang(bottleneck: 4, languages: 5, embedding: 6, hidden: 8, encoder_layers: 2, targets: [down]) }
variant N of M { adapt encoder.ff, decoder.ff: hyper_lang(bottleneck: 4, languages: 5, embedding: 6, hidden: 8, encoder_layers: 2, norm: true, tied_languages: true, input_norm: true, output_norm: true, targets: [down]) }
variant P of M { adapt encoder.ff, decoder.ff: hyper_lang(bottleneck: 4, languages: 5, embedding: 6, hidden: 8, encoder_layers: 2, post_norm: true, targets: [down]) }
`;

test('hyper_lang: one hypernetwork for the encoder and decoder layers, by hand', () => {
  const m = modelReport(text, 'M');
  const [d, r, n, e, h, blocks, layers] = [16n, 4n, 5n, 6n, 8n, 2n, 5n];
  // src and tgt language tables, 3 + 2 layer embeddings; fc_input Linear(3e, h); per residual
  // block LayerNorm(h) and two Linear(h, h); heads for the down and up weights and biases.
  const tables = 2n * n * e + layers * e;
  const encoder = 3n * e * h + h + blocks * (2n * h + 2n * (h * h + h));
  const heads = 2n * (h * d * r + d * r) + (h * r + r) + (h * d + d);
  const hyper = modelReport(text, 'H');
  assert.equal(hyper.params.stored - m.params.stored, tables + encoder + heads);
  assert.equal(hyper.params.stored - m.params.stored, 1_894n);
  assert.equal(hyper.params.trainable, tables + encoder + heads); // the base is frozen
  // Every FFN output applies its generated adapter d → r → d with biases: 4·d·r FLOPs per token.
  assert.equal(hyper.params.effective - m.params.effective, layers * (2n * d * r + r + d));
  assert.equal(hyper.flops.decode - m.flops.decode, layers * 4n * d * r);
  // Each step generates the 5 adapters: encoder 3e·h + 2·h² per block, heads 2·h·d·r + h·(r + d); 6 FLOPs per MAC.
  assert.equal(hyper.flops.generationPerStep, 6n * layers * (3n * e * h + blocks * 2n * h * h + 2n * h * d * r + h * (r + d)));
  // Tied language tables count once; the LayerNorm heads add 2·(h·d + d); the encoder's norms 2·3e and 2h.
  const withNorms = modelReport(text, 'N');
  assert.equal(withNorms.params.stored - hyper.params.stored, -n * e + 2n * (h * d + d) + 2n * 3n * e + 2n * h);
  // Post-norm (the reference's normalize_before false) moves each LayerNorm after its residual
  // add: the same modules, so the same counts.
  const post = modelReport(text, 'P');
  for (const k of ['stored', 'trainable', 'effective', 'active'] as const) assert.equal(post.params[k], hyper.params[k], k);
  assert.equal(post.flops.decode, hyper.flops.decode);
  assert.equal(post.flops.generationPerStep, hyper.flops.generationPerStep);
});

test('hyper_lang: targets of two widths are a located npas-adapter error', () => {
  const bad = `${text}\nvariant Bad of M { adapt encoder.ff: hyper_lang(bottleneck: 4, languages: 5, embedding: 6, hidden: 8, encoder_layers: 2) }`;
  const errors = analyze(bad).diagnostics.filter((x) => x.severity === 'error');
  const hit = errors.find((x) => x.code === 'npas-adapter' && x.message.includes('one hypernetwork emits one adapter shape'));
  assert.ok(hit, errors.map((x) => x.message).join('; '));
  assert.ok(hit.range.start >= bad.indexOf('variant Bad'));
  const missing = analyze(`${text}\nvariant Bad of M { adapt encoder.ff: hyper_lang(bottleneck: 4, languages: 5, targets: [down]) }`).diagnostics;
  assert.ok(missing.some((x) => x.severity === 'error' && x.message.includes('embedding')), 'the embedding width is required (the reference has no default)');
});
