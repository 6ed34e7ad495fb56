// Attention's rotary position embedding (rope, rope_dim, rope_theta): parsed from a spec with
// its defaults, reported in the attention geometry, parameter-free and 0 FLOPs, and every
// inconsistent value refused with a stable code on the argument at fault. Hover and completion
// read the layer table, so the new arguments are offered there without any other change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, completionsAt, type ModelReport } from '../../../src/core/index.js';
import type { ArgValue } from '../../../src/core/layers/layer-kind.js';
import { marked } from '../service/cursor.js';
import { buildLayer } from './build-layer.js';

function spec(attnArgs: string): string {
  return `model M {\n  embed = Embedding(1000, 256)\n  attn = Attention(256, heads: 4${attnArgs})\n}\n`;
}

function one(src: string): ModelReport {
  const r = analyze(src);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`), []);
  return r.models[0]!;
}

function attentionOf(args: Record<string, ArgValue>) {
  return buildLayer('Attention', { d: 256, heads: 4, ...args }).attention!;
}

function errorsOf(src: string): { code: string; message: string; text: string }[] {
  const r = analyze(src);
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ code: d.code, message: d.message, text: src.slice(d.range.start, d.range.end) }));
}

test('rope: absent by default, and no rope field in the geometry', () => {
  one(spec(''));
  const info = attentionOf({});
  assert.equal(info.rope, undefined);
  assert.equal('rope' in info, false);
});

test('rope: true rotates the whole head with theta 10000 by default', () => {
  one(spec(', rope: true'));
  assert.deepEqual(attentionOf({ rope: true }).rope, { dim: 64, theta: 10_000 });
});

test('rope_dim and rope_theta: partial rotary and another base (integer and fractional)', () => {
  one(spec(', rope: true, rope_dim: 16, rope_theta: 1_000_000'));
  one(spec(', rope: true, rope_theta: 10000.5'));
  assert.deepEqual(attentionOf({ rope: true, rope_dim: 16, rope_theta: { num: 1_000_000, den: 1 } }).rope, { dim: 16, theta: 1_000_000 });
  assert.deepEqual(attentionOf({ rope: true, rope_theta: { num: 20_001, den: 2 } }).rope, { dim: 64, theta: 10000.5 });
});

test('rope changes neither parameters, FLOPs, KV cache nor saved activations', () => {
  const plain = one(spec(''));
  const rotary = one(spec(', rope: true, rope_dim: 32'));
  assert.deepEqual(rotary.params, plain.params);
  assert.deepEqual(rotary.flops, plain.flops);
  assert.deepEqual(rotary.memory, plain.memory);
  assert.equal(rotary.kvCacheBytes, plain.kvCacheBytes);
  const a = buildLayer('Attention', { d: 256, heads: 4 });
  const b = buildLayer('Attention', { d: 256, heads: 4, rope: true, rope_dim: 32 });
  assert.deepEqual(b.weights, a.weights);
  assert.equal(b.flopsPerToken, a.flopsPerToken);
  assert.equal(b.activationElementsPerToken, a.activationElementsPerToken);
});

const ERRORS: readonly { name: string; args: string; code: string; at: string; mentions: readonly string[] }[] = [
  { name: 'odd rope_dim', args: ', rope: true, rope_dim: 15', code: 'npas-layer-shape', at: 'rope_dim: 15', mentions: ['rope_dim (15)', 'even'] },
  { name: 'odd head_dim as the default rope_dim', args: ', head_dim: 63, rope: true', code: 'npas-layer-shape', at: 'head_dim: 63', mentions: ['rope_dim (63)', 'even'] },
  { name: 'rope_dim above head_dim', args: ', rope: true, rope_dim: 128', code: 'npas-layer-shape', at: 'rope_dim: 128', mentions: ['rope_dim (128)', 'head_dim (64)'] },
  { name: 'rope_dim without rope', args: ', rope_dim: 32', code: 'npas-layer-shape', at: 'rope_dim: 32', mentions: ['rope_dim', 'rope: true'] },
  { name: 'rope_theta without rope', args: ', rope_theta: 500000', code: 'npas-layer-shape', at: 'rope_theta: 500000', mentions: ['rope_theta', 'rope: true'] },
  { name: 'zero theta', args: ', rope: true, rope_theta: 0', code: 'npas-eval-range', at: '0', mentions: ['rope_theta', 'positive'] },
  { name: 'negative theta', args: ', rope: true, rope_theta: -5', code: 'npas-eval-range', at: '-5', mentions: ['rope_theta', 'positive'] },
  { name: 'rope_dim 0', args: ', rope: true, rope_dim: 0', code: 'npas-eval-range', at: '0', mentions: ['rope_dim'] },
  { name: 'rope on cross-attention', args: ', rope: true, cross: true', code: 'npas-layer-shape', at: 'rope: true', mentions: ['self-attention only'] },
];

for (const c of ERRORS) {
  test(`rope error: ${c.name}`, () => {
    const errors = errorsOf(spec(c.args));
    assert.equal(errors.length, 1, JSON.stringify(errors));
    const e = errors[0]!;
    assert.equal(e.code, c.code);
    assert.equal(e.text, c.at);
    for (const m of c.mentions) assert.ok(e.message.includes(m), `${e.message} should mention ${m}`);
  });
}

test('completion offers rope, rope_dim and rope_theta inside Attention(…)', () => {
  const { text, offset } = marked('model M {\n  attn = Attention(256, heads: 4, $0)\n}\n');
  const labels = completionsAt(text, analyze(text), offset).items.map((i) => i.label);
  for (const name of ['rope', 'rope_dim', 'rope_theta']) assert.ok(labels.some((l) => l === name || l === `${name}:`), `${name} not offered: ${labels.join(', ')}`);
});
