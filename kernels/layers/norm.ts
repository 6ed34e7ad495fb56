// LayerNorm and RMSNorm over the last axis (also the q/k norms of attention).

import type { LayerNode, PathStep } from '../engine-bridge.js';
import { storeFor, weightNamed, type EmitContext } from './context.js';

/** Norm over the last axis of `x` with the layer's weights (RMSNorm or LayerNorm). */
export function norm(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, width: number, scaleName = 'weight', biasName = 'bias'): string {
  const g = ctx.g;
  const scaleW = weightNamed(node, scaleName);
  const biasW = weightNamed(node, biasName);
  const scale = scaleW ? storeFor(ctx, node, steps, scaleW, undefined).name : undefined;
  const bias = biasW ? storeFor(ctx, node, steps, biasW, undefined).name : undefined;
  const rms = node.layerKind === 'RMSNorm' || (node.layerKind === 'Attention' && !bias);
  if (!rms) {
    const inputs = [x, scale ?? g.float(1, width)];
    if (bias) inputs.push(bias);
    return g.op('LayerNormalization', inputs, { axis: { kind: 'int', value: -1 }, epsilon: { kind: 'float', value: 1e-5 } }, { hint: 'ln' });
  }
  // Pow → ReduceMean → Add → Sqrt → Div → Mul: the pattern ORT fuses into SimplifiedLayerNormalization.
  const ms = g.op('ReduceMean', [g.op('Pow', [x, g.float(2)])], { axes: { kind: 'ints', value: [-1] }, keepdims: { kind: 'int', value: 1 } });
  const y = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.float(1e-6)])])], undefined, { hint: 'rms' });
  return scale ? g.op('Mul', [y, scale], undefined, { hint: 'rms' }) : y;
}

