// The `npas.*` settings as data: their allowed values, defaults and checks. Free of `vscode`, so
// Node tests can hold it against package.json's `contributes.configuration`. The analysis
// settings are the core's (analysis/analysis-settings.ts: a leaf, so no engine loads with it),
// checked by the same function the language server runs; the probe's are the extension's own,
// reported in the same words.

import { DTYPE_NAMES } from '../core/analysis/dtype-bits.js';
import { DEVICE_NAMES } from '../core/analysis/devices.js';
import { DEFAULT_ANALYSIS_SETTINGS, MAX_COUNT_SETTING, settingProblem, type AnalysisSettingValues } from '../core/analysis/analysis-settings.js';
import type { DType } from '../core/analysis/report-types.js';

/** The engine's dtypes and built-in devices, read from its tables (leaves: no engine loads with them). */
export const DTYPES: readonly DType[] = DTYPE_NAMES;
export const DEVICES: readonly string[] = DEVICE_NAMES;
export { DEFAULT_ANALYSIS_SETTINGS, MAX_COUNT_SETTING };
export const PROBE_PROVIDERS = ['cuda', 'cpu'] as const;

export type ProbeProvider = (typeof PROBE_PROVIDERS)[number];

/** The analysis settings, named as the language server's protocol names them. */
export type AnalysisSettings = AnalysisSettingValues;

export interface ProbeSettings {
  readonly provider: ProbeProvider;
  /** A folder of execution-provider libraries; '' for the ones inside onnxruntime-node. */
  readonly providerPath: string;
}

/** One probe setting: its full id, the check a value must pass, the default used otherwise. */
export interface SettingRule<T> {
  readonly id: string;
  readonly check: (value: unknown) => value is T;
  readonly fallback: T;
  /** What a valid value is, for the message about a bad one. */
  readonly expected: string;
}

const anyString = (v: unknown): v is string => typeof v === 'string';

export const PROBE_RULES: { readonly [K in keyof ProbeSettings]: SettingRule<ProbeSettings[K]> } = {
  provider: { id: 'npas.probe.provider', check: (v): v is ProbeProvider => typeof v === 'string' && (PROBE_PROVIDERS as readonly string[]).includes(v), fallback: 'cuda', expected: `one of ${PROBE_PROVIDERS.join(', ')}` },
  providerPath: { id: 'npas.probe.providerPath', check: anyString, fallback: '', expected: 'a folder path (a string)' },
};

/**
 * A value checked against its rule: the value itself when valid (or when unset, i.e.
 * undefined: the default), else the default plus the message that reports it.
 */
export function checkSetting<T>(rule: SettingRule<T>, value: unknown): { readonly value: T; readonly problem?: string } {
  if (value === undefined) return { value: rule.fallback };
  if (rule.check(value)) return { value };
  return { value: rule.fallback, problem: settingProblem(rule.id, value, rule.expected, rule.fallback).message };
}
