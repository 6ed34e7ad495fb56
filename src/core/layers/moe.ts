// Mixture-of-experts feed-forward block: a router scores `experts` feed-forward experts and each
// token uses `top_k` of them (Mixtral, DeepSeekMoE), plus optional always-on shared experts
// (DeepSeek-V2, Qwen2-MoE). Experts are banks of identical tensors: all copies are stored,
// `top_k` are active per token. With `iterations: C` (Chain-of-Experts, Wang et al. 2025) the layer
// runs C times in a chain over the same experts, x⁽ᵗ⁾ = MoE_t(x⁽ᵗ⁻¹⁾) + x⁽ᵗ⁻¹⁾, each iteration with
// its own router: C routers stored, C·top_k experts applied per token. With `router_rnn: p` the
// router is RMoE's layer-wise recurrent router: router_in [p, d] projects the input, a
// `RecurrentRouter(p)` cell (its own member, shared across the stack) mixes it with the previous
// MoE layer's router state, and router [experts, p] scores the experts from the new state.
// With `expert_adapter: r` every routed expert carries a bottleneck adapter beside it (PERFT-E,
// Liu et al. 2024, arXiv:2411.08212: the reference's embedded_routing_adapter, a LoRA-type
// unit lora_B·lora_A inside OlmoeMLP / MixtralBlockSparseTop2MLP): down [r, d_e] and up [d_e, r]
// per expert, no bias, run on the expert's input and added to its output before the router's
// weight scales it — so the frozen MoE's own router routes the adapters, and a token runs the
// adapters of its top_k experts only.
// How the router's scores choose and weight the experts (Mixtral's softmax by default; DeepSeek-V3's
// sigmoid, correction bias, groups and scale) is moe-routing.ts.

import { ACTIVATIONS, BOOL, COUNT, DIM, RATIO, oneOf, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind, WeightSpec } from './layer-kind.js';
import { ROUTING_ARGS, readRouting } from './moe-routing.js';
import type { Bank } from './weight-specs.js';
import { biasWeight, checkShapesExact, denseCost, matmulFlops, matmulWeight, projection } from './weight-specs.js';

const ARGS = [
  positional('d', DIM, 'Input and output width.'),
  positional('hidden', DIM, 'Hidden width of each routed expert (moe_intermediate_size).'),
  positional('experts', DIM, 'Routed experts stored.'),
  positional('top_k', DIM, 'Routed experts used per token; at most experts.'),
  optional('shared', COUNT, 'Always-active shared experts.', { default: 0 }),
  optional('shared_hidden', DIM, 'Hidden width of each shared expert. Default: hidden.'),
  optional('shared_expert_gate', BOOL, "A sigmoid gate per shared expert on its output, from a [shared, d] projection (Qwen2-MoE's and Qwen3-Next's shared_expert_gate).", {
    default: false,
  }),
  optional('gated', BOOL, 'Experts are GatedMLPs (gate, up, down); false makes them MLPs (up, down).', {
    default: true,
  }),
  optional('latent', DIM, "Routed experts work in a latent width: a projection d → latent before them and latent → d after (Nemotron-3 Super's moe_latent_size); router and shared experts stay at d."),
  optional('bias', BOOL, 'Biases on every expert projection.', { default: false }),
  optional('router_bias', BOOL, "A bias of experts elements on the router's logits (GPT-OSS).", { default: false }),
  ...ROUTING_ARGS,
  optional('act', oneOf(ACTIVATIONS), 'Expert activation.', { default: 'silu' }),
  optional('glu_limit', RATIO, "GPT-OSS's clamped expert GLU: the gate clamped to at most glu_limit, up to ±glu_limit, and (up + 1)·act(gate) (with act: quick_gelu, gate·σ(1.702·gate)); no parameters, no counted FLOPs."),
  optional('router_rnn', DIM, "A layer-wise recurrent router (RMoE) of this width: router_in [router_rnn, d], then a RecurrentRouter(router_rnn) cell declared beside the layer, then router [experts, router_rnn]."),
  optional('iterations', DIM, 'Chain-of-Experts iterations: the layer runs this many times over the same experts, each with its own router (and shared experts).', { default: 1 }),
  optional('expert_adapter', DIM, "PERFT-E: a bottleneck adapter of this width beside every routed expert (down [r, d], up [d, r], no bias, no activation), on the expert's input, added to its output and weighted with it by the MoE's own router; stored per expert, run for the top_k chosen."),
  optional('hot_experts', DIM, 'A skewed router load: this many experts take hot_share of all selections, the rest share the remainder evenly (default: uniform routing). Changes which experts a batch reads, not what a token computes.'),
  optional('hot_share', RATIO, 'The fraction (below 1) of the selections the hot_experts take, e.g. 0.5 from a measured histogram.'),
];

/** The projections of one expert bank, named `<prefix>_gate`, `<prefix>_up`, `<prefix>_down`. */
function expertBank(prefix: string, d: number, hidden: number, gated: boolean, bias: boolean, bank: Bank): WeightSpec[] {
  return [
    ...(gated ? projection(`${prefix}_gate`, d, hidden, bias, bank) : []),
    ...projection(`${prefix}_up`, d, hidden, bias, bank),
    ...projection(`${prefix}_down`, hidden, d, bias, bank),
  ];
}

export const MOE: LayerKind = {
  name: 'MoE',
  doc:
    'A mixture of experts: router [experts, d], experts feed-forward experts of which top_k run per token, ' +
    'and optional shared experts that always run; with iterations: C the layer runs C times over the same experts, ' +
    'each iteration with its own router (Chain-of-Experts).',
  args: ARGS,
  build(values, report) {
    const a = readArgs(ARGS, values);
    const d = a.number('d');
    const hidden = a.number('hidden');
    const experts = a.number('experts');
    const topK = a.number('top_k');
    const shared = a.number('shared');
    const sharedHiddenArg = a.optionalNumber('shared_hidden');
    const gated = a.bool('gated');
    if (a.optionalRatio('glu_limit') !== undefined && !gated) {
      report('glu_limit', 'glu_limit clamps the gate and up projections of gated experts; with gated: false there is no gate');
      return undefined;
    }
    const bias = a.bool('bias');
    const iterations = a.number('iterations');
    if (topK > experts) {
      report('top_k', `top_k (${topK}) must not exceed experts (${experts})`);
      return undefined;
    }
    if (sharedHiddenArg !== undefined && shared === 0) {
      report('shared_hidden', `shared_hidden (${sharedHiddenArg}) is given but shared is 0, so there is no shared expert`);
      return undefined;
    }
    const sharedGate = a.bool('shared_expert_gate');
    if (sharedGate && shared === 0) {
      report('shared_expert_gate', 'shared_expert_gate is true but shared is 0, so there is no shared expert to gate');
      return undefined;
    }
    const routing = readRouting(a, experts, topK, report);
    if (routing === undefined) return undefined;
    const routerRnn = a.optionalNumber('router_rnn');
    if (routerRnn !== undefined && iterations > 1) {
      report('router_rnn', `a recurrent router (router_rnn) carries one state per layer, and Chain-of-Experts iterations (${iterations}) would need one per iteration: not modelled`);
      return undefined;
    }
    const sharedHidden = sharedHiddenArg ?? hidden;
    // One router per iteration, stored stacked as one [iterations·experts, d] matrix (rows
    // t·experts … (t+1)·experts − 1 score iteration t), so that the only banks are experts.
    const routerRows = experts * iterations;
    // RMoE's weight1 [p, d] before the cell and weight2 [experts, p] after it.
    const routerIn = routerRnn ?? d;
    const weights: WeightSpec[] = [
      ...(routerRnn === undefined ? [] : [matmulWeight('router_in', d, routerRnn, undefined, 'router')]),
      matmulWeight('router', routerIn, routerRows, undefined, 'router'),
    ];
    if (a.bool('router_bias')) weights.push(biasWeight('router_bias', routerRows));
    // DeepSeek-V3's e_score_correction_bias: one per router, read to choose experts (moe-routing.ts).
    if (routing.selectionBias) weights.push(biasWeight('selection_bias', routerRows));
    // NemotronHMoE: fc1_latent_proj = Linear(d, latent), the experts over latent, fc2_latent_proj = Linear(latent, d).
    const latent = a.optionalNumber('latent');
    const expertIn = latent ?? d;
    const perIteration = { copies: 1, active: iterations };
    if (latent !== undefined) weights.push(matmulWeight('latent_in', d, latent, perIteration), matmulWeight('latent_out', latent, d, perIteration));
    const hot = a.optionalNumber('hot_experts');
    const hotShare = a.optionalRatio('hot_share');
    if ((hot === undefined) !== (hotShare === undefined)) {
      report(hot === undefined ? 'hot_share' : 'hot_experts', 'a skewed load needs both hot_experts (how many experts are hot) and hot_share (the fraction of selections they take)');
      return undefined;
    }
    if (hot !== undefined && hot >= experts) {
      report('hot_experts', `hot_experts (${hot}) must be fewer than experts (${experts}): the others take the rest of the load`);
      return undefined;
    }
    if (hotShare !== undefined && hotShare.num >= hotShare.den) {
      report('hot_share', `hot_share (${hotShare.num}/${hotShare.den}) is a fraction of the selections and must be below 1`);
      return undefined;
    }
    const load = { topK, draws: iterations, ...(hot !== undefined && hotShare !== undefined ? { load: { hot, share: hotShare } } : {}) };
    const routedBank = { copies: experts, active: topK * iterations, routing: load };
    weights.push(...expertBank('expert', expertIn, hidden, gated, bias, routedBank));
    // PERFT-E: the adapters are banks of the routed experts' shape, chosen with them.
    const adapterWidth = a.optionalNumber('expert_adapter');
    if (adapterWidth !== undefined) weights.push(matmulWeight('expert_adapter_down', expertIn, adapterWidth, routedBank), matmulWeight('expert_adapter_up', adapterWidth, expertIn, routedBank));
    if (shared > 0) weights.push(...expertBank('shared', d, sharedHidden, gated, bias, { copies: shared, active: shared * iterations }));
    // Qwen2MoeSparseMoeBlock: shared_expert_gate = Linear(hidden_size, 1, bias=False), one row per shared expert.
    if (sharedGate) weights.push(matmulWeight('shared_expert_gate', d, shared, perIteration));
    if (!checkShapesExact(weights, report)) return undefined;

    // Each expert runs 2 (MLP) or 3 (GatedMLP) projections between d and its hidden width; every
    // iteration runs its router, its top_k experts and the shared experts once.
    const matrices = gated ? 3n : 2n;
    const C = BigInt(iterations);
    const latentFlops = latent === undefined ? 0n : 2n * matmulFlops(d, latent);
    // A chosen expert's adapter runs with it: down and up, 2·(2·d·r) FLOPs.
    const adapterFlops = adapterWidth === undefined ? 0n : 2n * matmulFlops(expertIn, adapterWidth);
    const routed = BigInt(topK) * (matrices * matmulFlops(expertIn, hidden) + adapterFlops) + latentFlops;
    const alwaysOn = BigInt(shared) * matrices * matmulFlops(d, sharedHidden);
    // Saved per iteration: its input, its router logits, and per running expert its hidden
    // tensors (as in MLP and GatedMLP, without a second copy of the input).
    const activations =
      C *
      (BigInt(d) +
        BigInt(experts) +
        // With a recurrent router: its projected input, which the cell reads.
        BigInt(routerRnn ?? 0) +
        BigInt(topK) * (matrices * BigInt(hidden) + BigInt(adapterWidth ?? 0)) +
        // With a latent: the projected input and the experts' latent output (fc2's input).
        (latent === undefined ? 0n : 2n * BigInt(latent)) +
        BigInt(shared) * (matrices * BigInt(sharedHidden)) +
        (sharedGate ? BigInt(shared) : 0n));
    const gateFlops = sharedGate ? matmulFlops(d, shared) : 0n;
    const routerFlops = routerRnn === undefined ? matmulFlops(d, experts) : matmulFlops(d, routerRnn) + matmulFlops(routerRnn, experts);
    const cost = denseCost(weights, C * (routerFlops + routed + alwaysOn + gateFlops), activations);
    return routerRnn === undefined ? cost : { ...cost, routerState: { role: 'reader', width: routerRnn } };
  },
};
