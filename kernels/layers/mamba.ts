// Mamba-1's selective state-space mixer (Transformers' MambaMixer.slow_forward) for a prefill, on
// standard ops: in_proj to x and the gate z; a depthwise causal Conv over x (left padding of
// conv − 1) and silu; x_proj to the step rank, B and C; Δ = softplus(dt_proj(·)); A = −exp(A_log).
// The scan h_t = exp(Δ_t·A)∘h_{t−1} + Δ_t·x_t·B_t, y_t = C_t·h_t + D∘x_t is written in its closed
// form h_t = Σ_{s≤t} exp(L_t − L_s)∘(Δ_s·x_s·B_s) with L = cumsum(Δ·A) over the sequence (the
// quadratic "dual" form: [B, S, S, inner, state] intermediates, so for probes of short prompts),
// then y·silu(z) and out_proj. With inner_norms (Jamba) the step, B and C are RMS-normalised after
// x_proj. Its decode step (layers/recurrent-step.ts) carries the conv and SSM states as graph
// inputs and outputs: the conv over the conv state and the new x, h ← exp(Δ·A)∘h + Δ·x·B.

import { type LayerNode, type PathStep } from '../engine-bridge.js';
import { boolArg, layerWeights, reshape, toBatchSeq, type EmitContext } from './context.js';
import { rmsNormLastAxis } from './norm.js';
import { projection } from './projection.js';
import { convStep, selectiveStep } from './recurrent-step.js';
import { attr } from '../onnx-writer.js';

/** x·sigmoid(x). */
export function silu(ctx: EmitContext, x: string): string {
  return ctx.g.op('Mul', [x, ctx.g.op('Sigmoid', [x])], undefined, { hint: 'silu' });
}

/** Columns [from, to) of a [T, w] tensor. */
export function columns(ctx: EmitContext, x: string, from: number, to: number): string {
  return ctx.g.op('Slice', [x, ctx.g.ints([from]), ctx.g.ints([to]), ctx.g.ints([1])]);
}

/**
 * The layer's depthwise causal convolution (weight `conv` [C, 1, K], optional `conv_bias`) over
 * the sequence of a [T, C] tensor: K − 1 zeros on the left of each sequence, as Transformers'
 * conv1d(padding = K − 1) cut to the sequence. Returns [T, C], before the activation. In a
 * decode step the convolution runs over the carried conv state instead (`convStep`).
 */
export function causalConv(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): string {
  if (ctx.decode) return convStep(ctx, node, steps, x);
  const g = ctx.g;
  const { spec, store, optional } = layerWeights(ctx, node, steps);
  const [C, , K] = spec('conv').shape as [number, number, number];
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  const inputs = [perm(toBatchSeq(ctx, x, [C]), [0, 2, 1]), store('conv')]; // [B, C, S]
  if (optional('conv_bias')) inputs.push(store('conv_bias'));
  const y = g.op('Conv', inputs, {
    kernel_shape: attr.ints([K]),
    pads: attr.ints([K - 1, 0]),
    group: attr.int(C),
  }, { hint: 'conv' });
  return reshape(ctx, perm(y, [0, 2, 1]), [-1, C]);
}

/** True where s > t, as [S(t), S(s)] followed by `trailing` axes of 1: the keys a causal scan must not read. */
export function futureMask(ctx: EmitContext, trailing: number): string {
  const g = ctx.g;
  const pos = g.op('Range', [g.ints([0], true), ctx.seqLen, g.ints([1], true)], undefined, { hint: 'pos' });
  const ones = new Array<number>(trailing).fill(1);
  return g.op('Greater', [reshape(ctx, pos, [1, -1, ...ones]), reshape(ctx, pos, [-1, 1, ...ones])], undefined, { hint: 'future' });
}

export function mamba(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { y: string; width: number } {
  const g = ctx.g;
  const { spec: w, store, optional } = layerWeights(ctx, node, steps);
  const [I, N] = w('A_log').shape as [number, number];
  const R = w('dt_proj').shape[1]!;
  const d = w('out_proj').shape[0]!;

  const xz = projection(ctx, node, steps, x, 'in_proj', optional('in_proj_bias')).y; // [T, 2I]
  const xIn = columns(ctx, xz, 0, I);
  const u = silu(ctx, causalConv(ctx, node, steps, xIn)); // [T, I]
  const proj = projection(ctx, node, steps, u, 'x_proj', undefined).y; // [T, R + 2N]
  // Jamba's dt_layernorm, b_layernorm and c_layernorm (inner_norms): RMSNorms of the step, B and C.
  const part = (from: number, to: number, normName: string) => {
    const t = columns(ctx, proj, from, to);
    return boolArg(node, 'inner_norms', false) ? rmsNormLastAxis(ctx, t, store(normName)) : t;
  };
  const delta = g.op('Softplus', [projection(ctx, node, steps, part(0, R, 'dt_norm'), 'dt_proj', 'dt_proj_bias').y], undefined, { hint: 'delta' }); // [T, I]
  const Bm = toBatchSeq(ctx, part(R, R + N, 'b_norm'), [1, N]); // [B, S, 1, N]
  const Cm = toBatchSeq(ctx, part(R + N, R + 2 * N, 'c_norm'), [1, N]);
  const A = g.op('Neg', [g.op('Exp', [store('A_log')])], undefined, { hint: 'A' }); // [I, N]

  const delta4 = toBatchSeq(ctx, delta, [I, 1]); // [B, S, I, 1]
  const drive = g.op('Mul', [g.op('Mul', [delta4, toBatchSeq(ctx, u, [I, 1])]), Bm], undefined, { hint: 'drive' }); // [B, S, I, N]
  const closedForm = (): string => {
    const L = g.op('CumSum', [g.op('Mul', [delta4, A]), g.ints([1], true)], undefined, { hint: 'log_decay' }); // [B, S, I, N]
    // exp(L_t − L_s) for s ≤ t, 0 above the diagonal: [B, S(t), S(s), I, N].
    const diff = g.op('Sub', [g.op('Unsqueeze', [L, g.ints([2])]), g.op('Unsqueeze', [L, g.ints([1])])]);
    const decay = g.op('Exp', [g.op('Where', [futureMask(ctx, 2), g.float(-1e9), diff])], undefined, { hint: 'decay' });
    return g.op('ReduceSum', [g.op('Mul', [decay, g.op('Unsqueeze', [drive, g.ints([1])])]), g.ints([2])], { keepdims: attr.int(0) }, { hint: 'state' });
  };
  const h = ctx.decode ? selectiveStep(ctx, steps, delta4, A, drive, I, N) : closedForm(); // [B, S, I, N]
  const read = g.op('ReduceSum', [g.op('Mul', [h, Cm]), g.ints([3])], { keepdims: attr.int(0) }, { hint: 'readout' }); // [B, S, I]
  const y = g.op('Add', [reshape(ctx, read, [-1, I]), g.op('Mul', [u, store('D')])], undefined, { hint: 'scan' }); // [T, I]
  const gated = g.op('Mul', [y, silu(ctx, columns(ctx, xz, I, 2 * I))], undefined, { hint: 'gated' });
  const out = projection(ctx, node, steps, gated, 'out_proj', optional('out_proj_bias'));
  return { y: out.y, width: d };
}
