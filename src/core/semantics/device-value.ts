// A device declared in the spec: `MyChip = Device(fp32: 60T, bf16: 400T, fp16: 400T,
// bandwidth: 2T, memory: 96GB, source: "vendor datasheet, p. 3")`, the same fields a devices
// JSON file gives (device-profiles.ts), read by the same checks so the two can never disagree.
// The constant's name is the device's: `--device MyChip` or a budget's
// `latency.decode(device: MyChip)` pick it (compilation.ts gathers the file's devices).

import type { DiagnosticSink } from '../diagnostics/diagnostic.js';
import { parseDeviceProfiles } from '../analysis/device-profiles.js';
import { DTYPE_NAMES, isDType } from '../analysis/dtypes.js';
import * as Q from '../numbers/rational.js';
import type { CallExpression, Expression } from '../syntax/syntax-tree.js';
import { ERROR_VALUE, describeValue, type Value } from './values.js';

/** The arguments `Device(…)` takes besides one peak per dtype. */
const FIELDS = ['bandwidth', 'memory', 'source', 'description', 'intra_node', 'inter_node', 'links_source'] as const;

/**
 * `Device(…)`'s value, or an error value after located `npas-device` diagnostics: every argument
 * named, each a positive number (a peak in FLOP/s per dtype, `bandwidth` in bytes per second,
 * `memory` in bytes — `96GB` or `96e9`) or a string (`source`, `description`, `links_source`).
 */
export function deviceValue(expr: CallExpression, evaluate: (e: Expression) => Value, sink: DiagnosticSink): Value {
  const peakFlops: Record<string, number> = {};
  const entry: Record<string, unknown> = { name: 'Device', peakFlops };
  const links: Record<string, unknown> = {};
  let ok = true;
  const fail = (message: string, range: { start: number; end: number }): void => {
    sink.error('npas-device', message, range);
    ok = false;
  };
  for (const a of expr.args) {
    const name = a.name?.text;
    if (!name) {
      fail('Device() takes named arguments: one peak per dtype (fp32: 60T, bf16: 400T, …), bandwidth, memory and source', a.range);
      continue;
    }
    const v = evaluate(a.value);
    if (v.kind === 'error') {
      ok = false;
      continue;
    }
    const isText = name === 'source' || name === 'description' || name === 'links_source';
    if (isText) {
      if (v.kind !== 'string') fail(`${name} must be a string, got ${describeValue(v)}`, a.value.range);
      else if (name === 'links_source') links.source = v.value;
      else entry[name] = v.value;
      continue;
    }
    if (!isDType(name) && !(FIELDS as readonly string[]).includes(name)) {
      fail(`Device() has no argument '${name}' (a dtype: ${DTYPE_NAMES.join(', ')}; or ${FIELDS.join(', ')})`, a.name!.range);
      continue;
    }
    // Sizes may be written with a byte suffix (`96GB`, `3.35TB` per second); peaks are counts.
    if (v.kind !== 'number' || v.unit === 'seconds' || (isDType(name) && v.unit !== 'count') || Q.compare(v.value, Q.ZERO) <= 0) {
      fail(`${name} must be a positive ${isDType(name) ? 'number of FLOP/s (400T)' : 'size (96GB, 3.35T)'}, got ${describeValue(v)}`, a.value.range);
      continue;
    }
    const n = Q.toNumber(v.value);
    if (isDType(name)) peakFlops[name] = n;
    else if (name === 'bandwidth') entry.bandwidth = n;
    else if (name === 'memory') entry.memoryBytes = Number(Q.round(v.value));
    else if (name === 'intra_node') links.intraNode = n;
    else links.interNode = n;
  }
  if (Object.keys(links).length > 0) entry.links = links;
  if (!ok) return ERROR_VALUE;
  const parsed = parseDeviceProfiles([entry]);
  // The file format's messages name JSON fields; say them as this call's arguments.
  const asArgument = (m: string): string =>
    m
      .replace(/^device 'Device': /, 'Device(): ')
      .replace(/"peakFlops\.(\w+)"/g, '$1')
      .replace(/"peakFlops"/g, 'the peaks')
      .replace(/"memoryBytes"/g, 'memory')
      .replace(/"links"/g, 'intra_node and inter_node')
      .replace(/"(\w+)"/g, '$1');
  for (const p of parsed.problems) fail(asArgument(p), expr.argsRange);
  const profile = parsed.devices[0];
  return ok && profile ? { kind: 'device', profile } : ERROR_VALUE;
}
