// Reads a subnet filter, `params.active <= 1B and latency.decode <= 5ms`: budget constraints
// joined by `and`, each parsed and its limit evaluated by the language itself (units, magnitudes
// and exact rationals as in a `budget` block), over the metrics a subnet is measured by.

import { DiagnosticSink } from '../diagnostics/diagnostic.js';
import { BUDGET_METRICS, evaluateLimit } from '../analysis/budgets.js';
import { EvalContext } from '../semantics/evaluator.js';
import { evaluateFile } from '../semantics/evaluate-model.js';
import { parse } from '../syntax/parser.js';
import { isSubnetMetric, SUBNET_METRICS, type SubnetConstraint } from './enumerate.js';

const HEADER = 'budget __where {\n';

/** The constraints, or the first problem in words. An empty filter keeps every subnet. */
export function parseSubnetFilter(where: string): { readonly constraints: readonly SubnetConstraint[] } | { readonly error: string } {
  const clauses = where
    .split(/\band\b/)
    .map((c) => c.trim())
    .filter((c) => c !== '');
  if (clauses.some((c) => c.includes('\n') || c.includes('}'))) return { error: 'a filter is one line of constraints joined by `and`' };
  if (clauses.length === 0) return { constraints: [] };
  const parsed = parse(`${HEADER}${clauses.join('\n')}\n}\n`);
  const syntax = parsed.diagnostics.find((d) => d.severity === 'error');
  if (syntax) return { error: `in the filter: ${syntax.message}` };
  const budget = parsed.file.items.find((i) => i.kind === 'Budget');
  if (!budget || budget.kind !== 'Budget' || budget.constraints.length !== clauses.length) return { error: 'a filter is constraints `metric op limit` joined by `and`' };
  const sink = new DiagnosticSink();
  const ctx = new EvalContext(sink);
  const scope = evaluateFile(parsed.file, ctx).fileScope;
  const out: SubnetConstraint[] = [];
  for (const c of budget.constraints) {
    const metric = c.metric.map((m) => m.text).join('.');
    if (!isSubnetMetric(metric)) return { error: `a subnet is filtered by ${SUBNET_METRICS.join(', ')}; not '${metric}'` };
    if (c.args.length > 0) return { error: `${metric} is measured at the command's settings (--seq, --batch, --dtype, --device); write it without arguments` };
    const limit = evaluateLimit(c, metric, BUDGET_METRICS.get(metric)!.unit, scope, ctx, sink);
    if (!limit) return { error: `in the filter: ${sink.items[0]?.message ?? `the limit of ${metric} is invalid`}` };
    out.push({ metric, op: c.operator, limit });
  }
  return { constraints: out };
}
