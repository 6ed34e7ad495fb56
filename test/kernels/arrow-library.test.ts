// Arrow LoRA libraries (`arrow(rank, experts, top_k, shared_a)`) in the ONNX export
// (kernels/layers/arrow-library.ts): initializer elements equal params.stored, the graph runs on
// CPU, and its output equals Arrow's routing written out here on the graph's own initializers
// (PEFT's ArrowLoraLinearLayer.forward: |x·Pᵀ|, top-k, softmax over the k, Σ c_j·B_j·A_j·x),
// with each stored prototype equal to 15 power iterations on (B·A)ᵀ(B·A) from 1/√d_in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import type { WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, initializer, matvec, runChecked, silu } from './helpers.js';

const V = 29;
const D = 8;
const OUT = 12;
const HID = 10;
const IDS = [[3, 17, 8], [20, 6, 2]];

const linear = (adapter: string) => `
model M {
  embed = Embedding(${V}, ${D})
  proj  = Linear(${D}, ${OUT})
}
variant A of M { adapt proj: ${adapter} }
`;

const gated = (adapter: string) => `
model M {
  embed = Embedding(${V}, ${D})
  mlp   = GatedMLP(${D}, ${HID})
}
variant A of M { adapt mlp: ${adapter} }
`;

const key = (path: string, name: string, r: ExportResult, part: string): Float32Array => {
  const found = r.spec.graph.initializers.find((i) => i.name.startsWith(`${path}.${name}.arrow@`) && i.name.endsWith(`_${part}`));
  assert.ok(found, `${path}.${name} ${part}`);
  return initializer(r, found.name);
};

/** 15 power iterations v ← M·v / (‖M·v‖ + 1e-8), M = Aᵀ(Σ BᵀB)A, from v = 1/√d (dense M, unlike the exporter's low-rank steps). */
function prototype(A: Float32Array, Bs: readonly { v: Float32Array; dOut: number }[], e: number, r: number, d: number): number[] {
  const M = Array.from({ length: d * d }, () => 0);
  for (const { v: B, dOut } of Bs) {
    // ΔW = B_e·A_e [dOut, d]; M += ΔWᵀΔW.
    const dw = Array.from({ length: dOut * d }, (_, i) => {
      const [o, c] = [Math.floor(i / d), i % d];
      let s = 0;
      for (let j = 0; j < r; j++) s += B[(e * dOut + o) * r + j]! * A[(e * r + j) * d + c]!;
      return s;
    });
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) for (let o = 0; o < dOut; o++) M[a * d + b]! += dw[o * d + a]! * dw[o * d + b]!;
  }
  let v = Array.from({ length: d }, () => 1 / Math.sqrt(d));
  for (let it = 0; it < 15; it++) {
    const w = Array.from({ length: d }, (_, a) => v.reduce((s, x, b) => s + M[a * d + b]! * x, 0));
    const norm = Math.sqrt(w.reduce((s, x) => s + x * x, 0)) + 1e-8;
    v = w.map((x) => x / norm);
  }
  return v;
}

/** Arrow's Δy for one token x: top-k of |P·x|, softmax over them, Σ_j c_j·B_j(A_j·x). */
function arrowDelta(x: readonly number[], A: Float32Array, B: Float32Array, P: Float32Array, e: number, r: number, k: number, dOut: number): number[] {
  const d = x.length;
  const scores = Array.from({ length: e }, (_, j) => Math.abs(x.reduce((s, v, c) => s + v * P[j * d + c]!, 0)));
  const chosen = scores.map((s, j) => [s, j] as const).sort((a, b) => b[0] - a[0]).slice(0, k);
  const top = Math.max(...chosen.map(([s]) => s));
  const exps = chosen.map(([s]) => Math.exp(s - top));
  const total = exps.reduce((a, b) => a + b, 0);
  const y = new Array<number>(dOut).fill(0);
  chosen.forEach(([, j], i) => {
    const low = Array.from({ length: r }, (_, q) => x.reduce((s, v, c) => s + v * A[(j * r + q) * d + c]!, 0));
    for (let o = 0; o < dOut; o++) for (let q = 0; q < r; q++) y[o]! += (exps[i]! / total) * B[(j * dOut + o) * r + q]! * low[q]!;
  });
  return y;
}

const lastEmbeddings = (r: ExportResult): number[][] => IDS.map((row) => Array.from(initializer(r, 'embed.weight').subarray(row[row.length - 1]! * D, (row[row.length - 1]! + 1) * D)));

test('arrow on a Linear: library + prototypes stored (initializers = params.stored), prototypes are the power iteration, output equals Arrow routing', async () => {
  for (const [e, rank, k] of [[5, 2, 2], [4, 3, 1], [6, 1, 6]] as const) {
    const args = `arrow(rank: ${rank}, experts: ${e}, top_k: ${k})`;
    const r = exportModel(linear(args), 'A', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, args);
    // Over the base: E·r·(d_in + d_out) of LoRAs and E·d_in of prototypes.
    assert.equal(r.storedParams - exportModel(linear(args), 'M').storedParams, BigInt(e * rank * (D + OUT) + e * D), args);
    const A = key('proj', 'weight', r, 'a');
    const B = key('proj', 'weight', r, 'b');
    const P = key('proj', 'weight', r, 'protos');
    for (let j = 0; j < e; j++) assertClose(P.subarray(j * D, (j + 1) * D), prototype(A, [{ v: B, dOut: OUT }], j, rank, D), 1e-4, `${args} prototype ${j}`);
    const W = initializer(r, 'proj.weight');
    const expected = lastEmbeddings(r).flatMap((x) => {
      const y = matvec(W, x, OUT);
      return arrowDelta(x, A, B, P, e, rank, k, OUT).map((v, o) => v + y[o]!);
    });
    assertClose(await runChecked(r, { input_ids: idRows(IDS) }), expected, 1e-5, args);
  }
});

test('arrow with shared_a: [gate, up] on a GatedMLP: one A and one prototype for both, from the stacked B; initializers = params.stored; output as written out', async () => {
  const [e, rank, k] = [5, 2, 2];
  const args = `arrow(rank: ${rank}, experts: ${e}, top_k: ${k}, targets: [gate, up, down], shared_a: [gate, up])`;
  const r = exportModel(gated(args), 'A', { ops: 'standard' });
  assert.equal(r.initializerElements, r.storedParams);
  // gate holds A (E·r·D) and the prototypes (E·D); gate and up each their B (E·r·HID); down a library of its own.
  const expectedExtra = e * rank * D + e * D + 2 * e * rank * HID + (e * rank * (HID + D) + e * HID);
  assert.equal(r.storedParams - exportModel(gated(args), 'M').storedParams, BigInt(expectedExtra));
  const A = key('mlp', 'gate', r, 'a');
  const P = key('mlp', 'gate', r, 'protos');
  const Bg = key('mlp', 'gate', r, 'b');
  const Bu = key('mlp', 'up', r, 'b');
  assert.ok(!r.spec.graph.initializers.some((i) => i.name.startsWith('mlp.up.arrow@') && !i.name.endsWith('_b')), 'up reads gate\'s A and prototypes');
  for (let j = 0; j < e; j++) assertClose(P.subarray(j * D, (j + 1) * D), prototype(A, [{ v: Bg, dOut: HID }, { v: Bu, dOut: HID }], j, rank, D), 1e-4, `prototype ${j}`);
  const Ad = key('mlp', 'down', r, 'a');
  const Bd = key('mlp', 'down', r, 'b');
  const Pd = key('mlp', 'down', r, 'protos');
  const [Wg, Wu, Wd] = ['gate', 'up', 'down'].map((n) => initializer(r, `mlp.${n}`));
  const expected = lastEmbeddings(r).flatMap((x) => {
    const g = matvec(Wg!, x, HID).map((v, i) => v + arrowDelta(x, A, Bg, P, e, rank, k, HID)[i]!);
    const u = matvec(Wu!, x, HID).map((v, i) => v + arrowDelta(x, A, Bu, P, e, rank, k, HID)[i]!);
    const h = g.map((v, i) => silu(v) * u[i]!);
    // A top-level MLP is residual: x + down(…).
    return matvec(Wd!, h, D).map((v, i) => x[i]! + v + arrowDelta(h, Ad, Bd, Pd, e, rank, k, D)[i]!);
  });
  assertClose(await runChecked(r, { input_ids: idRows(IDS) }), expected, 1e-5, args);
});

test('the Arrow gallery example (Phi-2 with 256 rank-4 experts) exports at its exact size: initializers = params.stored', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'arrow-library.npas'), 'utf8');
  const none: WeightFill = () => new Uint8Array(0);
  const r = exportModel(text, 'Phi2ArrowLibrary', { fill: none });
  // Phi-2's 2,779,683,840 + 32 layers × (6 × 256 × 4 × 2560 of LoRAs + 2 × 256 × 2560 of prototypes).
  assert.equal(r.storedParams, 2_779_683_840n + 32n * (6n * 256n * 4n * 2_560n + 2n * 256n * 2_560n));
  assert.equal(r.initializerElements, r.storedParams);
});
