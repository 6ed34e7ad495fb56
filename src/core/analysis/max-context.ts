// A model's declared maximum context: `max_context 131072` says the longest sequence the model
// is made for (a rotary model has no table whose size says it, as a learned position table
// does; Hugging Face configs state it as max_position_embeddings). The numbers at a longer
// analysis sequence are still computed; the compilation warns that the model was not made to
// run there. A variant's statement replaces its base's; two in one declaration are an error.

import { evaluate, toSmallInteger, type EvalContext } from '../semantics/evaluator.js';
import type { ScopedStatement } from '../sharing/resolve-statements.js';
import type { TextRange } from '../syntax/syntax-tree.js';

/** The longest context a statement may declare: the analysis's own bound on `seq`. */
export const MAX_DECLARED_CONTEXT = 1 << 30;

/** The model's `max_context` in tokens, or undefined without one (or after a located error). */
export function readMaxContext(statements: readonly ScopedStatement[], declaration: TextRange, ctx: EvalContext): number | undefined {
  const all = statements.filter((s) => s.statement.keyword === 'max_context');
  const last = all[all.length - 1];
  if (!last) return undefined;
  const fail = (message: string, range: TextRange): undefined => {
    // A variant repeats its base's statements; the compilation drops the repeated diagnostic.
    ctx.sink.error('npas-max-context', message, range);
    return undefined;
  };
  const own = all.filter((p) => p.statement.range.start >= declaration.start && p.statement.range.end <= declaration.end);
  for (const p of own.slice(0, -1)) fail('one `max_context` statement per model or variant (a variant\'s replaces its base\'s)', p.statement.keywordRange);
  const s = last.statement;
  if (!s.value) return fail('`max_context` needs a number of tokens: `max_context 4Ki`', s.keywordRange);
  const n = toSmallInteger(evaluate(s.value, last.scope, ctx), s.value.range, ctx, 'max_context');
  if (n === undefined) return undefined;
  if (n < 1 || n > MAX_DECLARED_CONTEXT) return fail(`max_context must lie in 1..${MAX_DECLARED_CONTEXT} tokens, got ${n}`, s.value.range);
  return n;
}
