// LAuReL (Learned Augmented Residual Layer; Menghani et al. 2024), as Gemma 3n runs it beside
// each layer's attention: x + norm(right(left(x))), a rank-r residual branch whose output joins
// the attention's residual stream (the sum is scaled by 1/√2, which has no parameters).

import { DIM, positional, readArgs } from './arg-specs.js';
import type { LayerKind } from './layer-kind.js';
import { denseCost, matmulFlops, matmulWeight, normWeight } from './weight-specs.js';

const ARGS = [positional('d', DIM, 'Input and output width (hidden_size).'), positional('rank', DIM, 'Rank of the residual branch (laurel_rank).')];

export const LAUREL: LayerKind = {
  name: 'Laurel',
  doc: "A learned low-rank residual x + norm(right(left(x))) (LAuReL, Gemma 3n): left [rank, d], right [d, rank] and the RMSNorm scale norm [d]; 2·d·rank + d parameters and 4·d·rank FLOPs per token.",
  args: ARGS,
  build(values) {
    const a = readArgs(ARGS, values);
    const d = a.number('d');
    const rank = a.number('rank');
    const weights = [matmulWeight('left', d, rank), matmulWeight('right', rank, d), normWeight('norm', d)];
    // Saved: the input (left's), the rank-r middle (right's input) and right's output (the norm's).
    return denseCost(weights, matmulFlops(d, rank) + matmulFlops(rank, d), 2n * BigInt(d) + BigInt(rank));
  },
};
