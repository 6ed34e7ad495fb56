// Per-layer embeddings (src/core/layers/per-layer-embedding.ts) on the exporter's data flow: the
// PerLayerEmbedding member, placed after the token embedding, computes every layer's input
// [T, L, w] from the ids and the embedding (Gemma3nTextModel's get_per_layer_inputs and
// project_per_layer_inputs) and leaves the hidden state as it is; each decoder layer's
// PerLayerInput reads its slice (layers/altup.ts).

import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { reshape, storeFor, weightNamed, type EmitContext, type Hidden } from './context.js';
import { rmsNormLastAxis } from './norm.js';
import { projection } from './projection.js';
import { attr } from '../onnx-writer.js';

interface PerLayerInputs {
  /** [T, L, w] */
  readonly x: string;
  readonly layers: number;
  readonly width: number;
}

const inputs = new WeakMap<EmitContext, PerLayerInputs>();

export function perLayerEmbedding(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const g = ctx.g;
  const table = storeFor(ctx, node, steps, weightNamed(node, 'table')!);
  const [rows, all] = weightNamed(node, 'table')!.shape as [number, number];
  const d = weightNamed(node, 'projection')!.shape[1]!;
  const width = weightNamed(node, 'norm')!.shape[0]!;
  const layers = all / width;
  if (h.x === undefined || h.width !== d) throw new ExportError(`${pathText(steps)}: PerLayerEmbedding projects the token embedding of width ${d}, so it follows the Embedding; the stream carries ${h.x === undefined ? 'nothing yet' : `width ${h.width}`}`);
  if (inputs.has(ctx)) throw new ExportError(`${pathText(steps)}: a second PerLayerEmbedding in one model is not supported by the ONNX exporter`);
  const ids = g.op('Mod', [ctx.ids, g.ints([rows], true)], undefined, { hint: 'ple_ids' });
  const looked = g.op('Mul', [reshape(ctx, g.op('Gather', [table.name, ids], { axis: attr.int(0) }, { hint: 'ple' }), [-1, layers, width]), g.float(Math.sqrt(width))]);
  const projected = reshape(ctx, g.op('Mul', [projection(ctx, node, steps, h.x, 'projection', undefined).y, g.float(1 / Math.sqrt(d))]), [-1, layers, width]);
  const normed = rmsNormLastAxis(ctx, projected, storeFor(ctx, node, steps, weightNamed(node, 'norm')!).name);
  inputs.set(ctx, { x: g.op('Mul', [g.op('Add', [normed, looked]), g.float(Math.SQRT1_2)], undefined, { hint: 'per_layer_inputs' }), layers, width });
  return h;
}

/**
 * PerLayerInput of decoder layer `layer`: norm(projection(act(gate(x)) · input[layer])), [T, d].
 * `act` is the model's activation (the feed-forward's).
 */
export function perLayerInput(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, layer: number, act: (y: string) => string): string {
  const g = ctx.g;
  const all = inputs.get(ctx);
  if (!all) throw new ExportError(`${pathText(steps)}: PerLayerInput reads the per-layer embeddings, but no PerLayerEmbedding ran before it`);
  if (layer >= all.layers) throw new ExportError(`${pathText(steps)}: layer ${layer} has no per-layer embedding (PerLayerEmbedding holds ${all.layers} layers)`);
  const width = weightNamed(node, 'gate')!.shape[0]!;
  if (width !== all.width) throw new ExportError(`${pathText(steps)}: PerLayerInput of width ${width} reads per-layer embeddings of width ${all.width}`);
  const mine = g.op('Gather', [all.x, g.ints([layer], true)], { axis: attr.int(1) }, { hint: `ple${layer}` }); // [T, w]
  const gated = g.op('Mul', [act(projection(ctx, node, steps, x, 'gate', undefined).y), mine]);
  return rmsNormLastAxis(ctx, projection(ctx, node, steps, gated, 'projection', undefined).y, storeFor(ctx, node, steps, weightNamed(node, 'norm')!).name);
}
