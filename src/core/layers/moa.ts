// Mixture of attention heads (MoA; Zhang et al., EMNLP 2022), the attention of the Sparse
// Universal Transformer (Tan et al., EMNLP 2023): `experts` attention experts, each its own query
// projection W_q^i [expert_dim, d] and output projection W_o^i [d, expert_dim]; a router picks
// `top_k` of them per token, while one key and one value projection [expert_dim, d] are shared by
// all experts — so the KV cache is one expert's width whatever the expert count. An expert holds
// expert_dim / head_dim heads (MoA: one, expert_dim = head_dim; SUT's WMT'14 models: 256 / 64 = 4).
// Layout as shawntan/SUT `moa_attention.py`: q_proj = MoE(d, expert_dim, experts, k) (its
// `experts` and `output_experts` banks), k_proj and v_proj = Linear(d, expert_dim), the router
// w_gate either Linear(d, experts, bias=False) or, with `router_hidden`, Linear(d, h) · tanh ·
// Linear(h, experts, bias=False) (`mlp_router`), and optionally SUT's learned relative-position
// logits rel_pos_emb [heads per expert, head_dim, 2·P + 1].

import { BOOL, DIM, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind, WeightSpec } from './layer-kind.js';
import { biasWeight, checkShapesExact, matmulFlops, matmulWeight, projection } from './weight-specs.js';

const ARGS = [
  positional('d', DIM, 'Model width: the input of the router, the queries, keys and values, and the output width.'),
  positional('experts', DIM, 'Attention experts stored (each its own W_q and W_o).'),
  positional('top_k', DIM, 'Experts each token uses; at most experts.'),
  optional('head_dim', DIM, 'Per-head width.', { default: 64, positional: true }),
  optional('expert_dim', DIM, 'Width of one expert\'s queries and of the shared keys and values: expert_dim / head_dim heads per expert. Default: head_dim (MoA: one head per expert).'),
  optional('bias', BOOL, 'Biases on every projection (per expert on W_q and W_o).', { default: false }),
  optional('router_hidden', DIM, 'An MLP router: Linear(d, router_hidden) with bias, tanh, then the [experts, router_hidden] scores (SUT\'s mlp_router, router_hidden = d). Default: a linear router [experts, d].'),
  optional('rel_positions', DIM, 'SUT\'s learned relative-position logits: [heads per expert, head_dim, 2·P + 1] for offsets clamped to ±P (SUT: 64).'),
  optional('causal', BOOL, 'Causal (decoder) or bidirectional (encoder) self-attention.', { default: true }),
  optional('cross', BOOL, 'Cross-attention: keys and values come from the encoder output.', { default: false }),
  optional('kv_dim', DIM, 'Input width of k and v for cross-attention. Default: d.'),
  optional('window', DIM, 'Sliding window in tokens; none attends the whole context.'),
];

export const MOA: LayerKind = {
  name: 'MoA',
  doc:
    'Mixture of attention heads (MoA, the Sparse Universal Transformer\'s attention): experts attention experts with their own W_q and W_o, ' +
    'top_k per token, sharing one key and one value projection; caches 2·expert_dim elements per token.',
  args: ARGS,
  build(values, report) {
    const a = readArgs(ARGS, values);
    const d = a.number('d');
    const experts = a.number('experts');
    const topK = a.number('top_k');
    const headDim = a.number('head_dim');
    const expertDim = a.optionalNumber('expert_dim') ?? headDim;
    const bias = a.bool('bias');
    const cross = a.bool('cross');
    const window = a.optionalNumber('window');
    const kvDim = a.optionalNumber('kv_dim');
    const routerHidden = a.optionalNumber('router_hidden');
    const relPositions = a.optionalNumber('rel_positions');
    if (topK > experts) {
      report('top_k', `top_k (${topK}) must not exceed experts (${experts})`);
      return undefined;
    }
    if (expertDim % headDim !== 0) {
      report('expert_dim', `expert_dim (${expertDim}) must be a multiple of head_dim (${headDim})`);
      return undefined;
    }
    if (kvDim !== undefined && !cross && kvDim !== d) {
      report('kv_dim', `kv_dim (${kvDim}) differs from d (${d}), but self-attention reads keys and values from its own input; set cross: true`);
      return undefined;
    }
    if (window !== undefined && cross) {
      report('window', `window (${window}) applies to self-attention only; cross-attention attends the whole source`);
      return undefined;
    }
    if (relPositions !== undefined && cross) {
      report('rel_positions', 'relative positions apply to self-attention only (SUT adds rel_pos_emb when self_attention)');
      return undefined;
    }
    const heads = expertDim / headDim;
    const kvIn = kvDim ?? d;
    const bank = { copies: experts, active: topK };
    const router: WeightSpec[] = routerHidden === undefined
      ? [matmulWeight('router', d, experts, undefined, 'router')]
      : [matmulWeight('router_hidden', d, routerHidden, undefined, 'router'), biasWeight('router_hidden_bias', routerHidden), matmulWeight('router', routerHidden, experts, undefined, 'router')];
    const k = projection('k', kvIn, expertDim, bias);
    const v = projection('v', kvIn, expertDim, bias);
    const q = projection('q', d, expertDim, bias, bank);
    const o = projection('o', expertDim, d, bias, bank);
    // rel_pos_emb: one logit per clamped offset from each query head's dot product with its
    // [head_dim, 2P + 1] table (an einsum: head_dim MACs per offset and query head).
    const relative: WeightSpec[] = relPositions === undefined ? [] : [{ name: 'rel_pos', shape: [heads, headDim, 2 * relPositions + 1], role: 'position', copies: 1, activeCopies: 1 }];
    const weights = [...router, ...q, ...k, ...v, ...o, ...relative];
    if (!checkShapesExact(weights, report)) return undefined;

    const routerFlops = routerHidden === undefined ? matmulFlops(d, experts) : matmulFlops(d, routerHidden) + matmulFlops(routerHidden, experts);
    const kvFlops = 2n * matmulFlops(kvIn, expertDim);
    const queryHeads = topK * heads;
    const relativeFlops = relPositions === undefined ? 0n : 2n * BigInt(queryHeads) * BigInt(headDim) * BigInt(2 * relPositions + 1);
    const expertFlops = BigInt(topK) * (matmulFlops(d, expertDim) + matmulFlops(expertDim, d));
    // Saved per token: the input, the router logits (and hidden), the k queries, the shared k and
    // v (unless from the source), the k attention outputs, one softmax statistic per query head.
    const activations =
      BigInt(d) + BigInt(experts) + BigInt(routerHidden ?? 0) + 2n * BigInt(topK) * BigInt(expertDim) + (cross ? 0n : 2n * BigInt(expertDim)) + BigInt(queryHeads);
    return {
      weights,
      flopsPerToken: routerFlops + expertFlops + relativeFlops + (cross ? 0n : kvFlops),
      kvProjectionFlopsPerToken: kvFlops,
      attention: {
        variant: 'mha',
        queryHeads,
        kvHeads: heads,
        scoreDim: headDim,
        valueDim: headDim,
        kvElementsPerToken: 2 * expertDim,
        window,
        causal: cross ? false : a.bool('causal'),
        cross,
        kvProducerWeights: [...k, ...v].map((w) => w.name),
      },
      activationElementsPerToken: activations,
      perSample: false,
    };
  },
};
