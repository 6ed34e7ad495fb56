// Position tables: learned absolute positions (GPT-2, BERT) and T5's relative position bias.
// Both are lookups added to activations or scores, so they have no FLOPs and save nothing.

import { DIM, positional, readArgs } from './arg-specs.js';
import type { LayerKind } from './layer-kind.js';
import { denseCost, tableWeight } from './weight-specs.js';

const POSITION_ARGS = [
  positional('positions', DIM, 'Maximum sequence length the table covers.'),
  positional('width', DIM, 'Vector width.'),
];

export const POSITION_EMBEDDING: LayerKind = {
  name: 'PositionEmbedding',
  doc: 'A learned absolute position table [positions, width] (GPT-2, BERT), added to the token embeddings; 0 FLOPs.',
  args: POSITION_ARGS,
  build(values) {
    const a = readArgs(POSITION_ARGS, values);
    return denseCost([tableWeight('weight', a.number('positions'), a.number('width'), 'position')], 0n, 0n);
  },
};

const RELATIVE_ARGS = [
  positional('buckets', DIM, 'Relative-distance buckets (T5: 32).'),
  positional('heads', DIM, 'Attention heads, one bias per bucket and head.'),
];

export const RELATIVE_POSITION_BIAS: LayerKind = {
  name: 'RelativePositionBias',
  doc: 'A T5-style relative position bias table [buckets, heads], added to attention scores; 0 FLOPs.',
  args: RELATIVE_ARGS,
  build(values) {
    const a = readArgs(RELATIVE_ARGS, values);
    return denseCost([tableWeight('weight', a.number('buckets'), a.number('heads'), 'position')], 0n, 0n);
  },
};
