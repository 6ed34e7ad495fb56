// Human-readable renderings of counts, bytes, FLOPs and durations for the CLI tables.

export function groupDigits(n: bigint | number): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function formatBytes(n: bigint): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Number(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${groupDigits(n)} bytes` : `${v.toFixed(2)} ${units[u]}`;
}

/** FLOPs with a decimal prefix (G = 10⁹). */
export function formatFlops(n: bigint | number): string {
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
