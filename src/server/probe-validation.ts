// Validation of `npas/probeMeasured` on receipt. The client is ours, but the server trusts no
// message: a notification that is not exactly a ProbeMeasuredParams (a wrong type, a missing
// field, a non-finite number, an oversized string) is refused with the first reason found, so
// the handler can log it and drop it. Strings are bounded, so a stored measurement stays small.

import type { ProbeMeasuredParams, ProbeMeasurementJson, ProbePhaseJson } from '../protocol/lsp-extensions.js';

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

class Invalid extends Error {}

const MAX_URI = 8192;
const MAX_NAME = 256;
const MAX_TEXT = 2000;

export function checkProbeMeasured(raw: unknown): Checked<ProbeMeasuredParams> {
  try {
    const p = object(raw, 'params');
    const uri = text(p.uri, 'uri', MAX_URI);
    if (uri.length === 0 || /[\u0000-\u001f]/.test(uri)) throw new Invalid('uri: an empty string or one with control characters');
    const version = p.version === undefined ? undefined : count(p.version, 'version', 0);
    const fingerprint = p.modelFingerprint === undefined ? undefined : text(p.modelFingerprint, 'modelFingerprint', 64);
    if (fingerprint !== undefined && !/^[0-9a-f]{64}$/.test(fingerprint)) throw new Invalid(`modelFingerprint: ${describe(fingerprint)} is not 64 lowercase hex digits`);
    return {
      ok: true,
      value: {
        uri,
        ...(version === undefined ? {} : { version }),
        ...(fingerprint === undefined ? {} : { modelFingerprint: fingerprint }),
        measurement: measurement(object(p.measurement, 'measurement')),
      },
    };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    throw e;
  }
}

function measurement(m: Record<string, unknown>): ProbeMeasurementJson {
  const model = text(m.model, 'measurement.model', MAX_NAME);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(model)) throw new Invalid(`measurement.model: ${JSON.stringify(model)} is not a model name`);
  const memory = object(m.memory, 'measurement.memory');
  const memoryKind = oneOf(memory.kind, 'measurement.memory.kind', ['gpu', 'host-rss-growth', 'unavailable'] as const);
  const measuredAt = text(m.measuredAt, 'measurement.measuredAt', 64);
  if (!/^\d{4}-\d\d-\d\dT/.test(measuredAt) || !Number.isFinite(Date.parse(measuredAt))) throw new Invalid(`measurement.measuredAt: ${JSON.stringify(measuredAt)} is not an ISO 8601 time`);
  const prefill = phase(object(m.prefill, 'measurement.prefill'), 'measurement.prefill');
  if (prefill.medianMs === null) throw new Invalid('measurement.prefill: the prefill is always measured');
  return {
    model,
    requestedProvider: oneOf(m.requestedProvider, 'measurement.requestedProvider', ['cuda', 'cpu'] as const),
    provider: oneOf(m.provider, 'measurement.provider', ['cuda', 'cpu'] as const),
    fallback: m.fallback === null ? null : text(m.fallback, 'measurement.fallback', MAX_TEXT),
    device: text(m.device, 'measurement.device', MAX_NAME),
    dtype: oneOf(m.dtype, 'measurement.dtype', ['fp32', 'fp16'] as const),
    batch: count(m.batch, 'measurement.batch', 1),
    seq: count(m.seq, 'measurement.seq', 1),
    ortVersion: text(m.ortVersion, 'measurement.ortVersion', MAX_NAME),
    prefill,
    decode: phase(object(m.decode, 'measurement.decode'), 'measurement.decode'),
    memory:
      memoryKind === 'unavailable'
        ? { kind: memoryKind, reason: text(memory.reason, 'measurement.memory.reason', MAX_TEXT) }
        : { kind: memoryKind, bytes: nonNegative(memory.bytes, 'measurement.memory.bytes') },
    sessionCreateMs: nonNegative(m.sessionCreateMs, 'measurement.sessionCreateMs'),
    measuredAt,
  };
}

function phase(p: Record<string, unknown>, where: string): ProbePhaseJson {
  const rooflineMs = nonNegative(p.rooflineMs, `${where}.rooflineMs`);
  const bound = oneOf(p.bound, `${where}.bound`, ['compute', 'memory'] as const);
  if (p.medianMs === null) {
    for (const k of ['minMs', 'achievedFlopsPerSecond', 'achievedBytesPerSecond']) if (p[k] !== null) throw new Invalid(`${where}.${k}: must be null when medianMs is`);
    return { medianMs: null, minMs: null, rooflineMs, bound, achievedFlopsPerSecond: null, achievedBytesPerSecond: null, unavailable: text(p.unavailable, `${where}.unavailable`, MAX_TEXT) };
  }
  if (p.unavailable !== null) throw new Invalid(`${where}.unavailable: must be null when the phase was measured`);
  const medianMs = nonNegative(p.medianMs, `${where}.medianMs`);
  if (medianMs === 0) throw new Invalid(`${where}.medianMs: a measured latency is positive`);
  return {
    medianMs,
    minMs: nonNegative(p.minMs, `${where}.minMs`),
    rooflineMs,
    bound,
    achievedFlopsPerSecond: nonNegative(p.achievedFlopsPerSecond, `${where}.achievedFlopsPerSecond`),
    achievedBytesPerSecond: nonNegative(p.achievedBytesPerSecond, `${where}.achievedBytesPerSecond`),
    unavailable: null,
  };
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Invalid(`${where}: expected an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

function text(v: unknown, where: string, max: number): string {
  if (typeof v !== 'string') throw new Invalid(`${where}: expected a string, got ${describe(v)}`);
  if (v.length > max) throw new Invalid(`${where}: longer than ${max} characters`);
  return v;
}

function count(v: unknown, where: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new Invalid(`${where}: expected an integer ≥ ${min}, got ${describe(v)}`);
  return v;
}

function nonNegative(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Invalid(`${where}: expected a finite number ≥ 0, got ${describe(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, where: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new Invalid(`${where}: expected one of ${values.join(', ')}, got ${describe(v)}`);
  return v as T;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v;
}
