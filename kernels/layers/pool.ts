// Pooling on a feature map [B, C, ...sides]: Pool (max/avg windows), GlobalPool and Flatten
// (src/core/layers/parameter-free.ts). No parameters, no counted FLOPs.

import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { layerArg, numberArg, textArg, type EmitContext, type Hidden } from './context.js';
import { attr } from '../onnx-writer.js';

/** Pool(kind, kernel, stride = kernel): MaxPool/AveragePool, no padding, as torch's defaults. */
export function pool(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  if (layerArg(node, 'kernel') === undefined) throw new ExportError(`${pathText(steps)}: Pool without a kernel has no window to export; give kernel`);
  const k = numberArg(node, 'kernel');
  const stride = layerArg(node, 'stride');
  const s = typeof stride === 'number' ? stride : k;
  const sides = h.spatial!;
  const out = sides.map((n) => Math.floor((n - k) / s) + 1);
  if (out.some((n) => n < 1)) throw new ExportError(`${pathText(steps)}: a ${k}-wide pooling window does not fit the ${sides.join('×')} feature map`);
  const op = textArg(node, 'kind', 'avg') === 'max' ? 'MaxPool' : 'AveragePool';
  const x = ctx.g.op(op, [h.x!], { kernel_shape: attr.ints(sides.map(() => k)), strides: attr.ints(sides.map(() => s)) }, { hint: 'pool' });
  return { x, width: h.width, spatial: out };
}

/** GlobalPool(avg|max): [B, C, ...] → [B, C], one row per sample. */
export function globalPool(ctx: EmitContext, node: LayerNode, h: Hidden): Hidden {
  const g = ctx.g;
  const op = textArg(node, 'kind', 'avg') === 'max' ? 'GlobalMaxPool' : 'GlobalAveragePool';
  const pooled = g.op(op, [h.x!], undefined, { hint: 'gpool' });
  return { x: g.op('Flatten', [pooled], { axis: attr.int(1) }, { hint: 'pooled' }), width: h.width, samples: true };
}

/** Flatten: [B, C, ...sides] → [B, C·∏sides], one row per sample. */
export function flatten(ctx: EmitContext, h: Hidden): Hidden {
  const width = h.width * h.spatial!.reduce((a, b) => a * b, 1);
  return { x: ctx.g.op('Flatten', [h.x!], { axis: attr.int(1) }, { hint: 'flat' }), width, samples: true };
}
