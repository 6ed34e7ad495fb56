// A MoE layer's routing function in the graph (src/core/layers/moe-routing.ts has the rule):
// from the router's logits [T, E] to the experts each token runs, [T, k] int64, and their
// weights, [T, k]. Mixtral's default (softmax over the top-k logits) keeps its short form; any
// other routing — DeepSeek-V3's sigmoid scores, e_score_correction_bias for the choice only,
// group-limited top-k, no renormalisation, routed_scaling_factor — takes the general one:
//   scores  = softmax(logits) or σ(logits)
//   choice  = scores + selection_bias                       (the bias chooses, never weights)
//   groups  : choice as [T, G, E/G]; a group's score is the sum of its two best choices (or the
//             best one); the top_groups best groups kept (ScatterElements of ones over TopK's
//             indices), the other groups' experts set to −∞, so they are never chosen
//   chosen  = TopK(choice, k).indices
//   weights = scores gathered at chosen, / their sum (normalize), · route_scale
// With weight_input (Llama-4) the caller scales each chosen expert's input by its weight instead
// of its output.
// DeepSeek's reference (inference/model.py) masks the dropped groups with −∞, as here;
// Transformers' DeepseekV3TopkRouter fills them with 0, which only differs when fewer than k
// experts of the kept groups have a non-negative biased score.

import type { LayerNode, PathStep } from '../engine-bridge.js';
import { boolArg, layerArg, numberArg, storeFor, textArg, weightNamed, type EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

/** The experts each token runs ([T, k] int64) and their weights ([T, k]). */
export interface RoutedChoice {
  readonly indices: string;
  readonly weights: string;
}

/** route_scale as a number, 1 when not given. */
function routeScale(node: LayerNode): number {
  const v = layerArg(node, 'route_scale');
  return typeof v === 'object' ? v.num / v.den : 1;
}

/** Whether the layer routes as Mixtral does: softmax over the top-k logits, weights summing to 1. */
export function isSoftmaxTopK(node: LayerNode): boolean {
  return textArg(node, 'scoring', 'softmax') === 'softmax' && !weightNamed(node, 'selection_bias') && numberArg(node, 'groups') === 1 && boolArg(node, 'normalize', true) && routeScale(node) === 1 && !boolArg(node, 'weight_input', false);
}

/**
 * Routes iteration `t`'s logits [T, E] (Chain-of-Experts iteration t reads rows t·E … (t+1)·E − 1
 * of a stacked selection bias).
 */
export function routeTokens(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], logits: string, experts: number, topK: number, t: number): RoutedChoice {
  const g = ctx.g;
  const axis = { axis: attr.int(-1) };
  if (isSoftmaxTopK(node)) {
    const top = g.op('TopK', [logits, g.ints([topK])], axis, { outputs: 2, hint: 'topk' });
    const indices = g.nodes[g.nodes.length - 1]!.outputs[1]!;
    return { indices, weights: g.op('Softmax', [top], axis, { hint: 'gates' }) };
  }
  const scores = textArg(node, 'scoring', 'softmax') === 'sigmoid' ? g.op('Sigmoid', [logits], undefined, { hint: 'scores' }) : g.op('Softmax', [logits], axis, { hint: 'scores' });
  let choice = scores;
  const bias = weightNamed(node, 'selection_bias');
  if (bias) {
    const stored = storeFor(ctx, node, steps, bias).name;
    const rows = bias.shape[0]! > experts ? g.op('Slice', [stored, g.ints([t * experts]), g.ints([(t + 1) * experts]), g.ints([0])], undefined, { hint: `selection_bias${t}` }) : stored;
    choice = g.op('Add', [scores, rows], undefined, { hint: 'choice' });
  }
  const groups = numberArg(node, 'groups');
  if (groups > 1) choice = keepBestGroups(ctx, node, choice, experts, groups);
  g.op('TopK', [choice, g.ints([topK])], axis, { outputs: 2, hint: 'chosen' });
  const indices = g.nodes[g.nodes.length - 1]!.outputs[1]!;
  let weights = g.op('GatherElements', [scores, indices], { axis: attr.int(1) }, { hint: 'gates' });
  if (boolArg(node, 'normalize', true)) weights = g.op('Div', [weights, g.op('ReduceSum', [weights, g.ints([1])], { keepdims: attr.int(1) })], undefined, { hint: 'gates_normalized' });
  const scale = routeScale(node);
  if (scale !== 1) weights = g.op('Mul', [weights, g.float(scale)], undefined, { hint: 'gates_scaled' });
  return { indices, weights };
}

/** `choice` [T, E] with every expert outside the top_groups best groups set to −∞. */
function keepBestGroups(ctx: EmitContext, node: LayerNode, choice: string, experts: number, groups: number): string {
  const g = ctx.g;
  const perGroup = experts / groups;
  const topGroups = typeof layerArg(node, 'top_groups') === 'number' ? numberArg(node, 'top_groups') : groups;
  const grouped = g.op('Reshape', [choice, g.ints([-1, groups, perGroup])], undefined, { hint: 'grouped' }); // [T, G, E/G]
  const axis = { axis: attr.int(-1) };
  const groupScores =
    textArg(node, 'group_score', 'top2_sum') === 'max'
      ? g.op('ReduceMax', [grouped], { axes: attr.ints([2]), keepdims: attr.int(0) }, { hint: 'group_scores' })
      : g.op('ReduceSum', [g.op('TopK', [grouped, g.ints([2])], axis, { outputs: 2, hint: 'group_top2' }), g.ints([2])], { keepdims: attr.int(0) }, { hint: 'group_scores' }); // [T, G]
  const bestValues = g.op('TopK', [groupScores, g.ints([topGroups])], axis, { outputs: 2, hint: 'best_groups' });
  const best = g.nodes[g.nodes.length - 1]!.outputs[1]!; // [T, top_groups]
  const ones = g.op('Add', [g.op('Mul', [bestValues, g.float(0)]), g.float(1)]);
  const kept = g.op('ScatterElements', [g.op('Mul', [groupScores, g.float(0)]), best, ones], { axis: attr.int(1) }, { hint: 'kept_groups' }); // [T, G], 1 where kept
  const keep = g.op('Cast', [g.op('Unsqueeze', [kept, g.ints([2])])], { to: attr.int(9) }); // [T, G, 1] bool
  const masked = g.op('Where', [keep, grouped, g.float(-Infinity)], undefined, { hint: 'group_limited' });
  return g.op('Reshape', [masked, g.ints([-1, experts])], undefined, { hint: 'choice_limited' });
}

/**
 * The router probabilities that make com.microsoft MoE (normalize_routing_weights 0: softmax over
 * all experts, then its top k) run exactly the chosen experts with weights w / Σw: log w at the
 * chosen experts, −∞ elsewhere. The caller multiplies the op's output by Σw (`weightSum`).
 */
export function fusedRouterProbs(ctx: EmitContext, logits: string, choice: RoutedChoice): { probs: string; weightSum: string } {
  const g = ctx.g;
  const none = g.op('Add', [g.op('Mul', [logits, g.float(0)]), g.float(-Infinity)], undefined, { hint: 'unchosen' });
  const probs = g.op('ScatterElements', [none, choice.indices, g.op('Log', [choice.weights])], { axis: attr.int(1) }, { hint: 'router_probs' });
  const weightSum = g.op('ReduceSum', [choice.weights, g.ints([1])], { keepdims: attr.int(1) }, { hint: 'gate_sum' });
  return { probs, weightSum };
}
