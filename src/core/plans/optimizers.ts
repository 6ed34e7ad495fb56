// Optimizer state bytes per trained parameter, by optimizer, from each method's paper or
// reference implementation. Master weights are counted separately (precision.ts).

import * as Q from '../numbers/rational.js';
import type { ParamBreakdown } from './param-breakdown.js';

export type OptimizerName = 'adamw' | 'adam8bit' | 'adafactor' | 'sgd' | 'lion' | 'muon';

export interface OptimizerProfile {
  readonly name: OptimizerName;
  readonly description: string;
  readonly source: string;
  /** State bytes for the trained params of a breakdown (exact; bytes may be fractional). */
  readonly stateBytes: (p: ParamBreakdown) => Q.Rational;
}

const bytesPer = (n: bigint, d = 1n): Q.Rational => Q.rational(n, d);

export const OPTIMIZERS: readonly OptimizerProfile[] = [
  {
    name: 'adamw',
    description: 'AdamW: fp32 first and second moments (8 bytes per trained param)',
    source: 'Loshchilov & Hutter 2019; Rajbhandari et al. 2020 (ZeRO) count K = 12 with the fp32 master copy',
    stateBytes: (p) => Q.mul(p.trainable, bytesPer(8n)),
  },
  {
    name: 'adam8bit',
    description: '8-bit Adam: both moments in int8 with one fp32 absmax per block of 2,048 values (2 + 8/2048 bytes)',
    source: 'Dettmers et al. 2022, 8-bit Optimizers via Block-wise Quantization (block size 2048)',
    stateBytes: (p) => Q.mul(p.trainable, Q.add(bytesPer(2n), bytesPer(8n, 2048n))),
  },
  {
    name: 'adafactor',
    description: 'Adafactor without momentum: fp32 row and column second-moment factors per matrix, a full fp32 second moment for vectors',
    source: 'Shazeer & Stern 2018 (β1 = 0, factored second moment over the last two dims)',
    stateBytes: (p) => Q.mul(p.factoredState, bytesPer(4n)),
  },
  {
    name: 'sgd',
    description: 'SGD with momentum: one fp32 momentum buffer (4 bytes)',
    source: 'torch.optim.SGD(momentum > 0) keeps one momentum_buffer per param',
    stateBytes: (p) => Q.mul(p.trainable, bytesPer(4n)),
  },
  {
    name: 'lion',
    description: 'Lion: one fp32 momentum (4 bytes)',
    source: 'Chen et al. 2023, Symbolic Discovery of Optimization Algorithms (Lion keeps only the momentum)',
    stateBytes: (p) => Q.mul(p.trainable, bytesPer(4n)),
  },
  {
    name: 'muon',
    description: 'Muon: one fp32 momentum for hidden matrices; AdamW (8 bytes) for embeddings, the output head, norms and biases',
    source: 'Jordan et al. 2024, Muon (hidden 2-D weights only; the rest with AdamW)',
    stateBytes: (p) => Q.add(Q.mul(p.hiddenMatrix, bytesPer(4n)), Q.mul(Q.sub(p.trainable, p.hiddenMatrix), bytesPer(8n))),
  },
];

export const OPTIMIZER_NAMES: readonly OptimizerName[] = OPTIMIZERS.map((o) => o.name);

export function findOptimizer(name: string): OptimizerProfile | undefined {
  return OPTIMIZERS.find((o) => o.name === name);
}
