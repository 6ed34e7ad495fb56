// The editor's analysis settings (`npas.analysis.*`) as data — each one's default and what a valid
// value is — and the one check of a value that both hosts run: the extension on what VS Code's
// configuration holds (a hand-edited settings.json can hold anything), the language server on
// what a client sends. Same values accepted, the same words for a bad one, on either side.
// Pure, and a leaf that imports only leaves (the engine's dtype and device tables, the count
// reader), so the extension reads it without loading the engine.

import type { DType, SharedPrefix } from './report-types.js';
import type { DeviceProfile } from './devices.js';
import { DTYPE_NAMES } from './dtype-bits.js';
import { DEVICE_NAMES, findDevice } from './devices.js';
import { parseParameterCount } from '../numbers/count-text.js';

/** A per-class dtype setting: 'default' sets nothing (the spec's `precision`, then `dtype`). */
export type ClassDTypeSetting = 'default' | DType;
export const CLASS_DTYPE_SETTINGS: readonly ClassDTypeSetting[] = ['default', ...DTYPE_NAMES];
/** The master copy may also be absent. */
export const MASTER_DTYPE_SETTINGS: readonly (ClassDTypeSetting | 'none')[] = [...CLASS_DTYPE_SETTINGS, 'none'];

/** Every `npas.analysis.*` setting, checked: a bad or absent value is its default. */
export interface AnalysisSettingValues {
  readonly sequenceLength: number;
  readonly batchSize: number;
  readonly dtype: DType;
  /** A builtin device or one of the devices file's, as its table names it. */
  readonly device: string;
  readonly weightsDtype: ClassDTypeSetting;
  readonly expertsDtype: ClassDTypeSetting;
  readonly kvDtype: ClassDTypeSetting;
  readonly activationsDtype: ClassDTypeSetting;
  readonly computeDtype: ClassDTypeSetting;
  readonly gradientsDtype: ClassDTypeSetting;
  readonly masterDtype: ClassDTypeSetting | 'none';
  readonly optimizerDtype: ClassDTypeSetting;
  /** Weights in a dtype of their own, by path (`{ "embed": "int8" }`), after the spec's `precision weights` statements. */
  readonly weightsDtypeByPath: Readonly<Record<string, DType>>;
  /** A devices JSON file (as `npas budget --devices`); '' for none. */
  readonly devicesFile: string;
  /** P: prompt tokens shared by `continuations` continuations (`--shared-prefix`); 0 for none. Below `sequenceLength`. */
  readonly sharedPrefixTokens: number;
  /** k: continuations of a shared prompt (`--continuations`), read only when `sharedPrefixTokens` > 0. */
  readonly continuations: number;
}

export type AnalysisSettingKey = keyof AnalysisSettingValues;

/** The largest sequence length or batch: the bound the engine puts on budget settings. */
export const MAX_COUNT_SETTING = 2 ** 30;

/** The defaults (the engine's DEFAULT_OPTIONS; test/packaging holds them equal). */
export const DEFAULT_ANALYSIS_SETTINGS: AnalysisSettingValues = {
  sequenceLength: 4096,
  batchSize: 1,
  dtype: 'bf16',
  device: 'H100',
  weightsDtype: 'default',
  expertsDtype: 'default',
  kvDtype: 'default',
  activationsDtype: 'default',
  computeDtype: 'default',
  gradientsDtype: 'default',
  masterDtype: 'default',
  optimizerDtype: 'default',
  weightsDtypeByPath: {},
  devicesFile: '',
  sharedPrefixTokens: 0,
  continuations: 2,
};

export const ANALYSIS_SETTING_KEYS = Object.keys(DEFAULT_ANALYSIS_SETTINGS) as readonly AnalysisSettingKey[];

/** What a host knows beside the values: the devices its devices file holds. */
export interface SettingsContext {
  /**
   * The devices file's devices, when the host read it (the language server); 'not read' where it
   * does not (the extension, which hands the file to the server): then, with a devices file set,
   * a device name of a devices file's shape is taken as it is and the server checks it.
   */
  readonly fileDevices: readonly DeviceProfile[] | 'not read';
}

/** One bad value: the setting's id and the words that report it. */
export interface SettingProblem {
  readonly id: string;
  readonly message: string;
}

export interface CheckedSettings {
  readonly values: AnalysisSettingValues;
  readonly problems: readonly SettingProblem[];
}

/** A value read, or undefined when it is not one. */
type Reader<T> = (value: unknown, context: SettingsContext, devicesFile: string) => T | undefined;

/** A size as a setting may be written: an integer, or text with a magnitude (`8192`, `8K`, `8Ki`). */
const size: Reader<number> = (v) => {
  const read = typeof v === 'number' ? (Number.isSafeInteger(v) ? v : undefined) : typeof v === 'string' ? wholeCount(v) : undefined;
  return read !== undefined && read >= 1 && read <= MAX_COUNT_SETTING ? read : undefined;
};
/** A count that may be 0 (a shared prompt's tokens: 0 is none), written as a size is. */
const countOrZero: Reader<number> = (v) => {
  const read = typeof v === 'number' ? (Number.isSafeInteger(v) ? v : undefined) : typeof v === 'string' ? wholeCount(v) : undefined;
  return read !== undefined && read >= 0 && read <= MAX_COUNT_SETTING ? read : undefined;
};
function wholeCount(text: string): number | undefined {
  const r = parseParameterCount(text, 0n);
  return r.ok && !r.percent && r.count <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r.count) : undefined;
}

const oneOf =
  <T extends string>(values: readonly T[]): Reader<T> =>
  (v) =>
    typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : undefined;

/** A device's name as a devices file may spell it: printable, at most 64 characters. */
const DEVICE_NAME_SHAPE = /^[\w .+()-]{1,64}$/;

const device: Reader<string> = (v, context, devicesFile) => {
  if (typeof v !== 'string') return undefined;
  if (context.fileDevices === 'not read') return findDevice(v)?.name ?? (devicesFile !== '' && DEVICE_NAME_SHAPE.test(v) ? v : undefined);
  return findDevice(v, context.fileDevices)?.name;
};

/** A path as a sharing statement writes it (`body.attn`, `body[3].mlp`, `lm_head`); whether a model has it is the analysis' question. */
const PATH_SHAPE = /^\s*[A-Za-z_]\w*(\s*\[\s*\w+\s*\])*(\s*\.\s*[A-Za-z_]\w*(\s*\[\s*\w+\s*\])*)*\s*$/;

interface Rule<T> {
  readonly read: Reader<T>;
  /** What a valid value is, for the message about a bad one. */
  readonly expected: (context: SettingsContext, devicesFile: string) => string;
}

const COUNT_EXPECTED = `an integer from 1 to ${MAX_COUNT_SETTING}`;
const classRule: Rule<ClassDTypeSetting> = { read: oneOf(CLASS_DTYPE_SETTINGS), expected: () => `one of ${CLASS_DTYPE_SETTINGS.join(', ')}` };
const ENTRY_EXPECTED = `one of ${DTYPE_NAMES.join(', ')} under a path (body.attn, body[3].mlp, lm_head)`;

/** Every setting but the per-path dtypes, whose entries are checked one by one. */
const RULES: { readonly [K in Exclude<AnalysisSettingKey, 'weightsDtypeByPath'>]: Rule<AnalysisSettingValues[K]> } = {
  sequenceLength: { read: size, expected: () => COUNT_EXPECTED },
  batchSize: { read: size, expected: () => COUNT_EXPECTED },
  dtype: { read: oneOf(DTYPE_NAMES), expected: () => `one of ${DTYPE_NAMES.join(', ')}` },
  device: {
    read: device,
    expected: (context, devicesFile) =>
      context.fileDevices === 'not read'
        ? `one of ${DEVICE_NAMES.join(', ')}${devicesFile !== '' ? ' or a device of npas.analysis.devicesFile' : ''}`
        : `one of ${[...DEVICE_NAMES, ...context.fileDevices.map((d) => d.name)].join(', ')}`,
  },
  weightsDtype: classRule,
  expertsDtype: classRule,
  kvDtype: classRule,
  activationsDtype: classRule,
  computeDtype: classRule,
  gradientsDtype: classRule,
  masterDtype: { read: oneOf(MASTER_DTYPE_SETTINGS), expected: () => `one of ${MASTER_DTYPE_SETTINGS.join(', ')}` },
  optimizerDtype: classRule,
  devicesFile: { read: (v) => (typeof v === 'string' ? devicesFileSetting(v) : undefined), expected: () => 'a path to a devices JSON file (a string)' },
  sharedPrefixTokens: { read: countOrZero, expected: () => `an integer from 0 (no shared prompt) to ${MAX_COUNT_SETTING}` },
  continuations: { read: size, expected: () => COUNT_EXPECTED },
};

const shown = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};
/** The words for a bad value of any `npas.*` setting (the probe's settings say theirs the same way). */
export const settingProblem = (id: string, value: unknown, expected: string, fallback: unknown): SettingProblem => ({
  id,
  message: `${id}: ${shown(value)} is not ${expected}; using the default ${typeof fallback === 'string' && fallback !== '' ? fallback : shown(fallback)}`,
});

/** The `devicesFile` setting's path ('' for none or a bad value), which a host reads before checking a device. */
export const devicesFileSetting = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * The settings `raw` holds (by key: `sequenceLength`, …), each checked: a bad value is replaced by
 * its default and reported, an absent (undefined or null) one is the default, quietly. A per-path
 * dtype entry that is bad is dropped and reported on its own.
 */
export function checkAnalysisSettings(raw: Readonly<Record<string, unknown>>, context: SettingsContext): CheckedSettings {
  const problems: SettingProblem[] = [];
  const devicesFile = checkOne('devicesFile', raw.devicesFile, context, '', problems);
  const values = Object.fromEntries(ANALYSIS_SETTING_KEYS.map((k) => [k, k === 'weightsDtypeByPath' ? dtypesByPath(raw[k], problems) : k === 'devicesFile' ? devicesFile : checkOne(k, raw[k], context, devicesFile, problems)])) as unknown as AnalysisSettingValues;
  // Each continuation needs a token of its own: a prompt of seq tokens or more is no shared prompt.
  if (values.sharedPrefixTokens >= values.sequenceLength) {
    problems.push({
      id: 'npas.analysis.sharedPrefixTokens',
      message: `npas.analysis.sharedPrefixTokens: ${values.sharedPrefixTokens} is not below npas.analysis.sequenceLength (${values.sequenceLength}): each continuation needs a token of its own; using the default 0 (no shared prompt)`,
    });
    return { values: { ...values, sharedPrefixTokens: 0 }, problems };
  }
  return { values, problems };
}

/**
 * The engine's `sharedPrefix` option of checked settings: a prompt of `sharedPrefixTokens` tokens
 * shared by `continuations` continuations, or none when the prompt is 0 tokens.
 */
export function sharedPrefixOf(values: Pick<AnalysisSettingValues, 'sharedPrefixTokens' | 'continuations'>): SharedPrefix | undefined {
  return values.sharedPrefixTokens > 0 ? { tokens: values.sharedPrefixTokens, continuations: values.continuations } : undefined;
}

function checkOne<K extends Exclude<AnalysisSettingKey, 'weightsDtypeByPath'>>(key: K, value: unknown, context: SettingsContext, devicesFile: string, problems: SettingProblem[]): AnalysisSettingValues[K] {
  const fallback = DEFAULT_ANALYSIS_SETTINGS[key];
  if (value === undefined || value === null) return fallback;
  const rule = RULES[key] as Rule<AnalysisSettingValues[K]>;
  const read = rule.read(value, context, devicesFile);
  if (read !== undefined) return read;
  problems.push(settingProblem(`npas.analysis.${key}`, value, rule.expected(context, devicesFile), fallback));
  return fallback;
}

function dtypesByPath(value: unknown, problems: SettingProblem[]): Readonly<Record<string, DType>> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(settingProblem('npas.analysis.weightsDtypeByPath', value, `an object of paths (body.attn, lm_head) each with one of ${DTYPE_NAMES.join(', ')}`, {}));
    return {};
  }
  const kept: Record<string, DType> = {};
  for (const [path, dtype] of Object.entries(value as Record<string, unknown>)) {
    if (PATH_SHAPE.test(path) && typeof dtype === 'string' && (DTYPE_NAMES as readonly string[]).includes(dtype)) kept[path] = dtype as DType;
    else problems.push({ id: 'npas.analysis.weightsDtypeByPath', message: `npas.analysis.weightsDtypeByPath.${path}: ${shown(dtype)} is not ${ENTRY_EXPECTED}; the entry is ignored` });
  }
  return kept;
}
