// The gallery's examples of the layer kinds issue 14 added (attention sinks, full-width q/k
// norms, the multi-token-prediction module, Mamba and Mamba-2 with their recurrent state, Gated
// DeltaNet, chunked attention with NoPE layers, Gemma 3n's per-layer embeddings, AltUp and LAuReL),
// against the model cards' numbers. Every expected value is derived here from the models'
// configurations, independently of the engine; published literals check the derivations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import type { ModelReport } from '../../../src/core/analysis/report-types.js';

const EXAMPLES = join(process.cwd(), 'examples');

function models(file: string, seq = 8192): Map<string, ModelReport> {
  const result = analyze(readFileSync(join(EXAMPLES, file), 'utf8'), { seq, batch: 1, dtype: 'bf16' });
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], file);
  for (const m of result.models) for (const b of m.budgets) assert.ok(b.ok, `${file}: ${m.name}: ${b.constraint} (${b.value})`);
  return new Map(result.models.map((m) => [m.name, m]));
}

/** q, k, v, o of grouped-query attention, with biases when asked. */
function attention(d: bigint, heads: bigint, kv: bigint, hd: bigint, bias = false): bigint {
  const weights = 2n * d * heads * hd + 2n * d * kv * hd;
  return bias ? weights + heads * hd + 2n * kv * hd + d : weights;
}

test('gpt-oss.npas: 20,914,757,184 stored, 3.61B active without the embedding, sliding layers cap their KV', () => {
  const d = 2880n;
  const expert = 3n * d * 2880n + 2n * 2880n + d; // gate, up, down with biases
  const fixed = attention(d, 64n, 8n, 64n, true) + 64n /* sinks */ + 2n * d + 32n * d + 32n; // norms, router and its bias
  const embedding = 201_088n * d;
  const stored = 2n * embedding + d + 24n * (fixed + 32n * expert);
  const active = 2n * embedding + d + 24n * (fixed + 4n * expert);
  assert.equal(stored, 20_914_757_184n); // model card: 20.91B
  assert.equal(active - embedding, 3_608_307_264n); // model card: 3.61B
  const m = models('gpt-oss.npas').get('GptOss20B')!;
  assert.deepEqual([m.params.stored, m.params.active], [stored, active]);
  // 12 full layers keep 8,192 tokens, 12 sliding layers 128; 2 · 8 · 64 elements per token, bf16.
  assert.equal(m.kvCacheBytes, (12n * 8192n + 12n * 128n) * 2n * 8n * 64n * 2n);
});

test('olmo2-qk-norm.npas: 7,298,617,344 with full-width q/k norms; per-head norms store 253,952 fewer', () => {
  const d = 4096n;
  const layer = attention(d, 32n, 32n, 128n) + 2n * d /* q_norm, k_norm over all heads */ + 2n * d + 3n * d * 11_008n;
  const stored = 2n * 100_352n * d + 32n * layer + d;
  assert.equal(stored, 7_298_617_344n);
  const all = models('olmo2-qk-norm.npas');
  assert.equal(all.get('Olmo2_7B')!.params.stored, stored);
  assert.equal(all.get('Olmo2PerHeadNorms')!.params.stored, stored - 32n * 2n * (d - 128n));
});

test('deepseek-v3-mtp.npas: 671B without the prediction module, 685B with it, 37B active', () => {
  const d = 7168n;
  const mla = d * 1536n + 1536n + 1536n * 128n * 192n + d * 576n + 512n + 512n * 128n * 256n + 128n * 128n * d;
  const expert = 3n * d * 2048n;
  const moeLayer = mla + 2n * d + 256n * d + 256n + expert /* shared */ + 256n * expert;
  const denseLayer = mla + 2n * d + 3n * d * 18_432n;
  const embedding = 129_280n * d;
  const main = 2n * embedding + d + 3n * denseLayer + 58n * moeLayer;
  const mtp = embedding + 2n * d + 2n * d * d + moeLayer + d + embedding;
  const active = main - 58n * 248n * expert;
  assert.equal(main, 671_026_419_200n);
  assert.equal(main + mtp, 684_489_845_504n);
  assert.equal(active, 37_552_297_472n);
  const all = models('deepseek-v3-mtp.npas');
  const base = all.get('DeepSeekV3')!;
  assert.deepEqual([base.params.stored, base.params.active], [main, active]);
  assert.equal(all.get('DeepSeekV3WithMTP')!.params.stored, main + mtp);
  // MLA caches kv_rank + rope_dim = 576 elements per token and layer.
  assert.equal(base.kvCacheBytes, 8192n * 61n * 576n * 2n);
});

test('mamba.npas: published totals, no KV, a recurrent state constant in the length; the hybrid pays KV for its attention layers only', () => {
  const d = 768n;
  const I = 1536n;
  const mixer = d * 2n * I + I * 4n + I + I * (48n + 32n) + 48n * I + I + I * 16n + I + I * d;
  const mamba = 50_280n * d + 24n * (mixer + d) + d;
  assert.equal(mamba, 129_135_360n);
  const d2 = 4096n;
  const I2 = 8192n;
  const conv2 = I2 + 2n * 8n * 128n;
  const mixer2 = d2 * (2n * I2 + 2n * 8n * 128n + 128n) + conv2 * 4n + conv2 + 3n * 128n + I2 + I2 * d2;
  const codestral = 2n * 32_768n * d2 + 64n * (mixer2 + d2) + d2;
  assert.equal(codestral, 7_285_403_648n);
  for (const seq of [8192, 1 << 20]) {
    const all = models('mamba.npas', seq);
    const m = all.get('Mamba130M')!;
    assert.equal(m.params.stored, mamba);
    assert.equal(m.kvCacheBytes, 0n);
    assert.equal(m.recurrentStateBytes, 24n * I * (4n + 16n) * 2n);
    const c = all.get('MambaCodestral7B')!;
    assert.equal(c.params.stored, codestral);
    assert.equal(c.recurrentStateBytes, 64n * (conv2 * 4n + I2 * 128n) * 2n);
    const h = all.get('Hybrid')!;
    // 21 Mamba layers in fp32, 3 attention layers of 4 KV heads of 64.
    assert.equal(h.recurrentStateBytes, 21n * I * 20n * 4n);
    assert.equal(h.kvCacheBytes, 3n * BigInt(seq) * 2n * 4n * 64n * 2n);
  }
});

test('qwen3-next.npas: 79,674,391,296 stored, 3.87B active; KV on the 12 attention layers, a constant state on the 36 Gated DeltaNet layers', () => {
  const d = 2048n;
  // Gated DeltaNet: in_proj_qkvz (2·2048 + 2·4096), in_proj_ba (2·32), conv over 8,192 channels of 4
  // taps, dt_bias and A_log of 32, the gated norm of 128, out_proj.
  const deltaNet = d * 12_288n + d * 64n + 8192n * 4n + 64n + 128n + 4096n * d;
  // Gated attention: q and its gate (2·16·256), k and v (2·256), o, per-head q/k norms.
  const gatedAttention = d * 8192n + 2n * d * 512n + 4096n * d + 2n * 256n;
  const expert = 3n * d * 512n;
  const moeStored = 512n * d + 512n * expert + expert + d; // router, experts, shared expert, its gate
  const moeActive = 512n * d + 10n * expert + expert + d;
  const embedding = 151_936n * d;
  const stored = 2n * embedding + d + 36n * deltaNet + 12n * gatedAttention + 48n * (moeStored + 2n * d);
  const active = 2n * embedding + d + 36n * deltaNet + 12n * gatedAttention + 48n * (moeActive + 2n * d);
  assert.equal(stored, 79_674_391_296n);
  assert.equal(active - 2n * embedding, 3_252_599_552n); // "A3B"
  for (const seq of [8192, 131_072]) {
    const m = models('qwen3-next.npas', seq).get('Qwen3Next80B')!;
    assert.deepEqual([m.params.stored, m.params.active], [stored, active]);
    assert.equal(m.kvCacheBytes, 12n * BigInt(seq) * 2n * 2n * 256n * 2n);
    assert.equal(m.recurrentStateBytes, 36n * (8192n * 4n + 32n * 128n * 128n) * 2n);
  }
});

test('llama4-chunked.npas: Scout 107.8B / 17.2B, Maverick 400.7B / 17.2B; chunked layers cache one chunk, NoPE layers the whole context', () => {
  const d = 5120n;
  const attention4 = attention(d, 40n, 8n, 128n) + 2n * d; // with its two RMSNorms
  const expert = 3n * d * 8192n;
  const routed = (experts: bigint, used: bigint) => attention4 + experts * d /* router */ + used * expert + expert /* shared */;
  const dense = attention4 + 3n * d * 16_384n;
  const outside = 2n * 202_048n * d + d;
  const scout = outside + 48n * routed(16n, 16n);
  const scoutActive = outside + 48n * routed(16n, 1n);
  const maverick = outside + 24n * dense + 24n * routed(128n, 128n);
  const maverickActive = outside + 24n * dense + 24n * routed(128n, 1n);
  assert.equal(scout, 107_769_861_120n); // 109B with the vision encoder
  assert.equal(scoutActive, 17_172_894_720n); // "17B active"
  assert.equal(maverick, 400_711_848_960n); // "400B total"
  assert.equal(maverickActive, 17_184_691_200n); // "17B active"
  const perToken = 2n * 8n * 128n * 2n; // K and V of 8 heads of 128, bf16
  for (const seq of [8192, 131_072, 1 << 20]) {
    const all = models('llama4-chunked.npas', seq);
    const s = all.get('Llama4Scout')!;
    const m = all.get('Llama4Maverick')!;
    assert.deepEqual([s.params.stored, s.params.active], [scout, scoutActive]);
    assert.deepEqual([m.params.stored, m.params.active], [maverick, maverickActive]);
    // 36 chunked layers hold min(S, 8,192) tokens, the 12 NoPE layers S.
    const S = BigInt(seq);
    const kv = (36n * (S < 8192n ? S : 8192n) + 12n * S) * perToken;
    assert.equal(s.kvCacheBytes, kv);
    assert.equal(m.kvCacheBytes, kv);
    if (seq === 131_072) assert.deepEqual([kv, 48n * S * perToken], [7_650_410_496n, 25_769_803_776n]);
  }
});

test('gemma3n-e2b.npas: E2B 4,456,156,768 stored ("4.46B" text-only), E4B 6,866,696,688; shared KV layers cache nothing', () => {
  const d = 2048n;
  // Per layer: attention (q, k, v, o; q_norm and k_norm of 256), AltUp (two d-vectors, router 4·d,
  // coefficients 4·4 + 16·4), LAuReL (2·64·d + d), the per-layer gate (2·256·d + d), four norms.
  const layer = (ff: bigint) => attention(d, 8n, 2n, 256n) + 2n * 256n + (2n * d + 4n * d + 16n + 64n) + (2n * 64n * d + d) + (2n * 256n * d + d) + 4n * d + 3n * d * ff;
  const outside = (layers: bigint) => 262_400n * d + (262_144n * layers * 256n + d * layers * 256n + 256n) + 2n * 3n * d * d + d;
  const e2b = outside(30n) + 30n * layer(8192n);
  const e4b = outside(35n) + 35n * layer(16_384n);
  assert.equal(e2b, 4_456_156_768n); // ollama's text-only E2B: "4.46B"
  assert.equal(e2b - 262_400n * d - 262_144n * 30n * 256n, 1_905_495_648n);
  assert.equal(e4b, 6_866_696_688n);
  const all = models('gemma3n-e2b.npas');
  assert.equal(all.get('Gemma3nE2B')!.params.stored, e2b);
  assert.equal(all.get('Gemma3nE4B')!.params.stored, e4b);
  // The shared layers' k, v and k_norm are stored but not applied.
  assert.equal(all.get('Gemma3nE2B')!.params.effective, e2b + 262_400n * d - 10n * (2n * d * 512n + 256n));
  // Producers are layers 0–19 in both: 16 sliding (512 tokens) and 4 full (8,192), 2·2·256 elements of 2 bytes.
  const kv = (16n * 512n + 4n * 8192n) * 2n * 2n * 256n * 2n;
  assert.equal(kv, 83_886_080n);
  for (const name of ['Gemma3nE2B', 'Gemma3nE4B']) assert.equal(all.get(name)!.kvCacheBytes, kv, name);
  // Before the sharing (every layer its own cache: 24 sliding, 6 full), the same stored count.
  const own = all.get('Gemma3nE2BOwnKV')!;
  assert.deepEqual([own.params.stored, own.kvCacheBytes], [e2b, (24n * 512n + 6n * 8192n) * 2n * 2n * 256n * 2n]);
  assert.equal(own.kvCacheBytes, 125_829_120n);
});
