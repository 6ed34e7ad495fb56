// HyperFormer++'s generated adapters (`adapt PATHS: hyper(…)`) in the ONNX export
// (kernels/generated/hypernetwork.ts): initializer elements equal params.stored — one generator
// per statement, one task table per embedding width, nothing per target — and the graph's output
// on CPU equals the computation of rabeehk/hyperformer (AdapterLayersOneHyperNetController and
// MetaLayersAdapterController) written out here on the graph's own initializers, for task 0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import type { WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, initializer, matvec, maybeInitializer, runChecked } from './helpers.js';

const V = 23;
const D = 8;
const LAYERS = 3;
const spec = (statements: string) => `
model M {
  block Layer {
    a = Linear(${D}, ${D})
    b = Linear(${D}, ${D}, bias: true)
  }
  embed = Embedding(${V}, ${D})
  body  = Layer * ${LAYERS}
}
variant H of M {
${statements}
}
`;

const IDS = [[3, 17, 8], [20, 6, 2]];

interface Hyper {
  readonly r: number;
  readonly t: number;
  readonly h: number;
  readonly p: number;
  readonly norm: boolean;
}

/** Stored by one generator with L layer and K block embeddings, adapters of width d (HyperFormer++'s modules, counted one by one). */
function generatorParams(c: Hyper, layers: number, blocks: number, d: number): number {
  const { r, t, h, p } = c;
  const embeddings = (layers + blocks) * t; // layer_id_embeddings, adapters_block_type
  const taskHyperNet = 3 * t * h + h + h * p + p; // Linear(3t, h), Linear(h, p), with biases
  const taskNorm = 2 * p; // nn.LayerNorm(p)
  const up = p * d * r + d * r + p * d + d; // up_sampler: weight generator Linear(p, d·r), bias generator Linear(p, d)
  const down = p * r * d + r * d + p * r + r; // down_sampler: Linear(p, r·d), Linear(p, r)
  const post = c.norm ? 2 * (p * d + d) : 0; // post_layernorm_hypernet: two Linear(p, d)
  return embeddings + taskHyperNet + taskNorm + up + down + post;
}

const layerNorm = (x: readonly number[], w: ArrayLike<number>, b: ArrayLike<number>, eps: number): number[] => {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * w[i]! + b[i]!);
};
const geluNew = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
const row = (table: Float32Array, i: number, width: number): number[] => Array.from(table.subarray(i * width, (i + 1) * width));

/** HyperFormer++'s adapter for task 0 at (layer, block), applied to y (adapter_controller.py: y + LN(up(gelu_new(down(y))))). */
function adapted(r: ExportResult, gen: string, c: Hyper, layer: number, block: number, y: number[]): number[] {
  const { r: rank, t, h, p } = c;
  const linear = (x: readonly number[], part: string, out: number) => matvec(initializer(r, `${gen}.${part}.weight`), x, out, initializer(r, `${gen}.${part}.bias`));
  const e = [...row(initializer(r, `hyper:tasks:${t}`), 0, t), ...row(initializer(r, `${gen}.layers`), layer, t), ...row(initializer(r, `${gen}.blocks`), block, t)];
  const hidden = linear(e, 'task_mlp.0', h).map((v) => Math.max(0, v));
  const z = layerNorm(linear(hidden, 'task_mlp.2', p), initializer(r, `${gen}.task_norm.weight`), initializer(r, `${gen}.task_norm.bias`), 1e-6);
  const downW = Float32Array.from(linear(z, 'down.weight_generator', rank * D)); // view(r, d)
  const downB = Float32Array.from(linear(z, 'down.bias_generator', rank));
  const upW = Float32Array.from(linear(z, 'up.weight_generator', D * rank)); // view(d, r)
  const upB = Float32Array.from(linear(z, 'up.bias_generator', D));
  const middle = matvec(downW, y, rank, downB).map(geluNew);
  let out = matvec(upW, middle, D, upB);
  if (c.norm) out = layerNorm(out, linear(z, 'norm.weight_generator', D), linear(z, 'norm.bias_generator', D), 1e-5);
  return y.map((v, i) => v + out[i]!);
}

/** The generator prefixes of the graph's hyper statements, in statement order. */
const generators = (r: ExportResult): string[] =>
  r.spec.graph.initializers
    .map((i) => i.name)
    .filter((n) => /^hyper@\d+:generator\.layers$/.test(n))
    .map((n) => n.slice(0, -'.layers'.length))
    .sort((x, y) => Number(x.split(/[@:]/)[1]) - Number(y.split(/[@:]/)[1]));

/** The last token's output through the stack: per layer, a then b (each Linear, then the adapter of its statement's block). */
function reference(r: ExportResult, adapters: (layer: number, weight: 'a' | 'b', y: number[]) => number[]): number[] {
  return IDS.flatMap((ids) => {
    let x = row(initializer(r, 'embed.weight'), ids[ids.length - 1]!, D);
    for (let l = 0; l < LAYERS; l++) {
      for (const w of ['a', 'b'] as const) {
        const store = (name: string) => maybeInitializer(r, `body[${l}].${w}.${name}`) ?? initializer(r, `body[0].${w}.${name}`);
        x = adapters(l, w, matvec(store('weight'), x, D, w === 'b' ? store('bias') : undefined));
      }
    }
    return x;
  });
}

test('hyper: one generator per statement, the task table once; initializers = params.stored; task 0 equals HyperFormer++', async () => {
  const base = exportModel(spec(''), 'M').storedParams;
  for (const c of [
    { r: 2, t: 4, h: 6, p: 5, norm: true, tasks: 3 },
    { r: 3, t: 3, h: 4, p: 6, norm: false, tasks: 1 },
  ]) {
    const args = `hyper(bottleneck: ${c.r}, embedding: ${c.t}, hidden: ${c.h}, projected: ${c.p}, norm: ${c.norm}, tasks: ${c.tasks})`;
    const r = exportModel(spec(`  adapt body.a, body.b: ${args}`), 'H', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, args);
    // L = 3 layers, K = 2 blocks (a and b of one instance), T task embeddings of width t.
    assert.equal(r.storedParams - base, BigInt(generatorParams(c, LAYERS, 2, D) + c.tasks * c.t), args);
    const [gen] = generators(r);
    assert.ok(gen, args);
    // Block 0 is `a`, block 1 `b` (the order the graph meets them), the layer the instance index.
    const expected = reference(r, (l, w, y) => adapted(r, gen!, c, l, w === 'a' ? 0 : 1, y));
    const out = await runChecked(r, { input_ids: idRows(IDS) });
    assertClose(out, expected, 1e-4, args);
    // The adapters change the output; the same graph rebuilt every forward ('live') computes the same.
    const plain = await runChecked(exportModel(spec(''), 'M', { ops: 'standard' }), { input_ids: idRows(IDS) });
    assert.ok(plain.some((v, i) => Math.abs(v - out[i]!) > 1e-3), `${args}: the adapters change the output`);
    const live = exportModel(spec(`  adapt body.a, body.b: ${args}`), 'H', { ops: 'standard', generation: 'live' });
    assert.equal(live.initializerElements, live.storedParams);
    assertClose(await runChecked(live, { input_ids: idRows(IDS) }), out, 1e-5, `${args} live`);
  }
});

test('hyper: two statements of one embedding width read one task table; a relaxed shared stack has one generator over its instances', async () => {
  const c = { r: 2, t: 4, h: 6, p: 5, norm: true };
  const args = `hyper(bottleneck: 2, embedding: 4, hidden: 6, projected: 5, tasks: 4)`;
  const two = exportModel(spec(`  adapt body.a: ${args}\n  adapt body.b: ${args}`), 'H', { ops: 'fused' });
  assert.equal(two.initializerElements, two.storedParams);
  const base = exportModel(spec(''), 'M').storedParams;
  // Two generators of K = 1 block each, one [4, 4] task table.
  assert.equal(two.storedParams - base, BigInt(2 * generatorParams(c, LAYERS, 1, D) + 4 * 4));
  const [genA, genB] = generators(two);
  assert.ok(genA && genB);
  assertClose(await runChecked(two, { input_ids: idRows(IDS) }), reference(two, (l, w, y) => adapted(two, w === 'a' ? genA : genB, c, l, 0, y)), 1e-4, 'two statements');

  // share body: all relax hyper(…): one stored Layer, an adapter generated per instance (L = 3, K = 2).
  const relaxed = exportModel(spec(`  share body: all relax ${args}`), 'H', { ops: 'standard' });
  assert.equal(relaxed.initializerElements, relaxed.storedParams);
  const layerParams = D * D + (D * D + D);
  assert.equal(relaxed.storedParams, base - BigInt((LAYERS - 1) * layerParams) + BigInt(generatorParams(c, LAYERS, 2, D) + 4 * 4));
  const [gen] = generators(relaxed);
  assertClose(await runChecked(relaxed, { input_ids: idRows(IDS) }), reference(relaxed, (l, w, y) => adapted(relaxed, gen!, c, l, w === 'a' ? 0 : 1, y)), 1e-4, 'relaxed');
});

test('HyperFormer++ on T5-base (examples/hyperformer.npas) exports with its two generators: initializers = params.stored = 228,066,992', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'hyperformer.npas'), 'utf8');
  const none: WeightFill = () => new Uint8Array(0);
  const base = exportModel(text, 'T5Base', { fill: none });
  const hyper = exportModel(text, 'HyperFormerPP', { fill: none });
  for (const r of [base, hyper]) assert.equal(r.initializerElements, r.storedParams, r.modelName);
  // T5-base's 222,903,552 plus two generators of 2,581,464 and the 8 × 64 task table (the example's derivation).
  assert.equal(hyper.storedParams, 222_903_552n + 2n * 2_581_464n + 8n * 64n);
  assert.equal(generators(hyper).length, 2);
});
