// HAMburger (arXiv:2505.20438) in examples/hamburger.npas, against counts derived here from the
// released HAMburger-1B (github.com/Jingyu6/hamburger: hamburger/model/hamburger_modules.py and
// llama.py, max_steps 4) over meta-llama/Llama-3.2-1B-Instruct's config.json, never from the
// engine. A multiply-add is 2 FLOPs; norms, activations and biases are not counted (docs/layers.md).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';

const TEXT = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'hamburger.npas'), 'utf8');
const S = 4096n;
const result = analyze(TEXT, { seq: Number(S), batch: 1, dtype: 'bf16' });
const model = (name: string) => result.models.find((x) => x.name === name) ?? assert.fail(name);

// Llama-3.2-1B: hidden 2048, 16 layers, 32 heads of 64, 8 KV heads, intermediate 8192, vocab 128,256, tied.
const V = 128_256n;
const d = 2048n;
const L = 16n;
const kvWidth = 8n * 64n;
const layerMatmuls = 2n * d * d + 2n * d * kvWidth + 3n * d * 8192n; // q, o; k, v; gate, up, down
const layerParams = layerMatmuls + 2n * d; // two RMSNorms
const llama = V * d + L * layerParams + d;
const maxSteps = 4n;
// CompositionalEmbedder: q_proj and out_proj Linear(d, d), k_proj and v_proj Linear(3d/2, d), all
// with biases, pos [max_steps, d/2].
const merger = 2n * (d * d + d) + 2n * ((3n * d) / 2n * d + d) + maxSteps * (d / 2n);
// ConditionalMicroStepDecoder: 4 LlamaDecoderLayers; stop_head Linear(d, d), Linear(d, d), Linear(d, 1), biases.
const micro = 4n * layerParams;
const stopHead = 2n * (d * d + d) + d + 1n;
const kvPerPosition = L * 2n * kvWidth; // elements

test('HAMburger-1B: stored = Llama-3.2-1B + compositional embedder + micro-step decoder + stop head', () => {
  assert.equal(llama, 1_235_814_400n); // Llama-3.2-1B's published 1.24B
  assert.equal(merger, 20_983_808n);
  assert.equal(micro + stopHead, 251_680_769n);
  assert.equal(model('Llama3_2_1B').params.stored, llama);
  assert.equal(model('HAMburger1B').params.stored, llama + merger + micro + stopHead);
});

test('two tokens per KV entry: the base model\'s cache halves ("up to 2x less KV cache"), FLOPs follow the positions', () => {
  const base = model('Llama3_2_1B');
  const ham = model('HAMburger1B');
  const positions = S / 2n;
  // The micro-step decoder's cache lives for one macro step: 4 features + max_steps positions.
  const microCache = 4n * 2n * kvWidth * 8n;
  assert.equal(base.kvCacheBytes, kvPerPosition * S * 2n);
  assert.equal(ham.kvCacheBytes, (kvPerPosition * positions + microCache) * 2n);
  // Prefill: the base layers and the merger's query/output per position, the rest per token;
  // causal attention over the positions (base) and over an 8-position window (micro decoder).
  const perKey = 2n * 32n * (64n + 64n);
  const tri = (n: bigint): bigint => (n * (n + 1n)) / 2n;
  const perPosition = 2n * L * layerMatmuls + 2n * 2n * d * d;
  const perToken = 2n * 2n * ((3n * d) / 2n) * d + 2n * 4n * layerMatmuls + 2n * (2n * d * d + d) + 2n * d * V;
  const microKeys = tri(8n) + (S - 8n) * 8n;
  assert.equal(ham.flops.prefill, positions * perPosition + S * perToken + L * perKey * tri(positions) + 4n * perKey * microKeys);
  // A decode token: half a macro step of the base (over its 2,048 cached positions), the rest whole.
  assert.equal(ham.flops.decode, (perPosition + L * perKey * positions) / 2n + perToken + 4n * perKey * 8n);
  assert.ok(ham.flops.decode < base.flops.decode);
});
