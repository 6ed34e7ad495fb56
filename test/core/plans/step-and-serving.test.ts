// The roofline parts of a plan, derived here: one GPU's step is 3× the forward FLOPs at peak
// (4× with full recomputation, which MFU does not credit); micro-batches, bubble and data-
// parallel traffic follow the schedule; serving's largest context and batch come from the KV per
// token and the weights; inconsistent settings are refused with sentences.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICES, evaluatePlan, planServing, searchPlans } from '../../../src/core/index.js';
import { LLAMA2_7B, megatronGpt, plan, settings, source } from './fixtures.js';

const H100 = DEVICES.find((d) => d.name === 'H100')!;
const close = (a: number, b: number, what = ''): void => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)), `${what} ${a} vs ${b}`);

test('one GPU: step = 3 × forward FLOPs / peak; full recomputation adds a forward, MFU counts 3', () => {
  const src = source(LLAMA2_7B, 4096);
  const forward = Number(src.report.flops.prefill);
  const p = plan(src, settings({}, { seq: 4096, microBatch: 2, globalBatch: 8 }));
  assert.equal(p.microBatches, 4);
  close(p.step.seconds, (3 * forward * 8) / H100.peakFlops.bf16, 'step');
  close(p.mfu, 1, 'mfu');
  close(p.tokensPerSecond, (8 * 4096) / p.step.seconds, 'tokens/s');
  const full = plan(src, settings({}, { seq: 4096, microBatch: 2, globalBatch: 8, recompute: 'full' }));
  close(full.step.seconds, (4 * forward * 8) / H100.peakFlops.bf16, 'step');
  close(full.mfu, 3 / 4, 'mfu');
});

test('compute runs in the activations\' dtype: fp8 weights with bf16 activations step at the bf16 peak', () => {
  const src = source(LLAMA2_7B, 4096);
  const forward = Number(src.report.flops.prefill);
  const fp8Weights = plan(src, settings({}, { seq: 4096, microBatch: 2, globalBatch: 8, dtypes: { weights: 'fp8', activations: 'bf16', gradients: 'bf16', master: 'fp32' } }));
  close(fp8Weights.step.compute, (3 * forward * 8) / H100.peakFlops.bf16, 'W8A16 compute');
  const fp8All = plan(src, settings({}, { seq: 4096, microBatch: 2, globalBatch: 8, dtypes: { weights: 'fp8', activations: 'fp8', gradients: 'bf16', master: 'fp32' } }));
  close(fp8All.step.compute, (3 * forward * 8) / H100.peakFlops.fp8!, 'fp8 compute');
});

test('data parallelism: a ring all-reduce of the bf16 gradients, 2(d−1)/d of them, over the intra-node link', () => {
  const src = source(LLAMA2_7B, 4096);
  const p = plan(src, settings({ dp: 8 }, { seq: 4096 }));
  close(p.step.dataParallel, (2 * 7 * 2 * 6_738_415_616) / (8 * 450e9), 'dp');
  // ZeRO-3 adds the weight all-gathers of forward and backward: 1.5× (Rajbhandari et al. 2020 §7).
  close(plan(src, settings({ dp: 8, zero: 3 }, { seq: 4096 })).step.dataParallel, 1.5 * p.step.dataParallel, 'zero-3');
  // Across 16 GPUs the ring leaves the node: the network share per GPU.
  close(plan(src, settings({ dp: 16 }, { seq: 4096 })).step.dataParallel, (2 * 15 * 2 * 6_738_415_616) / (16 * 50e9), 'inter-node');
});

test('pipeline bubble: (p − 1)/v of the slowest stage per micro-batch', () => {
  const src = source(megatronGpt(8, 256, 4, 1000), 64);
  const p = plan(src, settings({ pp: 4 }, { seq: 64, globalBatch: 8 }));
  const perMicroBatch = (p.step.compute + p.step.tensorParallel + p.step.pipelineSends) / 8;
  close(p.step.pipelineBubble, 3 * perMicroBatch, 'bubble');
  const v = plan(src, settings({ pp: 4, vpp: 2 }, { seq: 64, globalBatch: 8 }));
  close(v.step.pipelineBubble, (3 / 2) * ((v.step.compute + v.step.tensorParallel + v.step.pipelineSends) / 8), 'interleaved');
});

test('serving Llama-2-7B on one H100: the largest context and batch from 2·32·4096·2 bytes of KV per token', () => {
  const src = source(LLAMA2_7B, 4096);
  const o = planServing(src.model, src.report, src.kvAt, { device: 'H100', tp: 1, pp: 1, ep: 1, batch: 1, seq: 4096, dtype: 'bf16' });
  assert.ok(o.ok);
  const weights = 2n * 6_738_415_616n;
  const kvPerToken = 2n * 32n * 4096n * 2n;
  assert.equal(o.plan.perGpuBytes.weights, weights);
  assert.equal(BigInt(o.plan.maxContext), (80_000_000_000n - weights) / kvPerToken);
  assert.equal(BigInt(o.plan.maxBatch), (80_000_000_000n - weights) / (kvPerToken * 4096n));
  // Two GPUs in tensor parallel halve both.
  const tp2 = planServing(src.model, src.report, src.kvAt, { device: 'H100', tp: 2, pp: 1, ep: 1, batch: 1, seq: 4096, dtype: 'bf16' });
  assert.ok(tp2.ok);
  assert.equal(BigInt(tp2.plan.maxContext), (80_000_000_000n - weights / 2n) / (kvPerToken / 2n));
  // Decode of one token at context 4096 reads the weights a token uses and the KV cache.
  const readBytes = Number(src.report.latency.decode.bytes);
  close(o.plan.decodeTokensPerSecond, H100.bandwidth / readBytes, 'decode');
});

test('search: only layouts that fit, fastest first, each consistent with the cluster', () => {
  const src = source(LLAMA2_7B, 4096);
  const found = searchPlans(src.model, settings({ dp: 8 }, { seq: 4096, globalBatch: 16 }));
  assert.ok(found.fitting.length > 0 && found.fitting.length < found.evaluated);
  for (let i = 1; i < found.fitting.length; i++) assert.ok(found.fitting[i - 1]!.step.seconds <= found.fitting[i]!.step.seconds);
  for (const p of found.fitting) {
    assert.ok(p.fits && p.perGpuBytes.total <= 80_000_000_000n);
    assert.equal(p.parallel.tp * p.parallel.pp * p.parallel.dp * p.parallel.cp, 8);
  }
});

test('inconsistent settings are refused with what to change', () => {
  const src = source(LLAMA2_7B, 4096);
  const problems = (s: Parameters<typeof settings>): string => {
    const o = evaluatePlan(src.model, settings(...s));
    assert.ok(!o.ok);
    return o.problems.join(' | ');
  };
  assert.match(problems([{ tp: 2 }, { seq: 4096, gpus: 3 }]), /tp × pp × cp × dp = 2 × 1 × 1 × 1 = 2, but the cluster has 3 GPUs/);
  assert.match(problems([{ dp: 2 }, { seq: 4096, globalBatch: 3 }]), /global batch 3 is not a multiple of micro-batch × dp/);
  assert.match(problems([{ pp: 64 }, { seq: 4096 }]), /only 32 stack instances/);
  assert.match(problems([{ ep: 2, dp: 2 }, { seq: 4096 }]), /no experts/);
  assert.match(problems([{ tp: 16 }, { seq: 4096 }]), /spans more than one node/);
  assert.match(problems([{}, { seq: 4096, device: 'TPU' }]), /unknown device 'TPU'/);
  assert.match(problems([{}, { seq: 2048 }]), /analysed at seq 4096/);
});

test('context parallelism: tokens split over cp; 3 × (cp − 1)/cp of the KV passed around the ring per micro-batch', () => {
  const src = source(LLAMA2_7B, 4096);
  const p = plan(src, settings({ cp: 2 }, { seq: 4096 }));
  const kvPerSequence = 2 * 32 * 4096 * 2 * 4096; // bf16 K and V of 32 layers, 4096 tokens
  close(p.step.contextParallel, (3 * (1 / 2) * kvPerSequence) / 450e9, 'cp');
  const one = plan(src, settings({}, { seq: 4096 }));
  assert.equal(p.perGpuBytes.activations * 2n, one.perGpuBytes.activations);
});

test('a model counted per sample (a convolutional network): activations and throughput per image, not per token', () => {
  const text = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'ssn-wrn-28-10.npas'), 'utf8');
  const at = (seq: number, microBatch: number): ReturnType<typeof plan> => plan(source(text, seq), settings({}, { seq, microBatch, globalBatch: microBatch * 2 }));
  assert.equal(at(512, 4).perGpuBytes.activations, at(4096, 4).perGpuBytes.activations);
  assert.equal(at(512, 8).perGpuBytes.activations, 2n * at(512, 4).perGpuBytes.activations);
  const p = at(512, 4);
  close(p.tokensPerSecond, 8 / p.step.seconds, 'samples/s');
});

test("serving a recurrent model: each sequence keeps its recurrent state beside the KV cache", () => {
  const text = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'mamba.npas'), 'utf8');
  const src = source(text, 4096);
  const state = src.report.recurrentStateBytes;
  assert.ok(state > 0n);
  const o = planServing(src.model, src.report, src.kvAt, { device: 'L4', tp: 1, pp: 1, ep: 1, batch: 1, seq: 4096, dtype: 'bf16' });
  assert.ok(o.ok);
  assert.equal(o.plan.perGpuBytes.kv, src.report.kvCacheBytes + state);
  // The largest batch divides the room beside the weights by one sequence's KV and state.
  assert.equal(BigInt(o.plan.maxBatch), (24_000_000_000n - o.plan.perGpuBytes.weights) / (src.report.kvCacheBytes + state));
});

test('efficiency: compute at a fraction of the peak, collectives at a fraction of the links; MFU against the datasheet', () => {
  const src = source(LLAMA2_7B, 4096);
  const forward = Number(src.report.flops.prefill);
  const e = { compute: 0.45, memory: 1, links: 0.8 };
  // One GPU: the step is 3 × forward × B at 0.45 of the bf16 peak, so MFU is the 0.45 itself.
  const one = plan(src, settings({}, { seq: 4096, microBatch: 2, globalBatch: 8, efficiency: e }));
  close(one.step.seconds, (3 * forward * 8) / (0.45 * H100.peakFlops.bf16), 'step');
  close(one.mfu, 0.45, 'mfu');
  // Eight GPUs of data parallelism: the gradients' ring all-reduce at 0.8 × 450 GB/s.
  const dp = plan(src, settings({ dp: 8 }, { seq: 4096, efficiency: e }));
  close(dp.step.dataParallel, (2 * 7 * 2 * 6_738_415_616) / (8 * 0.8 * 450e9), 'dp');
  // A plan's bandwidth override is scaled too: the efficiency is of whatever link is used.
  const overridden = plan(src, settings({ dp: 8 }, { seq: 4096, efficiency: e, intraNodeBandwidth: 100e9 }));
  close(overridden.step.dataParallel, (2 * 7 * 2 * 6_738_415_616) / (8 * 0.8 * 100e9), 'dp override');
  // Out of (0, 1]: refused with the sentence, for training and serving alike.
  const refused = evaluatePlan(src.model, settings({}, { seq: 4096, efficiency: { compute: 1.5, memory: 1, links: 0 } }));
  assert.ok(!refused.ok);
  assert.deepEqual(refused.problems, ['compute efficiency must be a fraction of the peak in (0, 1], got 1.5', 'links efficiency must be a fraction of the peak in (0, 1], got 0']);
});

test('serving efficiency: decode reads at a fraction of the HBM bandwidth, prefill at a fraction of the FLOPs peak', () => {
  const src = source(LLAMA2_7B, 4096);
  const at = (efficiency: { compute: number; memory: number; links: number }) =>
    planServing(src.model, src.report, src.kvAt, { device: 'H100', tp: 1, pp: 1, ep: 1, batch: 1, seq: 4096, dtype: 'bf16', efficiency });
  const o = at({ compute: 0.5, memory: 0.7, links: 1 });
  assert.ok(o.ok);
  // Batch 1 decode is memory-bound: the bytes a token reads at 0.7 of 3.35 TB/s.
  close(o.plan.decodeTokensPerSecond, (0.7 * H100.bandwidth) / Number(src.report.latency.decode.bytes), 'decode');
  // A 4,096-token prefill is compute-bound: its FLOPs at half the peak.
  close(o.plan.prefillTokensPerSecond, 4096 / (Number(src.report.flops.prefill) / (0.5 * H100.peakFlops.bf16)), 'prefill');
  const bad = at({ compute: 1, memory: -0.1, links: 1 });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.problems, ['memory efficiency must be a fraction of the peak in (0, 1], got -0.1']);
});
