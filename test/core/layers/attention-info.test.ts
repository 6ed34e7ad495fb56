// The attention geometry Attention and MLA hand the engine: heads, score and value widths, the
// KV cache per token, window, causality, cross-attention and the weights that produce K and V.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArgValue, AttentionInfo } from '../../../src/core/layers/layer-kind.js';
import { buildLayer } from './build-layer.js';

const build = buildLayer;

interface InfoCase {
  readonly name: string;
  readonly kind: string;
  readonly args: Record<string, ArgValue>;
  readonly info: AttentionInfo;
  readonly kvProjectionFlops: bigint;
}

const CASES: readonly InfoCase[] = [
  {
    name: 'Llama-2-7B MHA',
    kind: 'Attention',
    args: { d: 4096, heads: 32 },
    info: {
      variant: 'mha',
      queryHeads: 32,
      kvHeads: 32,
      scoreDim: 128,
      valueDim: 128,
      kvElementsPerToken: 8192,
      window: undefined,
      causal: true,
      cross: false,
      kvProducerWeights: ['k', 'v'],
    },
    kvProjectionFlops: 2n * 2n * 4096n * 4096n,
  },
  {
    name: 'Mistral GQA with a sliding window',
    kind: 'Attention',
    args: { d: 4096, heads: 32, kv_heads: 8, window: 4096 },
    info: {
      variant: 'mha',
      queryHeads: 32,
      kvHeads: 8,
      scoreDim: 128,
      valueDim: 128,
      kvElementsPerToken: 2048,
      window: 4096,
      causal: true,
      cross: false,
      kvProducerWeights: ['k', 'v'],
    },
    kvProjectionFlops: 2n * 2n * 4096n * 1024n,
  },
  {
    name: 'BERT bidirectional with biases',
    kind: 'Attention',
    args: { d: 768, heads: 12, bias: true, causal: false },
    info: {
      variant: 'mha',
      queryHeads: 12,
      kvHeads: 12,
      scoreDim: 64,
      valueDim: 64,
      kvElementsPerToken: 1536,
      window: undefined,
      causal: false,
      cross: false,
      kvProducerWeights: ['k', 'k_bias', 'v', 'v_bias'],
    },
    kvProjectionFlops: 2n * 2n * 768n * 768n,
  },
  {
    name: 'k norm produces K',
    kind: 'Attention',
    args: { d: 64, heads: 4, kv_heads: 2, qk_norm: 'layer' },
    info: {
      variant: 'mha',
      queryHeads: 4,
      kvHeads: 2,
      scoreDim: 16,
      valueDim: 16,
      kvElementsPerToken: 64,
      window: undefined,
      causal: true,
      cross: false,
      kvProducerWeights: ['k', 'v', 'k_norm', 'k_norm_bias'],
    },
    kvProjectionFlops: 2n * 2n * 64n * 32n,
  },
  {
    // Cross-attention attends the whole source, so it is never causal.
    name: 'cross-attention',
    kind: 'Attention',
    args: { d: 512, heads: 8, cross: true, kv_dim: 768 },
    info: {
      variant: 'mha',
      queryHeads: 8,
      kvHeads: 8,
      scoreDim: 64,
      valueDim: 64,
      kvElementsPerToken: 1024,
      window: undefined,
      causal: false,
      cross: true,
      kvProducerWeights: ['k', 'v'],
    },
    kvProjectionFlops: 2n * 2n * 768n * 512n,
  },
  {
    name: 'DeepSeek-V2-Lite MLA',
    kind: 'MLA',
    args: { d: 2048, heads: 16, kv_rank: 512, rope_dim: 64, nope_dim: 128, v_dim: 128 },
    info: {
      variant: 'mla',
      queryHeads: 16,
      kvHeads: 16,
      scoreDim: 192,
      valueDim: 128,
      // Absorbed decode: scores over the 512 latent + 64 rope elements, values over the latent.
      decode: { scoreDim: 576, valueDim: 512 },
      kvElementsPerToken: 576,
      // A learned prefix token (parallel streams) is a latent: 512 + 64.
      prefixElementsPerToken: 576,
      window: undefined,
      causal: true,
      cross: false,
      kvProducerWeights: ['kv_a', 'kv_a_norm', 'kv_b'],
    },
    kvProjectionFlops: 2n * (2048n * 576n + 512n * 4096n),
  },
  {
    // Expanded decode caches what Transformers' DeepseekV2Attention caches: per head a key of
    // nope + rope = 192 and a value of 128 → 16·320 = 5,120 elements per token.
    name: 'DeepSeek-V2-Lite MLA, expanded decode',
    kind: 'MLA',
    args: { d: 2048, heads: 16, kv_rank: 512, rope_dim: 64, nope_dim: 128, v_dim: 128, decode: 'expanded' },
    info: {
      variant: 'mla',
      queryHeads: 16,
      kvHeads: 16,
      scoreDim: 192,
      valueDim: 128,
      kvElementsPerToken: 5120,
      // Still stored as the latent, 512 + 64, whichever way decode runs.
      prefixElementsPerToken: 576,
      window: undefined,
      causal: true,
      cross: false,
      kvProducerWeights: ['kv_a', 'kv_a_norm', 'kv_b'],
    },
    kvProjectionFlops: 2n * (2048n * 576n + 512n * 4096n),
  },
  {
    name: 'MLA with attention_bias',
    kind: 'MLA',
    args: { d: 64, heads: 2, kv_rank: 16, rope_dim: 4, nope_dim: 8, v_dim: 6, q_rank: 32, bias: true },
    info: {
      variant: 'mla',
      queryHeads: 2,
      kvHeads: 2,
      scoreDim: 12,
      valueDim: 6,
      decode: { scoreDim: 20, valueDim: 16 },
      kvElementsPerToken: 20,
      prefixElementsPerToken: 16 + 4,
      window: undefined,
      causal: true,
      cross: false,
      kvProducerWeights: ['kv_a', 'kv_a_bias', 'kv_a_norm', 'kv_b'],
    },
    kvProjectionFlops: 2n * (64n * 20n + 16n * 28n),
  },
];

/** Attention's heads are row slices of q, k, v and column slices of o (head-wise sharing reads them); MLA has none. */
const HEAD_PROJECTIONS = { query: 'q', key: 'k', value: 'v', output: 'o' };

for (const c of CASES) {
  test(`${c.kind} attention info: ${c.name}`, () => {
    const cost = build(c.kind, c.args);
    assert.deepEqual(cost.attention, c.kind === 'Attention' ? { ...c.info, headProjections: HEAD_PROJECTIONS } : c.info);
    assert.equal(cost.kvProjectionFlopsPerToken, c.kvProjectionFlops);
  });
}

test('KV producer weights exist in the layer', () => {
  for (const c of CASES) {
    const cost = build(c.kind, c.args);
    const names = new Set(cost.weights.map((w) => w.name));
    for (const name of cost.attention?.kvProducerWeights ?? []) assert.ok(names.has(name), `${c.name}: ${name}`);
  }
});

test('head projections are weights of the layer, with queryHeads slices of scoreDim/valueDim each', () => {
  for (const c of CASES) {
    const cost = build(c.kind, c.args);
    const heads = cost.attention?.headProjections;
    if (!heads || !cost.attention) continue;
    const shape = (name: string): readonly number[] => cost.weights.find((w) => w.name === name)?.shape ?? [];
    const { queryHeads: h, scoreDim, valueDim } = cost.attention;
    // W_q [H·d_s, d]; W_k, W_v [H_kv·d, d_kv]; W_o [d, H·d_v].
    assert.equal(shape(heads.query)[0], h * scoreDim, `${c.name}: q rows`);
    assert.equal(shape(heads.key)[0], cost.attention.kvHeads * scoreDim, `${c.name}: k rows`);
    assert.equal(shape(heads.value)[0], cost.attention.kvHeads * valueDim, `${c.name}: v rows`);
    assert.equal(shape(heads.output)[1], h * valueDim, `${c.name}: o columns`);
  }
});

test('self-attention FLOPs include the K/V projections; cross-attention leaves them to the source side', () => {
  const self = build('Attention', { d: 512, heads: 8 });
  const cross = build('Attention', { d: 512, heads: 8, cross: true });
  assert.equal(self.flopsPerToken, 8n * 512n * 512n);
  assert.equal(cross.flopsPerToken, 4n * 512n * 512n);
  assert.equal(cross.kvProjectionFlopsPerToken, self.kvProjectionFlopsPerToken);
  assert.equal(self.flopsPerToken - cross.flopsPerToken, cross.kvProjectionFlopsPerToken);
});

test('layers without attention report no attention and no KV projection FLOPs', () => {
  for (const [kind, args] of [
    ['Linear', { d_in: 8, d_out: 8 }],
    ['MLP', { d: 8, hidden: 32 }],
    ['MoE', { d: 8, hidden: 16, experts: 4, top_k: 2 }],
    ['RelativePositionBias', { buckets: 32, heads: 8 }],
    ['Conv2d', { c_in: 3, c_out: 8, kernel: 3, size: 8 }],
  ] as const) {
    const cost = build(kind, args);
    assert.equal(cost.attention, undefined, kind);
    assert.equal(cost.kvProjectionFlopsPerToken, 0n, kind);
  }
});

test('rel_pos (WeNet\'s RelPositionMultiHeadedAttention): linear_pos and u, v; one position projection per token; the position term per attended key', () => {
  // A Conformer's d 256, 4 heads of 64 with biases (wenet/transformer/attention.py: linear_pos
  // Linear(256, 256, bias=False), pos_bias_u and pos_bias_v [4, 64]).
  const plain = build('Attention', { d: 256, heads: 4, bias: true, causal: false });
  const rel = build('Attention', { d: 256, heads: 4, bias: true, causal: false, rel_pos: true });
  const params = (c: typeof rel) => c.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(params(plain), 4 * (256 * 256 + 256));
  assert.equal(params(rel) - params(plain), 256 * 256 + 2 * 4 * 64);
  assert.deepEqual(rel.weights.filter((w) => !plain.weights.some((p) => p.name === w.name)).map((w) => [w.name, w.shape, w.role]), [
    ['pos', [256, 256], 'matmul'],
    ['pos_bias_u', [256], 'bias'],
    ['pos_bias_v', [256], 'bias'],
  ]);
  assert.equal(rel.flopsPerToken - plain.flopsPerToken, 2n * 256n * 256n);
  assert.equal(rel.attention?.positionScoreDim, 64);
  assert.equal(plain.attention?.positionScoreDim, undefined);
  // Neither K nor V changes: the cache and its producers are the plain layer's.
  assert.equal(rel.attention?.kvElementsPerToken, plain.attention?.kvElementsPerToken);
  assert.deepEqual(rel.attention?.kvProducerWeights, plain.attention?.kvProducerWeights);
});
