// Moment probing (Gao, Wang, Lin, Zhu, Hu and Zhou, "Tuning Pre-trained Model via Moment Probing",
// ICCV 2023; mingzeG/Moment-Probing models/representation/MP.py, Moment_Probing_ViT): a classifier
// over the first and second moments of a frozen backbone's output tokens. The first moment is the
// class token, classified by Linear(d, classes); the second, of the other tokens projected by
// Linear(d, hidden) and split into `heads` groups of k = hidden/heads channels, is a set of
// cross-covariances between pairs of groups (each group LayerNorm(k)-ed, one norm shared by the
// groups: the "partially shared" covariance) — `near`: (0,1), (1,2), …, heads − 1 pairs; `half`:
// (i, i + heads/2), heads/2 pairs; `all`: every pair, heads·(heads − 1)/2. The P covariances,
// [P, k, k], pass two Conv2d(P, P, 3, stride 2, no bias) with a GELU between, to [P, s, s],
// s = ⌊(⌊(k − 3)/2⌋ + 1 − 3)/2⌋ + 1, classified by Linear(P·s², classes); the output is the mean
// of the two classifiers. (The reference hard-codes P = 3 and P·s² = 2,883: near over 4 heads of 128.)

import { DIM, oneOf, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind, WeightSpec } from './layer-kind.js';
import { biasWeight, denseCost, matmulFlops, matmulWeight, normWeight } from './weight-specs.js';

export const MOMENT_PAIRS = ['near', 'half', 'all'] as const;

const ARGS = [
  positional('d', DIM, 'Width of the backbone\'s tokens (in_dim).'),
  positional('classes', DIM, 'Classes of both classifiers (num_classes).'),
  optional('hidden', DIM, 'Width of the projection before the covariance (hidden_dim, default 512).', { default: 512 }),
  optional('heads', DIM, 'Groups the projected channels are split into (num_heads, default 4).', { default: 4 }),
  optional('pairs', oneOf(MOMENT_PAIRS), 'Which groups are crossed: near (i, i+1), half (i, i + heads/2) or all pairs (cross_type near, n/2, cn2; default near).', { default: 'near' }),
];

/** The number of covariance maps P for `pairs` over `heads` groups. */
export function momentPairs(pairs: string, heads: number): number {
  return pairs === 'near' ? heads - 1 : pairs === 'half' ? heads / 2 : (heads * (heads - 1)) / 2;
}

/** The side of the downsampled covariance: two 3×3 convolutions of stride 2, no padding. */
export function momentSide(k: number): number {
  const once = (n: number) => Math.floor((n - 3) / 2) + 1;
  return once(once(k));
}

export const MOMENT_PROBE: LayerKind = {
  name: 'MomentProbe',
  doc:
    'A classifier on the first and second moments of the tokens (Moment Probing, ICCV 2023): Linear(d, classes) on the class token, and Linear(P·s², classes) on P cross-covariances of ' +
    'LayerNorm-ed channel groups of Linear(d, hidden)(tokens), downsampled by two Conv2d(P, P, 3, stride 2); the mean of the two. ' +
    'Params d·hidden + hidden + 2k + 2·9·P² + (d + 1)·classes + (P·s² + 1)·classes, k = hidden/heads.',
  args: ARGS,
  build(values, report) {
    const a = readArgs(ARGS, values);
    const d = a.number('d');
    const classes = a.number('classes');
    const hidden = a.number('hidden');
    const heads = a.number('heads');
    const pairs = a.choice('pairs');
    if (hidden % heads !== 0) return void report('heads', `heads (${heads}) must divide hidden (${hidden})`);
    if (heads < 2 || (pairs === 'half' && heads % 2 !== 0)) return void report('heads', pairs === 'half' ? `pairs: half needs an even number of heads (${heads})` : `a covariance across groups needs at least 2 heads (${heads})`);
    const k = hidden / heads;
    const side = momentSide(k);
    if (k < 7) return void report('hidden', `each group (hidden / heads = ${k}) must be at least 7 wide for the two 3×3 stride-2 convolutions`);
    const p = momentPairs(pairs, heads);
    const kernel = (name: string): WeightSpec => ({ name, shape: [p, p, 3, 3], role: 'conv', copies: 1, activeCopies: 1 });
    const features = p * side * side;
    const weights = [
      matmulWeight('proj', d, hidden),
      biasWeight('proj_bias', hidden),
      normWeight('norm', k),
      biasWeight('norm_bias', k),
      kernel('down1'),
      kernel('down2'),
      matmulWeight('classifier_mean', d, classes),
      biasWeight('classifier_mean_bias', classes),
      matmulWeight('classifier_cov', features, classes),
      biasWeight('classifier_cov_bias', classes),
    ];
    // Per token: the projection and each pair's outer product (2·k² per pair); the convolutions
    // and both classifiers run once per sequence but are counted at every position, as every
    // head the engine counts (a Linear head runs per position).
    const s1 = Math.floor((k - 3) / 2) + 1;
    const convs = 2n * BigInt(p * p * 9) * BigInt(s1 * s1 + side * side);
    const flops = matmulFlops(d, hidden) + 2n * BigInt(p) * BigInt(k) * BigInt(k) + convs + matmulFlops(d, classes) + matmulFlops(features, classes);
    // Saved per token: the input, the projection and its normed groups (the covariance's operands).
    return denseCost(weights, flops, BigInt(d) + 2n * BigInt(hidden));
  },
};
