// The layer registry and the argument schemas: names and positional order are part of the
// language, so they are pinned; defaults must agree with their declared types.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArgSpec, ArgValue } from '../../../src/core/layers/layer-kind.js';
import { LAYER_KINDS, findLayerKind } from '../../../src/core/layers/registry.js';
import { readArgs } from '../../../src/core/layers/arg-specs.js';

/** Each kind's arguments in order: positional ones bare, named ones with their default or `?` for none. */
const SIGNATURES: Record<string, string> = {
  Embedding: 'rows, width',
  PositionEmbedding: 'positions, width',
  RelativePositionBias: 'buckets, heads',
  Linear: 'd_in, d_out, bias: false',
  Conv1d: 'c_in, c_out, kernel, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true, length: ?',
  Conv2d: 'c_in, c_out, kernel, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true, size: ?, height: ?, width: ?',
  SandwichLinear: 'd_in, d_out, bias: true, last: false',
  SandwichConv2d: 'c_in, c_out, kernel, size: 32, bias: true',
  LayerNorm: 'd, bias: true, affine: true',
  RMSNorm: 'd, affine: true',
  BatchNorm: 'd, affine: true',
  Attention:
    'd, heads, kv_heads?, head_dim?, bias: false, q_bias: ?, k_bias: ?, v_bias: ?, o_bias: ?, qk_norm: none, ' +
    'qk_norm_width: head, sinks: false, gate: false, window: ?, chunk: ?, causal: true, cross: false, kv_dim: ?, rope: false, rope_dim: ?, rope_theta: ?, rel_pos: false',
  MLA: 'd, heads, kv_rank, rope_dim, nope_dim, v_dim, q_rank: ?, bias: false, decode: absorbed',
  MLP: 'd, hidden, act: gelu, bias: true, d_out: ?',
  GatedMLP: 'd, hidden, act: silu, bias: false',
  MoE: 'd, hidden, experts, top_k, shared: 0, shared_hidden: ?, shared_expert_gate: false, gated: true, latent: ?, bias: false, router_bias: false, scoring: softmax, selection_bias: false, groups: 1, top_groups: ?, group_score: top2_sum, normalize: true, route_scale: ?, weight_input: false, act: silu, glu_limit: ?, router_rnn: ?, iterations: 1, expert_adapter: ?, hot_experts: ?, hot_share: ?',
  RecurrentRouter: 'dim, cell: gru',
  MoA: 'd, experts, top_k, head_dim?=64, expert_dim: ?, bias: false, router_hidden: ?, rel_positions: ?, causal: true, cross: false, kv_dim: ?, window: ?',
  Mamba: 'd, state: 16, expand: 2, conv: 4, dt_rank: ?, bias: false, conv_bias: true, inner_norms: false, state_dtype: ?',
  Mamba2: 'd, head_dim: 64, state: 128, groups: 1, expand: 2, inner: ?, conv: 4, bias: false, conv_bias: true, norm: true, state_dtype: ?',
  GatedDeltaNet: 'd, k_heads: 16, v_heads: 32, k_head_dim: 128, v_head_dim: 128, conv: 4, state_dtype: ?',
  AltUp: 'd, inputs?=4',
  AltUpProjections: 'd, inputs?=4',
  Laurel: 'd, rank',
  MomentProbe: 'd, classes, hidden: 512, heads: 4, pairs: near',
  PerLayerEmbedding: 'rows, d, layers, width',
  PerLayerInput: 'd, width',
  Activation: 'kind',
  Dropout: 'p?, d: ?',
  Identity: '',
  Pool: 'kind, kernel: ?, stride: ?',
  GlobalPool: 'kind?=avg',
  Flatten: '',
};

/** Writes an argument as in SIGNATURES: `!` marks a required named argument. */
function describe(arg: ArgSpec): string {
  if (arg.positional) {
    if (arg.required) return arg.name;
    return arg.default === undefined ? `${arg.name}?` : `${arg.name}?=${String(arg.default)}`;
  }
  if (arg.required) return `${arg.name}: !`;
  return `${arg.name}: ${arg.default === undefined ? '?' : String(arg.default)}`;
}

test('the registry holds exactly the documented layer kinds, keyed by name', () => {
  assert.deepEqual([...LAYER_KINDS.keys()], Object.keys(SIGNATURES));
  for (const [name, kind] of LAYER_KINDS) assert.equal(kind.name, name);
});

test('findLayerKind is exact and case-sensitive', () => {
  assert.equal(findLayerKind('Attention')?.name, 'Attention');
  assert.equal(findLayerKind('attention'), undefined);
  assert.equal(findLayerKind('Transformer'), undefined);
});

for (const [name, signature] of Object.entries(SIGNATURES)) {
  test(`${name}(${signature})`, () => {
    const kind = findLayerKind(name);
    assert.ok(kind);
    assert.equal(kind.args.map(describe).join(', '), signature);
  });
}

test('schemas are well formed', () => {
  for (const kind of LAYER_KINDS.values()) {
    assert.ok(kind.doc.length > 0, `${kind.name} doc`);
    const names = kind.args.map((a) => a.name);
    assert.equal(new Set(names).size, names.length, `${kind.name}: unique argument names`);
    let named = false;
    for (const arg of kind.args) {
      const where = `${kind.name}.${arg.name}`;
      assert.match(arg.name, /^[a-z][a-z0-9_]*$/, where);
      assert.ok(arg.doc.length > 0 && arg.doc.endsWith('.'), `${where}: doc is a sentence`);
      assert.ok(!(arg.positional && named), `${where}: positional arguments come first`);
      named ||= !arg.positional;
      if (arg.required) assert.equal(arg.default, undefined, `${where}: required without default`);
      if (arg.default === undefined) continue;
      switch (arg.type.kind) {
        case 'dim':
          assert.ok(typeof arg.default === 'number' && Number.isSafeInteger(arg.default) && arg.default > 0, where);
          break;
        case 'count':
          assert.ok(typeof arg.default === 'number' && Number.isSafeInteger(arg.default) && arg.default >= 0, where);
          break;
        case 'bool':
          assert.equal(typeof arg.default, 'boolean', where);
          break;
        case 'enum':
          assert.ok(typeof arg.default === 'string' && arg.type.values.includes(arg.default), where);
          break;
        case 'ratio':
          assert.fail(`${where}: ratios have no literal default`);
      }
    }
  }
});

test('activation enums list the same functions everywhere', () => {
  const values = (kind: string, arg: string): readonly string[] => {
    const type = findLayerKind(kind)?.args.find((a) => a.name === arg)?.type;
    assert.ok(type?.kind === 'enum');
    return type.values;
  };
  const acts = ['relu', 'gelu', 'gelu_tanh', 'silu', 'swish', 'tanh', 'sigmoid', 'quick_gelu', 'relu2', 'identity'];
  assert.deepEqual(values('MLP', 'act'), acts);
  assert.deepEqual(values('GatedMLP', 'act'), acts);
  assert.deepEqual(values('MoE', 'act'), acts);
  assert.deepEqual(values('Activation', 'kind'), [...acts, 'softmax', 'glu']);
  assert.deepEqual(values('Attention', 'qk_norm'), ['none', 'rms', 'layer']);
});

test('an argument absent from the map takes its schema default', () => {
  const kind = findLayerKind('Attention');
  assert.ok(kind);
  const cost = kind.build(new Map<string, ArgValue>([['d', 64], ['heads', 4]]), (arg, message) =>
    assert.fail(`${String(arg)}: ${message}`),
  );
  assert.equal(cost?.weights.length, 4);
  assert.equal(cost?.attention?.causal, true);
});

test('a value of the wrong type is an evaluator bug and throws', () => {
  const specs = findLayerKind('Linear')?.args ?? [];
  const args = readArgs(specs, new Map<string, ArgValue>([['d_in', 'wide'], ['bias', 1]]));
  assert.throws(() => args.number('d_in'), /d_in/);
  assert.throws(() => args.bool('bias'), /bias/);
  assert.throws(() => args.number('d_out'), /d_out/);
  assert.throws(() => args.number('nonexistent'), /not declared/);
});
