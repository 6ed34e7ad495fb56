// Number renderings, identical to the CLI's (src/cli/format.ts), so what the dashboard shows
// reads the same as `npas budget`. Exact counts arrive as decimal strings.

export function groupDigits(n: string | bigint | number): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

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

export function formatFlops(n: string | bigint | number): string {
  const v = Number(n);
  const prefixes: [number, string][] = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [scale, p] of prefixes) if (Math.abs(v) >= scale) return `${(v / scale).toFixed(2)} ${p}FLOP`;
  return `${v} FLOP`;
}

export function formatSeconds(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(1)} µs`;
}

/** Short count for axes and labels: 1.59B, 990.9M, 12.3K. */
export function shortCount(n: string | number): string {
  const v = Number(n);
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  const trim = (t: string): string => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
  for (const [scale, u] of units) if (Math.abs(v) >= scale) return `${trim((v / scale).toPrecision(3))}${u}`;
  return String(v);
}

export function formatSeq(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024}Ki` : String(n);
}

/** Exact integer division of decimal strings (per-instance share of a run's count). */
export function divideCount(n: string, by: number): string {
  return by <= 1 ? n : (BigInt(n) / BigInt(by)).toString();
}
