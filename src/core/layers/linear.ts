// The Linear layer: one dense projection [d_out, d_in] with an optional bias, as torch.nn.Linear.

import { BOOL, DIM, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind } from './layer-kind.js';
import { biasWeight, denseCost, matmulFlops, matmulWeight } from './weight-specs.js';

const ARGS = [
  positional('d_in', DIM, 'Input width.'),
  positional('d_out', DIM, 'Output width.'),
  optional('bias', BOOL, 'Adds a bias of d_out elements.', { default: false }),
];

export const LINEAR: LayerKind = {
  name: 'Linear',
  doc: 'A dense projection from d_in to d_out: weight [d_out, d_in] (+ bias [d_out]); 2·d_in·d_out FLOPs per token.',
  args: ARGS,
  build(values) {
    const a = readArgs(ARGS, values);
    const dIn = a.number('d_in');
    const dOut = a.number('d_out');
    const weight = matmulWeight('weight', dIn, dOut);
    const weights = a.bool('bias') ? [weight, biasWeight('bias', dOut)] : [weight];
    // Backward needs the input to form the weight gradient.
    return denseCost(weights, matmulFlops(dIn, dOut), BigInt(dIn));
  },
};
