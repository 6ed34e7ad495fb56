// `npas allocate FILE --model NAME --params N [--groups G] [--method M] [--json] [--emit]
// [--sweep FROM..TO]`: the NPAS plan for a model at exactly N stored parameters — as a table,
// as JSON, or as a `.npas` variant to paste — or a sweep over budgets and groupings. Exit 2 when
// the request is refused (the message states the minimum where there is one).

import {
  allocate,
  emitVariant,
  freeVariantName,
  parseGrouping,
  parseMethod,
  parseParameterCount,
  maxOf,
  readArchitecture,
  storedParamsOf,
  type AllocationInput,
  type AllocationPlan,
  type AllocationRequest,
  type GroupingSpec,
  toJson,
} from '../../core/index.js';
import { parseCommand, usageOf, type CommandSpec } from '../args.js';
import { formatFlops, groupDigits } from '../format.js';
import { CliError, type CliIO } from '../io.js';
import { readCheckpointSketches } from '../safetensors-file.js';
import { readSpecProgram, type SpecProgram } from '../spec-program.js';

export const ALLOCATE_COMMAND: CommandSpec = {
  name: 'allocate',
  operands: 'FILE',
  flags: [
    { name: 'model', takesValue: true, value: 'NAME', required: true },
    { name: 'params', takesValue: true, value: 'N', required: true },
    { name: 'groups', takesValue: true, value: 'auto|all|shape|role|depth:K|cluster:K|checkpoint:PATH' },
    { name: 'method', takesValue: true, value: 'wavg|wavg(K)|repeat|hash' },
    { name: 'json', takesValue: false },
    { name: 'emit', takesValue: false },
    { name: 'sweep', takesValue: true, value: 'FROM..TO' },
  ],
};

const USAGE = usageOf(ALLOCATE_COMMAND);
/** Layers listed in the text report before it points at --json. */
const LAYER_ROWS = 40;
/** Strategies a sweep compares when --groups is not given. */
const SWEEP_GROUPINGS = ['auto', 'all', 'shape', 'role', 'depth:4', 'cluster:4'];
const SWEEP_POINTS = 9;

export function runAllocate(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseCommand(argv, ALLOCATE_COMMAND);
  if (positionals.length !== 1) throw new CliError(USAGE);
  const str = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const file = positionals[0]!;
  const spec = readSpecProgram(file, io);
  const text = spec.text;
  const modelName = str('model') ?? onlyModel(spec, file);
  const arch = readArchitecture(spec.compilation, modelName);
  if (!arch.ok) throw new CliError(`allocate: ${file}: ${arch.message}`);
  const input = arch.input;
  const method = parseMethod(str('method') ?? 'wavg');
  if (typeof method === 'string') throw new CliError(`allocate: --method: ${method}`);
  const groupsText = str('groups');
  const grouping = parseGrouping(groupsText ?? 'auto');
  if (typeof grouping === 'string') throw new CliError(`allocate: --groups: ${grouping}`);
  const sketches = grouping.kind === 'checkpoint' ? readCheckpointSketches(grouping.path, input.items) : undefined;
  const request = (target: number, g: GroupingSpec): AllocationRequest => ({ target, grouping: g, method: method.method, maxTemplates: method.maxTemplates, sketches });

  const sweep = str('sweep');
  if (sweep !== undefined) {
    if (flags.has('emit')) throw new CliError('allocate: --sweep and --emit do not combine (emit one budget at a time)');
    const groupings = groupsText !== undefined ? [grouping] : SWEEP_GROUPINGS.map((g) => parseGrouping(g) as GroupingSpec);
    return runSweep(input, sweep, groupings, request, flags.has('json'), io);
  }
  const paramsText = str('params');
  if (paramsText === undefined) throw new CliError(`allocate: --params N is required (a count such as 3.65M, or a percentage of the model's ${groupDigits(storedParamsOf(input))} stored params such as 10%)`);
  const target = parseBudget(paramsText, input, '--params');
  const result = allocate(input, request(target, grouping));
  if (!result.ok) throw new CliError(`allocate: ${result.message}`);
  const plan = result.plan;
  if (flags.has('emit')) io.stdout(emitVariant(plan, freeVariantName(text, `${plan.model}_npas`)));
  else if (flags.has('json')) io.stdout(`${toJson(jsonPlan(plan))}\n`);
  else io.stdout(renderPlan(plan));
  return 0;
}

/** The single model or variant of a file (its imported ones included), when --model is omitted. */
function onlyModel(spec: SpecProgram, file: string): string {
  const names = spec.compilation.models.map((m) => m.name);
  if (names.length === 1) return names[0]!;
  throw new CliError(`allocate: ${file} declares ${names.length === 0 ? 'no models' : `several models (${names.join(', ')})`}; name one with --model`);
}


/** `3651883`, `3_651_883`, `3.65M`, `7B`, `4Ki`, or `10%` of the model's stored params (rounded down): core's parseParameterCount. */
export function parseBudget(text: string, input: AllocationInput, flag: string): number {
  const read = parseParameterCount(text, BigInt(storedParamsOf(input)));
  if (!read.ok) {
    if (read.problem === 'fraction') throw new CliError(`allocate: ${flag} ${text} is not a whole number of parameters`);
    throw new CliError(`allocate: ${flag} must be a whole number of parameters (e.g. 3651883, 3.65M, 10%), got '${text}'`);
  }
  if (read.percent && read.count < 1n) throw new CliError(`allocate: ${flag} ${text} is less than one parameter`);
  if (read.count > BigInt(Number.MAX_SAFE_INTEGER)) throw new CliError(`allocate: ${flag} ${text} is too large`);
  return Number(read.count);
}

function jsonPlan(plan: AllocationPlan): object {
  return {
    model: plan.model,
    target: plan.target,
    stored: plan.stored,
    unused: plan.unused,
    referenceUnused: plan.referenceUnused,
    grouping: groupingText(plan.grouping),
    groupingReason: plan.groupingReason,
    method: plan.method,
    regime: plan.regime,
    demand: plan.demand,
    fixed: plan.fixed,
    coefficients: plan.coefficients,
    generationMacs: plan.generationMacs,
    minimum: plan.minimum,
    groups: plan.groups.map((g) => ({ id: g.id, params: g.params, demand: g.demand, direct: g.direct, unused: g.unused, referenceUnused: g.referenceUnused, layers: g.layers.map((i) => plan.items[i]!.path) })),
    layers: plan.layers.map((l) => ({ path: l.path, group: l.group, generator: l.generator })),
  };
}

function groupingText(g: GroupingSpec): string {
  return g.kind === 'depth' || g.kind === 'cluster' ? `${g.kind}:${g.k}` : g.kind === 'checkpoint' ? `checkpoint:${g.path}` : g.kind;
}

function renderPlan(plan: AllocationPlan): string {
  const pct = (n: number, of: number): string => (of > 0 ? `${((100 * n) / of).toFixed(1)}%` : '-');
  const lines = [
    `${plan.model}: NPAS plan at ${groupDigits(plan.target)} stored params (${pct(plan.target, plan.demand + plan.fixed)} of ${groupDigits(plan.demand + plan.fixed)}; ${plan.regime} budget)`,
    `  grouping   ${groupingText(plan.grouping)} — ${plan.groupingReason}`,
    `  method     ${plan.method}`,
    `  stored     ${groupDigits(plan.stored)} = stores ${groupDigits(plan.groups.reduce((s, g) => s + g.params, 0))} + coefficients ${groupDigits(plan.coefficients)} + fixed ${groupDigits(plan.fixed)} (norms, biases, routers)`,
    `  unused     ${groupDigits(plan.unused)} store entries (the SSN reference layout would leave ${groupDigits(plan.referenceUnused)} unread)`,
    `  cost       ${formatFlops(2 * plan.generationMacs)} per training step to generate weights (${groupDigits(plan.generationMacs)} MACs); inference FLOPs and KV cache unchanged`,
    `  minimum    ${groupDigits(plan.minimum)} for this grouping`,
    '  groups',
  ];
  for (const g of plan.groups) {
    const kinds = new Map<string, number>();
    for (const i of g.layers) {
      const gen = plan.layers[i]!.generator;
      const key = gen.kind === 'mix' || gen.kind === 'hash' ? `${gen.kind}(K=${gen.templates})` : gen.kind;
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
    }
    const gens = [...kinds].map(([k, n]) => `${n}× ${k}`).join(', ');
    lines.push(`    ${g.id.padEnd(5)} ${(g.direct ? 'whole' : 'store').padEnd(6)} ${groupDigits(g.params).padStart(15)} for demand ${groupDigits(g.demand).padStart(15)}   ${String(g.layers.length).padStart(5)} weights: ${gens}`);
  }
  lines.push('  layers');
  const rows = plan.layers.slice(0, LAYER_ROWS);
  const width = maxOf(rows.map((l) => l.path.length), 4);
  for (const l of rows) {
    const g = l.generator;
    lines.push(`    ${l.path.padEnd(width)}  ${l.group.padEnd(5)} ${g.kind.padEnd(11)} K=${String(g.templates).padEnd(3)} coefficients ${String(g.coefficients).padStart(4)}  offset ${groupDigits(g.offset)}`);
  }
  if (plan.layers.length > LAYER_ROWS) lines.push(`    … ${plan.layers.length - LAYER_ROWS} more (--json lists every layer)`);
  return `${lines.join('\n')}\n`;
}

interface SweepRow {
  readonly budget: number;
  readonly grouping: string;
  readonly plan: AllocationPlan | undefined;
  readonly refusal: string | undefined;
}

function runSweep(input: AllocationInput, range: string, groupings: readonly GroupingSpec[], request: (t: number, g: GroupingSpec) => AllocationRequest, json: boolean, io: CliIO): number {
  const m = /^(.+?)\.\.(.+)$/.exec(range);
  if (!m) throw new CliError(`allocate: --sweep takes FROM..TO (e.g. 1%..400% or 1M..40M), got '${range}'`);
  const from = parseBudget(m[1]!, input, '--sweep');
  const to = parseBudget(m[2]!, input, '--sweep');
  if (to < from) throw new CliError(`allocate: --sweep ${range}: TO is below FROM`);
  const budgets = new Set<number>();
  for (let i = 0; i < SWEEP_POINTS; i++) budgets.add(Math.round(from * (to / from) ** (i / (SWEEP_POINTS - 1))));
  const rows: SweepRow[] = [];
  for (const b of [...budgets].sort((x, y) => x - y)) {
    for (const g of groupings) {
      const r = allocate(input, request(b, g));
      const refusal = r.ok ? undefined : r.minimum !== undefined ? `below its minimum of ${groupDigits(r.minimum)}` : r.message;
      rows.push({ budget: b, grouping: groupingText(g), plan: r.ok ? r.plan : undefined, refusal });
    }
  }
  // The frontier: at each budget, the feasible plan with the least generation cost.
  const best = new Map<number, SweepRow>();
  for (const r of rows) if (r.plan && (!best.has(r.budget) || r.plan.generationMacs < best.get(r.budget)!.plan!.generationMacs)) best.set(r.budget, r);
  if (json) {
    io.stdout(`${toJson({
      model: input.model,
      rows: rows.map((r) => ({
        budget: r.budget,
        grouping: r.grouping,
        frontier: best.get(r.budget) === r,
        ...(r.plan
          ? { resolved: groupingText(r.plan.grouping), stored: r.plan.stored, unused: r.plan.unused, referenceUnused: r.plan.referenceUnused, groups: r.plan.groups.length, coefficients: r.plan.coefficients, generationMacs: r.plan.generationMacs }
          : { refused: r.refusal }),
      })),
    })}\n`);
  } else {
    const lines = [`${input.model}: sweep ${groupDigits(from)}..${groupDigits(to)} stored params; * marks the frontier (least generation cost at each budget)`];
    lines.push(`  ${'budget'.padStart(15)}  ${'grouping'.padEnd(12)} ${'groups'.padStart(6)} ${'coefficients'.padStart(12)} ${'gen MACs/step'.padStart(15)} ${'SSN unread'.padStart(13)}`);
    for (const r of rows) {
      const mark = best.get(r.budget) === r ? '*' : ' ';
      if (!r.plan) {
        lines.push(`${mark} ${groupDigits(r.budget).padStart(15)}  ${r.grouping.padEnd(12)} refused: ${r.refusal}`);
        continue;
      }
      const p = r.plan;
      const name = r.grouping === 'auto' ? `auto→${groupingText(p.grouping)}` : r.grouping;
      lines.push(`${mark} ${groupDigits(r.budget).padStart(15)}  ${name.padEnd(12)} ${String(p.groups.length).padStart(6)} ${groupDigits(p.coefficients).padStart(12)} ${groupDigits(p.generationMacs).padStart(15)} ${groupDigits(p.referenceUnused).padStart(13)}`);
    }
    io.stdout(`${lines.join('\n')}\n`);
  }
  return best.size > 0 ? 0 : 2;
}
