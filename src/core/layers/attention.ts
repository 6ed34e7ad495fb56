// Multi-head attention with grouped-query (GQA) and multi-query (MQA) heads, optional q/k norms
// per head (Qwen 3, Gemma 3) or over the full width (OLMo-2, OLMoE), attention sinks (GPT-OSS), rotary position embeddings on q and k (Llama, GPT-NeoX; no
// parameters), relative-position attention (Conformer's rel_selfattn), sliding windows and cross-attention. Projections follow
// Transformers' LlamaAttention: q [heads·head_dim, d], k and v [kv_heads·head_dim, kv_dim],
// o [d, heads·head_dim]. The score and value terms are left to the engine, from AttentionInfo.

import { BOOL, DIM, RATIO, oneOf, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind, WeightSpec } from './layer-kind.js';
import { biasWeight, checkShapesExact, matmulFlops, normWeight, projection } from './weight-specs.js';

const ARGS = [
  positional('d', DIM, 'Model width: the input of q and the output of o.'),
  positional('heads', DIM, 'Query heads.'),
  optional('kv_heads', DIM, 'Key/value heads (GQA; 1 is MQA); must divide heads. Default: heads.', {
    positional: true,
  }),
  optional('head_dim', DIM, 'Per-head width. Default: d/heads, which then must be exact.', { positional: true }),
  optional('bias', BOOL, 'Default for the four projection biases.', { default: false }),
  optional('q_bias', BOOL, 'Bias on q. Default: bias.'),
  optional('k_bias', BOOL, 'Bias on k. Default: bias.'),
  optional('v_bias', BOOL, 'Bias on v. Default: bias.'),
  optional('o_bias', BOOL, 'Bias on o. Default: bias.'),
  optional('qk_norm', oneOf(['none', 'rms', 'layer']), 'Per-head norm of width head_dim on queries and keys.', {
    default: 'none',
  }),
  optional(
    'qk_norm_width',
    oneOf(['head', 'full']),
    'head: one norm of head_dim shared by every head (Qwen 3, Gemma 3); full: one norm over all query heads (heads·head_dim) and one over all key heads (kv_heads·head_dim) before the split into heads (OLMo-2, OLMoE).',
    { default: 'head' },
  ),
  optional('sinks', BOOL, 'Attention sinks: one learned logit per query head that joins every softmax and takes probability mass without a value (GPT-OSS).', {
    default: false,
  }),
  optional('gate', BOOL, 'Output gate (Qwen3-Next): q also projects a second heads·head_dim, whose sigmoid scales the attention output before o.', {
    default: false,
  }),
  optional('window', DIM, 'Sliding window in tokens; none attends the whole context.'),
  optional('chunk', DIM, 'Chunked attention (Llama 4): each token attends only to the earlier tokens of its own chunk of this many positions; none attends the whole context.'),
  optional('causal', BOOL, 'Causal (decoder) or bidirectional (encoder) self-attention.', { default: true }),
  optional('cross', BOOL, 'Cross-attention: keys and values come from the encoder output.', { default: false }),
  optional('kv_dim', DIM, 'Input width of k and v (cross-attention from an encoder of another width). Default: d.'),
  optional('rope', BOOL, 'Rotary position embedding of q and k (rotate-half, as Llama and GPT-NeoX); no parameters.', {
    default: false,
  }),
  optional('rope_dim', DIM, 'Rotated dims per head, the first ones (partial rotary: Phi, GPT-NeoX rotary_pct); even. Default: head_dim.'),
  optional('rope_theta', RATIO, 'Rotary base: inverse frequencies theta^(-2i/rope_dim). Default: 10000.'),
  optional(
    'rel_pos',
    BOOL,
    'Relative-position self-attention (Conformer; WeNet/ESPnet rel_selfattn): linear_pos `pos` [heads·head_dim, d] on the sinusoidal position encoding and learned query biases pos_bias_u, pos_bias_v of heads·head_dim; scores ((q+u)·k + (q+v)·p_j)/√head_dim.',
    { default: false },
  ),
];

/** HF's default rope_theta (LlamaConfig, GPTNeoXConfig rotary_emb_base). */
export const DEFAULT_ROPE_THETA = 10_000;

export const ATTENTION: LayerKind = {
  name: 'Attention',
  doc:
    'Multi-head attention (MHA, GQA, MQA) with optional biases, per-head q/k norms, a sliding window and cross-attention. ' +
    'Caches 2·kv_heads·head_dim elements per token.',
  args: ARGS,
  build(values, report) {
    const a = readArgs(ARGS, values);
    const d = a.number('d');
    const heads = a.number('heads');
    const kvHeads = a.optionalNumber('kv_heads') ?? heads;
    const cross = a.bool('cross');
    const window = a.optionalNumber('window');
    const kvDim = a.optionalNumber('kv_dim');
    if (heads % kvHeads !== 0) {
      report('kv_heads', `kv_heads (${kvHeads}) must divide heads (${heads})`);
      return undefined;
    }
    let headDim = a.optionalNumber('head_dim');
    if (headDim === undefined) {
      if (d % heads !== 0) {
        report('heads', `heads (${heads}) must divide d (${d}) when head_dim is not given`);
        return undefined;
      }
      headDim = d / heads;
    }
    if (kvDim !== undefined && !cross && kvDim !== d) {
      report('kv_dim', `kv_dim (${kvDim}) differs from d (${d}), but self-attention reads keys and values from its own input; set cross: true`);
      return undefined;
    }
    const chunk = a.optionalNumber('chunk');
    if (chunk !== undefined && (cross || window !== undefined || !a.bool('causal'))) {
      report('chunk', cross ? 'chunk applies to self-attention only' : window !== undefined ? 'chunk and window cannot both restrict one attention; give one' : 'chunk needs causal attention');
      return undefined;
    }
    if (window !== undefined && cross) {
      report('window', `window (${window}) applies to self-attention only; cross-attention attends the whole source`);
      return undefined;
    }
    const rope = a.bool('rope');
    const ropeDimArg = a.optionalNumber('rope_dim');
    const thetaArg = a.optionalRatio('rope_theta');
    if (!rope && (ropeDimArg !== undefined || thetaArg !== undefined)) {
      const arg = ropeDimArg !== undefined ? 'rope_dim' : 'rope_theta';
      report(arg, `${arg} is given but rope is false; add rope: true`);
      return undefined;
    }
    if (rope && cross) {
      report('rope', 'rope applies to self-attention only; cross-attention keys come from the source, which has no positions shared with the target');
      return undefined;
    }
    const ropeDim = ropeDimArg ?? headDim;
    if (rope && ropeDim % 2 !== 0) {
      report(ropeDimArg !== undefined ? 'rope_dim' : 'head_dim', `rope_dim (${ropeDim}) must be even: rotate-half pairs dim i with dim i + rope_dim/2`);
      return undefined;
    }
    if (rope && ropeDim > headDim) {
      report('rope_dim', `rope_dim (${ropeDim}) must not exceed head_dim (${headDim})`);
      return undefined;
    }
    const bias = a.bool('bias');
    const kvIn = kvDim ?? d;
    const qWidth = heads * headDim;
    const kvWidth = kvHeads * headDim;
    // Qwen3NextAttention's q_proj has 2·heads·head_dim outputs: per head the query, then the
    // gate of the same width (chunked from a view of head_dim·2 per head).
    const gate = a.bool('gate');
    if (gate && cross) {
      report('gate', 'gate applies to self-attention only');
      return undefined;
    }
    const qOut = gate ? 2 * qWidth : qWidth;
    const q = projection('q', d, qOut, a.optionalBool('q_bias') ?? bias);
    const k = projection('k', kvIn, kvWidth, a.optionalBool('k_bias') ?? bias);
    const v = projection('v', kvIn, kvWidth, a.optionalBool('v_bias') ?? bias);
    const o = projection('o', qWidth, d, a.optionalBool('o_bias') ?? bias);
    // Per head, q/k norms are shared across heads, one vector of head_dim each, as
    // Qwen3RMSNorm(head_dim) on q_norm and k_norm in Transformers; full width, one vector over
    // all query heads and one over all key heads, as Olmo2's RMSNorm(heads·head_dim) and
    // RMSNorm(kv_heads·head_dim). A LayerNorm adds its shift.
    const qkNorm = a.choice('qk_norm');
    const full = a.choice('qk_norm_width') === 'full';
    const qNormWidth = full ? qWidth : headDim;
    const kNormWidth = full ? kvWidth : headDim;
    const qNorm: WeightSpec[] = [];
    const kNorm: WeightSpec[] = [];
    if (qkNorm !== 'none') {
      qNorm.push(normWeight('q_norm', qNormWidth));
      kNorm.push(normWeight('k_norm', kNormWidth));
      if (qkNorm === 'layer') {
        qNorm.push(biasWeight('q_norm_bias', qNormWidth));
        kNorm.push(biasWeight('k_norm_bias', kNormWidth));
      }
    }
    // GPT-OSS's sinks: nn.Parameter(num_attention_heads), a logit per head appended to each
    // row of scores before the softmax and dropped after it.
    const sinks = a.bool('sinks') ? [biasWeight('sinks', heads)] : [];
    if (sinks.length > 0 && cross) {
      report('sinks', 'sinks apply to self-attention; cross-attention attends the whole source');
      return undefined;
    }
    // WeNet's RelPositionMultiHeadedAttention (Transformer-XL's u and v): linear_pos
    // Linear(d, heads·head_dim, bias=False) on the sinusoidal encoding of each key's position, and
    // pos_bias_u, pos_bias_v [heads, head_dim] added to the queries of the content and position terms.
    const relPos = a.bool('rel_pos');
    if (relPos && cross) {
      report('rel_pos', 'rel_pos applies to self-attention only: cross-attention keys are source positions');
      return undefined;
    }
    const relPosWeights = relPos ? [...projection('pos', d, qWidth, false), biasWeight('pos_bias_u', qWidth), biasWeight('pos_bias_v', qWidth)] : [];
    const weights = [...q, ...k, ...v, ...o, ...qNorm, ...kNorm, ...sinks, ...relPosWeights];
    if (!checkShapesExact(weights, report)) return undefined;

    const kvFlops = 2n * matmulFlops(kvIn, kvWidth);
    const queryFlops = matmulFlops(d, qOut) + matmulFlops(qWidth, d);
    // Saved per token: the input, q, the attention output (o's input) and one softmax statistic
    // per head (flash attention keeps the log-sum-exp, not the s² matrix); k and v unless they
    // belong to the source; with q/k norms, the normalised q and k as well. Rotary adds nothing:
    // its backward needs only the cos/sin tables, and attention saves the rotated q and k in
    // place of the unrotated ones.
    const perTokenKv = cross ? 0 : 2 * kvWidth;
    const normed = qkNorm === 'none' ? 0 : qWidth + (cross ? 0 : kvWidth);
    // An output gate saves its pre-sigmoid half of q as well.
    // rel_pos saves its position projection p (one row per key position, as many as tokens).
    const activations = BigInt(d) + 2n * BigInt(qWidth) + BigInt(heads) + BigInt(perTokenKv) + BigInt(normed) + (gate ? BigInt(qWidth) : 0n) + (relPos ? BigInt(qWidth) : 0n);
    return {
      weights,
      // Cross-attention computes k and v once per source token, not per target token: the
      // engine charges kvProjectionFlopsPerToken per source token for it.
      // rel_pos projects one position encoding per token (a prefill's S positions for S tokens).
      flopsPerToken: (cross ? queryFlops : queryFlops + kvFlops) + (relPos ? matmulFlops(d, qWidth) : 0n),
      kvProjectionFlopsPerToken: kvFlops,
      attention: {
        variant: 'mha',
        queryHeads: heads,
        kvHeads,
        scoreDim: headDim,
        valueDim: headDim,
        ...(relPos ? { positionScoreDim: headDim } : {}),
        kvElementsPerToken: 2 * kvWidth,
        window,
        ...(chunk === undefined ? {} : { chunk }),
        // Cross-attention sees the whole source whatever `causal` says.
        causal: cross ? false : a.bool('causal'),
        cross,
        kvProducerWeights: [...k, ...v, ...kNorm].map((w) => w.name),
        headProjections: { query: q[0]!.name, key: k[0]!.name, value: v[0]!.name, output: o[0]!.name },
        ...(rope ? { rope: { dim: ropeDim, theta: thetaArg === undefined ? DEFAULT_ROPE_THETA : thetaArg.num / thetaArg.den } } : {}),
      },
      activationElementsPerToken: activations,
      perSample: false,
    };
  },
};
