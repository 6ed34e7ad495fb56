// Elementwise activations: standard ops, plus com.microsoft Gelu/FastGelu (both modes) and
// QuickGelu for SiLU (fused ops), which the CPU and CUDA providers both implement. ORT 1.29 has
// no standalone gated-activation contrib op (SwiGLU exists only inside its MoE/QMoE kernels), so
// GatedMLP stays Mul(act(gate), up).

import { ExportError } from '../engine-bridge.js';
import type { EmitContext } from './context.js';

export function activation(ctx: EmitContext, x: string, kind: string): string {
  const g = ctx.g;
  switch (kind) {
    case 'relu':
      return g.op('Relu', [x]);
    case 'gelu':
      return g.op('Gelu', [x], undefined, { domain: 'com.microsoft' });
    case 'gelu_tanh':
      return g.op('FastGelu', [x], undefined, { domain: 'com.microsoft' });
    case 'silu':
      // QuickGelu(x) = x·sigmoid(alpha·x): with alpha 1 it is SiLU in one kernel (com.microsoft,
      // CPU and CUDA; ORT's optimiser makes the same fusion from Mul(x, Sigmoid(x))).
      if (ctx.ops === 'fused') return g.op('QuickGelu', [x], { alpha: { kind: 'float', value: 1 } }, { domain: 'com.microsoft', hint: 'silu' });
      return g.op('Mul', [x, g.op('Sigmoid', [x])], undefined, { hint: 'silu' });
    case 'softmax':
      return g.op('Softmax', [x], { axis: { kind: 'int', value: -1 } });
    default:
      throw new ExportError(`activation '${kind}' is not supported by the ONNX exporter`);
  }
}

