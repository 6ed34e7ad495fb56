// FLOPs, KV cache, memory, roofline latency and budgets, derived by hand from docs/layers.md
// (weights, per-token FLOPs, KV elements per token) and docs/language.md ("What the engine
// computes", "Budgets"). A multiply-add is 2 FLOPs; attention adds
// 2·heads·(score_dim + value_dim) FLOPs per attended key.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, DEVICES, type AnalysisOptions, type ModelReport } from '../../../src/core/index.js';

function one(src: string, options: Partial<AnalysisOptions> = {}): ModelReport {
  const r = analyze(src, options);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  assert.equal(r.models.length, 1);
  return r.models[0]!;
}

const tri = (s: bigint): bigint => (s * (s + 1n)) / 2n;
/** Σ_{t=1..S} min(t, W). */
function windowKeys(s: bigint, w: bigint): bigint {
  let sum = 0n;
  for (let t = 1n; t <= s; t++) sum += t < w ? t : w;
  return sum;
}

// Attention(64, heads: 4): head_dim 16; q, k, v, o each 64×64 → 16,384 params, 32,768
// FLOPs per token. Score + value per key: 2·4·(16 + 16) = 256.
interface FlopsCase {
  readonly label: string;
  readonly spec: string;
  readonly options: Partial<AnalysisOptions>;
  readonly params: bigint;
  readonly prefill: bigint;
  readonly decode: bigint;
  readonly kv: bigint;
}

const S = 1000n;
const CASES: readonly FlopsCase[] = [
  {
    label: 'causal MHA: prefill 2·h·(d_h + d_h)·S(S+1)/2, decode 2·h·2d_h·S, KV 2·h·d_h·S·batch·bytes',
    spec: 'model A { att = Attention(64, heads: 4) }',
    options: { seq: 1000, batch: 3 },
    params: 16_384n,
    // prefill and decode are for the whole batch: 3 sequences.
    prefill: 3n * (32_768n * S + 2n * 4n * (16n + 16n) * tri(S)), // 3 × (32,768,000 + 128,128,000)
    decode: 3n * (32_768n + 2n * 4n * 2n * 16n * S), // 3 × 288,768
    kv: 2n * 4n * 16n * S * 3n * 2n, // 768,000 (bf16, batch 3)
  },
  {
    label: 'sliding window W = 100 < S: Σ min(t, W) keys, decode and KV over W tokens',
    spec: 'model W { att = Attention(64, heads: 4, window: 100) }',
    options: { seq: 1000, batch: 1 },
    params: 16_384n,
    prefill: 32_768n * S + 256n * windowKeys(S, 100n), // Σ = 5,050 + 900·100 = 95,050
    decode: 32_768n + 256n * 100n,
    kv: 2n * 4n * 16n * 100n * 2n,
  },
  {
    label: 'window W ≥ S is full attention',
    spec: 'model W { att = Attention(64, heads: 4, window: 5000) }',
    options: { seq: 1000 },
    params: 16_384n,
    prefill: 32_768n * S + 256n * tri(S),
    decode: 32_768n + 256n * S,
    kv: 2n * 4n * 16n * S * 2n,
  },
  {
    // heads 8, kv_heads 2, head_dim 16: q 64·128, k and v 64·32 each, o 128·64 → 20,480.
    // Per key: 2·8·(16 + 16) = 512 (every query head scores every key).
    label: 'GQA: KV = 2·kv_heads·d_h·S·batch·bytes',
    spec: 'model G { att = Attention(64, heads: 8, kv_heads: 2, head_dim: 16) }',
    options: { seq: 1000, batch: 2, dtype: 'fp32' },
    params: 20_480n,
    prefill: 2n * (40_960n * S + 512n * tri(S)), // batch 2
    decode: 2n * (40_960n + 512n * S),
    kv: 2n * 2n * 16n * S * 2n * 4n, // 512,000
  },
  {
    // kv_heads 1: k and v 64·16 each → 8,192 + 2·1,024 + 8,192 = 18,432.
    label: 'MQA: one KV head',
    spec: 'model Q { att = Attention(64, heads: 8, kv_heads: 1, head_dim: 16) }',
    options: { seq: 1000 },
    params: 18_432n,
    prefill: 36_864n * S + 512n * tri(S),
    decode: 36_864n + 512n * S,
    kv: 2n * 16n * S * 2n, // 64,000
  },
  {
    // MLA(d 64, heads 4, kv_rank 32, rope 8, nope 16, v 16): q 4·24·64 = 6,144; kv_a 40·64 =
    // 2,560; kv_a_norm 32; kv_b 4·32·32 = 4,096; o 64·64 = 4,096 → 16,928; matmuls 16,896.
    // Prefill (expanded) per key: 2·4·(24 + 16) = 320. Decode (absorbed: the query scores the
    // 32-element latent and the 8-element rope key, the probabilities weight the latent) per
    // key: 2·4·((32 + 8) + 32) = 576. KV: kv_rank + rope = 40 elements per token.
    label: 'MLA: KV = (kv_rank + rope_dim)·S, decode absorbed',
    spec: 'model L { att = MLA(64, 4, 32, 8, 16, 16) }',
    options: { seq: 1000, dtype: 'int8' },
    params: 16_928n,
    prefill: 2n * 16_896n * S + 320n * tri(S),
    decode: 2n * 16_896n + 576n * S,
    kv: 40n * S * 1n, // int8: 1 byte
  },
  {
    // Bidirectional self-attention, no cross-attention anywhere: every token sees all S.
    label: 'bidirectional encoder-only: S² keys, no KV cache',
    spec: 'model E { att = Attention(64, heads: 4, causal: false) }',
    options: { seq: 1000 },
    params: 16_384n,
    prefill: 32_768n * S + 256n * S * S,
    decode: 32_768n + 256n * S,
    kv: 0n,
  },
  {
    // int4 KV is half a byte per element: 2·4·16·7 = 896 elements → 448 bytes.
    label: 'int4 KV rounds to whole bytes only once',
    spec: 'model A { att = Attention(64, heads: 4) }',
    options: { seq: 7, dtype: 'int4' },
    params: 16_384n,
    prefill: 32_768n * 7n + 256n * tri(7n),
    decode: 32_768n + 256n * 7n,
    kv: 448n,
  },
];

for (const c of CASES) {
  test(`FLOPs/KV: ${c.label}`, () => {
    const m = one(c.spec, c.options);
    assert.deepEqual(
      { params: m.params.stored, prefill: m.flops.prefill, decode: m.flops.decode, kv: m.kvCacheBytes, memKv: m.memory.kvCacheBytes },
      { params: c.params, prefill: c.prefill, decode: c.decode, kv: c.kv, memKv: c.kv },
    );
    const s = BigInt(c.options.seq ?? 4096) * BigInt(c.options.batch ?? 1);
    // prefillPerToken is prefill / (S · batch), exact.
    const whole = c.prefill / s;
    const rest = c.prefill % s;
    if (rest === 0n) assert.equal(m.flops.prefillPerToken, whole.toString());
    else assert.ok(m.flops.prefillPerToken.startsWith(`${whole}.`), m.flops.prefillPerToken);
    assert.equal(m.flops.unit, 'token');
  });
}

test('encoder-decoder: cross-attention KV over the source, encoder not run at decode', () => {
  // d 64; Attention = 16,384, MLP(64, 128, bias: false) = 16,384.
  // Enc = bidirectional attention + MLP (32,768) × 2; Dec = self + cross + MLP (49,152) × 3.
  // S = 100 target tokens, src = 50 source tokens.
  // KV: self 3·128·100 + cross 3·128·50 = 38,400 + 19,200 = 57,600 elements · 2 bytes.
  // Prefill:
  //   encoder weights 2·32,768 per source token per layer: 2·65,536·50 = 6,553,600;
  //   encoder attention: 256 per key, 50·50 keys, 2 layers: 1,280,000;
  //   decoder weights per target token: self 32,768 + cross q, o 16,384 + MLP 32,768 =
  //     81,920 × 3 = 245,760 · 100 = 24,576,000;
  //   cross K/V projections once per source token: 3·16,384·50 = 2,457,600;
  //   decoder self-attention: 3·256·5,050 = 3,878,400; cross: 3·256·100·50 = 3,840,000.
  //   Total 42,585,600.
  // Decode: 245,760 + 3·256·100 + 3·256·50 = 360,960 (no encoder, no cross K/V projections).
  const m = one(`model ED {
  d = 64
  block Enc { att = Attention(d, heads: 4, causal: false); ff = MLP(d, 128, bias: false) }
  block Dec { self = Attention(d, heads: 4); cross = Attention(d, heads: 4, cross: true); ff = MLP(d, 128, bias: false) }
  encoder = Enc * 2
  decoder = Dec * 3
}`, { seq: 100, srcSeq: 50 });
  assert.equal(m.params.stored, 2n * 32_768n + 3n * 49_152n);
  assert.equal(m.kvCacheBytes, 57_600n * 2n);
  assert.equal(m.flops.prefill, 42_585_600n);
  assert.equal(m.flops.decode, 360_960n);
  // A decode step reads the decoder's weights except the cross K/V projections: self-attention
  // 16,384 + cross q, o 8,192 + MLP 16,384 = 40,960 per layer, 3 layers (bf16), plus the KV
  // cache; the encoder's 65,536 and the cross K/V projections' 24,576 are not read.
  assert.equal(m.latency.decode.bytes, 3n * 40_960n * 2n + 57_600n * 2n);
  // The source length defaults to seq: src = 100 → cross KV 3·128·100.
  const same = one(`model ED {
  block Dec { self = Attention(64, heads: 4); cross = Attention(64, heads: 4, cross: true) }
  decoder = Dec * 3
}`, { seq: 100 });
  assert.equal(same.kvCacheBytes, (3n * 128n * 100n + 3n * 128n * 100n) * 2n);
});

test('memory: weights, KV, and training = weights + grads + Adam + activations', () => {
  // Attention(64, heads: 4) saves d + Hq + 2·Hkv + Hq + heads = 64 + 64 + 128 + 64 + 4 = 324
  // activation elements per token. At seq 10, batch 1:
  //   bf16: weights 32,768 + grads 32,768 + 12·16,384 (fp32 master, m, v) + 3,240·2 = 268,624.
  //   fp32: 65,536 + 65,536 + 8·16,384 + 3,240·4 = 275,104.
  const spec = 'model A { att = Attention(64, heads: 4) }';
  const bf = one(spec, { seq: 10 });
  assert.deepEqual(
    { w: bf.memory.weightBytes, kv: bf.memory.kvCacheBytes, inf: bf.memory.inferenceBytes, act: bf.memory.activationBytes, train: bf.memory.trainingBytes },
    { w: 32_768n, kv: 2_560n, inf: 35_328n, act: 6_480n, train: 268_624n },
  );
  const fp = one(spec, { seq: 10, dtype: 'fp32' });
  assert.equal(fp.memory.trainingBytes, 275_104n);
});

test('roofline latency: max(FLOPs / peak, bytes / bandwidth) on the chosen device', () => {
  // seq 1000, batch 1, bf16. Decode: 288,768 FLOPs; reads the 16,384 weights (32,768 bytes)
  // and the KV cache (256,000 bytes) = 288,768 bytes. Prefill: 160,896,000 FLOPs; reads the
  // weights once plus the KV: 288,768 bytes.
  const spec = 'model A { att = Attention(64, heads: 4) }';
  for (const device of ['H100', 'L4']) {
    const d = DEVICES.find((x) => x.name === device)!;
    const m = one(spec, { seq: 1000, device });
    const decode = Math.max(288_768 / d.peakFlops.bf16, 288_768 / d.bandwidth);
    const prefill = Math.max(160_896_000 / d.peakFlops.bf16, 288_768 / d.bandwidth);
    assert.equal(m.latency.device, device);
    assert.ok(Math.abs(m.latency.decode.seconds - decode) <= 1e-12 * decode, `${device} decode ${m.latency.decode.seconds} vs ${decode}`);
    assert.ok(Math.abs(m.latency.prefill.seconds - prefill) <= 1e-12 * prefill, `${device} prefill`);
    assert.equal(m.latency.decode.bound, 'memory');
    assert.equal(m.latency.decode.bytes, 288_768n);
    assert.equal(m.latency.decode.flops, 288_768n);
  }
  // H100: 160,896,000 / 989.4e12 ≈ 163 ns > 288,768 / 3.35e12 ≈ 86 ns → compute-bound prefill.
  assert.equal(one(spec, { seq: 1000 }).latency.prefill.bound, 'compute');
});

// ---------------------------------------------------------------------------------------------
// Budgets: pass/fail, units, settings per constraint.

const BUDGET_MODEL = 'model A { att = Attention(64, heads: 4) }\n';

// [constraint, ok?, measured value as the report states it, derivation]
const BUDGETS: readonly [string, boolean, string, string][] = [
  ['params.stored <= 16384', true, '16384', 'equal meets <='],
  ['params.stored < 16384', false, '16384', 'equal fails <'],
  ['params.stored == 16Ki', true, '16384', '16Ki = 16,384'],
  ['params.effective >= 16K', true, '16384', '16,384 ≥ 16,000'],
  ['params.trainable > 16384', false, '16384', ''],
  // Defaults: seq 100 from the analysis options: 2·4·16·100·2 = 25,600 bytes.
  ['kv <= 25600bytes', true, '25600', 'default settings'],
  ['kv <= 25KB', false, '25600', '25,000 bytes < 25,600'],
  ['kv <= 25KiB', true, '25600', '25,600 = 25 · 1,024'],
  // seq 8K = 8,000: 2·64·8,000·2 = 2,048,000 bytes.
  ['kv(seq: 8K) <= 2MB', false, '2048000', 'K is 10^3'],
  ['kv(seq: 8K) <= 2MiB', true, '2048000', '2,097,152 bytes'],
  ['kv(seq: 8K, batch: 2, dtype: fp32) == 8192000bytes', true, '8192000', '128·8,000·2·4'],
  ['memory.weights(dtype: fp8) == 16KiB', true, '16384', '1 byte per weight'],
  // flops.decode at seq 10: 32,768 + 256·10 = 35,328; prefill per token at seq 10:
  // (327,680 + 256·55)/10 = 34,176.
  ['flops.decode(seq: 10) == 35328', true, '35328', ''],
  ['flops.prefill(seq: 10) == 34176', true, '34176', 'per token'],
  ['flops.prefill_total(seq: 10) == 341760', true, '341760', 'whole prefill'],
  ['flops.train(seq: 10) == 3 * 34176', true, '102528', '3 × forward (no generation)'],
  // L4 decode at seq 1000: (32,768 + 256,000) bytes / 300 GB/s = 0.96256 µs.
  ['latency.decode(seq: 1000, device: L4) < 1us', true, '', 'memory-bound'],
  ['latency.decode(seq: 1000, device: L4) <= 0.9us', false, '', 'memory-bound'],
  ['latency.decode(seq: 1000, device: L4) <= 40ms', true, '', 'ms limit'],
];

test('budgets: each constraint measured at its own settings and compared exactly', () => {
  const src = `${BUDGET_MODEL}budget A {\n${BUDGETS.map(([c]) => `  ${c}`).join('\n')}\n}\n`;
  const r = analyze(src, { seq: 100 });
  const m = r.models[0]!;
  assert.equal(m.budgets.length, BUDGETS.length);
  BUDGETS.forEach(([constraint, ok, value, why], i) => {
    const b = m.budgets[i]!;
    assert.equal(b.constraint, constraint);
    assert.equal(b.ok, ok, `${constraint}: ${why} (measured ${b.value})`);
    if (value) assert.equal(b.value, value, constraint);
    // A violated constraint is an error at the constraint.
    const diag = r.diagnostics.find((d) => d.code === 'npas-budget-violated' && src.slice(d.range.start, d.range.end) === constraint);
    assert.equal(Boolean(diag), !ok, `${constraint}: violation diagnostic`);
    if (diag) assert.equal(diag.severity, 'error');
  });
  assert.deepEqual(r.diagnostics.filter((d) => d.code !== 'npas-budget-violated'), []);
});

// [constraint with its offending text marked, code]
const BUDGET_ERRORS: readonly [string, string][] = [
  ['kv <= ⟦100⟧', 'npas-eval-unit'],
  ['params.stored <= ⟦1GB⟧', 'npas-eval-unit'],
  ['latency.decode <= ⟦40⟧', 'npas-eval-unit'],
  ['latency.decode <= ⟦1KB⟧', 'npas-eval-unit'],
  ['⟦params.nope⟧ <= 3', 'npas-budget-metric'],
  ['⟦flops⟧ <= 3', 'npas-budget-metric'],
  ['kv(⟦bogus: 3⟧) <= 1MB', 'npas-budget-metric'],
  ['kv(dtype: ⟦fp7⟧) <= 1MB', 'npas-budget-metric'],
  ['params.stored(⟦seq: 3⟧) <= 1', 'npas-budget-metric'],
  ['memory.weights(⟦seq: 3⟧) <= 1MB', 'npas-budget-metric'],
  ['latency.decode(device: ⟦TPU⟧) <= 1s', 'npas-budget-metric'],
  ['kv(seq: ⟦0⟧) <= 1MB', 'npas-eval-range'],
  ['kv(seq: ⟦1.5⟧) <= 1MB', 'npas-eval-not-integer'],
  ['params.stored <= ⟦nope⟧', 'npas-name-unknown'],
];

for (const [c, code] of BUDGET_ERRORS) {
  test(`budget error ${code}: ${c}`, () => {
    const start = c.indexOf('⟦');
    const end = c.indexOf('⟧') - 1;
    const clean = c.replace('⟦', '').replace('⟧', '');
    const prefix = `${BUDGET_MODEL}budget A {\n  `;
    const src = `${prefix}${clean}\n}\n`;
    const r = analyze(src);
    const at = prefix.length;
    const hit = r.diagnostics.find((d) => d.code === code && d.range.start <= at + start && d.range.end >= at + end && d.range.end <= at + clean.length);
    assert.ok(hit, `${code} covering '${clean.slice(start, end)}'; got ${r.diagnostics.map((d) => `${d.code} [${src.slice(d.range.start, d.range.end)}]`).join(', ')}`);
    // A constraint that cannot be measured is not reported as a result.
    assert.equal(r.models[0]!.budgets.length, 0);
  });
}

test('budget for an unknown model is an error at its name', () => {
  const src = `${BUDGET_MODEL}budget Nope { params.stored <= 1 }\n`;
  const r = analyze(src);
  const d = r.diagnostics.find((x) => x.code === 'npas-budget-target');
  assert.ok(d);
  assert.equal(src.slice(d.range.start, d.range.end), 'Nope');
});

test('training FLOPs per token: 3 × forward + 6 × generation MACs per step / tokens per step', () => {
  // 2 × (RMSNorm(8) + Attention(8, heads: 2)): forward per token at seq 10 =
  // (2·2·256·10 + 2·(2·2·8)·55)/10 = (10,240 + 3,520)/10 = 1,376.
  // SSN bank (P = 150): 8 matrices × K = 2 × 64 = 1,024 MACs per step → 6,144 FLOPs.
  // batch 1: 3·1,376 + 6,144/10 = 4,742.4; batch 2: + 6,144/20 = 4,435.2.
  const src = `model P {
  block Blk { n = RMSNorm(8); att = Attention(8, heads: 2) }
  body = Blk * 2
}
variant B of P { bank g = body: ssn(params: 150, templates: 8) }
budget B {
  flops.train(seq: 10, batch: 2) == 4435.2
  flops.train(seq: 10) == 4742.4
}`;
  const r = analyze(src, { seq: 10 });
  assert.deepEqual(r.diagnostics, []);
  const [p, b] = r.models;
  assert.equal(p!.flops.prefillPerToken, '1376');
  assert.equal(p!.flops.trainPerToken, '4128');
  assert.equal(b!.flops.generationPerStep, 6144n);
  assert.equal(b!.flops.trainPerToken, '4742.4');
  assert.deepEqual(b!.budgets.map((x) => x.ok), [true, true]);
});
