// A skewed router load (`MoE(…, hot_experts: h, hot_share: f)`): h experts take the fraction f of
// all selections. Which experts a decode step reads then follows each expert's own probability
// p_i of being in one token's top-k: a batch of B independent tokens misses expert i with
// probability (1 − p_i)^B, so it reads Σ_i (1 − (1 − p_i)^B) experts in expectation. Expected
// values below are derived by hand (p_i from the load, capped at one pick per token) and, for a
// tiny bank, by enumerating every token's choices.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type AnalysisOptions, type ModelReport } from '../../../src/core/index.js';
import { modelMarkdown } from '../../../src/core/service/hover.js';

function model(src: string, options: Partial<AnalysisOptions> = {}): ModelReport {
  const r = analyze(src, options);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  return r.models[0]!;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

// Router 64·16 = 1,024 params; each expert gate/up/down 3·64·32 = 6,144. bf16: 2 bytes each.
const moe = (extra: string) => `model M { moe = MoE(64, 32, experts: 16, top_k: 2${extra}) }`;

test('two hot experts taking half the selections: 2·(1 − (1/2)^B) + 14·(1 − (13/14)^B) experts read', () => {
  // p_hot = k·f/h = 2·(1/2)/2 = 1/2; p_cold = k·(1 − f)/(E − h) = 2·(1/2)/14 = 1/14.
  for (const B of [1n, 2n, 8n, 64n]) {
    const skewed = model(moe(', hot_experts: 2, hot_share: 0.5'), { batch: Number(B) });
    const uniform = model(moe(''), { batch: Number(B) });
    // distinct = [2·(2^B − 1)·14^B + 14·(14^B − 13^B)·2^B] / (2^B·14^B)
    const den = 2n ** B * 14n ** B;
    const distinctNum = 2n * (2n ** B - 1n) * 14n ** B + 14n * (14n ** B - 13n ** B) * 2n ** B;
    // An expected element count is rounded up to whole elements, then taken at 2 bytes each.
    assert.equal(skewed.latency.decode.bytes, 2n * ceilDiv(1_024n * den + 6_144n * distinctNum, den), `B = ${B}`);
    // What a token computes, and what is stored, do not depend on the load.
    assert.deepEqual([skewed.params, skewed.flops.decode, skewed.flops.prefill], [uniform.params, uniform.flops.decode, uniform.flops.prefill]);
    if (B > 1n) assert.ok(skewed.latency.decode.bytes < uniform.latency.decode.bytes, `B = ${B}: a skewed batch reads fewer experts`);
  }
  assert.equal(model(moe(', hot_experts: 2, hot_share: 0.5')).routing[0]!.expectedDistinct, '2', 'one token reads its k experts');
  // B = 8: 2·(255/256) + 14·(1 − (13/14)^8) = 1.9921875 + 6.2616… = 8.2537… (8.253 to 3 places).
  const at8 = model(moe(', hot_experts: 2, hot_share: 0.5'), { batch: 8 });
  assert.deepEqual(at8.routing[0]!.load, { hotExperts: 2, hotShare: '0.5' });
  assert.equal(at8.routing[0]!.expectedDistinct, '8.253…');
  assert.match(modelMarkdown(at8), /experts read per decode step at batch 8: 8\.253… of 16 \(top-2; Σ_i 1 − \(1 − p_i\)\^B, 2 hot experts taking 0\.5 of the selections\)/);
});

test('a load as even as uniform routing reads what uniform routing reads', () => {
  // 4 of 16 experts taking 1/4 of the selections: p = 2·(1/4)/4 = 1/8 = 2·(3/4)/12 for every expert.
  for (const batch of [3, 8, 100]) {
    assert.equal(model(moe(', hot_experts: 4, hot_share: 0.25'), { batch }).latency.decode.bytes, model(moe(''), { batch }).latency.decode.bytes);
  }
});

test('a token picks an expert at most once: an overloaded class is chosen by every token (enumerated)', () => {
  // E = 4, k = 2, one hot expert taking 3/4 of the selections would need p_hot = 2·3/4 = 1.5:
  // every token takes it, and its other pick is one of the 3 cold experts, uniformly. Enumerate
  // the 3^B equally likely cold picks of B tokens and count the distinct experts read.
  const E = 4;
  for (const B of [1, 2, 3, 5]) {
    let sum = 0n;
    const total = 3n ** BigInt(B);
    for (let code = 0; code < 3 ** B; code++) {
      const chosen = new Set<number>([0]);
      for (let t = 0, c = code; t < B; t++, c = Math.floor(c / 3)) chosen.add(1 + (c % 3));
      sum += BigInt(chosen.size);
    }
    // Router 8·4 = 32 params, experts 3·8·16 = 384 each (bf16): 2 bytes × ⌈32 + 384·distinct⌉ elements.
    const r = model(`model M { moe = MoE(8, 16, experts: ${E}, top_k: 2, hot_experts: 1, hot_share: 0.75) }`, { batch: B });
    assert.equal(r.latency.decode.bytes, 2n * ceilDiv(32n * total + 384n * sum, total), `B = ${B}`);
  }
  // The cold class overloaded: E = 4, k = 3, 2 hot experts taking 0.1 would leave p_cold =
  // 3·0.9/2 = 1.35, so both cold experts are read by every token and the hot ones share the
  // third pick, p_hot = (3 − 2)/2 = 1/2: 2 + 2·(1 − (1/2)^B) experts, 3 at B = 1 and 3.5 at B = 2.
  const cold = (batch: number) => model('model M { moe = MoE(8, 16, experts: 4, top_k: 3, hot_experts: 2, hot_share: 0.1) }', { batch }).routing[0]!.expectedDistinct;
  assert.deepEqual([cold(1), cold(2), cold(3)], ['3', '3.5', '3.75']);
});

test('a skewed load that cannot be read is refused at its argument', () => {
  for (const [extra, arg] of [
    [', hot_experts: 2', 'hot_experts'],
    [', hot_share: 0.5', 'hot_share'],
    [', hot_experts: 16, hot_share: 0.5', 'hot_experts'],
    [', hot_experts: 2, hot_share: 1', 'hot_share'],
    [', hot_experts: 2, hot_share: 1.5', 'hot_share'],
  ] as const) {
    const text = moe(extra);
    const errors = analyze(text).diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, extra);
    assert.ok(text.slice(errors[0]!.range.start, errors[0]!.range.end).includes(arg), `${extra}: located at ${arg}`);
  }
});

test('an expert pool under a skewed load: the union over its g layers is Σ_i 1 − (1 − p_i)^(g·B); loads must agree', () => {
  // Six layers, pools of three (sequence(2)); each layer's router has 2 hot experts of 8 taking
  // 3/4 of the selections: p_hot = 2·(3/4)/2 = 3/4, p_cold = 2·(1/4)/6 = 1/12. A pool read by
  // 3 layers at batch B: 2·(1 − (1/4)^(3B)) + 6·(1 − (11/12)^(3B)) experts; two pools.
  const spec = (load2: string) => `
model M {
  d = 64
  block Dec(load = 0.75) { moe = MoE(d, 32, experts: 8, top_k: 2, hot_experts: 2, hot_share: load) }
  body = [Dec, Dec, Dec, Dec, Dec, Dec(load: ${load2})]
  share experts body.moe: sequence(2)
}`;
  for (const B of [1n, 4n]) {
    const p = model(spec('3/4'), { batch: Number(B) }).pools[0]!;
    const n = 3n * B;
    const den = 4n ** n * 12n ** n;
    const touchedNum = 2n * 2n * (4n ** n - 1n) * 12n ** n + 2n * 6n * (12n ** n - 11n ** n) * 4n ** n;
    // 6,144 params per expert (gate, up, down 3·64·32), rounded up once.
    assert.equal(p.touchedParams, ceilDiv(touchedNum * 6_144n, den), `B = ${B}`);
  }
  const mixed = analyze(spec('0.5')).diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(mixed.map((d) => d.code), ['npas-share-experts']);
  assert.match(mixed[0]!.message, /2 hot taking 3\/4 against 8 experts, top-2, 2 hot taking 1\/2/);
});

test('the load survives summing layers: a stack of L loaded layers reads L times one layer\'s experts', () => {
  // Per layer at batch 8: 2·(1 − (1/2)^8) + 14·(1 − (13/14)^8) experts of 6,144 params (router
  // 1,024); three layers with a norm of 64 between them read 3× that, rounded up once.
  const B = 8n;
  const den = 2n ** B * 14n ** B;
  const distinctNum = 2n * (2n ** B - 1n) * 14n ** B + 14n * (14n ** B - 13n ** B) * 2n ** B;
  const stacked = model(`model M {\n  block L { n = RMSNorm(64); moe = MoE(64, 32, experts: 16, top_k: 2, hot_experts: 2, hot_share: 0.5) }\n  body = L * 3\n}`, { batch: 8 });
  assert.equal(stacked.routing[0]!.expectedDistinct, '8.253…');
  assert.equal(stacked.latency.decode.bytes, 2n * ceilDiv(3n * ((1_024n + 64n) * den + 6_144n * distinctNum), den));
});

test('a prefill reads the experts its B·S tokens chose: Σ_i 1 − (1 − p_i)^(B·S) per layer, under a skewed load too', () => {
  // The decode test's bank, prefilled: the B·S tokens of a prefill step choose like B·S decode
  // tokens, and the step reads the router and, of each stored expert matrix, only the chosen ones.
  // p_hot = 1/2, p_cold = 1/14 as above; no attention, so no KV bytes join the weights.
  for (const [batch, seq] of [[1, 1], [1, 3], [2, 3], [4, 4]] as const) {
    const T = BigInt(batch * seq);
    const r = model(moe(', hot_experts: 2, hot_share: 0.5'), { batch, seq });
    const den = 2n ** T * 14n ** T;
    const distinctNum = 2n * (2n ** T - 1n) * 14n ** T + 14n * (14n ** T - 13n ** T) * 2n ** T;
    assert.equal(r.latency.prefill.bytes, 2n * ceilDiv(1_024n * den + 6_144n * distinctNum, den), `B = ${batch}, S = ${seq}`);
    // Uniform routing: p = 2/16 for every expert, 16·(1 − (7/8)^T) read.
    const u = model(moe(''), { batch, seq });
    assert.equal(u.latency.prefill.bytes, 2n * ceilDiv(1_024n * 8n ** T + 6_144n * 16n * (8n ** T - 7n ** T), 8n ** T), `uniform, B = ${batch}, S = ${seq}`);
  }
  // One token reads its top-2; the JSON's routing says so, and the hover.
  const one = model(moe(', hot_experts: 2, hot_share: 0.5'), { batch: 1, seq: 1 });
  assert.equal(one.routing[0]!.prefillTouched, '2');
  // B·S = 8 tokens read what a decode step of batch 8 reads: 8.253… experts.
  const eight = model(moe(', hot_experts: 2, hot_share: 0.5'), { batch: 2, seq: 4 });
  assert.equal(eight.routing[0]!.prefillTouched, '8.253…');
  assert.match(modelMarkdown(eight), /experts read per prefill at batch 2 × 4 tokens: 8\.253… of 16 per layer/);
  // A long prompt reads every expert: the whole stored bank, 2 × (1,024 + 16·6,144) bytes.
  assert.equal(model(moe(', hot_experts: 2, hot_share: 0.5'), { batch: 1, seq: 4096 }).latency.prefill.bytes, 2n * (1_024n + 16n * 6_144n));
});

test('prefill expert reads are in the experts\' dtype, and an expert pool\'s matrices are stored once in it', () => {
  // Experts in fp8 (1 byte), the router in bf16: B·S = 3 tokens, uniform: 16·(1 − (7/8)^3) experts.
  const r = model(moe(''), { batch: 1, seq: 3, precision: { experts: 'fp8' } });
  assert.equal(r.latency.prefill.bytes, 2n * 1_024n + ceilDiv(6_144n * 16n * (8n ** 3n - 7n ** 3n), 8n ** 3n));
  // Four MoE layers pooled into one (`share experts body.moe: all`): stored = 4 routers
  // (4 · 64·16) + one pool of 16 experts (16 · 6,144). With fp8 experts the weights are
  // 2 · 4,096 + 98,304 bytes, the pool's matrices counted once in the experts' dtype.
  const pooled = model(`model M {\n  block L { moe = MoE(64, 32, experts: 16, top_k: 2) }\n  body = L * 4\n  share experts body.moe: all\n}`, { precision: { experts: 'fp8' } });
  assert.equal(pooled.params.stored, 4n * 1_024n + 16n * 6_144n);
  assert.equal(pooled.memory.weightBytes, 2n * 4n * 1_024n + 16n * 6_144n);
});
