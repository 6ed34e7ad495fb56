// The analysis settings the server works at (`npas.analysis.*`): read from
// `workspace/configuration` when the client offers it, from `didChangeConfiguration`'s payload
// otherwise, and from `initializationOptions` before either arrives. An invalid value is
// ignored, its default used, and one warning logged for it (not one per re-read).

import { readFileSync } from 'node:fs';
import { DEFAULT_OPTIONS, DEVICE_NAMES, DTYPE_NAMES, PRECISION_CLASSES, findDevice, isDType, parseDeviceProfiles, parsePathText, precisionFromSettings, type AnalysisOptions, type DeviceProfile, type DType, type Precision } from '../core/index.js';
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
  };
}

/** Every key of the `analysis` section: the four settings, one dtype per tensor class, the per-path dtypes and the devices file. */
const SETTING_KEYS: readonly string[] = ['sequenceLength', 'batchSize', 'dtype', 'device', ...Object.values(PRECISION_SETTING_KEYS), 'weightsDtypeByPath', 'devicesFile'];

/** Reads a devices file's text; throws when it cannot (the store reports it). */
export type ReadText = (path: string) => string;

/** The server's reader of devices files: the file system (the extension sends an absolute path). */
export const readText: ReadText = (path) => readFileSync(path, 'utf8');

/** Largest sequence length or batch accepted (the engine's budget settings use the same bound). */
const MAX_SETTING = 1 << 30;

/**
 * Finds the `analysis` object in what a client sent: `{ analysis }`, `{ npas: { analysis } }`,
 * `{ settings: { npas: { analysis } } }`, the analysis object itself, or flat dotted keys.
 */
export function findAnalysisSection(raw: unknown): Record<string, unknown> | undefined {
  if (!isObject(raw)) return undefined;
  const flat: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const dotted = raw[`npas.analysis.${key}`];
    if (dotted !== undefined) flat[key] = dotted;
  }
  if (Object.keys(flat).length > 0) return flat;
  if (isObject(raw.settings)) return findAnalysisSection(raw.settings);
  if (isObject(raw.npas)) return findAnalysisSection(raw.npas);
  if (isObject(raw.analysis)) return raw.analysis;
  if (SETTING_KEYS.some((k) => k in raw)) return raw;
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
    const devicesFile = this.check('devicesFile', s.devicesFile, (v) => (typeof v === 'string' ? v : undefined), '', 'a path to a devices JSON file');
    const devices = devicesFile === '' ? [] : this.readDevices(devicesFile);
    const next: AnalysisSettings = {
      sequenceLength: this.check('sequenceLength', s.sequenceLength, positiveInteger, DEFAULT_SETTINGS.sequenceLength, `an integer from 1 to ${MAX_SETTING}`),
      batchSize: this.check('batchSize', s.batchSize, positiveInteger, DEFAULT_SETTINGS.batchSize, `an integer from 1 to ${MAX_SETTING}`),
      dtype: this.check('dtype', s.dtype, (v) => (typeof v === 'string' && isDType(v) ? v : undefined), DEFAULT_SETTINGS.dtype, `one of ${DTYPE_NAMES.join(', ')}`),
      device: this.check('device', s.device, (v) => (typeof v === 'string' ? findDevice(v, devices)?.name : undefined), DEFAULT_SETTINGS.device, `one of ${[...DEVICE_NAMES, ...devices.map((d) => d.name)].join(', ')}`),
      ...(devicesFile !== '' ? { devicesFile } : {}),
    };
    // Per-path weight dtypes: each path as a statement writes it, each value a dtype.
    const byPath = this.check('weightsDtypeByPath', s.weightsDtypeByPath, (v) => (isObject(v) ? v : undefined), {}, 'an object of paths and dtypes');
    const weightsDtypeByPath: Record<string, string> = {};
    for (const [path, dtype] of Object.entries(byPath)) {
      const ok = this.check(`weightsDtypeByPath.${path}`, dtype, (x) => (typeof x === 'string' && isDType(x) && parsePathText(path) ? x : undefined), '', `one of ${DTYPE_NAMES.join(', ')} under a path (body.attn, body[3].mlp, lm_head)`);
      if (ok !== '') weightsDtypeByPath[path] = ok;
    }
    if (Object.keys(weightsDtypeByPath).length > 0) (next as { weightsDtypeByPath?: Record<string, string> }).weightsDtypeByPath = weightsDtypeByPath;
    // One dtype per tensor class: 'default' (or absent) sets nothing.
    for (const c of PRECISION_CLASSES) {
      const key = PRECISION_SETTING_KEYS[c];
      const allowed = [DEFAULT_PRECISION_SETTING, ...DTYPE_NAMES, ...(c === 'master' ? ['none'] : [])];
      const v = this.check(key, s[key], (x) => (typeof x === 'string' && allowed.includes(x) ? x : undefined), DEFAULT_PRECISION_SETTING, `one of ${allowed.join(', ')}`);
      if (v !== DEFAULT_PRECISION_SETTING) (next as { -readonly [K in keyof AnalysisSettings]?: AnalysisSettings[K] })[key] = v;
    }
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

  private check<T>(key: string, raw: unknown, parse: (v: unknown) => T | undefined, fallback: T, expected: string): T {
    // Absent means "use the default"; only a present, wrong value deserves a warning.
    if (raw === undefined || raw === null) return fallback;
    const v = parse(raw);
    if (v !== undefined) return v;
    const id = `npas.analysis.${key}=${safeJson(raw)}`;
    if (!this.warned.has(id)) {
      this.warned.add(id);
      this.warn(`npas.analysis.${key}: ${safeJson(raw)} is not ${expected}; using the default ${String(fallback)}`);
    }
    return fallback;
  }
}

/** A positive integer, also written as a string with a magnitude (`8192`, `8Ki`, `8K`). */
function positiveInteger(v: unknown): number | undefined {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const m = /^\s*(\d+)\s*(K|Ki|M|Mi)?\s*$/.exec(v);
    if (m) n = Number(m[1]) * ({ K: 1e3, Ki: 1024, M: 1e6, Mi: 1024 * 1024 }[m[2] ?? ''] ?? 1);
  }
  return n !== undefined && Number.isSafeInteger(n) && n >= 1 && n <= MAX_SETTING ? n : undefined;
}

/** A devices list's identity: every number it contributes. */
function devicesKey(devices: readonly DeviceProfile[]): string {
  return JSON.stringify(devices.map((d) => [d.name, d.peakFlops, d.bandwidth, String(d.memoryBytes), d.links]));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
