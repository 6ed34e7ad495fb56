// PERFT (examples/perft.npas): PEFT experts routed inside the frozen MoE layers of OLMoE-1B-7B and
// Mixtral-8x7B (Liu et al., arXiv:2411.08212). The paper's tables were not readable here, so the
// published literals checked are the base models' totals (test/fixtures/hf/SOURCES.md); every
// PERFT figure is derived below from the Hugging Face configs and the shapes of the reference
// code's modules (PERFT-MoE olmoe_modification/modeling_olmoe.py: OlmoeBlockLoraExpert is
// lora_A Linear(d, r, bias=False) and lora_B Linear(r, d, bias=False); PERFT-R's router is
// shared_routing_adapter_gate Linear(d, N, bias=False)), independently of the engine. Trainable is
// what commonsense/finetune.py unfreezes (lora_A, lora_B, adapter_w1, adapter_w2,
// shared_routing_adapter_gate), and the ratio is utils.py's print_trainable_parameters: trainable
// over every parameter of the adapted model, to two decimals of a percent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';

const root = join(__dirname, '..', '..', '..');
const text = readFileSync(join(root, 'examples', 'perft.npas'), 'utf8');
const fixture = (name: string) => JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'hf', name), 'utf8')) as Record<string, number | boolean>;

const analysis = analyze(text);
const model = (name: string) => {
  const m = analysis.models.find((x) => x.name === name);
  assert.ok(m, name);
  return m;
};

// allenai/OLMoE-1B-7B-0924 config.json: per layer q, k, v, o [d, d], q_norm and k_norm over the
// full width, two RMSNorms, the router [E, d] and E SwiGLU experts (gate, up, down) of width f,
// top-k of them per token; the embedding, the untied head and the final norm outside.
const olmoe = fixture('olmoe-1b-7b-0924.json');
const oD = BigInt(olmoe.hidden_size as number);
const oL = BigInt(olmoe.num_hidden_layers as number);
const oE = BigInt(olmoe.num_experts as number);
const oK = BigInt(olmoe.num_experts_per_tok as number);
const oExpert = 3n * oD * BigInt(olmoe.intermediate_size as number);
const oLayer = 4n * oD * oD + 2n * oD + 2n * oD + oE * oD + oE * oExpert;
const oOutside = 2n * BigInt(olmoe.vocab_size as number) * oD + oD;
const OLMOE = oL * oLayer + oOutside;
const OLMOE_ACTIVE = OLMOE - oL * (oE - oK) * oExpert;

// mistralai/Mixtral-8x7B-v0.1 config.json: 32 heads of 128 with 8 KV heads, 8 SwiGLU experts of
// 14,336, top-2, untied head.
const mixtral = fixture('mixtral-8x7b-v0-1.json');
const mD = BigInt(mixtral.hidden_size as number);
const mL = BigInt(mixtral.num_hidden_layers as number);
const mE = BigInt(mixtral.num_local_experts as number);
const mK = BigInt(mixtral.num_experts_per_tok as number);
const headDim = mD / BigInt(mixtral.num_attention_heads as number);
const kv = BigInt(mixtral.num_key_value_heads as number) * headDim;
const mExpert = 3n * mD * BigInt(mixtral.intermediate_size as number);
const mLayer = 2n * mD * mD + 2n * mD * kv + 2n * mD + mE * mD + mE * mExpert;
const MIXTRAL = mL * mLayer + 2n * BigInt(mixtral.vocab_size as number) * mD + mD;
const MIXTRAL_ACTIVE = MIXTRAL - mL * (mE - mK) * mExpert;

/** One LoRA-type unit d → r → d: lora_A [r, d] and lora_B [d, r]. */
const unit = (d: bigint, r: bigint) => 2n * d * r;

/** print_trainable_parameters' trainable%: 100·trainable / all, to two decimals. */
const percent = (trainable: bigint, all: bigint): string => {
  const hundredths = (trainable * 10_000n * 2n + all) / (2n * all); // rounded half up
  return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
};

test('the example compiles without a diagnostic', () => {
  assert.deepEqual(analysis.diagnostics.map((d) => `${d.code}: ${d.message}`), []);
});

test('the base models are their published totals', () => {
  assert.equal(OLMOE, 6_919_161_856n);
  assert.equal(MIXTRAL, 46_702_792_704n);
  assert.equal(model('OLMoE').params.stored, OLMOE);
  assert.equal(model('OLMoE').params.active, OLMOE_ACTIVE);
  assert.equal(model('Mixtral8x7B').params.stored, MIXTRAL);
  assert.equal(model('Mixtral8x7B').params.active, MIXTRAL_ACTIVE);
});

// Each configuration: what every layer stores and trains, what a token runs of it, and the
// trainable ratio the reference prints.
const CASES = [
  // PERFT-R, the "16.4-2" run: router [4, d] and 4 units, 2 run per token.
  { name: 'PERFT_R', base: OLMOE, active: OLMOE_ACTIVE, L: oL, stored: 4n * oD + 4n * unit(oD, 16n), run: 4n * oD + 2n * unit(oD, 16n), ratio: '0.06' },
  // PERFT-E, "16.e": one unit inside each of the 64 experts, routed with it by the frozen router (top-8).
  { name: 'PERFT_E', base: OLMOE, active: OLMOE_ACTIVE, L: oL, stored: oE * unit(oD, 16n), run: oK * unit(oD, 16n), ratio: '0.96' },
  // PERFT-D, "16.4": four units always on; PERFT-S, "16.1": one.
  { name: 'PERFT_D', base: OLMOE, active: OLMOE_ACTIVE, L: oL, stored: 4n * unit(oD, 16n), run: 4n * unit(oD, 16n), ratio: '0.06' },
  { name: 'PERFT_S', base: OLMOE, active: OLMOE_ACTIVE, L: oL, stored: unit(oD, 16n), run: unit(oD, 16n), ratio: '0.02' },
  // Mixtral-8x7B.lora_8.8-2.sh: 8 units of rank 8 and their router, top-2.
  { name: 'MixtralPERFT_R', base: MIXTRAL, active: MIXTRAL_ACTIVE, L: mL, stored: 8n * mD + 8n * unit(mD, 8n), run: 8n * mD + 2n * unit(mD, 8n), ratio: '0.04' },
] as const;

for (const c of CASES) {
  test(`${c.name}: stored, trained and active from the configuration, and the trainable ratio`, () => {
    const m = model(c.name);
    assert.equal(m.params.trainable, c.L * c.stored);
    assert.equal(m.params.stored, c.base + c.L * c.stored);
    assert.equal(m.params.active, c.active + c.L * c.run);
    assert.equal(percent(m.params.trainable, m.params.stored), c.ratio);
  });
}

test('the header states the figures the engine reports', () => {
  for (const figure of ['6,919,161,856', '+4,325,376 trained', '+2,228,224', '+67,108,864 trained', '+8,388,608', '+4,194,304 trained', '+1,048,576', '+17,825,792 trained', '+5,242,880', 'R 0.06%, E 0.96%, D 0.06%, S 0.02%, Mixtral R 0.04%']) {
    assert.ok(text.includes(figure), figure);
  }
});

test('PERFT-E at a probe size: the same formulas at d = 64, 8 experts, top-2, 2 layers', () => {
  const m = model('PERFTESmall');
  const d = 64n, L = 2n, E = 8n, K = 2n, f = 32n, vocab = 128n;
  const layer = 4n * d * d + 4n * d + E * d + E * 3n * d * f + E * unit(d, 16n);
  assert.equal(m.params.stored, L * layer + 2n * vocab * d + d);
  assert.equal(m.params.trainable, L * E * unit(d, 16n));
  assert.equal(m.params.active, m.params.stored - L * (E - K) * (3n * d * f + unit(d, 16n)));
});
