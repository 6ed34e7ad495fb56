// The current families (issue 14): each official config.json in test/fixtures/hf (sources in
// test/fixtures/hf/SOURCES.md) is imported and analysed, and its totals are compared twice: with
// the published number (the checkpoint's safetensors count or the model card), and with a
// derivation from the config's own numbers written out below from Transformers' modeling code
// (never from the engine). A mismatch means the importer or the engine disagrees with
// Transformers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import { importHfConfig } from '../../../src/core/hf/import-hf.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'hf');

type Config = Record<string, unknown>;

function config(name: string): Config {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Config;
}

function n(c: Config, key: string): bigint {
  const value = c[key];
  if (typeof value !== 'number') throw new Error(`fixture has no number ${key}`);
  return BigInt(value);
}

/** Every model and variant of the imported spec by name, analysed without errors. */
function imported(c: Config): { spec: string; models: Map<string, { stored: bigint; active: bigint }>; warnings: readonly string[] } {
  const result = importHfConfig(JSON.stringify(c));
  if (!result.ok) assert.fail(`refused (${result.key ?? 'no key'}): ${result.message}`);
  const analysis = analyze(result.spec);
  assert.deepEqual(
    analysis.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`),
    [],
    result.spec,
  );
  const models = new Map(analysis.models.map((m) => [m.name, { stored: m.params.stored, active: m.params.active }]));
  return { spec: result.spec, models, warnings: result.warnings };
}

function only(c: Config): { stored: bigint; active: bigint } {
  const { models } = imported(c);
  assert.equal(models.size, 1);
  return [...models.values()][0]!;
}

/** q, k, v, o of grouped-query attention without biases: d·H·hd + 2·d·KV·hd + H·hd·d. */
function gqa(d: bigint, heads: bigint, kv: bigint, hd: bigint): bigint {
  return 2n * d * heads * hd + 2n * d * kv * hd;
}

test('Gemma-2-2B: 2,614,341,888 (four RMSNorms per layer, tied head)', () => {
  const c = config('gemma-2-2b.json');
  const d = n(c, 'hidden_size');
  const layer = gqa(d, n(c, 'num_attention_heads'), n(c, 'num_key_value_heads'), n(c, 'head_dim')) + 3n * d * n(c, 'intermediate_size') + 4n * d;
  const derived = n(c, 'vocab_size') * d + n(c, 'num_hidden_layers') * layer + d;
  assert.equal(derived, 2_614_341_888n);
  assert.equal(only(c).stored, derived);
});

test('KV at 8Ki from imported configs: Gemma-2-2B sliding/full (13 layers capped at the window) and DeepSeek-V3 MLA (one latent and rope key per layer)', () => {
  const seq = 8192n;
  const at8Ki = (c: Config) => {
    const result = importHfConfig(JSON.stringify(c));
    if (!result.ok) assert.fail(result.message);
    return analyze(result.spec, { seq: Number(seq), batch: 1, dtype: 'bf16' }).models[0]!;
  };
  // Gemma2DecoderLayer: layer i slides unless (i + 1) % 2 == 0; a sliding layer keeps at most
  // sliding_window positions, a global one the whole context. K and V of kv_heads · head_dim, bf16.
  const g = config('gemma-2-2b.json');
  const layers = Number(n(g, 'num_hidden_layers'));
  const sliding = BigInt(Array.from({ length: layers }, (_, i) => (i + 1) % 2 !== 0).filter(Boolean).length);
  const window = n(g, 'sliding_window');
  const perPosition = 2n * n(g, 'num_key_value_heads') * n(g, 'head_dim') * 2n;
  const gemma = (sliding * (window < seq ? window : seq) + (BigInt(layers) - sliding) * seq) * perPosition;
  assert.equal(gemma, 13n * 4096n * 4096n + 13n * 8192n * 4096n); // 654,311,424 B
  assert.equal(at8Ki(g).kvCacheBytes, gemma);
  // DeepSeek-V3's MLA caches the compressed latent (kv_lora_rank) and the shared rope key
  // (qk_rope_head_dim) per position and layer, whatever the 128 heads.
  const v3 = config('deepseek-v3.json');
  const mla = n(v3, 'num_hidden_layers') * seq * (n(v3, 'kv_lora_rank') + n(v3, 'qk_rope_head_dim')) * 2n;
  assert.equal(mla, 61n * 8192n * 576n * 2n); // 575,668,224 B
  assert.equal(at8Ki(v3).kvCacheBytes, mla);
});

test('Gemma-3-1B: 999,885,952 (per-head q/k norms of head_dim)', () => {
  const c = config('gemma-3-1b-pt.json');
  const d = n(c, 'hidden_size');
  const hd = n(c, 'head_dim');
  const layer = gqa(d, n(c, 'num_attention_heads'), n(c, 'num_key_value_heads'), hd) + 2n * hd + 3n * d * n(c, 'intermediate_size') + 4n * d;
  const derived = n(c, 'vocab_size') * d + n(c, 'num_hidden_layers') * layer + d;
  assert.equal(derived, 999_885_952n);
  assert.equal(only(c).stored, derived);
});

test('Phi-3-mini-4k: 3,821,079,552 (fused qkv and gate_up, untied head)', () => {
  const c = config('phi-3-mini-4k-instruct.json');
  const d = n(c, 'hidden_size');
  // qkv_proj [3·d, d] (32 kv heads), o_proj, gate_up_proj [2·ff, d], down_proj, two RMSNorms.
  const layer = 3n * d * d + d * d + 2n * n(c, 'intermediate_size') * d + n(c, 'intermediate_size') * d + 2n * d;
  const derived = 2n * n(c, 'vocab_size') * d + n(c, 'num_hidden_layers') * layer + d;
  assert.equal(derived, 3_821_079_552n);
  assert.equal(only(c).stored, derived);
});

test('Qwen3-8B: 8,190,735,360 (per-head q/k norms) and Qwen3-30B-A3B: 30.5B stored, 3.3B active', () => {
  const dense = config('qwen3-8b.json');
  {
    const d = n(dense, 'hidden_size');
    const hd = n(dense, 'head_dim');
    const layer = gqa(d, n(dense, 'num_attention_heads'), n(dense, 'num_key_value_heads'), hd) + 2n * hd + 3n * d * n(dense, 'intermediate_size') + 2n * d;
    const derived = 2n * n(dense, 'vocab_size') * d + n(dense, 'num_hidden_layers') * layer + d;
    assert.equal(derived, 8_190_735_360n);
    assert.equal(only(dense).stored, derived);
  }
  const c = config('qwen3-30b-a3b.json');
  const { stored, active } = qwen3Moe(c);
  assert.equal(stored, 30_532_122_624n); // "30.5B"
  assert.equal(active, 3_353_032_704n); // "3.3B activated"
  assert.deepEqual(only(c), { stored, active });
});

/** Qwen3-MoE totals from a config: every layer routed, per-head q/k norms, untied head. */
function qwen3Moe(c: Config): { stored: bigint; active: bigint } {
  const d = n(c, 'hidden_size');
  const hd = n(c, 'head_dim');
  const expert = 3n * d * n(c, 'moe_intermediate_size');
  const fixed = gqa(d, n(c, 'num_attention_heads'), n(c, 'num_key_value_heads'), hd) + 2n * hd + 2n * d + n(c, 'num_experts') * d;
  const outside = 2n * n(c, 'vocab_size') * d + d;
  const stored = outside + n(c, 'num_hidden_layers') * (fixed + n(c, 'num_experts') * expert);
  const active = outside + n(c, 'num_hidden_layers') * (fixed + n(c, 'num_experts_per_tok') * expert);
  return { stored, active };
}

test('OLMo-1B 1,176,764,416 (parameter-free LayerNorms), OLMo-2-7B 7,298,617,344 (full-width q/k norms), OLMoE-1B-7B 6.92B / 1.28B', () => {
  const olmo = config('olmo-1b-hf.json');
  {
    const d = n(olmo, 'hidden_size');
    const layer = 4n * d * d + 3n * d * n(olmo, 'intermediate_size');
    const derived = n(olmo, 'vocab_size') * d + n(olmo, 'num_hidden_layers') * layer; // tied, no norm parameters
    assert.equal(derived, 1_176_764_416n);
    assert.equal(only(olmo).stored, derived);
  }
  const olmo2 = config('olmo-2-1124-7b.json');
  {
    const d = n(olmo2, 'hidden_size');
    // q_norm RMSNorm(heads·head_dim) = d and k_norm RMSNorm(kv_heads·head_dim) = d here, two post-norms.
    const layer = 4n * d * d + 2n * d + 3n * d * n(olmo2, 'intermediate_size') + 2n * d;
    const derived = 2n * n(olmo2, 'vocab_size') * d + n(olmo2, 'num_hidden_layers') * layer + d;
    assert.equal(derived, 7_298_617_344n);
    assert.equal(only(olmo2).stored, derived);
  }
  const c = config('olmoe-1b-7b-0924.json');
  const d = n(c, 'hidden_size');
  const fixed = 4n * d * d + 2n * d + 2n * d + n(c, 'num_experts') * d;
  const expert = 3n * d * n(c, 'intermediate_size');
  const outside = 2n * n(c, 'vocab_size') * d + d;
  const stored = outside + n(c, 'num_hidden_layers') * (fixed + n(c, 'num_experts') * expert);
  const active = outside + n(c, 'num_hidden_layers') * (fixed + n(c, 'num_experts_per_tok') * expert);
  assert.equal(stored, 6_919_161_856n);
  assert.equal(active, 1_282_017_280n);
  assert.deepEqual(only(c), { stored, active });
});

test('StarCoder2-3B: 3,030,371,328 (biased LayerNorms and projections, two-matrix MLP, tied head)', () => {
  const c = config('starcoder2-3b.json');
  const d = n(c, 'hidden_size');
  const kvWidth = n(c, 'num_key_value_heads') * (d / n(c, 'num_attention_heads'));
  const ff = n(c, 'intermediate_size');
  const attn = 2n * (d * d + d) + 2n * (d * kvWidth + kvWidth);
  const layer = attn + (d * ff + ff) + (ff * d + d) + 4n * d;
  const derived = n(c, 'vocab_size') * d + n(c, 'num_hidden_layers') * layer + 2n * d;
  assert.equal(derived, 3_030_371_328n);
  assert.equal(only(c).stored, derived);
});

test('Granite-3.0-2B 2,533,531,648 and GraniteMoE-1B-A400M 1,334,628,352 (multipliers have no parameters)', () => {
  const g = config('granite-3-0-2b-base.json');
  {
    const d = n(g, 'hidden_size');
    const layer = gqa(d, n(g, 'num_attention_heads'), n(g, 'num_key_value_heads'), d / n(g, 'num_attention_heads')) + 3n * d * n(g, 'intermediate_size') + 2n * d;
    const derived = n(g, 'vocab_size') * d + n(g, 'num_hidden_layers') * layer + d;
    assert.equal(derived, 2_533_531_648n);
    assert.equal(only(g).stored, derived);
  }
  const c = config('granite-3-0-1b-a400m-base.json');
  const d = n(c, 'hidden_size');
  // input_linear [E, 2·ff, d] and output_linear [E, d, ff]: three d·ff matrices per expert.
  const fixed = gqa(d, n(c, 'num_attention_heads'), n(c, 'num_key_value_heads'), d / n(c, 'num_attention_heads')) + 2n * d + n(c, 'num_local_experts') * d;
  const expert = 3n * d * n(c, 'intermediate_size');
  const stored = n(c, 'vocab_size') * d + d + n(c, 'num_hidden_layers') * (fixed + n(c, 'num_local_experts') * expert);
  assert.equal(stored, 1_334_628_352n);
  assert.equal(only(c).stored, stored);
});

test('Falcon-7B 6,921,720,704 (multi-query, one parallel norm) and Falcon-40B (new decoder architecture)', () => {
  const old = config('falcon-7b.json');
  {
    const d = n(old, 'hidden_size');
    const hd = d / n(old, 'num_attention_heads');
    // query_key_value [d + 2·hd, d], dense, dense_h_to_4h, dense_4h_to_h, input_layernorm (weight, bias).
    const layer = d * (d + 2n * hd) + d * d + 2n * d * 4n * d + 2n * d;
    const derived = n(old, 'vocab_size') * d + n(old, 'num_hidden_layers') * layer + 2n * d;
    assert.equal(derived, 6_921_720_704n);
    assert.equal(only(old).stored, derived);
  }
  const c = config('falcon-40b.json');
  const d = n(c, 'hidden_size');
  const hd = d / n(c, 'num_attention_heads');
  // query_key_value [(2·kv + heads)·hd, d], ln_attn and ln_mlp.
  const layer = d * (2n * n(c, 'num_kv_heads') + n(c, 'num_attention_heads')) * hd + d * d + 8n * d * d + 4n * d;
  assert.equal(only(c).stored, n(c, 'vocab_size') * d + n(c, 'num_hidden_layers') * layer + 2n * d);
});

/** GPT-OSS totals from a config: (stored, active, the embedding). */
function gptOss(c: Config): { stored: bigint; active: bigint; embedding: bigint } {
  const d = n(c, 'hidden_size');
  const hd = n(c, 'head_dim');
  const heads = n(c, 'num_attention_heads');
  const kv = n(c, 'num_key_value_heads');
  const experts = n(c, 'num_local_experts');
  const ff = n(c, 'intermediate_size');
  // q/k/v/o with biases, one sink logit per head, two RMSNorms, a biased router.
  const fixed = gqa(d, heads, kv, hd) + heads * hd + 2n * kv * hd + d + heads + 2n * d + experts * d + experts;
  // gate_up_proj [2·ff, d] + bias 2·ff, down_proj [d, ff] + bias d.
  const expert = 3n * d * ff + 2n * ff + d;
  const embedding = n(c, 'vocab_size') * d;
  const stored = 2n * embedding + d + n(c, 'num_hidden_layers') * (fixed + experts * expert);
  const active = 2n * embedding + d + n(c, 'num_hidden_layers') * (fixed + n(c, 'num_experts_per_tok') * expert);
  return { stored, active, embedding };
}

test('GPT-OSS-20B: 20.91B stored, 3.61B active without the embedding (sinks, biased experts and router)', () => {
  const c = config('gpt-oss-20b.json');
  const d = n(c, 'hidden_size');
  const experts = n(c, 'num_local_experts');
  const ff = n(c, 'intermediate_size');
  const { stored, active, embedding } = gptOss(c);
  assert.equal(stored, 20_914_757_184n); // "21B parameters" (20.91B)
  assert.equal(active - embedding, 3_608_307_264n); // "3.6B active": OpenAI's count leaves out the embedding
  const { models, spec, warnings } = imported(c);
  assert.deepEqual([...models.values()], [{ stored, active }]);
  assert.match(spec, /sinks: true/);
  // The MXFP4 experts and the unquantised modules are named in the header; the weight bytes are
  // not per tensor, which the warning says.
  assert.match(spec, /# Quantised checkpoint \(quantization_config, quant_method "mxfp4"\): the experts' matrices are MXFP4/);
  assert.match(spec, /kept unquantised: model\.layers\.\*\.self_attn, model\.layers\.\*\.mlp\.router, model\.embed_tokens, lm_head\./);
  assert.doesNotMatch(spec, /Not used and not modelled[^\n]*quantization_config/);
  assert.match(spec, /^  precision weights: bf16, experts: mxfp4$/m);
  assert.ok(warnings.some((w) => w.startsWith('quantization_config (mxfp4)') && w.endsWith('(bf16 weights, mxfp4 experts) gives the checkpoint\'s weight bytes')), warnings.join('\n'));
  // The statement gives the checkpoint's bytes whatever the analysis dtype: the expert matrices
  // at 4.25 bits, everything else (attention, router, biases, embedding, head, norms) at 2 bytes.
  const matrices = n(c, 'num_hidden_layers') * experts * 3n * d * ff;
  for (const dtype of ['bf16', 'fp32'] as const) {
    assert.equal(analyze(spec, { dtype }).models[0]!.memory.weightBytes, (stored - matrices) * 2n + (matrices * 17n) / 32n, dtype);
  }
  assert.equal((stored - matrices) * 2n + (matrices * 17n) / 32n, 13_761_264_768n);
});

/** DeepSeek-V3-style totals from a config: (main model, one prediction module, active). */
function deepseekV3(c: Config): { main: bigint; mtp: bigint; active: bigint } {
  const d = n(c, 'hidden_size');
  const heads = n(c, 'num_attention_heads');
  const qRank = n(c, 'q_lora_rank');
  const kvRank = n(c, 'kv_lora_rank');
  const rope = n(c, 'qk_rope_head_dim');
  const nope = n(c, 'qk_nope_head_dim');
  const v = n(c, 'v_head_dim');
  // q_a, q_a_layernorm, q_b, kv_a (latent + rope key), kv_a_layernorm, kv_b, o.
  const mla = d * qRank + qRank + qRank * heads * (nope + rope) + d * (kvRank + rope) + kvRank + kvRank * heads * (nope + v) + heads * v * d;
  const expert = 3n * d * n(c, 'moe_intermediate_size');
  const experts = n(c, 'n_routed_experts');
  // gate weight [E, d] and e_score_correction_bias [E], routed experts, shared experts.
  const moeFixed = mla + 2n * d + experts * d + experts + n(c, 'n_shared_experts') * expert;
  const denseLayer = mla + 2n * d + 3n * d * n(c, 'intermediate_size');
  const dense = n(c, 'first_k_dense_replace');
  const moeLayers = n(c, 'num_hidden_layers') - dense;
  const embedding = n(c, 'vocab_size') * d;
  const main = 2n * embedding + d + dense * denseLayer + moeLayers * (moeFixed + experts * expert);
  const active = 2n * embedding + d + dense * denseLayer + moeLayers * (moeFixed + n(c, 'num_experts_per_tok') * expert);
  // Embedding copy, enorm, hnorm, eh_proj [d, 2d], one MoE layer, shared_head norm and head.
  const mtp = embedding + 2n * d + 2n * d * d + moeFixed + experts * expert + d + embedding;
  return { main, mtp, active };
}

test('DeepSeek-V3: 671B without the prediction module, 685B with it (the checkpoint), 37B active', () => {
  const c = config('deepseek-v3.json');
  const { main, mtp, active } = deepseekV3(c);
  assert.equal(main, 671_026_419_200n);
  assert.equal(main + mtp, 684_489_845_504n); // 685B with FP8 scales; 671B + 14B in DeepSeek's words
  assert.equal(active, 37_552_297_472n);
  const { models, spec, warnings } = imported(c);
  assert.deepEqual(models.get('Deepseek_v3'), { stored: main, active });
  assert.equal(models.get('Deepseek_v3WithMTP')?.stored, main + mtp);
  // FP8 E4M3 in 128 × 128 blocks: the scales are named as not parameters; the bytes are not per tensor.
  assert.match(spec, /quant_method "fp8", fmt "e4m3"\): the linear layers' weights are FP8,\n#   one fp32 scale per 128×128 block \(weight_scale_inv/);
  assert.ok(warnings.some((w) => w.startsWith('quantization_config (fp8 e4m3, 128×128 blocks)')), warnings.join('\n'));
  // Another method is named, not mapped; a malformed value is said to be unread.
  const other = importHfConfig(JSON.stringify({ ...c, quantization_config: { quant_method: 'awq', bits: 4 } }));
  assert.ok(other.ok && other.warnings.some((w) => w.startsWith('quantization_config (quant_method "awq") is not mapped')));
  const bad = importHfConfig(JSON.stringify({ ...c, quantization_config: 'fp8' }));
  assert.ok(bad.ok && bad.warnings.some((w) => w.startsWith('quantization_config is not an object')));
});

test('Kimi-K2 (model_type kimi_k2, DeepSeek-V3 architecture): 1.03T stored, 32.9B active', () => {
  const c = config('kimi-k2-instruct.json');
  const { main, active } = deepseekV3(c);
  assert.equal(main, 1_026_408_232_448n); // "1T total parameters"
  assert.equal(active, 32_861_500_928n); // "32B activated" (without the embedding: 31.7B)
  const { models } = imported(c);
  assert.equal(models.size, 1, 'num_nextn_predict_layers 0: no prediction-module variant');
  assert.deepEqual([...models.values()][0], { stored: main, active });
});

test('Llama-4-Scout (language model): 107,769,861,120 stored, 17.2B active; chunked layers cap their KV at one chunk, NoPE layers do not', () => {
  const c = config('llama-4-scout-17b-16e.json');
  const t = c['text_config'] as Config;
  const d = n(t, 'hidden_size');
  const experts = n(t, 'num_local_experts');
  const expert = 3n * d * n(t, 'intermediate_size');
  // Attention without biases, two RMSNorms, the router, routed experts and one shared expert.
  const fixed = gqa(d, n(t, 'num_attention_heads'), n(t, 'num_key_value_heads'), n(t, 'head_dim')) + 2n * d + experts * d + expert;
  const outside = 2n * n(t, 'vocab_size') * d + d;
  const layers = n(t, 'num_hidden_layers');
  const stored = outside + layers * (fixed + experts * expert);
  const active = outside + layers * (fixed + n(t, 'num_experts_per_tok') * expert);
  assert.equal(stored, 107_769_861_120n); // the language model; the 109B total includes the vision encoder
  assert.equal(active, 17_172_894_720n); // "17B active parameters"
  const result = importHfConfig(JSON.stringify(c));
  if (!result.ok) assert.fail(result.message);
  assert.ok(result.warnings.some((w) => w.startsWith('vision_config is not modelled')));
  const seq = 32_768;
  const m = analyze(result.spec, { seq, batch: 1, dtype: 'bf16' }).models[0]!;
  assert.deepEqual([m.params.stored, m.params.active], [stored, active]);
  // no_rope_layers: 36 rotary layers attend in chunks of 8,192; 12 NoPE layers attend to all 32,768.
  const nope = BigInt((t['no_rope_layers'] as number[]).filter((v) => v === 0).length);
  assert.equal(nope, 12n);
  const perToken = 2n * n(t, 'num_key_value_heads') * n(t, 'head_dim') * 2n;
  assert.equal(m.kvCacheBytes, ((layers - nope) * n(t, 'attention_chunk_size') + nope * BigInt(seq)) * perToken);
});

// Configs the fixtures do not hold: the larger siblings, written as the fixture with the keys in
// which their official config.json differs (values from those files), so the families are held
// to configs they were not written against.
test('siblings: GPT-OSS-120B 116.83B / 5.13B, Qwen3-235B-A22B 235.1B / 22.2B, Qwen3-0.6B 596,049,920 (tied), Llama-4-Maverick 400.7B / 17.2B', () => {
  // openai/gpt-oss-120b: 36 layers, 128 experts (the model card: 116.83B total, 5.13B active).
  const oss = config('gpt-oss-20b.json');
  const oss120 = { ...oss, num_hidden_layers: 36, num_local_experts: 128, layer_types: Array.from({ length: 36 }, (_, i) => (i % 2 === 0 ? 'sliding_attention' : 'full_attention')) };
  const big = gptOss(oss120);
  assert.equal(big.stored, 116_829_156_672n); // 116.83B
  assert.equal(big.active - big.embedding, 5_132_849_472n); // 5.13B
  assert.deepEqual(only(oss120), { stored: big.stored, active: big.active });
  // Qwen/Qwen3-235B-A22B ("235B total, 22B activated").
  const q = { ...config('qwen3-30b-a3b.json'), hidden_size: 4096, intermediate_size: 12_288, num_attention_heads: 64, num_key_value_heads: 4, num_hidden_layers: 94, num_experts: 128, num_experts_per_tok: 8, moe_intermediate_size: 1536, max_window_layers: 94 };
  const qwen = qwen3Moe(q);
  assert.equal(qwen.stored, 235_093_634_560n);
  assert.equal(qwen.active, 22_190_763_520n);
  assert.deepEqual(only(q), qwen);
  // Qwen/Qwen3-0.6B ("0.6B, 0.44B non-embedding"): the head tied to the embedding.
  const small = { ...config('qwen3-8b.json'), hidden_size: 1024, intermediate_size: 3072, num_attention_heads: 16, num_key_value_heads: 8, num_hidden_layers: 28, max_window_layers: 28, tie_word_embeddings: true };
  {
    const d = 1024n;
    const layer = gqa(d, 16n, 8n, 128n) + 2n * 128n + 3n * d * 3072n + 2n * d;
    const embedding = n(small, 'vocab_size') * d;
    assert.equal(embedding + 28n * layer + d, 596_049_920n);
    assert.equal(28n * layer + d, 440_467_456n); // "0.44B non-embedding"
    assert.equal(only(small).stored, 596_049_920n);
  }
  // meta-llama/Llama-4-Maverick-17B-128E ("17B active, 400B total"): 128 routed experts on every
  // other layer (interleave_moe_layer_step 2, moe_layers 1, 3, …, 47), dense layers of intermediate_size_mlp.
  const scout = config('llama-4-scout-17b-16e.json');
  const t = { ...(scout['text_config'] as Config), hidden_size: 5120, num_hidden_layers: 48, num_local_experts: 128, num_experts_per_tok: 1, interleave_moe_layer_step: 2, moe_layers: Array.from({ length: 24 }, (_, i) => 2 * i + 1), intermediate_size: 8192, intermediate_size_mlp: 16_384 };
  const maverick = { ...scout, text_config: t };
  {
    const d = 5120n;
    const attention = gqa(d, n(t, 'num_attention_heads'), n(t, 'num_key_value_heads'), n(t, 'head_dim')) + 2n * d;
    const expert = 3n * d * 8192n;
    const moeStored = attention + 128n * d + 128n * expert + expert; // router, experts, shared expert
    const moeActive = attention + 128n * d + expert + expert;
    const dense = attention + 3n * d * 16_384n;
    const outside = 2n * n(t, 'vocab_size') * d + d;
    const stored = outside + 24n * dense + 24n * moeStored;
    const active = outside + 24n * dense + 24n * moeActive;
    assert.equal(stored, 400_711_848_960n);
    assert.equal(active, 17_184_691_200n);
    assert.deepEqual(only(maverick), { stored, active });
    // Without the list, Llama4TextConfig derives it from the step: the same layers.
    const withoutList: Config = { ...t };
    delete withoutList['moe_layers'];
    assert.deepEqual(only({ ...scout, text_config: withoutList }), { stored, active });
  }
});
