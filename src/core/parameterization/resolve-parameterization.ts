// Reads a model's `param scheme(…)` statement into a Parameterization: the scheme, the target's
// width and depth (written, or inferred from the tree), the base model's, the base
// hyperparameters when given, and one rule per weight row. A bad argument is a located
// `npas-param` error and the model simply has no parameterisation; counts never change.

import type { NodeReport } from '../analysis/report-types.js';
import * as Q from '../numbers/rational.js';
import type { EvalContext } from '../semantics/evaluator.js';
import type { ScopedStatement } from '../sharing/resolve-statements.js';
import { asStatementCall, readStatementArgs, type StatementArgSpec } from '../sharing/statement-args.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import { SCHEMES, findScheme, type ClassRule, type Exponent, type Scaling, type Scheme, type SchemeName } from './schemes.js';
import { weightRows, type WeightRow } from './weight-rows.js';

export interface Parameterization {
  readonly scheme: SchemeName;
  /** CompleteP's depth exponent α (undefined for schemes without one). */
  readonly alpha: Exponent | undefined;
  readonly width: Q.Rational;
  readonly baseWidth: Q.Rational;
  readonly depth: Q.Rational;
  readonly baseDepth: Q.Rational;
  /** Whether width and depth were written or inferred (for the hover's explanation). */
  readonly inferred: { readonly width: boolean; readonly depth: boolean };
  /** The tuned base model's hyperparameters, when the statement gives them. */
  readonly base: { readonly lr?: Q.Rational; readonly initStd?: Q.Rational; readonly weightDecay?: Q.Rational };
  readonly residual: Scaling;
  readonly rows: readonly ParameterizedWeight[];
  /** The statement's range. */
  readonly range: TextRange;
}

export interface ParameterizedWeight extends WeightRow {
  readonly rule: ClassRule;
}

/** The arguments every scheme takes (`alpha` only where the scheme has one). */
export const PARAM_ARGS: readonly (StatementArgSpec & { readonly doc: string })[] = [
  { name: 'base_width', type: 'ratio', required: false, doc: 'Width of the tuned base model (default: the target\'s width, no width transfer).' },
  { name: 'base_depth', type: 'ratio', required: false, doc: 'Residual blocks of the tuned base model (default: the target\'s depth, no depth transfer).' },
  { name: 'width', type: 'ratio', required: false, doc: 'The target\'s width (default: the first embedding table\'s width, else the first matrix\'s input width).' },
  { name: 'depth', type: 'ratio', required: false, doc: 'The target\'s residual blocks (default: the instances of the top-level stacks).' },
  { name: 'lr', type: 'ratio', required: false, doc: 'The base model\'s tuned Adam learning rate: each weight\'s rate in the target is shown.' },
  { name: 'init_std', type: 'ratio', required: false, doc: 'The base model\'s initialisation std (u_mup: 1).' },
  { name: 'weight_decay', type: 'ratio', required: false, doc: 'The base model\'s AdamW weight decay.' },
  { name: 'alpha', type: 'ratio', required: false, doc: 'completep only: the depth exponent α in [1/2, 1] (default 1; 1/2 is depth-μP).' },
];

/**
 * The last `param` statement of the model's chain (a variant's replaces its base's), resolved.
 * `declaration` is the range of the model or variant itself: two statements inside it are an
 * error (a base's duplicates are reported when the base compiles).
 */
export function resolveParameterization(statements: readonly ScopedStatement[], tree: NodeReport, declaration: TextRange, ctx: EvalContext): Parameterization | undefined {
  const params = statements.filter((s) => s.statement.keyword === 'param');
  const last = params[params.length - 1];
  if (!last) return undefined;
  const own = params.filter((p) => p.statement.range.start >= declaration.start && p.statement.range.end <= declaration.end);
  for (const p of own.slice(0, -1)) {
    ctx.sink.error('npas-param', 'one `param` statement per model or variant (a variant\'s replaces its base\'s)', p.statement.keywordRange);
  }
  const s = last.statement;
  const call = s.value ? asStatementCall(s.value) : undefined;
  const scheme = call ? findScheme(call.name) : undefined;
  if (!call || !scheme) {
    const names = SCHEMES.map((x) => x.name).join(', ');
    ctx.sink.error('npas-param', `a parameterisation is one of ${names}, e.g. \`param mup(base_width: 256)\``, s.value?.range ?? s.keywordRange);
    return undefined;
  }
  const specs = scheme.alpha ? PARAM_ARGS : PARAM_ARGS.filter((a) => a.name !== 'alpha');
  const args = readStatementArgs(call, specs, 'npas-param', last.scope, ctx);
  if (!args) return undefined;
  const ratio = (name: string): Q.Rational | undefined => args.get(name) as Q.Rational | undefined;
  const alpha = readAlpha(scheme, ratio('alpha'), call.argsRange, ctx);
  if (scheme.alpha && !alpha) return undefined;
  const width = ratio('width') ?? inferWidth(tree);
  if (!width) {
    ctx.sink.error('npas-param', `${scheme.name}(): the model has no embedding or matrix to read its width from; give 'width'`, call.argsRange);
    return undefined;
  }
  const depth = ratio('depth') ?? inferDepth(tree);
  const rules = scheme.rules(alpha ?? { num: 0, den: 1 });
  const residual = scheme.residual(alpha ?? { num: 0, den: 1 });
  const lr = ratio('lr');
  const initStd = ratio('init_std');
  const weightDecay = ratio('weight_decay');
  return {
    scheme: scheme.name,
    alpha,
    width,
    baseWidth: ratio('base_width') ?? width,
    depth,
    baseDepth: ratio('base_depth') ?? depth,
    inferred: { width: !args.has('width'), depth: !args.has('depth') },
    base: { ...(lr ? { lr } : {}), ...(initStd ? { initStd } : {}), ...(weightDecay ? { weightDecay } : {}) },
    residual,
    rows: weightRows(tree).map((row) => ({ ...row, rule: rules[row.weightClass] })),
    range: s.range,
  };
}

/** α must lie in [1/2, 1] (Dey et al. study that range; 1/2 is depth-μP, 1 CompleteP). */
function readAlpha(scheme: Scheme, given: Q.Rational | undefined, at: TextRange, ctx: EvalContext): Exponent | undefined {
  if (!scheme.alpha) return undefined;
  if (!given) return scheme.alpha;
  if (Q.compare(given, Q.rational(1n, 2n)) < 0 || Q.compare(given, Q.ONE) > 0 || given.den > 1_000_000n) {
    ctx.sink.error('npas-param', `${scheme.name}(): 'alpha' must lie in [1/2, 1] (1/2 is depth-μP, 1 CompleteP), got ${Q.toDecimalString(given)}`, at);
    return undefined;
  }
  return { num: Number(given.num), den: Number(given.den) };
}

/** The residual stream's width: the first embedding table's columns, else the first matrix's input width. */
function inferWidth(tree: NodeReport): Q.Rational | undefined {
  const weights: { role: string; shape: readonly number[] }[] = [];
  const collect = (n: NodeReport): void => {
    if (n.weight) weights.push(n.weight);
    n.children.forEach(collect);
  };
  collect(tree);
  const embedding = weights.find((w) => w.role === 'embedding' && w.shape.length === 2);
  if (embedding) return Q.fromInt(embedding.shape[1]!);
  const matrix = weights.find((w) => (w.role === 'matmul' || w.role === 'conv') && w.shape.length >= 2);
  return matrix ? Q.fromInt(matrix.shape[1]!) : undefined;
}

/** Residual blocks: the instances of the top-level stacks (1 for a model without stacks). */
function inferDepth(tree: NodeReport): Q.Rational {
  const blocks = tree.children.reduce((sum, m) => sum + (m.kind === 'stack' ? m.count : 0n), 0n);
  return Q.fromBigInt(blocks > 1n ? blocks : 1n);
}
