// Stacks count their instances as bigints (`(RMSNorm(1) * 999999999) * 999999999` holds
// 999,999,998,000,000,001), but the declarations that address instances one by one — a stack
// strategy (`share`, `share kv`, `share heads`, `route`, `adapt … per_layer`), its slot maps and
// the store resolver — index them with JS numbers. This is the one gate between the two: a
// stack such a declaration addresses must hold at most 2⁵³ − 1 instances, so every index it
// computes is an exact integer; a longer one is refused at the declaration.

import type { StackNode } from '../model/module-tree.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import type { EvalContext } from '../semantics/evaluator.js';
import { groupDigits } from '../text/number-format.js';

const MAX_INDEXABLE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether every instance index of the stack is a safe integer. */
export function isIndexable(stack: StackNode): boolean {
  return stack.length <= MAX_INDEXABLE;
}

/**
 * The stack's length as a number, or undefined after reporting `npas-eval-too-large` at `range`
 * (the declaration that would index it) when it holds more than 2⁵³ − 1 instances.
 */
export function indexableLength(stack: StackNode, range: TextRange, ctx: EvalContext): number | undefined {
  if (isIndexable(stack)) return Number(stack.length);
  ctx.sink.error(
    'npas-eval-too-large',
    `this declaration addresses the instances of a stack of ${groupDigits(stack.length)} one by one; it can index at most ${groupDigits(Number.MAX_SAFE_INTEGER)} of them (the stack itself is counted exactly)`,
    range,
  );
  return undefined;
}

