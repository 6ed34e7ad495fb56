// Builds stack nodes as run-length encoded sequences of hash-consed instances. Nested stacks
// are flattened so instance indices (used by sharing strategies) count the real layer blocks,
// and adjacent identical instances merge into one run: `Decoder * 10000` is a single run.

import type { TextRange } from '../syntax/syntax-tree.js';
import type { ModuleNode, StackNode, StackRun } from '../model/module-tree.js';
import type { EvalContext } from './evaluator.js';
import { groupDigits } from '../text/number-format.js';

/** Most runs a single stack may hold (index-dependent stacks have up to one per instance). */
const MAX_RUNS = 2_000_000;

function pushRun(runs: StackRun[], node: ModuleNode, count: number): void {
  const last = runs[runs.length - 1];
  if (last && last.node.id === node.id) runs[runs.length - 1] = { node: last.node, count: last.count + count };
  else runs.push({ node, count });
}

/**
 * Callers charge a step per run (the identity string lists every run) before building. A stack
 * longer than 2⁵³ − 1 instances is refused: instance counts and indices stay exact integers.
 */
function makeStack(runs: StackRun[], range: TextRange, ctx: EvalContext): StackNode | undefined {
  let length = 0;
  for (const r of runs) length += r.count;
  if (!Number.isSafeInteger(length)) {
    ctx.sink.error('npas-eval-too-large', `this stack would hold more than ${groupDigits(Number.MAX_SAFE_INTEGER)} instances, too many to count exactly`, range);
    return undefined;
  }
  const idParts: string[] = [];
  const sigParts: string[] = [];
  for (const r of runs) {
    idParts.push(`${r.node.id}x${r.count}`);
    sigParts.push(`${r.node.weightSignature}x${r.count}`);
  }
  return {
    kind: 'stack',
    id: ctx.interner.intern(`S[${idParts.join(',')}]`),
    weightSignature: ctx.interner.intern(`SW[${sigParts.join(',')}]`),
    range,
    runs,
    length,
  };
}

/** A stack of the given instances in order (nested stacks flattened); undefined when over the work budget (reported). */
export function stackOf(nodes: readonly ModuleNode[], range: TextRange, ctx: EvalContext): StackNode | undefined {
  let flattened = 0;
  for (const n of nodes) flattened += n.kind === 'stack' ? n.runs.length : 1;
  if (!ctx.spend(flattened, range)) return undefined;
  const runs: StackRun[] = [];
  for (const n of nodes) {
    if (n.kind === 'stack') for (const r of n.runs) pushRun(runs, r.node, r.count);
    else pushRun(runs, n, 1);
  }
  return makeStack(runs, range, ctx);
}

/** `a + b + …`: the same as a stack of the operands. */
export function concatStacks(nodes: readonly ModuleNode[], range: TextRange, ctx: EvalContext): StackNode | undefined {
  return stackOf(nodes, range, ctx);
}

/** `m * times`; a multi-run stack is repeated run by run. Undefined when too large (reported). */
export function repeatModule(m: ModuleNode, times: number, range: TextRange, ctx: EvalContext): StackNode | undefined {
  if (m.kind !== 'stack') return makeStack([{ node: m, count: times }], range, ctx);
  if (m.runs.length === 1) {
    const only = m.runs[0]!;
    return makeStack([{ node: only.node, count: only.count * times }], range, ctx);
  }
  if (m.runs.length * times > MAX_RUNS) {
    ctx.sink.error('npas-eval-too-large', `repeating a stack of ${m.runs.length} different modules ${times} times is too large to analyse`, range);
    return undefined;
  }
  if (!ctx.spend(m.runs.length * times, range)) return undefined;
  const runs: StackRun[] = [];
  for (let t = 0; t < times; t++) for (const r of m.runs) pushRun(runs, r.node, r.count);
  return makeStack(runs, range, ctx);
}
