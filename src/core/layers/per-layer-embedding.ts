// Per-layer embeddings (PLE), as Gemma 3n builds them: besides the token embedding, every token
// looks up a small vector for each decoder layer in one wide table and adds a projection of the
// token's embedding to it; each layer then gates its output with its own vector. Two kinds:
// `PerLayerEmbedding`, the model-wide table and projection, and `PerLayerInput`, one layer's gate.
// The table is a lookup (0 FLOPs) that may live off the accelerator (PLE caching): it is an
// embedding-role weight, so it counts as embedding parameters in every report.

import { DIM, positional, readArgs } from './arg-specs.js';
import type { LayerKind } from './layer-kind.js';
import { checkShapesExact, denseCost, matmulFlops, matmulWeight, normWeight, tableWeight } from './weight-specs.js';

const TABLE_ARGS = [
  positional('rows', DIM, 'Table rows (vocab_size_per_layer_input).'),
  positional('d', DIM, 'Width of the token embedding the projection reads (hidden_size).'),
  positional('layers', DIM, 'Decoder layers, one vector each (num_hidden_layers).'),
  positional('width', DIM, 'Width of each per-layer vector (hidden_size_per_layer_input).'),
];

export const PER_LAYER_EMBEDDING: LayerKind = {
  name: 'PerLayerEmbedding',
  doc:
    "Gemma 3n's per-layer embeddings: a table [rows, layers·width] (embed_tokens_per_layer, a lookup: 0 FLOPs), a projection [layers·width, d] of the token embedding (per_layer_model_projection) and an RMSNorm scale norm [width]; " +
    'each layer receives (table + norm(projection)) / √2 for its slice. rows·L·w + d·L·w + w parameters; 2·d·L·w FLOPs per token.',
  args: TABLE_ARGS,
  build(values, report) {
    const a = readArgs(TABLE_ARGS, values);
    const d = a.number('d');
    const all = a.number('layers') * a.number('width');
    const weights = [tableWeight('table', a.number('rows'), all, 'embedding'), matmulWeight('projection', d, all), normWeight('norm', a.number('width'))];
    if (!checkShapesExact(weights, report)) return undefined;
    // Saved: the embedding the projection reads and its layers·width output (the norm's input).
    return denseCost(weights, matmulFlops(d, all), BigInt(d) + BigInt(all));
  },
};

const INPUT_ARGS = [
  positional('d', DIM, 'Width of the hidden state (hidden_size).'),
  positional('width', DIM, 'Width of the per-layer vector (hidden_size_per_layer_input).'),
];

export const PER_LAYER_INPUT: LayerKind = {
  name: 'PerLayerInput',
  doc:
    "One Gemma 3n layer's use of its per-layer embedding: gate [width, d] (per_layer_input_gate), act, times the layer's vector, projection [d, width] (per_layer_projection) and an RMSNorm scale norm [d]; the result is added to the copies AltUp does not update. " +
    '2·d·width + d parameters; 4·d·width FLOPs per token.',
  args: INPUT_ARGS,
  build(values) {
    const a = readArgs(INPUT_ARGS, values);
    const d = a.number('d');
    const width = a.number('width');
    const weights = [matmulWeight('gate', d, width), matmulWeight('projection', width, d), normWeight('norm', d)];
    // Saved: the input, the gate's output and the gated product (the projection's input), and
    // the projection's output (the norm's input).
    return denseCost(weights, matmulFlops(d, width) + matmulFlops(width, d), 2n * BigInt(d) + 2n * BigInt(width));
  },
};
