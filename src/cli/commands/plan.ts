// `npas plan FILE --model M --gpus N --device D --tp T --pp P … [--search] [--json]`: per-GPU and
// per-stage memory of a training plan, whether it fits, and its step time, MFU and tokens/s
// (docs/plans.md). --search lists the parallel layouts of the cluster that fit, fastest first.
// Exit 1 when the plan (or every searched layout) does not fit, 2 on spec or flag errors.

import { evaluatePlan, formatBytes, formatSeconds, lineColumn, planSource, searchPlans, type PlanBytes, type TrainingPlan } from '../../core/index.js';
import { parseArgs, positiveIntFlag } from '../args.js';
import { CliError, type CliIO } from '../io.js';
import { toJson } from '../json.js';
import { PLAN_FLAGS, readPlanFlags } from '../plan-flags.js';
import { readSpec } from './read-spec.js';

const FLAGS = [...PLAN_FLAGS, { name: 'search', takesValue: false }, { name: 'limit', takesValue: true }];

export const PLAN_USAGE = 'usage: npas plan FILE [--model M] [--gpus N] [--device D] [--tp T] [--pp P] [--vpp V] [--dp D] [--cp C] [--ep E] [--etp T] [--zero 0-3] [--recompute none|selective|full] [--micro-batch b] [--global-batch B] [--seq S] [--optimizer O] [--finetune full|lora|qlora] [--search] [--json]';

export function runPlan(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseArgs(argv, FLAGS, 'plan');
  if (positionals.length !== 1) throw new CliError(PLAN_USAGE);
  const file = positionals[0]!;
  const settings = readPlanFlags(flags);
  const limitText = flags.get('limit');
  const limit = typeof limitText === 'string' ? positiveIntFlag(limitText, 'limit') : 20;
  const text = readSpec(file, io);
  const modelFlag = flags.get('model');
  const source = planSource(text, typeof modelFlag === 'string' ? modelFlag : undefined, settings.seq, settings.dtypes.weights);
  if (!source.ok) {
    for (const d of source.diagnostics) {
      const { line, column } = lineColumn(text, d.range.start);
      io.stderr(`${file}:${line}:${column}: error ${d.code}: ${d.message}\n`);
    }
    if (source.diagnostics.length > 0) return 2;
    throw new CliError(`${file}: ${source.message}`);
  }
  let plans: readonly TrainingPlan[];
  if (flags.has('search')) {
    const found = searchPlans(source.model, settings);
    plans = found.fitting.slice(0, limit);
    if (!flags.has('json')) io.stdout(`${source.model.name}: ${found.fitting.length} of ${found.evaluated} layouts of ${settings.gpus} × ${settings.device} fit (fastest first${found.fitting.length > limit ? `, first ${limit}` : ''})\n`);
  } else {
    const outcome = evaluatePlan(source.model, settings);
    if (!outcome.ok) throw new CliError(`plan: ${outcome.problems.join('; ')}`);
    plans = [outcome.plan];
  }
  if (flags.has('json')) io.stdout(`${toJson({ plans: plans.map(jsonPlan) })}\n`);
  else if (flags.has('search')) io.stdout(searchTable(plans));
  else for (const p of plans) io.stdout(renderPlan(p));
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
  lines.push(`${p.model} on ${p.gpus} × ${p.device}: tp ${q.tp} · pp ${q.pp}${q.vpp > 1 ? ` (vpp ${q.vpp})` : ''} · dp ${q.dp}${q.cp > 1 ? ` · cp ${q.cp}` : ''}${q.ep > 1 ? ` · ep ${q.ep}` : ''} · ZeRO ${q.zero}`);
  lines.push(`  schedule  micro-batch ${s.microBatch} × ${p.microBatches} micro-batches × dp ${q.dp} = global batch ${s.globalBatch} at seq ${s.seq}; recompute ${s.recompute}; ${s.optimizer}; ${s.finetune}`);
  lines.push(`  per GPU   ${COMPONENTS.map((c) => `${c} ${formatBytes(p.perGpuBytes[c])}`).join('  ')}`);
  lines.push(`            total ${formatBytes(p.perGpuBytes.total)} of ${formatBytes(p.deviceBytes)}: ${p.fits ? 'fits' : 'DOES NOT FIT'}`);
  const st = p.step;
  lines.push(`  step      ${formatSeconds(st.seconds)} (compute ${formatSeconds(st.compute)}, TP ${formatSeconds(st.tensorParallel)}, EP ${formatSeconds(st.expertParallel)}, CP ${formatSeconds(st.contextParallel)}, bubble ${formatSeconds(st.pipelineBubble)}, PP sends ${formatSeconds(st.pipelineSends)}, DP ${formatSeconds(st.dataParallel)}, shared stores ${formatSeconds(st.sharedStores)})`);
  lines.push(`            MFU ${(p.mfu * 100).toFixed(1)}%   ${Math.round(p.tokensPerSecond).toLocaleString('en-US')} tokens/s`);
  if (p.stages.length > 1) {
    lines.push('  stages');
    for (const g of p.stages) lines.push(`    ${String(g.rank).padStart(3)}  ${formatBytes(g.bytes.total).padStart(10)}  ${g.fits ? 'fits' : 'OOM '}  ${g.holds.join(', ')}`);
  }
  for (const r of p.replicated) lines.push(`  shared    ${r.store}: ${r.params.toLocaleString('en-US')} params held by ranks ${r.ranks.join(', ')}, gradients all-reduced across them`);
  for (const n of p.notes) lines.push(`  note      ${n}`);
  return `${lines.join('\n')}\n\n`;
}

function searchTable(plans: readonly TrainingPlan[]): string {
  const header = ['tp', 'pp', 'vpp', 'dp', 'ep', 'zero', 'recompute', 'per GPU', 'step', 'MFU', 'tokens/s'];
  const rows = plans.map((p) => {
    const q = p.parallel;
    return [q.tp, q.pp, q.vpp, q.dp, q.ep, q.zero, p.settings.recompute, formatBytes(p.perGpuBytes.total), formatSeconds(p.step.seconds), `${(p.mfu * 100).toFixed(1)}%`, Math.round(p.tokensPerSecond).toLocaleString('en-US')].map(String);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
