// RMoE's layer-wise recurrent router (Qiu et al., ICLR 2025; qiuzh20/RMoE) in the ONNX export.
// A block declares its `RecurrentRouter(p)` cell beside `MoE(…, router_rnn: p)`; the cell is no
// step of the hidden stream (the data flow records it and wires the block without it), and each
// such MoE scores its experts from the router state that runs across the layers of one token:
//   u = x·router_inᵀ                                       [T, p]
//   GRU (torch nn.GRUCell's gates r, z, n, stacked in `input` [3p, p] and `state` [3p, p]):
//     r = σ(u·W_irᵀ + b_ir + h·W_hrᵀ + b_hr), z = σ(… z …),
//     n = tanh(u·W_inᵀ + b_in + r∘(h·W_hnᵀ + b_hn)),  h' = (1 − z)∘n + z∘h
//   RNN (`cell: rnn`): h' = tanh(u·W_inᵀ + b_in + h·W_hnᵀ + b_hn)
//   logits = h'·routerᵀ                                    [T, experts]
// h starts at zero before the first MoE layer (both matmuls still run, as the engine counts), and
// each MoE leaves h' for the next. With `share STACK.cell: all` every layer reads one cell store.

import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import type { GraphBuilder } from '../graph-builder.js';
import { textArg, weightNamed, type EmitContext } from './context.js';
import { projection } from './projection.js';

interface RouterState {
  /** The cell the next recurrent router applies: the last one a block declared. */
  cell?: { readonly node: LayerNode; readonly steps: readonly PathStep[] };
  /** h after the last MoE layer's router, [T, p]. */
  state?: string;
}

const states = new WeakMap<GraphBuilder, RouterState>();
function routerState(ctx: EmitContext): RouterState {
  let s = states.get(ctx.g);
  if (!s) states.set(ctx.g, (s = {}));
  return s;
}

/** Records a block's RecurrentRouter cell for the MoE layers after it (the data flow calls this). */
export function declareRouterCell(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[]): void {
  routerState(ctx).cell = { node, steps };
}

/** The router logits [T, experts] of an MoE with router_rnn, advancing the router state. */
export function recurrentRouterLogits(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): string {
  const g = ctx.g;
  const s = routerState(ctx);
  const where = pathText(steps);
  if (!s.cell) throw new ExportError(`${where}: router_rnn reads a RecurrentRouter cell, and none is declared before this layer in its block`);
  const p = weightNamed(node, 'router_in')!.shape[0]!;
  const cellDim = weightNamed(s.cell.node, 'state')!.shape[1]!;
  if (cellDim !== p) throw new ExportError(`${where}: router_rnn ${p} does not match the width ${cellDim} of the cell ${pathText(s.cell.steps)}`);
  const { node: cell, steps: cellSteps } = s.cell;
  const u = projection(ctx, node, steps, x, 'router_in', undefined).y; // [T, p]
  const h = s.state ?? g.op('Mul', [u, g.float(0)], undefined, { hint: 'router_h0' }); // zeros [T, p]
  const gi = projection(ctx, cell, cellSteps, u, 'input', 'input_bias').y; // [T, G·p]
  const gh = projection(ctx, cell, cellSteps, h, 'state', 'state_bias').y;
  const gate = (t: string, k: number) => g.op('Slice', [t, g.ints([k * p]), g.ints([(k + 1) * p]), g.ints([1])]);
  let next: string;
  if (textArg(cell, 'cell', 'gru') === 'gru') {
    const r = g.op('Sigmoid', [g.op('Add', [gate(gi, 0), gate(gh, 0)])], undefined, { hint: 'router_r' });
    const z = g.op('Sigmoid', [g.op('Add', [gate(gi, 1), gate(gh, 1)])], undefined, { hint: 'router_z' });
    const n = g.op('Tanh', [g.op('Add', [gate(gi, 2), g.op('Mul', [r, gate(gh, 2)])])], undefined, { hint: 'router_n' });
    next = g.op('Add', [g.op('Mul', [g.op('Sub', [g.float(1), z]), n]), g.op('Mul', [z, h])], undefined, { hint: 'router_h' });
  } else next = g.op('Tanh', [g.op('Add', [gi, gh])], undefined, { hint: 'router_h' });
  s.state = next;
  return projection(ctx, node, steps, next, 'router', weightNamed(node, 'router_bias') ? 'router_bias' : undefined).y;
}
