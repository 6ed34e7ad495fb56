// Mixture of experts: top-k routing with sparse dispatch, every expert its own initializer; in
// fused ops the routed experts are one com.microsoft MoE node where it is exact (moe-fused.ts).

import { routedSelection } from '../../src/core/index.js';
import { ExportError, adapterModifiersFor, pathText, storePath, type LayerNode, type PathStep } from '../engine-bridge.js';
import { copyKey, countedFactorChain, factorChainFor, generatedCopy } from '../generated/resolve.js';
import { activation } from './activation.js';
import { boolArg, numberArg, scaleOf, textArg, weightNamed, type EmitContext } from './context.js';
import { fusedMoe, fusedMoeCovers } from './moe-fused.js';
import { fusedRouterProbs, isSoftmaxTopK, routeTokens } from './moe-routing.js';
import { recurrentRouterLogits } from './recurrent-router.js';
import { projection } from './projection.js';
import { attr } from '../onnx-writer.js';

/**
 * One expert of a bank: each copy of a bank is its own initializer (`<store>.expert_up[3]`), so
 * the file still holds exactly the stored elements and no Gather on a bank is constant-folded
 * into a second copy. Returns [T', d] for the rows it is given.
 */
export function expert(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, prefix: string, index: number, gated: boolean, act: string): string {
  const g = ctx.g;
  const proj = (part: string, input: string): string => {
    const w = weightNamed(node, `${prefix}_${part}`)!;
    const { scale, offset } = scaleOf(w);
    const bank = `${storePath(ctx.model, steps, w.name)}.${w.name}`;
    if (adapterModifiersFor(ctx.model, steps, w.name).length > 0) throw new ExportError(`${pathText(steps)}.${w.name}: adapters on MoE experts are not supported by the ONNX exporter`);
    const b = weightNamed(node, `${prefix}_${part}_bias`);
    const bias = b ? g.weight(copyKey(`${storePath(ctx.model, steps, b.name)}.${b.name}`, index), b.shape, 0.02).name : undefined;
    // A factorised copy whose factors the engine counts applied runs through them (W never formed).
    const chained = factorChainFor(ctx, node, steps, w, copyKey(bank, index), input, bank);
    if (chained) return bias ? g.op('Add', [chained, bias], undefined, { hint: `${prefix}${index}_${part}` }) : chained;
    // A hashed, banked, dictionary or factorised expert is generated per copy (its store key names the copy).
    const stored = generatedCopy(ctx, steps, w, bank, index) ?? g.weight(copyKey(bank, index), w.shape, scale, offset);
    const inputs = [input, stored.name, ...(bias ? [bias] : [])];
    return g.op('Gemm', inputs, { transB: attr.int(1) }, { hint: `${prefix}${index}_${part}` });
  };
  const hidden = gated ? gatedProduct(ctx, node, proj('gate', x), proj('up', x), act) : activation(ctx, proj('up', x), act);
  const y = proj('down', hidden);
  // PERFT-E (expert_adapter): the expert's adapter up·(down·x) beside it, added before the router's
  // weight scales the sum (the reference's OlmoeMLP: down_proj(…) + embedded_routing_adapter(x)).
  if (prefix !== 'expert' || !weightNamed(node, 'expert_adapter_down')) return y;
  return g.op('Add', [y, proj('adapter_up', proj('adapter_down', x))], undefined, { hint: `${prefix}${index}_adapter` });
}

/**
 * act(gate)·up, or with `glu_limit` L GPT-OSS's clamped form (GptOssExperts):
 * (clip(up, −L, L) + 1)·act(min(gate, L)).
 */
function gatedProduct(ctx: EmitContext, node: LayerNode, gate: string, up: string, act: string): string {
  const g = ctx.g;
  const limit = node.args.get('glu_limit');
  if (limit === undefined || typeof limit !== 'object') return g.op('Mul', [activation(ctx, gate, act), up]);
  const L = limit.num / limit.den;
  const clamped = g.op('Min', [gate, g.float(L)], undefined, { hint: 'gate_clamp' });
  const upClamped = g.op('Add', [g.op('Max', [g.op('Min', [up, g.float(L)]), g.float(-L)]), g.float(1)], undefined, { hint: 'up_clamp' });
  return g.op('Mul', [activation(ctx, clamped, act), upClamped], undefined, { hint: 'glu' });
}

/**
 * Mixture of experts with sparse dispatch: the router's top-k per token (softmax over the k
 * logits, as Mixtral), then per expert the rows that chose it (NonZero → Gather), the expert on
 * those rows only, scaled by their gate and scattered back (ScatterND, reduction add). Shared
 * experts run on every row. Computes what the engine counts: top_k routed experts per token.
 */
export function moe(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): string {
  const given = node.args.get('iterations');
  const iterations = typeof given === 'number' ? given : 1;
  if (iterations === 1) return moeIteration(ctx, node, steps, x, 0);
  // Chain-of-Experts: x⁽ᵗ⁾ = MoE_t(x⁽ᵗ⁻¹⁾) + x⁽ᵗ⁻¹⁾ over the same experts, iteration t scored by
  // rows t·E … (t+1)·E − 1 of the stacked router. The layer returns x⁽ᶜ⁾ − x⁽⁰⁾ = Σ_t MoE_t(x⁽ᵗ⁻¹⁾):
  // the model's residual around the layer adds x⁽⁰⁾ back, as for a plain MoE.
  const g = ctx.g;
  let h = x;
  let sum: string | undefined;
  for (let t = 0; t < iterations; t++) {
    const out = moeIteration(ctx, node, steps, h, t);
    sum = sum === undefined ? out : g.op('Add', [sum, out], undefined, { hint: `coe_sum${t}` });
    if (t < iterations - 1) h = g.op('Add', [h, out], undefined, { hint: `coe_x${t + 1}` });
  }
  return sum!;
}

/** One pass of the layer over `x`: iteration `t`'s router columns, its top_k experts and the shared ones. */
function moeIteration(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, t: number): string {
  const g = ctx.g;
  const experts = node.cost.weights.find((w) => w.name === 'expert_up')!.copies;
  const topK = numberArg(node, 'top_k');
  const gated = boolArg(node, 'gated', true);
  const act = textArg(node, 'act', 'silu');
  // RMoE (router_rnn): the logits come from the router state the layers carry (recurrent-router.ts).
  const scores = weightNamed(node, 'router_in') ? recurrentRouterLogits(ctx, node, steps, x) : projection(ctx, node, steps, x, 'router', weightNamed(node, 'router_bias') ? 'router_bias' : undefined).y; // [T, C·E]
  const stacked = node.cost.weights.find((w) => w.name === 'router')!.shape[0]! > experts;
  const logits = stacked ? g.op('Slice', [scores, g.ints([t * experts]), g.ints([(t + 1) * experts]), g.ints([1])], undefined, { hint: `router${t}` }) : scores; // [T, E]
  // Nemotron 3's latent experts (latent: …): the routed experts run in the latent width, between
  // fc1_latent_proj and fc2_latent_proj; the router and the shared experts read x itself.
  const latent = weightNamed(node, 'latent_in') !== undefined;
  const xr = latent ? projection(ctx, node, steps, x, 'latent_in', undefined).y : x;
  const routed = routedExperts(ctx, node, steps, xr, logits, experts, topK, gated, act, t);
  return withShared(ctx, node, steps, x, latent ? projection(ctx, node, steps, routed, 'latent_out', undefined).y : routed, gated, act);
}

/** The routed experts over `x` (their input width) with iteration `t`'s router logits [T, E]. */
function routedExperts(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, logits: string, experts: number, topK: number, gated: boolean, act: string, t: number): string {
  const g = ctx.g;
  // Fused ops: the routed bank is one com.microsoft MoE node where that op computes exactly this
  // layer (moe-fused.ts); elsewhere (gelu, gated non-SiLU experts, standard ops) the dispatch below.
  // Experts whose factors the engine counts applied keep the dispatch: the fused op reads dense banks.
  const factored = node.cost.weights.some((w) => routedSelection(w) !== undefined && countedFactorChain(ctx, node, steps, w) !== undefined);
  const fused = ctx.ops === 'fused' && fusedMoeCovers(node) === undefined && !factored;
  // The op's own routing is Mixtral's; any other routing function hands it the chosen experts'
  // weights as log-probabilities and rescales its output (moe-routing.ts).
  if (fused && isSoftmaxTopK(node)) return fusedMoe(ctx, node, steps, x, logits);
  const choice = routeTokens(ctx, node, steps, logits, experts, topK, t);
  if (fused) {
    const { probs, weightSum } = fusedRouterProbs(ctx, logits, choice);
    return g.op('Mul', [fusedMoe(ctx, node, steps, x, probs, false), weightSum], undefined, { hint: 'moe_routed' });
  }
  const { indices: topIdx, weights: gates } = choice; // [T, k]
  const onInput = boolArg(node, 'weight_input', false);
  let out = g.op('Mul', [x, g.float(0)], undefined, { hint: 'moe_zero' }); // zeros [T, d] without a shape computation
  for (let e = 0; e < experts; e++) {
    const chose = g.op('Equal', [topIdx, g.ints([e], true)], undefined, { hint: `chose${e}` }); // [T, k]
    const gate = g.op('ReduceSum', [g.op('Where', [chose, gates, g.float(0)]), g.ints([1])], { keepdims: attr.int(0) }, { hint: `gate${e}` }); // [T]
    const any = g.op('ReduceMax', [g.op('Cast', [chose], { to: attr.int(6) })], { axes: attr.ints([1]), keepdims: attr.int(0) });
    const rows = g.op('Transpose', [g.op('NonZero', [any])], { perm: attr.ints([1, 0]) }, { hint: `rows${e}` }); // [n, 1]
    const xe = g.op('GatherND', [x, rows], undefined, { hint: `x${e}` }); // [n, d]
    const ge = g.op('Unsqueeze', [g.op('GatherND', [gate, rows]), g.ints([1])]); // [n, 1]
    // Llama-4 (weight_input): the expert runs on its weight times the input, its output unscaled.
    const ye = expert(ctx, node, steps, onInput ? g.op('Mul', [xe, ge], undefined, { hint: `x${e}_weighted` }) : xe, 'expert', e, gated, act);
    out = g.op('ScatterND', [out, rows, onInput ? ye : g.op('Mul', [ye, ge])], { reduction: attr.string('add') }, { hint: `moe${e}` });
  }
  return out;
}

/**
 * Adds the always-on shared experts (dense branches on every row) to the routed output; with
 * shared_expert_gate (Qwen2-MoE, Qwen3-Next) shared expert s is scaled by sigmoid(x·gate[s]ᵀ).
 */
function withShared(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, routed: string, gated: boolean, act: string): string {
  const g = ctx.g;
  let out = routed;
  const shared = node.cost.weights.find((w) => w.name === 'shared_up')?.copies ?? 0;
  const gateLogits = weightNamed(node, 'shared_expert_gate') ? projection(ctx, node, steps, x, 'shared_expert_gate', undefined).y : undefined; // [T, shared]
  for (let s = 0; s < shared; s++) {
    let y = expert(ctx, node, steps, x, 'shared', s, gated, act);
    if (gateLogits) y = g.op('Mul', [y, g.op('Sigmoid', [g.op('Slice', [gateLogits, g.ints([s]), g.ints([s + 1]), g.ints([1])])])], undefined, { hint: `shared_gate${s}` });
    out = g.op('Add', [out, y]);
  }
  return out;
}

