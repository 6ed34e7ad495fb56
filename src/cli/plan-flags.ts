// The flags `npas plan` and `npas fit` share: the cluster, the parallel layout, the schedule,
// recomputation, optimizer, fine-tuning and dtypes, read into the core's PlanSettings.

import { DEFAULT_PLAN, FINETUNE_MODES, OPTIMIZER_NAMES, RECOMPUTE_MODES, findDevice, isDType, type DType, type FinetuneMode, type OptimizerName, type PlanSettings, type RecomputeMode, type ZeroStage, type Efficiency, DTYPE_NAMES, DEVICE_NAMES } from '../core/index.js';
import { positiveIntFlag, type FlagSpec } from './args.js';
import { CliError } from './io.js';

/** The efficiency flags and the fraction of a peak each sets (one table: the flag specs, `plan`'s sweepable flags and grid columns, `fit`'s flags). */
export const EFFICIENCY_FLAGS: readonly (readonly [string, keyof Efficiency])[] = [
  ['compute-efficiency', 'compute'],
  ['memory-efficiency', 'memory'],
  ['link-efficiency', 'links'],
];

export const PLAN_FLAGS: readonly FlagSpec[] = [
  { name: 'model', takesValue: true, value: 'M' },
  { name: 'device', takesValue: true, value: 'D' },
  { name: 'gpus', takesValue: true, value: 'N' },
  { name: 'gpus-per-node', takesValue: true, value: 'G' },
  { name: 'tp', takesValue: true, value: 'T' },
  { name: 'pp', takesValue: true, value: 'P' },
  { name: 'vpp', takesValue: true, value: 'V' },
  { name: 'dp', takesValue: true, value: 'D' },
  { name: 'cp', takesValue: true, value: 'C' },
  { name: 'ep', takesValue: true, value: 'E' },
  { name: 'etp', takesValue: true, value: 'T' },
  { name: 'zero', takesValue: true, value: '0-3' },
  { name: 'distributed-optimizer', takesValue: false },
  { name: 'recompute', takesValue: true, value: 'none|selective|full' },
  { name: 'micro-batch', takesValue: true, value: 'b' },
  { name: 'global-batch', takesValue: true, value: 'B' },
  { name: 'seq', takesValue: true, value: 'S' },
  { name: 'optimizer', takesValue: true, value: 'adamw|adam8bit|adafactor|sgd|lion|muon' },
  { name: 'finetune', takesValue: true, value: 'full|lora|qlora' },
  { name: 'dtype', takesValue: true, value: 'T' },
  { name: 'grad-dtype', takesValue: true, value: 'T' },
  { name: 'no-master', takesValue: false },
  { name: 'intra-bw', takesValue: true, value: 'GB/s' },
  { name: 'inter-bw', takesValue: true, value: 'GB/s' },
  ...EFFICIENCY_FLAGS.map(([name]) => ({ name, takesValue: true, value: 'F' })),
  { name: 'json', takesValue: false },
];

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new CliError(`--${flag} must be one of ${allowed.join(', ')}; got '${value}'`);
  return value as T;
}

function dtypeFlag(value: string, flag: string): DType {
  if (!isDType(value)) throw new CliError(`--${flag} must be one of ${DTYPE_NAMES.join(', ')}; got '${value}'`);
  return value;
}

/** A bandwidth in GB/s (decimal), as a positive number of bytes per second. */
function bandwidthFlag(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new CliError(`--${flag} is a bandwidth in GB/s (e.g. 450), got '${value}'`);
  return n * 1e9;
}

/** A fraction of a peak, in (0, 1] (`--compute-efficiency 0.45`). */
function efficiencyFlag(value: string | undefined, flag: string): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(value) || !(n > 0)) throw new CliError(`--${flag} is the fraction of the peak reached, in (0, 1] (e.g. 0.45), got '${value}'`);
  return n;
}

/**
 * The plan the flags describe. The data-parallel size defaults to what --gpus leaves after
 * tp × pp × cp; --gpus defaults to the product; the global batch to micro-batch × dp.
 */
export function readPlanFlags(flags: ReadonlyMap<string, string | true>): PlanSettings {
  const str = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const int = (k: string, fallback: number): number => {
    const v = str(k);
    return v === undefined ? fallback : positiveIntFlag(v, k);
  };
  const deviceName = str('device') ?? DEFAULT_PLAN.device;
  const device = findDevice(deviceName);
  if (!device) throw new CliError(`--device must be one of ${DEVICE_NAMES.join(', ')}; got '${deviceName}'`);
  const tp = int('tp', 1);
  const pp = int('pp', 1);
  const cp = int('cp', 1);
  const gpusFlag = str('gpus');
  const dpFlag = str('dp');
  let dp: number;
  let gpus: number;
  if (dpFlag !== undefined) {
    dp = positiveIntFlag(dpFlag, 'dp');
    gpus = gpusFlag === undefined ? tp * pp * cp * dp : positiveIntFlag(gpusFlag, 'gpus');
  } else {
    gpus = gpusFlag === undefined ? tp * pp * cp : positiveIntFlag(gpusFlag, 'gpus');
    if (gpus % (tp * pp * cp) !== 0) throw new CliError(`--gpus ${gpus} is not a multiple of tp × pp × cp = ${tp * pp * cp}`);
    dp = gpus / (tp * pp * cp);
  }
  const zeroText = str('zero');
  let zero: ZeroStage = 0;
  if (zeroText !== undefined) zero = Number(oneOf(zeroText, ['0', '1', '2', '3'], 'zero')) as ZeroStage;
  if (flags.has('distributed-optimizer')) {
    if (zeroText !== undefined && zero !== 1) throw new CliError('--distributed-optimizer is ZeRO stage 1; it cannot be combined with --zero ' + zero);
    zero = 1;
  }
  const microBatch = int('micro-batch', 1);
  const weights = str('dtype') === undefined ? DEFAULT_PLAN.dtypes.weights : dtypeFlag(str('dtype')!, 'dtype');
  const gradients = str('grad-dtype') === undefined ? weights : dtypeFlag(str('grad-dtype')!, 'grad-dtype');
  const intra = str('intra-bw');
  const inter = str('inter-bw');
  return {
    ...DEFAULT_PLAN,
    device: device.name,
    gpus,
    gpusPerNode: int('gpus-per-node', DEFAULT_PLAN.gpusPerNode),
    ...(intra === undefined ? {} : { intraNodeBandwidth: bandwidthFlag(intra, 'intra-bw') }),
    ...(inter === undefined ? {} : { interNodeBandwidth: bandwidthFlag(inter, 'inter-bw') }),
    parallel: { tp, pp, vpp: int('vpp', 1), dp, cp, ep: int('ep', 1), etp: int('etp', tp), zero },
    microBatch,
    globalBatch: int('global-batch', microBatch * dp),
    seq: int('seq', DEFAULT_PLAN.seq),
    recompute: str('recompute') === undefined ? DEFAULT_PLAN.recompute : oneOf<RecomputeMode>(str('recompute')!, RECOMPUTE_MODES, 'recompute'),
    optimizer: str('optimizer') === undefined ? DEFAULT_PLAN.optimizer : oneOf<OptimizerName>(str('optimizer')!, OPTIMIZER_NAMES, 'optimizer'),
    masterWeights: !flags.has('no-master'),
    finetune: str('finetune') === undefined ? DEFAULT_PLAN.finetune : oneOf<FinetuneMode>(str('finetune')!, FINETUNE_MODES, 'finetune'),
    dtypes: { weights, activations: weights, gradients, master: 'fp32' },
    efficiency: {
      compute: efficiencyFlag(str('compute-efficiency'), 'compute-efficiency'),
      memory: efficiencyFlag(str('memory-efficiency'), 'memory-efficiency'),
      links: efficiencyFlag(str('link-efficiency'), 'link-efficiency'),
    },
  };
}
