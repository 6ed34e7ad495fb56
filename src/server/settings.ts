// The analysis settings the server works at (`npas.analysis.*`): read from
// `workspace/configuration` when the client offers it, from `didChangeConfiguration`'s payload
// otherwise, and from `initializationOptions` before either arrives. An invalid value is
// ignored, its default used, and one warning logged for it (not one per re-read).

import { DEFAULT_OPTIONS, DEVICE_NAMES, DTYPE_NAMES, PRECISION_CLASSES, findDevice, isDType, precisionFromSettings, type AnalysisOptions, type DType, type Precision } from '../core/index.js';
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

/** The engine's options for these settings. */
export function analysisOptions(s: AnalysisSettings): Partial<AnalysisOptions> {
  const precision = precisionFromSettings(Object.fromEntries(PRECISION_CLASSES.map((c) => [c, s[PRECISION_SETTING_KEYS[c]]])) as Partial<Record<keyof Precision, string>>);
  return { seq: s.sequenceLength, batch: s.batchSize, dtype: s.dtype, device: s.device, ...(Object.keys(precision).length > 0 ? { precision } : {}) };
}

/** Every key of the `analysis` section: the four settings and one dtype per tensor class. */
const SETTING_KEYS: readonly string[] = ['sequenceLength', 'batchSize', 'dtype', 'device', ...Object.values(PRECISION_SETTING_KEYS)];

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

  constructor(private readonly warn: (message: string) => void) {}

  get current(): AnalysisSettings {
    return this.value;
  }

  get generation(): number {
    return this.gen;
  }

  /** Applies a raw section (see findAnalysisSection); returns whether the settings changed. */
  update(section: Record<string, unknown> | undefined): boolean {
    const s = section ?? {};
    const next: AnalysisSettings = {
      sequenceLength: this.check('sequenceLength', s.sequenceLength, positiveInteger, DEFAULT_SETTINGS.sequenceLength, `an integer from 1 to ${MAX_SETTING}`),
      batchSize: this.check('batchSize', s.batchSize, positiveInteger, DEFAULT_SETTINGS.batchSize, `an integer from 1 to ${MAX_SETTING}`),
      dtype: this.check('dtype', s.dtype, (v) => (typeof v === 'string' && isDType(v) ? v : undefined), DEFAULT_SETTINGS.dtype, `one of ${DTYPE_NAMES.join(', ')}`),
      device: this.check('device', s.device, (v) => (typeof v === 'string' ? findDevice(v)?.name : undefined), DEFAULT_SETTINGS.device, `one of ${DEVICE_NAMES.join(', ')}`),
    };
    // One dtype per tensor class: 'default' (or absent) sets nothing.
    for (const c of PRECISION_CLASSES) {
      const key = PRECISION_SETTING_KEYS[c];
      const allowed = [DEFAULT_PRECISION_SETTING, ...DTYPE_NAMES, ...(c === 'master' ? ['none'] : [])];
      const v = this.check(key, s[key], (x) => (typeof x === 'string' && allowed.includes(x) ? x : undefined), DEFAULT_PRECISION_SETTING, `one of ${allowed.join(', ')}`);
      if (v !== DEFAULT_PRECISION_SETTING) (next as { -readonly [K in keyof AnalysisSettings]?: AnalysisSettings[K] })[key] = v;
    }
    const changed = JSON.stringify(next) !== JSON.stringify(this.value);
    if (changed) {
      this.value = next;
      this.gen++;
    }
    return changed;
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
