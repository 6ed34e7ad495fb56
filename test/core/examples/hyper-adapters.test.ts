// Hyper-Adapters (examples/hyper-adapters.npas) against its paper's abstract, "reaching the same
// performance with up to 12 times less parameters" than regular adapters (Baziotis et al.,
// Findings of EMNLP 2022, arXiv:2205.10835). The paper's configurations and tables were not
// reachable, so the 12× is not checked against them: every expected value is derived here, module
// by module, from fairseq's port (facebookresearch/fairseq@1ecbb80: fairseq/modules/hyper_adapter.py
// and bottleneck_adapter_block.py; fairseq/models/transformer/transformer_config.py's defaults;
// docs/examples/multilingual/ML50_langs.txt and README.md), independently of the engine, and the
// published 12 is met where these formulas reach it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';

const text = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'hyper-adapters.npas'), 'utf8');

const linear = (i: bigint, o: bigint): bigint => i * o + o; // nn.Linear with its bias
const layerNorm = (w: bigint): bigint => 2n * w; // nn.LayerNorm: weight and bias

// fairseq's `transformer` defaults (transformer_config.py): embed_dim 512, ffn_embed_dim 2048, 6
// encoder and 6 decoder layers, sinusoidal positions (no parameters); the multilingual README's
// recipe adds --layernorm-embedding and, pre-norm, each stack's final LayerNorm; nothing shared, the
// output projection without a bias. Vocabulary: mBART-50's 250,054.
const d = 512n, ffn = 2048n, E = 6n, D = 6n, vocab = 250_054n;
const attention = 4n * linear(d, d); // q, k, v, out_proj
const ffnBlock = linear(d, ffn) + linear(ffn, d); // fc1, fc2
const encoderLayer = attention + ffnBlock + 2n * layerNorm(d);
const decoderLayer = 2n * attention + ffnBlock + 3n * layerNorm(d);
const BASE = 3n * vocab * d + E * encoderLayer + D * decoderLayer + 4n * layerNorm(d);

// ML50_langs.txt lists 52 language codes; the layer embeddings number the encoder's and the
// decoder's layers (num_layers = encoder.layers + decoder.layers).
const N = 52n, L = E + D;

interface Net { readonly r: bigint; readonly e: bigint; readonly h: bigint; readonly blocks: bigint; readonly inputNorm: boolean; readonly outputNorm: boolean }

/** HyperNetwork(…) of hyper_adapter.py: its nn.Embedding tables, HyperNetworkEncoder and projection heads. */
function hyperNetwork(c: Net): bigint {
  const embeddings = 2n * N * c.e + L * c.e; // src_lang_emb, tgt_lang_emb [N, e]; layer_emb [L, e]
  const encoder =
    (c.inputNorm ? layerNorm(3n * c.e) : 0n) + // layer_norm over the 3e input (pre-norm)
    linear(3n * c.e, c.h) + // fc_input
    c.blocks * (linear(c.h, c.h) + linear(c.h, c.h) + layerNorm(c.h)) + // ResidualBlock: fc1, fc2, layer_norm
    (c.outputNorm ? layerNorm(c.h) : 0n); // layer_norm over the output (post-norm)
  const heads = linear(c.h, d * c.r) + linear(c.h, c.r) + linear(c.h, c.r * d) + linear(c.h, d); // head_down_weights, head_down_bias, head_up_weights, head_up_bias
  return embeddings + encoder + heads;
}

/** BottleneckAdapter(d, r): LayerNorm(d), fc1 Linear(d, r), fc2 Linear(r, d); BottleneckAdapterBlock holds one per language. */
const regularAdapter = (r: bigint): bigint => layerNorm(d) + linear(d, r) + linear(r, d);

const pre: Net = { r: 128n, e: 50n, h: 64n, blocks: 2n, inputNorm: true, outputNorm: false };
const post: Net = { ...pre, inputNorm: false, outputNorm: true };

test('the multilingual Transformer (fairseq `transformer`, the README\'s recipe, mBART-50\'s vocabulary): 428,225,536', () => {
  assert.equal(BASE, 428_225_536n);
  const r = analyze(text);
  assert.deepEqual(r.diagnostics.map((x) => `${x.code}: ${x.message}`), []);
  assert.equal(r.models.find((m) => m.name === 'MultilingualTransformer')!.params.stored, BASE);
});

test('Hyper-Adapters: one hyper-network over both stacks, all of it trained, nothing stored per language or layer', () => {
  const r = analyze(text);
  const base = r.models.find((m) => m.name === 'MultilingualTransformer')!;
  for (const [name, net, expected] of [['HyperAdapters', pre, 8_593_940n], ['HyperAdaptersPostNorm', post, 8_593_768n]] as const) {
    const m = r.models.find((x) => x.name === name)!;
    assert.equal(hyperNetwork(net), expected, name);
    assert.equal(m.params.stored - base.params.stored, hyperNetwork(net), name);
    assert.equal(m.params.trainable, hyperNetwork(net), `${name}: the port trains the hyper-network alone (fairseq_cli/train.py)`);
    // Each of the 12 layers applies its generated adapter d → r → d with biases (the LayerNorm
    // without parameters: generate_layernorm off): effective counts it, 4·d·r FLOPs per token —
    // a decode step runs the decoder's 6 of them (the encoder does not run per step).
    const generated = 2n * d * net.r + net.r + d;
    assert.equal(m.params.effective - base.params.effective, L * generated, name);
    assert.equal(m.flops.decode - base.flops.decode, D * 4n * d * net.r, name);
  }
  // The heads dominate: the down and up weight heads alone are 2·h·d·r.
  assert.equal(2n * pre.h * d * pre.r, 8_388_608n);
});

test('against regular language adapters of the same bottleneck: 9.64× fewer; the abstract\'s 12× where h ≤ 51', () => {
  const regular = L * N * regularAdapter(pre.r);
  assert.equal(regular, 82_827_264n);
  // The engine's LanguageAdapters (bottleneck_adapter with tasks: 52): every language's adapters
  // stored and trained, one language's run, so the same FLOPs as the hyper-adapters'.
  const r0 = analyze(text);
  const base = r0.models.find((m) => m.name === 'MultilingualTransformer')!;
  const langs = r0.models.find((m) => m.name === 'LanguageAdapters')!;
  const hyper = r0.models.find((m) => m.name === 'HyperAdapters')!;
  assert.equal(langs.params.stored - base.params.stored, regular);
  assert.equal(langs.params.trainable, regular);
  assert.deepEqual(langs.tasks, { tasks: 52, perTask: L * regularAdapter(pre.r), shared: BASE });
  assert.equal(langs.flops.decode, hyper.flops.decode);
  const net = hyperNetwork(pre);
  assert.equal(hyper.params.stored - base.params.stored, net);
  // 9.64× (hundredths, rounded), and 4.82× against the port's two hyper-networks (one built in
  // the encoder, one in the decoder, each with all 12 layer embeddings).
  assert.equal((regular * 100n + net / 2n) / net, 964n);
  assert.equal((regular * 100n + net) / (2n * net), 482n);
  // To first order the ratio is L·N / h: the regular adapters grow with the languages, the
  // hyper-network with its hidden width. With these sizes the published "up to 12 times less
  // parameters" is reached up to h = 51 and not from h = 52.
  const ratioAt = (h: bigint) => (regular * 1000n) / hyperNetwork({ ...pre, h });
  assert.ok(ratioAt(51n) >= 12_000n, `${ratioAt(51n)}`);
  assert.ok(ratioAt(52n) < 12_000n, `${ratioAt(52n)}`);
  // The engine at h = 51 agrees.
  const at51 = analyze(`${text}\nvariant Hidden51 of MultilingualTransformer {\n  adapt encoder.ff, decoder.ff: hyper_lang(bottleneck: 128, languages: 52, embedding: 50, hidden: 51, encoder_layers: 2, input_norm: true, targets: [down])\n}\n`);
  const stored51 = at51.models.find((m) => m.name === 'Hidden51')!.params.stored - BASE;
  assert.equal(stored51, hyperNetwork({ ...pre, h: 51n }));
  assert.ok(regular >= 12n * stored51);
});
