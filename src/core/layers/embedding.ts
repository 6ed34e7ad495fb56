// The token Embedding table (see table-layer.ts for why tables have no FLOPs or activations).

import { tableLayer } from './table-layer.js';

export const EMBEDDING = tableLayer({
  name: 'Embedding',
  doc: 'A token embedding table [rows, width]; a lookup, so 0 FLOPs.',
  rows: ['rows', 'Table rows (vocabulary size).'],
  width: ['width', 'Vector width.'],
  role: 'embedding',
});
