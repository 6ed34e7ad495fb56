// `npas subnets FILE [--model NAME] [--where 'params.active <= 1B and latency.decode <= 5ms']
// [--by METRIC] [--top N] [--emit N] [--json] [settings]`: a weight-sharing supernet (`elastic
// STACK: Block(arg: [a, b]) * [d1, d2]` and model-wide `elastic d: [v1, v2]`) — the size of its subnet space, the stored parameters
// of its entangled weights, how many subnets meet the filter, the best N by a metric and the
// Pareto front (least of the metric for the most active parameters); `--emit N` prints the N-th
// listed subnet as a variant. Exit 1 when no subnet meets the filter, 2 on spec or usage errors.

import {
  analyzeSupernet,
  classMetric,
  describeSubnetClass,
  enumerateSubnets,
  globalLabel,
  isSubnetMetric,
  parseSubnetFilter,
  subnetVariant,
  SUBNET_METRICS,
  type SubnetClass,
  type SubnetMetric,
  type ElasticStack,
  type Supernet,
  type SupernetPoint,
  toJson,
} from '../../core/index.js';
import { parseCommand, positiveIntFlag, usageOf, type CommandSpec } from '../args.js';
import { ANALYSIS_FLAGS, readAnalysisFlags } from '../analysis-flags.js';
import { formatSeconds, groupDigits } from '../format.js';
import { CliError, type CliIO } from '../io.js';
import { diagnosticLine, readSpecProgram } from '../spec-program.js';

export const SUBNETS_COMMAND: CommandSpec = {
  name: 'subnets',
  operands: 'FILE',
  flags: [
    { name: 'model', takesValue: true, value: 'NAME' },
    { name: 'where', takesValue: true, value: 'CONSTRAINTS' },
    { name: 'by', takesValue: true, value: 'METRIC' },
    { name: 'top', takesValue: true, value: 'N' },
    { name: 'emit', takesValue: true, value: 'N' },
    { name: 'json', takesValue: false },
    ...ANALYSIS_FLAGS,
  ],
};

export function runSubnets(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseCommand(argv, SUBNETS_COMMAND);
  if (positionals.length !== 1) throw new CliError(usageOf(SUBNETS_COMMAND));
  const file = positionals[0]!;
  const str = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const by = str('by') ?? 'flops.prefill';
  if (!isSubnetMetric(by)) throw new CliError(`--by is one of ${SUBNET_METRICS.join(', ')}; got '${by}'`);
  const top = str('top') === undefined ? 10 : positiveIntFlag(str('top')!, 'top');
  const emit = str('emit') === undefined ? undefined : positiveIntFlag(str('emit')!, 'emit');
  const filter = parseSubnetFilter(str('where') ?? '');
  if ('error' in filter) throw new CliError(`--where: ${filter.error}`);
  const options = readAnalysisFlags(flags, io);

  const spec = readSpecProgram(file, io);
  const compilation = spec.compilation;
  const errors = compilation.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    for (const d of errors) io.stderr(`${diagnosticLine(spec, d)}\n`);
    return 2;
  }
  const elastic = compilation.models.filter((m) => m.statements.some((s) => s.statement.keyword === 'elastic'));
  const name = str('model') ?? (elastic.length === 1 ? elastic[0]!.name : undefined);
  if (!name) {
    throw new CliError(
      elastic.length === 0
        ? `${file}: no model declares a supernet; add e.g. \`elastic body: Decoder(expand: [2, 3, 4]) * [6, 8]\` to one`
        : `${file}: several models declare a supernet (${elastic.map((m) => m.name).join(', ')}); choose one with --model`,
    );
  }
  if (!compilation.model(name)) throw new CliError(`${file}: no model or variant named '${name}' (have: ${compilation.models.map((m) => m.name).join(', ') || 'none'})`);
  const analysed = analyzeSupernet(compilation, name, compilation.settings(options));
  if ('error' in analysed) throw new CliError(`${file}: ${analysed.error}`);
  const s = analysed.supernet;
  const result = enumerateSubnets(s, { where: filter.constraints, by, top });
  if ('error' in result) throw new CliError(`${file}: ${result.error}`);

  if (emit !== undefined) {
    const chosen = result.top[emit - 1];
    if (!chosen) throw new CliError(`--emit ${emit}: the listing has ${result.top.length} subnet${result.top.length === 1 ? '' : 's'} (raise --top or loosen --where)`);
    io.stdout(`# ${describeSubnetClass(s, chosen)}\n${subnetVariant(s, chosen, `${s.model}Subnet${emit}`)}`);
    return 0;
  }
  const where = str('where')?.trim() ?? '';
  if (flags.has('json')) {
    io.stdout(
      `${toJson({
        model: s.model,
        globals: s.globals.map((g) => ({ name: g.name, values: g.values.map((v) => v.text) })),
        points: s.points.map((pt) => ({ globals: globalsJson(s, pt.values), subnets: pt.subnets, stored: pt.stored, stacks: pt.stacks.map(stackJson) })),
        stacks: s.stacks.map(stackJson),
        settings: s.settings,
        subnets: s.subnets,
        classes: result.classes,
        stored: s.stored,
        where,
        by,
        feasible: { subnets: result.feasibleSubnets, classes: result.feasibleClasses },
        top: result.top.map((c) => classJson(s, c)),
        front: result.front.map((c) => classJson(s, c)),
      })}\n`,
    );
  } else io.stdout(render(s, result.classes, result.feasibleSubnets, result.feasibleClasses, where, by, result.top, result.front));
  return result.feasibleClasses > 0 ? 0 : 1;
}

/** `{ d: '64' }`: a point's global values by name. */
function globalsJson(s: Supernet, values: readonly string[]): Record<string, string> {
  return Object.fromEntries(s.globals.map((g, i) => [g.name, values[i]!]));
}

/** One elastic stack at one point: its choices as block calls, which may read the point's values (`Decoder(64, expand: 1)`). */
function stackJson(st: ElasticStack): unknown {
  return { stack: st.space.stack, choices: st.choices.map((c) => c.call), depths: st.space.depths, subnets: st.subnets, stored: st.stored };
}

function classJson(s: Supernet, c: SubnetClass): unknown {
  const pt = s.points[c.point]!;
  return {
    globals: globalsJson(s, c.globals),
    stacks: c.stacks.map((st, j) => ({ stack: st.stack, depth: st.depth, counts: Object.fromEntries(st.counts.flatMap((n, k) => (n > 0 ? [[pt.stacks[j]!.choices[k]!.call, n]] : []))) })),
    subnets: c.subnets,
    params: c.params,
    flops: c.flops,
    kvBytes: c.kvBytes,
    stateBytes: c.stateBytes,
    weightBytes: c.weightBytes,
    inferenceBytes: c.inferenceBytes,
    latency: c.latency,
  };
}

function value(c: SubnetClass, metric: SubnetMetric): string {
  const v = classMetric(c, metric);
  return typeof v === 'number' ? formatSeconds(v) : typeof v === 'bigint' ? groupDigits(v) : v;
}

function render(
  s: Supernet,
  classes: number,
  feasibleSubnets: bigint,
  feasibleClasses: number,
  where: string,
  by: SubnetMetric,
  top: readonly SubnetClass[],
  front: readonly SubnetClass[],
): string {
  const lines: string[] = [];
  const o = s.settings;
  const over = [...s.globals.map((g) => g.name), ...s.stacks.map((st) => st.space.stack)];
  lines.push(`${s.model}: supernet over ${over.join(', ')}   (seq ${o.seq}, batch ${o.batch}, ${o.dtype}, ${s.roofline.device})`);
  for (const g of s.globals) lines.push(`  ${g.name.padEnd(9)} ${g.values.length} model-wide value${g.values.length === 1 ? '' : 's'}: ${g.values.map((v) => v.text).join(', ')} (every layer using ${g.name} follows)`);
  const stackLines = (pt: SupernetPoint): void => {
    for (const st of pt.stacks) {
      lines.push(`  ${st.space.stack.padEnd(9)} ${st.choices.length} choice${st.choices.length === 1 ? '' : 's'} per instance, depths ${st.space.depths.join(', ')}: ${groupDigits(st.subnets)} subnets`);
      for (const c of st.choices) lines.push(`    ${c.call}`);
    }
  };
  if (s.globals.length === 0) stackLines(s.points[s.largest]!);
  else if (s.stacks.length > 0) {
    // The stacks at the largest subnet's values, then at each other set of values whose choices
    // or depths differ (a list written with a model-wide name: `expand: [d / 64, d / 32]`); values
    // that differ only in arguments fixed per subnet (`Decoder(d, …)`) choose alike and are not repeated.
    const groups = pointGroups(s);
    groups.forEach((group, g) => {
      const named = group.slice(0, 3).map((p) => globalLabel(s.globals, s.points[p]!.values));
      const more = group.length > 3 ? ` and ${group.length - 3} other combinations` : '';
      lines.push(g === 0 ? `  elastic stacks at ${named[0]} (the largest subnet's values${group.length > 1 ? `; alike at ${group.length - 1} other combination${group.length === 2 ? '' : 's'}` : ''}):` : `  elastic stacks at ${named.join('; ')}${more}:`);
      stackLines(s.points[group[0]!]!);
    });
  }
  const points = s.globals.length > 0 ? `${groupDigits(BigInt(s.points.length))} combinations of model-wide values; ` : '';
  lines.push(`  subnets   ${groupDigits(s.subnets)} (${points}${groupDigits(BigInt(classes))} classes: subnets whose instances choose alike in another order measure alike)`);
  lines.push(`  stored    ${groupDigits(s.stored)} parameters (the largest subnet's weights, once; smaller choices${s.globals.length > 0 ? ' and values' : ''} slice them)`);
  lines.push(`  feasible  ${groupDigits(feasibleSubnets)} subnets in ${groupDigits(BigInt(feasibleClasses))} classes${where ? ` where ${where}` : ''}`);
  const metrics: SubnetMetric[] = ['params.stored', 'params.active', ...(by === 'params.stored' || by === 'params.active' ? [] : [by]), ...(by === 'latency.decode' ? [] : ['latency.decode' as const])];
  const table = (title: string, rows: readonly SubnetClass[]): void => {
    lines.push(`  ${title}`);
    if (rows.length === 0) {
      lines.push('    (none)');
      return;
    }
    const header = ['#', ...metrics, 'subnets', 'choices'];
    const cells = rows.map((c, i) => [String(i + 1), ...metrics.map((m) => value(c, m)), groupDigits(c.subnets), describeSubnetClass(s, c)]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
    const line = (r: readonly string[]): string => `    ${r.map((c, i) => (i === r.length - 1 ? c : i === 0 || i > metrics.length ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`.trimEnd();
    lines.push(line(header));
    for (const r of cells) lines.push(line(r));
  };
  table(`best ${top.length} by ${by} (ties: more active parameters first; --emit N prints the N-th as a variant)`, top);
  table(`Pareto front: least ${by} for the most params.active (${front.length})`, front);
  return `${lines.join('\n')}\n\n`;
}

/**
 * The points grouped by what their stacks choose among (each stack's depths and its choices'
 * labels), the largest point's group first, each group's points in order (the largest first in its own).
 */
function pointGroups(s: Supernet): number[][] {
  const key = (pt: SupernetPoint): string => JSON.stringify(pt.stacks.map((st) => [st.space.depths, st.choices.map((c) => c.label)]));
  const groups = new Map<string, number[]>();
  const order = [s.largest, ...s.points.map((_, p) => p).filter((p) => p !== s.largest)];
  for (const p of order) {
    const k = key(s.points[p]!);
    const group = groups.get(k);
    if (group) group.push(p);
    else groups.set(k, [p]);
  }
  return [...groups.values()];
}
