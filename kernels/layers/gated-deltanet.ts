// Gated DeltaNet (Transformers' Qwen3NextGatedDeltaNet) for a prefill, on standard ops and
// com.microsoft Inverse. in_proj_qkvz is laid out per key head as Transformers'
// fix_query_key_value_ordering reads it — [q (dk), k (dk), v (r·dv), z (r·dv)] for each of the
// k_heads, r = v_heads / k_heads — and in_proj_ba likewise as [b (r), a (r)]; value head h reads
// key head ⌊h / r⌋ (repeat_interleave). A bias-free depthwise causal conv and silu over q, k, v;
// q and k L2-normalised (ε 1e-6), q scaled by 1/√dk; β = sigmoid(b); g = −exp(A_log)·softplus(a
// + dt_bias). The gated delta rule S_t = e^{g_t}·S_{t−1} + k_t·δ_tᵀ with δ_t = β_t·(v_t −
// (e^{g_t}·S_{t−1})ᵀk_t), o_t = S_tᵀq_t, is written for the whole prompt as one chunk (the WY form
// of Transformers' chunk_gated_delta_rule with no initial state): with γ = cumsum(g) and
// Γ[t, s] = exp(γ_t − γ_s) for s ≤ t, the writes solve (I + L)·Δ = diag(β)·V, L[t, s] =
// β_t·(k_t·k_s)·Γ[t, s] for s < t, and O = (Q·Kᵀ ∘ Γ)·Δ — [B, v_heads, S, S] matrices, so for
// probes of short prompts. Then the gated RMSNorm of v_head_dim, rmsnorm(o)·w·silu(z)
// (Qwen3NextRMSNormGated), and out_proj. The decode step (layers/recurrent-step.ts) carries the
// conv state and the [v_heads, k_head_dim, v_head_dim] delta-rule state as graph inputs and
// outputs, one token of Transformers' recurrent_gated_delta_rule.

import { type LayerNode, type PathStep } from '../engine-bridge.js';
import { layerWeights, numberArg, reshape, toBatchSeq, type EmitContext } from './context.js';
import { causalConv, columns, futureMask, silu } from './mamba.js';
import { rmsNormLastAxis } from './norm.js';
import { projection } from './projection.js';
import { deltaRuleStep } from './recurrent-step.js';
import { attr } from '../onnx-writer.js';

/** Qwen3-Next's ε of its L2 norms (its gated RMSNorm's is rms_norm_eps, the exporter's RMSNorm ε). */
const EPS = 1e-6;

export function gatedDeltaNet(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { y: string; width: number } {
  const g = ctx.g;
  const { spec, store } = layerWeights(ctx, node, steps);
  const op = (type: string, inputs: string[], hint?: string) => g.op(type, inputs, undefined, hint ? { hint } : undefined);
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  /** Entries [from, to) of the last axis. */
  const lastAxis = (t: string, from: number, to: number) => g.op('Slice', [t, g.ints([from]), g.ints([to]), g.ints([-1])]);
  const sumLast = (t: string) => g.op('ReduceSum', [t, g.ints([-1])], { keepdims: attr.int(1) });
  const Hk = numberArg(node, 'k_heads');
  const Hv = numberArg(node, 'v_heads');
  const dk = numberArg(node, 'k_head_dim');
  const dv = numberArg(node, 'v_head_dim');
  const r = Hv / Hk;
  const d = spec('out_proj').shape[0]!;

  const qkvz = toBatchSeq(ctx, projection(ctx, node, steps, x, 'in_proj_qkvz', undefined).y, [Hk, 2 * dk + 2 * r * dv]);
  const ba = toBatchSeq(ctx, projection(ctx, node, steps, x, 'in_proj_ba', undefined).y, [Hk, 2 * r]);
  const flat = (t: string, width: number) => reshape(ctx, t, [-1, width]); // [B, S, …] → [T, width]
  const mixed = g.op('Concat', [
    flat(lastAxis(qkvz, 0, dk), Hk * dk),
    flat(lastAxis(qkvz, dk, 2 * dk), Hk * dk),
    flat(lastAxis(qkvz, 2 * dk, 2 * dk + r * dv), Hv * dv),
  ], { axis: attr.int(1) });
  const z = flat(lastAxis(qkvz, 2 * dk + r * dv, 2 * dk + 2 * r * dv), dv); // [T·Hv, dv]
  const u = silu(ctx, causalConv(ctx, node, steps, mixed)); // [T, 2·Hk·dk + Hv·dv]

  /** [T, Hk·dk] → [B, Hv, S, dk]: each key head repeated to its r value heads, L2-normalised. */
  const keyHeads = (t: string, scale: number) => {
    const heads = g.op('Unsqueeze', [toBatchSeq(ctx, t, [Hk, dk]), g.ints([3])]); // [B, S, Hk, 1, dk]
    const repeated = reshape(ctx, g.op('Expand', [heads, g.ints([1, 1, 1, r, 1])]), [0, 0, Hv, dk]);
    const inv = op('Div', [g.float(scale), op('Sqrt', [op('Add', [sumLast(op('Mul', [repeated, repeated])), g.float(EPS)])])], 'l2norm');
    return perm(op('Mul', [repeated, inv]), [0, 2, 1, 3]);
  };
  const Q = keyHeads(columns(ctx, u, 0, Hk * dk), 1 / Math.sqrt(dk));
  const K = keyHeads(columns(ctx, u, Hk * dk, 2 * Hk * dk), 1);
  const V = perm(toBatchSeq(ctx, columns(ctx, u, 2 * Hk * dk, 2 * Hk * dk + Hv * dv), [Hv, dv]), [0, 2, 1, 3]); // [B, Hv, S, dv]

  /** [B, S, Hk, 2r] entries [from, from + r) of each key head → [B, Hv, S]. */
  const perValueHead = (from: number) => perm(reshape(ctx, lastAxis(ba, from, from + r), [0, 0, Hv]), [0, 2, 1]);
  const beta = g.op('Unsqueeze', [op('Sigmoid', [perValueHead(0)], 'beta'), g.ints([3])]); // [B, Hv, S, 1]
  const A = g.op('Unsqueeze', [op('Neg', [op('Exp', [store('A_log')])]), g.ints([1])]); // [Hv, 1]
  const step = op('Softplus', [op('Add', [perValueHead(r), g.op('Unsqueeze', [store('dt_bias'), g.ints([1])])])]);
  const gamma = op('CumSum', [op('Mul', [A, step]), g.ints([2], true)], 'log_decay'); // [B, Hv, S]
  const chunk = (): string => {
    // Γ[t, s] = exp(γ_t − γ_s) for s ≤ t, 0 above the diagonal: [B, Hv, S(t), S(s)].
    const diff = op('Sub', [g.op('Unsqueeze', [gamma, g.ints([3])]), g.op('Unsqueeze', [gamma, g.ints([2])])]);
    const Gamma = op('Exp', [g.op('Where', [futureMask(ctx, 0), g.float(-1e9), diff])], 'decay');
    const Kt = perm(K, [0, 1, 3, 2]);
    // L = β_t·(k_t·k_s)·Γ[t, s] strictly below the diagonal (Γ without its unit diagonal).
    const pos = g.op('Range', [g.ints([0], true), ctx.seqLen, g.ints([1], true)], undefined, { hint: 'pos' });
    const diagonal = op('Equal', [reshape(ctx, pos, [-1, 1]), reshape(ctx, pos, [1, -1])], 'diagonal'); // [S, S]
    const L = op('Mul', [op('Mul', [op('MatMul', [K, Kt]), beta]), g.op('Where', [diagonal, g.float(0), Gamma])], 'wy');
    const identity = g.op('Where', [diagonal, g.float(1), g.float(0)]);
    const inv = g.op('Inverse', [op('Add', [identity, L])], undefined, { domain: 'com.microsoft', hint: 'wy_inv' });
    const writes = op('MatMul', [inv, op('Mul', [V, beta])], 'delta'); // Δ: [B, Hv, S, dv]
    return op('MatMul', [op('Mul', [op('MatMul', [Q, Kt]), Gamma]), writes], 'readout'); // [B, Hv, S, dv]
  };
  const O = ctx.decode ? deltaRuleStep(ctx, steps, Q, K, V, beta, gamma, { Hv, dk, dv }) : chunk(); // [B, Hv, S, dv]

  // Gated RMSNorm per value head: rmsnorm(o)·w·silu(z), then out_proj.
  const o = flat(perm(O, [0, 2, 1, 3]), dv); // [T·Hv, dv]
  const gated = flat(op('Mul', [rmsNormLastAxis(ctx, o, store('norm')), silu(ctx, z)], 'gated'), Hv * dv); // [T, Hv·dv]
  const out = projection(ctx, node, steps, gated, 'out_proj', undefined);
  return { y: out.y, width: d };
}
