// Human-readable renderings of counts, bytes, FLOPs and durations, shared by the CLI tables,
// the editor (hovers, status bar) and the dashboard so the same number always reads the same.
// Exact counts may arrive as bigint or as decimal strings (JSON-safe protocol values).

/** `2506172416` → `2,506,172,416`. */
export function groupDigits(n: string | bigint | number): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Bytes with binary units (`72.00 MiB`); below 1 KiB, the exact count. */
export function formatBytes(n: string | bigint | number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Number(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${groupDigits(String(n))} bytes` : `${v.toFixed(2)} ${units[u]}`;
}

/** FLOPs with a decimal prefix (G = 10⁹). */
export function formatFlops(n: string | bigint | number): string {
  // A decimal string may end in '…' where the exact quotient does not terminate (toDecimalString).
  const v = Number(typeof n === 'string' && n.endsWith('…') ? n.slice(0, -1) : n);
  const prefixes: [number, string][] = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [scale, p] of prefixes) if (Math.abs(v) >= scale) return `${(v / scale).toFixed(2)} ${p}FLOP`;
  return `${v} FLOP`;
}

export function formatSeconds(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(1)} µs`;
}

/** A rate with a decimal prefix: `12.3 TFLOP/s`, `1.5 GB/s`. */
export function formatRate(x: number, unit: string): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = x;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}${unit}`;
}

/**
 * A measured latency in milliseconds, as the probe tables print it: `123 ms`, `12.3 ms`,
 * `1.23 ms`; below 0.01 ms (which would read 0.00 ms) in µs.
 */
export function formatMilliseconds(ms: number): string {
  if (ms > 0 && ms < 0.01) return `${(ms * 1000).toFixed(2)} µs`;
  return `${ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)} ms`;
}
