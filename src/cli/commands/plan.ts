// `npas plan FILE… --model M --gpus N --device D --tp T --pp P … [--search] [--json]`: per-GPU and
// per-stage memory of a training plan, whether it fits, and its step time, MFU and tokens/s
// (docs/plans.md). --search lists the parallel layouts of the cluster that fit, fastest first.
// Comma lists and ranges sweep (`--seq 2048,4096 --gpus 8..64`): one row per combination, as a
// table, Markdown, CSV or JSON (--format). Exit 1 when a plan (or every searched layout) does not
// fit, 2 on spec or flag errors (in a sweep: when every combination is refused).

import { efficiencyText, evaluatePlan, formatBytes, formatSeconds, planLayoutText, planSource, searchPlans, type Efficiency, type PlanBytes, type PlanSource, type TrainingPlan, toJson } from '../../core/index.js';
import { parseCommand, positiveIntFlag, usageOf, type CommandSpec } from '../args.js';
import { CliError, type CliIO } from '../io.js';
import { EFFICIENCY_FLAGS, PLAN_FLAGS, readPlanFlags } from '../plan-flags.js';
import { expandGrid, isSwept } from '../sweep.js';
import { renderTable, tableFormat, type Column } from '../table-format.js';
import { diagnosticLine, readSpecProgram, type SpecProgram } from '../spec-program.js';

export const PLAN_COMMAND: CommandSpec = {
  name: 'plan',
  operands: 'FILE…',
  flags: [...PLAN_FLAGS, { name: 'search', takesValue: false }, { name: 'limit', takesValue: true, value: 'N' }, { name: 'format', takesValue: true, value: 'table|markdown|csv|json' }],
};

/** Flags that take comma lists and ranges. */
export const PLAN_SWEEPABLE: ReadonlySet<string> = new Set([
  'model',
  'device',
  'gpus',
  'gpus-per-node',
  'tp',
  'pp',
  'vpp',
  'dp',
  'cp',
  'ep',
  'etp',
  ...EFFICIENCY_FLAGS.map(([flag]) => flag),
  'zero',
  'recompute',
  'micro-batch',
  'global-batch',
  'seq',
  'optimizer',
  'finetune',
  'dtype',
  'grad-dtype',
]);

/** One evaluated combination: a plan, or why its settings were refused. */
interface Row {
  readonly file: string;
  readonly flags: ReadonlyMap<string, string | true>;
  readonly plan?: TrainingPlan;
  readonly problems?: readonly string[];
}

export function runPlan(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseCommand(argv, PLAN_COMMAND);
  if (positionals.length < 1) throw new CliError(usageOf(PLAN_COMMAND));
  const limitText = flags.get('limit');
  const limit = typeof limitText === 'string' ? positiveIntFlag(limitText, 'limit') : 20;
  const swept = isSwept(flags, PLAN_SWEEPABLE) || positionals.length > 1;
  const format = flags.has('json') ? 'json' : tableFormat(flags.get('format'), 'table');
  const grid = expandGrid(flags, PLAN_SWEEPABLE);

  const sources = new Map<string, PlanSource>();
  const specs = new Map<string, SpecProgram>();
  const rows: Row[] = [];
  let evaluated = 0;
  let fitting = 0;
  for (const file of positionals) {
    const spec = specs.get(file) ?? readSpecProgram(file, io);
    specs.set(file, spec);
    for (const combination of grid) {
      let settings: ReturnType<typeof readPlanFlags>;
      try {
        settings = readPlanFlags(combination);
      } catch (e) {
        // In a sweep, a combination whose flags contradict each other is a refused row.
        if (!swept || !(e instanceof CliError)) throw e;
        rows.push({ file, flags: combination, problems: [e.message] });
        continue;
      }
      const model = combination.get('model');
      const key = `${file}\u0000${typeof model === 'string' ? model : ''}\u0000${settings.seq}\u0000${settings.dtypes.weights}`;
      let source = sources.get(key);
      if (!source) {
        source = planSource(spec.compilation, typeof model === 'string' ? model : undefined, settings.seq, settings.dtypes.weights);
        sources.set(key, source);
      }
      if (!source.ok) {
        for (const d of source.diagnostics) io.stderr(`${diagnosticLine(spec, d)}\n`);
        if (source.diagnostics.length > 0) return 2;
        throw new CliError(`${file}: ${source.message}`);
      }
      if (flags.has('search')) {
        const found = searchPlans(source.model, settings);
        evaluated += found.evaluated;
        fitting += found.fitting.length;
        for (const plan of found.fitting.slice(0, limit)) rows.push({ file, flags: combination, plan });
        continue;
      }
      const outcome = evaluatePlan(source.model, settings);
      rows.push(outcome.ok ? { file, flags: combination, plan: outcome.plan } : { file, flags: combination, problems: outcome.problems });
    }
  }

  const plans = rows.flatMap((r) => (r.plan ? [r.plan] : []));
  const refused = rows.filter((r) => r.problems);
  if (!swept && !flags.has('search') && refused.length > 0) throw new CliError(`plan: ${refused[0]!.problems!.join('; ')}`);
  if (format === 'json') {
    const out: Record<string, unknown> = { plans: plans.map(jsonPlan) };
    if (swept) out.refused = refused.map((r) => ({ file: r.file, flags: Object.fromEntries([...r.flags].filter(([k]) => PLAN_SWEEPABLE.has(k))), problems: r.problems }));
    io.stdout(`${toJson(out)}\n`);
  } else if (!swept && !flags.has('search') && !flags.has('format')) {
    for (const p of plans) io.stdout(renderPlan(p));
  } else {
    if (flags.has('search') && format === 'table') io.stdout(`${fitting} of ${evaluated} layouts fit (fastest first${fitting > plans.length ? `, the first ${limit} of each search` : ''})\n`);
    const efficiencies = EFFICIENCY_FLAGS.filter(([flag]) => flags.has(flag));
    io.stdout(renderTable(rows, columns(positionals.length > 1, efficiencies), format));
  }
  if (plans.length === 0 && refused.length > 0) return 2;
  return plans.length > 0 && plans.every((p) => p.fits) ? 0 : 1;
}

export function jsonPlan(p: TrainingPlan): object {
  const s = p.settings;
  return {
    model: p.model,
    device: p.device,
    gpus: p.gpus,
    parallel: { ...p.parallel, gpusPerNode: s.gpusPerNode },
    schedule: { microBatch: s.microBatch, globalBatch: s.globalBatch, microBatches: p.microBatches, seq: s.seq, pipeline: p.parallel.vpp > 1 ? 'interleaved-1f1b' : '1f1b' },
    recompute: s.recompute,
    optimizer: s.optimizer,
    finetune: s.finetune,
    dtypes: s.dtypes,
    efficiency: s.efficiency,
    perGpuBytes: p.perGpuBytes,
    deviceBytes: p.deviceBytes,
    fits: p.fits,
    stepSeconds: p.step.seconds,
    step: p.step,
    mfu: p.mfu,
    tokensPerSecond: p.tokensPerSecond,
    stages: p.stages.map((st) => ({ rank: st.rank, holds: st.holds, params: st.params, bytes: st.bytes, fits: st.fits })),
    replicatedStores: p.replicated,
    notes: p.notes,
  };
}

const COMPONENTS: readonly (keyof Omit<PlanBytes, 'total'>)[] = ['weights', 'gradients', 'optimizer', 'activations', 'loss', 'buffers'];

function renderPlan(p: TrainingPlan): string {
  const s = p.settings;
  const q = p.parallel;
  const lines: string[] = [];
  lines.push(`${p.model} on ${p.gpus} × ${p.device}: ${planLayoutText(p)}`);
  lines.push(`  schedule  micro-batch ${s.microBatch} × ${p.microBatches} micro-batches × dp ${q.dp} = global batch ${s.globalBatch} at seq ${s.seq}; recompute ${s.recompute}; ${s.optimizer}; ${s.finetune}`);
  lines.push(`  per GPU   ${COMPONENTS.map((c) => `${c} ${formatBytes(p.perGpuBytes[c])}`).join('  ')}`);
  lines.push(`            total ${formatBytes(p.perGpuBytes.total)} of ${formatBytes(p.deviceBytes)}: ${p.fits ? 'fits' : 'DOES NOT FIT'}`);
  const st = p.step;
  lines.push(
    `  step      ${formatSeconds(st.seconds)} (compute ${formatSeconds(st.compute)}, TP ${formatSeconds(st.tensorParallel)}, EP ${formatSeconds(st.expertParallel)}, CP ${formatSeconds(st.contextParallel)}, bubble ${formatSeconds(st.pipelineBubble)}, PP sends ${formatSeconds(st.pipelineSends)}, DP ${formatSeconds(st.dataParallel)}, shared stores ${formatSeconds(st.sharedStores)})`,
  );
  const reached = efficiencyText(s.efficiency) ?? 'on the roofline';
  lines.push(`            MFU ${percent(p.mfu)}   ${count(p.tokensPerSecond)} tokens/s (${reached})`);
  if (p.stages.length > 1) {
    lines.push('  stages');
    for (const g of p.stages) lines.push(`    ${String(g.rank).padStart(3)}  ${formatBytes(g.bytes.total).padStart(10)}  ${g.fits ? 'fits' : 'OOM '}  ${g.holds.join(', ')}`);
  }
  for (const r of p.replicated) lines.push(`  shared    ${r.store}: ${r.params.toLocaleString('en-US')} params held by ranks ${r.ranks.join(', ')}, gradients all-reduced across them`);
  for (const n of p.notes) lines.push(`  note      ${n}`);
  return `${lines.join('\n')}\n\n`;
}


const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
const count = (x: number): string => Math.round(x).toLocaleString('en-US');

/** The grid's columns: the settings, then the per-GPU bytes, fit and speed (or why refused). */
function columns(withFile: boolean, efficiencies: readonly (readonly [string, keyof Efficiency])[]): Column<Row>[] {
  const setting = (header: string, get: (p: TrainingPlan) => string | number, flag: string, numeric = true): Column<Row> => ({
    header,
    text: (r) => (r.plan ? String(get(r.plan)) : String(r.flags.get(flag) ?? '')),
    numeric,
  });
  const bytes = (c: keyof PlanBytes, header: string = c): Column<Row> => ({
    header,
    text: (r) => (r.plan ? formatBytes(r.plan.perGpuBytes[c]) : ''),
    raw: (r) => (r.plan ? r.plan.perGpuBytes[c].toString() : ''),
    numeric: true,
  });
  const out: Column<Row>[] = [];
  if (withFile) out.push({ header: 'file', text: (r) => r.file });
  out.push(
    { header: 'model', text: (r) => r.plan?.model ?? String(r.flags.get('model') ?? '') },
    setting('device', (p) => p.device, 'device', false),
    setting('gpus', (p) => p.gpus, 'gpus'),
    setting('tp', (p) => p.parallel.tp, 'tp'),
    setting('pp', (p) => p.parallel.pp, 'pp'),
    setting('vpp', (p) => p.parallel.vpp, 'vpp'),
    setting('dp', (p) => p.parallel.dp, 'dp'),
    setting('cp', (p) => p.parallel.cp, 'cp'),
    setting('ep', (p) => p.parallel.ep, 'ep'),
    setting('zero', (p) => p.parallel.zero, 'zero'),
    setting('recompute', (p) => p.settings.recompute, 'recompute', false),
    setting('optimizer', (p) => p.settings.optimizer, 'optimizer', false),
    setting('finetune', (p) => p.settings.finetune, 'finetune', false),
    setting('micro-batch', (p) => p.settings.microBatch, 'micro-batch'),
    setting('global-batch', (p) => p.settings.globalBatch, 'global-batch'),
    setting('seq', (p) => p.settings.seq, 'seq'),
    ...efficiencies.map(([flag, name]) => setting(flag, (p) => p.settings.efficiency[name], flag)),
    bytes('weights'),
    bytes('gradients'),
    bytes('optimizer'),
    bytes('activations'),
    bytes('loss'),
    bytes('buffers'),
    bytes('total', 'per GPU'),
    { header: 'fits', text: (r) => (r.plan ? (r.plan.fits ? 'yes' : 'no') : `refused: ${r.problems!.join('; ')}`) },
    { header: 'step', text: (r) => (r.plan ? formatSeconds(r.plan.step.seconds) : ''), raw: (r) => (r.plan ? String(r.plan.step.seconds) : ''), numeric: true },
    { header: 'MFU', text: (r) => (r.plan ? percent(r.plan.mfu) : ''), raw: (r) => (r.plan ? String(r.plan.mfu) : ''), numeric: true },
    { header: 'tokens/s', text: (r) => (r.plan ? count(r.plan.tokensPerSecond) : ''), raw: (r) => (r.plan ? String(r.plan.tokensPerSecond) : ''), numeric: true },
  );
  return out;
}
