// Malformed and unsupported configs are refused, never thrown on: each case checks ok = false,
// the key at fault (undefined when the text as a whole is wrong) and that the message says what
// is wrong and, where it helps, what would be accepted. A property test feeds random configs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { importHfConfig, SUPPORTED_MODEL_TYPES } from '../../../src/core/hf/import-hf.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'hf');

function fixtureConfig(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

/** Asserts a refusal naming `key` whose message matches every pattern. */
function assertRefused(text: string, key: string | undefined, ...patterns: RegExp[]): void {
  const result = importHfConfig(text);
  assert.equal(result.ok, false, `expected a refusal for ${text.slice(0, 120)}`);
  if (result.ok) return;
  assert.equal(result.key, key, `key of: ${result.message}`);
  for (const p of patterns) assert.match(result.message, p);
}

function refusedConfig(config: Record<string, unknown>, key: string | undefined, ...patterns: RegExp[]): void {
  assertRefused(JSON.stringify(config, null, 2), key, ...patterns);
}

test('text that is not JSON is refused with the line and column', () => {
  assertRefused('{\n  "model_type": "gpt2",\n  "n_embd": 768,,\n}', undefined, /not valid JSON/, /line 3, column 17/);
  assertRefused('{"model_type": "gpt2"', undefined, /not valid JSON/, /line 1, column 22/, /expected ',' or '}'/);
  assertRefused('', undefined, /not valid JSON/, /empty/);
  assertRefused("{'model_type': 'gpt2'}", undefined, /property name in double quotes/, /line 1, column 2/);
  assertRefused('{"model_type": "gpt2"} trailing', undefined, /after the end of the JSON value/, /column 24/);
  assertRefused('{"a": "unterminated}', undefined, /string is not closed/);
});

test('a root that is not an object is refused', () => {
  assertRefused('[{"model_type": "gpt2"}]', undefined, /must be a JSON object/, /got a list/);
  assertRefused('"gpt2"', undefined, /must be a JSON object/, /"gpt2"/);
  assertRefused('null', undefined, /must be a JSON object/);
});

test('model_type: missing, mistyped or unknown', () => {
  refusedConfig({ hidden_size: 768 }, 'model_type', /no model_type/, /supported: gpt2, bert, albert, t5, llama/);
  refusedConfig({ model_type: null }, 'model_type', /no model_type/);
  refusedConfig({ model_type: 7 }, 'model_type', /model_type must be a string, got 7/);
  refusedConfig({ model_type: 'bloom' }, 'model_type', /"bloom" is not supported/, /deepseek_v2/);
  assert.deepEqual(SUPPORTED_MODEL_TYPES, ['gpt2', 'bert', 'albert', 't5', 'llama', 'mistral', 'mixtral', 'qwen2', 'gemma', 'phi', 'gpt_neox', 'deepseek_v2', 'qwen3', 'qwen3_moe', 'qwen3_next', 'gemma2', 'gemma3_text', 'gemma3', 'gemma3n_text', 'gemma3n', 'phi3', 'starcoder2', 'granite', 'granitemoe', 'falcon', 'olmo', 'olmo2', 'olmoe', 'gpt_oss', 'llama4_text', 'llama4', 'deepseek_v3', 'kimi_k2', 'mamba', 'mamba2', 'nemotron_h', 'jamba']);
});

test('sizes of the wrong type or out of range name the key and show the value', () => {
  const llama = fixtureConfig('llama-2-7b-hf.json');
  refusedConfig({ ...llama, hidden_size: '768' }, 'hidden_size', /^hidden_size must be a positive integer, got "768"$/);
  refusedConfig({ ...llama, hidden_size: 0 }, 'hidden_size', /positive integer, got 0/);
  refusedConfig({ ...llama, num_hidden_layers: -2 }, 'num_hidden_layers', /positive integer, got -2/);
  refusedConfig({ ...llama, intermediate_size: 1.5 }, 'intermediate_size', /positive integer, got 1.5/);
  refusedConfig({ ...llama, vocab_size: null }, 'vocab_size', /positive integer, got null/);
  refusedConfig({ ...llama, vocab_size: [32000] }, 'vocab_size', /got \[32000\]/);
  refusedConfig({ ...llama, hidden_size: 1e300 }, 'hidden_size', /too large to be exact/);
  assertRefused('{"model_type": "llama", "hidden_size": NaN}', 'hidden_size', /positive integer, got NaN/);
  assertRefused('{"model_type": "llama", "hidden_size": Infinity}', 'hidden_size', /got Infinity/);
  refusedConfig({ ...fixtureConfig('deepseek-v2-lite.json'), first_k_dense_replace: -1 }, 'first_k_dense_replace', /non-negative integer, got -1/);
});

test('flags and names of the wrong type', () => {
  const llama = fixtureConfig('llama-2-7b-hf.json');
  refusedConfig({ ...llama, tie_word_embeddings: 'yes' }, 'tie_word_embeddings', /must be true or false, got "yes"/);
  refusedConfig({ ...llama, hidden_act: 3 }, 'hidden_act', /must be a string, got 3/);
  refusedConfig({ ...llama, hidden_act: 'mish' }, 'hidden_act', /"mish" has no .npas activation/, /gelu_pytorch_tanh/);
  refusedConfig({ ...fixtureConfig('gpt2.json'), activation_function: 'leaky_relu' }, 'activation_function', /leaky_relu/);
});

test('inconsistent attention geometry', () => {
  const llama = fixtureConfig('llama-2-7b-hf.json');
  refusedConfig({ ...llama, num_attention_heads: 30 }, 'num_attention_heads', /num_attention_heads \(30\) must divide hidden_size \(4096\) when head_dim is not given/);
  refusedConfig({ ...llama, num_key_value_heads: 5 }, 'num_key_value_heads', /num_key_value_heads \(5\) must divide num_attention_heads \(32\)/);
  refusedConfig({ ...fixtureConfig('gpt2.json'), n_head: 5 }, 'n_head', /n_head \(5\) must divide n_embd \(768\)/);
  // An explicit head_dim lifts the divisibility requirement, as in Transformers.
  assert.equal(importHfConfig(JSON.stringify({ ...llama, num_attention_heads: 30, head_dim: 128, num_key_value_heads: 10 })).ok, true);
});

test('inconsistent mixture-of-experts settings', () => {
  refusedConfig({ ...fixtureConfig('mixtral-8x7b-v0-1.json'), num_experts_per_tok: 9 }, 'num_experts_per_tok', /num_experts_per_tok \(9\) must not exceed num_local_experts \(8\)/);
  refusedConfig({ ...fixtureConfig('deepseek-v2-lite.json'), num_experts_per_tok: 65 }, 'num_experts_per_tok', /must not exceed n_routed_experts \(64\)/);
  const noTopK = { ...fixtureConfig('deepseek-v2-lite.json') };
  delete noTopK['num_experts_per_tok'];
  refusedConfig(noTopK, 'num_experts_per_tok', /must be set when n_routed_experts is/);
  refusedConfig({ ...fixtureConfig('deepseek-v2-lite.json'), mlp_bias: true }, 'mlp_bias', /not supported/);
});

test('head classes: unknown or malformed architectures', () => {
  const llama = fixtureConfig('llama-2-7b-hf.json');
  refusedConfig(
    { ...llama, architectures: ['LlamaForSequenceClassification'] },
    'architectures',
    /"LlamaForSequenceClassification" is not a supported class for model_type "llama"/,
    /LlamaForCausalLM \(with LM head\), LlamaModel \(base model\)/,
  );
  refusedConfig({ ...llama, architectures: 'LlamaForCausalLM' }, 'architectures', /must be a list of class names/);
  refusedConfig({ ...llama, architectures: [42] }, 'architectures', /architectures\[0\] must be a class name string, got 42/);
  refusedConfig({ ...fixtureConfig('bert-base-uncased.json'), architectures: ['BertForSequenceClassification'] }, 'architectures', /BertForPreTraining/);
  refusedConfig({ ...fixtureConfig('t5-small.json'), architectures: ['MT5ForConditionalGeneration'] }, 'architectures', /T5EncoderModel/);
});

test('family options the importer does not model are refused by name', () => {
  refusedConfig({ ...fixtureConfig('gpt2.json'), add_cross_attention: true }, 'add_cross_attention', /not supported/);
  refusedConfig({ ...fixtureConfig('bert-base-uncased.json'), add_cross_attention: true }, 'add_cross_attention', /not supported/);
  refusedConfig({ ...fixtureConfig('bert-base-uncased.json'), position_embedding_type: 'relative_key' }, 'position_embedding_type', /"relative_key" is not supported/);
  refusedConfig({ ...fixtureConfig('t5-small.json'), feed_forward_proj: 'gated-gelu-new' }, 'feed_forward_proj', /"gated-gelu-new" is not of the form/);
  refusedConfig({ ...fixtureConfig('t5-small.json'), feed_forward_proj: 'fancy-relu' }, 'feed_forward_proj', /not of the form/);
  refusedConfig({ ...fixtureConfig('albert-base-v2.json'), num_hidden_groups: 5 }, 'num_hidden_groups', /num_hidden_groups \(5\) must divide num_hidden_layers \(12\)/);
  const qwen = { ...fixtureConfig('qwen2-0-5b.json'), use_sliding_window: true };
  refusedConfig({ ...qwen, layer_types: ['full_attention'] }, 'layer_types', /has 1 entries but num_hidden_layers is 24/);
  refusedConfig({ ...qwen, num_hidden_layers: 1, layer_types: ['local'] }, 'layer_types', /layer_types\[0\] must be "sliding_attention" or "full_attention", got "local"/);
  refusedConfig({ ...qwen, layer_types: 'full_attention' }, 'layer_types', /must be a list of strings/);
});

test('never throws: random configs of every family give a result, and accepted ones hold one model', () => {
  const value = fc.oneof(
    fc.integer({ min: -4, max: 5000 }),
    fc.constantFrom(0, 1, 2, 8, 64, 4096, 1.5, null, true, false, 'silu', 'gelu', '768', 'gated-gelu', 'absolute'),
    fc.constant([]),
    fc.constant(['LlamaForCausalLM']),
  );
  const keys = fc.constantFrom(
    'vocab_size', 'hidden_size', 'n_embd', 'd_model', 'num_hidden_layers', 'n_layer', 'num_layers', 'num_attention_heads',
    'n_head', 'num_heads', 'num_key_value_heads', 'head_dim', 'd_kv', 'intermediate_size', 'n_inner', 'd_ff',
    'tie_word_embeddings', 'hidden_act', 'architectures', 'sliding_window', 'use_sliding_window', 'max_window_layers',
    'num_local_experts', 'num_experts_per_tok', 'n_routed_experts', 'n_shared_experts', 'first_k_dense_replace',
    'moe_layer_freq', 'q_lora_rank', 'kv_lora_rank', 'num_hidden_groups', 'inner_group_num', 'embedding_size',
    'feed_forward_proj', 'num_decoder_layers', 'layer_types', 'qk_layernorm', 'attention_bias',
  );
  fc.assert(
    fc.property(fc.constantFrom(...SUPPORTED_MODEL_TYPES), fc.dictionary(keys, value, { maxKeys: 8 }), (modelType, extra) => {
      const result = importHfConfig(JSON.stringify({ ...extra, model_type: modelType }));
      if (result.ok) {
        assert.equal(result.spec.split('\n').filter((l) => /^model \w+ \{$/.test(l)).length, 1);
      } else {
        assert.ok(result.message.length > 0);
        assert.doesNotMatch(result.message, /internal error/);
      }
    }),
    { numRuns: 400, seed: 20_240_611 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (text) => {
      const result = importHfConfig(text);
      assert.equal(typeof result.ok, 'boolean');
    }),
    { numRuns: 300, seed: 7 },
  );
});
