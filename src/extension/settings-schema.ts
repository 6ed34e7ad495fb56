// The `npas.*` settings as data: their allowed values, defaults and checks. Free of `vscode`, so
// Node tests can hold it against package.json's `contributes.configuration` and the core's own
// lists (dtypes, devices), and check the validation itself.

import { DTYPE_NAMES } from '../core/analysis/dtype-bits.js';
import { DEVICES as ENGINE_DEVICES } from '../core/analysis/devices.js';
import type { DType } from '../core/analysis/report-types.js';

/** The engine's dtypes and built-in devices, read from its tables (two leaves: no engine loads with them). */
export const DTYPES: readonly DType[] = DTYPE_NAMES;
export const DEVICES: readonly string[] = ENGINE_DEVICES.map((d) => d.name);
export const PROBE_PROVIDERS = ['cuda', 'cpu'] as const;

export type DTypeName = DType;
/** A per-class dtype setting: 'default' sets nothing (the spec's `precision`, then `dtype`). */
export type ClassDTypeName = 'default' | DTypeName;
export const CLASS_DTYPES: readonly ClassDTypeName[] = ['default', ...DTYPES];
/** The master copy may also be absent. */
export const MASTER_DTYPES: readonly (ClassDTypeName | 'none')[] = [...CLASS_DTYPES, 'none'];
export type DeviceName = string;
export type ProbeProvider = (typeof PROBE_PROVIDERS)[number];

/** The analysis settings, named as the language server's protocol names them. */
export interface AnalysisSettings {
  readonly sequenceLength: number;
  readonly batchSize: number;
  readonly dtype: DTypeName;
  /** A builtin device (DEVICES) or one of the devices file's. */
  readonly device: string;
  readonly weightsDtype: ClassDTypeName;
  readonly expertsDtype: ClassDTypeName;
  readonly kvDtype: ClassDTypeName;
  readonly activationsDtype: ClassDTypeName;
  readonly computeDtype: ClassDTypeName;
  readonly gradientsDtype: ClassDTypeName;
  readonly masterDtype: ClassDTypeName | 'none';
  readonly optimizerDtype: ClassDTypeName;
  /** Weights in a dtype of their own, by path (`{ "embed": "int8" }`), after the spec's `precision weights` statements. */
  readonly weightsDtypeByPath: Readonly<Record<string, DTypeName>>;
  /** A devices JSON file (as `npas budget --devices`); relative paths are taken from the first workspace folder. */
  readonly devicesFile: string;
}

export interface ProbeSettings {
  readonly provider: ProbeProvider;
  /** A folder of execution-provider libraries; '' for the ones inside onnxruntime-node. */
  readonly providerPath: string;
}

/** One setting: its full id, the check a value must pass, the default used otherwise. */
export interface SettingRule<T> {
  readonly id: string;
  readonly check: (value: unknown) => value is T;
  readonly fallback: T;
  /** What a valid value is, for the message about a bad one. */
  readonly expected: string;
}

/** The largest sequence length or batch: the bound the engine puts on budget settings and the server on its own. */
export const MAX_COUNT_SETTING = 2 ** 30;

const positiveInteger = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= MAX_COUNT_SETTING;
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (v: unknown): v is T =>
    typeof v === 'string' && (values as readonly string[]).includes(v);
const anyString = (v: unknown): v is string => typeof v === 'string';
/** A device's name as a devices file may spell it: printable, at most 64 characters. */
const deviceName = (v: unknown): v is string => typeof v === 'string' && /^[\w .+()-]{1,64}$/.test(v);
/** `{ "body.attn": "fp8" }`: path-like keys (the server reads them as paths), dtype values. */
const dtypesByPath = (v: unknown): v is Readonly<Record<string, DTypeName>> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.entries(v).every(([k, d]) => /^[\w.[\]]+$/.test(k) && oneOf(DTYPES)(d));

function classRule(key: string): SettingRule<ClassDTypeName> {
  return { id: `npas.analysis.${key}`, check: oneOf(CLASS_DTYPES), fallback: 'default', expected: `one of ${CLASS_DTYPES.join(', ')}` };
}

export const ANALYSIS_RULES: { readonly [K in keyof AnalysisSettings]: SettingRule<AnalysisSettings[K]> } = {
  sequenceLength: { id: 'npas.analysis.sequenceLength', check: positiveInteger, fallback: 4096, expected: `an integer from 1 to ${MAX_COUNT_SETTING}` },
  batchSize: { id: 'npas.analysis.batchSize', check: positiveInteger, fallback: 1, expected: `an integer from 1 to ${MAX_COUNT_SETTING}` },
  dtype: { id: 'npas.analysis.dtype', check: oneOf(DTYPES), fallback: 'bf16', expected: `one of ${DTYPES.join(', ')}` },
  // A builtin device, or one the devices file names (the language server checks it against the file).
  device: { id: 'npas.analysis.device', check: deviceName, fallback: 'H100', expected: `one of ${DEVICES.join(', ')} or a device of npas.analysis.devicesFile` },
  weightsDtype: classRule('weightsDtype'),
  expertsDtype: classRule('expertsDtype'),
  kvDtype: classRule('kvDtype'),
  activationsDtype: classRule('activationsDtype'),
  computeDtype: classRule('computeDtype'),
  gradientsDtype: classRule('gradientsDtype'),
  masterDtype: { id: 'npas.analysis.masterDtype', check: oneOf(MASTER_DTYPES), fallback: 'default', expected: `one of ${MASTER_DTYPES.join(', ')}` },
  optimizerDtype: classRule('optimizerDtype'),
  weightsDtypeByPath: { id: 'npas.analysis.weightsDtypeByPath', check: dtypesByPath, fallback: {}, expected: `an object of paths (body.attn, lm_head) each with one of ${DTYPES.join(', ')}` },
  devicesFile: { id: 'npas.analysis.devicesFile', check: anyString, fallback: '', expected: 'a path to a devices JSON file (a string)' },
};

export const PROBE_RULES: { readonly [K in keyof ProbeSettings]: SettingRule<ProbeSettings[K]> } = {
  provider: { id: 'npas.probe.provider', check: oneOf(PROBE_PROVIDERS), fallback: 'cuda', expected: `one of ${PROBE_PROVIDERS.join(', ')}` },
  providerPath: { id: 'npas.probe.providerPath', check: anyString, fallback: '', expected: 'a folder path (a string)' },
};

/**
 * A value checked against its rule: the value itself when valid (or when unset, i.e.
 * undefined: the default), else the default plus the message that reports it.
 */
export function checkSetting<T>(rule: SettingRule<T>, value: unknown): { readonly value: T; readonly problem?: string } {
  if (value === undefined) return { value: rule.fallback };
  if (rule.check(value)) return { value };
  const shown = JSON.stringify(value) ?? String(value);
  return { value: rule.fallback, problem: `Setting ${rule.id} is ${shown}, which is not ${rule.expected}; using the default ${JSON.stringify(rule.fallback)}.` };
}
