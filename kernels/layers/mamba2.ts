// Mamba-2's SSD mixer (Dao & Gu 2024; Transformers' Mamba2Mixer.torch_forward, mamba_ssm's
// Mamba2) for a prefill, on standard ops. in_proj gives the gate z, the convolved x·B·C and one
// step per head; a depthwise causal Conv over x, B and C, then silu; Δ = softplus(dt + dt_bias);
// per head a scalar A = −exp(A_log). Head h reads group h / (heads / groups) of B and C (B and C
// repeat_interleave'd over the heads). The recurrence h_t = exp(Δ_t·A)·h_{t−1} + Δ_t·x_t·B_tᵀ,
// y_t = h_t·C_t + D·x_t is written in its dual form (the paper's "attention-like" SSD matrix):
// y_t = Σ_{s≤t} exp(L_t − L_s)·(C_t·B_s)·Δ_s·x_s with L = cumsum(Δ·A), i.e. per head one
// [S, S] matrix times x — [B, heads, S, S] intermediates, so for probes of short prompts. Then
// the gated RMSNorm rmsnorm(y·silu(z)) in groups of inner / groups channels (mamba_ssm's
// RMSNormGated, norm_before_gate = False, group_size = d_ssm / ngroups; Nemotron-H alike) and
// out_proj. The decode step (layers/recurrent-step.ts) carries the conv and SSM states as graph
// inputs and outputs: the conv over the conv state and the new xBC, h ← exp(Δ·A)·h + Δ·x·Bᵀ.

import { type LayerNode, type PathStep } from '../engine-bridge.js';
import { layerWeights, numberArg, reshape, toBatchSeq, type EmitContext } from './context.js';
import { causalConv, columns, futureMask, silu } from './mamba.js';
import { rmsNormLastAxis } from './norm.js';
import { projection } from './projection.js';
import { ssdStep } from './recurrent-step.js';
import { attr } from '../onnx-writer.js';

export function mamba2(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { y: string; width: number } {
  const g = ctx.g;
  const { spec: w, store, optional } = layerWeights(ctx, node, steps);
  const op = (type: string, inputs: string[], hint?: string) => g.op(type, inputs, undefined, hint ? { hint } : undefined);
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  const H = w('A_log').shape[0]!;
  const [d, I] = w('out_proj').shape as [number, number];
  const C = w('conv').shape[0]!; // I + 2·G·N
  const G = numberArg(node, 'groups');
  const N = (C - I) / (2 * G);
  const P = I / H;
  const r = H / G; // heads per group

  const zxbcdt = projection(ctx, node, steps, x, 'in_proj', optional('in_proj_bias')).y; // [T, 2I + 2GN + H]
  const z = columns(ctx, zxbcdt, 0, I);
  const xBC = columns(ctx, zxbcdt, I, I + C);
  const u = silu(ctx, causalConv(ctx, node, steps, xBC)); // [T, C]
  const xs = columns(ctx, u, 0, I);
  const Bm = columns(ctx, u, I, I + G * N);
  const Cm = columns(ctx, u, I + G * N, C);
  const delta = op('Softplus', [op('Add', [columns(ctx, zxbcdt, I + C, I + C + H), store('dt_bias')])], 'delta'); // [T, H]
  const A = op('Neg', [op('Exp', [store('A_log')])], 'A'); // [H]

  const dual = (): string => {
    // Per head the cumulative log decay L over the sequence, as [B, G, r, S].
    const L = op('CumSum', [toBatchSeq(ctx, op('Mul', [delta, A]), [H]), g.ints([1], true)], 'log_decay'); // [B, S, H]
    const byHead = (t: string, rest: number[]) => reshape(ctx, t, [0, G, r, ...rest]);
    const Lh = byHead(perm(L, [0, 2, 1]), [-1]);
    // exp(L_t − L_s) for s ≤ t, 0 above the diagonal: [B, G, r, S(t), S(s)].
    const diff = op('Sub', [g.op('Unsqueeze', [Lh, g.ints([4])]), g.op('Unsqueeze', [Lh, g.ints([3])])]);
    const decay = op('Exp', [g.op('Where', [futureMask(ctx, 0), g.float(-1e9), diff])], 'decay');
    // C_t · B_s per group: [B, G, 1, S(t), S(s)], broadcast over the group's heads.
    const Bg = perm(toBatchSeq(ctx, Bm, [G, N]), [0, 2, 3, 1]); // [B, G, N, S]
    const Cg = perm(toBatchSeq(ctx, Cm, [G, N]), [0, 2, 1, 3]); // [B, G, S, N]
    const CB = g.op('Unsqueeze', [op('MatMul', [Cg, Bg], 'cb'), g.ints([2])]);
    const dtS = byHead(perm(toBatchSeq(ctx, delta, [H]), [0, 2, 1]), [1, -1]); // [B, G, r, 1, S(s)]
    const M = op('Mul', [op('Mul', [decay, CB]), dtS], 'ssd'); // [B, G, r, S, S]
    const xh = byHead(perm(toBatchSeq(ctx, xs, [H, P]), [0, 2, 1, 3]), [-1, P]); // [B, G, r, S, P]
    const yh = op('MatMul', [M, xh], 'scan'); // [B, G, r, S, P]
    return reshape(ctx, perm(reshape(ctx, yh, [0, H, -1, P]), [0, 2, 1, 3]), [-1, I]); // [T, I]
  };
  const scan = ctx.decode ? ssdStep(ctx, steps, xs, Bm, Cm, delta, A, { H, G, N, P }) : dual(); // [T, I]
  const skip = reshape(ctx, op('Mul', [reshape(ctx, xs, [-1, H, P]), g.op('Unsqueeze', [store('D'), g.ints([1])])]), [-1, I]);
  const gated = op('Mul', [op('Add', [scan, skip]), silu(ctx, z)], 'gated'); // [T, I]

  let mixed = gated;
  if (optional('norm')) {
    const normed = reshape(ctx, rmsNormLastAxis(ctx, reshape(ctx, gated, [-1, G, I / G]), undefined), [-1, I]);
    mixed = op('Mul', [normed, store('norm')], 'rms');
  }
  const out = projection(ctx, node, steps, mixed, 'out_proj', optional('out_proj_bias'));
  return { y: out.y, width: d };
}
