// Renderings of exact counts, bytes, FLOPs and durations for hovers, code lenses and inlay
// hints. Counts are printed exactly with thousands separators (the whole point of the engine);
// a rounded reading with a unit prefix is added only beside the exact one.

/** `1593677824` → `1,593,677,824`; a decimal string keeps its fraction: `12345.5` → `12,345.5`. */
export function groupDigits(n: bigint | number | string): string {
  const s = typeof n === 'string' ? n : n.toString();
  const negative = s.startsWith('-');
  const body = negative ? s.slice(1) : s;
  const dot = body.indexOf('.');
  const whole = dot < 0 ? body : body.slice(0, dot);
  const fraction = dot < 0 ? '' : body.slice(dot);
  return `${negative ? '-' : ''}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction}`;
}

/** A count with a decimal prefix, for compact labels: `5.45 G`, `850.2 M`, `712`. */
export function compactCount(n: bigint | number | string): string {
  const v = Number(n);
  const prefixes: readonly [number, string][] = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [scale, p] of prefixes) if (Math.abs(v) >= scale) return `${trimFixed(v / scale)} ${p}`;
  return trimFixed(v);
}

/** FLOPs with a decimal prefix: `5.45 GFLOP`. */
export function compactFlops(n: bigint | number | string): string {
  const c = compactCount(n);
  return /[A-Z]$/.test(c) ? `${c}FLOP` : `${c} FLOP`;
}

/** Bytes with a binary prefix: `72.00 MiB`; small sizes exactly: `512 bytes`. */
export function compactBytes(n: bigint): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Number(n);
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${groupDigits(n)} bytes` : `${v.toFixed(2)} ${units[u]}`;
}

/** An exact byte count with its binary reading: `75,497,472 bytes (72.00 MiB)`. */
export function exactBytes(n: bigint): string {
  const compact = compactBytes(n);
  return compact.endsWith(' bytes') ? compact : `${groupDigits(n)} bytes (${compact})`;
}

/** A duration: `1.234 s`, `12.345 ms`, `45.6 µs`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(1)} µs`;
}

/** Up to 3 significant decimals without trailing zeros: 5.4500 → `5.45`, 12 → `12`. */
function trimFixed(v: number): string {
  const digits = Math.abs(v) >= 100 ? 1 : 2;
  return v.toFixed(digits).replace(/\.?0+$/, '');
}
