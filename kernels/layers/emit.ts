// One layer on the hidden state: checks the width it reads and dispatches to its builder.

import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { activation, glu } from './activation.js';
import { altupProjections } from './altup.js';
import { laurel } from './laurel.js';
import { perLayerEmbedding } from './per-layer-embedding.js';
import { attention } from './attention.js';
import { crossAttention } from './cross-attention.js';
import { IMAGE_READERS, batchNorm, featureMapLayer } from './conv.js';
import { positions, textArg, reshape, storeFor, toBatchSeq, type EmitContext, type Hidden } from './context.js';
import { features } from './features.js';
import { mamba } from './mamba.js';
import { mamba2 } from './mamba2.js';
import { gatedDeltaNet } from './gated-deltanet.js';
import { mla } from './mla.js';
import { momentProbe } from './moment-probe.js';
import { moa } from './moa.js';
import { moe } from './moe.js';
import { norm } from './norm.js';
import { cacheSharers, prefixTokens } from './parallel-streams.js';
import { projection } from './projection.js';
import { relativePositionLayer } from './relative-position.js';
import { sandwichLinear } from './sandwich.js';
import { tokenConv1d } from './token-conv.js';
import { attr } from '../onnx-writer.js';

export const SUPPORTED_LAYERS = ['Embedding', 'PositionEmbedding', 'Linear', 'LayerNorm', 'RMSNorm', 'Attention', 'MLA', 'MoA', 'RelativePositionBias', 'MLP', 'GatedMLP', 'MoE', 'Activation', 'Dropout', 'Identity', 'Conv1d', 'Conv2d', 'BatchNorm', 'Pool', 'GlobalPool', 'Flatten', 'SandwichLinear', 'SandwichConv2d', 'Mamba', 'Mamba2', 'GatedDeltaNet', 'AltUp', 'AltUpProjections', 'Laurel', 'PerLayerEmbedding', 'PerLayerInput', 'MomentProbe'] as const;

/** The width a layer reads, from its weights (undefined: any width). */
export function inputWidth(node: LayerNode): number | undefined {
  const w = (name: string) => node.cost.weights.find((x) => x.name === name);
  switch (node.layerKind) {
    case 'Linear':
      return w('weight')!.shape[1];
    case 'SandwichLinear':
      // The free weight stacks [U; V]: [d_out, d_in + d_out].
      return w('weight')!.shape[1]! - w('weight')!.shape[0]!;
    case 'Attention':
      return w('q')!.shape[1];
    case 'MLA':
      return w('kv_a')!.shape[1];
    case 'MoA':
      return (w('router_hidden') ?? w('router'))!.shape[1];
    case 'MLP':
      return w('up')!.shape[1];
    case 'GatedMLP':
      return w('gate')!.shape[1];
    case 'MoE':
      return (w('router_in') ?? w('router'))!.shape[1];
    case 'Mamba':
    case 'Mamba2':
      return w('in_proj')!.shape[1];
    case 'GatedDeltaNet':
      return w('in_proj_qkvz')!.shape[1];
    case 'LayerNorm':
    case 'RMSNorm':
      return w('weight')?.shape[0];
    case 'Laurel':
      return w('left')!.shape[1];
    case 'MomentProbe':
      return w('proj')!.shape[1];
    case 'PositionEmbedding':
      return w('weight')!.shape[1];
    default:
      return undefined;
  }
}

/** Emits one layer on the hidden state; returns the new hidden state. */
export function emitLayer(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const g = ctx.g;
  const where = pathText(steps);
  // Convolutional models: feature maps and per-sample rows have their own layers (conv.ts).
  if (h.spatial !== undefined || h.samples || (h.x === undefined && IMAGE_READERS.has(node.layerKind))) return featureMapLayer(ctx, node, steps, h);
  if (h.x === undefined && (node.layerKind === 'Linear' || node.layerKind === 'SandwichLinear')) h = { x: features(ctx, inputWidth(node)!), width: inputWidth(node)! };
  if (h.x === undefined && node.layerKind !== 'Embedding') throw new ExportError(`${where}: the exported graph reads token ids, so the first layer must be an Embedding or a Linear (found ${node.layerKind})`);
  const input = inputWidth(node);
  if (h.x !== undefined && input !== undefined && input !== h.width) {
    throw new ExportError(`${where}: ${node.layerKind} reads width ${input} but the layers before it produce ${h.width}; the exporter runs a block's members in sequence (docs/probes.md, "Data flow") and cannot wire this model`);
  }
  // ParScale's prefixes are built for Attention only (parallel-streams.ts); another causal
  // self-attention kind would miss its prefix stores.
  const a = node.cost.attention;
  if (a && a.causal && !a.cross && node.layerKind !== 'Attention' && prefixTokens(ctx) > 0) throw new ExportError(`${where}: parallel streams' prefixes on ${node.layerKind} are not supported by the ONNX exporter (Attention only)`);
  // Hogwild! workers' decode step shares each sequence's cache among its workers in Attention's
  // standard decode; another cache or a recurrent state would be per worker, not the engine's one.
  if (ctx.decode && cacheSharers(ctx) > 1 && ((a && a.causal && !a.cross && node.layerKind !== 'Attention') || node.cost.recurrentState !== undefined)) throw new ExportError(`${where}: a decode step of Hogwild! workers (\`parallel workers\`) over ${node.layerKind} is not supported by the ONNX exporter (Attention only)`);
  // A shared prompt's continuations are kept apart by Attention's mask (shared-prefix.ts); any
  // other layer mixing tokens (another attention kind, a bidirectional or cross one, a recurrent
  // scan) would let one continuation read another's tokens.
  if (ctx.sharedPrefix && ((a && (node.layerKind !== 'Attention' || a.cross || !a.causal)) || node.cost.recurrentState !== undefined)) {
    throw new ExportError(`${where}: a prompt shared by continuations (--shared-prefix) is exported over causal self-Attention only; ${node.layerKind}${a?.cross ? ' (cross)' : a && !a.causal ? ' (bidirectional)' : ''} would mix the continuations`);
  }
  switch (node.layerKind) {
    case 'Embedding': {
      const w = node.cost.weights[0]!;
      const [rows, width] = w.shape as [number, number];
      const table = storeFor(ctx, node, steps, w);
      if (table.shape[1] !== width) throw new ExportError(`${where}: an embedding tied to a transposed table is not supported`);
      const ids = h.x === undefined ? ctx.ids : g.op('Mod', [ctx.ids, g.ints([rows], true)], undefined, { hint: 'ids' });
      const e = reshape(ctx, g.op('Gather', [table.name, ids], { axis: attr.int(0) }, { hint: 'emb' }), [-1, width]);
      return { x: h.x === undefined ? e : g.op('Add', [h.x, e]), width };
    }
    case 'PositionEmbedding': {
      const w = node.cost.weights[0]!;
      const width = w.shape[1]!;
      const table = storeFor(ctx, node, steps, w);
      const pe = g.op('Gather', [table.name, positions(ctx)], { axis: attr.int(0) }, { hint: 'pos_emb' });
      const sum = g.op('Add', [toBatchSeq(ctx, h.x!, [width]), pe]);
      return { x: reshape(ctx, sum, [-1, width]), width };
    }
    case 'Linear': {
      const p = projection(ctx, node, steps, h.x!, 'weight', 'bias');
      return { x: p.y, width: p.width };
    }
    case 'SandwichLinear': {
      const s = sandwichLinear(ctx, node, steps, h.x!);
      return { x: s.y, width: s.width };
    }
    case 'LayerNorm':
    case 'RMSNorm':
      return { x: norm(ctx, node, steps, h.x!, h.width), width: h.width };
    case 'Attention': {
      const a = node.cost.attention?.cross ? crossAttention(ctx, node, steps, h.x!) : attention(ctx, node, steps, h.x!);
      return { x: a.y, width: a.width };
    }
    case 'MLA': {
      const a = mla(ctx, node, steps, h.x!);
      return { x: a.y, width: a.width };
    }
    case 'MoA': {
      const a = moa(ctx, node, steps, h.x!);
      return { x: a.y, width: a.width };
    }
    case 'MLP': {
      const up = projection(ctx, node, steps, h.x!, 'up', 'up_bias');
      const act = activation(ctx, up.y, textArg(node, 'act', 'gelu'));
      const down = projection(ctx, node, steps, act, 'down', 'down_bias');
      return { x: down.y, width: down.width };
    }
    case 'GatedMLP': {
      const gate = projection(ctx, node, steps, h.x!, 'gate', 'gate_bias');
      const up = projection(ctx, node, steps, h.x!, 'up', 'up_bias');
      const prod = g.op('Mul', [activation(ctx, gate.y, textArg(node, 'act', 'silu')), up.y], undefined, { hint: 'glu' });
      const down = projection(ctx, node, steps, prod, 'down', 'down_bias');
      return { x: down.y, width: down.width };
    }
    case 'MoE':
      return { x: moe(ctx, node, steps, h.x!), width: h.width };
    case 'Mamba': {
      const m = mamba(ctx, node, steps, h.x!);
      return { x: m.y, width: m.width };
    }
    case 'Mamba2': {
      const m = mamba2(ctx, node, steps, h.x!);
      return { x: m.y, width: m.width };
    }
    case 'GatedDeltaNet': {
      const m = gatedDeltaNet(ctx, node, steps, h.x!);
      return { x: m.y, width: m.width };
    }
    case 'AltUpProjections':
      return altupProjections(ctx, node, steps, h);
    case 'PerLayerEmbedding':
      return perLayerEmbedding(ctx, node, steps, h);
    case 'Laurel':
      return { x: laurel(ctx, node, steps, h.x!), width: h.width };
    case 'MomentProbe':
      return momentProbe(ctx, node, steps, h);
    case 'AltUp':
    case 'PerLayerInput':
      // They act on the AltUp copies and the per-layer inputs of Gemma 3n's decoder layer (altup.ts).
      throw new ExportError(`${where}: ${node.layerKind} exports only inside a block laid out as Gemma 3n's decoder layer (AltUp first, PerLayerInput last; docs/layers.md, "AltUp")`);
    case 'Activation':
      if (textArg(node, 'kind', 'relu') === 'glu') return glu(ctx, h, where);
      return { x: activation(ctx, h.x!, textArg(node, 'kind', 'relu')), width: h.width };
    case 'RelativePositionBias':
      return relativePositionLayer(ctx, node, steps, h);
    case 'Dropout':
    case 'Identity':
      return h;
    case 'BatchNorm':
      return batchNorm(ctx, node, steps, h);
    case 'Conv1d':
    case 'Conv2d':
    case 'SandwichConv2d':
    case 'Pool':
    case 'GlobalPool':
    case 'Flatten':
      // A Conv1d without `length` runs over the token sequence: causal, one output per token (token-conv.ts).
      if (node.layerKind === 'Conv1d' && node.cost.conv === undefined) return tokenConv1d(ctx, node, steps, h);
      throw new ExportError(`${where}: ${node.layerKind} on a token stream is not supported by the ONNX exporter (convolutions and pooling run on a feature map, made from the ids when the model begins with a convolution)`);
    default:
      throw new ExportError(`${where}: layer kind ${node.layerKind} is not supported by the ONNX exporter yet (supported: ${SUPPORTED_LAYERS.join(', ')})`);
  }
}
export type { EmitContext, Hidden } from './context.js';
