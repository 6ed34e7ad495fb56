// Number renderings: the core's (the same as `npas budget` prints), plus a short axis form.
// Exact counts arrive as decimal strings.

export { formatBytes, formatFlops, formatSeconds, groupDigits } from '../src/core/text/number-format.js';

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
export function divideCount(n: string, by: number | string): string {
  return BigInt(by) <= 1n ? n : (BigInt(n) / BigInt(by)).toString();
}
