// Residual adds, and their fusion with the norm that reads the sum (fused ops only).
//
// In a pre-norm stack the sum x' = x + f(norm(x)) is read by the next norm (often in the next
// block, or the model's final norm) and by the next residual add; in a post-norm stack it is
// read by the norm right after it. ORT's SkipLayerNormalization / SkipSimplifiedLayerNormalization
// compute norm(x + skip) and also output the sum, so the Add and the norm become one kernel.
// The data flow emits the Add when it wires the branch, before knowing who reads the sum; the
// Add is recorded here, and a norm that reads exactly that sum replaces the Add node *in place*
// by the skip op, whose 4th output keeps the sum's name. Nodes are in topological order
// throughout: the skip op's inputs (the Add's two inputs and the norm's weight initializers) all
// exist at the Add's position, and every reader of the sum still finds it there.

import type { NodeSpec } from '../onnx-writer.js';
import type { EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

/** Residual Adds not yet fused, by the name of their sum, per graph. */
const pending = new WeakMap<object, Map<string, NodeSpec>>();

/** x + f as an Add (standard ops: exactly that; fused ops: recorded for a later skip norm). */
export function residualAdd(ctx: EmitContext, x: string, f: string): string {
  const sum = ctx.g.op('Add', [x, f], undefined, { hint: 'res' });
  if (ctx.ops === 'fused') {
    let m = pending.get(ctx.g);
    if (!m) pending.set(ctx.g, (m = new Map()));
    m.set(sum, ctx.g.nodes[ctx.g.nodes.length - 1]!);
  }
  return sum;
}

/**
 * Replaces the residual Add producing `sum` by `op` (a skip norm) reading the Add's inputs and
 * `params` (weight initializers only: they exist anywhere in the node order), and returns the
 * norm's output; undefined when `sum` is not an unfused residual Add of this graph.
 */
export function fuseIntoSkip(ctx: EmitContext, sum: string, op: 'SkipLayerNormalization' | 'SkipSimplifiedLayerNormalization', params: readonly string[], epsilon: number): string | undefined {
  const m = pending.get(ctx.g);
  const add = m?.get(sum);
  if (!m || !add) return undefined;
  const at = ctx.g.nodes.indexOf(add);
  if (at < 0) return undefined;
  m.delete(sum);
  const normed = ctx.g.fresh(op === 'SkipLayerNormalization' ? 'skip_ln' : 'skip_rms');
  // Outputs: the norm, mean and inverse std (unused, left unnamed), and the sum x + skip.
  ctx.g.nodes[at] = {
    op,
    domain: 'com.microsoft',
    inputs: [add.inputs[0]!, add.inputs[1]!, ...params],
    outputs: [normed, '', '', sum],
    name: ctx.g.fresh(`n_${op}`),
    attributes: { epsilon: attr.float(epsilon) },
  };
  return normed;
}
