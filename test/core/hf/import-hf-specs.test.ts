// The generated specs, checked as text: one golden spec in full, the family-specific lines of
// every fixture, the variations a config can ask for (windows, sharing groups, MoE spacing,
// base-model classes), and readability rules every import must meet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importHfConfig } from '../../../src/core/hf/import-hf.js';
import { analyze } from '../../../src/core/index.js';
import { parseJsonText } from '../../../src/core/hf/json-text.js';

// run-tests.mjs runs from the repository root.
const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'hf');

function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

function fixtureConfig(name: string): Record<string, unknown> {
  // The importer's own parser: official configs may hold Infinity (Mamba-2's time_step_limit),
  // which Python's json writes and JSON.parse refuses.
  const parsed = parseJsonText(fixtureText(name));
  if (!parsed.ok) assert.fail(`${name}: ${parsed.message}`);
  return parsed.value as unknown as Record<string, unknown>;
}

/** The spec of a config object; fails the test on a refusal. */
function specOf(config: Record<string, unknown>, modelName = 'M'): string {
  const result = importHfConfig(JSON.stringify(config), { modelName });
  if (!result.ok) assert.fail(`refused (${result.key ?? 'no key'}): ${result.message}`);
  return result.spec;
}

function specOfFixture(name: string): string {
  return specOf(fixtureConfig(name));
}

/** Lines without their trailing comments and indentation, for order-independent snippet checks. */
function codeLines(spec: string): string[] {
  return spec
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\s+=\s+/, ' = '));
}

function assertHasLines(spec: string, expected: readonly string[]): void {
  const lines = codeLines(spec);
  for (const line of expected) assert.ok(lines.includes(line), `missing line: ${line}\n--- spec ---\n${spec}`);
}

function assertLacksLine(spec: string, pattern: RegExp): void {
  const hit = codeLines(spec).find((l) => pattern.test(l));
  assert.equal(hit, undefined, `unexpected line ${hit ?? ''}\n--- spec ---\n${spec}`);
}

test('Llama-2-7b-hf imports to the expected spec, verbatim', () => {
  const result = importHfConfig(fixtureText('llama-2-7b-hf.json'));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.modelName, 'Llama_2_7b_hf');
  assert.equal(
    result.spec,
    [
      '# Imported from the Hugging Face config of meta-llama/Llama-2-7b-hf (model_type "llama", saved by Transformers 4.31.0.dev0).',
      '# Class LlamaForCausalLM: decoder-only, untied LM head.',
      '# Absent from the file, so LlamaConfig defaults:',
      '#   head_dim = 128 (hidden_size / num_attention_heads), attention_bias = false,',
      '#   rope_theta = 10000, mlp_bias = false.',
      '# Not used (no effect on the counts): bos_token_id, eos_token_id, initializer_range,',
      '#   pretraining_tp, rms_norm_eps, torch_dtype, use_cache.',
      'model Llama_2_7b_hf {',
      '  vocab  = 32_000',
      '  d      = 4096',
      '  layers = 32',
      '  heads  = 32',
      '  ff     = 11_008',
      '',
      '  block Decoder {',
      '    attn_norm = RMSNorm(d)',
      '    attn      = Attention(d, heads, rope: true)',
      '    mlp_norm  = RMSNorm(d)',
      '    mlp       = GatedMLP(d, ff)',
      '  }',
      '',
      '  embed   = Embedding(vocab, d)',
      '  body    = Decoder * layers',
      '  norm    = RMSNorm(d)',
      '  lm_head = Linear(d, vocab)  # untied: its own vocab × d weight',
      '',
      '  max_context 4096',
      '}',
      '',
    ].join('\n'),
  );
});

test('max_position_embeddings becomes max_context where no table reads it: a longer seq is warned about', () => {
  // Llama-2-7b's config: max_position_embeddings 4096, rotary (no position table).
  const llama = importHfConfig(fixtureText('llama-2-7b-hf.json'));
  assert.ok(llama.ok);
  if (!llama.ok) return;
  const beyond = (spec: string, seq: number) => analyze(spec, { seq }).diagnostics.filter((d) => d.code === 'npas-seq-beyond-context').map((d) => d.message);
  assert.deepEqual(beyond(llama.spec, 4096), []);
  assert.match(beyond(llama.spec, 8192)[0] ?? '', /seq 8192 exceeds Llama_2_7b_hf's declared max_context of 4096 tokens/);
  // BERT sizes its position table with the key: the table says the limit, no statement repeats it.
  const bert = importHfConfig(fixtureText('bert-base-uncased.json'));
  assert.ok(bert.ok && !bert.spec.includes('max_context') && bert.spec.includes('PositionEmbedding(positions'));
  // A value no context can have stays an unused key.
  const odd = importHfConfig(fixtureText('llama-2-7b-hf.json').replace('"max_position_embeddings": 4096', '"max_position_embeddings": 0'));
  assert.ok(odd.ok && !odd.spec.includes('max_context') && /max_position_embeddings/.test(odd.spec));
});

test('family-specific lines of every fixture', () => {
  const cases: Record<string, readonly string[]> = {
    'gpt2.json': [
      'vocab = 50_257',
      'positions = 1024',
      'attn = Attention(d, heads, bias: true)',
      'mlp = MLP(d, ff, act: gelu_tanh)',
      'pos = PositionEmbedding(positions, d)',
      'lm_head = Linear(d, vocab) tied embed',
    ],
    'bert-base-uncased.json': [
      'attn = Attention(d, heads, bias: true, causal: false)',
      'token_type = Embedding(types, d)',
      'transform = Linear(d, d, bias: true)',
      'transform_norm = LayerNorm(d)',
      'lm_head = Linear(d, vocab, bias: true) tied embed',
    ],
    'bert-base-uncased-model.json': ['pooler = Linear(d, d, bias: true)', 'body = Encoder * layers'],
    'bert-base-uncased-pretraining.json': ['pooler = Linear(d, d, bias: true)', 'sentence_head = Linear(d, 2, bias: true)'],
    'albert-base-v2.json': [
      'embed = Embedding(vocab, emb)',
      'embed_proj = Linear(emb, d, bias: true)',
      'body = AlbertLayer * layers',
      'transform = Linear(d, emb, bias: true)',
      'lm_head = Linear(emb, vocab, bias: true) tied embed',
      'share body: all',
    ],
    'albert-base-v2-model.json': ['pooler = Linear(d, d, bias: true)', 'share body: all'],
    't5-small.json': [
      'block Encoder(rel = false) {',
      'attn = Attention(d, heads, head_dim: head_dim, causal: false)',
      'rel_bias = if rel then RelativePositionBias(buckets, heads) else Identity()',
      'mlp = MLP(d, ff, act: relu, bias: false)',
      'cross_attn = Attention(d, heads, head_dim: head_dim, cross: true)',
      'encoder = [Encoder(rel: i == 0) for i in layers]',
      'decoder = [Decoder(rel: i == 0) for i in layers]',
      'lm_head = Linear(d, vocab) tied embed',
    ],
    't5-small-encoder.json': ['encoder = [Encoder(rel: i == 0) for i in layers]', 'encoder_norm = RMSNorm(d)'],
    't5-v1-1-base.json': ['mlp = GatedMLP(d, ff, act: gelu_tanh)', 'lm_head = Linear(d, vocab)'],
    'llama-2-7b-hf.json': ['attn = Attention(d, heads, rope: true)', 'mlp = GatedMLP(d, ff)', 'lm_head = Linear(d, vocab)'],
    'llama-2-7b-model.json': ['body = Decoder * layers', 'norm = RMSNorm(d)'],
    'mistral-7b-v0-1.json': ['kv_heads = 8', 'window = 4096', 'attn = Attention(d, heads, kv_heads: kv_heads, window: window, rope: true)'],
    'mixtral-8x7b-v0-1.json': ['experts = 8', 'top_k = 2', 'moe = MoE(d, ff, experts, top_k)', 'rope_theta = 1_000_000', 'attn = Attention(d, heads, kv_heads: kv_heads, rope: true, rope_theta: rope_theta)'],
    'qwen2-0-5b.json': ['rope_theta = 1_000_000', 'attn = Attention(d, heads, kv_heads: kv_heads, bias: true, o_bias: false, rope: true, rope_theta: rope_theta)', 'lm_head = Linear(d, vocab) tied embed'],
    'gemma-2b.json': [
      'head_dim = 256',
      'attn = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, rope: true)',
      'mlp = GatedMLP(d, ff, act: gelu_tanh)',
      'lm_head = Linear(d, vocab) tied embed',
    ],
    'phi-2.json': ['norm = LayerNorm(d)', 'rope_dim = 32', 'attn = Attention(d, heads, bias: true, rope: true, rope_dim: rope_dim)', 'lm_head = Linear(d, vocab, bias: true)'],
    'pythia-160m.json': ['rope_dim = 16', 'attn = Attention(d, heads, bias: true, rope: true, rope_dim: rope_dim)', 'mlp = MLP(d, ff)', 'lm_head = Linear(d, vocab)'],
    'deepseek-v2-lite.json': [
      'attn = MLA(d, heads, kv_rank, rope_dim, nope_dim, v_dim)',
      'moe = MoE(d, expert_ff, experts, top_k, shared: shared, normalize: false)',
      'body = Dense * dense_layers + MoEDecoder * (layers - dense_layers)',
      'lm_head = Linear(d, vocab)',
    ],
    'deepseek-v3.json': ['moe = MoE(d, expert_ff, experts, top_k, shared: shared, scoring: sigmoid, selection_bias: true, groups: 8, top_groups: 4, route_scale: route_scale)', 'route_scale = 2.5', 'body = Dense * dense_layers + MoEDecoder * (layers - dense_layers)', 'mtp_layers = 0', 'mtp = [MTP for i in mtp_layers]', 'eh_proj = Linear(2 * d, d)', 'layer = MoEDecoder'],
    'kimi-k2-instruct.json': ['experts = 384', 'moe = MoE(d, expert_ff, experts, top_k, shared: shared, scoring: sigmoid, selection_bias: true, route_scale: route_scale)', 'route_scale = 2.827', 'body = Dense * dense_layers + MoEDecoder * (layers - dense_layers)'],
    'falcon-7b.json': ['kv_heads = 1', 'norm = LayerNorm(d)', 'attn = Attention(d, heads, kv_heads: kv_heads, rope: true)', 'mlp = MLP(d, ff, bias: false)', 'lm_head = Linear(d, vocab) tied embed'],
    'falcon-40b.json': ['kv_heads = 8', 'attn_norm = LayerNorm(d)', 'mlp_norm = LayerNorm(d)', 'attn = Attention(d, heads, kv_heads: kv_heads, rope: true)'],
    'gemma-2-2b.json': ['full_every = 2', 'attn = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, window: attn_window, rope: true)', 'attn_post_norm = RMSNorm(d)', 'mlp_post_norm = RMSNorm(d)', 'body = [Decoder(attn_window: if i % full_every == full_every - 1 then none else window) for i in layers]'],
    'gemma-3-1b-pt.json': ['window = 512', 'full_every = 6', 'attn = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, qk_norm: rms, window: attn_window, rope: true, rope_theta: rope_theta)'],
    'gemma-3-4b-it.json': ['d = 2560', 'window = 1024', 'full_every = 6', 'lm_head = Linear(d, vocab) tied embed'],
    'gemma-3n-e2b.json': [
      'altup = AltUp(d, altup_inputs)',
      'laurel = Laurel(d, laurel_rank)',
      'attn = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, qk_norm: rms, window: attn_window, rope: true, rope_theta: rope_theta)',
      'per_layer = PerLayerInput(d, ple_width)',
      'ple = PerLayerEmbedding(ple_vocab, d, layers, ple_width)',
      'kv_sources = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 18, 18, 18, 18, 19, 18, 18, 18, 18, 19]',
      'share kv body: map(kv_sources, keep_weights: true)',
    ],
    'mamba-130m-hf.json': ['mixer = Mamba(d)', 'body = Layer * layers', 'lm_head = Linear(d, vocab) tied embed'],
    'mamba-codestral-7b-v0-1.json': ['mixer = Mamba2(d, head_dim: head_dim, state: state, groups: groups)', 'lm_head = Linear(d, vocab)'],
    'nemotron-h-8b-base-8k.json': [
      'mixer = Mamba2(d, head_dim: mamba_head_dim, state: state, groups: groups)',
      'mixer = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim)',
      'mixer = MLP(d, ff, act: relu2, bias: false)',
      'body = (MambaLayer + MlpLayer) * 3 + MambaLayer + AttentionLayer + (MlpLayer + MambaLayer) * 5 + AttentionLayer + (MlpLayer + MambaLayer) * 5 + AttentionLayer + (MlpLayer + MambaLayer) * 5 + AttentionLayer + (MlpLayer + MambaLayer) * 5 + MlpLayer',
    ],
    'nemotron-3-nano-30b-a3b.json': [
      'mamba_inner = 4096',
      'mixer = Mamba2(d, head_dim: mamba_head_dim, state: state, groups: groups, inner: mamba_inner)',
      'mixer = MoE(d, expert_ff, experts, top_k, shared: 1, shared_hidden: shared_ff, gated: false, act: relu2, scoring: sigmoid, selection_bias: true, route_scale: route_scale)', 'route_scale = 2.5',
      'body = (MambaLayer + MoeLayer + MambaLayer + MoeLayer + MambaLayer + AttentionLayer + MoeLayer) * 5 + (MambaLayer + MoeLayer) * 3 + MambaLayer + AttentionLayer + (MoeLayer + MambaLayer) * 4 + MoeLayer',
    ],
    'llama-4-scout-17b-16e.json': [
      'attn = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, chunk: if nope then none else chunk, rope: not nope, rope_theta: if nope then none else rope_theta)',
      'moe = MoE(d, ff, experts, top_k, shared: 1, scoring: sigmoid, normalize: false, weight_input: true)',
      'body = [MoEDecoder(nope: i % nope_every == nope_every - 1) for i in layers]',
    ],
    'qwen3-next-80b-a3b-instruct.json': [
      'rope_dim = 64',
      'mixer = if linear then GatedDeltaNet(d, k_heads: linear_k_heads, v_heads: linear_v_heads, k_head_dim: linear_k_head_dim, v_head_dim: linear_v_head_dim) else Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, qk_norm: rms, gate: true, rope: true, rope_dim: rope_dim, rope_theta: rope_theta)',
      'ffn = MoE(d, expert_ff, experts, top_k, shared: 1, shared_hidden: shared_ff, shared_expert_gate: true)',
      'body = [Layer(linear: i % full_every != full_every - 1) for i in layers]',
    ],
    'jamba-v0-1.json': [
      'mixer = if attn then Attention(d, heads, kv_heads: kv_heads) else Mamba(d, state: state, dt_rank: dt_rank, inner_norms: true)',
      'ffn = if moe then MoE(d, ff, experts, top_k, normalize: false) else GatedMLP(d, ff)',
      'body = [Layer(attn: i % attn_every == attn_at, moe: i % moe_every == moe_at) for i in layers]',
    ],
    'gpt-oss-20b.json': ['window = 128', 'attn = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, bias: true, sinks: true, window: attn_window, rope: true, rope_theta: rope_theta)', 'moe = MoE(d, ff, experts, top_k, act: quick_gelu, glu_limit: 7, bias: true, router_bias: true)'],
    'granite-3-0-1b-a400m-base.json': ['moe = MoE(d, ff, experts, top_k)', 'lm_head = Linear(d, vocab) tied embed'],
    'granite-3-0-2b-base.json': ['mlp = GatedMLP(d, ff)', 'lm_head = Linear(d, vocab) tied embed'],
    'olmo-1b-hf.json': ['attn_norm = LayerNorm(d, affine: false)', 'norm = LayerNorm(d, affine: false)', 'lm_head = Linear(d, vocab) tied embed'],
    'olmo-2-1124-7b.json': ['attn = Attention(d, heads, qk_norm: rms, qk_norm_width: full, rope: true, rope_theta: rope_theta)', 'attn_post_norm = RMSNorm(d)', 'mlp_post_norm = RMSNorm(d)'],
    'olmoe-1b-7b-0924.json': ['attn = Attention(d, heads, qk_norm: rms, qk_norm_width: full, rope: true)', 'moe = MoE(d, ff, experts, top_k, normalize: false)'],
    'phi-3-mini-4k-instruct.json': ['window = 2047', 'attn = Attention(d, heads, window: window, rope: true)', 'mlp = GatedMLP(d, ff)', 'lm_head = Linear(d, vocab)'],
    'qwen3-30b-a3b.json': ['expert_ff = 768', 'attn = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, qk_norm: rms, rope: true, rope_theta: rope_theta)', 'moe = MoE(d, expert_ff, experts, top_k)'],
    'qwen3-8b.json': ['attn = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, qk_norm: rms, rope: true, rope_theta: rope_theta)', 'mlp = GatedMLP(d, ff)'],
    'starcoder2-3b.json': ['attn = Attention(d, heads, kv_heads: kv_heads, bias: true, window: window, rope: true, rope_theta: rope_theta)', 'mlp = MLP(d, ff, act: gelu_tanh)', 'norm = LayerNorm(d)', 'lm_head = Linear(d, vocab) tied embed'],
  };
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
  assert.deepEqual([...fixtures].sort(), Object.keys(cases).sort(), 'every fixture has expectations');
  for (const [name, lines] of Object.entries(cases)) assertHasLines(specOfFixture(name), lines);
});

test('base-model classes drop the LM head; BERT and ALBERT masked-LM heads drop the pooler', () => {
  assertLacksLine(specOfFixture('llama-2-7b-model.json'), /^lm_head/);
  assertLacksLine(specOfFixture('bert-base-uncased.json'), /^pooler/);
  assertLacksLine(specOfFixture('albert-base-v2.json'), /^pooler/);
  assertLacksLine(specOfFixture('t5-small-encoder.json'), /^(decoder|lm_head)/);
  assertLacksLine(specOf({ ...fixtureConfig('gpt2.json'), architectures: ['GPT2Model'] }), /^lm_head/);
});

test('architectures absent: decoders get their causal-LM class, BERT and ALBERT their base model', () => {
  const llama = { ...fixtureConfig('llama-2-7b-hf.json') };
  delete llama['architectures'];
  const spec = specOf(llama);
  assert.match(spec, /# Class LlamaForCausalLM \(no architectures in the file: the family default\)/);
  assertHasLines(spec, ['lm_head = Linear(d, vocab)']);
  const bert = { ...fixtureConfig('bert-base-uncased.json'), architectures: [] };
  assertHasLines(specOf(bert), ['pooler = Linear(d, d, bias: true)']);
});

test('tie_word_embeddings follows the config, then the family default', () => {
  assertHasLines(specOf({ ...fixtureConfig('llama-2-7b-hf.json'), tie_word_embeddings: true }), ['lm_head = Linear(d, vocab) tied embed']);
  assertHasLines(specOf({ ...fixtureConfig('gpt2.json'), tie_word_embeddings: false }), ['lm_head = Linear(d, vocab)']);
  const gemma = { ...fixtureConfig('gemma-2b.json') };
  assert.equal(gemma['tie_word_embeddings'], undefined);
  assertHasLines(specOf(gemma), ['lm_head = Linear(d, vocab) tied embed']);
  const t5 = { ...fixtureConfig('t5-small.json') };
  assert.equal(t5['tie_word_embeddings'], undefined);
  assertHasLines(specOf(t5), ['lm_head = Linear(d, vocab) tied embed']);
  assertHasLines(specOf({ ...fixtureConfig('phi-2.json'), tie_word_embeddings: true }), ['lm_head = Linear(d, vocab, bias: true) tied embed']);
});

test('Mistral sliding_window: absent means 4096, null means full attention', () => {
  const absent = { ...fixtureConfig('mistral-7b-v0-1.json') };
  delete absent['sliding_window'];
  assertHasLines(specOf(absent), ['window = 4096']);
  assertLacksLine(specOf({ ...absent, sliding_window: null }), /window/);
});

test('Mixtral with a sliding window puts it on every layer', () => {
  assertHasLines(specOf({ ...fixtureConfig('mixtral-8x7b-v0-1.json'), sliding_window: 4096 }), [
    'attn = Attention(d, heads, kv_heads: kv_heads, window: window, rope: true, rope_theta: rope_theta)',
  ]);
});

test('Qwen2 use_sliding_window: layers from max_window_layers slide, written as a threshold comprehension', () => {
  const spec = specOf({ ...fixtureConfig('qwen2-0-5b.json'), use_sliding_window: true, sliding_window: 4096, max_window_layers: 20 });
  assertHasLines(spec, [
    'window = 4096',
    'full_layers = 20',
    'block Decoder(attn_window = none) {',
    'attn = Attention(d, heads, kv_heads: kv_heads, bias: true, o_bias: false, window: attn_window, rope: true, rope_theta: rope_theta)',
    'body = [Decoder(attn_window: if i >= full_layers then window else none) for i in layers]',
  ]);
  // max_window_layers at or past the depth leaves every layer full; 0 makes every layer slide.
  assertLacksLine(specOf({ ...fixtureConfig('qwen2-0-5b.json'), use_sliding_window: true, max_window_layers: 24 }), /window/);
  assertHasLines(specOf({ ...fixtureConfig('qwen2-0-5b.json'), use_sliding_window: true, sliding_window: 1024, max_window_layers: 0 }), [
    'body = Decoder * layers',
    'window = 1024',
  ]);
});

test('Qwen2 layer_types: an irregular pattern becomes a per-layer list', () => {
  const types = ['full_attention', 'sliding_attention', 'full_attention', 'sliding_attention'];
  const spec = specOf({ ...fixtureConfig('qwen2-0-5b.json'), num_hidden_layers: 4, use_sliding_window: true, sliding_window: 512, layer_types: types });
  assertHasLines(spec, ['layer_windows = [none, 512, none, 512]', 'body = [Decoder(attn_window: layer_windows[i]) for i in layers]']);
});

test('GQA and explicit head_dim become named constants only where they differ from the derived value', () => {
  const spec = specOf({ ...fixtureConfig('llama-2-7b-hf.json'), num_key_value_heads: 8, head_dim: 96, num_attention_heads: 24 });
  assertHasLines(spec, ['kv_heads = 8', 'head_dim = 96', 'attn = Attention(d, heads, kv_heads: kv_heads, head_dim: head_dim, rope: true)']);
  const gemma = { ...fixtureConfig('gemma-2b.json') };
  delete gemma['head_dim'];
  assertHasLines(specOf(gemma), ['head_dim = 256']);
});

test('Llama attention_bias and mlp_bias add biases', () => {
  assertHasLines(specOf({ ...fixtureConfig('llama-2-7b-hf.json'), attention_bias: true, mlp_bias: true }), [
    'attn = Attention(d, heads, bias: true, rope: true)',
    'mlp = GatedMLP(d, ff, bias: true)',
  ]);
});

test('Phi qk_layernorm adds per-head LayerNorms on q and k', () => {
  assertHasLines(specOf({ ...fixtureConfig('phi-2.json'), qk_layernorm: true }), ['attn = Attention(d, heads, bias: true, qk_norm: layer, rope: true, rope_dim: rope_dim)']);
});

test('ALBERT groups share in sequence; inner groups become a block of inner layers', () => {
  const spec = specOf({ ...fixtureConfig('albert-base-v2.json'), num_hidden_groups: 3, inner_group_num: 2 });
  assertHasLines(spec, [
    'groups = 3',
    'inner_layers = 2',
    'block AlbertGroup {',
    'inner = AlbertLayer * inner_layers',
    'body = AlbertGroup * layers',
    'share body: sequence(groups)',
  ]);
});

test('T5 with a different decoder depth names it', () => {
  const spec = specOf({ ...fixtureConfig('t5-small.json'), num_decoder_layers: 4 });
  assertHasLines(spec, ['decoder_layers = 4', 'decoder = [Decoder(rel: i == 0) for i in decoder_layers]']);
});

test('DeepSeek-V2: q_lora_rank, moe_layer_freq, all-MoE and dense configs', () => {
  const lite = fixtureConfig('deepseek-v2-lite.json');
  assertHasLines(specOf({ ...lite, q_lora_rank: 1536 }), ['q_rank = 1536', 'attn = MLA(d, heads, kv_rank, rope_dim, nope_dim, v_dim, q_rank: q_rank)']);
  assertHasLines(specOf({ ...lite, moe_layer_freq: 2 }), [
    'moe_every = 2',
    'body = [if i >= dense_layers and i % moe_every == 0 then MoEDecoder else Dense for i in layers]',
  ]);
  const allMoe = specOf({ ...lite, first_k_dense_replace: 0 });
  assertHasLines(allMoe, ['body = MoEDecoder * layers']);
  assertLacksLine(allMoe, /^block Dense/);
  const dense = specOf({ ...lite, n_routed_experts: null });
  assertHasLines(dense, ['body = Dense * layers']);
  assertLacksLine(dense, /MoE/);
  assertHasLines(specOf({ ...lite, n_shared_experts: null }), ['moe = MoE(d, expert_ff, experts, top_k, normalize: false)']);
});

test('model names: option, _name_or_path, then model_type; always a valid identifier', () => {
  const cfg = fixtureConfig('llama-2-7b-hf.json');
  const named = (options: { modelName?: string }, config = cfg) => {
    const r = importHfConfig(JSON.stringify(config), options);
    assert.ok(r.ok);
    return r.ok ? r.modelName : '';
  };
  assert.equal(named({ modelName: 'MyLlama' }), 'MyLlama');
  assert.equal(named({ modelName: '7b model!' }), 'M_7b_model');
  assert.equal(named({ modelName: 'model' }), 'model_model');
  assert.equal(named({}), 'Llama_2_7b_hf');
  assert.equal(named({}, fixtureConfig('mixtral-8x7b-v0-1.json')), 'Mixtral');
  assert.equal(named({}, { ...cfg, _name_or_path: '/home/me/ckpts/run-3/' }), 'run_3');
  const r = importHfConfig(JSON.stringify(cfg), { modelName: 'X' });
  assert.ok(r.ok && r.spec.includes('model X {'));
});

test('the header names the source, the class and the defaults that were filled in', () => {
  const r = importHfConfig(fixtureText('gpt2.json'), { sourceName: 'models/gpt2/config.json' });
  assert.ok(r.ok);
  if (!r.ok) return;
  const header = r.spec.split('\n').filter((l) => l.startsWith('#'));
  assert.match(header[0] ?? '', /^# Imported from the Hugging Face config models\/gpt2\/config\.json \(model_type "gpt2"\)\.$/);
  assert.match(header[1] ?? '', /^# Class GPT2LMHeadModel: decoder-only, LM head tied to the token embedding\.$/);
  assert.match(header.join('\n'), /n_inner = 3072 \(4 × n_embd\)/);
  assert.match(header.join('\n'), /tie_word_embeddings = true/);
});

test('readability: every fixture is one model of named constants, one block per structure and repeated stacks', () => {
  for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith('.json'))) {
    const spec = specOfFixture(name);
    const lines = spec.trimEnd().split('\n');
    // The header lists the config's keys, so only the code is held to the length.
    assert.ok(codeLines(spec).length < 50, `${name}: ${codeLines(spec).length} lines of code`);
    assert.equal(lines.filter((l) => /^model \w+ \{$/.test(l)).length, 1, `${name}: one model`);
    assert.ok(lines.filter((l) => /^variant /.test(l)).length <= 1, `${name}: at most one variant`);
    const blocks = lines.filter((l) => /^\s+block \w+/.test(l)).map((l) => l.trim().split(/[\s({]/)[1]);
    // Two layer structures at most, plus DeepSeek-V3's multi-token-prediction module; hybrids
    // (Nemotron-H) have one block per layer kind of their pattern.
    const most = blocks.includes('MTP') || blocks.includes('MambaLayer') ? 3 : 2;
    assert.ok(blocks.length >= 1 && blocks.length <= most, `${name}: ${blocks.length} blocks`);
    assert.equal(new Set(blocks).size, blocks.length, `${name}: block names are distinct`);
    // State-space models have no attention heads.
    const constants = /mixer = Mamba/.test(spec) ? ['vocab', 'd', 'layers'] : ['vocab', 'd', 'layers', 'heads'];
    for (const constant of constants) {
      assert.ok(codeLines(spec).some((l) => l.startsWith(`${constant} = `)), `${name}: constant ${constant}`);
    }
    assert.match(spec, /(\* layers\b|\* \(layers - |for i in (layers|decoder_layers)\]|\) \* \d+ \+)/, `${name}: a repeated stack`);
    // Sizes come from the constants: layer calls carry no literal sizes beyond tiny class counts.
    const calls = codeLines(spec).filter((l) => /^\w+ = .*\w\(/.test(l));
    for (const l of calls) assert.doesNotMatch(l.replace(/^\w+ = /, ''), /\b\d{2,}\b/, `${name}: literal size in "${l}"`);
    assert.ok(spec.endsWith('}\n'));
  }
});

test("DeepSeek routers: V3's sigmoid, correction bias, groups and scale; V2's group_limited_greedy; refusals on the routing keys", () => {
  const v3 = fixtureConfig('deepseek-v3.json');
  // Groups of one write neither groups nor top_groups; norm_topk_prob false writes normalize: false.
  assertHasLines(specOf({ ...v3, n_group: 1, topk_group: 1, norm_topk_prob: false, routed_scaling_factor: 1 }), ['moe = MoE(d, expert_ff, experts, top_k, shared: shared, scoring: sigmoid, selection_bias: true, normalize: false)']);
  // Absent keys take DeepseekV3Config's defaults: 8 groups, 4 kept, normalised, 2.5.
  const { n_group: _g, topk_group: _t, norm_topk_prob: _n, routed_scaling_factor: _s, ...bare } = v3;
  assertHasLines(specOf(bare), ['moe = MoE(d, expert_ff, experts, top_k, shared: shared, scoring: sigmoid, selection_bias: true, groups: 8, top_groups: 4, route_scale: route_scale)', 'route_scale = 2.5']);
  const lite = fixtureConfig('deepseek-v2-lite.json');
  // DeepSeek-V2 (236B)'s router: 8 groups of 20 experts, 3 kept, ×16, never renormalised.
  const v2 = { ...lite, n_routed_experts: 160, topk_method: 'group_limited_greedy', n_group: 8, topk_group: 3, routed_scaling_factor: 16.0, norm_topk_prob: true };
  const spec = specOf(v2);
  assertHasLines(spec, ['moe = MoE(d, expert_ff, experts, top_k, shared: shared, groups: 8, top_groups: 3, group_score: max, normalize: false, route_scale: route_scale)', 'route_scale = 16']);
  // The routing changes no count: the same stored total as with greedy routing.
  const stored = (text: string) => analyze(text).models[0]!.params.stored;
  assert.equal(stored(spec), stored(specOf({ ...v2, topk_method: 'greedy' })));
  // V3's correction bias is n_routed_experts per MoE layer, counted: exactly that over a V3 without it.
  const v3Spec = specOfFixture('deepseek-v3.json');
  const moeLayers = BigInt((v3['num_hidden_layers'] as number) - (v3['first_k_dense_replace'] as number));
  assert.equal(stored(v3Spec) - stored(v3Spec.replace('selection_bias: true, ', '')), moeLayers * BigInt(v3['n_routed_experts'] as number));
  const refused = (config: Record<string, unknown>, key: string, pattern: RegExp) => {
    const r = importHfConfig(JSON.stringify(config));
    assert.equal(r.ok, false, key);
    if (r.ok) return;
    assert.equal(r.key, key, r.message);
    assert.match(r.message, pattern);
  };
  refused({ ...v3, scoring_func: 'softmax' }, 'scoring_func', /scoring_func 'softmax' is not a routing DeepseekV3's model implements \(sigmoid\)/);
  refused({ ...v3, topk_method: 'greedy' }, 'topk_method', /noaux_tc/);
  refused({ ...v3, n_group: 7 }, 'n_group', /n_group \(7\) must divide n_routed_experts \(256\)/);
  refused({ ...v3, topk_group: 9 }, 'topk_group', /must not exceed n_group \(8\)/);
  refused({ ...v3, topk_group: 1, n_group: 128 }, 'topk_group', /hold 2 experts, fewer than num_experts_per_tok \(8\)/);
  refused({ ...v3, n_group: 256, topk_group: 256 }, 'n_group', /two best experts, and n_group \(256\) leaves 1 per group/);
  refused({ ...lite, topk_method: 'group_limited_greedy', n_group: null }, 'n_group', /needs n_group and topk_group/);
  refused({ ...lite, scoring_func: 'sigmoid' }, 'scoring_func', /softmax/);
});

test('norm_topk_prob: Qwen3-MoE, OLMoE and Qwen3-Next renormalise the chosen probabilities only when it is true (their class defaults false, false, true); Mixtral always does', () => {
  const line = (spec: string) => codeLines(spec).find((l) => /^(moe|ffn) = /.test(l)) ?? '';
  const qwen = fixtureConfig('qwen3-30b-a3b.json');
  assert.equal(line(specOf(qwen)), 'moe = MoE(d, expert_ff, experts, top_k)');
  assert.equal(line(specOf({ ...qwen, norm_topk_prob: false })), 'moe = MoE(d, expert_ff, experts, top_k, normalize: false)');
  const { norm_topk_prob: _q, ...qwenBare } = qwen;
  assert.match(line(specOf(qwenBare)), /normalize: false/);
  const olmoe = fixtureConfig('olmoe-1b-7b-0924.json');
  assert.equal(line(specOf({ ...olmoe, norm_topk_prob: true })), 'moe = MoE(d, ff, experts, top_k)');
  const next = fixtureConfig('qwen3-next-80b-a3b-instruct.json');
  assert.match(specOf({ ...next, norm_topk_prob: false }), /shared_expert_gate: true, normalize: false\)/);
  const { norm_topk_prob: _n, ...nextBare } = next;
  assert.doesNotMatch(specOf(nextBare), /normalize/);
  // MixtralSparseMoeBlock always divides by the sum: the key changes nothing there.
  assert.doesNotMatch(specOf({ ...fixtureConfig('mixtral-8x7b-v0-1.json'), norm_topk_prob: false }), /normalize/);
});
