// End to end: each fixture config is imported, the spec analysed by the engine, and the
// parameter totals compared with published numbers (model cards, checkpoint tensor counts) or,
// where none is published for that class, with a derivation from Transformers' modeling code
// written out next to the number. Nothing here is fitted: a mismatch means the importer or the
// engine disagrees with Transformers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import { importHfConfig } from '../../../src/core/hf/import-hf.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'hf');

interface Expected {
  readonly fixture: string;
  readonly stored: bigint;
  /** Per-token active parameters, where the check is about MoE routing. */
  readonly active?: bigint;
}

const CASES: readonly Expected[] = [
  // GPT2LMHeadModel, published 124,439,808 (LM head tied, counted once).
  { fixture: 'gpt2.json', stored: 124_439_808n },
  // BertForMaskedLM, published 109,514,298: BertModel without pooler (109,482,240 − 590,592)
  // + transform 768·768+768 + LayerNorm 2·768 + decoder bias 30,522 (decoder weight tied).
  { fixture: 'bert-base-uncased.json', stored: 109_514_298n },
  // BertModel, published 109,482,240: embeddings 30,522·768 + 512·768 + 2·768 + 2·768 = 23,837,184;
  // 12 layers × (4·(768²+768) + 2·768 + 768·3072+3072 + 3072·768+768 + 2·768) = 85,054,464; pooler 590,592.
  { fixture: 'bert-base-uncased-model.json', stored: 109_482_240n },
  // BertForPreTraining, 110,106,428 = the tensor count of the bert-base-uncased checkpoint:
  // BertModel with pooler + the masked-LM head (592,128 + 30,522 bias) + NSP 768·2+2.
  { fixture: 'bert-base-uncased-pretraining.json', stored: 110_106_428n },
  // AlbertModel, published 11,683,584: embeddings 30,000·128 + 512·128 + 2·128 + 2·128 = 3,906,048;
  // mapping 128·768+768 = 99,072; one shared layer 7,087,872; pooler 590,592.
  { fixture: 'albert-base-v2-model.json', stored: 11_683_584n },
  // AlbertForMaskedLM (no pooler): 11,683,584 − 590,592 + dense 768·128+128 + LayerNorm 2·128
  // + decoder bias 30,000 (AlbertMLMHead.bias is decoder.bias; decoder weight tied) = 11,221,680.
  { fixture: 'albert-base-v2.json', stored: 11_221_680n },
  // T5ForConditionalGeneration t5-small, published 60,506,624: shared 32,128·512 = 16,449,536;
  // encoder 6 × (4·512² + 2·512·2048 + 2·512) + rel bias 32·8 + final norm 512 = 18,881,280;
  // decoder 6 × (8·512² + 2·512·2048 + 3·512) + 256 + 512 = 25,175,808; LM head tied.
  { fixture: 't5-small.json', stored: 60_506_624n },
  // T5EncoderModel t5-small: shared 16,449,536 + encoder 18,881,280 = 35,330,816.
  { fixture: 't5-small-encoder.json', stored: 35_330_816n },
  // google/t5-v1_1-base, published 247,577,856: gated-gelu MLP (wi_0, wi_1, wo) and an untied LM
  // head: 2 · 32,128·768 + encoder 12 × (4·768² + 3·768·2048 + 2·768) + 384 + 768
  // + decoder 12 × (8·768² + 3·768·2048 + 3·768) + 384 + 768.
  { fixture: 't5-v1-1-base.json', stored: 247_577_856n },
  // Llama-2-7b-hf, published 6,738,415,616.
  { fixture: 'llama-2-7b-hf.json', stored: 6_738_415_616n },
  // LlamaModel: 6,738,415,616 − lm_head 32,000·4096 = 6,607,343,616.
  { fixture: 'llama-2-7b-model.json', stored: 6_607_343_616n },
  // Mistral-7B-v0.1, published 7,241,732,096.
  { fixture: 'mistral-7b-v0-1.json', stored: 7_241_732_096n },
  // Mixtral-8x7B-v0.1, published 46,702,792,704 stored and 12,879,925,248 active:
  // 32 × (attention 41,943,040 + router 32,768 + 2 of 8 experts 2·176,160,768 + norms 8192)
  // + embeddings and LM head 2·131,072,000 + final norm 4096.
  { fixture: 'mixtral-8x7b-v0-1.json', stored: 46_702_792_704n, active: 12_879_925_248n },
  // Qwen2-0.5B, published 494,032,768 (tied embeddings).
  { fixture: 'qwen2-0-5b.json', stored: 494_032_768n },
  // gemma-2b, published 2,506,172,416 (tied embeddings).
  { fixture: 'gemma-2b.json', stored: 2_506_172_416n },
  // phi-2, published 2,779,683,840 (LM head with bias, untied).
  { fixture: 'phi-2.json', stored: 2_779_683_840n },
  // pythia-160m, published 162,322,944 (embed_out untied).
  { fixture: 'pythia-160m.json', stored: 162_322_944n },
  // DeepSeek-V2-Lite, published 15,706,484,224 stored. Active per the engine's definition
  // (embeddings and LM head in full): 2·209,715,200 + final norm 2048 + dense layer 81,007,104
  // + 26 × (MLA 13,763,072 + norms 4096 + router 64·2048 + 6 routed and 2 shared experts of
  // 3·2048·1408 each) = 2,661,150,208 (DeepSeek's "2.4B activated" leaves out the embeddings).
  { fixture: 'deepseek-v2-lite.json', stored: 15_706_484_224n, active: 2_661_150_208n },
];

for (const expected of CASES) {
  test(`${expected.fixture}: engine totals match`, () => {
    const imported = importHfConfig(readFileSync(join(FIXTURES, expected.fixture), 'utf8'), { sourceName: expected.fixture });
    if (!imported.ok) assert.fail(`refused (${imported.key ?? 'no key'}): ${imported.message}`);
    const result = analyze(imported.spec);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(
      errors.map((d) => `${d.code}: ${d.message}`),
      [],
      `the spec must analyse without errors:\n${imported.spec}`,
    );
    assert.equal(result.models.length, 1);
    const model = result.models[0];
    assert.ok(model !== undefined);
    assert.equal(model.name, imported.modelName);
    assert.equal(model.params.stored, expected.stored, 'params.stored');
    if (expected.active !== undefined) assert.equal(model.params.active, expected.active, 'params.active');
  });
}

test('variations a config can ask for analyse without errors and count as Transformers builds them', () => {
  const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
  const stored = (config: Record<string, unknown>): bigint => {
    const imported = importHfConfig(JSON.stringify(config));
    if (!imported.ok) assert.fail(imported.message);
    const result = analyze(imported.spec);
    assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], imported.spec);
    return result.models[0]?.params.stored ?? -1n;
  };
  // ALBERT with 3 groups of 2 inner layers: 3·2 distinct layers of 7,087,872 replace the single one.
  assert.equal(stored({ ...fixture('albert-base-v2.json'), num_hidden_groups: 3, inner_group_num: 2 }), 11_221_680n + 5n * 7_087_872n);
  // DeepSeek-V2-Lite with moe_layer_freq 2: MoE at layers 2, 4, …, 26 (13), dense at the other 14.
  assert.equal(stored({ ...fixture('deepseek-v2-lite.json'), moe_layer_freq: 2 }), 419_432_448n + 14n * 81_007_104n + 13n * 584_847_872n);
  // With q_lora_rank 1536, q_proj (2048·3072) becomes q_a (2048·1536) + norm 1536 + q_b (1536·3072).
  assert.equal(stored({ ...fixture('deepseek-v2-lite.json'), q_lora_rank: 1536 }), 15_706_484_224n + 27n * (3_145_728n + 1536n + 4_718_592n - 6_291_456n));
  // t5-small with a 4-layer decoder: two decoder layers of 4,195,840 fewer.
  assert.equal(stored({ ...fixture('t5-small.json'), num_decoder_layers: 4 }), 60_506_624n - 2n * 4_195_840n);
  // Phi with qk_layernorm: a LayerNorm of head_dim 80 (weight and bias) on q and k in 32 layers.
  assert.equal(stored({ ...fixture('phi-2.json'), qk_layernorm: true }), 2_779_683_840n + 32n * 4n * 80n);
  // Llama with attention_bias and mlp_bias: 4·4096 + 2·11,008 + 4096 per layer.
  assert.equal(stored({ ...fixture('llama-2-7b-hf.json'), attention_bias: true, mlp_bias: true }), 6_738_415_616n + 32n * 42_496n);
  // Qwen2 windows change the KV cache, not the parameters.
  assert.equal(stored({ ...fixture('qwen2-0-5b.json'), use_sliding_window: true, sliding_window: 4096, max_window_layers: 20 }), 494_032_768n);
});
