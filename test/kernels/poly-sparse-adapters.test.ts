// Polytropon / Multi-Head Routing inventories (`poly`) and FISH sparse masks (`sparse(elements)`)
// in the ONNX export (kernels/layers/adapters.ts): initializer elements equal params.stored, the
// graph runs on CPU, and its output equals an independent computation written here on the
// graph's own initializers — PEFT's PolyLayer at inference for task 0 (σ(logits) normalised over
// the skills, A and B mixed per split), and W with k entries replaced at the documented positions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import type { WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, initializer, runChecked, sigmoid } from './helpers.js';

const V = 29;
const D = 8;
const OUT = 12;
const spec = (adapter: string) => `
model M {
  embed = Embedding(${V}, ${D})
  proj  = Linear(${D}, ${OUT})
}
variant A of M { adapt proj: ${adapter} }
`;

const IDS = [[3, 17, 8], [20, 6, 2]];

/** y = W·x for W [out, in] row-major. */
const matvec = (W: ArrayLike<number>, x: ArrayLike<number>, out: number): number[] =>
  Array.from({ length: out }, (_, o) => {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += W[o * x.length + i]! * x[i]!;
    return s;
  });

/** The last token's embedding of each row. */
const lastEmbeddings = (r: ExportResult): number[][] => IDS.map((row) => Array.from(initializer(r, 'embed.weight').subarray(row[row.length - 1]! * D, (row[row.length - 1]! + 1) * D)));

/**
 * PolyLayer for task 0: w = σ(logits[0]) / Σ_skills per split; A = Σ_s w_qs·A_qs stacked over the
 * splits q along d_in (reshape(bs, in_features, r)), B likewise along d_out (transpose(1, 2) then
 * reshape(bs, r, out_features)); y = W·x + (x·A)·B.
 */
function polyReference(r: ExportResult, rank: number, skills: number, splits: number): number[] {
  const W = initializer(r, 'proj.weight');
  const invA = initializer(r, 'proj.weight.poly_a'); // [h, m, D/h, r]
  const invB = initializer(r, 'proj.weight.poly_b'); // [h, m, r, OUT/h]
  const logits = initializer(r, 'proj.weight.poly_logits'); // [tasks, h·m]
  const inH = D / splits;
  const outH = OUT / splits;
  return lastEmbeddings(r).flatMap((x) => {
    const y = matvec(W, x, OUT);
    const w = Array.from({ length: splits }, (_, q) => {
      const sig = Array.from({ length: skills }, (_, s) => sigmoid(logits[q * skills + s]!));
      const total = sig.reduce((a, b) => a + b, 0) + 1e-12;
      return sig.map((v) => v / total);
    });
    // x·A: every split's rows of A (split q of x times Σ_s w_qs·A_qs), summed into one rank-r vector.
    const low = new Array<number>(rank).fill(0);
    for (let q = 0; q < splits; q++) for (let s = 0; s < skills; s++) for (let i = 0; i < inH; i++) for (let k = 0; k < rank; k++) low[k]! += w[q]![s]! * x[q * inH + i]! * invA[((q * skills + s) * inH + i) * rank + k]!;
    // ·B: split q of the output from Σ_s w_qs·B_qs.
    for (let q = 0; q < splits; q++) for (let s = 0; s < skills; s++) for (let k = 0; k < rank; k++) for (let j = 0; j < outH; j++) y[q * outH + j]! += w[q]![s]! * low[k]! * invB[((q * skills + s) * rank + k) * outH + j]!;
    return y;
  });
}

test('poly (Polytropon, Multi-Head Routing): inventory, per-task logits; initializers = params.stored; task 0 equals PolyLayer', async () => {
  for (const [args, rank, skills, splits, tasks] of [
    ['poly(rank: 2, skills: 3)', 2, 3, 1, 1],
    ['poly(rank: 2, skills: 3, splits: 2, tasks: 4)', 2, 3, 2, 4],
    ['poly(rank: 3, skills: 4, splits: 4, tasks: 2)', 3, 4, 4, 2],
  ] as const) {
    const r = exportModel(spec(args), 'A', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, args);
    // Stored over the base: the inventory r·(d_in + d_out)·skills once, splits·skills logits per task.
    const base = exportModel(spec('lora(rank: 1)'), 'M').storedParams;
    assert.equal(r.storedParams - base, BigInt(rank * (D + OUT) * skills + tasks * splits * skills), args);
    assertClose(await runChecked(r, { input_ids: idRows(IDS) }), polyReference(r, rank, skills, splits), 1e-5, args);
  }
});

test('sparse(elements: k) (FISH): k values per target (per task), merged into W at fixed positions; initializers = params.stored', async () => {
  for (const [args, k, tasks] of [
    ['sparse(elements: 5)', 5, 1],
    ['sparse(elements: 96)', 96, 1],
    ['sparse(elements: 7, tasks: 3)', 7, 3],
  ] as const) {
    const r = exportModel(spec(args), 'A', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, args);
    assert.equal(r.storedParams - exportModel(spec('lora(rank: 1)'), 'M').storedParams, BigInt(k * tasks), args);
    // W with entry j of the mask at flat index ⌊j·OUT·D / k⌋ replaced by task 0's value j.
    const W = Array.from(initializer(r, 'proj.weight'));
    const values = initializer(r, 'proj.weight.sparse');
    assert.equal(values.length, k * tasks);
    for (let j = 0; j < k; j++) W[Math.floor((j * OUT * D) / k)] = values[j]!;
    const expected = lastEmbeddings(r).flatMap((x) => matvec(W, x, OUT));
    const out = await runChecked(r, { input_ids: idRows(IDS) });
    assertClose(out, expected, 1e-6, args);
    // The merged weight differs from the base: the plain model's output is not the same.
    const plain = await runChecked(exportModel(spec(args), 'M', { ops: 'standard' }), { input_ids: idRows(IDS) });
    assert.ok(plain.some((v, i) => Math.abs(v - out[i]!) > 1e-4), `${args}: the mask changes the output`);
  }
  // The matmul runs the dense weight once, as the engine counts: no extra Gemm for the mask.
  const r = exportModel(spec('sparse(elements: 5)'), 'A', { ops: 'standard' });
  assert.equal(r.spec.graph.nodes.filter((n) => n.op === 'Gemm' || n.op === 'MatMul').length, 1);
  assert.equal(r.report.flops.decode, exportModel(spec('sparse(elements: 5)'), 'M').report.flops.decode);
});

// FISH's pooled mask (`train PATHS: sparse(elements: k)`): the k elements are the base weights'
// own, trained in place, so the export is the base graph: initializers = params.stored (nothing
// added), trainable = k, and the step computes exactly the plain model's outputs.
test('train PATHS: sparse(elements: k) (FISH, pooled): the base graph, initializers = params.stored, outputs as the plain model', async () => {
  const text = `
model M {
  embed = Embedding(${V}, ${D})
  proj  = Linear(${D}, ${OUT})
}
variant F of M { train embed, proj: sparse(elements: 40) }
`;
  const pooled = exportModel(text, 'F', { ops: 'standard' });
  const plain = exportModel(text, 'M', { ops: 'standard' });
  // Embedding V·D = 232, Linear D·OUT = 96 (no bias by default): 328 stored either way.
  assert.equal(pooled.storedParams, BigInt(V * D + D * OUT));
  assert.equal(plain.storedParams, pooled.storedParams);
  assert.equal(pooled.initializerElements, pooled.storedParams);
  assert.equal(pooled.report.params.trainable, 40n);
  assertClose(await runChecked(pooled, { input_ids: idRows(IDS) }), Array.from(await runChecked(plain, { input_ids: idRows(IDS) })), 1e-12, 'the same graph');
});

test('the Polytropon gallery example (Flan-T5-XL, PEFT\'s notebook) exports at its exact size: initializers = params.stored', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'polytropon.npas'), 'utf8');
  const none: WeightFill = () => new Uint8Array(0);
  // Flan-T5-XL's 2,849,757,184 plus 144 targets × (2 skills × 8 × 4,096 + 4 tasks × h × 2 skills).
  for (const [name, splits] of [['MultiHeadRouting', 4n], ['Polytropon', 1n]] as const) {
    const r = exportModel(text, name, { fill: none });
    assert.equal(r.storedParams, 2_849_757_184n + 144n * (2n * 8n * 4_096n + 4n * splits * 2n), name);
    assert.equal(r.initializerElements, r.storedParams, name);
  }
});
