// Alternating Updates (AltUp; Baykal et al., NeurIPS 2023), as Gemma 3n runs it: the model
// carries `inputs` copies of its hidden state, and each decoder layer runs on one of them (the
// active copy) while a small learned map predicts the others before the layer and corrects them
// after it. Two kinds: `AltUp`, the per-layer predict/correct map, and `AltUpProjections`, the
// inputs − 1 square projections that make the extra copies from the embedding (altup_projections)
// or fold them back before the final norm (altup_unembed_projections).

import { DIM, optional, positional, readArgs } from './arg-specs.js';
import type { LayerKind } from './layer-kind.js';
import { checkShapesExact, denseCost, matmulFlops, matmulWeight, normWeight } from './weight-specs.js';

const ALTUP_ARGS = [
  positional('d', DIM, 'Width of each copy of the hidden state (hidden_size).'),
  optional('inputs', DIM, 'Copies of the hidden state (altup_num_inputs).', { default: 4, positional: true }),
];

export const ALTUP: LayerKind = {
  name: 'AltUp',
  doc:
    "One layer's AltUp map over n copies of the hidden state (Gemma 3n): router_norm [d] and modality_router [n, d] turn the active copy into n tanh coefficients, " +
    'prediction_coefs [n², n] mix the n copies before the layer and correction_coefs [n, n] spread its update after it; correct_output_scale [d] scales the corrected active copy. ' +
    'd·(n + 2) + n³ + n² parameters; 4·d·n + 2·n³ + 2·n² + 2·n²·d FLOPs per token.',
  args: ALTUP_ARGS,
  build(values, report) {
    const a = readArgs(ALTUP_ARGS, values);
    const d = a.number('d');
    const n = a.number('inputs');
    const weights = [
      normWeight('router_norm', d),
      matmulWeight('modality_router', d, n),
      matmulWeight('prediction_coefs', n, n * n),
      matmulWeight('correction_coefs', n, n),
      normWeight('correct_output_scale', d),
    ];
    if (!checkShapesExact(weights, report)) return undefined;
    // The router runs twice (on the active copy before the layer, on its output after it); the
    // prediction mixes n copies of d with an n×n matrix per token (n²·d multiply-adds). The
    // correction's per-copy scaling is elementwise, which no layer counts.
    const flops = 2n * matmulFlops(d, n) + matmulFlops(n, n * n) + matmulFlops(n, n) + matmulFlops(n * n, d);
    // Saved: the n copies the prediction reads and the active copy the correction reads.
    return denseCost(weights, flops, BigInt(n + 1) * BigInt(d));
  },
};

const PROJECTIONS_ARGS = [
  positional('d', DIM, 'Width of the hidden state (hidden_size).'),
  optional('inputs', DIM, 'Copies of the hidden state (altup_num_inputs); inputs − 1 projections.', { default: 4, positional: true }),
];

export const ALTUP_PROJECTIONS: LayerKind = {
  name: 'AltUpProjections',
  doc:
    "AltUp's inputs − 1 square projections proj [d, d] (Gemma 3n's altup_projections, which make the extra copies of the hidden state from the embedding, or altup_unembed_projections, which fold them back before the final norm; each copy rescaled to the active copy's RMS). " +
    '(n − 1)·d² parameters; 2·(n − 1)·d² FLOPs per token.',
  args: PROJECTIONS_ARGS,
  build(values, report) {
    const a = readArgs(PROJECTIONS_ARGS, values);
    const d = a.number('d');
    const copies = a.number('inputs') - 1;
    if (copies < 1) {
      report('inputs', 'AltUp needs at least 2 copies of the hidden state for a projection to make');
      return undefined;
    }
    const weights = [matmulWeight('proj', d, d, { copies, active: copies })];
    return denseCost(weights, BigInt(copies) * matmulFlops(d, d), BigInt(d));
  },
};
