// Builds stack nodes as run-length encoded sequences of hash-consed instances. Nested stacks
// are flattened so instance indices (used by sharing strategies) count the real layer blocks,
// and adjacent identical instances merge into one run: `Decoder * 10000` is a single run.

import type { TextRange } from '../syntax/syntax-tree.js';
import type { ModuleNode, StackNode, StackRun } from '../model/module-tree.js';
import type { EvalContext } from './evaluator.js';

/** Most runs a single stack may hold (index-dependent stacks have up to one per instance). */
const MAX_RUNS = 2_000_000;

function pushRun(runs: StackRun[], node: ModuleNode, count: bigint): void {
  const last = runs[runs.length - 1];
  if (last && last.node.id === node.id) runs[runs.length - 1] = { node: last.node, count: last.count + count };
  else runs.push({ node, count });
}

/**
 * Callers charge a step per run (the identity string lists every run) before building. Run
 * counts and the length are bigints, exact at any size: a plain stack walks in closed form per
 * run, and the declarations that address instances by index check their stack's length
 * (`sharing/indexable-stack.ts`).
 */
function makeStack(runs: StackRun[], range: TextRange, ctx: EvalContext): StackNode {
  let length = 0n;
  for (const r of runs) length += r.count;
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
    else pushRun(runs, n, 1n);
  }
  return makeStack(runs, range, ctx);
}

/** `a + b + …`: the same as a stack of the operands. */
export function concatStacks(nodes: readonly ModuleNode[], range: TextRange, ctx: EvalContext): StackNode | undefined {
  return stackOf(nodes, range, ctx);
}

/** `m * times` (times ≥ 1); a multi-run stack is repeated run by run. Undefined when too large (reported). */
export function repeatModule(m: ModuleNode, times: bigint, range: TextRange, ctx: EvalContext): StackNode | undefined {
  if (m.kind !== 'stack') return makeStack([{ node: m, count: times }], range, ctx);
  if (m.runs.length === 1) {
    const only = m.runs[0]!;
    return makeStack([{ node: only.node, count: only.count * times }], range, ctx);
  }
  // Each repetition lists every run again: checked as bigints, so a huge `times` cannot wrap.
  if (BigInt(m.runs.length) * times > BigInt(MAX_RUNS)) {
    ctx.sink.error('npas-eval-too-large', `repeating a stack of ${m.runs.length} different modules ${times} times is too large to analyse`, range);
    return undefined;
  }
  const repeats = Number(times);
  if (!ctx.spend(m.runs.length * repeats, range)) return undefined;
  const runs: StackRun[] = [];
  for (let t = 0; t < repeats; t++) for (const r of m.runs) pushRun(runs, r.node, r.count);
  return makeStack(runs, range, ctx);
}
