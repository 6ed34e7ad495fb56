// Gated DeltaNet in the ONNX export (prefill): every stored element is an initializer, the mixer is
// a residual branch like attention, and the graph's output equals an independent recurrence
// written here — Transformers' Qwen3NextGatedDeltaNet with torch_recurrent_gated_delta_rule, token
// by token on the exported weights (read back from the initializers): in_proj_qkvz per key head
// [q, k, v, z] and in_proj_ba per key head [b, a] (fix_query_key_value_ordering); a bias-free
// causal depthwise conv and silu over q, k, v; q, k L2-normalised, q scaled by 1/√dk and both
// repeated to the value heads; β = sigmoid(b), g = −exp(A_log)·softplus(a + dt_bias); per value
// head S ← e^g·S, δ = β·(v − Sᵀk), S ← S + k·δᵀ, o = Sᵀq; rmsnorm(o)·w·silu(z) per head, out_proj.
// The decode step, chained from zero states (fed back from its next_state outputs), follows it too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, assertMatchesRecurrence, chainDecode, idRows, initializer, matvec, maybeInitializer, runChecked, sigmoid, silu, softplus } from './helpers.js';

const D = 16;
const HK = 2;
const HV = 4;
const DK = 4;
const DV = 3;
const K = 3;
const V = 29;
const EPS = 1e-6;
const R = HV / HK;

const SPEC = (prenorm: boolean) => `
model M {
  embed = Embedding(${V}, ${D})
${prenorm ? `  norm = RMSNorm(${D})\n` : ''}  mixer = GatedDeltaNet(${D}, k_heads: ${HK}, v_heads: ${HV}, k_head_dim: ${DK}, v_head_dim: ${DV}, conv: ${K})
}
`;

function rmsScale(x: readonly number[], w?: Float32Array): number[] {
  const rms = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length + EPS);
  return x.map((v, i) => (v / rms) * (w ? w[i]! : 1));
}

function l2(x: readonly number[], scale: number): number[] {
  const inv = 1 / Math.sqrt(x.reduce((a, v) => a + v * v, 0) + EPS);
  return x.map((v) => v * inv * scale);
}

/** The last token's output of embed → (norm) → GatedDeltaNet for one sequence, by the recurrence. */
function reference(r: ExportResult, ids: readonly number[]): number[] {
  const E = initializer(r, 'embed.weight');
  const pre = maybeInitializer(r, 'norm.weight');
  const qkvzW = initializer(r, 'mixer.in_proj_qkvz');
  const baW = initializer(r, 'mixer.in_proj_ba');
  const conv = initializer(r, 'mixer.conv');
  const dtBias = initializer(r, 'mixer.dt_bias');
  const Alog = initializer(r, 'mixer.A_log');
  const normW = initializer(r, 'mixer.norm');
  const outProj = initializer(r, 'mixer.out_proj');
  const per = 2 * DK + 2 * R * DV; // one key head's slice of in_proj_qkvz
  // Per token: the conv input [q (HK·DK), k (HK·DK), v (HV·DV)], z per value head, b and a per value head.
  const rows = ids.map((id) => {
    const e = Array.from(E.subarray(id * D, (id + 1) * D));
    const xin = pre ? rmsScale(e, pre) : e;
    const p = matvec(qkvzW, xin, HK * per);
    const ba = matvec(baW, xin, HK * 2 * R);
    const q: number[] = [], k: number[] = [], v: number[] = [], z: number[] = [], b: number[] = [], a: number[] = [];
    for (let h = 0; h < HK; h++) {
      const s = p.slice(h * per, (h + 1) * per);
      q.push(...s.slice(0, DK));
      k.push(...s.slice(DK, 2 * DK));
      v.push(...s.slice(2 * DK, 2 * DK + R * DV));
      z.push(...s.slice(2 * DK + R * DV));
      b.push(...ba.slice(h * 2 * R, h * 2 * R + R));
      a.push(...ba.slice(h * 2 * R + R, (h + 1) * 2 * R));
    }
    return { mixed: [...q, ...k, ...v], z, b, a, e };
  });
  const C = 2 * HK * DK + HV * DV;
  const S = Array.from({ length: HV }, () => Array.from({ length: DK }, () => new Array<number>(DV).fill(0)));
  let last: number[] = [];
  for (let t = 0; t < ids.length; t++) {
    const u = Array.from({ length: C }, (_, c) => {
      let s = 0;
      for (let j = 0; j < K; j++) {
        const src = t - (K - 1) + j;
        if (src >= 0) s += conv[c * K + j]! * rows[src]!.mixed[c]!;
      }
      return silu(s);
    });
    const gated: number[] = [];
    for (let h = 0; h < HV; h++) {
      const kh = Math.floor(h / R); // repeat_interleave of the key heads
      const q = l2(u.slice(kh * DK, (kh + 1) * DK), 1 / Math.sqrt(DK));
      const k = l2(u.slice(HK * DK + kh * DK, HK * DK + (kh + 1) * DK), 1);
      const v = u.slice(2 * HK * DK + h * DV, 2 * HK * DK + (h + 1) * DV);
      const beta = sigmoid(rows[t]!.b[h]!);
      const decay = Math.exp(-Math.exp(Alog[h]!) * softplus(rows[t]!.a[h]! + dtBias[h]!));
      const M = S[h]!;
      for (let i = 0; i < DK; i++) for (let j = 0; j < DV; j++) M[i]![j]! *= decay;
      const delta = v.map((vj, j) => (vj - k.reduce((acc, ki, i) => acc + ki * M[i]![j]!, 0)) * beta);
      for (let i = 0; i < DK; i++) for (let j = 0; j < DV; j++) M[i]![j]! += k[i]! * delta[j]!;
      const o = Array.from({ length: DV }, (_, j) => q.reduce((acc, qi, i) => acc + qi * M[i]![j]!, 0));
      const zh = rows[t]!.z.slice(h * DV, (h + 1) * DV);
      gated.push(...rmsScale(o, normW).map((val, j) => val * silu(zh[j]!)));
    }
    last = matvec(outProj, gated, D);
  }
  // The mixer is a residual branch: x + mixer(·).
  const e = rows[rows.length - 1]!.e;
  return last.map((val, i) => val + e[i]!);
}

async function check(prenorm: boolean): Promise<void> {
  await assertMatchesRecurrence(SPEC(prenorm), 'M', [[[3, 17, 8, 25, 1, 12, 9, 14]], [[4]], [[20, 6, 2], [7, 7, 28]]], reference);
}

test('GatedDeltaNet prefill: initializers = params.stored, and the output equals the token-by-token gated delta rule', async () => {
  await check(false);
});

test('GatedDeltaNet after a norm is a pre-norm residual branch', async () => {
  await check(true);
});

test('GatedDeltaNet decode step: conv and [B, v_heads, k_head_dim, v_head_dim] states in and out, the engine\'s state bytes, and chained steps follow the gated delta rule', async () => {
  for (const prenorm of [false, true]) {
    const rows = [[3, 17, 8, 25, 1, 12], [20, 6, 2, 14, 9, 27]];
    const r = exportModel(SPEC(prenorm), 'M', { ops: 'standard', decode: { batch: 2, past: 6 }, analysis: { seq: 6, batch: 2, dtype: 'fp32' } });
    assert.equal(r.initializerElements, r.storedParams);
    const convWidth = 2 * HK * DK + HV * DV;
    assert.deepEqual(r.stateInputs, [{ name: 'state.mixer.conv', dims: [2, convWidth, K] }, { name: 'state.mixer.recurrent', dims: [2, HV, DK, DV] }]);
    assert.equal(r.recurrentStateElements, BigInt(2 * (convWidth * K + HV * DK * DV)));
    assert.equal(r.recurrentStateElements * 4n, r.report.recurrentStateBytes);
    const steps = await chainDecode(r, rows);
    steps.forEach((out, t) => assertClose(out, rows.flatMap((ids) => reference(r, ids.slice(0, t + 1))), 1e-4, `prenorm ${prenorm}, step ${t}`));
  }
});

test('a small Qwen3-Next (Gated DeltaNet, gated attention, MoE with a gated shared expert) exports whole: initializers = params.stored, finite outputs', async () => {
  const src = `
model Qwen3NextTiny {
  d = 16
  block Layer(linear = true) {
    attn_norm = RMSNorm(d)
    mixer     = if linear then GatedDeltaNet(d, k_heads: 2, v_heads: 4, k_head_dim: 4, v_head_dim: 4) else Attention(d, 2, kv_heads: 1, head_dim: 8, qk_norm: rms, gate: true, rope: true, rope_dim: 4)
    mlp_norm  = RMSNorm(d)
    moe       = MoE(d, 8, 4, 2, shared: 1, shared_hidden: 12, shared_expert_gate: true)
  }
  embed   = Embedding(${V}, d)
  body    = [Layer(linear: i % 4 != 3) for i in 4]
  norm    = RMSNorm(d)
  lm_head = Linear(d, ${V})
}
`;
  for (const ops of ['standard', 'fused'] as const) {
    const r = exportModel(src, 'Qwen3NextTiny', { ops });
    assert.equal(r.initializerElements, r.storedParams);
    const out = await runChecked(r, { input_ids: idRows([[1, 5, 9, 13, 17, 21], [2, 4, 6, 8, 10, 12]]) });
    assert.equal(out.length, 2 * V);
  }
});
