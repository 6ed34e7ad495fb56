// The token Embedding table. A lookup is a gather, not a matmul, so it has no FLOPs; its
// backward needs only the integer token ids, so it saves no activations.

import { DIM, positional, readArgs } from './arg-specs.js';
import type { LayerKind } from './layer-kind.js';
import { denseCost, tableWeight } from './weight-specs.js';

const EMBEDDING_ARGS = [
  positional('rows', DIM, 'Table rows (vocabulary size).'),
  positional('width', DIM, 'Vector width.'),
];

export const EMBEDDING: LayerKind = {
  name: 'Embedding',
  doc: 'A token embedding table [rows, width]; a lookup, so 0 FLOPs.',
  args: EMBEDDING_ARGS,
  build(values) {
    const a = readArgs(EMBEDDING_ARGS, values);
    return denseCost([tableWeight('weight', a.number('rows'), a.number('width'), 'embedding')], 0n, 0n);
  },
};
