// LBDN sandwich layers (Wang & Manchester, "Direct Parameterization of Lipschitz-Bounded Deep
// Networks", ICML 2023; reference code acfr/LBDN, `SandwichFc` and `SandwichConv`): a layer
//   h ↦ √2 Aᵀ Ψ σ(√2 Ψ⁻¹ B h + b),   [A B] = Cayley(α · W / ‖W‖),
// is 1-Lipschitz by construction for any free matrix W, diagonal Ψ = exp(ψ) and bias b; a
// network of them with an input scale γ is γ-Lipschitz. The free weight W stacks the square
// block U (d_out × d_out, giving A) over V (d_in × d_out, giving B): stored [d_out, d_in + d_out],
// plus ψ (d_out), the bias (d_out) and the scalar gain α. The Cayley transform is recomputed
// from W at every training step — weight generation, counted per step like other generated
// weights; at inference A and B are fixed. The convolutional layer does the same per spatial
// frequency of an n×n input (circular convolution in the Fourier domain).

import { BOOL, DIM, optional, positional, readArgs } from './arg-specs.js';
import type { LayerCost, LayerKind, WeightSpec } from './layer-kind.js';
import { biasWeight, checkShapesExact, denseCost, normWeight } from './weight-specs.js';

/**
 * Multiply-adds of one Cayley transform of a stacked [U; V] with U n×n and V m×n: VᵀV (m·n²),
 * (I + A)⁻¹ counted as n³ (Gauss–Jordan), (I + A)⁻¹(I − A) (n³) and V(I + A)⁻¹ (m·n²).
 */
export function cayleyMacs(n: bigint, m: bigint): bigint {
  return 2n * n * n * (m + n);
}

/** Spatial frequencies of a real n×n map's one-sided 2-D Fourier transform (rfft2): n·(⌊n/2⌋ + 1). */
function sandwichConvFrequencies(size: number): bigint {
  return BigInt(size) * BigInt(Math.floor(size / 2) + 1);
}

/**
 * Real multiply-adds of a SandwichConv2d's generation per step: one complex Cayley transform per
 * spatial frequency, a complex multiply-add being 4 real ones (the kernel's FFT is not counted).
 */
export function sandwichConvGenerationMacs(cOut: number, cIn: number, size: number): bigint {
  return 4n * sandwichConvFrequencies(size) * cayleyMacs(BigInt(cOut), BigInt(cIn));
}

/** ψ (Ψ = exp ψ, one per output) and the weight-normalisation gain α (a scalar). */
function scaleWeights(dOut: number): WeightSpec[] {
  return [normWeight('psi', dOut), normWeight('alpha', 1)];
}

const LINEAR_ARGS = [
  positional('d_in', DIM, 'Input width.'),
  positional('d_out', DIM, 'Output width (the layer\'s hidden width n_k).'),
  optional('bias', BOOL, 'The bias b inside the activation (acfr/LBDN default: true).', { default: true }),
  optional('last', BOOL, 'The network\'s final layer (acfr/LBDN `SandwichLin`): h ↦ B h + b, without Ψ, activation or Aᵀ.', { default: false }),
];

export const SANDWICH_LINEAR: LayerKind = {
  name: 'SandwichLinear',
  doc:
    'An LBDN sandwich layer (Wang & Manchester 2023), 1-Lipschitz: h ↦ √2 Aᵀ Ψ σ(√2 Ψ⁻¹ B h + b) with [A B] the Cayley transform ' +
    'of a free weight [d_out, d_in + d_out]; stores d_out·(d_in + d_out) + d_out (ψ) + d_out (bias) + 1 (gain α); ' +
    '2·d_out·(d_in + d_out) FLOPs per token; 2·d_out²·(d_in + d_out) generation MACs per training step (the Cayley transform). ' +
    '`last: true` is the final layer B h + b (no ψ, 2·d_in·d_out FLOPs).',
  args: LINEAR_ARGS,
  build(values, report) {
    const a = readArgs(LINEAR_ARGS, values);
    const dIn = a.number('d_in');
    const dOut = a.number('d_out');
    const weight: WeightSpec = { name: 'weight', shape: [dOut, dIn + dOut], role: 'matmul', copies: 1, activeCopies: 1, matmul: { dIn: dIn + dOut, dOut } };
    const last = a.bool('last');
    // The last layer has no Ψ (it applies B alone), only the gain α.
    const scales = last ? [normWeight('alpha', 1)] : scaleWeights(dOut);
    const weights = [weight, ...scales, ...(a.bool('bias') ? [biasWeight('bias', dOut)] : [])];
    if (!checkShapesExact(weights, report)) return undefined;
    const n = BigInt(dOut);
    const m = BigInt(dIn);
    // B·h (d_out × d_in), then — except in the last layer — Aᵀ·Ψz (d_out × d_out); the diagonal
    // scalings are elementwise.
    const flops = 2n * n * m + (last ? 0n : 2n * n * n);
    // Backward keeps the input (for B's gradient), and the pre-activation and Ψz (for Aᵀ's).
    const saved = last ? m : m + 2n * n;
    const cost: LayerCost = { ...denseCost(weights, flops, saved), generationMacsPerStep: cayleyMacs(n, m), neighbourSharing: last ? SANDWICH_LAST_SHARING : SANDWICH_SHARING };
    return cost;
  },
};

/** Neighbour sharing of a sandwich layer (paper, eq. 9): its A and Ψ enter the next layer's weight 2·B_{k+1}·A_kᵀ. */
const SANDWICH_SHARING = 'sandwich: A, Ψ shared with the next layer (2·B_{k+1}·A_kᵀ)';
/** The last layer (B h + b) has no A or Ψ of its own: its B meets the previous layer's A. */
const SANDWICH_LAST_SHARING = 'sandwich: B meets the previous layer’s A';

const CONV_ARGS = [
  positional('c_in', DIM, 'Input channels.'),
  positional('c_out', DIM, 'Output channels.'),
  positional('kernel', DIM, 'Kernel side k (square).'),
  optional('size', DIM, 'Side n of the square input feature map (the Fourier transforms are n×n).', { default: 32 }),
  optional('bias', BOOL, 'The bias inside the activation.', { default: true }),
];

export const SANDWICH_CONV2D: LayerKind = {
  name: 'SandwichConv2d',
  doc:
    'An LBDN convolutional sandwich layer (stride 1, circular padding), 1-Lipschitz: per spatial frequency of the n×n input, ' +
    'the dense sandwich with [A B] the Cayley transform of the free kernel\'s Fourier transform; kernel [c_out, c_in + c_out, k, k] ' +
    '+ ψ + bias (c_out each) + gain α; per sample 8·F·c_out·(c_in + c_out) FLOPs over F = n·(⌊n/2⌋ + 1) frequencies ' +
    '(a complex multiply-add = 4 real ones; the FFTs are not counted); 8·F·c_out²·(c_in + c_out) generation MACs per step.',
  args: CONV_ARGS,
  build(values, report) {
    const a = readArgs(CONV_ARGS, values);
    const cIn = a.number('c_in');
    const cOut = a.number('c_out');
    const kernel = a.number('kernel');
    const size = a.number('size');
    if (kernel > size) {
      report('kernel', `the kernel (${kernel}) is larger than the ${size}×${size} input it is transformed over`);
      return undefined;
    }
    const weights: WeightSpec[] = [
      { name: 'weight', shape: [cOut, cIn + cOut, kernel, kernel], role: 'conv', copies: 1, activeCopies: 1 },
      ...scaleWeights(cOut),
      ...(a.bool('bias') ? [biasWeight('bias', cOut)] : []),
    ];
    if (!checkShapesExact(weights, report)) return undefined;
    const frequencies = sandwichConvFrequencies(size);
    const n = BigInt(cOut);
    const m = BigInt(cIn);
    const positions = BigInt(size) * BigInt(size);
    return {
      weights,
      // Per frequency: B (c_out × c_in) then Aᵀ (c_out × c_out), complex: 4 real multiply-adds each.
      flopsPerToken: 8n * frequencies * n * (m + n),
      kvProjectionFlopsPerToken: 0n,
      attention: undefined,
      activationElementsPerToken: (m + 2n * n) * positions,
      perSample: true,
      generationMacsPerStep: sandwichConvGenerationMacs(cOut, cIn, size),
      neighbourSharing: SANDWICH_SHARING,
    };
  },
};
