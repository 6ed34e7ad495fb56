// The analysis settings the server works at (`npas.analysis.*`): read from
// `workspace/configuration` when the client offers it, from `didChangeConfiguration`'s payload
// otherwise, and from `initializationOptions` before either arrives. Each value is checked by the
// check the extension runs too (core/analysis/analysis-settings.ts), with the devices file read
// here: an invalid value is ignored, its default used, and one warning logged for it (not one
// per re-read), in the words the extension uses.

import { readFileSync } from 'node:fs';
import { ANALYSIS_SETTING_KEYS, DEFAULT_ANALYSIS_SETTINGS, DEFAULT_OPTIONS, PRECISION_CLASSES, checkAnalysisSettings, devicesFileSetting, isDType, sharedPrefixOf, parseDeviceProfiles, precisionFromSettings, type AnalysisOptions, type DeviceProfile, type DType, type Precision } from '../core/index.js';
import { DEFAULT_PRECISION_SETTING, PRECISION_SETTING_KEYS, type AnalysisSettingsJson } from '../protocol/lsp-extensions.js';

export interface AnalysisSettings extends AnalysisSettingsJson {
  readonly dtype: DType;
}

export const DEFAULT_SETTINGS: AnalysisSettings = {
  sequenceLength: DEFAULT_OPTIONS.seq,
  batchSize: DEFAULT_OPTIONS.batch,
  dtype: DEFAULT_OPTIONS.dtype,
  device: DEFAULT_OPTIONS.device,
};

/** The engine's options for these settings, with the devices their `devicesFile` holds. */
export function analysisOptions(s: AnalysisSettings, devices: readonly DeviceProfile[] = []): Partial<AnalysisOptions> {
  const precision = precisionFromSettings(Object.fromEntries(PRECISION_CLASSES.map((c) => [c, s[PRECISION_SETTING_KEYS[c]]])) as Partial<Record<keyof Precision, string>>);
  const weightDtypes = Object.entries(s.weightsDtypeByPath ?? {}).flatMap(([path, dtype]) => (isDType(dtype) ? [{ path, dtype }] : []));
  return {
    seq: s.sequenceLength,
    batch: s.batchSize,
    dtype: s.dtype,
    device: s.device,
    ...(Object.keys(precision).length > 0 ? { precision } : {}),
    ...(weightDtypes.length > 0 ? { weightDtypes } : {}),
    ...(devices.length > 0 ? { devices } : {}),
    ...sharedPrefixOption(s),
  };
}

/** The engine's `sharedPrefix` of the protocol's settings (left out when there is no shared prompt). */
function sharedPrefixOption(s: AnalysisSettings): Pick<AnalysisOptions, 'sharedPrefix'> {
  const sharedPrefix = sharedPrefixOf({ sharedPrefixTokens: s.sharedPrefixTokens ?? 0, continuations: s.continuations ?? DEFAULT_ANALYSIS_SETTINGS.continuations });
  return sharedPrefix ? { sharedPrefix } : {};
}

/** Reads a devices file's text; throws when it cannot (the store reports it). */
export type ReadText = (path: string) => string;

/** The server's reader of devices files: the file system (the extension sends an absolute path). */
export const readText: ReadText = (path) => readFileSync(path, 'utf8');

/**
 * Finds the `analysis` object in what a client sent: `{ analysis }`, `{ npas: { analysis } }`,
 * `{ settings: { npas: { analysis } } }`, the analysis object itself, or flat dotted keys.
 */
export function findAnalysisSection(raw: unknown): Record<string, unknown> | undefined {
  if (!isObject(raw)) return undefined;
  const flat: Record<string, unknown> = {};
  for (const key of ANALYSIS_SETTING_KEYS) {
    const dotted = raw[`npas.analysis.${key}`];
    if (dotted !== undefined) flat[key] = dotted;
  }
  if (Object.keys(flat).length > 0) return flat;
  if (isObject(raw.settings)) return findAnalysisSection(raw.settings);
  if (isObject(raw.npas)) return findAnalysisSection(raw.npas);
  if (isObject(raw.analysis)) return raw.analysis;
  if (ANALYSIS_SETTING_KEYS.some((k) => k in raw)) return raw;
  return undefined;
}

/** Validates settings; `warn` is called once per distinct invalid value. */
export class SettingsStore {
  private value: AnalysisSettings = DEFAULT_SETTINGS;
  /** Bumped on every change, so cached analyses at older settings are recomputed. */
  private gen = 0;
  private readonly warned = new Set<string>();
  private devicesValue: readonly DeviceProfile[] = [];

  constructor(
    private readonly warn: (message: string) => void,
    /** How a `devicesFile` is read; without it the setting is reported and ignored. */
    private readonly readText?: ReadText,
  ) {}

  get current(): AnalysisSettings {
    return this.value;
  }

  /** The devices the `devicesFile` setting's file holds (read when the settings change). */
  get devices(): readonly DeviceProfile[] {
    return this.devicesValue;
  }

  get generation(): number {
    return this.gen;
  }

  /** Applies a raw section (see findAnalysisSection); returns whether the settings changed. */
  update(section: Record<string, unknown> | undefined): boolean {
    const s = section ?? {};
    const file = devicesFileSetting(s.devicesFile);
    const devices = file === '' ? [] : this.readDevices(file);
    const { values, problems } = checkAnalysisSettings(s, { fileDevices: devices });
    for (const p of problems) this.warnOnce(p.message);
    // The protocol's form: what is at its default (a class's 'default', no paths, no file) is left out.
    const next: AnalysisSettings = {
      sequenceLength: values.sequenceLength,
      batchSize: values.batchSize,
      dtype: values.dtype,
      device: values.device,
      ...(values.devicesFile !== '' ? { devicesFile: values.devicesFile } : {}),
      ...(values.sharedPrefixTokens > 0 ? { sharedPrefixTokens: values.sharedPrefixTokens, continuations: values.continuations } : {}),
      ...(Object.keys(values.weightsDtypeByPath).length > 0 ? { weightsDtypeByPath: values.weightsDtypeByPath } : {}),
      ...Object.fromEntries(PRECISION_CLASSES.map((c) => PRECISION_SETTING_KEYS[c]).filter((k) => values[k] !== DEFAULT_PRECISION_SETTING).map((k) => [k, values[k]])),
    };
    const changed = JSON.stringify(next) !== JSON.stringify(this.value) || devicesKey(devices) !== devicesKey(this.devicesValue);
    if (changed) {
      this.value = next;
      this.devicesValue = devices;
      this.gen++;
    }
    return changed;
  }

  /** The devices of a devices file, each problem warned about once (a file that cannot be read: none). */
  private readDevices(path: string): readonly DeviceProfile[] {
    let json: unknown;
    try {
      if (!this.readText) throw new Error('this host reads no files');
      json = JSON.parse(this.readText(path));
    } catch (e) {
      this.warnOnce(`npas.analysis.devicesFile: ${path} could not be read as JSON (${e instanceof Error ? e.message : String(e)}); no devices of its own`);
      return [];
    }
    const parsed = parseDeviceProfiles(json);
    for (const p of parsed.problems) this.warnOnce(`npas.analysis.devicesFile: ${path}: ${p}`);
    return parsed.devices;
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.warn(message);
  }

}

/** A devices list's identity: every number it contributes. */
function devicesKey(devices: readonly DeviceProfile[]): string {
  return JSON.stringify(devices.map((d) => [d.name, d.peakFlops, d.bandwidth, String(d.memoryBytes), d.links]));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
