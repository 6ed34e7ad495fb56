// `route STACK: mor(recursions: R, capacity: [...])`: Mixture-of-Recursions expert-choice routing
// over a stack's recursions; `route STACK: halt(expected_depth: D | reach: […])`: per-token
// halting (ACT, SUT). Each resolves to a `route` stack strategy (capacities and router width;
// halting adds its unit, sharing/halting.ts).

import type { ModuleNode } from '../model/module-tree.js';
import * as Q from '../numbers/rational.js';
import type { Scope } from '../semantics/scope.js';
import { HALT_ARGS, haltingUnit, haltReach } from '../sharing/halting.js';
import { indexableLength } from '../sharing/indexable-stack.js';
import { eachTarget, readMethodCall, type SchemeContext, type SchemeMethod, type SharingScheme } from '../sharing/scheme.js';
import { asStatementCall, type StatementArgValue, type StatementCall } from '../sharing/statement-args.js';
import type { Statement, TextRange } from '../syntax/syntax-tree.js';
import { groupDigits } from '../text/number-format.js';

/** Most Mixture-of-Recursions recursions a `route` statement may declare (papers use 2 to 4). */
const MAX_RECURSIONS = 65_536;

const ROUTE_METHODS: readonly SchemeMethod[] = [
  {
    name: 'mor',
    call: true,
    args: [
      { name: 'recursions', type: 'int', required: true, min: 1, doc: 'Recursions R over the stack.' },
      { name: 'capacity', type: 'ratio-list', required: false, doc: 'Fraction of tokens per recursion, e.g. [1, 2/3, 1/3].' },
      { name: 'router_width', type: 'int', required: false, min: 1, doc: 'Input width of each router (default: the model width).' },
    ],
    snippet: 'mor(recursions: ${1:3})',
    doc: 'Mixture-of-Recursions expert-choice routing.',
  },
  {
    name: 'halt',
    call: true,
    args: HALT_ARGS,
    snippet: 'halt(expected_depth: ${1:2})',
    doc: 'Per-token halting (ACT, SUT\'s stick-breaking): compute and KV follow the expected depth, stored gains one halting unit.',
  },
];

export const routeScheme: SharingScheme = {
  keyword: 'route',
  snippet: 'route ${1:body}: mor(recursions: ${2:3})',
  summary: 'Mixture-of-Recursions routing over a stack.',
  hover: '`route STACK: mor(recursions: R)`: Mixture-of-Recursions routing; `route STACK: halt(expected_depth: D)`: per-token halting (ACT, stick-breaking), compute and KV at the expected depth.',
  methods: ROUTE_METHODS,
  order: 2,
  keepsStores: false,
  resolve(s, scope, model) {
    const { ctx } = model;
    const halting = s.value !== undefined && asStatementCall(s.value)?.name === 'halt';
    const read = readMethodCall(s.value, s.range, ROUTE_METHODS, halting ? 'npas-halt' : 'npas-route', 'routing is `mor(recursions: R)` (Mixture-of-Recursions) or `halt(expected_depth: D)` (per-token halting)', scope, ctx);
    if (!read) return;
    const { call, args } = read;
    if (read.method.name === 'halt') return resolveHalt(s, call, args, scope, model);
    const recursions = args.get('recursions') as number;
    // Refused before the per-recursion capacities are built (a count of 10⁸ would allocate them all).
    if (recursions > MAX_RECURSIONS) {
      ctx.sink.error('npas-eval-too-large', `mor(): at most ${groupDigits(MAX_RECURSIONS)} recursions can be analysed, got ${groupDigits(recursions)}`, call.argsRange);
      return;
    }
    const given = args.get('capacity') as readonly Q.Rational[] | undefined;
    // Default expert-choice capacities (MoR): recursion r keeps (R − r)/R of the tokens.
    const capacities = given ?? Array.from({ length: recursions }, (_, r) => Q.rational(BigInt(recursions - r), BigInt(recursions)));
    if (capacities.length !== recursions || capacities.some((c, i) => Q.compare(c, Q.ZERO) <= 0 || Q.compare(c, Q.ONE) > 0 || (i > 0 && Q.compare(c, capacities[i - 1]!) > 0))) {
      ctx.sink.error('npas-route', `capacity needs ${recursions} non-increasing fractions in (0, 1]`, call.argsRange);
      return;
    }
    eachTarget(s, scope, model, (r, range) => {
      if (r.node.kind !== 'stack') {
        ctx.sink.error('npas-share-not-stack', `'${r.key}' is not a stack; routing applies to the recursions of a stack`, range);
        return;
      }
      const length = indexableLength(r.node, range, ctx);
      if (length === undefined) return;
      if (length < recursions) {
        ctx.sink.error('npas-route', `${recursions} recursions need at least ${recursions} instances, '${r.key}' has ${length}`, range);
        return;
      }
      const width = (args.get('router_width') as number | undefined) ?? firstMatmulInput(r.node);
      if (!width) {
        ctx.sink.error('npas-route', `cannot infer the router width of '${r.key}'; give router_width`, range);
        return;
      }
      if (alreadyRouted(r.key, range, model, 'npas-route')) return;
      model.addStrategy(r, { kind: 'route', capacities, routerWidth: width, range: s.range });
    });
  },
};

/** `route STACK: halt(…)`: per-token halting over the stack's steps (sharing/halting.ts). */
function resolveHalt(s: Statement, call: StatementCall, args: Map<string, StatementArgValue>, scope: Scope, model: SchemeContext): void {
  const { ctx } = model;
  eachTarget(s, scope, model, (r, range) => {
    if (r.node.kind !== 'stack') {
      ctx.sink.error('npas-share-not-stack', `'${r.key}' is not a stack; halting applies to the steps of a stack`, range);
      return;
    }
    const length = indexableLength(r.node, range, ctx);
    if (length === undefined) return;
    const steps = (args.get('steps') as number | undefined) ?? length;
    if (steps > length || steps > MAX_RECURSIONS) {
      ctx.sink.error('npas-halt', steps > length ? `${steps} steps need at least ${steps} instances, '${r.key}' has ${length}` : `halt(): at most ${groupDigits(MAX_RECURSIONS)} steps can be analysed`, range);
      return;
    }
    const reach = haltReach(args, steps);
    if (typeof reach === 'string') {
      ctx.sink.error('npas-halt', reach, call.argsRange);
      return 'stop';
    }
    const width = (args.get('width') as number | undefined) ?? firstMatmulInput(r.node);
    if (!width) {
      ctx.sink.error('npas-halt', `cannot infer the halting unit's input width of '${r.key}'; give width`, range);
      return;
    }
    if (alreadyRouted(r.key, range, model, 'npas-halt')) return;
    model.addStrategy(r, { kind: 'route', capacities: reach, routerWidth: width, halting: haltingUnit(args, width, reach), range: s.range });
    return undefined;
  });
}

/**
 * Whether the stack at `key` already has a route statement, reported under `code` at `range`: the
 * walk reads one route strategy per stack, so a second (mor or halt) would be dropped silently.
 */
function alreadyRouted(key: string, range: TextRange, model: SchemeContext, code: 'npas-route' | 'npas-halt'): boolean {
  if (!model.strategiesOf(key).some((x) => x.kind === 'route')) return false;
  model.ctx.sink.error(code, `'${key}' is already routed; a stack takes one route statement`, range);
  return true;
}

function firstMatmulInput(node: ModuleNode): number | undefined {
  if (node.kind === 'layer') return node.cost.weights.find((w) => w.matmul)?.matmul?.dIn;
  if (node.kind === 'block') {
    for (const m of node.members) {
      const d = firstMatmulInput(m.node);
      if (d) return d;
    }
    return undefined;
  }
  return node.runs[0] ? firstMatmulInput(node.runs[0].node) : undefined;
}
