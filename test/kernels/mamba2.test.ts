// Mamba-2 in the ONNX export (prefill): every stored element is an initializer, the mixer is a
// residual branch like attention, and the graph's output equals an independent recurrence written
// here — Mamba2Mixer's torch_forward token by token on the exported weights (read back from the
// initializers): in_proj split into z, x·B·C and Δ; causal depthwise conv and silu over x, B, C;
// Δ = softplus(Δ + dt_bias), A = −exp(A_log) per head; head h reads group ⌊h / (heads/groups)⌋;
// h ← exp(Δ·A)·h + Δ·x·Bᵀ, y = h·C + D·x; then rmsnorm(y·silu(z)) over groups of inner/groups
// channels (mamba_ssm's RMSNormGated with norm_before_gate False) and out_proj. The decode step,
// chained from zero states (fed back from its next_state outputs), follows the same recurrence.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { analyze, importHfConfig } from '../../src/core/index.js';
import { assertClose, assertMatchesRecurrence, chainDecode, idRows, initializer, matvec, maybeInitializer, runChecked, silu, softplus } from './helpers.js';

const D = 16;
const I = 32; // expand 2
const P = 8; // head_dim: 4 heads
const H = I / P;
const N = 4;
const K = 3;
const V = 29;
const EPS = 1e-6; // the exporter's RMSNorm ε (docs/probes.md)

function spec(groups: number, extra = ''): string {
  return `
model M {
  embed = Embedding(${V}, ${D})
  mixer = Mamba2(${D}, head_dim: ${P}, state: ${N}, groups: ${groups}, conv: ${K}${extra})
}
`;
}

/** The last token's output of embed → Mamba2 for one sequence, by the recurrence. */
function reference(r: ExportResult, ids: readonly number[], G: number): number[] {
  const E = initializer(r, 'embed.weight');
  // With a norm before it, the mixer reads RMSNorm(x) (ε 1e-6) and adds to x: x + mixer(norm(x)).
  const pre = maybeInitializer(r, 'norm.weight');
  const input = (e: Float32Array): ArrayLike<number> => {
    if (!pre) return e;
    const rms = Math.sqrt(e.reduce((a, v) => a + v * v, 0) / D + EPS);
    return Array.from(e, (v, i) => (v / rms) * pre[i]!);
  };
  const inProj = initializer(r, 'mixer.in_proj');
  const inBias = maybeInitializer(r, 'mixer.in_proj_bias');
  const conv = initializer(r, 'mixer.conv');
  const convBias = maybeInitializer(r, 'mixer.conv_bias');
  const dtBias = initializer(r, 'mixer.dt_bias');
  const Alog = initializer(r, 'mixer.A_log');
  const Dskip = initializer(r, 'mixer.D');
  const normW = maybeInitializer(r, 'mixer.norm');
  const outProj = initializer(r, 'mixer.out_proj');
  const outBias = maybeInitializer(r, 'mixer.out_proj_bias');
  const C = I + 2 * G * N;
  const proj = ids.map((id) => matvec(inProj, input(E.subarray(id * D, (id + 1) * D)), 2 * I + 2 * G * N + H, inBias));
  // The SSM state per head: [P, N].
  const h = Array.from({ length: H }, () => Array.from({ length: P }, () => new Array<number>(N).fill(0)));
  let last: number[] = [];
  for (let t = 0; t < ids.length; t++) {
    const z = proj[t]!.slice(0, I);
    // Causal depthwise conv over x, B and C: taps k = 0..K−1 over the input at t − K + 1 + k.
    const u = Array.from({ length: C }, (_, c) => {
      let s = convBias ? convBias[c]! : 0;
      for (let k = 0; k < K; k++) {
        const src = t - (K - 1) + k;
        if (src >= 0) s += conv[c * K + k]! * proj[src]![I + c]!;
      }
      return silu(s);
    });
    const x = u.slice(0, I);
    const B = u.slice(I, I + G * N);
    const Cr = u.slice(I + G * N);
    const y = new Array<number>(I).fill(0);
    for (let head = 0; head < H; head++) {
      const dt = softplus(proj[t]![I + C + head]! + dtBias[head]!);
      const decay = Math.exp(dt * -Math.exp(Alog[head]!));
      const grp = Math.floor(head / (H / G));
      for (let p = 0; p < P; p++) {
        const xv = x[head * P + p]!;
        let s = 0;
        for (let n = 0; n < N; n++) {
          h[head]![p]![n] = decay * h[head]![p]![n]! + dt * xv * B[grp * N + n]!;
          s += h[head]![p]![n]! * Cr[grp * N + n]!;
        }
        y[head * P + p] = s + Dskip[head]! * xv;
      }
    }
    const gated = y.map((v, c) => v * silu(z[c]!));
    if (normW) {
      const size = I / G;
      for (let grp = 0; grp < G; grp++) {
        const part = gated.slice(grp * size, (grp + 1) * size);
        const rms = Math.sqrt(part.reduce((a, v) => a + v * v, 0) / size + EPS);
        for (let c = 0; c < size; c++) gated[grp * size + c] = (part[c]! / rms) * normW[grp * size + c]!;
      }
    }
    last = matvec(outProj, gated, D, outBias);
  }
  // The mixer is a residual branch: x + mixer(·) (Mamba2Block).
  const e = E.subarray(ids[ids.length - 1]! * D);
  return last.map((v, i) => v + e[i]!);
}

async function check(src: string, groups: number): Promise<void> {
  await assertMatchesRecurrence(src, 'M', [[[3, 17, 8, 25, 1, 12, 9]], [[4]], [[20, 6, 2], [7, 7, 28]]], (r, ids) => reference(r, ids, groups), `groups ${groups}`);
}

test('Mamba2 prefill: initializers = params.stored, and the output equals the token-by-token recurrence (one group, two groups over four heads)', async () => {
  await check(spec(1), 1);
  await check(spec(2), 2);
});

test('Mamba2 prefill without the gated norm, with biases and without the conv bias', async () => {
  await check(spec(2, ', norm: false, bias: true, conv_bias: false'), 2);
});

test('Mamba2: a norm before the mixer makes a pre-norm residual branch', async () => {
  await check(spec(2).replace('  mixer =', `  norm = RMSNorm(${D})\n  mixer =`), 2);
});

test('Mamba2 decode step: conv [B, I + 2GN, K] and SSM [B, heads, head_dim, N] states in and out, the engine\'s state bytes, and chained steps follow the recurrence', async () => {
  for (const [src, groups] of [[spec(1), 1], [spec(2), 2], [spec(2, ', norm: false, bias: true, conv_bias: false'), 2]] as const) {
    const rows = [[3, 17, 8, 25, 1], [20, 6, 2, 14, 9]];
    const r = exportModel(src, 'M', { ops: 'standard', decode: { batch: 2, past: 5 }, analysis: { seq: 5, batch: 2, dtype: 'fp32' } });
    assert.equal(r.initializerElements, r.storedParams);
    const convWidth = I + 2 * groups * N;
    assert.deepEqual(r.stateInputs, [{ name: 'state.mixer.conv', dims: [2, convWidth, K] }, { name: 'state.mixer.ssm', dims: [2, H, P, N] }]);
    assert.equal(r.recurrentStateElements, BigInt(2 * (convWidth * K + H * P * N)));
    assert.equal(r.recurrentStateElements * 4n, r.report.recurrentStateBytes);
    const steps = await chainDecode(r, rows);
    steps.forEach((out, t) => assertClose(out, rows.flatMap((ids) => reference(r, ids.slice(0, t + 1), groups)), 1e-4, `groups ${groups}, step ${t}`));
  }
});

test('a small Nemotron-H imported from its config (Mamba-2, attention and relu² MLP layers) exports whole: initializers = params.stored', async () => {
  // nvidia/Nemotron-H-8B-Base-8K's config.json with every size shrunk and a 7-layer pattern.
  const config = JSON.parse(readFileSync(join(process.cwd(), 'test', 'fixtures', 'hf', 'nemotron-h-8b-base-8k.json'), 'utf8')) as Record<string, unknown>;
  const small = { ...config, hidden_size: 32, attention_head_dim: 8, num_attention_heads: 4, num_key_value_heads: 2, mamba_head_dim: 8, mamba_num_heads: 8, n_groups: 2, ssm_state_size: 4, intermediate_size: 48, vocab_size: 97, num_hidden_layers: 7, hybrid_override_pattern: 'M-M*-M-' };
  const imported = importHfConfig(JSON.stringify(small));
  if (!imported.ok) assert.fail(imported.message);
  assert.match(imported.spec, /Mamba2\(/);
  assert.match(imported.spec, /act: relu2/);
  for (const ops of ['standard', 'fused'] as const) {
    const r = exportModel(imported.spec, imported.modelName, { ops });
    assert.equal(r.initializerElements, r.storedParams);
    assert.equal(r.storedParams, analyze(imported.spec).models[0]!.params.stored);
    const out = await runChecked(r, { input_ids: idRows([[1, 50, 9, 96, 3], [4, 4, 70, 2, 8]]) });
    assert.equal(out.length, 2 * 97);
  }
});
