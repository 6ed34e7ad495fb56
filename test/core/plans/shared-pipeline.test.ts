// Sharing under pipeline parallelism (docs/plans.md, "Sharing-aware rules"): a store read by
// instances on several pipeline ranks is held by each of those ranks and its gradient is
// all-reduced across them after the step, as Megatron does for the tied embedding of the first
// and last stage. A GPT of 8 layers (h 256) cut into 2 stages of 4 layers, against its unshared
// twin; every expected figure is derived here from the layer's 12h² + 4h params.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { megatronGpt, plan, settings, source } from './fixtures.js';

const h = 256n;
const V = 1000n;
const layer = 12n * h * h + 4n * h;
const attn = 4n * h * h;
const spec = `${megatronGpt(8, 256, 4, 1000)}
variant Universal of GPT {
  share h: all
}
variant Cycle of GPT {
  share h: cycle(2)
}
variant Sequence of GPT {
  share h: sequence(2)
}
variant SharedAttention of GPT {
  share h.attn: all
}
`;

function pp2(name: string): ReturnType<typeof plan> {
  return plan(source(spec, 64, name), settings({ pp: 2 }, { seq: 64, globalBatch: 4 }));
}

const stageParams = (name: string): bigint[] => pp2(name).stages.map((s) => s.params);
const replicated = (name: string): [string, bigint, number[]][] => pp2(name).replicated.map((r) => [r.store, r.params, [...r.ranks]]);

test('unshared: 4 layers a stage; the tied table is held by the first and the last stage', () => {
  assert.deepEqual(stageParams('GPT'), [V * h + 4n * layer, 4n * layer + 2n * h + V * h]);
  assert.deepEqual(replicated('GPT'), [['tie:wte', V * h, [0, 1]]]);
});

test('one block shared by all 8 layers (Universal Transformer): each stage stores it once, and all-reduces its gradient', () => {
  assert.deepEqual(stageParams('Universal'), [V * h + layer, layer + 2n * h + V * h]);
  assert.deepEqual(replicated('Universal').sort(), [['slot:h:0', layer, [0, 1]], ['tie:wte', V * h, [0, 1]]]);
  // Per-stage weights differ from the twin's by 3 layers (bf16: 2 bytes each).
  const twin = pp2('GPT').stages;
  pp2('Universal').stages.forEach((s, r) => assert.equal(twin[r]!.bytes.weights - s.bytes.weights, 2n * 3n * layer));
});

test('cycle(2): both stores are read on both stages, so both are replicated', () => {
  assert.deepEqual(stageParams('Cycle'), [V * h + 2n * layer, 2n * layer + 2n * h + V * h]);
  assert.deepEqual(replicated('Cycle').filter((r) => r[0].startsWith('slot:')), [['slot:h:0', layer, [0, 1]], ['slot:h:1', layer, [0, 1]]]);
});

test('sequence(2) puts one store on each stage: nothing to replicate or all-reduce beyond the tied table', () => {
  assert.deepEqual(stageParams('Sequence'), [V * h + layer, layer + 2n * h + V * h]);
  assert.deepEqual(replicated('Sequence'), [['tie:wte', V * h, [0, 1]]]);
});

test('a shared sub-block (attention only): the shared part is replicated, each layer keeps its own MLP and norms', () => {
  const own = layer - attn;
  assert.deepEqual(stageParams('SharedAttention'), [V * h + attn + 4n * own, attn + 4n * own + 2n * h + V * h]);
  assert.deepEqual(replicated('SharedAttention').filter((r) => r[0].startsWith('slot:')), [['slot:h.attn:0', attn, [0, 1]]]);
});

test('the extra all-reduce: ring over the 2 ranks, 2·(n−1)/n of the bf16 gradients at the intra-node link', () => {
  const link = 450e9; // H100 NVLink, one direction (devices.ts)
  const grads = (params: bigint): number => (2 * Number(params)) / link;
  const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(a, b), `${a} vs ${b}`);
  close(pp2('GPT').step.sharedStores, grads(V * h));
  close(pp2('Universal').step.sharedStores, grads(V * h) + grads(layer));
  close(pp2('Cycle').step.sharedStores, grads(V * h) + 2 * grads(layer));
  close(pp2('Sequence').step.sharedStores, grads(V * h));
});

test('a hashed memory (ROAST) serves every layer: each pipeline rank holds it, and its gradient is all-reduced across them', () => {
  const roast = `${megatronGpt(8, 256, 4, 1000)}
variant Roast of GPT {
  hash h: roast(memory: 65_536)
}
`;
  const src = source(roast, 64, 'Roast');
  const p = plan(src, settings({ pp: 2 }, { seq: 64, globalBatch: 4 }));
  const memory = 65_536n;
  // The model stores the memory once; each of the two ranks holds it.
  const held = p.stages.reduce((a, s) => a + s.params, 0n);
  const tie = V * h;
  assert.equal(held, src.report.params.stored + memory + tie);
  assert.deepEqual(p.replicated.find((r) => r.store === 'global stores'), { store: 'global stores', params: memory, ranks: [0, 1] });
  assert.ok(p.stages.every((s) => s.holds.includes('global stores')));
});

test('two sub-blocks shared with the same map (WideNet: attention and MLP) travel together as one store', () => {
  const widenet = `${spec}
variant Wide of GPT {
  share h.attn, h.mlp: all
}
`;
  const p = plan(source(widenet, 64, 'Wide'), settings({ pp: 2 }, { seq: 64, globalBatch: 4 }));
  const shared = layer - 4n * h; // attention and MLP; the two LayerNorms (4h) stay per layer
  assert.deepEqual(p.stages.map((s) => s.params), [V * h + shared + 4n * 4n * h, shared + 4n * 4n * h + 2n * h + V * h]);
  assert.deepEqual(p.replicated.filter((r) => r.store.startsWith('slot:')).map((r) => [r.store, r.params]), [['slot:h.attn:0+slot:h.mlp:0', shared]]);
  assert.deepEqual(p.notes, []);
});
