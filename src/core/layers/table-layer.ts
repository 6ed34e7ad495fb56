// Lookup tables [rows, width]: token embeddings and position tables. A lookup is a gather,
// not a matmul, so it has no FLOPs; its backward needs only integer indices, so it saves no
// activations. One factory serves every table kind, which differ only in names and role.

import { DIM, positional, readArgs } from './arg-specs.js';
import type { LayerKind } from './layer-kind.js';
import { denseCost, tableWeight } from './weight-specs.js';

export interface TableLayerSpec {
  readonly name: string;
  readonly doc: string;
  /** The first positional argument: the table's rows, and its doc line. */
  readonly rows: readonly [string, string];
  /** The second positional argument: the table's width, and its doc line. */
  readonly width: readonly [string, string];
  readonly role: 'embedding' | 'position';
  /** Its rows are absolute positions: a sequence longer than the table cannot be embedded. */
  readonly limitsPositions?: boolean;
}

export function tableLayer(spec: TableLayerSpec): LayerKind {
  const args = [positional(spec.rows[0], DIM, spec.rows[1]), positional(spec.width[0], DIM, spec.width[1])];
  return {
    name: spec.name,
    doc: spec.doc,
    args,
    build(values) {
      const a = readArgs(args, values);
      const cost = denseCost([tableWeight('weight', a.number(spec.rows[0]), a.number(spec.width[0]), spec.role)], 0n, 0n);
      return spec.limitsPositions ? { ...cost, positionLimit: a.number(spec.rows[0]) } : cost;
    },
  };
}
