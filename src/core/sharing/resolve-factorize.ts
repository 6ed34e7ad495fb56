// `factorize PATHS: fedpara(rank: R)` / `tensor_train(…)` / `mpo(…)`: the statement's arguments
// checked, and every matmul weight under its paths checked against the layout (modes that
// multiply to the weight's widths), with located diagnostics. The layouts and costs themselves
// live in factorization.ts.

import type { ModuleNode } from '../model/module-tree.js';
import type { EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import type { Expression, TextRange } from '../syntax/syntax-tree.js';
import * as Q from '../numbers/rational.js';
import { CENTRAL_SHARINGS, factorLayout, factorShape, type CentralSharing, type FactorLayout, type FactorMethod, type FactorTarget } from './factorization.js';
import type { ResolvedPath } from './resolve-path.js';
import type { SchemeArg } from './scheme.js';
import { asStatementCall, readStatementArgs } from './statement-args.js';

export const FACTORIZE_METHODS = ['fedpara', 'tensor_train', 'mpo'] as const;

/** FedPara's arguments: a rank, or the paper's γ. */
export const FEDPARA_ARGS: readonly SchemeArg[] = [
  { name: 'rank', type: 'int', required: false, min: 1, doc: 'Rank R of each of the two Hadamard factors: 2R·(d_out + d_in) stored (a kernel: 2(k²R² + R(O + I))), rank up to R².' },
  { name: 'ratio', type: 'ratio', required: false, doc: 'The paper\'s γ in (0, 1] instead of a rank: R = ⌈(1 − γ)·r_min + γ·r_max⌉ per weight.' },
];

/** The arguments of the TT/MPO methods. */
export const TRAIN_ARGS: readonly SchemeArg[] = [
  { name: 'rank', type: 'int', required: false, min: 1, doc: 'Every inner rank (bond dimension) r₁ … r_{d−1}.' },
  { name: 'ranks', type: 'int-list', required: false, doc: 'The d − 1 inner ranks, e.g. [4, 8, 4].' },
  { name: 'max_rank', type: 'int', required: false, min: 1, doc: 'A truncation number D instead of ranks: each weight\'s bond r_k = min(D, ∏_{l≤k} m_l·n_l, ∏_{l>k} m_l·n_l), its full-rank bond capped at D (the MPO papers\' truncation; a large D is the exact, untruncated decomposition).' },
  { name: 'cores', type: 'int', required: false, min: 2, doc: 'Number of cores d: each width is split into d balanced modes.' },
  { name: 'modes_out', type: 'int-list', required: false, doc: 'Row modes m₁ … m_d, multiplying to d_out.' },
  { name: 'modes_in', type: 'int-list', required: false, doc: 'Column modes n₁ … n_d, multiplying to d_in.' },
];

/** MPO's `central:`. */
export const CENTRAL_ARG: SchemeArg = { name: 'central', type: 'name', required: false, doc: 'Where the central tensor is stored once: layers (default, MPOBERT), experts (MPOE) or own.', values: CENTRAL_SHARINGS };

/** Reads the method call after `factorize PATHS:`; undefined (with a diagnostic) when malformed. */
export function readFactorMethod(value: Expression, scope: Scope, ctx: EvalContext): FactorMethod | undefined {
  const call = asStatementCall(value);
  if (!call || !(FACTORIZE_METHODS as readonly string[]).includes(call.name)) {
    ctx.sink.error('npas-factorize', 'a factorisation is `fedpara(rank: R)`, `tensor_train(rank: r, cores: d)` or `mpo(rank: r, cores: d)` (or with modes_out/modes_in lists)', value.range);
    return undefined;
  }
  if (call.name === 'fedpara') {
    const args = readStatementArgs(call, FEDPARA_ARGS, 'npas-factorize', scope, ctx);
    if (!args) return undefined;
    const rank = args.get('rank') as number | undefined;
    const ratio = args.get('ratio') as Q.Rational | undefined;
    if ((rank === undefined) === (ratio === undefined)) {
      ctx.sink.error('npas-factorize', "fedpara(): give 'rank' (every weight's R) or 'ratio' (the paper's γ in (0, 1]: R per weight between r_min and r_max), not both or neither", call.argsRange);
      return undefined;
    }
    if (ratio && Q.compare(ratio, Q.ONE) > 0) {
      ctx.sink.error('npas-factorize', `fedpara(): 'ratio' is γ in (0, 1], got ${Q.toDecimalString(ratio)}`, call.argsRange);
      return undefined;
    }
    return { kind: 'fedpara', rank, ratio };
  }
  const mpo = call.name === 'mpo';
  const centralArg = call.args.find((a) => a.name?.text === 'central');
  if (centralArg && !mpo) {
    ctx.sink.error('npas-factorize', "only mpo() has a central tensor to share ('central:')", centralArg.range);
    return undefined;
  }
  const args = readStatementArgs(call, mpo ? [...TRAIN_ARGS, CENTRAL_ARG] : TRAIN_ARGS, 'npas-factorize', scope, ctx);
  if (!args) return undefined;
  const central = (args.get('central') as CentralSharing | undefined) ?? (mpo ? 'layers' : 'own');
  const rank = args.get('rank') as number | undefined;
  const ranks = args.get('ranks') as readonly number[] | undefined;
  const coresArg = args.get('cores') as number | undefined;
  const modesOut = args.get('modes_out') as readonly number[] | undefined;
  const modesIn = args.get('modes_in') as readonly number[] | undefined;
  const fail = (message: string): undefined => {
    ctx.sink.error('npas-factorize', `${call.name}(): ${message}`, call.argsRange);
    return undefined;
  };
  if ((modesOut === undefined) !== (modesIn === undefined)) return fail('give both modes_out and modes_in, or neither (then cores: d balances each width into d modes)');
  const cores = modesOut?.length ?? coresArg;
  if (cores === undefined) return fail("needs 'cores' (the number of cores d) or the modes_out and modes_in lists");
  if (modesOut && modesIn) {
    if (modesOut.length !== modesIn.length) return fail(`modes_out has ${modesOut.length} modes and modes_in ${modesIn.length}; a core takes one of each`);
    if (modesOut.length < 2) return fail('a tensor train has at least 2 cores');
    if (coresArg !== undefined && coresArg !== modesOut.length) return fail(`cores: ${coresArg} but the modes lists have ${modesOut.length} entries`);
    if ([...modesOut, ...modesIn].some((m) => m < 1)) return fail('every mode must be at least 1');
  }
  const maxRank = args.get('max_rank') as number | undefined;
  if ([rank, ranks, maxRank].filter((x) => x !== undefined).length !== 1) return fail("give one of 'rank' (every inner rank), 'ranks' (the d − 1 inner ranks) or 'max_rank' (each weight's full-rank bonds capped at it)");
  if (ranks && ranks.length !== cores - 1) return fail(`ranks lists ${ranks.length} inner ranks; ${cores} cores have ${cores - 1}`);
  if (ranks && ranks.some((r) => r < 1)) return fail('every rank must be at least 1');
  return {
    kind: mpo ? 'mpo' : 'tensor_train',
    cores,
    modesOut,
    modesIn,
    ranks: ranks ?? (rank !== undefined ? new Array<number>(cores - 1).fill(rank) : undefined),
    maxRank,
    central,
  };
}

/**
 * The weights a `factorize` target covers, checked: at least one matmul weight, each with a
 * layout (modes multiplying to its widths); a layout storing at least the dense weight is a
 * warning. Undefined (with a diagnostic) when one cannot be factorised.
 */
export function factorTargets(method: FactorMethod, r: ResolvedPath, range: TextRange, ctx: EvalContext): FactorTarget[] | undefined {
  const targets: FactorTarget[] = [];
  const seen = new Set<string>();
  let any = false;
  let ok = true;
  const visit = (n: ModuleNode, path: string): void => {
    if (n.kind === 'layer') {
      for (const w of n.cost.weights) {
        const shape = factorShape(method, w);
        if (!shape || (r.weight !== undefined && w.name !== r.weight)) continue;
        any = true;
        const key = `${path}:${w.name}:${w.shape.join('x')}:${w.copies}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const dense = w.shape.reduce((p, x) => p * BigInt(x), 1n);
        const what = `'${path === '' ? w.name : `${path}.${w.name}`}' (${w.shape.join('×')})`;
        const result = factorLayout(method, shape.dOut, shape.dIn, shape.kernel);
        if (!result.ok) {
          ctx.sink.error('npas-factorize-shape', `${what}: ${result.message}`, range);
          ok = false;
          continue;
        }
        const larger = factorsNoSmaller(method, result.layout, dense, w.copies);
        if (larger) ctx.sink.warning('npas-factorize-larger', `${what}: ${larger}`, range);
        targets.push({ path, weight: w.name, dOut: shape.dOut, dIn: shape.dIn, kernel: shape.kernel, copies: w.copies, generatesOwn: n.cost.generationMacsPerStep !== undefined });
      }
    } else if (n.kind === 'block') n.members.forEach((m) => visit(m.node, path === '' ? m.name : `${path}.${m.name}`));
    else n.runs.forEach((x) => visit(x.node, path));
  };
  r.nodes.forEach((n) => visit(n, r.moduleKey));
  if (!any) {
    ctx.sink.error('npas-factorize-target', `'${r.key}' has no ${method.kind === 'fedpara' ? 'matrix or convolution kernel' : 'matrix'}${r.weight ? ` named ${r.weight}` : ''} to factorise (${method.kind === 'fedpara' ? 'fedpara factorises matmul and convolution weights' : `${method.kind} factorises matmul weights`})`, range);
    return undefined;
  }
  return ok ? targets : undefined;
}

/**
 * Why a layout stores no fewer numbers than the dense weights it replaces, or undefined. A
 * layout of its own (FedPara, a tensor train, `central: own`) is compared with one dense W. An
 * MPO central tensor shared by the experts of a layer is compared per layer: its `copies`
 * auxiliary tensor sets and one central tensor against `copies` dense W. One shared across the
 * instances under the statement (`layers`) is stored once for all of them, so each instance is
 * compared by what it adds, its auxiliary tensors: below W, the sharing pays once the instances
 * outnumber central / (W − auxiliary).
 */
function factorsNoSmaller(method: FactorMethod, layout: FactorLayout, dense: bigint, copies: number): string | undefined {
  if (method.kind === 'fedpara' || method.central === 'own') {
    return layout.elements >= dense ? `the factors hold ${layout.elements} numbers, no fewer than the dense ${dense}` : undefined;
  }
  const aux = layout.elements - layout.centralElements;
  if (method.central === 'experts') {
    const c = BigInt(copies);
    const stored = aux * c + layout.centralElements;
    return stored >= dense * c ? `the ${copies} copies' auxiliary tensors and their shared central tensor hold ${stored} numbers, no fewer than the ${copies} dense copies' ${dense * c}` : undefined;
  }
  return aux >= dense ? `each instance's auxiliary tensors hold ${aux} numbers, no fewer than the dense ${dense}, however many instances share the central tensor` : undefined;
}
