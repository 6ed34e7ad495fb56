// `npas fit FILE --model M --device D [--gpus N]`: what fits. Serving on N GPUs (tensor parallel
// inside a node, pipeline across nodes): the largest context for one sequence and the largest
// batch at --seq, with prefill and decode tokens/s. Training: the smallest power-of-two number of
// GPUs at which some parallel layout fits (searched as `npas plan --search`).

import { DEFAULT_PLAN, formatBytes, planServing, planSource, smallestCluster, type ServingPlan, type TrainingPlan, toJson } from '../../core/index.js';
import { parseCommand, positiveIntFlag, usageOf, type CommandSpec } from '../args.js';
import { CliError, type CliIO } from '../io.js';
import { EFFICIENCY_FLAGS, PLAN_FLAGS, readPlanFlags } from '../plan-flags.js';
import { jsonPlan } from './plan.js';
import { diagnosticLine, readSpecProgram } from '../spec-program.js';

const FIT_FLAG_NAMES = new Set(['model', 'device', 'gpus', 'gpus-per-node', 'seq', 'dtype', 'optimizer', 'finetune', 'micro-batch', 'global-batch', 'grad-dtype', 'no-master', ...EFFICIENCY_FLAGS.map(([flag]) => flag), 'json']);
export const FIT_COMMAND: CommandSpec = {
  name: 'fit',
  operands: 'FILE',
  flags: [...PLAN_FLAGS.filter((f) => FIT_FLAG_NAMES.has(f.name)), { name: 'batch', takesValue: true, value: 'B' }, { name: 'max-gpus', takesValue: true, value: 'N' }],
};

export function runFit(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseCommand(argv, FIT_COMMAND);
  if (positionals.length !== 1) throw new CliError(usageOf(FIT_COMMAND));
  const file = positionals[0]!;
  const str = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  // Serving takes the GPU count as given; the training search picks its own layouts.
  const gpus = str('gpus') === undefined ? 1 : positiveIntFlag(str('gpus')!, 'gpus');
  const batch = str('batch') === undefined ? 1 : positiveIntFlag(str('batch')!, 'batch');
  const maxGpus = str('max-gpus') === undefined ? 4096 : positiveIntFlag(str('max-gpus')!, 'max-gpus');
  const trainFlags = new Map(flags);
  trainFlags.delete('gpus');
  const settings = readPlanFlags(trainFlags);
  const spec = readSpecProgram(file, io);
  const source = planSource(spec.compilation, str('model'), settings.seq, settings.dtypes.weights);
  if (!source.ok) {
    for (const d of source.diagnostics) io.stderr(`${diagnosticLine(spec, d)}\n`);
    if (source.diagnostics.length > 0) return 2;
    throw new CliError(`${file}: ${source.message}`);
  }
  const tp = Math.min(gpus, settings.gpusPerNode);
  if (gpus % tp !== 0) throw new CliError(`--gpus ${gpus} must be a multiple of the GPUs per node (${settings.gpusPerNode}) beyond one node`);
  const serving = planServing(source.model, source.report, source.kvAt, { device: settings.device, tp, pp: gpus / tp, ep: 1, batch, seq: settings.seq, dtype: settings.dtypes.weights, efficiency: settings.efficiency }, source.decodeReadsAt);
  if (!serving.ok) throw new CliError(`fit: ${serving.problems.join('; ')}`);
  const training = smallestCluster(source.model, { ...settings, globalBatch: str('global-batch') === undefined ? DEFAULT_PLAN.globalBatch : settings.globalBatch }, maxGpus);
  if (flags.has('json')) {
    io.stdout(`${toJson({ model: source.model.name, device: settings.device, serving: serving.plan, training: training ? { gpus: training.gpus, plan: jsonPlan(training.plan) } : null })}\n`);
  } else io.stdout(render(source.model.name, serving.plan, training, maxGpus));
  return 0;
}

function render(name: string, s: ServingPlan, t: { gpus: number; plan: TrainingPlan } | undefined, maxGpus: number): string {
  const lines = [`${name} on ${s.device}`];
  lines.push(`  serving   ${s.gpus} GPU(s): weights ${formatBytes(s.perGpuBytes.weights)} per GPU; largest context ${s.maxContext.toLocaleString('en-US')} tokens at batch 1; largest batch ${s.maxBatch.toLocaleString('en-US')} at this seq`);
  lines.push(`            prefill ${Math.round(s.prefillTokensPerSecond).toLocaleString('en-US')} tokens/s, decode ${Math.round(s.decodeTokensPerSecond).toLocaleString('en-US')} tokens/s`);
  if (t) {
    const q = t.plan.parallel;
    lines.push(`  training  fits on ${t.gpus} GPU(s) with tp ${q.tp} · pp ${q.pp} · dp ${q.dp}${q.ep > 1 ? ` · ep ${q.ep}` : ''} · ZeRO ${q.zero}, recompute ${t.plan.settings.recompute}: ${formatBytes(t.plan.perGpuBytes.total)} per GPU, step ${t.plan.step.seconds.toPrecision(3)} s`);
  } else lines.push(`  training  no layout fits on up to ${maxGpus} GPUs`);
  return `${lines.join('\n')}\n`;
}
