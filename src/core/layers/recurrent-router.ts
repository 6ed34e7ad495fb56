// The recurrent cell of a layer-wise recurrent router (RMoE; Qiu et al., "Layerwise Recurrent
// Router for Mixture-of-Experts", ICLR 2025): each MoE layer i projects its input to the router
// width p (`MoE(…, router_rnn: p)`: weight1 [p, d]), a GRU cell mixes that projection with the
// state h_{i−1} the previous MoE layer's router left, and the layer scores its experts from the new
// state (weight2 [experts, p]). The state runs across the layers of one token, never across tokens,
// so nothing is kept per sequence. qiuzh20/RMoE `rnn.py`: CustomGRUCell with input and hidden
// width p and six [p, p] matrices and six biases (r, z and n gates on the input and on the state),
// one cell in LlamaModel, applied by every MoE layer; CustomRNNCell (`cell: rnn`) keeps the n gate
// alone, h = tanh(W_in x + b_in + W_hn h + b_hn). A model declares this layer in its block and
// shares it across the stack (`share body.router_cell: all`), so the cell is stored once and
// applied by every layer (effective, active and FLOPs per layer).

import { DIM, oneOf, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind } from './layer-kind.js';
import { biasWeight, checkShapesExact, denseCost, matmulFlops, matmulWeight } from './weight-specs.js';

/** Gates of each cell: GRU's reset, update and candidate; the plain RNN's candidate alone. */
const GATES: Readonly<Record<string, number>> = { gru: 3, rnn: 1 };

const ARGS = [
  positional('dim', DIM, "Width of the router's state and of its input (RMoE's moe_router_rnn_hidden_size; the MoE's router_rnn)."),
  optional('cell', oneOf(Object.keys(GATES)), 'gru: the GRU cell (reset, update and candidate gates); rnn: a tanh RNN cell.', { default: 'gru' }),
];

export const RECURRENT_ROUTER: LayerKind = {
  name: 'RecurrentRouter',
  doc:
    "The GRU (or tanh RNN) cell of a layer-wise recurrent router (RMoE): its state runs from one MoE layer's router to the next; " +
    'declare it beside MoE(…, router_rnn: dim) and share it across the stack.',
  args: ARGS,
  build(values, report) {
    const a = readArgs(ARGS, values);
    const p = a.number('dim');
    const gates = GATES[a.choice('cell')]!;
    // torch's layout (nn.GRUCell, RMoE's CustomGRUCell stacked): the gates' input matrices as one
    // [G·p, p], their state matrices as another, a bias on each.
    const weights = [
      matmulWeight('input', p, gates * p, undefined, 'router'),
      biasWeight('input_bias', gates * p),
      matmulWeight('state', p, gates * p, undefined, 'router'),
      biasWeight('state_bias', gates * p),
    ];
    if (!checkShapesExact(weights, report)) return undefined;
    // Both matmuls run once per token and layer (the first layer's zero state included, as the
    // code computes it); saved: the input, the previous state and each gate's pre-activation.
    return { ...denseCost(weights, 2n * matmulFlops(p, gates * p), BigInt(2 + gates) * BigInt(p)), routerState: { role: 'cell', width: p } };
  },
};
