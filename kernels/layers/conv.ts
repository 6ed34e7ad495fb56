// Convolutional models (src/core/layers/conv.ts, norms.ts, parameter-free.ts): Conv1d/Conv2d and
// BatchNorm on a feature map [B, C, ...sides], and the layers that may follow a feature map. A
// model whose first layer is a convolution reads an image made on the device from the ids
// (image.ts); GlobalPool/Flatten turn the map into one row per sample, which a Linear head reads.
// Every convolution runs at the input size it declares (the size the engine counts its FLOPs at):
// a map of another size is refused by name, never resized.

import { ExportError, pathText, type ConvInfo, type LayerNode, type PathStep } from '../engine-bridge.js';
import { activation } from './activation.js';
import { kernelWithDeltas } from './adapters.js';
import { numberArg, storeFor, textArg, weightNamed, type EmitContext, type Hidden } from './context.js';
import { image } from './image.js';
import { norm } from './norm.js';
import { flatten, globalPool, pool } from './pool.js';
import { projection } from './projection.js';
import { sandwichConv2d } from './sandwich-conv.js';
import { sandwichLinear } from './sandwich.js';
import { attr } from '../onnx-writer.js';

export const CONVS = new Set(['Conv1d', 'Conv2d']);
/** The layers that may begin a model on the image made from the ids: the convolutions and LBDN's. */
export const IMAGE_READERS = new Set([...CONVS, 'SandwichConv2d']);

/** The engine's geometry of a convolution (the one its FLOPs are counted at). */
export function convGeometry(node: LayerNode, steps: readonly PathStep[]): ConvInfo {
  const c = node.cost.conv;
  if (!c) throw new ExportError(`${pathText(steps)}: ${node.layerKind} without the engine's convolution geometry`);
  return c;
}

const same = (a: readonly number[] | undefined, b: readonly number[]) => a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);

/** One convolution on the feature map (the image, when it is the first layer). */
export function conv(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const g = ctx.g;
  const where = pathText(steps);
  const c = convGeometry(node, steps);
  if (h.x === undefined) {
    // One image per sample, no token sequence: nothing to cache, so no decode step to build.
    if (ctx.decode) throw new ExportError(`${where}: a model that begins with a convolution reads one image per sample and has no decode step`);
    h = image(ctx, c.cIn, c.inputSides);
  }
  if (h.spatial === undefined) throw new ExportError(`${where}: ${node.layerKind} on a token stream is not supported by the ONNX exporter (convolutions run on a feature map, from an image made when the model begins with a convolution)`);
  if (h.width !== c.cIn) throw new ExportError(`${where}: ${node.layerKind} reads ${c.cIn} channels but the layers before it produce ${h.width}`);
  if (!same(h.spatial, c.inputSides)) throw new ExportError(`${where}: ${node.layerKind} declares an input of ${c.inputSides.join('×')} but the layers before it produce ${h.spatial.join('×')}; the graph runs every convolution at the size the engine counts it at`);
  const kernel = weightNamed(node, 'weight')!;
  // A merged delta (TAPS) adds its ΔW to the kernel: still one convolution.
  const inputs = [h.x!, kernelWithDeltas(ctx, steps, 'weight', storeFor(ctx, node, steps, kernel).name, kernel.shape)];
  const b = weightNamed(node, 'bias');
  if (b) inputs.push(storeFor(ctx, node, steps, b).name);
  const n = c.inputSides.length;
  const y = g.op('Conv', inputs, {
    kernel_shape: attr.ints(Array(n).fill(c.kernel)),
    strides: attr.ints(Array(n).fill(c.stride)),
    pads: attr.ints(Array(2 * n).fill(c.padding)),
    dilations: attr.ints(Array(n).fill(c.dilation)),
    group: attr.int(c.groups),
  }, { hint: 'conv' });
  return { x: y, width: c.cOut, spatial: [...c.outputSides] };
}

/**
 * BatchNorm at inference: BatchNormalization over the channel axis of a feature map, or of [T, d]
 * / [B, d] rows. The running mean and variance are buffers, not parameters, so they are Constant
 * nodes (0 and 1), and a BatchNorm without affine reads Constant ones and zeros.
 */
export function batchNorm(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const g = ctx.g;
  const d = numberArg(node, 'd');
  if (d !== h.width) throw new ExportError(`${pathText(steps)}: BatchNorm normalises ${d} channels but the layers before it produce ${h.width}`);
  const scale = weightNamed(node, 'weight');
  const bias = weightNamed(node, 'bias');
  const inputs = [
    h.x!,
    scale ? storeFor(ctx, node, steps, scale).name : g.float(1, d),
    bias ? storeFor(ctx, node, steps, bias).name : g.float(0, d),
    g.float(0, d),
    g.float(1, d),
  ];
  return { ...h, x: g.op('BatchNormalization', inputs, { epsilon: attr.float(1e-5) }, { hint: 'bn' }) };
}

/**
 * A layer on a feature map, or on the per-sample rows after GlobalPool/Flatten (and the first
 * convolution of a model). Layers that need a token sequence are refused by name.
 */
export function featureMapLayer(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const where = pathText(steps);
  const kind = node.layerKind;
  const onMap = h.spatial !== undefined || h.x === undefined;
  switch (kind) {
    case 'Conv1d':
    case 'Conv2d':
      return conv(ctx, node, steps, h);
    case 'SandwichConv2d':
      return sandwichConv2d(ctx, node, steps, h);
    case 'BatchNorm':
      return batchNorm(ctx, node, steps, h);
    case 'Activation':
      return { ...h, x: activation(ctx, h.x!, textArg(node, 'kind', 'relu')) };
    case 'Dropout':
    case 'Identity':
      return h;
  }
  if (onMap) {
    switch (kind) {
      case 'Pool':
        return pool(ctx, node, steps, h);
      case 'GlobalPool':
        return globalPool(ctx, node, h);
      case 'Flatten':
        return flatten(ctx, h);
    }
    throw new ExportError(`${where}: ${kind} cannot read a feature map [batch, ${h.width}, ${h.spatial!.join(', ')}]; a GlobalPool or Flatten before it makes one row per sample`);
  }
  // One row per sample: per-row layers only.
  switch (kind) {
    case 'Linear': {
      const w = weightNamed(node, 'weight')!;
      if (w.shape[1] !== h.width) throw new ExportError(`${where}: Linear reads width ${w.shape[1]} but the layers before it produce ${h.width}`);
      const p = projection(ctx, node, steps, h.x!, 'weight', 'bias');
      return { x: p.y, width: p.width, samples: true };
    }
    case 'LayerNorm':
    case 'RMSNorm':
      return { ...h, x: norm(ctx, node, steps, h.x!, h.width) };
    case 'SandwichLinear': {
      const w = weightNamed(node, 'weight')!;
      const dIn = w.shape[1]! - w.shape[0]!;
      if (dIn !== h.width) throw new ExportError(`${where}: SandwichLinear reads width ${dIn} but the layers before it produce ${h.width}`);
      const s = sandwichLinear(ctx, node, steps, h.x!);
      return { x: s.y, width: s.width, samples: true };
    }
  }
  throw new ExportError(`${where}: ${kind} after GlobalPool/Flatten (one row per sample, no sequence) is not supported by the ONNX exporter`);
}
