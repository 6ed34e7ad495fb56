// Mamba-1 in the ONNX export (prefill): every stored element is an initializer, the mixer is a
// residual branch like attention, and the graph's output equals an independent recurrence written here — MambaMixer's slow_forward token by token
// on the exported weights (read back from the initializers): causal depthwise conv, softplus step
// (after Jamba's RMSNorms of the step, B and C when inner_norms is set),
// h ← exp(Δ·A)∘h + Δ·x·B, y = C·h + D·x, gated by silu(z). The decode step, chained from zero
// states (conv and SSM states as graph inputs, fed back from its outputs), follows the same recurrence.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, assertMatchesRecurrence, chainDecode, initializer, matvec, maybeInitializer, silu, softplus } from './helpers.js';

const D = 16;
const I = 32; // expand 2
const N = 4;
const K = 3;
const R = 2;
const V = 29;
const SPEC = `
model M {
  embed = Embedding(${V}, ${D})
  mixer = Mamba(${D}, state: ${N}, conv: ${K}, dt_rank: ${R})
}
`;

/** Jamba's inner RMSNorms (ε 1e-6, the exporter's RMSNorm ε), or the values unchanged without them. */
function innerNorm(x: number[], w: Float32Array | undefined): number[] {
  if (!w) return x;
  const rms = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length + 1e-6);
  return x.map((v, i) => (v / rms) * w[i]!);
}

/** The last token's output of embed → Mamba, by the recurrence. */
function reference(r: ExportResult, ids: readonly number[]): number[] {
  const E = initializer(r, 'embed.weight');
  const inProj = initializer(r, 'mixer.in_proj');
  const conv = initializer(r, 'mixer.conv');
  const convBias = initializer(r, 'mixer.conv_bias');
  const xProj = initializer(r, 'mixer.x_proj');
  const dtProj = initializer(r, 'mixer.dt_proj');
  const dtBias = initializer(r, 'mixer.dt_proj_bias');
  const Alog = initializer(r, 'mixer.A_log');
  const Dskip = initializer(r, 'mixer.D');
  const outProj = initializer(r, 'mixer.out_proj');
  const dtNorm = maybeInitializer(r, 'mixer.dt_norm');
  const bNorm = maybeInitializer(r, 'mixer.b_norm');
  const cNorm = maybeInitializer(r, 'mixer.c_norm');
  const xs: number[][] = [];
  const zs: number[][] = [];
  for (const id of ids) {
    const e = Array.from(E.subarray(id * D, (id + 1) * D));
    const xz = matvec(inProj, e, 2 * I);
    xs.push(xz.slice(0, I));
    zs.push(xz.slice(I));
  }
  const h = Array.from({ length: I }, () => new Array<number>(N).fill(0));
  let last: number[] = [];
  for (let t = 0; t < ids.length; t++) {
    // Causal depthwise conv: taps k = 0..K−1 over x_{t−K+1+k}.
    const u = Array.from({ length: I }, (_, c) => {
      let s = convBias[c]!;
      for (let k = 0; k < K; k++) {
        const src = t - (K - 1) + k;
        if (src >= 0) s += conv[c * K + k]! * xs[src]![c]!;
      }
      return silu(s);
    });
    const p = matvec(xProj, u, R + 2 * N);
    const delta = matvec(dtProj, innerNorm(p.slice(0, R), dtNorm), I, dtBias).map(softplus);
    const B = innerNorm(p.slice(R, R + N), bNorm);
    const C = innerNorm(p.slice(R + N), cNorm);
    const y = u.map((uc, c) => {
      let s = 0;
      for (let n = 0; n < N; n++) {
        const A = -Math.exp(Alog[c * N + n]!);
        h[c]![n] = Math.exp(delta[c]! * A) * h[c]![n]! + delta[c]! * uc * B[n]!;
        s += C[n]! * h[c]![n]!;
      }
      return (s + Dskip[c]! * uc) * silu(zs[t]![c]!);
    });
    last = matvec(outProj, y, D);
  }
  // A bare mixer is a residual branch, x + mixer(x) (MambaBlock without its norm).
  const x = E.subarray(ids[ids.length - 1]! * D);
  return last.map((v, i) => v + x[i]!);
}

test('Mamba prefill: initializers = params.stored, and the output equals the token-by-token recurrence', async () => {
  await assertMatchesRecurrence(SPEC, 'M', [[[3, 17, 8, 25, 1, 12, 9]], [[4]], [[20, 6]]], reference);
});

test("Mamba with Jamba's inner norms: RMSNorms of the step, B and C after x_proj", async () => {
  const r = await assertMatchesRecurrence(SPEC.replace(`dt_rank: ${R})`, `dt_rank: ${R}, inner_norms: true)`), 'M', [[[3, 17, 8, 25, 1, 12, 9]], [[20, 6]]], reference);
  assert.ok(maybeInitializer(r, 'mixer.dt_norm') && maybeInitializer(r, 'mixer.b_norm') && maybeInitializer(r, 'mixer.c_norm'));
});

test('Mamba decode step: conv [B, I, K] and SSM [B, I, N] states in and out, the engine\'s state bytes, and chained steps follow the recurrence', async () => {
  for (const src of [SPEC, SPEC.replace(`dt_rank: ${R})`, `dt_rank: ${R}, inner_norms: true)`)]) {
    const rows = [[3, 17, 8, 25, 1], [20, 6, 2, 14, 9]];
    const r = exportModel(src, 'M', { ops: 'standard', decode: { batch: 2, past: 5 }, analysis: { seq: 5, batch: 2, dtype: 'fp32' } });
    assert.equal(r.initializerElements, r.storedParams);
    assert.equal(r.kvCacheElements, 0n);
    assert.deepEqual(r.stateInputs, [{ name: 'state.mixer.conv', dims: [2, I, K] }, { name: 'state.mixer.ssm', dims: [2, I, N] }]);
    // Per sequence I·K + I·N elements (MambaCache's conv_states and ssm_states), fp32.
    assert.equal(r.recurrentStateElements, BigInt(2 * (I * K + I * N)));
    assert.equal(r.recurrentStateElements * 4n, r.report.recurrentStateBytes);
    const steps = await chainDecode(r, rows);
    steps.forEach((out, t) => assertClose(out, rows.flatMap((ids) => reference(r, ids.slice(0, t + 1))), 1e-4, `step ${t}`));
  }
});
