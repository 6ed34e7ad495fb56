// Issue 12: instance counts are exact at any size. A stack's runs count their instances as
// bigints, so nested repeats multiply exactly (a float once made 999,999,999² end in …000 and
// deeper nesting print Infinity); only a declaration that addresses instances one by one needs
// them below 2⁵³, and past it is refused at the declaration. Every expected number is derived
// here from the layer formulas of docs/layers.md with bigint arithmetic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, hoverAt, type AnalysisResult } from '../../../src/core/index.js';

/** Thousands separators by the platform's own formatter (not the engine's). */
const grouped = (n: bigint): string => n.toLocaleString('en-US');

function errorsOf(r: AnalysisResult): { code: string; message: string; start: number; end: number }[] {
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ code: d.code, message: d.message, start: d.range.start, end: d.range.end }));
}

test('(RMSNorm(1) * 999999999) * 999999999 is counted exactly: 999,999,998,000,000,001 params, not …000', () => {
  const src = 'model M { body = (RMSNorm(1) * 999999999) * 999999999 }\n';
  const instances = 999_999_999n * 999_999_999n;
  // RMSNorm(1): one scale of width d = 1, no FLOPs (docs/layers.md, "RMSNorm").
  const params = instances * 1n;
  assert.equal(params, 999_999_998_000_000_001n);
  assert.notEqual(BigInt(999_999_999 * 999_999_999), params, 'in doubles the product rounds');
  const r = analyze(src);
  assert.deepEqual(errorsOf(r), []);
  const m = r.models[0]!;
  assert.deepEqual(m.params, { stored: params, effective: params, active: params, trainable: params });
  assert.equal(m.flops.decode, 0n);
  assert.equal(m.flops.prefill, 0n);
  const body = m.tree.children[0]!;
  assert.equal(body.count, instances);
  assert.equal(body.type, `stack of ${instances}`);
  assert.deepEqual(body.children.map((c) => [c.name, c.count, c.firstIndex]), [[`RMSNorm[0..${instances - 1n}]`, instances, 0n]]);
  const hover = hoverAt(src, r, src.indexOf('body') + 1)!.markdown;
  assert.ok(hover.startsWith(`**body** · stack of ${grouped(instances)}: ${instances} × RMSNorm`), hover);
  const p = grouped(params);
  assert.ok(hover.includes(`| M (×${grouped(instances)}) | ${p} | ${p} | ${p} | ${p} | 0 |`), hover);
});

test('nested `* 2**40` stacks: params, forward and decode FLOPs and the KV cache of 2⁸⁰ layers, exact', () => {
  const src = `model M {
  block B {
    attn = Attention(64, heads: 4)
    mlp = MLP(64, 256, bias: false)
  }
  body = (B * 2**40) * 2**40
}
`;
  const layers = 2n ** 80n;
  const d = 64n;
  const hq = 4n * 16n; // heads · head_dim (d / heads)
  const hkv = hq; // kv_heads defaults to heads
  // Attention: 2·d·Hq + 2·d·Hkv; MLP without biases: d·hidden + hidden·d.
  const perLayer = 2n * d * hq + 2n * d * hkv + 2n * d * 256n;
  assert.equal(perLayer, 49_152n);
  const seq = 4096n; // the analysis defaults: seq 4096, batch 1, bf16 (2 bytes)
  // A multiply-add counts 2: 2 × matmul params per token, plus per attended key the score and
  // the value term, 2·Hq each; a decode step at context S attends S keys.
  const forward = 2n * perLayer;
  const decode = layers * (forward + 4n * hq * seq);
  // KV cache: 2·Hkv elements per token and layer, 2 bytes each in bf16.
  const kv = layers * 2n * hkv * seq * 2n;
  const r = analyze(src);
  assert.deepEqual(errorsOf(r), []);
  const m = r.models[0]!;
  assert.equal(m.params.stored, layers * perLayer);
  assert.equal(m.params.effective, layers * perLayer);
  assert.equal(m.flops.decode, decode);
  assert.equal(m.kvCacheBytes, kv);
  assert.equal(kv, 2n ** 100n);
  const body = m.tree.children[0]!;
  assert.equal(body.count, layers);
  assert.equal(body.flopsPerToken, layers * forward);
  // Nothing is a float on the way out.
  const json = JSON.stringify(r.models, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  assert.doesNotMatch(json, /null|Infinity|NaN|e\+/);
  const hover = hoverAt(src, r, src.indexOf('body =') + 1)!.markdown;
  assert.ok(hover.includes(`| M (×${grouped(layers)}) | ${grouped(layers * perLayer)} |`), hover);
  assert.ok(hover.includes(`| ${grouped(layers * forward)} |`), hover);
});

test('a declaration that names one instance of a 2⁶⁰-instance stack is exact; one that indexes every instance, or past 2⁵³, is refused at itself', () => {
  const src = `model M {
  body = Linear(4, 4) * 2**60
}
variant Frozen of M { freeze body[3] }
variant Cycled of M { share body: cycle(2) }
variant Far of M { freeze body[2**60] }
`;
  const r = analyze(src);
  const all = 2n ** 60n * 16n; // Linear(4, 4) without bias: 16 params
  const by = new Map(r.models.map((m) => [m.name, m]));
  assert.equal(by.get('M')!.params.stored, all);
  // One instance frozen: 16 params fewer trainable, the rest exact.
  assert.equal(by.get('Frozen')!.params.stored, all);
  assert.equal(by.get('Frozen')!.params.trainable, all - 16n);
  const stack = by.get('Frozen')!.tree.children[0]!;
  assert.deepEqual(stack.children.map((c) => [c.firstIndex, c.count]), [[0n, 3n], [3n, 1n], [4n, 2n ** 60n - 4n]]);
  const errors = errorsOf(r);
  assert.deepEqual(errors.map((e) => e.code), ['npas-eval-too-large', 'npas-eval-too-large']);
  const [cycled, far] = errors;
  // The strategy is refused at its target, naming both numbers.
  assert.equal(src.slice(cycled!.start, cycled!.end), 'body');
  assert.ok(cycled!.start > src.indexOf('variant Cycled') && cycled!.start < src.indexOf('variant Far'));
  assert.match(cycled!.message, new RegExp(`${grouped(2n ** 60n)}.*${grouped(2n ** 53n - 1n)}`));
  // The index is refused at the index.
  assert.equal(src.slice(far!.start, far!.end), '2**60');
});
