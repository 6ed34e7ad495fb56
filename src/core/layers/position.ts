// Position tables: learned absolute positions (GPT-2, BERT) and T5's relative position bias.
// Both are lookups added to activations or scores, so they have no FLOPs and save nothing.

import { tableLayer } from './table-layer.js';

export const POSITION_EMBEDDING = tableLayer({
  name: 'PositionEmbedding',
  doc: 'A learned absolute position table [positions, width] (GPT-2, BERT), added to the token embeddings; 0 FLOPs.',
  rows: ['positions', 'Maximum sequence length the table covers.'],
  width: ['width', 'Vector width.'],
  role: 'position',
  limitsPositions: true,
});

export const RELATIVE_POSITION_BIAS = tableLayer({
  name: 'RelativePositionBias',
  doc: 'A T5-style relative position bias table [buckets, heads], added to attention scores; 0 FLOPs.',
  rows: ['buckets', 'Relative-distance buckets (T5: 32).'],
  width: ['heads', 'Attention heads, one bias per bucket and head.'],
  role: 'position',
});
