// How a MoE layer's router turns its logits into the experts a token runs and their weights
// (the routing function). The default is Mixtral's: softmax over the experts, the top_k, their
// probabilities renormalised to sum to 1 (equal to a softmax over the top_k logits). DeepSeek-V3
// (and Kimi K2, Nemotron-H's NemotronHMoE) route otherwise, and every part is an argument:
//  - scoring: sigmoid — each expert's score is σ(logit), independent of the others;
//  - selection_bias — a stored vector of `experts` (DeepSeek-V3's e_score_correction_bias, the
//    auxiliary-loss-free balancing bias) added to the scores to choose the experts only: the
//    weights are the unbiased scores of the chosen experts;
//  - groups, top_groups — group-limited routing (n_group, topk_group): the experts split into
//    `groups` groups of consecutive experts, each group scored by the sum of its two best biased
//    scores (group_score: top2_sum, V3's noaux_tc) or its best score (max, V2's
//    group_limited_greedy), the best top_groups groups kept, and the top_k experts chosen among
//    the kept groups' experts only;
//  - normalize — the chosen weights divided by their sum (norm_topk_prob);
//  - route_scale — the weights multiplied by it (routed_scaling_factor);
//  - weight_input — each chosen expert runs on its weight times the input, rather than its output
//    being weighted (Llama-4's Llama4TextMoe: σ of the top-k logits times the hidden state).
// None of it changes a count except selection_bias's stored vector (experts elements per
// iteration, always active); the scoring's elementwise work is not counted as FLOPs, as a
// softmax is not.

import { BOOL, DIM, RATIO, oneOf, optional, type LayerArgs } from './arg-specs.js';
import type { Ratio } from './layer-kind.js';

export const ROUTING_ARGS = [
  optional('scoring', oneOf(['softmax', 'sigmoid']), "How the router's logits become scores: softmax over the experts (Mixtral, Qwen-MoE) or an independent sigmoid per expert (DeepSeek-V3's scoring_func).", { default: 'softmax' }),
  optional('selection_bias', BOOL, "A stored bias of experts elements added to the scores to choose the experts only, not to weight them (DeepSeek-V3's e_score_correction_bias).", { default: false }),
  optional('groups', DIM, 'Group-limited routing: the experts form this many groups of consecutive experts (n_group); must divide experts.', { default: 1 }),
  optional('top_groups', DIM, 'Group-limited routing: the experts are chosen from this many best-scored groups only (topk_group). Default: all groups.'),
  optional('group_score', oneOf(['top2_sum', 'max']), "How a group is scored: the sum of its two best (biased) scores (DeepSeek-V3's noaux_tc) or its best score (DeepSeek-V2's group_limited_greedy).", { default: 'top2_sum' }),
  optional('normalize', BOOL, "The chosen experts' weights are divided by their sum (norm_topk_prob).", { default: true }),
  optional('route_scale', RATIO, "The chosen experts' weights are multiplied by this factor (routed_scaling_factor). Default: 1."),
  optional('weight_input', BOOL, "Each chosen expert runs on its weight times the input instead of having its output weighted (Llama-4's Llama4TextMoe).", { default: false }),
];

/** The routing function of one MoE layer, as its arguments give it. */
export interface MoeRouting {
  readonly scoring: 'softmax' | 'sigmoid';
  readonly selectionBias: boolean;
  readonly groups: number;
  readonly topGroups: number;
  readonly groupScore: 'top2_sum' | 'max';
  readonly normalize: boolean;
  readonly routeScale: Ratio | undefined;
  readonly weightInput: boolean;
}

/**
 * Reads and checks the routing arguments against the layer's experts and top_k; undefined (with
 * a located report) when they cannot describe a routing.
 */
export function readRouting(a: LayerArgs, experts: number, topK: number, report: (arg: string, message: string) => void): MoeRouting | undefined {
  const groups = a.number('groups');
  const topGroupsArg = a.optionalNumber('top_groups');
  const groupScore = a.choice('group_score') as MoeRouting['groupScore'];
  if (experts % groups !== 0) {
    report('groups', `groups (${groups}) must divide experts (${experts})`);
    return undefined;
  }
  const topGroups = topGroupsArg ?? groups;
  if (topGroups > groups) {
    report('top_groups', `top_groups (${topGroups}) must not exceed groups (${groups})`);
    return undefined;
  }
  const perGroup = experts / groups;
  if (topGroups * perGroup < topK) {
    report('top_groups', `the ${topGroups} kept groups hold ${topGroups * perGroup} experts, fewer than top_k (${topK})`);
    return undefined;
  }
  // A group's score is the sum of its two best scores: a group of one expert has no second.
  if (groups > 1 && groupScore === 'top2_sum' && perGroup < 2) {
    report('groups', `group_score: top2_sum adds each group's two best scores, and ${groups} groups of ${experts} experts hold one expert each (use group_score: max)`);
    return undefined;
  }
  return {
    scoring: a.choice('scoring') as MoeRouting['scoring'],
    selectionBias: a.bool('selection_bias'),
    groups,
    topGroups,
    groupScore,
    normalize: a.bool('normalize'),
    routeScale: a.optionalRatio('route_scale'),
    weightInput: a.bool('weight_input'),
  };
}
