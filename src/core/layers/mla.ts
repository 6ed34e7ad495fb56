// DeepSeek-V2 Multi-head Latent Attention, weight for weight as Transformers'
// DeepseekV2Attention: queries come from a direct projection or a low-rank q_a → RMSNorm → q_b
// path; keys and values are expanded by kv_b from a cached latent of kv_rank elements, and one
// rope_dim key part shared by all heads is cached beside it.

import { BOOL, DIM, oneOf, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind, WeightSpec } from './layer-kind.js';
import { checkShapesExact, matmulFlops, normWeight, projection } from './weight-specs.js';

const ARGS = [
  positional('d', DIM, 'Model width (hidden_size).'),
  positional('heads', DIM, 'Attention heads (num_attention_heads).'),
  positional('kv_rank', DIM, 'Width of the cached key/value latent (kv_lora_rank).'),
  positional('rope_dim', DIM, 'Per-head width of the rotary query/key part (qk_rope_head_dim).'),
  positional('nope_dim', DIM, 'Per-head width of the non-rotary query/key part (qk_nope_head_dim).'),
  positional('v_dim', DIM, 'Per-head value width (v_head_dim).'),
  optional('q_rank', DIM, 'Width of the query latent (q_lora_rank); none projects queries directly.'),
  optional('bias', BOOL, 'attention_bias: biases on q_a, kv_a and o (never on q, q_b or kv_b).', { default: false }),
  optional(
    'decode',
    oneOf(['absorbed', 'expanded']),
    'How decode steps run: absorbed (DeepSeek inference: W_UK folded into the query, W_UV into the output; the cache is the kv_rank + rope_dim latent) or expanded (keys and values expanded per head and cached as such: heads·(nope_dim + rope_dim + v_dim) per token).',
    { default: 'absorbed' },
  ),
];

export const MLA: LayerKind = {
  name: 'MLA',
  doc:
    'DeepSeek-V2 Multi-head Latent Attention: caches kv_rank + rope_dim elements per token and expands them to ' +
    'heads keys of nope_dim + rope_dim and values of v_dim.',
  args: ARGS,
  build(values, report) {
    const a = readArgs(ARGS, values);
    const d = a.number('d');
    const heads = a.number('heads');
    const kvRank = a.number('kv_rank');
    const ropeDim = a.number('rope_dim');
    const nopeDim = a.number('nope_dim');
    const vDim = a.number('v_dim');
    const qRank = a.optionalNumber('q_rank');
    const bias = a.bool('bias');
    const absorbed = a.choice('decode') === 'absorbed';
    const qHeadDim = nopeDim + ropeDim;
    const qWidth = heads * qHeadDim;

    // Transformers builds q_proj, q_b_proj and kv_b_proj with bias=False and only q_a_proj,
    // kv_a_proj_with_mqa and o_proj with bias=config.attention_bias.
    const query: WeightSpec[] =
      qRank === undefined
        ? projection('q', d, qWidth, false)
        : [...projection('q_a', d, qRank, bias), normWeight('q_a_norm', qRank), ...projection('q_b', qRank, qWidth, false)];
    const kvA = projection('kv_a', d, kvRank + ropeDim, bias);
    const kvNorm = normWeight('kv_a_norm', kvRank);
    const kvB = projection('kv_b', kvRank, heads * (nopeDim + vDim), false);
    const o = projection('o', heads * vDim, d, bias);
    const weights = [...query, ...kvA, kvNorm, ...kvB, ...o];
    if (!checkShapesExact(weights, report)) return undefined;

    const queryFlops =
      qRank === undefined ? matmulFlops(d, qWidth) : matmulFlops(d, qRank) + matmulFlops(qRank, qWidth);
    const kvFlops = matmulFlops(d, kvRank + ropeDim) + matmulFlops(kvRank, heads * (nopeDim + vDim));
    const outFlops = matmulFlops(heads * vDim, d);
    // Saved per token: the input; the query latent and its norm output (with q_rank); q; the
    // kv_a output and the normalised latent; keys (nope + rope per head) and values as attended;
    // the attention output; one softmax statistic per head.
    const activations =
      BigInt(d) +
      (qRank === undefined ? 0n : 2n * BigInt(qRank)) +
      BigInt(qWidth) +
      BigInt(kvRank + ropeDim) +
      BigInt(kvRank) +
      BigInt(heads) * BigInt(qHeadDim + vDim) +
      BigInt(heads) * BigInt(vDim) +
      BigInt(heads);
    return {
      weights,
      flopsPerToken: queryFlops + kvFlops + outFlops,
      kvProjectionFlopsPerToken: kvFlops,
      attention: {
        variant: 'mla',
        queryHeads: heads,
        kvHeads: heads,
        scoreDim: qHeadDim,
        valueDim: vDim,
        // Absorbed: a decode query (its nope part multiplied into W_UK) scores the cached latent
        // (kv_rank) and rope key (rope_dim) of every key, and the probabilities weight the latent
        // (kv_rank) before W_UV; the multiplications by W_UK and W_UV cost what kv_b costs on
        // one token, so the weight FLOPs are the same in both forms. Prefill runs expanded.
        ...(absorbed ? { decode: { scoreDim: kvRank + ropeDim, valueDim: kvRank } } : {}),
        // Absorbed: the cache holds compressed_kv (kv_rank) and k_pe (rope_dim); expanded: the
        // per-head keys and values (Transformers' DeepseekV2Attention caches these).
        kvElementsPerToken: absorbed ? kvRank + ropeDim : heads * (qHeadDim + vDim),
        // A learned prefix (parallel streams) is a latent token in either form: stored as
        // kv_rank + rope_dim, expanded once into an expanded cache.
        prefixElementsPerToken: kvRank + ropeDim,
        window: undefined,
        causal: true,
        cross: false,
        kvProducerWeights: [...kvA, kvNorm, ...kvB].map((w) => w.name),
      },
      activationElementsPerToken: activations,
      perSample: false,
    };
  },
};
