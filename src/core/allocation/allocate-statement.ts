// The `allocate params: N, groups: G, generate: M` statement: reads the request, runs the
// allocator on the variant's own weights and returns the plan as fixed SSN bank declarations,
// so the variant is analysed like any other sharing and reports exactly N stored parameters.

import type { ModelMember } from '../model/module-tree.js';
import type { Modifier } from '../sharing/declarations.js';
import * as Q from '../numbers/rational.js';
import { evaluate, type EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import type { Expression, Statement } from '../syntax/syntax-tree.js';
import { allocate } from './allocate.js';
import { layerItems } from './layer-items.js';
import { planDeclarations, type BankDeclaration } from './plan-declarations.js';
import { parseGrouping, parseMethod } from './request-spec.js';

const LANGUAGE_GROUPINGS = 'auto | all | shape | role | depth(K) | cluster(K)';
import type { AllocationRequest } from './types.js';

/**
 * The bank declarations of the plan, or undefined after reporting an `npas-allocate` error.
 * `modifiers`: those resolved before the request (the model's `tied` bindings), which say which
 * weights are not stored on their own.
 */
export function resolveAllocation(s: Statement, scope: Scope, members: readonly ModelMember[], modifiers: readonly Modifier[], model: string, ctx: EvalContext): BankDeclaration[] | undefined {
  let target: number | undefined;
  let groupsText = 'auto';
  let methodText = 'wavg';
  for (const a of s.args) {
    const name = a.name?.text;
    if (name === 'params') {
      const v = evaluate(a.value, scope, ctx);
      if (v.kind === 'error') return undefined;
      if (v.kind !== 'number' || v.unit !== 'count' || !Q.isInteger(v.value) || v.value.num <= 0n || v.value.num > BigInt(Number.MAX_SAFE_INTEGER)) {
        ctx.sink.error('npas-allocate', 'allocate: params must be a positive whole number of parameters', a.value.range);
        return undefined;
      }
      target = Number(v.value.num);
    } else if (name === 'groups') {
      groupsText = callText(a.value);
    } else if (name === 'generate') {
      methodText = callText(a.value);
    } else {
      ctx.sink.error('npas-allocate', `allocate takes params: N, groups: ${LANGUAGE_GROUPINGS} and generate: wavg | wavg(K) | repeat | hash${name ? `, not '${name}'` : '; name each argument'}`, a.range);
      return undefined;
    }
  }
  if (target === undefined) {
    ctx.sink.error('npas-allocate', 'allocate needs params: N (the stored parameters of the plan)', s.keywordRange);
    return undefined;
  }
  if (groupsText.startsWith('checkpoint')) {
    ctx.sink.error('npas-allocate', 'checkpoint grouping reads a file, which the engine does not: run `npas allocate FILE --groups checkpoint:PATH --emit` and paste the variant', argRange(s, 'groups'));
    return undefined;
  }
  const grouping = parseGrouping(groupsText);
  if (typeof grouping === 'string' || grouping.kind === 'checkpoint') {
    ctx.sink.error('npas-allocate', `unknown grouping '${groupsText}' (use ${LANGUAGE_GROUPINGS})`, argRange(s, 'groups'));
    return undefined;
  }
  const method = parseMethod(methodText);
  if (typeof method === 'string') {
    ctx.sink.error('npas-allocate', method, argRange(s, 'generate'));
    return undefined;
  }
  const input = layerItems(model, members, modifiers);
  if (typeof input === 'string') {
    ctx.sink.error('npas-allocate', input, s.range);
    return undefined;
  }
  const request: AllocationRequest = { target, grouping, method: method.method, maxTemplates: method.maxTemplates };
  const result = allocate(input, request);
  if (!result.ok) {
    ctx.sink.error('npas-allocate', result.message, s.range);
    return undefined;
  }
  return planDeclarations(result.plan);
}

/** `depth(4)` or `depth` as written, normalised for parseGrouping/parseMethod. */
function callText(e: Expression): string {
  if (e.kind === 'Name') return e.name.text;
  if (e.kind === 'Call' && e.callee.kind === 'Name') {
    const arg = e.args[0]?.value;
    const inner = arg && arg.kind === 'Number' && arg.suffix === '' ? arg.digits.replace(/_/g, '') : '?';
    return `${e.callee.name.text}(${inner})`;
  }
  return '?';
}

function argRange(s: Statement, name: string): { start: number; end: number } {
  return s.args.find((a) => a.name?.text === name)?.value.range ?? s.range;
}
