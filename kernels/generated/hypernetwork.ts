// HyperFormer++'s adapters (`adapt PATHS: hyper(…)`, Karimi Mahabadi et al. 2021): one generator
// per statement builds, for task 0, each target's adapter from the concatenated task, layer and
// block embeddings, exactly the stores the engine counts (src/core/analysis/layer-totals.ts,
// hyperCost) and the computation of rabeehk/hyperformer (adapters/adapter_modeling.py,
// AdapterLayersOneHyperNetController; adapter_controller.py, MetaLayersAdapterController):
//   e   = [task[0] ‖ layers[l] ‖ blocks[b]]                               [3t]
//   z   = LayerNorm_ε=1e-6( W2·ReLU(W1·e + b1) + b2 )                     [p]  (TaskHyperNet + its norm)
//   W_d = view(G_dw·z + g_dw, [r, d]), b_d = G_db·z + g_db                (the down sampler's generator)
//   W_u = view(G_uw·z + g_uw, [d, r]), b_u = G_ub·z + g_ub                (the up sampler's)
//   γ, β = G_γ·z + g_γ, G_β·z + g_β                                       (norm: true, the post-adapter LayerNorm's)
//   y  += LayerNorm_ε=1e-5,γ,β( W_u·gelu_new(W_d·y + b_d) + b_u )        on the target's output y [T, d]
// (HyperFormer++'s config: non_linearity gelu_new, the tanh GELU.) Stores: the task table
// `hyper:tasks:<t>` [T, t], one per embedding width (the engine's global key: every statement of
// that width reads it), and `hyper@<statement>:generator.*` per statement; nothing per target.
//
// Which layer and block embedding a target reads: its layer l is the instance index of the stack
// its path fans out over (or names), 0 for a path to one instance; its block b numbers the
// statement's (path, weight) pairs in the order the graph meets them — for HyperFormer's
// `adapt encoder.attn.o, encoder.ff.down`, o is block 0 and down block 1 in every layer. The
// engine sizes the tables the same way (schemes/adapt.ts, hyperShape: L instances, K weights one
// instance adapts); an index past them is an internal error, not a silent wrap.
//
// The generator's subgraph reads only initializers, so ONNX Runtime folds it at session creation
// (generation 'materialised'); `--generation live` rebuilds every adapter on each forward, the
// per-step generation cost the engine counts (3t·h + h·p + 2·p·d·r + p·(r + d) + 2·p·d MACs).

import { pathText, type Modifier, type PathStep } from '../engine-bridge.js';
import type { GraphBuilder } from '../graph-builder.js';
import type { EmitContext } from '../layers/context.js';
import { activation } from '../layers/activation.js';
import { source, tally } from './state.js';
import { attr } from '../onnx-writer.js';

type Hyper = { readonly kind: 'hyper'; readonly bottleneck: number; readonly embedding: number; readonly hidden: number; readonly projected: number; readonly norm: boolean; readonly layers: number; readonly blocks: number };

/** The epsilons of HyperFormer's two norms: the generator's nn.LayerNorm(p, eps=1e-6), the adapter's F.layer_norm default. */
const GENERATOR_EPS = 1e-6;
const ADAPTER_EPS = 1e-5;

/** Per graph, per statement: the block index of each (modifier, weight path) met so far. */
const blockIndices = new WeakMap<GraphBuilder, Map<string, Map<string, number>>>();

/**
 * The target's layer index: the instance index at the last stack the modifier's pattern fans out
 * over (an index step the pattern passes with a name), else the first index below a pattern that
 * ends at a stack, else 0 — matched as the store resolver's modifiersFor matches a pattern.
 */
export function hyperLayerIndex(pattern: readonly PathStep[], steps: readonly PathStep[]): number {
  let pos = 0;
  let layer: number | undefined;
  for (const step of steps) {
    if (pos >= pattern.length) {
      if (step.kind === 'index') return layer ?? step.index;
      continue;
    }
    const want = pattern[pos]!;
    if (step.kind === 'index') {
      if (want.kind === 'index') pos++;
      else layer = step.index; // a fan-out over this stack
    } else pos++;
  }
  return layer ?? 0;
}

/** The block index of weight `name` at `steps` under modifier `m`: (modifier, names on the path, weight), numbered as met. */
function blockIndex(g: GraphBuilder, statement: string, m: Modifier, modifiers: readonly Modifier[], steps: readonly PathStep[], name: string): number {
  let perGraph = blockIndices.get(g);
  if (!perGraph) blockIndices.set(g, (perGraph = new Map()));
  let seen = perGraph.get(statement);
  if (!seen) perGraph.set(statement, (seen = new Map()));
  const identity = `${modifiers.indexOf(m)}|${steps.map((s) => (s.kind === 'name' ? s.name : '*')).join('.')}|${name}`;
  let b = seen.get(identity);
  if (b === undefined) seen.set(identity, (b = seen.size));
  return b;
}

/**
 * y + the adapter HyperFormer's generator makes for task 0 at this target (its output y [T, d]).
 * `m` is the target's hyper modifier (one of `modifiers`, the model's).
 */
export function hyperAdapter(ctx: EmitContext, m: Modifier, modifiers: readonly Modifier[], steps: readonly PathStep[], name: string, y: string, d: number): string {
  if (m.effect.kind !== 'adapter' || m.effect.method.kind !== 'hyper') throw new Error('hyperAdapter: not a hyper modifier');
  const h: Hyper = m.effect.method;
  const g = ctx.g;
  const where = `${pathText(steps)}.${name}`;
  const statement = `hyper@${m.range.start}`;
  const layer = hyperLayerIndex(m.pattern, steps);
  const block = blockIndex(g, statement, m, modifiers, steps, name);
  if (layer >= h.layers || block >= h.blocks) throw new Error(`${where}: hyper layer ${layer} / block ${block} outside the generator's ${h.layers} layer and ${h.blocks} block embeddings`);
  const weights = generatedAdapter(ctx, statement, h, m.effect.tasks, layer, block, d);
  const T = { transB: attr.int(1) };
  const down = g.op('Gemm', [y, weights.downW, weights.downB], T, { hint: `${name}_hyper_down` }); // [T, r]
  const up = g.op('Gemm', [activation(ctx, down, 'gelu_tanh'), weights.upW, weights.upB], T, { hint: `${name}_hyper_up` }); // [T, d]
  const out = weights.gamma && weights.beta ? g.op('LayerNormalization', [up, weights.gamma, weights.beta], { axis: attr.int(-1), epsilon: attr.float(ADAPTER_EPS) }, { hint: `${name}_hyper_norm` }) : up;
  return g.op('Add', [y, out], undefined, { hint: `${name}_hyper` });
}

interface GeneratedAdapter {
  readonly downW: string; // [r, d]
  readonly downB: string; // [r]
  readonly upW: string; // [d, r]
  readonly upB: string; // [d]
  readonly gamma: string | undefined; // [d]
  readonly beta: string | undefined;
}

const generatedAdapters = new WeakMap<GraphBuilder, Map<string, GeneratedAdapter>>();

/** Task 0's adapter at (layer, block) from the statement's generator, built once per graph. */
function generatedAdapter(ctx: EmitContext, statement: string, h: Hyper, tasks: number, layer: number, block: number, d: number): GeneratedAdapter {
  const g = ctx.g;
  let perGraph = generatedAdapters.get(g);
  if (!perGraph) generatedAdapters.set(g, (perGraph = new Map()));
  const key = `${statement}:generated[${layer},${block}]`;
  const hit = perGraph.get(key);
  if (hit) return hit;
  const { bottleneck: r, embedding: t, hidden: hid, projected: p } = h;
  const gen = `${statement}:generator`;
  const row = (table: string, index: number, width: number) => g.op('Reshape', [g.op('Gather', [source(ctx, table), g.ints([index], true)], { axis: attr.int(0) }), g.ints([1, width])]);
  // The task table is the model's (one per width t, every statement of that width reads it).
  const taskTable = g.weight(`hyper:tasks:${t}`, [tasks, t], 1).name;
  const layers = g.weight(`${gen}.layers`, [h.layers, t], 1).name;
  const blocks = g.weight(`${gen}.blocks`, [h.blocks, t], 1).name;
  const e = g.op('Concat', [row(taskTable, 0, t), row(layers, layer, t), row(blocks, block, t)], { axis: attr.int(1) }, { hint: 'hyper_embeddings' }); // [1, 3t]
  const linear = (x: string, part: string, out: number, inWidth: number, scale: number, biasOffset = 0): string => {
    const w = g.weight(`${gen}.${part}.weight`, [out, inWidth], scale).name;
    const b = g.weight(`${gen}.${part}.bias`, [out], scale, biasOffset).name;
    return g.op('Gemm', [x, source(ctx, w), source(ctx, b)], { transB: attr.int(1) }, { hint: `hyper_${part}` }); // [1, out]
  };
  const hidden = g.op('Relu', [linear(e, 'task_mlp.0', hid, 3 * t, Math.sqrt(3 / (3 * t)))]);
  const projected = linear(hidden, 'task_mlp.2', p, hid, Math.sqrt(3 / hid));
  const lnW = g.weight(`${gen}.task_norm.weight`, [p], 0.1, 1).name;
  const lnB = g.weight(`${gen}.task_norm.bias`, [p], 0.1).name;
  const z = g.op('LayerNormalization', [projected, source(ctx, lnW), source(ctx, lnB)], { axis: attr.int(-1), epsilon: attr.float(GENERATOR_EPS) }, { hint: 'hyper_z' }); // [1, p]
  tally(ctx, BigInt(3 * t * hid + hid * p));
  // Generated weights of entries ~ 1/√(fan-in) of the adapter (z has unit variance per entry).
  const vec = (x: string, width: number) => g.op('Reshape', [x, g.ints([width])]);
  const downW = g.op('Reshape', [linear(z, 'down.weight_generator', r * d, p, Math.sqrt(3 / (p * d))), g.ints([r, d])], undefined, { hint: 'hyper_down_w' });
  const upW = g.op('Reshape', [linear(z, 'up.weight_generator', d * r, p, Math.sqrt(3 / (p * r))), g.ints([d, r])], undefined, { hint: 'hyper_up_w' });
  const downB = vec(linear(z, 'down.bias_generator', r, p, 0.1 / Math.sqrt(p)), r);
  const upB = vec(linear(z, 'up.bias_generator', d, p, 0.1 / Math.sqrt(p)), d);
  tally(ctx, BigInt(p * d * r));
  tally(ctx, BigInt(p * d * r));
  tally(ctx, BigInt(p * (r + d)));
  let gamma: string | undefined;
  let beta: string | undefined;
  if (h.norm) {
    gamma = vec(linear(z, 'norm.weight_generator', d, p, 0.1 / Math.sqrt(p), 1), d);
    beta = vec(linear(z, 'norm.bias_generator', d, p, 0.1 / Math.sqrt(p)), d);
    tally(ctx, BigInt(2 * p * d));
  }
  const made: GeneratedAdapter = { downW, downB, upW, upB, gamma, beta };
  perGraph.set(key, made);
  return made;
}
