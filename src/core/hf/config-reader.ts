// Typed, checked access to the keys of a Hugging Face config object.
// config.json files only hold what differs from the config class's defaults (and older files
// omit keys that did not exist yet), so every read names the Transformers default it falls back
// to. Reads that fall back are recorded so the generated spec can say which values were not in
// the file. Every problem is raised as a ConfigError naming the offending key; importHfConfig
// turns it into a refusal.

import { isJsonObject, type JsonObject, type JsonValue } from './json-text.js';
import { appendAll } from '../collections/append-all.js';

export class ConfigError extends Error {
  constructor(
    readonly key: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A key absent from the config and the Transformers default used instead. */
export interface DefaultedKey {
  readonly key: string;
  readonly value: string;
}

/** How a value is shown in messages: as JSON, so a string "768" reads differently from 768. */
export function showJson(value: JsonValue): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export class ConfigReader {
  private readonly defaultedKeys: DefaultedKey[];
  /** Every key a family looked at (read, tested or consumed), so the rest can be listed as unused. */
  private readonly readKeys = new Set<string>();
  private readonly children: ConfigReader[] = [];
  private readonly rootValues: JsonObject;

  /**
   * `prefix` is how keys of a nested object are named in messages and lists (`text_config.`);
   * a nested reader shares its parent's record of defaulted keys.
   */
  constructor(
    root: JsonObject,
    readonly prefix = '',
    defaulted: DefaultedKey[] = [],
  ) {
    this.rootValues = root;
    this.defaultedKeys = defaulted;
  }

  /** The config object itself; reading through it marks nothing, so families use the methods below. */
  get root(): JsonObject {
    return this.rootValues;
  }

  /** Keys read from Transformers' defaults, in the order they were first read. */
  get defaulted(): readonly DefaultedKey[] {
    return this.defaultedKeys;
  }

  /** Whether the key is present with a non-null value. */
  has(key: string): boolean {
    const value = this.value(key);
    return value !== undefined && value !== null;
  }

  raw(key: string): JsonValue | undefined {
    return this.value(key);
  }

  /** Whether a family has read, tested or consumed the key. */
  wasRead(key: string): boolean {
    return this.readKeys.has(key);
  }

  /**
   * Marks keys as used without reading a size from them: the family looked at them and they do
   * not change the model it writes (Qwen2's sliding_window while use_sliding_window is false).
   */
  consume(...keys: string[]): void {
    for (const key of keys) this.readKeys.add(key);
  }

  /**
   * A reader over the object under `key` (Gemma 3's text_config), whose keys are named
   * `key.name` in messages and in the unused-key list. Undefined when the key is absent or null;
   * anything but an object is refused.
   */
  child(key: string): ConfigReader | undefined {
    const value = this.value(key);
    if (value === undefined || value === null) return undefined;
    if (!isJsonObject(value)) throw new ConfigError(this.prefix + key, `${this.prefix}${key} must be an object, got ${showJson(value)}`);
    const nested = new ConfigReader(value, `${this.prefix}${key}.`, this.defaultedKeys);
    this.children.push(nested);
    return nested;
  }

  /**
   * The keys present in the config that no family read, in file order, with their prefix;
   * a nested object that was read through `child` lists its own unused keys instead.
   */
  unusedKeys(): string[] {
    const out: string[] = [];
    for (const key of Object.keys(this.rootValues)) {
      const nested = this.children.find((c) => c.prefix === `${this.prefix}${key}.`);
      if (nested !== undefined) appendAll(out, nested.unusedKeys());
      else if (!this.readKeys.has(key)) out.push(this.prefix + key);
    }
    return out;
  }

  /** The value under `key`, marked as read. */
  private value(key: string): JsonValue | undefined {
    this.readKeys.add(key);
    return Object.prototype.hasOwnProperty.call(this.rootValues, key) ? this.rootValues[key] : undefined;
  }

  /**
   * A positive integer size. Absent → `fallback` (recorded, with `why` explaining a derived
   * default); null is refused because Transformers would store None and fail to build.
   */
  positiveInt(key: string, fallback: number, why?: string): number {
    const value = this.value(key);
    if (value === undefined) {
      this.noteDefault(key, fallback, why);
      return fallback;
    }
    return this.checkInt(key, value, 1);
  }

  /**
   * A positive finite number, integer or not (rope_theta, a rotary fraction). Absent or null →
   * `fallback` (recorded); at most `max` when given.
   */
  positiveNumber(key: string, fallback: number, why?: string, max?: number): number {
    const value = this.value(key);
    if (value === undefined || value === null) {
      this.noteDefault(key, fallback, why);
      return fallback;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (max !== undefined && value > max)) {
      const range = max === undefined ? 'a positive number' : `a number in (0, ${max}]`;
      throw new ConfigError(this.prefix + key, `${this.prefix}${key} must be ${range}, got ${showJson(value)}`);
    }
    return value;
  }

  /** A non-negative integer (a count that may be 0, such as first_k_dense_replace). */
  count(key: string, fallback: number, why?: string): number {
    const value = this.value(key);
    if (value === undefined) {
      this.noteDefault(key, fallback, why);
      return fallback;
    }
    return this.checkInt(key, value, 0);
  }

  /**
   * A positive integer where null means "not set", as Transformers documents for keys such as
   * num_key_value_heads, head_dim, sliding_window or q_lora_rank. Absent → `fallback`, which may
   * itself be undefined (the feature is off); null → `whenNull`, where null means "off". The two
   * differ for some classes (MistralConfig: sliding_window absent is 4096, null is off).
   */
  optionalPositiveInt(
    key: string,
    fallback: number | undefined,
    why?: string,
    whenNull: number | null = fallback ?? null,
  ): number | undefined {
    const value = this.value(key);
    if (value === undefined) {
      this.noteDefault(key, fallback ?? null, why);
      return fallback;
    }
    if (value === null) return whenNull ?? undefined;
    return this.checkInt(key, value, 1);
  }

  bool(key: string, fallback: boolean, why?: string): boolean {
    const value = this.value(key);
    if (value === undefined || value === null) {
      this.noteDefault(key, fallback, why);
      return fallback;
    }
    if (typeof value !== 'boolean') {
      throw new ConfigError(this.prefix + key, `${this.prefix}${key} must be true or false, got ${showJson(value)}`);
    }
    return value;
  }

  string(key: string, fallback: string, why?: string): string {
    const value = this.optionalString(key);
    if (value === undefined) {
      this.noteDefault(key, fallback, why);
      return fallback;
    }
    return value;
  }

  /** A string, or undefined when absent or null (nothing is recorded: the caller decides). */
  optionalString(key: string): string | undefined {
    const value = this.value(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new ConfigError(this.prefix + key, `${this.prefix}${key} must be a string, got ${showJson(value)}`);
    return value;
  }

  /** A list of strings, or undefined when absent or null. */
  optionalStringList(key: string): string[] | undefined {
    const value = this.value(key);
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw new ConfigError(this.prefix + key, `${this.prefix}${key} must be a list of strings, got ${showJson(value)}`);
    return value.map((item, i) => {
      if (typeof item !== 'string') {
        throw new ConfigError(this.prefix + key, `${this.prefix}${key}[${i}] must be a string, got ${showJson(item)}`);
      }
      return item;
    });
  }

  /** The number of entries of an object-valued key (id2label), or undefined when absent. */
  optionalObjectSize(key: string): number | undefined {
    const value = this.value(key);
    if (value === undefined || value === null) return undefined;
    if (!isJsonObject(value)) throw new ConfigError(this.prefix + key, `${this.prefix}${key} must be an object, got ${showJson(value)}`);
    return Object.keys(value).length;
  }

  /** Raises a refusal about `key` unless `condition` holds. */
  require(condition: boolean, key: string, message: string): void {
    if (!condition) throw new ConfigError(this.prefix + key, message);
  }

  private checkInt(key: string, value: JsonValue, min: 0 | 1): number {
    const what = min === 1 ? 'a positive integer' : 'a non-negative integer';
    if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isInteger(value)) {
      throw new ConfigError(this.prefix + key, `${this.prefix}${key} must be ${what}, got ${showJson(value)}`);
    }
    if (value < min) throw new ConfigError(this.prefix + key, `${this.prefix}${key} must be ${what}, got ${showJson(value)}`);
    if (!Number.isSafeInteger(value)) {
      throw new ConfigError(this.prefix + key, `${this.prefix}${key} is too large to be exact (${showJson(value)}); sizes must be below 2^53`);
    }
    return value;
  }

  private noteDefault(key: string, value: number | boolean | string | null, why: string | undefined): void {
    const named = this.prefix + key;
    if (this.defaultedKeys.some((d) => d.key === named)) return;
    const shown = value === null ? 'none' : typeof value === 'string' ? `"${value}"` : String(value);
    this.defaultedKeys.push({ key: named, value: why === undefined ? shown : `${shown} (${why})` });
  }
}
