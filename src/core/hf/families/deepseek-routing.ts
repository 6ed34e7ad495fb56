// The routers of DeepSeek's MoE layers as config keys give them, read into MoE's routing
// arguments (src/core/layers/moe-routing.ts). V2 (Transformers' DeepseekV2MoEGate): softmax
// scores, topk_method greedy or group_limited_greedy (n_group groups scored by their best expert,
// the topk_group best kept), the chosen scores times routed_scaling_factor and never renormalised
// (the class reads norm_topk_prob and ignores it; DeepSeek's own V2 code renormalises instead of
// scaling when it is true, and the released V2 configs set it false, where both agree). V3
// (DeepseekV3TopkRouter, always noaux_tc; NemotronHMoE's router is the same): sigmoid scores, a
// stored e_score_correction_bias of n_routed_experts added to choose the experts only (MoE's
// selection_bias), n_group groups scored by the sum of their two best biased scores, the
// topk_group best kept, the chosen scores divided by their sum when norm_topk_prob, times
// routed_scaling_factor. A scoring_func or topk_method the class does not implement is refused.

import { ConfigError, type ConfigReader } from '../config-reader.js';
import { binding, type Arg, type Binding } from '../spec-writer.js';

/** The routing arguments of the MoE call (moe-routing.ts), as the config gives them. */
export interface RoutingPlan {
  readonly v3: boolean;
  readonly groups: number;
  readonly topGroups: number;
  readonly normalize: boolean;
  readonly scale: number;
}

/** A V3-style router's class defaults for the keys a config may leave out. */
export interface V3RoutingDefaults {
  readonly configClass: string;
  readonly groups: number;
  readonly topGroups: number;
  readonly normalize: boolean;
  readonly scale: number;
}

/** DeepseekV3Config's defaults. */
export const V3_ROUTING_DEFAULTS: V3RoutingDefaults = { configClass: 'DeepseekV3', groups: 8, topGroups: 4, normalize: true, scale: 2.5 };

/** The constant `route_scale` (routed_scaling_factor) the call names, where it is not 1. */
export function routingConstants(r: RoutingPlan): Binding[] {
  return r.scale === 1 ? [] : [binding('route_scale', r.scale, 'routed_scaling_factor')];
}

/**
 * The MoE call's routing arguments; the defaults (softmax, normalised, one group, scale 1) are
 * left off. The group counts are small class counts written as numbers (`groups: 8`), as
 * `shared: 1` is; the scale is the constant of routingConstants.
 */
export function routingArgs(r: RoutingPlan): Record<string, Arg | undefined> {
  return {
    scoring: r.v3 ? 'sigmoid' : undefined,
    selection_bias: r.v3 ? true : undefined,
    groups: r.groups > 1 ? r.groups : undefined,
    top_groups: r.groups > 1 ? r.topGroups : undefined,
    group_score: r.groups > 1 && !r.v3 ? 'max' : undefined,
    normalize: r.normalize ? undefined : false,
    route_scale: r.scale !== 1 ? 'route_scale' : undefined,
  };
}

/** The keys naming a routing function the class does not have are refused, not dropped. */
function requireMethod(cfg: ConfigReader, key: string, allowed: readonly string[], configClass: string): string | undefined {
  const value = cfg.optionalString(key);
  cfg.require(value === undefined || allowed.includes(value), key, `${key} '${value}' is not a routing ${configClass}'s model implements (${allowed.join(', ')})`);
  return value;
}

/** n_group groups of which topk_group are kept must divide the experts and hold top_k of them. */
function checkGroups(cfg: ConfigReader, experts: number, topK: number, groups: number, topGroups: number, minGroupSize: number): void {
  cfg.require(experts % groups === 0, 'n_group', `n_group (${groups}) must divide n_routed_experts (${experts})`);
  cfg.require(topGroups <= groups, 'topk_group', `topk_group (${topGroups}) must not exceed n_group (${groups})`);
  cfg.require(topGroups * (experts / groups) >= topK, 'topk_group', `the topk_group (${topGroups}) kept groups hold ${topGroups * (experts / groups)} experts, fewer than num_experts_per_tok (${topK})`);
  cfg.require(groups === 1 || experts / groups >= minGroupSize, 'n_group', `a group is scored by its two best experts, and n_group (${groups}) leaves ${experts / groups} per group`);
}

/** DeepseekV3TopkRouter: sigmoid, the correction bias, groups by their top-2 sum, normalised, scaled. */
export function readV3Routing(cfg: ConfigReader, experts: number, topK: number, defaults: V3RoutingDefaults): RoutingPlan {
  requireMethod(cfg, 'scoring_func', ['sigmoid'], defaults.configClass);
  requireMethod(cfg, 'topk_method', ['noaux_tc'], defaults.configClass);
  const groups = cfg.positiveInt('n_group', defaults.groups);
  const topGroups = cfg.positiveInt('topk_group', defaults.topGroups);
  checkGroups(cfg, experts, topK, groups, topGroups, 2);
  return { v3: true, groups, topGroups, normalize: cfg.bool('norm_topk_prob', defaults.normalize), scale: cfg.positiveNumber('routed_scaling_factor', defaults.scale) };
}

/** DeepseekV2MoEGate: softmax, greedy or groups by their best expert, scaled, never renormalised. */
export function readV2Routing(cfg: ConfigReader, experts: number, topK: number): RoutingPlan {
  requireMethod(cfg, 'scoring_func', ['softmax'], 'DeepseekV2');
  const method = requireMethod(cfg, 'topk_method', ['greedy', 'group_limited_greedy'], 'DeepseekV2') ?? 'greedy';
  // Read by the class and left without effect: the weights are scaled, not renormalised.
  cfg.consume('norm_topk_prob');
  const scale = cfg.positiveNumber('routed_scaling_factor', 1);
  if (method === 'greedy') {
    cfg.consume('n_group', 'topk_group');
    return { v3: false, groups: 1, topGroups: 1, normalize: false, scale };
  }
  const groups = cfg.optionalPositiveInt('n_group', undefined);
  const topGroups = cfg.optionalPositiveInt('topk_group', undefined);
  if (groups === undefined || topGroups === undefined) {
    throw new ConfigError(groups === undefined ? 'n_group' : 'topk_group', 'topk_method group_limited_greedy needs n_group and topk_group (DeepseekV2Config has no default)');
  }
  checkGroups(cfg, experts, topK, groups, topGroups, 1);
  return { v3: false, groups, topGroups, normalize: false, scale };
}

