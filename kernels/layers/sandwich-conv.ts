// LBDN convolutional sandwich layer (`SandwichConv2d`; Wang & Manchester, ICML 2023, as acfr/LBDN's
// `SandwichConv`): the dense sandwich of sandwich.ts applied per spatial frequency of the n×n map
// (stride 1, circular padding), built in-graph from exactly the stored kernel W [c_out, c_in + c_out,
// k, k], gain α, ψ and bias (src/core/layers/lbdn.ts counts them), so initializer elements equal
// params.stored. Per frequency f = (u, v), v ≤ ⌊n/2⌋ (the one-sided transform, F = n·(⌊n/2⌋ + 1)):
//   Ŵ_f = conj(e^{−2πi·s(u+v)/n} · rfft2(W, n×n)_f),  s = ⌊(k − 1)/2⌋  (acfr/LBDN's shift: the
//         kernel centred), as [c_out, c_in + c_out];  Ŵ ← α·Ŵ/‖Ŵ‖_F over every frequency;
//   U_f = (Ŵ_f[:, :c_out])ᵀ, V_f = (Ŵ_f[:, c_out:])ᵀ (plain transposes);  Â = U − Uᴴ + VᴴV;
//   Q_A = (I + Â)⁻¹(I − Â),  Q_B = −2·V(I + Â)⁻¹  — acfr/LBDN's `cayley`, complex;
//   h ↦ √2·irfft2(conj(Q_A)·Ψ·rfft2(relu(irfft2(√2·Ψ⁻¹·Q_Bᵀ·rfft2(h)) + b))),  Ψ = exp(ψ).
// ONNX has no complex type: each complex matrix is carried as its real and imaginary parts, and the
// complex Cayley transform runs on the real 2×2-block embedding [[Re, −Im], [Im, Re]] (a *-algebra
// map: products, inverses and conjugate transposes carry over), with com.microsoft's batched
// `Inverse` — twice the real multiply-adds of complex arithmetic; the tally reports the engine's
// count, 4·F·cayleyMacs (lbdn.ts `sandwichConvGenerationMacs`). The 2-D transforms are separable
// MatMuls by constant cosine/sine tables (Constant nodes, never initializers: O(n²) elements).

import { sandwichConvGenerationMacs } from '../../src/core/index.js';
import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { source, tally } from '../generated/state.js';
import type { GraphBuilder } from '../graph-builder.js';
import { image } from './image.js';
import { numberArg, storeFor, weightNamed, type EmitContext, type Hidden } from './context.js';
import { attr } from '../onnx-writer.js';

/** A complex tensor as its real and imaginary parts (same shape). */
interface Complex {
  readonly re: string;
  readonly im: string;
}

const TRANSPOSE_LAST = { perm: attr.ints([0, 2, 1]) };

/** (a + ib)(c + id) by MatMul: the batch dimensions broadcast as MatMul's do. */
function complexMatMul(g: GraphBuilder, a: Complex, b: Complex, hint: string): Complex {
  const mm = (x: string, y: string): string => g.op('MatMul', [x, y], undefined, { hint });
  return { re: g.op('Sub', [mm(a.re, b.re), mm(a.im, b.im)]), im: g.op('Add', [mm(a.re, b.im), mm(a.im, b.re)]) };
}

/** Both parts times a real tensor (broadcast). */
function scaleComplex(g: GraphBuilder, a: Complex, s: string): Complex {
  return { re: g.op('Mul', [a.re, s]), im: g.op('Mul', [a.im, s]) };
}

/** The cosine/sine tables of the transforms of an n×n map (one Constant each per n). */
function tables(g: GraphBuilder, n: number) {
  const h = Math.floor(n / 2) + 1;
  const angle = (a: number, b: number): number => (2 * Math.PI * ((a * b) % n)) / n;
  // Row transform [p or u, u or p] (symmetric): cos and sin of 2π·u·p/n.
  const cosP = g.floats(`dft_cos_${n}`, [n, n], (i) => Math.cos(angle(Math.floor(i / n), i % n)));
  const sinP = g.floats(`dft_sin_${n}`, [n, n], (i) => Math.sin(angle(Math.floor(i / n), i % n)));
  // One-sided forward along the last axis [q, v]: cos and −sin of 2π·v·q/n.
  const cosQ = g.floats(`rdft_cos_${n}`, [n, h], (i) => Math.cos(angle(Math.floor(i / h), i % h)));
  const negSinQ = g.floats(`rdft_nsin_${n}`, [n, h], (i) => -Math.sin(angle(Math.floor(i / h), i % h)));
  // Inverse along the last axis [v, q] for a Hermitian spectrum, with both 1/n factors: the bins
  // v = 0 and (n even) v = n/2 once, every other twice (its mirror image's conjugate); their
  // imaginary parts drop out (sin = 0), as torch.fft.irfft2 ignores them.
  const weight = (v: number): number => (v === 0 || 2 * v === n ? 1 : 2) / (n * n);
  const cosInv = g.floats(`irdft_cos_${n}`, [h, n], (i) => weight(Math.floor(i / n)) * Math.cos(angle(Math.floor(i / n), i % n)));
  const negSinInv = g.floats(`irdft_nsin_${n}`, [h, n], (i) => -weight(Math.floor(i / n)) * Math.sin(angle(Math.floor(i / n), i % n)));
  return { h, cosP, sinP, cosQ, negSinQ, cosInv, negSinInv };
}

/** rfft2 of a real [..., n, n]: [..., n (u), ⌊n/2⌋ + 1 (v)], e^{−2πi(up + vq)/n}. */
function rfft2(g: GraphBuilder, x: string, n: number): Complex {
  const t = tables(g, n);
  const mm = (a: string, b: string): string => g.op('MatMul', [a, b], undefined, { hint: 'rfft2' });
  const rows = { re: mm(x, t.cosQ), im: mm(x, t.negSinQ) };
  // Along p: (re + i·im)(cos − i·sin).
  return {
    re: g.op('Add', [mm(t.cosP, rows.re), mm(t.sinP, rows.im)]),
    im: g.op('Sub', [mm(t.cosP, rows.im), mm(t.sinP, rows.re)]),
  };
}

/** irfft2 of a Hermitian one-sided spectrum [..., n, ⌊n/2⌋ + 1]: the real [..., n, n]. */
function irfft2(g: GraphBuilder, y: Complex, n: number): string {
  const t = tables(g, n);
  const mm = (a: string, b: string): string => g.op('MatMul', [a, b], undefined, { hint: 'irfft2' });
  // Along u: (re + i·im)(cos + i·sin); then the real part along v.
  const re = g.op('Sub', [mm(t.cosP, y.re), mm(t.sinP, y.im)]);
  const im = g.op('Add', [mm(t.cosP, y.im), mm(t.sinP, y.re)]);
  return g.op('Add', [mm(re, t.cosInv), mm(im, t.negSinInv)], undefined, { hint: 'irfft2' });
}

/** [B, C, n, h] → [F, B, C]: one matrix of rows per frequency. */
function byFrequency(g: GraphBuilder, a: Complex, channels: number, frequencies: number): Complex {
  const to = (x: string): string => g.op('Reshape', [g.op('Transpose', [x], { perm: attr.ints([2, 3, 0, 1]) }), g.ints([frequencies, -1, channels])]);
  return { re: to(a.re), im: to(a.im) };
}

/** [F, B, C] → [B, C, n, h]. */
function bySample(g: GraphBuilder, a: Complex, channels: number, n: number, h: number): Complex {
  const to = (x: string): string => g.op('Transpose', [g.op('Reshape', [x, g.ints([n, h, -1, channels])])], { perm: attr.ints([2, 3, 0, 1]) });
  return { re: to(a.re), im: to(a.im) };
}

/** The real embedding [[re, −im], [im, re]] of a batch of complex matrices [F, r, c] → [F, 2r, 2c]. */
function embed(g: GraphBuilder, a: Complex): string {
  const cat = (xs: string[], axis: number): string => g.op('Concat', xs, { axis: attr.int(axis) });
  return cat([cat([a.re, g.op('Neg', [a.im])], 2), cat([a.im, a.re], 2)], 1);
}

/** The complex matrix [F, r, c] an embedding [F, 2r, ≥c] holds: its left column of blocks. */
function unembed(g: GraphBuilder, e: string, rows: number, cols: number): Complex {
  const block = (r0: number): string => g.op('Slice', [e, g.ints([r0, 0]), g.ints([r0 + rows, cols]), g.ints([1, 2])]);
  return { re: block(0), im: block(rows) };
}

/** SandwichConv2d on the feature map (the image, when it is the model's first layer). */
export function sandwichConv2d(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const g = ctx.g;
  const where = pathText(steps);
  const cIn = numberArg(node, 'c_in');
  const cOut = numberArg(node, 'c_out');
  const k = numberArg(node, 'kernel');
  const n = numberArg(node, 'size');
  if (h.x === undefined) {
    if (ctx.decode) throw new ExportError(`${where}: a model that begins with a convolution reads one image per sample and has no decode step`);
    h = image(ctx, cIn, [n, n]);
  }
  if (h.spatial === undefined) throw new ExportError(`${where}: SandwichConv2d on a token stream is not supported by the ONNX exporter (it runs on a feature map, from an image made when the model begins with a convolution)`);
  // acfr/LBDN's stride 2 (StridedConv): the 2×2 space-to-depth map, `b c (w k1) (h k2) -> b (c k1 k2) w h`,
  // read by a layer of 4·c channels at half the side (docs/layers.md, "SandwichConv2d"). A permutation: still 1-Lipschitz.
  let sides = h.spatial;
  if (h.width * 4 === cIn && sides.length === 2 && sides[0] === 2 * n && sides[1] === 2 * n) {
    const split = g.op('Reshape', [h.x!, g.ints([-1, h.width, n, 2, n, 2])]);
    const x = g.op('Reshape', [g.op('Transpose', [split], { perm: attr.ints([0, 1, 3, 5, 2, 4]) }), g.ints([-1, cIn, n, n])], undefined, { hint: 'space_to_depth' });
    sides = [n, n];
    h = { x, width: cIn, spatial: sides };
  }
  if (h.width !== cIn) throw new ExportError(`${where}: SandwichConv2d reads ${cIn} channels but the layers before it produce ${h.width}`);
  if (sides.length !== 2 || sides[0] !== n || sides[1] !== n) throw new ExportError(`${where}: SandwichConv2d declares an input of ${n}×${n} but the layers before it produce ${sides.join('×')}; the graph runs every convolution at the size the engine counts it at`);
  const read = (name: string): string | undefined => {
    const w = weightNamed(node, name);
    return w ? source(ctx, storeFor(ctx, node, steps, w).name) : undefined;
  };
  const chn = cIn + cOut;
  const t = tables(g, n);
  const F = n * t.h;

  // Ŵ [F, c_out, c_in + c_out]: Σ_{p,q<k} W[·, ·, p, q]·e^{+2πi(u(p+s) + v(q+s))/n}.
  const s = Math.floor((k - 1) / 2);
  const angle = (a: number, b: number): number => (2 * Math.PI * ((a * (b + s)) % n)) / n;
  const cosKq = g.floats(`lbdn_kq_cos_${n}_${k}`, [k, t.h], (i) => Math.cos(angle(i % t.h, Math.floor(i / t.h))));
  const sinKq = g.floats(`lbdn_kq_sin_${n}_${k}`, [k, t.h], (i) => Math.sin(angle(i % t.h, Math.floor(i / t.h))));
  const cosKp = g.floats(`lbdn_kp_cos_${n}_${k}`, [n, k], (i) => Math.cos(angle(Math.floor(i / k), i % k)));
  const sinKp = g.floats(`lbdn_kp_sin_${n}_${k}`, [n, k], (i) => Math.sin(angle(Math.floor(i / k), i % k)));
  const W = read('weight')!;
  const kernelRows: Complex = { re: g.op('MatMul', [W, cosKq], undefined, { hint: 'lbdn_wfft' }), im: g.op('MatMul', [W, sinKq], undefined, { hint: 'lbdn_wfft' }) };
  const spectrum = complexMatMul(g, { re: cosKp, im: sinKp }, kernelRows, 'lbdn_wfft');
  const perFrequency = (x: string): string => g.op('Reshape', [g.op('Transpose', [x], { perm: attr.ints([2, 3, 0, 1]) }), g.ints([F, cOut, chn])]);
  let wfft: Complex = { re: perFrequency(spectrum.re), im: perFrequency(spectrum.im) };
  // α·Ŵ/‖Ŵ‖_F, the norm over every frequency's real and imaginary parts.
  const sumSq = (x: string): string => g.op('ReduceSumSquare', [x], { keepdims: attr.int(0) });
  const norm = g.op('Sqrt', [g.op('Add', [sumSq(wfft.re), sumSq(wfft.im)])], undefined, { hint: 'wfft_norm' });
  wfft = scaleComplex(g, wfft, g.op('Div', [read('alpha')!, norm]));

  // The Cayley transform per frequency on the real embedding.
  const columns = (a: Complex, from: number, to: number): Complex => {
    const slice = (x: string): string => g.op('Transpose', [g.op('Slice', [x, g.ints([from]), g.ints([to]), g.ints([2])])], TRANSPOSE_LAST);
    return { re: slice(a.re), im: slice(a.im) };
  };
  const eu = embed(g, columns(wfft, 0, cOut)); // E(U) [F, 2c_out, 2c_out]
  const ev = embed(g, columns(wfft, cOut, chn)); // E(V) [F, 2c_in, 2c_out]
  const transpose = (x: string): string => g.op('Transpose', [x], TRANSPOSE_LAST);
  const a = g.op('Add', [g.op('Sub', [eu, transpose(eu)]), g.op('MatMul', [transpose(ev), ev])], undefined, { hint: 'cayley_a' });
  const eye = g.floats(`eye_${2 * cOut}`, [2 * cOut, 2 * cOut], (i) => (Math.floor(i / (2 * cOut)) === i % (2 * cOut) ? 1 : 0));
  const inv = g.op('Inverse', [g.op('Add', [eye, a])], undefined, { domain: 'com.microsoft', hint: 'inv_ipa' });
  const qa = unembed(g, g.op('MatMul', [inv, g.op('Sub', [eye, a])], undefined, { hint: 'q_a' }), cOut, cOut); // [F, c_out, c_out]
  const qb = unembed(g, g.op('Mul', [g.op('MatMul', [ev, inv]), g.float(-2)], undefined, { hint: 'q_b' }), cIn, cOut); // [F, c_in, c_out]
  tally(ctx, sandwichConvGenerationMacs(cOut, cIn, n));

  // √2·Ψ⁻¹·Q_Bᵀ·x̂ per frequency: as rows, x̂ᵀ·Q_B.
  const psi = read('psi')!;
  const expPsi = g.op('Exp', [psi]);
  const x = byFrequency(g, rfft2(g, h.x!, n), cIn, F);
  const bx = scaleComplex(g, complexMatMul(g, x, qb, 'sandwich_b'), g.op('Mul', [g.op('Reciprocal', [expPsi]), g.float(Math.SQRT2)]));
  let y = irfft2(g, bySample(g, bx, cOut, n, t.h), n);
  const bias = read('bias');
  if (bias) y = g.op('Add', [y, g.op('Reshape', [bias, g.ints([cOut, 1, 1])])]);
  // √2·conj(Q_A)·Ψ·ẑ: as rows, ẑᵀ·conj(Q_A)ᵀ.
  const z = scaleComplex(g, byFrequency(g, rfft2(g, g.op('Relu', [y]), n), cOut, F), expPsi);
  const conjQaT: Complex = { re: transpose(qa.re), im: g.op('Neg', [transpose(qa.im)]) };
  const az = scaleComplex(g, complexMatMul(g, z, conjQaT, 'sandwich_a'), g.float(Math.SQRT2));
  return { x: irfft2(g, bySample(g, az, cOut, n, t.h), n), width: cOut, spatial: [n, n] };
}
