// Parameter, FLOP, KV and activation counts of every builtin layer kind, checked against
// published model sizes and hand-derived formulas (each case names its source).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArgValue } from '../../../src/core/layers/layer-kind.js';
import { buildLayer } from './build-layer.js';
import { activeParams, storedParams } from '../../../src/core/layers/weight-specs.js';

/** Builds a layer as the evaluator would: every declared argument present, defaults filled in. */
const build = buildLayer;

interface CostCase {
  readonly name: string;
  readonly kind: string;
  readonly args: Record<string, ArgValue>;
  readonly params: bigint;
  /** Defaults to `params` (no expert banks). */
  readonly active?: bigint;
  readonly flops: bigint;
  /** Cached elements per token; undefined for layers without attention. */
  readonly kv?: number;
  readonly activations: bigint;
}

const CASES: readonly CostCase[] = [
  // Lookup tables: BERT-base vocabulary and positions, T5-base relative buckets.
  { name: 'BERT token embedding', kind: 'Embedding', args: { rows: 30522, width: 768 }, params: 23_440_896n, flops: 0n, activations: 0n },
  { name: 'BERT position table', kind: 'PositionEmbedding', args: { positions: 512, width: 768 }, params: 393_216n, flops: 0n, activations: 0n },
  { name: 'T5 relative bias', kind: 'RelativePositionBias', args: { buckets: 32, heads: 12 }, params: 384n, flops: 0n, activations: 0n },
  // Linear: an untied GPT-2 head and a biased square projection.
  { name: 'Linear no bias', kind: 'Linear', args: { d_in: 768, d_out: 50257 }, params: 38_597_376n, flops: 77_194_752n, activations: 768n },
  { name: 'Linear with bias', kind: 'Linear', args: { d_in: 768, d_out: 768, bias: true }, params: 590_592n, flops: 1_179_648n, activations: 768n },
  // Norms.
  { name: 'LayerNorm', kind: 'LayerNorm', args: { d: 768 }, params: 1536n, flops: 0n, activations: 768n },
  { name: 'LayerNorm without bias', kind: 'LayerNorm', args: { d: 768, bias: false }, params: 768n, flops: 0n, activations: 768n },
  { name: 'LayerNorm not affine', kind: 'LayerNorm', args: { d: 768, affine: false }, params: 0n, flops: 0n, activations: 768n },
  { name: 'RMSNorm', kind: 'RMSNorm', args: { d: 4096 }, params: 4096n, flops: 0n, activations: 4096n },
  { name: 'RMSNorm not affine', kind: 'RMSNorm', args: { d: 4096, affine: false }, params: 0n, flops: 0n, activations: 4096n },
  { name: 'BatchNorm (running stats are buffers)', kind: 'BatchNorm', args: { d: 64 }, params: 128n, flops: 0n, activations: 64n },
  { name: 'BatchNorm not affine', kind: 'BatchNorm', args: { d: 64, affine: false }, params: 0n, flops: 0n, activations: 64n },
  // Convolutions, per sample.
  {
    name: 'WRN-28-10 3×3 conv 160→160 on 32×32',
    kind: 'Conv2d',
    args: { c_in: 160, c_out: 160, kernel: 3, padding: 1, bias: false, size: 32 },
    params: 230_400n,
    flops: 2n * 160n * 9n * 160n * 1024n,
    activations: 160n * 1024n,
  },
  {
    // ResNet-50 stem: 9,408 weights, 118.0M MACs on a 224×224 image (output 112×112).
    name: 'ResNet-50 stem 7×7/2',
    kind: 'Conv2d',
    args: { c_in: 3, c_out: 64, kernel: 7, stride: 2, padding: 3, bias: false, size: 224 },
    params: 9408n,
    flops: 236_027_904n,
    activations: 3n * 224n * 224n,
  },
  {
    name: 'MobileNet depthwise 3×3',
    kind: 'Conv2d',
    args: { c_in: 32, c_out: 32, kernel: 3, padding: 1, groups: 32, bias: false, size: 112 },
    params: 288n,
    flops: 2n * 9n * 32n * 112n * 112n,
    activations: 32n * 112n * 112n,
  },
  {
    // Kernel 3 at dilation 2 spans 5 positions, so a 5×7 input gives a 1×3 output.
    name: 'Conv2d height × width with dilation',
    kind: 'Conv2d',
    args: { c_in: 4, c_out: 8, kernel: 3, dilation: 2, height: 5, width: 7 },
    params: 8n * 4n * 9n + 8n,
    flops: 2n * 4n * 9n * 8n * 3n,
    activations: 4n * 35n,
  },
  {
    // Whisper's first audio conv over 3000 mel frames.
    name: 'Whisper conv1',
    kind: 'Conv1d',
    args: { c_in: 80, c_out: 384, kernel: 3, padding: 1, length: 3000 },
    params: 92_544n,
    flops: 2n * 80n * 3n * 384n * 3000n,
    activations: 80n * 3000n,
  },
  {
    // Whisper's second conv halves the frames: floor((3000 + 2 − 2 − 1)/2) + 1 = 1500 outputs.
    name: 'Whisper conv2 (stride 2)',
    kind: 'Conv1d',
    args: { c_in: 384, c_out: 384, kernel: 3, stride: 2, padding: 1, length: 3000 },
    params: 384n * 384n * 3n + 384n,
    flops: 2n * 384n * 3n * 384n * 1500n,
    activations: 384n * 3000n,
  },
  // Attention.
  {
    // GPT-2 small: c_attn (768→2304 + bias) and c_proj (768→768 + bias).
    name: 'GPT-2 attention with biases',
    kind: 'Attention',
    args: { d: 768, heads: 12, bias: true },
    params: 2_362_368n,
    flops: 8n * 768n * 768n,
    kv: 1536,
    activations: 768n + 2n * 768n + 12n + 2n * 768n,
  },
  {
    name: 'Llama-2-7B attention',
    kind: 'Attention',
    args: { d: 4096, heads: 32 },
    params: 67_108_864n,
    flops: 134_217_728n,
    kv: 8192,
    activations: 4096n + 2n * 4096n + 32n + 2n * 4096n,
  },
  {
    name: 'Mixtral/Mistral GQA attention (8 KV heads)',
    kind: 'Attention',
    args: { d: 4096, heads: 32, kv_heads: 8 },
    params: 41_943_040n,
    flops: 83_886_080n,
    kv: 2048,
    activations: 4096n + 2n * 4096n + 32n + 2n * 1024n,
  },
  {
    name: 'Gemma-2B MQA attention, head_dim 256',
    kind: 'Attention',
    args: { d: 2048, heads: 8, kv_heads: 1, head_dim: 256 },
    params: 9_437_184n,
    flops: 2n * 9_437_184n,
    kv: 512,
    activations: 2048n + 2n * 2048n + 8n + 2n * 256n,
  },
  {
    // Qwen2-7B: biases on q, k and v only.
    name: 'Qwen2-7B attention, qkv biases',
    kind: 'Attention',
    args: { d: 3584, heads: 28, kv_heads: 4, bias: true, o_bias: false },
    params: 29_364_736n,
    flops: 2n * (29_364_736n - 3584n - 1024n),
    kv: 1024,
    activations: 3584n + 2n * 3584n + 28n + 2n * 512n,
  },
  {
    // Qwen3-8B: per-head RMSNorm of head_dim on q and k.
    name: 'Qwen3-8B attention, rms qk_norm',
    kind: 'Attention',
    args: { d: 4096, heads: 32, kv_heads: 8, head_dim: 128, qk_norm: 'rms' },
    params: 41_943_040n + 256n,
    flops: 83_886_080n,
    kv: 2048,
    activations: 4096n + 2n * 4096n + 32n + 2n * 1024n + 4096n + 1024n,
  },
  {
    // OLMo-2-7B: q_norm RMSNorm(heads·head_dim) and k_norm RMSNorm(kv_heads·head_dim).
    name: 'OLMo-2 attention, full-width rms qk_norm',
    kind: 'Attention',
    args: { d: 4096, heads: 32, qk_norm: 'rms', qk_norm_width: 'full' },
    params: 4n * 4096n * 4096n + 4096n + 4096n,
    flops: 8n * 4096n * 4096n,
    kv: 8192,
    activations: 4096n + 2n * 4096n + 32n + 2n * 4096n + 4096n + 4096n,
  },
  {
    // GPT-OSS-20B: biased q/k/v/o and one sink logit per query head (no FLOPs, no KV).
    name: 'GPT-OSS attention with sinks',
    kind: 'Attention',
    args: { d: 2880, heads: 64, kv_heads: 8, head_dim: 64, bias: true, sinks: true },
    params: 2n * 2880n * 4096n + 2n * 2880n * 512n + 4096n + 2n * 512n + 2880n + 64n,
    flops: 2n * 2n * 2880n * 4096n + 2n * 2n * 2880n * 512n,
    kv: 1024,
    activations: 2880n + 2n * 4096n + 64n + 2n * 512n,
  },
  {
    name: 'layer qk_norm adds shifts',
    kind: 'Attention',
    args: { d: 64, heads: 4, qk_norm: 'layer' },
    params: 4n * 64n * 64n + 4n * 16n,
    flops: 8n * 64n * 64n,
    kv: 128,
    activations: 64n + 128n + 4n + 128n + 64n + 64n,
  },
  {
    // Cross-attention from a 768-wide encoder: k and v are charged per source token.
    name: 'cross-attention with kv_dim',
    kind: 'Attention',
    args: { d: 512, heads: 8, cross: true, kv_dim: 768 },
    params: 2n * 512n * 512n + 2n * 768n * 512n,
    flops: 4n * 512n * 512n,
    kv: 1024,
    activations: 512n + 2n * 512n + 8n,
  },
  {
    // DeepSeek-V2-Lite: q 2048·3072 + kv_a 2048·576 + kv_a_norm 512 + kv_b 512·4096 + o 2048·2048.
    name: 'DeepSeek-V2-Lite MLA',
    kind: 'MLA',
    args: { d: 2048, heads: 16, kv_rank: 512, rope_dim: 64, nope_dim: 128, v_dim: 128 },
    params: 13_763_072n,
    flops: 2n * (13_763_072n - 512n),
    kv: 576,
    activations: 2048n + 3072n + 576n + 512n + 16n * 320n + 16n * 128n + 16n,
  },
  {
    // DeepSeek-V2: q_a 5120·1536 + q_a_norm 1536 + q_b 1536·24576 + kv_a 5120·576 + 512
    // + kv_b 512·32768 + o 16384·5120.
    name: 'DeepSeek-V2 MLA with q_rank',
    kind: 'MLA',
    args: { d: 5120, heads: 128, kv_rank: 512, rope_dim: 64, nope_dim: 128, v_dim: 128, q_rank: 1536 },
    params: 149_227_520n,
    flops: 2n * (149_227_520n - 1536n - 512n),
    kv: 576,
    activations: 5120n + 2n * 1536n + 128n * 192n + 576n + 512n + 128n * 320n + 128n * 128n + 128n,
  },
  {
    // attention_bias adds q_a (1536), kv_a (576) and o (5120) biases, none on q_b or kv_b.
    name: 'MLA attention_bias',
    kind: 'MLA',
    args: { d: 5120, heads: 128, kv_rank: 512, rope_dim: 64, nope_dim: 128, v_dim: 128, q_rank: 1536, bias: true },
    params: 149_227_520n + 1536n + 576n + 5120n,
    flops: 2n * (149_227_520n - 1536n - 512n),
    kv: 576,
    activations: 5120n + 2n * 1536n + 128n * 192n + 576n + 512n + 128n * 320n + 128n * 128n + 128n,
  },
  // Feed-forward.
  {
    name: 'GPT-2 MLP',
    kind: 'MLP',
    args: { d: 768, hidden: 3072 },
    params: 4_722_432n,
    flops: 4n * 768n * 3072n,
    activations: 768n + 2n * 3072n,
  },
  {
    name: 'MLP with d_out, no bias',
    kind: 'MLP',
    args: { d: 1024, hidden: 4096, d_out: 512, bias: false, act: 'relu' },
    params: 1024n * 4096n + 4096n * 512n,
    flops: 2n * (1024n * 4096n + 4096n * 512n),
    activations: 1024n + 2n * 4096n,
  },
  {
    // Mamba-130M's mixer: inner I = 1,536, N = 16, K = 4, R = ceil(768 / 16) = 48.
    name: 'Mamba-130M mixer',
    kind: 'Mamba',
    args: { d: 768 },
    params: 768n * 3072n + (1536n * 4n + 1536n) + 1536n * 80n + (48n * 1536n + 1536n) + 1536n * 16n + 1536n + 1536n * 768n,
    // in_proj, conv, x_proj, dt_proj, the scan's state update and readout, out_proj.
    flops: 2n * 768n * 3072n + 2n * 1536n * 4n + 2n * 1536n * 80n + 2n * 48n * 1536n + 4n * 1536n * 16n + 2n * 1536n * 768n,
    activations: 768n + 2n * 1536n + 1536n + 80n + 1536n + 1536n,
  },
  {
    // Mamba-Codestral-7B's mixer: I = 8,192, H = 128, G = 8, N = 128, conv width 8,192 + 2,048.
    name: 'Mamba-Codestral mixer',
    kind: 'Mamba2',
    args: { d: 4096, head_dim: 64, state: 128, groups: 8 },
    params: 4096n * (16_384n + 2048n + 128n) + (10_240n * 4n + 10_240n) + 3n * 128n + 8192n + 8192n * 4096n,
    flops: 2n * 4096n * 18_560n + 2n * 10_240n * 4n + 4n * 8192n * 128n + 2n * 8192n * 4096n,
    activations: 4096n + 18_560n + 10_240n + 8192n + 8192n,
  },
  {
    // Qwen3-Next-80B-A3B's linear layer (Qwen3NextGatedDeltaNet): 16 key heads and 32 value
    // heads of 128, so Kw = 2048, Vw = 4096; in_proj_qkvz 2048 → 2·2048 + 2·4096 = 12,288,
    // in_proj_ba 2048 → 64, a bias-free conv over 2·2048 + 4096 = 8,192 channels of 4 taps,
    // dt_bias and A_log of 32, the gated norm of 128, out_proj 4096 → 2048.
    name: 'Qwen3-Next Gated DeltaNet',
    kind: 'GatedDeltaNet',
    args: { d: 2048 },
    params: 2048n * 12_288n + 2048n * 64n + 8192n * 4n + 2n * 32n + 128n + 4096n * 2048n,
    // Projections, the convolution, and per value head 7 FLOPs per element of its 128 × 128 state
    // (decay, retrieval, write, readout).
    flops: 2n * 2048n * 12_288n + 2n * 2048n * 64n + 2n * 8192n * 4n + 7n * 32n * 128n * 128n + 2n * 4096n * 2048n,
    activations: 2048n + 12_288n + 64n + 8192n + 4096n + 4096n,
  },
  {
    // Qwen3-Next's gated attention: q_proj 2048 → 2·16·256 (query and gate), k and v 2048 → 2·256,
    // o 4096 → 2048, per-head q/k RMSNorms of 256.
    name: 'Qwen3-Next gated attention',
    kind: 'Attention',
    args: { d: 2048, heads: 16, kv_heads: 2, head_dim: 256, qk_norm: 'rms', gate: true },
    params: 2048n * 8192n + 2n * 2048n * 512n + 4096n * 2048n + 2n * 256n,
    flops: 2n * (2048n * 8192n + 2n * 2048n * 512n + 4096n * 2048n),
    kv: 2 * 512,
    // d, q and the attention output, the gate, the softmax statistics, k and v, the normalised q and k.
    activations: 2048n + 2n * 4096n + 4096n + 16n + 1024n + 4096n + 512n,
  },
  {
    // Nemotron-3-Nano's mixer: inner = 64 heads · 64 = 4096 at d = 2688 (not a multiple), G = 8, N = 128.
    name: 'Nemotron-3-Nano Mamba-2 mixer (inner width given)',
    kind: 'Mamba2',
    args: { d: 2688, head_dim: 64, state: 128, groups: 8, inner: 4096 },
    params: 2688n * (8192n + 2048n + 64n) + (6144n * 4n + 6144n) + 3n * 64n + 4096n + 4096n * 2688n,
    flops: 2n * 2688n * 10_304n + 2n * 6144n * 4n + 4n * 4096n * 128n + 2n * 4096n * 2688n,
    activations: 2688n + 10_304n + 6144n + 4096n + 4096n,
  },
  {
    name: 'Llama-2-7B GatedMLP',
    kind: 'GatedMLP',
    args: { d: 4096, hidden: 11008 },
    params: 135_266_304n,
    flops: 270_532_608n,
    activations: 4096n + 3n * 11008n,
  },
  {
    name: 'Gemma-2B GeGLU',
    kind: 'GatedMLP',
    args: { d: 2048, hidden: 16384, act: 'gelu' },
    params: 100_663_296n,
    flops: 201_326_592n,
    activations: 2048n + 3n * 16384n,
  },
  {
    name: 'GatedMLP with biases',
    kind: 'GatedMLP',
    args: { d: 8, hidden: 32, bias: true },
    params: 3n * 8n * 32n + 32n + 32n + 8n,
    flops: 6n * 8n * 32n,
    activations: 8n + 96n,
  },
  // Mixture of experts.
  {
    // Mixtral-8x7B: 8 experts of 3·4096·14336 plus a 8×4096 router.
    name: 'Mixtral MoE',
    kind: 'MoE',
    args: { d: 4096, hidden: 14336, experts: 8, top_k: 2 },
    params: 1_409_318_912n,
    active: 32_768n + 2n * 176_160_768n,
    flops: 2n * (32_768n + 2n * 176_160_768n),
    activations: 4096n + 8n + 2n * 3n * 14336n,
  },
  {
    // DeepSeek-V2-Lite: 64 routed experts (top 6) and 2 shared, all of hidden 1408.
    name: 'DeepSeek-V2-Lite MoE with shared experts',
    kind: 'MoE',
    args: { d: 2048, hidden: 1408, experts: 64, top_k: 6, shared: 2 },
    params: 131_072n + 66n * 8_650_752n,
    active: 131_072n + 8n * 8_650_752n,
    flops: 2n * (131_072n + 8n * 8_650_752n),
    activations: 2048n + 64n + 6n * 3n * 1408n + 2n * 3n * 1408n,
  },
  {
    // Qwen1.5-MoE-A2.7B: 60 experts of 1408 (top 4) and one shared expert of 5632.
    name: 'Qwen-MoE with shared_hidden',
    kind: 'MoE',
    args: { d: 2048, hidden: 1408, experts: 60, top_k: 4, shared: 1, shared_hidden: 5632 },
    params: 122_880n + 60n * 8_650_752n + 34_603_008n,
    active: 122_880n + 4n * 8_650_752n + 34_603_008n,
    flops: 2n * (122_880n + 4n * 8_650_752n + 34_603_008n),
    activations: 2048n + 60n + 4n * 3n * 1408n + 3n * 5632n,
  },
  {
    // Qwen3-Next-80B-A3B: 512 experts of 512 (top 10) and one shared expert of 512 behind a
    // sigmoid gate Linear(2048, 1).
    name: 'Qwen3-Next MoE with a gated shared expert',
    kind: 'MoE',
    args: { d: 2048, hidden: 512, experts: 512, top_k: 10, shared: 1, shared_hidden: 512, shared_expert_gate: true },
    params: 2048n * 512n + 512n * 3n * 2048n * 512n + 3n * 2048n * 512n + 2048n,
    active: 2048n * 512n + 10n * 3n * 2048n * 512n + 3n * 2048n * 512n + 2048n,
    flops: 2n * (2048n * 512n + 10n * 3n * 2048n * 512n + 3n * 2048n * 512n + 2048n),
    activations: 2048n + 512n + 10n * 3n * 512n + 3n * 512n + 1n,
  },
  {
    // Nemotron-3 Super-style latent experts (synthetic sizes): router at d = 64, experts of 32 over a
    // latent of 16 behind fc1 (64 → 16) and fc2 (16 → 64), ungated; one shared MLP of 48 at d.
    name: 'MoE with latent experts',
    kind: 'MoE',
    args: { d: 64, hidden: 32, experts: 8, top_k: 2, shared: 1, shared_hidden: 48, gated: false, latent: 16 },
    params: 64n * 8n + 2n * 64n * 16n + 8n * 2n * 16n * 32n + 2n * 64n * 48n,
    active: 64n * 8n + 2n * 64n * 16n + 2n * 2n * 16n * 32n + 2n * 64n * 48n,
    flops: 2n * (64n * 8n + 2n * 64n * 16n + 2n * 2n * 16n * 32n + 2n * 64n * 48n),
    activations: 64n + 8n + 2n * 2n * 32n + 2n * 16n + 2n * 48n,
  },
  {
    // Switch-style: ungated GPT-2 MLP experts with biases, top-1, router bias.
    name: 'ungated MoE with biases',
    kind: 'MoE',
    args: { d: 768, hidden: 3072, experts: 8, top_k: 1, gated: false, bias: true, router_bias: true },
    params: 6144n + 8n + 8n * 4_722_432n,
    active: 6144n + 8n + 4_722_432n,
    flops: 2n * 6144n + 4n * 768n * 3072n,
    activations: 768n + 8n + 2n * 3072n,
  },
  // Parameter-free layers.
  { name: 'Activation', kind: 'Activation', args: { kind: 'softmax' }, params: 0n, flops: 0n, activations: 0n },
  { name: 'Dropout', kind: 'Dropout', args: { p: { num: 1, den: 10 } }, params: 0n, flops: 0n, activations: 0n },
  { name: 'Identity', kind: 'Identity', args: {}, params: 0n, flops: 0n, activations: 0n },
  { name: 'Pool', kind: 'Pool', args: { kind: 'max', kernel: 3, stride: 2 }, params: 0n, flops: 0n, activations: 0n },
  { name: 'GlobalPool', kind: 'GlobalPool', args: {}, params: 0n, flops: 0n, activations: 0n },
  { name: 'Flatten', kind: 'Flatten', args: {}, params: 0n, flops: 0n, activations: 0n },
];

for (const c of CASES) {
  test(`${c.kind}: ${c.name}`, () => {
    const cost = build(c.kind, c.args);
    assert.equal(storedParams(cost), c.params, 'stored parameters');
    assert.equal(activeParams(cost), c.active ?? c.params, 'active parameters');
    assert.equal(cost.flopsPerToken, c.flops, 'FLOPs per token');
    assert.equal(cost.attention?.kvElementsPerToken, c.kv, 'KV elements per token');
    assert.equal(cost.activationElementsPerToken, c.activations, 'saved activations');
    assert.equal(cost.perSample, c.kind === 'Conv1d' || c.kind === 'Conv2d', 'perSample');
  });
}

test('every builtin layer kind has at least one cost case', () => {
  const covered = new Set(CASES.map((c) => c.kind));
  const kinds = [
    'Embedding', 'PositionEmbedding', 'RelativePositionBias', 'Linear', 'Conv1d', 'Conv2d', 'LayerNorm',
    'RMSNorm', 'BatchNorm', 'Attention', 'MLA', 'MLP', 'GatedMLP', 'MoE', 'Mamba', 'Mamba2', 'GatedDeltaNet', 'Activation', 'Dropout',
    'Identity', 'Pool', 'GlobalPool', 'Flatten',
  ];
  assert.deepEqual(kinds.filter((k) => !covered.has(k)), []);
});

test('GatedDeltaNet keeps a recurrent state of the conv inputs and one k_head_dim × v_head_dim matrix per value head, in its own dtype when given', () => {
  // Qwen3-Next: conv over 2·16·128 + 32·128 = 8,192 channels of 4 taps, 32 matrices of 128 × 128.
  const cost = build('GatedDeltaNet', { d: 2048 });
  assert.deepEqual(cost.recurrentState, { elements: 8192n * 4n + 32n * 128n * 128n, bits: undefined });
  assert.equal(cost.attention, undefined);
  assert.deepEqual(build('GatedDeltaNet', { d: 64, k_heads: 2, v_heads: 4, k_head_dim: 8, v_head_dim: 16, conv: 3, state_dtype: 'fp32' }).recurrentState, {
    elements: (2n * 16n + 64n) * 3n + 4n * 8n * 16n,
    bits: 32,
  });
});

test('GPT-2 small block with biases is 7,087,872 parameters', () => {
  const block = [
    build('LayerNorm', { d: 768 }),
    build('Attention', { d: 768, heads: 12, bias: true }),
    build('LayerNorm', { d: 768 }),
    build('MLP', { d: 768, hidden: 3072 }),
  ];
  assert.equal(block.reduce((sum, cost) => sum + storedParams(cost), 0n), 7_087_872n);
});

test('Llama-2-7B totals 6,738,415,616 parameters', () => {
  const layer =
    storedParams(build('RMSNorm', { d: 4096 })) * 2n +
    storedParams(build('Attention', { d: 4096, heads: 32 })) +
    storedParams(build('GatedMLP', { d: 4096, hidden: 11008 }));
  const total =
    storedParams(build('Embedding', { rows: 32000, width: 4096 })) +
    32n * layer +
    storedParams(build('RMSNorm', { d: 4096 })) +
    storedParams(build('Linear', { d_in: 4096, d_out: 32000 }));
  assert.equal(total, 6_738_415_616n);
});

test('Mixtral-8x7B totals 46,702,792,704 parameters', () => {
  const layer =
    storedParams(build('RMSNorm', { d: 4096 })) * 2n +
    storedParams(build('Attention', { d: 4096, heads: 32, kv_heads: 8 })) +
    storedParams(build('MoE', { d: 4096, hidden: 14336, experts: 8, top_k: 2 }));
  const total =
    storedParams(build('Embedding', { rows: 32000, width: 4096 })) +
    32n * layer +
    storedParams(build('RMSNorm', { d: 4096 })) +
    storedParams(build('Linear', { d_in: 4096, d_out: 32000 }));
  assert.equal(total, 46_702_792_704n);
});

test('Gemma-2B decoder layer is 110,104,576 parameters', () => {
  const layer =
    storedParams(build('RMSNorm', { d: 2048 })) * 2n +
    storedParams(build('Attention', { d: 2048, heads: 8, kv_heads: 1, head_dim: 256 })) +
    storedParams(build('GatedMLP', { d: 2048, hidden: 16384, act: 'gelu' }));
  assert.equal(layer, 110_104_576n);
});

test('a full FLOP count is twice the active matmul parameters for dense transformer layers', () => {
  for (const cost of [
    build('Attention', { d: 4096, heads: 32, kv_heads: 8 }),
    build('GatedMLP', { d: 4096, hidden: 11008 }),
    build('MoE', { d: 4096, hidden: 14336, experts: 8, top_k: 2 }),
    build('Linear', { d_in: 512, d_out: 1000 }),
  ]) {
    assert.equal(cost.flopsPerToken, 2n * activeParams(cost));
  }
});

test('a convolution carries the geometry its costs were computed at (the ONNX exporter builds its Conv from it)', () => {
  assert.deepEqual(build('Conv2d', { c_in: 4, c_out: 8, kernel: 3, dilation: 2, height: 5, width: 7 }).conv, { cIn: 4, cOut: 8, kernel: 3, stride: 1, padding: 0, dilation: 2, groups: 1, inputSides: [5, 7], outputSides: [1, 3] });
  assert.deepEqual(build('Conv1d', { c_in: 384, c_out: 384, kernel: 3, stride: 2, padding: 1, length: 3000 }).conv?.outputSides, [1500]);
  assert.deepEqual(build('Conv2d', { c_in: 32, c_out: 32, kernel: 3, padding: 1, groups: 32, bias: false, size: 112 }).conv?.inputSides, [112, 112]);
  assert.equal(build('Linear', { d_in: 4, d_out: 8 }).conv, undefined);
});
