// ZeRO's model-state memory per GPU (Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward
// Training Trillion Parameter Models", Figure 1 and §5): mixed-precision Adam holds 2Ψ of fp16
// weights, 2Ψ of fp16 gradients and KΨ = 12Ψ of fp32 master weights, momentum and variance.
//   baseline (DP)      (2 + 2 + K)·Ψ             = 120 GB     for Ψ = 7.5B, N_d = 64
//   ZeRO-1 (P_os)      (2 + 2)·Ψ + K·Ψ/N_d       = 31.4 GB
//   ZeRO-2 (P_os+g)    2Ψ + (2 + K)·Ψ/N_d        = 16.6 GB
//   ZeRO-3 (P_os+g+p)  (2 + 2 + K)·Ψ/N_d         = 1.9 GB
// And DeepSpeed's estimate_zero3_model_states_mem_needs (deepspeed/runtime/zero/stage3.py), no
// offload: 4·largest_layer + 18·Ψ/N (fp32 gradients: 2 + 4 + 4 + 8 bytes, all partitioned; the
// gathered layer's fp16 weights and gradients in full).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LLAMA2_7B, plan, settings, source } from './fixtures.js';

const psi = 7_500_000_000n;
const N = 64n;
// Three 50,000 × 50,000 matrices: Ψ = 7.5B exactly, and the largest layer 2.5B.
const big = source('model Wide {\n  body = Linear(50_000, 50_000) * 3\n}\n', 16);

function states(zero: 0 | 1 | 2 | 3): bigint {
  const b = plan(big, settings({ dp: 64, zero }, { seq: 16 })).perGpuBytes;
  return b.weights + b.gradients + b.optimizer;
}

test('the configuration holds Ψ = 7.5B parameters', () => {
  assert.equal(big.report.params.stored, psi);
});

test('ZeRO stages 0–3 reproduce Figure 1: 120, 31.4, 16.6 and 1.9 GB per GPU', () => {
  assert.equal(states(0), 16n * psi);
  assert.equal(states(1), 4n * psi + (12n * psi) / N);
  assert.equal(states(2), 2n * psi + (14n * psi) / N);
  assert.equal(states(3), (16n * psi) / N);
  // The figure's rounded values, in GB (10⁹ bytes).
  assert.deepEqual([0, 1, 2, 3].map((z) => Math.round(Number(states(z as 0 | 1 | 2 | 3)) / 1e8) / 10), [120, 31.4, 16.6, 1.9]);
});

test('ZeRO-3 also holds the largest layer gathered (its weights and gradients, 4 bytes per parameter at 16 bits)', () => {
  const b = plan(big, settings({ dp: 64, zero: 3 }, { seq: 16 })).perGpuBytes;
  assert.equal(b.buffers, 4n * 2_500_000_000n);
  for (const zero of [0, 1, 2] as const) assert.equal(plan(big, settings({ dp: 64, zero }, { seq: 16 })).perGpuBytes.buffers, 0n);
});

test("DeepSpeed's ZeRO-3 estimate for Llama-2-7B on 8 GPUs: 4·largest_layer + 18·Ψ/8", () => {
  const llama = source(LLAMA2_7B, 16);
  const total = llama.report.params.stored;
  assert.equal(total, 6_738_415_616n);
  // The engine's largest layer is the gated MLP, 3·4096·11,008 (DeepSpeed's module walk sees its
  // three projections one by one; the rule is the same, the granularity is the spec's layer).
  const largest = 3n * 4096n * 11_008n;
  const b = plan(llama, settings({ dp: 8, zero: 3 }, { seq: 16, dtypes: { weights: 'bf16', activations: 'bf16', gradients: 'fp32', master: 'fp32' } })).perGpuBytes;
  assert.equal(b.weights + b.gradients + b.optimizer + b.buffers, 4n * largest + (18n * total) / 8n);
});
