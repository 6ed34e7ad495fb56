// Input features made on the device from token ids (for models whose first layer is a Linear).

import { toHalf } from '../weights.js';
import { reshape, type EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

/**
 * Input features for a model whose first layer is a Linear (ViT patches, feature vectors): made
 * on the device from the token ids, sin(0.37·id + j/width) for feature j, so the graph's input
 * stays [batch, seq] int64 and nothing large crosses the bus.
 */
export function features(ctx: EmitContext, width: number): string {
  const g = ctx.g;
  const ids = g.op('Cast', [reshape(ctx, ctx.ids, [-1, 1])], { to: attr.int(g.floatType) }, { hint: 'idsf' });
  const cols = new Float32Array(width).map((_, j) => j / width);
  const colsName = g.op('Constant', [], { value: { kind: 'tensor', value: { name: 'c', dataType: g.floatType, dims: [width], raw: g.dtype === 'fp16' ? halfBytes(cols) : new Uint8Array(cols.buffer) } } }, { hint: 'cols' });
  return g.op('Sin', [g.op('Add', [g.op('Mul', [ids, g.float(0.37)]), colsName])], undefined, { hint: 'features' });
}

export function halfBytes(values: Float32Array): Uint8Array {
  const h = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) h[i] = toHalf(values[i]!);
  return new Uint8Array(h.buffer);
}

