// import-hf's trustworthiness (issue 14): every config key the spec does not use is listed in
// its header, those that might change a count are warned about, a model_type whose keys
// contradict it is refused naming them, nested text_config and Transformers v5's
// rope_parameters are read.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import { importHfConfig } from '../../../src/core/hf/import-hf.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'hf');

function config(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

function imported(c: Record<string, unknown>) {
  const result = importHfConfig(JSON.stringify(c));
  if (!result.ok) assert.fail(`refused (${result.key ?? 'no key'}): ${result.message}`);
  return result;
}

function headerOf(spec: string): string {
  return spec
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .join('\n');
}

test('keys the spec does not use are listed in the header; unknown ones are warned about by name', () => {
  const result = imported({ ...config('llama-2-7b-hf.json'), dropout_rate: 0.1, mystery_width: 4096 });
  const header = headerOf(result.spec);
  assert.match(header, /Not used \(no effect on the counts\):[^]*dropout_rate/);
  assert.match(header, /Not used and not modelled \(check that they change nothing\): mystery_width\./);
  assert.equal(result.warnings.length, 1);
  assert.match(result.warnings[0]!, /^mystery_width is not used by the llama import/);
  // A clean official config warns about nothing, and lists what it ignores.
  const clean = imported(config('qwen3-8b.json'));
  assert.deepEqual(clean.warnings, []);
  assert.match(headerOf(clean.spec), /Not used \(no effect on the counts\): attention_dropout, bos_token_id/);
});

test('a relabelled config is refused, naming the keys its family would have dropped', () => {
  // Qwen3-30B-A3B read as qwen2 would be a dense 3.34B model.
  const moeAsDense = importHfConfig(JSON.stringify({ ...config('qwen3-30b-a3b.json'), model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] }));
  assert.equal(moeAsDense.ok, false);
  if (moeAsDense.ok) return;
  assert.equal(moeAsDense.key, 'decoder_sparse_step');
  for (const key of ['decoder_sparse_step', 'moe_intermediate_size', 'num_experts', 'num_experts_per_tok']) assert.ok(moeAsDense.message.includes(key), key);
  // GPT-OSS read as Llama: experts and per-layer attention types.
  const ossAsLlama = importHfConfig(JSON.stringify({ ...config('gpt-oss-20b.json'), model_type: 'llama', architectures: [] }));
  assert.equal(ossAsLlama.ok, false);
  if (!ossAsLlama.ok) {
    for (const key of ['layer_types', 'num_local_experts', 'num_experts_per_tok']) assert.ok(ossAsLlama.message.includes(key), key);
  }
  // A dense family given layer_types it has no use for.
  const typed = importHfConfig(JSON.stringify({ ...config('mistral-7b-v0-1.json'), layer_types: Array(32).fill('full_attention') }));
  assert.equal(typed.ok, false);
  if (!typed.ok) assert.equal(typed.key, 'layer_types');
  // Values that switch a feature off contradict nothing.
  assert.equal(importHfConfig(JSON.stringify({ ...config('llama-2-7b-hf.json'), num_experts: 0, mlp_only_layers: [], q_lora_rank: null })).ok, true);
  // Nested keys are named with their path.
  const nested = importHfConfig(JSON.stringify({ ...config('gemma-3-4b-it.json'), text_config: { ...(config('gemma-3-4b-it.json')['text_config'] as object), num_experts: 8 } }));
  assert.equal(nested.ok, false);
  if (!nested.ok) assert.equal(nested.key, 'text_config.num_experts');
});

test('Gemma 3 multimodal: the language model from text_config, the vision tower named as not modelled', () => {
  const c = config('gemma-3-4b-it.json');
  const result = imported(c);
  assert.match(result.spec, /# Not modelled: vision_config \(the SigLIP vision tower/);
  assert.ok(result.warnings.some((w) => w.startsWith('vision_config is not modelled')));
  const model = analyze(result.spec).models[0]!;
  // Published gemma-3-4b-it: 4,300,079,472 = language model + SigLIP vision tower + projector.
  const vision = c['vision_config'] as Record<string, number>;
  const w = BigInt(vision['hidden_size']!);
  const ff = BigInt(vision['intermediate_size']!);
  const patch = BigInt(vision['patch_size']!);
  const positions = (BigInt(vision['image_size']!) / patch) ** 2n;
  // Patch Conv2d with bias, position table, per layer q/k/v/o and fc1/fc2 with biases and two
  // LayerNorms, the post-LayerNorm.
  const layer = 4n * (w * w + w) + (w * ff + ff) + (ff * w + w) + 4n * w;
  const tower = 3n * patch * patch * w + w + positions * w + BigInt(vision['num_hidden_layers']!) * layer + 2n * w;
  // mm_input_projection_weight [vision width, text width] and mm_soft_emb_norm.
  const text = c['text_config'] as Record<string, number>;
  const projector = w * BigInt(text['hidden_size']!) + w;
  assert.equal(tower, 416_866_032n);
  assert.equal(model.params.stored, 4_300_079_472n - tower - projector);
});

test("Transformers v5's rope_parameters: the base and the scaling type, also per attention type", () => {
  const flat = { ...config('llama-2-7b-hf.json'), rope_parameters: { rope_type: 'llama3', rope_theta: 500_000, factor: 32 } };
  const spec = imported(flat).spec;
  assert.match(spec, /rope_theta = 500_000 +# rope_theta: rotary base; rope_scaling "llama3" is not modelled/);
  const gemma = config('gemma-3-1b-pt.json');
  delete gemma['rope_theta'];
  delete gemma['rope_local_base_freq'];
  gemma['rope_parameters'] = { full_attention: { rope_type: 'linear', factor: 8, rope_theta: 1_000_000 }, sliding_attention: { rope_type: 'default', rope_theta: 10_000 } };
  const result = imported(gemma);
  assert.match(result.spec, /rope_theta = 1_000_000 +# rope_theta: rotary base; rope_scaling "linear"/);
  assert.deepEqual(result.warnings, []);
});

test('layer_types and window patterns: explicit lists win, periods are written as comprehensions', () => {
  const gpt = config('gpt-oss-20b.json');
  const types = gpt['layer_types'] as string[];
  // An irregular list stays a list.
  const irregular = imported({ ...gpt, layer_types: types.map((t, i) => (i < 3 ? 'full_attention' : t)) }).spec;
  assert.match(irregular, /layer_windows = \[none, none, none, none, 128, none, 128, /);
  const bad = importHfConfig(JSON.stringify({ ...gpt, layer_types: types.slice(1) }));
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.key, 'layer_types');
  // Gemma 2 with layer_types (newer configs) equals its default pattern.
  const gemma = config('gemma-2-2b.json');
  const listed = Array.from({ length: 26 }, (_, i) => ((i + 1) % 2 === 0 ? 'full_attention' : 'sliding_attention'));
  assert.equal(imported({ ...gemma, layer_types: listed }).spec.replace(/^#.*\n/gm, ''), imported(gemma).spec.replace(/^#.*\n/gm, ''));
});

test('Qwen3-MoE with dense layers: mlp_only_layers and decoder_sparse_step choose the routed layers', () => {
  const c = { ...config('qwen3-30b-a3b.json'), mlp_only_layers: [0, 47], decoder_sparse_step: 2 };
  const result = imported(c);
  assert.match(result.spec, /body += \[if routed\[i\] then MoEDecoder else Dense for i in layers\]/);
  // Routed: odd layers except 47 → 23 of 48; the other 25 keep a GatedMLP of intermediate_size.
  const model = analyze(result.spec).models[0]!;
  const d = 2048n;
  const attn = 2n * d * 4096n + 2n * d * 512n + 256n + 2n * d;
  const moe = 128n * d + 128n * 3n * d * 768n;
  const dense = 3n * d * 6144n;
  assert.equal(model.params.stored, 2n * 151_936n * d + d + 48n * attn + 23n * moe + 25n * dense);
});
