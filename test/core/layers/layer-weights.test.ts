// Weight names, shapes, roles and banks of every builtin layer kind. Names are part of the
// language (users address `body.attn.q`), so they are pinned here exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArgValue, WeightSpec } from '../../../src/core/layers/layer-kind.js';
import { buildLayer } from './build-layer.js';

const build = buildLayer;

/** A weight written compactly: name, shape, role, and `copies/active` for banks. */
type Row = readonly [string, readonly number[], WeightSpec['role'], string?];

function rows(weights: readonly WeightSpec[]): Row[] {
  return weights.map((w): Row => {
    const bank = w.copies === 1 && w.activeCopies === 1 ? undefined : `${w.copies}/${w.activeCopies}`;
    return bank === undefined ? [w.name, w.shape, w.role] : [w.name, w.shape, w.role, bank];
  });
}

interface WeightCase {
  readonly name: string;
  readonly kind: string;
  readonly args: Record<string, ArgValue>;
  readonly weights: readonly Row[];
}

const CASES: readonly WeightCase[] = [
  { name: 'Embedding', kind: 'Embedding', args: { rows: 100, width: 8 }, weights: [['weight', [100, 8], 'embedding']] },
  { name: 'PositionEmbedding', kind: 'PositionEmbedding', args: { positions: 64, width: 8 }, weights: [['weight', [64, 8], 'position']] },
  { name: 'RelativePositionBias', kind: 'RelativePositionBias', args: { buckets: 32, heads: 4 }, weights: [['weight', [32, 4], 'position']] },
  { name: 'Linear', kind: 'Linear', args: { d_in: 8, d_out: 3 }, weights: [['weight', [3, 8], 'matmul']] },
  {
    name: 'Linear with bias',
    kind: 'Linear',
    args: { d_in: 8, d_out: 3, bias: true },
    weights: [
      ['weight', [3, 8], 'matmul'],
      ['bias', [3], 'bias'],
    ],
  },
  {
    name: 'Conv1d',
    kind: 'Conv1d',
    args: { c_in: 4, c_out: 6, kernel: 3, groups: 2, length: 10 },
    weights: [
      ['weight', [6, 2, 3], 'conv'],
      ['bias', [6], 'bias'],
    ],
  },
  { name: 'Conv2d', kind: 'Conv2d', args: { c_in: 4, c_out: 6, kernel: 3, bias: false, size: 8 }, weights: [['weight', [6, 4, 3, 3], 'conv']] },
  {
    name: 'LayerNorm',
    kind: 'LayerNorm',
    args: { d: 8 },
    weights: [
      ['weight', [8], 'norm'],
      ['bias', [8], 'bias'],
    ],
  },
  { name: 'LayerNorm, bias ignored without affine', kind: 'LayerNorm', args: { d: 8, affine: false, bias: true }, weights: [] },
  { name: 'RMSNorm', kind: 'RMSNorm', args: { d: 8 }, weights: [['weight', [8], 'norm']] },
  {
    name: 'BatchNorm',
    kind: 'BatchNorm',
    args: { d: 8 },
    weights: [
      ['weight', [8], 'norm'],
      ['bias', [8], 'bias'],
    ],
  },
  {
    name: 'Attention GQA',
    kind: 'Attention',
    args: { d: 64, heads: 8, kv_heads: 2 },
    weights: [
      ['q', [64, 64], 'matmul'],
      ['k', [16, 64], 'matmul'],
      ['v', [16, 64], 'matmul'],
      ['o', [64, 64], 'matmul'],
    ],
  },
  {
    name: 'Attention with per-projection biases and layer qk_norm',
    kind: 'Attention',
    args: { d: 64, heads: 4, head_dim: 32, bias: true, k_bias: false, qk_norm: 'layer' },
    weights: [
      ['q', [128, 64], 'matmul'],
      ['q_bias', [128], 'bias'],
      ['k', [128, 64], 'matmul'],
      ['v', [128, 64], 'matmul'],
      ['v_bias', [128], 'bias'],
      ['o', [64, 128], 'matmul'],
      ['o_bias', [64], 'bias'],
      ['q_norm', [32], 'norm'],
      ['q_norm_bias', [32], 'bias'],
      ['k_norm', [32], 'norm'],
      ['k_norm_bias', [32], 'bias'],
    ],
  },
  {
    name: 'cross-attention reads kv_dim',
    kind: 'Attention',
    args: { d: 64, heads: 4, cross: true, kv_dim: 96 },
    weights: [
      ['q', [64, 64], 'matmul'],
      ['k', [64, 96], 'matmul'],
      ['v', [64, 96], 'matmul'],
      ['o', [64, 64], 'matmul'],
    ],
  },
  {
    name: 'MLA without q_rank',
    kind: 'MLA',
    args: { d: 2048, heads: 16, kv_rank: 512, rope_dim: 64, nope_dim: 128, v_dim: 128 },
    weights: [
      ['q', [3072, 2048], 'matmul'],
      ['kv_a', [576, 2048], 'matmul'],
      ['kv_a_norm', [512], 'norm'],
      ['kv_b', [4096, 512], 'matmul'],
      ['o', [2048, 2048], 'matmul'],
    ],
  },
  {
    name: 'MLA with q_rank and attention_bias',
    kind: 'MLA',
    args: { d: 5120, heads: 128, kv_rank: 512, rope_dim: 64, nope_dim: 128, v_dim: 128, q_rank: 1536, bias: true },
    weights: [
      ['q_a', [1536, 5120], 'matmul'],
      ['q_a_bias', [1536], 'bias'],
      ['q_a_norm', [1536], 'norm'],
      ['q_b', [24576, 1536], 'matmul'],
      ['kv_a', [576, 5120], 'matmul'],
      ['kv_a_bias', [576], 'bias'],
      ['kv_a_norm', [512], 'norm'],
      ['kv_b', [32768, 512], 'matmul'],
      ['o', [5120, 16384], 'matmul'],
      ['o_bias', [5120], 'bias'],
    ],
  },
  {
    // Transformers' DeepseekV2Attention gives q_proj bias=False whatever attention_bias says.
    name: 'MLA direct q has no bias',
    kind: 'MLA',
    args: { d: 64, heads: 2, kv_rank: 16, rope_dim: 4, nope_dim: 8, v_dim: 8, bias: true },
    weights: [
      ['q', [24, 64], 'matmul'],
      ['kv_a', [20, 64], 'matmul'],
      ['kv_a_bias', [20], 'bias'],
      ['kv_a_norm', [16], 'norm'],
      ['kv_b', [32, 16], 'matmul'],
      ['o', [64, 16], 'matmul'],
      ['o_bias', [64], 'bias'],
    ],
  },
  {
    name: 'MLP',
    kind: 'MLP',
    args: { d: 8, hidden: 32, d_out: 4 },
    weights: [
      ['up', [32, 8], 'matmul'],
      ['up_bias', [32], 'bias'],
      ['down', [4, 32], 'matmul'],
      ['down_bias', [4], 'bias'],
    ],
  },
  {
    name: 'GatedMLP',
    kind: 'GatedMLP',
    args: { d: 8, hidden: 32 },
    weights: [
      ['gate', [32, 8], 'matmul'],
      ['up', [32, 8], 'matmul'],
      ['down', [8, 32], 'matmul'],
    ],
  },
  {
    name: 'MoE with shared experts and router bias',
    kind: 'MoE',
    args: { d: 8, hidden: 16, experts: 6, top_k: 2, shared: 2, shared_hidden: 24, router_bias: true },
    weights: [
      ['router', [6, 8], 'router'],
      ['router_bias', [6], 'bias'],
      ['expert_gate', [16, 8], 'matmul', '6/2'],
      ['expert_up', [16, 8], 'matmul', '6/2'],
      ['expert_down', [8, 16], 'matmul', '6/2'],
      ['shared_gate', [24, 8], 'matmul', '2/2'],
      ['shared_up', [24, 8], 'matmul', '2/2'],
      ['shared_down', [8, 24], 'matmul', '2/2'],
    ],
  },
  {
    name: 'ungated MoE with expert biases',
    kind: 'MoE',
    args: { d: 8, hidden: 16, experts: 4, top_k: 1, gated: false, bias: true },
    weights: [
      ['router', [4, 8], 'router'],
      ['expert_up', [16, 8], 'matmul', '4/1'],
      ['expert_up_bias', [16], 'bias', '4/1'],
      ['expert_down', [8, 16], 'matmul', '4/1'],
      ['expert_down_bias', [8], 'bias', '4/1'],
    ],
  },
  { name: 'Activation', kind: 'Activation', args: { kind: 'gelu' }, weights: [] },
  { name: 'Dropout', kind: 'Dropout', args: {}, weights: [] },
  { name: 'Identity', kind: 'Identity', args: {}, weights: [] },
  { name: 'Pool', kind: 'Pool', args: { kind: 'avg', kernel: 2 }, weights: [] },
  { name: 'GlobalPool', kind: 'GlobalPool', args: { kind: 'max' }, weights: [] },
  { name: 'Flatten', kind: 'Flatten', args: {}, weights: [] },
];

for (const c of CASES) {
  test(`${c.kind} weights: ${c.name}`, () => {
    assert.deepEqual(rows(build(c.kind, c.args).weights), c.weights);
  });
}

test('matmul and router weights carry their widths; others do not', () => {
  for (const c of CASES) {
    for (const w of build(c.kind, c.args).weights) {
      if (w.role === 'matmul' || w.role === 'router') {
        assert.deepEqual(w.matmul, { dIn: w.shape[1], dOut: w.shape[0] }, `${c.name}: ${w.name}`);
      } else {
        assert.equal(w.matmul, undefined, `${c.name}: ${w.name}`);
      }
    }
  }
});

test('weight names are unique within a layer and every shape entry is a positive safe integer', () => {
  for (const c of CASES) {
    const weights = build(c.kind, c.args).weights;
    assert.equal(new Set(weights.map((w) => w.name)).size, weights.length, c.name);
    for (const w of weights) {
      assert.ok(w.shape.every((n) => Number.isSafeInteger(n) && n > 0), `${c.name}: ${w.name}`);
      assert.ok(w.activeCopies <= w.copies, `${c.name}: ${w.name}`);
    }
  }
});
