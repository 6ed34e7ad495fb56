// RMoE's layer-wise recurrent router as the evaluator sees it: a `RecurrentRouter(p)` cell and the
// `MoE(…, router_rnn: p)` layers after it among the same siblings (a block's members, or a model's
// top-level members). The cell advances the router state and each such MoE scores its experts
// from it (docs/layers.md, "RecurrentRouter"). Stored counts the cell once per store and each
// reader's router_in and router, so a reader with no cell before it would be counted without the
// GRU it needs, a cell of another width would be counted at a width no reader can use, and a cell
// no reader follows would be stored but never run: each is refused here, at the member, as the
// exporter refuses it (kernels/layers/recurrent-router.ts, kernels/data-flow.ts). Read from the
// layers' typed `routerState`, never from a kind's name.

import type { ModuleNode } from '../model/module-tree.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import type { EvalContext } from './evaluator.js';

/** A block's or a model's member, in declaration order. */
interface Sibling {
  readonly name: string;
  readonly node: ModuleNode;
  readonly range: TextRange;
}

/** Reports each member that breaks the cell-before-reader rule, in the members' order. */
export function checkRouterCells(members: readonly Sibling[], ctx: EvalContext): void {
  let cell: { readonly member: Sibling; readonly width: number } | undefined;
  const read = new Set<Sibling>();
  for (const m of members) {
    const state = m.node.kind === 'layer' ? m.node.cost.routerState : undefined;
    if (!state) continue;
    if (state.role === 'cell') {
      cell = { member: m, width: state.width };
      continue;
    }
    if (!cell) {
      ctx.sink.error('npas-router-cell', `'${m.name}' (router_rnn: ${state.width}) reads a recurrent router state, and no RecurrentRouter(${state.width}) cell is declared before it among its siblings`, m.range);
      continue;
    }
    read.add(cell.member);
    if (cell.width !== state.width) ctx.sink.error('npas-router-cell', `'${m.name}' (router_rnn: ${state.width}) reads the cell '${cell.member.name}' of width ${cell.width}: the widths must match`, m.range);
  }
  for (const m of members) {
    if (m.node.kind === 'layer' && m.node.cost.routerState?.role === 'cell' && !read.has(m)) {
      ctx.sink.error('npas-router-cell', `the RecurrentRouter cell '${m.name}' has no MoE(…, router_rnn: ${m.node.cost.routerState.width}) after it among its siblings to read it: it would be stored and never run`, m.range);
    }
  }
}
