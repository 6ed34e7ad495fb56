// LBDN sandwich layers exported to ONNX and run on onnxruntime-node's CPU provider: the graph
// builds the Cayley transform from exactly the stored free weight, gain, ψ and bias (initializer
// elements == params.stored), and its output equals the network computed here, in the test, from
// the recorded stored values by the paper's formulas (Wang & Manchester 2023, acfr/LBDN `cayley`,
// `SandwichFc`, `SandwichLin`) — with the Cayley factor's orthogonality, which makes each layer
// 1-Lipschitz, checked on the way. The generation MACs are the engine's; live == materialised.
// SandwichConv2d likewise, per spatial frequency, against acfr/LBDN's `SandwichConv` written out
// with complex numbers.

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

interface LinearLayer { readonly key: string; readonly m: number; readonly n: number; readonly bias: boolean; readonly last: boolean }

/** acfr/LBDN `SandwichFc` (or `SandwichLin` with `last`) on one row with the stored tensors. */
function sandwichLinearReference(stored: ReadonlyMap<string, Float32Array>, l: LinearLayer, h: number[]): number[] {
  const { qa, qb } = cayley(stored.get(`${l.key}.weight`)!, stored.get(`${l.key}.alpha`)![0]!, l.n, l.m);
  // [Q_A; Q_B] has orthonormal columns: Q_AᵀQ_A + Q_BᵀQ_B = I (what makes the layer 1-Lipschitz).
  const gram = mul(tr(qa), qa).map((row, i) => row.map((v, j) => v + mul(tr(qb), qb)[i]![j]!));
  gram.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-4, `${l.key}: Cayley factor orthogonal`)));
  const bias = l.bias ? stored.get(`${l.key}.bias`)! : new Float32Array(l.n);
  const bh = mul([h], qb)[0]!; // B·h
  if (l.last) return bh.map((v, i) => v + bias[i]!);
  const psi = stored.get(`${l.key}.psi`)!;
  const z = bh.map((v, i) => Math.max(0, Math.SQRT2 * Math.exp(-psi[i]!) * v + bias[i]!) * Math.exp(psi[i]!));
  return mul([z], tr(qa))[0]!.map((v) => Math.SQRT2 * v); // √2 Aᵀ Ψ z
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
    for (const l of LAYERS) h = sandwichLinearReference(stored, l, h);
    expected.push(...h);
  }
  assertClose(y, expected, 1e-4, 'the network from the paper');
});

// SandwichConv2d: acfr/LBDN's `SandwichConv.forward`, written out here with complex numbers and
// naive transforms (rfft2 by its definition, irfft2 by completing the Hermitian spectrum), not the
// exporter's separable tables or real embedding.
type C = readonly [number, number];
type CMatrix = C[][];
const cadd = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
const csub = (a: C, b: C): C => [a[0] - b[0], a[1] - b[1]];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cdiv = (a: C, b: C): C => {
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
};
const conj = (a: C): C => [a[0], -a[1]];
const cexp = (angle: number): C => [Math.cos(angle), Math.sin(angle)];
const cscale = (a: C, s: number): C => [a[0] * s, a[1] * s];
const cmm = (a: CMatrix, b: CMatrix): CMatrix => a.map((row) => b[0]!.map((_, j) => row.reduce<C>((s, v, k) => cadd(s, cmul(v, b[k]![j]!)), [0, 0])));
const ctr = (a: CMatrix): CMatrix => a[0]!.map((_, j) => a.map((row) => row[j]!));
const cH = (a: CMatrix): CMatrix => ctr(a).map((row) => row.map(conj));
const ceye = (n: number): CMatrix => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): C => [i === j ? 1 : 0, 0]));

function cinverse(a: CMatrix): CMatrix {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...ceye(n)[i]!]);
  const abs = (v: C): number => Math.hypot(v[0], v[1]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (abs(m[r]![c]!) > abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const d = m[c]![c]!;
    m[c] = m[c]!.map((v) => cdiv(v, d));
    for (let r = 0; r < n; r++) if (r !== c) {
      const f = m[r]![c]!;
      m[r] = m[r]!.map((v, j) => csub(v, cmul(f, m[c]![j]!)));
    }
  }
  return m.map((row) => row.slice(n));
}

/** torch.fft.rfft2 of a real n×n map (zero-padded to n×n): X[u][v], v ≤ ⌊n/2⌋. */
function rfft2(x: number[][], n: number): CMatrix {
  const h = Math.floor(n / 2) + 1;
  return Array.from({ length: n }, (_, u) => Array.from({ length: h }, (_, v) => {
    let s: C = [0, 0];
    x.forEach((row, p) => row.forEach((val, q) => (s = cadd(s, cscale(cexp((-2 * Math.PI * (u * p + v * q)) / n), val)))));
    return s;
  }));
}

/** torch.fft.irfft2: the full spectrum by Hermitian symmetry, its inverse transform's real part. */
function irfft2(y: CMatrix, n: number): number[][] {
  const h = Math.floor(n / 2) + 1;
  const full = (u: number, v: number): C => (v < h ? y[u]![v]! : conj(y[(n - u) % n]![n - v]!));
  return Array.from({ length: n }, (_, p) => Array.from({ length: n }, (_, q) => {
    let s = 0;
    for (let u = 0; u < n; u++) for (let v = 0; v < n; v++) s += cmul(full(u, v), cexp((2 * Math.PI * (u * p + v * q)) / n))[0];
    return s / (n * n);
  }));
}

interface ConvLayer { readonly key: string; readonly cIn: number; readonly cOut: number; readonly k: number; readonly bias: boolean }

/** acfr/LBDN `SandwichConv.forward` on one sample [c_in][n][n] with the stored tensors. */
function sandwichConvReference(stored: ReadonlyMap<string, Float32Array>, l: ConvLayer, x: number[][][], n: number): number[][][] {
  const h = Math.floor(n / 2) + 1;
  const chn = l.cIn + l.cOut;
  const w = stored.get(`${l.key}.weight`)!;
  const alpha = stored.get(`${l.key}.alpha`)![0]!;
  const psi = stored.get(`${l.key}.psi`)!;
  const bias = l.bias ? stored.get(`${l.key}.bias`)! : new Float32Array(l.cOut);
  // wfft = conj(shift · rfft2(weight, (n, n))), shift = fft_shift_matrix(n, −s), s = (k − 1) // 2.
  const s = Math.floor((l.k - 1) / 2);
  const kernelSpectra = Array.from({ length: l.cOut }, (_, o) => Array.from({ length: chn }, (_, c) => {
    const padded = Array.from({ length: n }, (_, p) => Array.from({ length: n }, (_, q) => (p < l.k && q < l.k ? w[((o * chn + c) * l.k + p) * l.k + q]! : 0)));
    return rfft2(padded, n);
  }));
  const wfft = (u: number, v: number): CMatrix => kernelSpectra.map((row) => row.map((spec) => conj(cmul(cexp((2 * Math.PI * -s * (u + v)) / n), spec[u]![v]!))));
  let norm2 = 0;
  for (let u = 0; u < n; u++) for (let v = 0; v < h; v++) for (const row of wfft(u, v)) for (const e of row) norm2 += e[0] * e[0] + e[1] * e[1];
  // cayley(α·wfft/‖wfft‖) per frequency: c_in + c_out > c_out, so through the transpose.
  const q = new Map<string, CMatrix>();
  for (let u = 0; u < n; u++) for (let v = 0; v < h; v++) {
    const wt = ctr(wfft(u, v).map((row) => row.map((e) => cscale(e, alpha / Math.sqrt(norm2)))));
    const U = wt.slice(0, l.cOut);
    const V = wt.slice(l.cOut);
    const vhv = cmm(cH(V), V);
    const A = U.map((row, i) => row.map((e, j) => cadd(csub(e, conj(U[j]![i]!)), vhv[i]![j]!)));
    const I = ceye(l.cOut);
    const inv = cinverse(A.map((row, i) => row.map((e, j) => cadd(I[i]![j]!, e))));
    const qt = [...cmm(inv, A.map((row, i) => row.map((e, j) => csub(I[i]![j]!, e)))), ...cmm(V, inv).map((row) => row.map((e) => cscale(e, -2)))];
    const Q = ctr(qt); // [c_out][c_in + c_out]
    // Q·Qᴴ = I: [A B] has orthonormal rows at every frequency (the layer is 1-Lipschitz).
    cmm(Q, cH(Q)).forEach((row, i) => row.forEach((e, j) => assert.ok(Math.hypot(e[0] - (i === j ? 1 : 0), e[1]) < 1e-4, `${l.key}: Cayley factor unitary at (${u}, ${v})`)));
    q.set(`${u},${v}`, Q);
  }
  const spectra = (maps: number[][][]): CMatrix[] => maps.map((m) => rfft2(m, n));
  const perFrequency = (xs: CMatrix[], f: (Q: CMatrix, col: CMatrix) => CMatrix, channels: number): number[][][] => {
    const out: CMatrix[] = Array.from({ length: channels }, () => Array.from({ length: n }, () => new Array<C>(h)));
    for (let u = 0; u < n; u++) for (let v = 0; v < h; v++) {
      const y = f(q.get(`${u},${v}`)!, xs.map((spec) => [spec[u]![v]!]));
      y.forEach(([e], o) => (out[o]![u]![v] = e!));
    }
    return out.map((spec) => irfft2(spec, n));
  };
  // √2·diag(e^{−ψ})·Q_B·x̂, back to space, + b.
  const mid = perFrequency(spectra(x), (Q, col) => cmm(Q.map((row) => row.slice(l.cOut)), col).map((r, o) => [cscale(r[0]!, Math.SQRT2 * Math.exp(-psi[o]!))]), l.cOut)
    .map((m, o) => m.map((row) => row.map((e) => Math.max(0, e + bias[o]!))));
  // √2·Q_Aᴴ·diag(e^ψ)·relu(·)^.
  return perFrequency(spectra(mid), (Q, col) => cmm(cH(Q.map((row) => row.slice(0, l.cOut))), col.map((r, o) => [cscale(r[0]!, Math.exp(psi[o]!))])).map((r) => [cscale(r[0]!, Math.SQRT2)]), l.cOut);
}

const CONV_TEXT = `model C {
  c1   = SandwichConv2d(3, 4, 3, size: 6)
  c2   = SandwichConv2d(4, 4, 2, size: 6, bias: false)
  flat = Flatten()
}
model D {
  c    = SandwichConv2d(2, 3, 4, size: 5)
  flat = Flatten()
}
model F {
  c1   = SandwichConv2d(2, 3, 3, size: 8)
  c2   = SandwichConv2d(12, 3, 1, size: 4)
  flat = Flatten()
  fc   = SandwichLinear(48, 5)
  out  = SandwichLinear(5, 2, last: true)
}
`;

test('SandwichConv2d: the Fourier-domain Cayley transform built in-graph from the stored kernel == acfr/LBDN SandwichConv computed from the paper; 1-Lipschitz end to end', async () => {
  const cases = [
    // c1: 4·(3 + 4)·3·3 + ψ 4 + α + bias 4 = 261; c2: 4·8·2·2 + ψ 4 + α = 133.
    { model: 'C', n: 6, stored: 261n + 133n, layers: [{ key: 'c1', cIn: 3, cOut: 4, k: 3, bias: true }, { key: 'c2', cIn: 4, cOut: 4, k: 2, bias: false }] },
    // An odd side (no Nyquist bin) and an even kernel: 3·5·4·4 + 3 + 1 + 3 = 247.
    { model: 'D', n: 5, stored: 247n, layers: [{ key: 'c', cIn: 2, cOut: 3, k: 4, bias: true }] },
    // acfr/LBDN's stride 2: c2 reads c1's 3×8×8 map as its 2×2 space-to-depth 12×4×4, then a flattened
    // SandwichFc and SandwichLin head. c1: 3·5·9 + 3 + 1 + 3 = 142; c2: 3·15 + 3 + 1 + 3 = 52;
    // fc: 5·(48 + 5) + 5 + 5 + 1 = 276; out: 2·(5 + 2) + 1 + 2 = 17.
    {
      model: 'F', n: 8, stored: 142n + 52n + 276n + 17n,
      layers: [{ key: 'c1', cIn: 2, cOut: 3, k: 3, bias: true }, { key: 'c2', cIn: 12, cOut: 3, k: 1, bias: true, n: 4 }],
      head: [{ key: 'fc', m: 48, n: 5, bias: true, last: false }, { key: 'out', m: 5, n: 2, bias: true, last: true }],
    },
  ] as { model: string; n: number; stored: bigint; layers: (ConvLayer & { n?: number })[]; head?: LinearLayer[] }[];
  for (const c of cases) {
    const stored = new Map<string, Float32Array>();
    const fill: WeightFill = (key, shape, dtype, scale, offset) => {
      const raw = defaultFill(key, shape, dtype, scale, offset);
      stored.set(key, new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
      return raw;
    };
    const r = exportModel(CONV_TEXT, c.model, { fill });
    const engine = analyze(CONV_TEXT).models.find((m) => m.name === c.model)!;
    assert.equal(engine.params.stored, c.stored);
    assert.equal(r.initializerElements, engine.params.stored, `${c.model}: initializer elements == params.stored`);
    // Generation per step: 4 real multiply-adds per complex one, F = n·(⌊n/2⌋ + 1) frequencies,
    // one Cayley transform of 2·c_out²·(c_in + c_out) complex multiply-adds each; 6 FLOPs per MAC
    // (forward and backward) as the engine reports generation.
    const frequencies = (n: number): bigint => BigInt(n * (Math.floor(n / 2) + 1));
    const macs =
      c.layers.reduce((sum, l) => sum + 4n * frequencies(l.n ?? c.n) * 2n * BigInt(l.cOut * l.cOut * (l.cIn + l.cOut)), 0n) +
      (c.head ?? []).reduce((sum, l) => sum + 2n * BigInt(l.n * l.n * (l.m + l.n)), 0n);
    assert.equal(r.generation.macs, macs);
    assert.equal(6n * macs, engine.flops.generationPerStep, `${c.model}: the graph generates what the engine counts`);
    const y = await runSynthetic(r, 2, 5, VOCAB);
    assertClose(y, await runSynthetic(exportModel(CONV_TEXT, c.model, { generation: 'live' }), 2, 5, VOCAB), 1e-5, 'live == materialised');

    // The exporter's image (kernels/layers/image.ts): sin(0.37·t + j/N) at flat index j of the
    // N = c_in·n² elements, t the sequence's first id ((b·5)·7 + 3) mod 61.
    const n = c.n;
    const cIn = c.layers[0]!.cIn;
    const images = [0, 1].map((b) => {
      const t = (b * 5 * 7 + 3) % VOCAB;
      return Array.from({ length: cIn }, (_, ch) => Array.from({ length: n }, (_, p) => Array.from({ length: n }, (_, q) => Math.sin(0.37 * t + (ch * n * n + p * n + q) / (cIn * n * n)))));
    });
    // einops `b c (w k1) (h k2) -> b (c k1 k2) w h` where a layer reads 4× the channels at half the side.
    const spaceToDepth = (x: number[][][]): number[][][] =>
      x.flatMap((map) => [0, 1].flatMap((k1) => [0, 1].map((k2) => Array.from({ length: map.length / 2 }, (_, w) => Array.from({ length: map.length / 2 }, (_, hh) => map[2 * w + k1]![2 * hh + k2]!)))));
    const outputs = images.map((img) => {
      const maps = c.layers.reduce((x, l) => sandwichConvReference(stored, l, x.length * 4 === l.cIn ? spaceToDepth(x) : x, l.n ?? n), img);
      return (c.head ?? []).reduce((row, l) => sandwichLinearReference(stored, l, row), maps.flat(2));
    });
    assertClose(y, outputs.flat(), 1e-4, `${c.model}: the network from the paper`);
    // Every layer is 1-Lipschitz, so is the network: the two samples' outputs lie no further apart than their images.
    const dist = (a: number[], b: number[]): number => Math.hypot(...a.map((v, i) => v - b[i]!));
    const width = y.length / 2;
    assert.ok(dist([...y.slice(0, width)], [...y.slice(width)]) <= dist(images[0]!.flat(2), images[1]!.flat(2)) + 1e-5, `${c.model}: 1-Lipschitz`);
  }
});

test('SandwichConv2d on a map of another size than it declares is refused by name', () => {
  assert.throws(() => exportModel('model C {\n  a = SandwichConv2d(3, 4, 3, size: 8)\n  b = SandwichConv2d(4, 4, 3, size: 6)\n}\n', 'C'), /b: SandwichConv2d declares an input of 6×6 but the layers before it produce 8×8/);
});
