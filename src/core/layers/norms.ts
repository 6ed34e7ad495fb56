// Normalisation layers: LayerNorm, RMSNorm and BatchNorm. Their arithmetic is elementwise, which
// the FLOP count excludes everywhere, so they report 0 FLOPs. Each saves its input (d elements
// per token) for the backward pass.

import { BOOL, DIM, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind, WeightSpec } from './layer-kind.js';
import { biasWeight, denseCost, normWeight } from './weight-specs.js';

const LAYER_NORM_ARGS = [
  positional('d', DIM, 'Normalised width.'),
  optional('bias', BOOL, 'Adds a learned shift of d elements (only with affine).', { default: true }),
  optional('affine', BOOL, 'Learns a scale of d elements; false leaves no parameters at all.', { default: true }),
];

export const LAYER_NORM: LayerKind = {
  name: 'LayerNorm',
  doc: 'Layer normalisation over d: scale weight [d] and shift bias [d] when affine, as torch.nn.LayerNorm.',
  args: LAYER_NORM_ARGS,
  build(values) {
    const a = readArgs(LAYER_NORM_ARGS, values);
    const d = a.number('d');
    // As torch.nn.LayerNorm, `bias` only matters with elementwise_affine: no scale, no shift.
    const weights: WeightSpec[] = [];
    if (a.bool('affine')) {
      weights.push(normWeight('weight', d));
      if (a.bool('bias')) weights.push(biasWeight('bias', d));
    }
    return denseCost(weights, 0n, BigInt(d));
  },
};

const RMS_NORM_ARGS = [
  positional('d', DIM, 'Normalised width.'),
  optional('affine', BOOL, 'Learns a scale of d elements.', { default: true }),
];

export const RMS_NORM: LayerKind = {
  name: 'RMSNorm',
  doc: 'Root-mean-square normalisation over d (Llama, Gemma): scale weight [d] when affine, no shift.',
  args: RMS_NORM_ARGS,
  build(values) {
    const a = readArgs(RMS_NORM_ARGS, values);
    const d = a.number('d');
    return denseCost(a.bool('affine') ? [normWeight('weight', d)] : [], 0n, BigInt(d));
  },
};

const BATCH_NORM_ARGS = [
  positional('d', DIM, 'Channels.'),
  optional('affine', BOOL, 'Learns a scale and a shift of d elements each.', { default: true }),
];

export const BATCH_NORM: LayerKind = {
  name: 'BatchNorm',
  doc: 'Batch normalisation over d channels: weight [d] and bias [d] when affine; running mean and variance are buffers, not parameters.',
  args: BATCH_NORM_ARGS,
  build(values) {
    const a = readArgs(BATCH_NORM_ARGS, values);
    const d = a.number('d');
    // Running statistics are registered buffers in torch.nn.BatchNorm*d, never trained, so
    // they are not parameters.
    const weights = a.bool('affine') ? [normWeight('weight', d), biasWeight('bias', d)] : [];
    return denseCost(weights, 0n, BigInt(d));
  },
};
