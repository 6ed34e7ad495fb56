// LBDN sandwich layers exported to ONNX and run on onnxruntime-node's CPU provider: the graph
// builds the Cayley transform from exactly the stored free weight, gain, ψ and bias (initializer
// elements == params.stored), and its output equals the network computed here, in the test, from
// the recorded stored values by the paper's formulas (Wang & Manchester 2023, acfr/LBDN `cayley`,
// `SandwichFc`, `SandwichLin`) — with the Cayley factor's orthogonality, which makes each layer
// 1-Lipschitz, checked on the way. The generation MACs are the engine's; live == materialised.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/core/index.js';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, runSynthetic } from './helpers.js';

const VOCAB = 61;
const TEXT = `model S {
  first = SandwichLinear(4, 8)
  body  = SandwichLinear(8, 8, bias: false) * 2
  out   = SandwichLinear(8, 3, last: true)
}
`;
const LAYERS = [
  { key: 'first', m: 4, n: 8, bias: true, last: false },
  { key: 'body[0]', m: 8, n: 8, bias: false, last: false },
  { key: 'body[1]', m: 8, n: 8, bias: false, last: false },
  { key: 'out', m: 8, n: 3, bias: true, last: true },
];

type Matrix = number[][];
const zeros = (r: number, c: number): Matrix => Array.from({ length: r }, () => new Array<number>(c).fill(0));
const mul = (a: Matrix, b: Matrix): Matrix => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const tr = (a: Matrix): Matrix => a[0]!.map((_, j) => a.map((row) => row[j]!));
const eye = (n: number): Matrix => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));

/** Gauss–Jordan inverse with partial pivoting. */
function inverse(a: Matrix): Matrix {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...eye(n)[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const d = m[c]![c]!;
    for (let j = 0; j < 2 * n; j++) m[c]![j]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let j = 0; j < 2 * n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row) => row.slice(n));
}

/** acfr/LBDN `cayley(α·W/‖W‖)` of a [n, m + n] free weight: Q_A (n×n) and Q_B (m×n). */
function cayley(w: Float32Array, alpha: number, n: number, m: number): { qa: Matrix; qb: Matrix } {
  const norm = Math.sqrt(w.reduce((s, v) => s + v * v, 0));
  const wt = (i: number, j: number): number => (alpha * w[i * (m + n) + j]!) / norm;
  const U: Matrix = zeros(n, n).map((row, i) => row.map((_, j) => wt(j, i)));
  const V: Matrix = zeros(m, n).map((row, i) => row.map((_, j) => wt(j, n + i)));
  const vtv = mul(tr(V), V);
  const A: Matrix = U.map((row, i) => row.map((u, j) => u - U[j]![i]! + vtv[i]![j]!));
  const I = eye(n);
  const inv = inverse(A.map((row, i) => row.map((v, j) => I[i]![j]! + v)));
  const qa = mul(inv, A.map((row, i) => row.map((v, j) => I[i]![j]! - v)));
  const qb = mul(V, inv).map((row) => row.map((v) => -2 * v));
  return { qa, qb };
}

test('SandwichLinear: the Cayley transform built in-graph from the stored tensors == the LBDN network computed from the paper', async () => {
  const stored = new Map<string, Float32Array>();
  const fill: WeightFill = (key, shape, dtype, scale, offset) => {
    const raw = defaultFill(key, shape, dtype, scale, offset);
    stored.set(key, new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    return raw;
  };
  const r: ExportResult = exportModel(TEXT, 'S', { fill });
  const engine = analyze(TEXT).models[0]!;
  // first: 8·12 + ψ 8 + bias 8 + α; body: 8·16 + ψ 8 + α, twice; out: 3·11 + α + bias 3.
  assert.equal(engine.params.stored, 96n + 17n + 2n * 137n + 37n);
  assert.equal(r.initializerElements, engine.params.stored, 'initializer elements == params.stored');
  assert.equal(6n * r.generation.macs, engine.flops.generationPerStep, 'the graph generates what the engine counts');
  const y = await runSynthetic(r, 2, 5, VOCAB);
  assertClose(y, await runSynthetic(exportModel(TEXT, 'S', { generation: 'live' }), 2, 5, VOCAB), 1e-5, 'live == materialised');

  // The exporter's input features for a Linear-first model: sin(0.37·id + j/width); the ids are
  // (i·7 + 3) mod 61 and the output is each row's last token (position 4 of 5).
  const expected: number[] = [];
  for (let b = 0; b < 2; b++) {
    const id = ((b * 5 + 4) * 7 + 3) % VOCAB;
    let h = Array.from({ length: 4 }, (_, j) => Math.sin(0.37 * id + j / 4));
    for (const l of LAYERS) {
      const { qa, qb } = cayley(stored.get(`${l.key}.weight`)!, stored.get(`${l.key}.alpha`)![0]!, l.n, l.m);
      // [Q_A; Q_B] has orthonormal columns: Q_AᵀQ_A + Q_BᵀQ_B = I (what makes the layer 1-Lipschitz).
      const gram = mul(tr(qa), qa).map((row, i) => row.map((v, j) => v + mul(tr(qb), qb)[i]![j]!));
      gram.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-4, `${l.key}: Cayley factor orthogonal`)));
      const bias = l.bias ? stored.get(`${l.key}.bias`)! : new Float32Array(l.n);
      const bh = mul([h], qb)[0]!; // B·h
      if (l.last) {
        h = bh.map((v, i) => v + bias[i]!);
        continue;
      }
      const psi = stored.get(`${l.key}.psi`)!;
      const z = bh.map((v, i) => Math.max(0, Math.SQRT2 * Math.exp(-psi[i]!) * v + bias[i]!) * Math.exp(psi[i]!));
      h = mul([z], tr(qa))[0]!.map((v) => Math.SQRT2 * v); // √2 Aᵀ Ψ z
    }
    expected.push(...h);
  }
  assertClose(y, expected, 1e-4, 'the network from the paper');
});

test('SandwichConv2d is refused by name by the exporter', () => {
  assert.throws(() => exportModel('model C {\n  c = SandwichConv2d(3, 8, 3, size: 8)\n}\n', 'C'), /SandwichConv2d/);
});
