// The analysis settings flags shared by every command that analyses a spec
// (`--seq`, `--src-seq`, `--batch`, `--dtype`, `--device`), checked once, the same way.

import { findDevice, isDType, type AnalysisOptions, DTYPE_NAMES, DEVICE_NAMES } from '../core/index.js';
import { positiveIntFlag, type FlagSpec } from './args.js';
import { CliError } from './io.js';

export const ANALYSIS_FLAGS: readonly FlagSpec[] = [
  { name: 'seq', takesValue: true, value: 'N' },
  { name: 'src-seq', takesValue: true, value: 'N' },
  { name: 'batch', takesValue: true, value: 'N' },
  { name: 'dtype', takesValue: true, value: 'T' },
  { name: 'device', takesValue: true, value: 'D' },
];

type MutableOptions = { -readonly [K in keyof AnalysisOptions]?: AnalysisOptions[K] };

/** The settings given on the command line; absent flags keep the engine's defaults. */
export function readAnalysisFlags(flags: ReadonlyMap<string, string | true>): Partial<AnalysisOptions> {
  const str = (k: string): string | undefined => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const o: MutableOptions = {};
  const seq = str('seq');
  const srcSeq = str('src-seq');
  const batch = str('batch');
  const dtype = str('dtype');
  const device = str('device');
  if (seq) o.seq = positiveIntFlag(seq, 'seq');
  if (srcSeq) o.srcSeq = positiveIntFlag(srcSeq, 'src-seq');
  if (batch) o.batch = positiveIntFlag(batch, 'batch');
  if (dtype) {
    if (!isDType(dtype)) throw new CliError(`--dtype must be one of ${DTYPE_NAMES.join(', ')}; got '${dtype}'`);
    o.dtype = dtype;
  }
  if (device) {
    const d = findDevice(device);
    if (!d) throw new CliError(`--device must be one of ${DEVICE_NAMES.join(', ')}; got '${device}'`);
    o.device = d.name;
  }
  return o;
}
