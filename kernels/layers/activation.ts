// Elementwise activations: standard ops, plus com.microsoft Gelu/FastGelu, which the CPU and
// CUDA providers both implement.

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
      return g.op('Mul', [x, g.op('Sigmoid', [x])], undefined, { hint: 'silu' });
    case 'softmax':
      return g.op('Softmax', [x], { axis: { kind: 'int', value: -1 } });
    default:
      throw new ExportError(`activation '${kind}' is not supported by the ONNX exporter`);
  }
}

