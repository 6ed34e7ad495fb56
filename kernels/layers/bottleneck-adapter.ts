// A regular bottleneck adapter (`adapt PATHS: bottleneck_adapter(bottleneck: r, norm, post_norm,
// tasks: T)`) on a target's output y [T, d]: fairseq's BottleneckAdapter
// (facebookresearch/fairseq@1ecbb80, fairseq/modules/bottleneck_adapter_block.py), whose forward is
//   pre-norm:  y + fc2(ReLU(fc1(LayerNorm(y))))
//   post-norm: LayerNorm(y + fc2(ReLU(fc1(y))))            (normalize_before false)
// with fc1 Linear(d, r), fc2 Linear(r, d) and layer_norm nn.LayerNorm(d) (without `norm`, no norm
// at all). BottleneckAdapterBlock holds one per language and runs the one its batch names: with
// `tasks: T` every task's is stored ([T, …]) and the graph runs task 0's, as for per-task LoRA.
// Stores, exactly what the engine counts (src/core/analysis/layer-totals.ts, bottleneck_adapter):
// `<key>.fc1.weight` [r, d], `.fc1.bias` [r], `.fc2.weight` [d, r], `.fc2.bias` [d] and with `norm`
// `.layer_norm.weight|bias` [d], each with a leading [T] when per task.

import { taskZeroOwns, type Modifier } from '../engine-bridge.js';
import { attr } from '../onnx-writer.js';
import type { EmitContext } from './context.js';
import type { GraphBuilder } from '../graph-builder.js';
import { taskStore } from './task-rows.js';

const T = { transB: attr.int(1) };
const EPS = 1e-5;

/** y with the bottleneck adapter modifier `m` puts on its target (stores under `key`). */
export function bottleneckAdapter(ctx: EmitContext, m: Modifier, key: string, name: string, y: string, d: number): string {
  if (m.effect.kind !== 'adapter' || m.effect.method.kind !== 'bottleneck_adapter') throw new Error('bottleneckAdapter: not a bottleneck_adapter modifier');
  const g = ctx.g;
  const { bottleneck: r, norm, postNorm } = m.effect.method;
  // One store, or with tasks [tasks, …] and task 0's row taken.
  const effect = m.effect;
  const store = (part: string, shape: readonly number[], scale: number, offset = 0): string => taskStore(g, effect, `${key}.${part}`, shape, scale, `${name}_adapter_task0`, offset);
  const fc1w = store('fc1.weight', [r, d], Math.sqrt(3 / d));
  const fc1b = store('fc1.bias', [r], 0.1);
  const fc2w = store('fc2.weight', [d, r], 0.01);
  const fc2b = store('fc2.bias', [d], 0.01);
  const gamma = norm ? store('layer_norm.weight', [d], 0.1, 1) : undefined;
  const beta = norm ? store('layer_norm.bias', [d], 0.1) : undefined;
  // A task the per-task statement leaves out (`for_tasks`) keeps its stores and runs nothing here.
  if (!taskZeroOwns(effect)) return y;
  return adapterForward(g, y, { down: fc1w, downBias: fc1b, up: fc2w, upBias: fc2b, ...(gamma && beta ? { gamma, beta } : {}) }, postNorm, { sum: `${name}_adapter`, down: `${name}_adapter_fc1`, up: `${name}_adapter_fc2`, norm: `${name}_adapter_norm` });
}

/** The tensors of one adapter d → r → d: down [r, d] and up [d, r] with biases, and its LayerNorm's γ, β (none without). */
export interface AdapterTensors {
  readonly down: string;
  readonly downBias: string;
  readonly up: string;
  readonly upBias: string;
  readonly gamma?: string;
  readonly beta?: string;
}

/**
 * fairseq's adapter forward on y [T, d], stored (BottleneckAdapter) or generated (Hyper-Adapters'
 * HyperNetwork.forward): y + up(ReLU(down(LayerNorm(y)))) pre-norm, LayerNorm(y + up(ReLU(down(y))))
 * post-norm (normalize_before false); without γ and β no LayerNorm at all. `hints` name the nodes.
 */
export function adapterForward(g: GraphBuilder, y: string, w: AdapterTensors, postNorm: boolean, hints: { readonly sum: string; readonly down: string; readonly up: string; readonly norm: string }): string {
  const layerNorm = (v: string) => (w.gamma && w.beta ? g.op('LayerNormalization', [v, w.gamma, w.beta], { axis: attr.int(-1), epsilon: attr.float(EPS) }, { hint: hints.norm }) : v);
  const down = g.op('Relu', [g.op('Gemm', [postNorm ? y : layerNorm(y), w.down, w.downBias], T, { hint: hints.down })]);
  const sum = g.op('Add', [y, g.op('Gemm', [down, w.up, w.upBias], T, { hint: hints.up })], undefined, { hint: hints.sum });
  return postNorm ? layerNorm(sum) : sum;
}
