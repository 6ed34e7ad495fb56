// The analysis settings flags shared by every command that analyses a spec (`--seq`,
// `--src-seq`, `--batch`, `--dtype`, one `--<class>-dtype` per precision class, `--loss`,
// `--device` and `--devices FILE`), checked once, the same way.

import { DEFAULT_OPTIONS, DEVICE_NAMES, DTYPE_NAMES, PRECISION_CLASSES, findDevice, isDType, parseDeviceProfiles, parsePathText, type AnalysisOptions, type DeviceProfile, type LossMode, type Precision, type WeightDtypeSetting } from '../core/index.js';
import { positiveIntFlag, type FlagSpec } from './args.js';
import { CliError, type CliIO } from './io.js';
import { readSpec } from './commands/read-spec.js';

/** `--weights-dtype`, `--kv-dtype`, …: one flag per precision class. */
const precisionFlag = (c: string): string => `${c}-dtype`;

export const ANALYSIS_FLAGS: readonly FlagSpec[] = [
  { name: 'seq', takesValue: true, value: 'N' },
  { name: 'src-seq', takesValue: true, value: 'N' },
  { name: 'batch', takesValue: true, value: 'N' },
  { name: 'dtype', takesValue: true, value: 'T' },
  ...PRECISION_CLASSES.map((c) => ({ name: precisionFlag(c), takesValue: true, value: c === 'master' ? 'T|none' : c === 'weights' ? 'T[+PATH=T…]' : 'T' })),
  { name: 'loss', takesValue: true, value: 'full|fused|chunked:N' },
  { name: 'shared-prefix', takesValue: true, value: 'N' },
  { name: 'continuations', takesValue: true, value: 'K' },
  { name: 'device', takesValue: true, value: 'D' },
  { name: 'devices', takesValue: true, value: 'FILE.json' },
];

type MutableOptions = { -readonly [K in keyof AnalysisOptions]?: AnalysisOptions[K] };

/** The settings given on the command line; absent flags keep the engine's defaults. */
export function readAnalysisFlags(flags: ReadonlyMap<string, string | true>, io?: CliIO): Partial<AnalysisOptions> {
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
  const precision: { -readonly [K in keyof Precision]?: Precision[K] } = {};
  for (const c of PRECISION_CLASSES) {
    let v = str(precisionFlag(c));
    if (v === undefined) continue;
    // `--weights-dtype bf16+embed=int8+body.attn=fp8`: the class and per-path overrides, as a
    // spec's `precision weights: bf16` and `precision weights embed: int8` write them (`+` joins
    // them: a comma lists a budget grid's values).
    if (c === 'weights' && v.includes('=')) {
      const items = v.split('+').map((x) => x.trim());
      const classes = items.filter((x) => !x.includes('='));
      if (classes.length > 1) throw new CliError(`--weights-dtype takes one dtype for the class and PATH=T overrides; got '${v}'`);
      o.weightDtypes = items.filter((x) => x.includes('=')).map(readWeightDtype);
      if (classes.length === 0) continue;
      v = classes[0]!;
    }
    if (c === 'master' && v === 'none') precision.master = 'none';
    else if (isDType(v)) precision[c] = v;
    else throw new CliError(`--${precisionFlag(c)} must be one of ${DTYPE_NAMES.join(', ')}${c === 'master' ? ', none' : ''}; got '${v}'`);
  }
  if (Object.keys(precision).length > 0) o.precision = precision;
  const loss = str('loss');
  if (loss) o.loss = readLoss(loss);
  // A prompt of N tokens shared by K continuations of seq − N tokens (docs/language.md, "Shared prompts").
  const prefix = str('shared-prefix');
  const continuations = str('continuations');
  if (prefix !== undefined || continuations !== undefined) {
    const tokens = prefix === undefined ? 0 : nonNegativeIntFlag(prefix, 'shared-prefix');
    const k = continuations === undefined ? 2 : positiveIntFlag(continuations, 'continuations');
    const seq = o.seq ?? DEFAULT_SEQ;
    if (tokens >= seq) throw new CliError(`--shared-prefix ${tokens} must be below --seq ${seq}: each continuation needs a token of its own`);
    o.sharedPrefix = { tokens, continuations: k };
  }
  const devicesFile = str('devices');
  let devices: readonly DeviceProfile[] = [];
  if (devicesFile) {
    if (!io) throw new CliError('--devices is not supported by this command');
    devices = readDevicesFile(devicesFile, io);
    o.devices = devices;
  }
  if (device) {
    // A name neither builtin nor in --devices may be a device the spec declares (`Chip =
    // Device(…)`): the compilation knows those, and reports a name it does not know either.
    const d = findDevice(device, devices);
    if (!d && !/^[A-Za-z][A-Za-z0-9_]*$/.test(device)) throw new CliError(`--device must be one of ${[...DEVICE_NAMES, ...devices.map((x) => x.name)].join(', ')} or a device the spec declares; got '${device}'`);
    o.device = d ? d.name : device;
  }
  return o;
}

/** One `PATH=T` of --weights-dtype: a path as a statement writes it, and a dtype. */
function readWeightDtype(item: string): WeightDtypeSetting {
  const at = item.lastIndexOf('=');
  const path = item.slice(0, at).trim();
  const dtype = item.slice(at + 1).trim();
  if (!parsePathText(path)) throw new CliError(`--weights-dtype: '${path}' is not a path (body.attn, body[3].mlp, lm_head)`);
  if (!isDType(dtype)) throw new CliError(`--weights-dtype: ${path} must be one of ${DTYPE_NAMES.join(', ')}; got '${dtype}'`);
  return { path, dtype };
}

/** The engine's default sequence length, for checking --shared-prefix against an absent --seq. */
const DEFAULT_SEQ = DEFAULT_OPTIONS.seq;

function nonNegativeIntFlag(text: string, flag: string): number {
  if (text === '0') return 0;
  return positiveIntFlag(text, flag);
}

/** `full`, `fused`, or `chunked:TOKENS` (e.g. `chunked:4Ki`). */
function readLoss(v: string): LossMode {
  if (v === 'full' || v === 'fused') return { kind: v };
  const m = /^chunked:(.+)$/.exec(v);
  if (m) return { kind: 'chunked', chunk: positiveIntFlag(m[1]!, 'loss chunked:') };
  throw new CliError(`--loss must be full, fused or chunked:TOKENS (e.g. chunked:4Ki); got '${v}'`);
}

/** A devices JSON file (see core/analysis/device-profiles.ts); any problem is an error naming it. */
export function readDevicesFile(path: string, io: CliIO): readonly DeviceProfile[] {
  const text = readSpec(path, io);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = parseDeviceProfiles(json);
  if (parsed.problems.length > 0) throw new CliError(`${path}: ${parsed.problems.join('; ')}`);
  return parsed.devices;
}
