// Dtypes per tensor class and devices as data, each expected value derived by hand here:
// element sizes from the formats' definitions (OCP MX: 32 FP4 elements share one 8-bit scale →
// 4.25 bits; NVFP4: 16 share one 8-bit scale → 4.5 bits), memory from "weights + gradient +
// master + two Adam moments per trainable weight", and peaks from the vendors' datasheets
// (dense figures: half the "with sparsity" ones).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, findDevice, parseDeviceProfiles, peakFlopsFor, resolvePrecision, type AnalysisOptions, type ModelReport } from '../../../src/core/index.js';

function one(src: string, options: Partial<AnalysisOptions> = {}): ModelReport {
  const r = analyze(src, options);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  return r.models[0]!;
}

// Attention(64, heads: 4): 4 × 64×64 = 16,384 weights; KV 2·4·16 = 128 elements per token.
const ATT = 'model A { att = Attention(64, heads: 4) }';
const W = 16_384n;

test('--dtype is the shorthand for weights, KV and activations; each class can differ', () => {
  const base = one(ATT, { seq: 100 });
  assert.equal(base.memory.weightBytes, W * 2n);
  assert.equal(base.kvCacheBytes, 128n * 100n * 2n);
  // W4A16 with an fp8 cache: weights half a byte, KV one byte, activations still bf16.
  const w4 = one(ATT, { seq: 100, precision: { weights: 'int4', kv: 'fp8' } });
  assert.equal(w4.memory.weightBytes, W / 2n);
  assert.equal(w4.kvCacheBytes, 128n * 100n);
  assert.equal(w4.memory.activationBytes, base.memory.activationBytes);
});

test('microscaled 4-bit formats carry their block scales: mxfp4 4.25 bits, nvfp4 4.5 bits per element', () => {
  // 16,384 elements: mxfp4 = 512 blocks × (32·4 + 8) bits = 69,632 bits = 8,704 bytes;
  // nvfp4 = 1,024 blocks × (16·4 + 8) bits = 73,728 bits = 9,216 bytes.
  assert.equal(one(ATT, { precision: { weights: 'mxfp4' } }).memory.weightBytes, 8_704n);
  assert.equal(one(ATT, { precision: { weights: 'nvfp4' } }).memory.weightBytes, 9_216n);
});

test('training state: gradients, master copy and Adam moments by class, never in a storage-only type', () => {
  const seq = 10;
  const act = one(ATT, { seq }).memory.activationBytes; // bf16 activations
  // bf16 everything: weights 2 + gradient 2 + fp32 master 4 + two fp32 moments 8 = 16 B per weight.
  assert.equal(one(ATT, { seq }).memory.trainingBytes, W * 16n + act);
  // int4 storage (QLoRA-style shorthand): weights ½ B, but gradients fall back to bf16 (2 B),
  // master fp32 (4 B), moments fp32 (8 B); activations are int4 as the shorthand says (½ B).
  const int4 = one(ATT, { seq, dtype: 'int4' });
  assert.equal(int4.memory.trainingBytes, W / 2n + W * (2n + 4n + 8n) + act / 4n);
  // fp32 weights keep no master copy: 4 + 4 + 8.
  const fp32 = one(ATT, { seq, dtype: 'fp32' });
  assert.equal(fp32.memory.trainingBytes, W * 16n + act * 2n);
  // Moments in bf16 and no master: 2 + 2 + 0 + 4.
  const lean = one(ATT, { seq, precision: { master: 'none', optimizer: 'bf16' } });
  assert.equal(lean.memory.trainingBytes, W * 8n + act);
  assert.deepEqual(resolvePrecision({ dtype: 'int4' }), { weights: 'int4', experts: 'int4', kv: 'int4', activations: 'int4', compute: 'int4', gradients: 'bf16', master: 'fp32', optimizer: 'fp32' });
});

test('compute runs in the activations type: a weight-only-quantised model uses the bf16 peak', () => {
  // Prefill at seq 1000: 32,768·1,000 + 256·500,500 = 160,896,000 FLOPs. Prefill bytes: the
  // weights (int4: 8,192 B) and the bf16 KV (256,000 B).
  const m = one(ATT, { seq: 1000, precision: { weights: 'int4' }, device: 'H100' });
  const expected = Math.max(160_896_000 / 989.4e12, (8_192 + 256_000) / 3.35e12);
  assert.ok(Math.abs(m.latency.prefill.seconds - expected) <= 1e-12 * expected);
});

test('a device without a dtype computes it in the next wider one: no INT4 on Hopper, no FP8 on Ampere', () => {
  const h100 = findDevice('H100')!;
  assert.equal(h100.peakFlops.int4, undefined, 'the H100 datasheet lists no INT4 tensor-core rate');
  assert.deepEqual(peakFlopsFor(h100, 'int4'), { flops: 1978.9e12, dtype: 'int8' });
  assert.deepEqual(peakFlopsFor(findDevice('A100')!, 'fp8'), { flops: 312e12, dtype: 'fp16' });
  assert.deepEqual(peakFlopsFor(findDevice('A100')!, 'int4'), { flops: 1248e12, dtype: 'int4' });
  // B200: HGX B200 FP4 144 PF sparse for 8 GPUs → 9 PF dense per GPU; H100 has no FP4 → FP8.
  assert.equal(peakFlopsFor(findDevice('B200')!, 'mxfp4').flops, 144e15 / 8 / 2);
  assert.deepEqual(peakFlopsFor(h100, 'mxfp4'), { flops: 1978.9e12, dtype: 'fp8' });
  // Apple GPUs have no int8 matrix rate: int8 → fp16.
  assert.equal(peakFlopsFor(findDevice('M2Ultra')!, 'int8').dtype, 'fp16');
  // int4 compute on an H100 (W4A4): 160,896,000 FLOPs at the INT8 rate.
  const m = one(ATT, { seq: 1000, dtype: 'int4' });
  assert.equal(m.latency.prefill.bound, 'compute');
  assert.ok(Math.abs(m.latency.prefill.seconds - 160_896_000 / 1978.9e12) < 1e-20);
});

test('the new devices are found by name and alias, each citing a source', () => {
  for (const [name, memory, bandwidth] of [
    ['B200', 180e9, 7.75e12],
    ['H20', 96e9, 4.0e12],
    ['A100-80GB', 80e9, 2.039e12],
    ['L40S', 48e9, 864e9],
    ['MI300X', 192e9, 5.3e12],
    ['M2 Ultra', 192e9, 800e9],
    ['m4max', 128e9, 546e9],
  ] as const) {
    const d = findDevice(name);
    assert.ok(d, name);
    assert.equal(Number(d.memoryBytes), memory, name);
    assert.equal(d.bandwidth, bandwidth, name);
    assert.ok(d.source.length > 10, name);
  }
});

test('user-defined devices: parsed from JSON, used by name, and checked field by field', () => {
  const parsed = parseDeviceProfiles({
    devices: [{ name: 'MyChip', source: 'vendor datasheet', peakFlops: { fp32: 1e12, bf16: 4e12, fp16: 4e12 }, bandwidth: 1e11, memoryBytes: 16e9 }],
  });
  assert.deepEqual(parsed.problems, []);
  // Decode at seq 1000: 288,768 FLOPs over 4e12 = 72.192 ns vs 288,768 bytes over 1e11 = 2.88768 µs.
  const m = one(ATT, { seq: 1000, devices: parsed.devices, device: 'MyChip' });
  assert.equal(m.latency.device, 'MyChip');
  assert.ok(Math.abs(m.latency.decode.seconds - 288_768 / 1e11) < 1e-18);
  const bad = parseDeviceProfiles([{ name: 'X', peakFlops: { bf16: 1, fp99: 2 }, bandwidth: -1, memoryBytes: 1, source: '' }, 'nope']);
  assert.deepEqual(bad.devices, []);
  assert.ok(bad.problems.some((p) => p.includes("unknown dtype 'fp99'")));
  assert.ok(bad.problems.some((p) => p.includes('"bandwidth"')));
  assert.ok(bad.problems.some((p) => p.includes('device 2: not an object')));
  // An unknown device in the settings is reported and the default used, never a crash.
  const r = analyze(ATT, { device: 'NoSuchChip' });
  assert.ok(r.diagnostics.some((d) => d.code === 'npas-eval-range' && d.message.includes('NoSuchChip')));
  assert.equal(r.models[0]!.latency.device, 'H100');
});

test('budgets take one dtype per class: kv_dtype, weights_dtype, master_dtype: none', () => {
  const r = analyze(
    `${ATT}\nbudget A {\n  kv(seq: 100, kv_dtype: fp8) == 12800bytes\n  memory.weights(weights_dtype: mxfp4) == 8704bytes\n  memory.train(seq: 10, master_dtype: none, optimizer_dtype: bf16) <= 1GiB\n  kv(kv_dtype: fp5) <= 1GiB\n}\n`,
  );
  const budgets = r.models[0]!.budgets;
  assert.deepEqual(budgets.map((b) => b.ok), [true, true, true]);
  assert.ok(r.diagnostics.some((d) => d.code === 'npas-budget-metric' && d.message.includes("unknown dtype 'fp5'")));
});

test('experts in their own dtype: GPT-OSS-20B with MXFP4 expert matrices and bf16 elsewhere', () => {
  const src = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'gpt-oss.npas'), 'utf8');
  // Expert matrices per layer: 32 experts × (gate + up 2·2,880·2,880 + down 2,880·2,880) =
  // 32 × 24,883,200 = 796,262,400; × 24 layers = 19,110,297,600. The model card's total is
  // 20,914,757,184 stored, so 1,804,459,584 stay bf16 (attention, norms, embeddings, router,
  // and the experts' biases, which GPT-OSS ships in bf16 beside its MXFP4 matrices).
  const experts = 24n * 32n * 3n * 2880n * 2880n;
  assert.equal(experts, 19_110_297_600n);
  const rest = 20_914_757_184n - experts;
  const mixed = one(src, { precision: { experts: 'mxfp4' } });
  assert.equal(mixed.params.stored, 20_914_757_184n);
  // MXFP4: 4.25 bits per element = 17/32 bytes.
  assert.equal(mixed.memory.weightBytes, rest * 2n + (experts * 17n) / 32n);
  assert.equal(mixed.memory.weightBytes, 13_761_264_768n);
  // A decode step at batch 1 reads 4 experts per layer: 24 × 4 × 24,883,200 = 2,388,787,200
  // expert weights, 2 − 17/32 = 47/32 bytes fewer each than in bf16.
  const bf16 = one(src);
  assert.equal(bf16.latency.decode.bytes - mixed.latency.decode.bytes, (24n * 4n * 3n * 2880n * 2880n * 47n) / 32n);
  // The flag follows the weights by default, and --dtype sets weights and experts together.
  assert.equal(resolvePrecision({ dtype: 'fp8', precision: { weights: 'int4' } }).experts, 'int4');
  assert.equal(one(src, { dtype: 'fp8' }).memory.weightBytes, 20_914_757_184n);
  // In a dense model the class changes nothing.
  assert.equal(one(ATT, { precision: { experts: 'mxfp4' } }).memory.weightBytes, W * 2n);
});

test('budgets take experts_dtype: memory.weights of GPT-OSS-20B in MXFP4 experts', () => {
  const src = `${readFileSync(join(__dirname, '..', '..', '..', 'examples', 'gpt-oss.npas'), 'utf8')}
budget GptOss20B { memory.weights(experts_dtype: mxfp4) == 13761264768bytes }`;
  const m = one(src);
  assert.deepEqual(m.budgets.map((b) => b.ok), [true, true, true]);
});
