// Gemma 3n (issue 14): google/gemma-3n-E2B's config.json (test/fixtures/hf) imported and analysed.
// The fixture is not a byte-for-byte copy of the Hub file (unreachable when it was written, and
// not found in any vendored copy since): its text_config was rebuilt from the E2B values
// Transformers' Gemma3nTextConfig documents (SOURCES.md says how). The language model's totals
// are compared with a derivation from the config's own numbers written out below from
// Transformers' modeling_gemma3n.py (every nn.Parameter the text model builds, so every tensor
// its checkpoint stores), never from the engine, and with the 4.46B the text-only GGUF publishes;
// the KV cache at 8Ki is derived from Gemma3nTextAttention's sharing rule, independently.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import { importHfConfig } from '../../../src/core/hf/import-hf.js';

type Config = Record<string, unknown>;

const E2B = JSON.parse(readFileSync(join(process.cwd(), 'test', 'fixtures', 'hf', 'gemma-3n-e2b.json'), 'utf8')) as Config;
const TEXT = E2B['text_config'] as Config;

function n(c: Config, key: string): bigint {
  const value = c[key];
  if (typeof value !== 'number') throw new Error(`config has no number ${key}`);
  return BigInt(value);
}

function widths(c: Config): bigint[] {
  const value = c['intermediate_size'];
  return Array.isArray(value) ? value.map((w) => BigInt(w as number)) : Array.from({ length: Number(n(c, 'num_hidden_layers')) }, () => n(c, 'intermediate_size'));
}

/** Gemma3nTextAttention's KV sources, written from its constructor: i ≥ first reads the last earlier layer of its type. */
function kvSources(types: readonly string[], shared: number): number[] {
  const first = types.length - shared;
  return types.map((t, i) => (first > 0 && i >= first ? types.slice(0, first).lastIndexOf(t) : i));
}

/**
 * Every parameter of Gemma3nForCausalLM's text model (LM head tied to embed_tokens), by module:
 * the KV-shared layers build k_proj, v_proj and k_norm like the others, so they are counted.
 */
function derived(c: Config): { stored: bigint; kvShared: bigint; embedding: bigint } {
  const d = n(c, 'hidden_size');
  const L = n(c, 'num_hidden_layers');
  const H = n(c, 'num_attention_heads');
  const KV = n(c, 'num_key_value_heads');
  const hd = n(c, 'head_dim');
  const p = n(c, 'hidden_size_per_layer_input');
  const a = n(c, 'altup_num_inputs');
  const r = n(c, 'laurel_rank');
  // q_proj, k_proj, v_proj, o_proj (no bias); q_norm, k_norm [head_dim]; v_norm has no scale.
  const attention = d * H * hd + 2n * d * KV * hd + H * hd * d + 2n * hd;
  // Gemma3nTextAltUp: correct_output_scale [d], correction_coefs [a, a], prediction_coefs [a², a], modality_router [a, d], router_norm [d].
  const altup = d + a * a + a * a * a + a * d + d;
  // Gemma3nTextLaurelBlock: linear_left [r, d], linear_right [d, r], post_laurel_norm [d].
  const laurel = 2n * d * r + d;
  // per_layer_input_gate [p, d], per_layer_projection [d, p], post_per_layer_input_norm [d]; four sandwich norms [d].
  const perLayer = 2n * d * p + d + 4n * d;
  const layers = widths(c).reduce((sum, ff) => sum + attention + 3n * d * ff + altup + laurel + perLayer, 0n);
  const embedTokens = n(c, 'vocab_size') * d;
  // embed_tokens_per_layer [vocab_per_layer, L·p], per_layer_model_projection [L·p, d], per_layer_projection_norm [p].
  const ple = n(c, 'vocab_size_per_layer_input') * L * p + d * L * p + p;
  // altup_projections and altup_unembed_projections: (a − 1) [d, d] each; the final norm [d].
  const outside = embedTokens + ple + 2n * (a - 1n) * d * d + d;
  const shared = kvSources(c['layer_types'] as string[], Number(n(c, 'num_kv_shared_layers'))).filter((s, i) => s !== i).length;
  return { stored: outside + layers, kvShared: BigInt(shared) * (2n * d * KV * hd + hd), embedding: embedTokens + n(c, 'vocab_size_per_layer_input') * L * p };
}

function importAndAnalyse(c: Config, seq = 8192) {
  const result = importHfConfig(JSON.stringify(c), { sourceName: 'gemma-3n.json' });
  if (!result.ok) assert.fail(`refused (${result.key ?? 'no key'}): ${result.message}`);
  const analysis = analyze(result.spec, { seq, batch: 1, dtype: 'bf16' });
  assert.deepEqual(analysis.diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.code}: ${x.message}`), [], result.spec);
  return { spec: result.spec, warnings: result.warnings, model: analysis.models[0]! };
}

test('gemma-3n-E2B: the language model stores 4,456,156,768 parameters, as its checkpoint does', () => {
  const expected = derived(TEXT);
  assert.equal(expected.stored, 4_456_156_768n);
  // The text-only GGUF's published size, 4.46B, to its two decimals (SOURCES.md).
  assert.equal((expected.stored + 5_000_000n) / 10_000_000n, 446n);
  const { spec, warnings, model } = importAndAnalyse(E2B);
  assert.equal(model.params.stored, expected.stored);
  // Effective: the tied LM head applied once more, the 10 KV-shared layers' unused K/V projections not.
  assert.equal(model.params.effective, expected.stored + n(TEXT, 'vocab_size') * n(TEXT, 'hidden_size') - expected.kvShared);
  assert.equal(expected.kvShared, 20_974_080n);
  assert.match(spec, /share kv body: map\(kv_sources, keep_weights: true\)/);
  assert.match(spec, /ple\s+= PerLayerEmbedding\(ple_vocab, d, layers, ple_width\)/);
  for (const tower of ['vision_config', 'audio_config']) assert.ok(warnings.some((w) => w.startsWith(`${tower} is not modelled`)), tower);
});

test('gemma-3n-E2B: KV cache at 8Ki with cross-layer sharing, 83,886,080 B in bf16', () => {
  const types = TEXT['layer_types'] as string[];
  const sources = kvSources(types, Number(n(TEXT, 'num_kv_shared_layers')));
  // Layers 20–29 read layer 18 (sliding) or 19 (full): only the first 20 layers keep a cache.
  assert.deepEqual(sources.slice(20), [18, 18, 18, 18, 19, 18, 18, 18, 18, 19]);
  const seq = 8192n;
  const window = n(TEXT, 'sliding_window');
  const perToken = 2n * n(TEXT, 'num_key_value_heads') * n(TEXT, 'head_dim') * 2n; // K and V, bf16
  let bytes = 0n;
  for (const [i, t] of types.entries()) {
    if (sources[i] !== i) continue;
    // A producer caches what its furthest reader attends: here readers share its type.
    bytes += (t === 'sliding_attention' ? (window < seq ? window : seq) : seq) * perToken;
  }
  assert.equal(bytes, 83_886_080n);
  const { model } = importAndAnalyse(E2B);
  assert.equal(model.kvCacheBytes, bytes);
  // Without the sharing every layer would keep its own: 24 sliding and 6 full layers.
  assert.equal(24n * window * perToken + 6n * seq * perToken, 125_829_120n);
});

test('gemma-3n-E4B (the E2B config with E4B’s keys): 6,866,696,688 in the language model', () => {
  const e4b = { ...TEXT, num_hidden_layers: 35, intermediate_size: Array.from({ length: 35 }, () => 16_384), num_kv_shared_layers: 15, activation_sparsity_pattern: [...Array.from({ length: 10 }, () => 0.95), ...Array.from({ length: 25 }, () => 0)], layer_types: Array.from({ length: 35 }, (_, i) => ((i + 1) % 5 === 0 ? 'full_attention' : 'sliding_attention')) };
  const expected = derived(e4b);
  assert.equal(expected.stored, 6_866_696_688n);
  const { model } = importAndAnalyse({ ...E2B, text_config: e4b });
  assert.equal(model.params.stored, expected.stored);
});

test('MatFormer widths: a per-layer intermediate_size list is counted layer by layer', () => {
  const mixed = Array.from({ length: 30 }, (_, i) => (i < 10 ? 8192 : i < 20 ? 12_288 : 4096));
  const c = { ...TEXT, intermediate_size: mixed };
  const { spec, model } = importAndAnalyse({ ...E2B, text_config: c });
  assert.match(spec, /layer_ff\s+= \[8192, /);
  assert.equal(model.params.stored, derived(c).stored);
  // Gemma3nTextConfig's own defaults: 35 layers of 16,384, layer i full when (i + 1) % 5 == 0, 15 shared.
  const bare = importAndAnalyse({ model_type: 'gemma3n_text' }).model;
  const defaults = { ...TEXT, num_hidden_layers: 35, intermediate_size: 16_384, num_kv_shared_layers: 15, vocab_size: 262_400, layer_types: Array.from({ length: 35 }, (_, i) => ((i + 1) % 5 === 0 ? 'full_attention' : 'sliding_attention')) };
  assert.equal(bare.params.stored, derived(defaults).stored);
});

test('hostile Gemma 3n configs are refused at the key', () => {
  const refused = (text: Config, key: string, pattern: RegExp) => {
    const result = importHfConfig(JSON.stringify({ ...E2B, text_config: text }));
    assert.equal(result.ok, false, key);
    if (!result.ok) {
      assert.equal(result.key, key);
      assert.match(result.message, pattern);
    }
  };
  refused({ ...TEXT, intermediate_size: [8192, 8192] }, 'text_config.intermediate_size', /2 entries but num_hidden_layers is 30/);
  refused({ ...TEXT, intermediate_size: [...Array.from({ length: 29 }, () => 8192), 0] }, 'text_config.intermediate_size', /intermediate_size\[29\] must be a positive integer/);
  refused({ ...TEXT, num_kv_shared_layers: 31 }, 'text_config.num_kv_shared_layers', /must not exceed num_hidden_layers/);
  refused({ ...TEXT, activation_sparsity_pattern: [0.95] }, 'text_config.activation_sparsity_pattern', /1 entries/);
  refused({ ...TEXT, altup_num_inputs: 1 }, 'text_config.altup_num_inputs', /at least 2/);
  // A shared full-attention layer with no full-attention layer before the shared range.
  const types = Array.from({ length: 30 }, (_, i) => (i === 29 ? 'full_attention' : 'sliding_attention'));
  refused({ ...TEXT, layer_types: types }, 'text_config.num_kv_shared_layers', /none of the 20 layers/);
});
