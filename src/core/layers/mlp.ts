// Feed-forward blocks: the two-matrix MLP (GPT-2, BERT) and the gated MLP (Llama's SwiGLU,
// Gemma's GeGLU), act(gate(x))·up(x) → down. Activation functions have no parameters and their
// elementwise cost is not counted.

import { ACTIVATIONS, BOOL, DIM, oneOf, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind } from './layer-kind.js';
import { denseCost, matmulFlops, projection } from './weight-specs.js';

const MLP_ARGS = [
  positional('d', DIM, 'Input width.'),
  positional('hidden', DIM, 'Hidden width (intermediate_size).'),
  optional('act', oneOf(ACTIVATIONS), 'Activation between up and down.', { default: 'gelu' }),
  optional('bias', BOOL, 'Biases on up (hidden) and down (d_out).', { default: true }),
  optional('d_out', DIM, 'Output width. Default: d.'),
];

export const MLP: LayerKind = {
  name: 'MLP',
  doc: 'A two-layer feed-forward block: up [hidden, d], act, down [d_out, hidden], with biases by default (GPT-2, BERT).',
  args: MLP_ARGS,
  build(values) {
    const a = readArgs(MLP_ARGS, values);
    const d = a.number('d');
    const hidden = a.number('hidden');
    const dOut = a.optionalNumber('d_out') ?? d;
    const bias = a.bool('bias');
    const weights = [...projection('up', d, hidden, bias), ...projection('down', hidden, dOut, bias)];
    // Saved: the input, the activation's input (up's output) and its output (down's input).
    return denseCost(weights, matmulFlops(d, hidden) + matmulFlops(hidden, dOut), BigInt(d) + 2n * BigInt(hidden));
  },
};

const GATED_MLP_ARGS = [
  positional('d', DIM, 'Input and output width.'),
  positional('hidden', DIM, 'Hidden width (intermediate_size).'),
  optional('act', oneOf(ACTIVATIONS), 'Activation on the gate (silu: SwiGLU; gelu: GeGLU).', { default: 'silu' }),
  optional('bias', BOOL, 'Biases on gate, up and down.', { default: false }),
];

export const GATED_MLP: LayerKind = {
  name: 'GatedMLP',
  doc: 'A gated feed-forward block, down(act(gate(x))·up(x)): gate and up [hidden, d], down [d, hidden] (Llama, Gemma).',
  args: GATED_MLP_ARGS,
  build(values) {
    const a = readArgs(GATED_MLP_ARGS, values);
    const d = a.number('d');
    const hidden = a.number('hidden');
    const bias = a.bool('bias');
    const weights = [
      ...projection('gate', d, hidden, bias),
      ...projection('up', d, hidden, bias),
      ...projection('down', hidden, d, bias),
    ];
    // Saved: the input, the gate and up outputs, and their gated product (down's input).
    return denseCost(weights, 3n * matmulFlops(d, hidden), BigInt(d) + 3n * BigInt(hidden));
  },
};
