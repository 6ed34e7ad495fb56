// One decode step of the recurrent mixers (Mamba, Mamba-2, Gated DeltaNet): the new token updates
// the layer's recurrent state instead of attending a KV cache. The state is what Transformers'
// caches hold per layer and sequence, and what the engine counts as recurrent state
// (src/core/layers/recurrent-mixer.ts):
//   conv  [B, C, K]  the depthwise convolution's last K inputs (MambaCache.conv_states,
//                    Qwen3-Next's conv_states): the step drops the oldest column, appends the new
//                    input and convolves the K columns, as Transformers' decode path does;
//   ssm   [B, I, N] (Mamba), [B, heads, head_dim, N] (Mamba-2), [B, v_heads, k_head_dim,
//                    v_head_dim] (Gated DeltaNet's recurrent_states).
// Each is a graph input `state.<path>.<part>` with a synthetic initializer of the same name (the
// probe feeds only token ids; a caller may feed the real state), and the updated state is the
// graph output `next_state.<path>.<part>`. Σ their elements (ExportResult.recurrentStateElements)
// × the dtype's bytes is the engine's recurrentStateBytes at that batch.

import { pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { layerWeights, reshape, type EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

/** The state `part` of the layer at `steps` as it was before this token: [batch, ...shape]. */
export function pastState(ctx: EmitContext, steps: readonly PathStep[], part: string, shape: readonly number[]): string {
  return ctx.g.state(`state.${pathText(steps)}.${part}`, [ctx.decode!.batch, ...shape]);
}

/** Publishes `value` ([batch, ...shape]) as the layer's state `part` after this token. */
export function nextState(ctx: EmitContext, steps: readonly PathStep[], part: string, value: string, shape: readonly number[]): void {
  const full = [ctx.decode!.batch, ...shape];
  ctx.g.stateOutput(`next_state.${pathText(steps)}.${part}`, reshape(ctx, value, full), full);
}

/**
 * The conv state's window for one new input x [B, C]: the carried last `span` inputs per channel
 * with the oldest dropped and x appended ([B, C, span]), published as the state after this token.
 */
export function convWindow(ctx: EmitContext, steps: readonly PathStep[], x: string, channels: number, span: number): string {
  const g = ctx.g;
  const past = pastState(ctx, steps, 'conv', [channels, span]);
  const kept = g.op('Slice', [past, g.ints([1]), g.ints([span]), g.ints([2])], undefined, { hint: 'conv_kept' }); // [B, C, span − 1]
  const window = g.op('Concat', [kept, g.op('Unsqueeze', [x, g.ints([2])])], { axis: attr.int(2) }, { hint: 'conv_window' }); // [B, C, span]
  nextState(ctx, steps, 'conv', window, [channels, span]);
  return window;
}

/**
 * The depthwise causal convolution (weight `conv` [C, 1, K], optional `conv_bias`) for one new
 * input x [B, C]: the conv state's K columns shifted left by one with x appended, weighted and
 * summed per channel. Returns [B, C], before the activation.
 */
export function convStep(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): string {
  const g = ctx.g;
  const { spec, store, optional } = layerWeights(ctx, node, steps);
  const [C, , K] = spec('conv').shape as [number, number, number];
  const window = convWindow(ctx, steps, x, C, K); // [B, C, K]
  const taps = reshape(ctx, store('conv'), [C, K]);
  let y = g.op('ReduceSum', [g.op('Mul', [window, taps]), g.ints([2])], { keepdims: attr.int(0) }, { hint: 'conv_step' }); // [B, C]
  const bias = optional('conv_bias');
  if (bias) y = g.op('Add', [y, store(bias)]);
  return y;
}

/**
 * Mamba-1's selective state update h ← exp(Δ·A)∘h + Δ·x·B for one token: `delta4` [B, 1, I, 1],
 * A [I, N], `drive` = Δ·x·B [B, 1, I, N]. Returns the new state as [B, 1, I, N] (the prefill's
 * layout of h at its one position).
 */
export function selectiveStep(ctx: EmitContext, steps: readonly PathStep[], delta4: string, A: string, drive: string, I: number, N: number): string {
  const g = ctx.g;
  const past = reshape(ctx, pastState(ctx, steps, 'ssm', [I, N]), [-1, 1, I, N]);
  const h = g.op('Add', [g.op('Mul', [past, g.op('Exp', [g.op('Mul', [delta4, A])], undefined, { hint: 'dA' })]), drive], undefined, { hint: 'state' });
  nextState(ctx, steps, 'ssm', h, [I, N]);
  return h;
}

/**
 * Mamba-2's SSD update for one token, per head: h ← exp(Δ·A)·h + Δ·x·Bᵀ, y = h·C. Inputs as
 * [B, …]: xs [B, I], Bm and Cm [B, G·N], delta [B, H], A [H]; head h reads group h / (H / G).
 * Returns y [B, I] (without the D skip).
 */
export function ssdStep(ctx: EmitContext, steps: readonly PathStep[], xs: string, Bm: string, Cm: string, delta: string, A: string, dims: { H: number; G: number; N: number; P: number }): string {
  const g = ctx.g;
  const { H, G, N, P } = dims;
  const r = H / G;
  const perHead = (t: string) => reshape(ctx, t, [-1, G, r, 1, 1]);
  const decay = perHead(g.op('Exp', [g.op('Mul', [delta, A])], undefined, { hint: 'dA' })); // [B, G, r, 1, 1]
  const x5 = reshape(ctx, xs, [-1, G, r, P, 1]);
  const B5 = reshape(ctx, Bm, [-1, G, 1, 1, N]);
  const C5 = reshape(ctx, Cm, [-1, G, 1, N, 1]);
  const past = reshape(ctx, pastState(ctx, steps, 'ssm', [H, P, N]), [-1, G, r, P, N]);
  const drive = g.op('Mul', [g.op('Mul', [perHead(delta), x5]), B5], undefined, { hint: 'drive' }); // [B, G, r, P, N]
  const h = g.op('Add', [g.op('Mul', [past, decay]), drive], undefined, { hint: 'state' });
  nextState(ctx, steps, 'ssm', h, [H, P, N]);
  return reshape(ctx, g.op('MatMul', [h, C5], undefined, { hint: 'readout' }), [-1, H * P]);
}

/**
 * The gated delta rule for one token (Transformers' recurrent_gated_delta_rule): S ← e^{g}·S;
 * δ = β·(v − Sᵀk); S ← S + k·δᵀ; o = Sᵀq. Q and K [B, Hv, 1, dk] (normalised, q scaled),
 * V [B, Hv, 1, dv], beta [B, Hv, 1, 1], gamma [B, Hv, 1] (the log decay g). Returns O [B, Hv, 1, dv].
 */
export function deltaRuleStep(ctx: EmitContext, steps: readonly PathStep[], Q: string, K: string, V: string, beta: string, gamma: string, dims: { Hv: number; dk: number; dv: number }): string {
  const g = ctx.g;
  const { Hv, dk, dv } = dims;
  const decay = g.op('Exp', [g.op('Unsqueeze', [gamma, g.ints([3])])], undefined, { hint: 'decay' }); // [B, Hv, 1, 1]
  const decayed = g.op('Mul', [pastState(ctx, steps, 'recurrent', [Hv, dk, dv]), decay], undefined, { hint: 'decayed' }); // [B, Hv, dk, dv]
  const recalled = g.op('MatMul', [K, decayed], undefined, { hint: 'recalled' }); // kᵀS: [B, Hv, 1, dv]
  const write = g.op('Mul', [g.op('Sub', [V, recalled]), beta], undefined, { hint: 'delta' });
  const Kt = g.op('Transpose', [K], { perm: attr.ints([0, 1, 3, 2]) }); // [B, Hv, dk, 1]
  const S = g.op('Add', [decayed, g.op('MatMul', [Kt, write])], undefined, { hint: 'state' });
  nextState(ctx, steps, 'recurrent', S, [Hv, dk, dv]);
  return g.op('MatMul', [Q, S], undefined, { hint: 'readout' });
}
