// Short renderings of the exact decimal strings the server sends, for the status bar and the
// comparison table. Exact digits come from the CLI's formatter (the same grouping `npas budget`
// prints); the compact form (2.51B) is for places with room for a few characters only.

import { formatBytes, formatFlops, groupDigits } from '../cli/format.js';

/** `2506172416` → `2,506,172,416`. */
export function exactCount(decimal: string): string {
  return groupDigits(toBigInt(decimal));
}

/** `2506172416` → `2.51B` (K, M, B, T: powers of 10, as in the spec language). */
export function compactCount(decimal: string): string {
  const n = toBigInt(decimal);
  const steps: readonly [bigint, string][] = [[10n ** 12n, 'T'], [10n ** 9n, 'B'], [10n ** 6n, 'M'], [10n ** 3n, 'K']];
  for (const [scale, suffix] of steps) if (n >= scale) return `${(Number(n) / Number(scale)).toFixed(2)}${suffix}`;
  return n.toString();
}

/** Bytes with binary units (`128.00 MiB`), as `npas budget` prints them. */
export function bytes(decimal: string): string {
  return formatBytes(toBigInt(decimal));
}

/** FLOPs with decimal prefixes (`4.20 GFLOP`); accepts a fractional decimal. */
export function flops(decimal: string): string {
  return formatFlops(Number(decimal));
}

/** Counts travel as decimal strings; a fraction (a per-token average) is cut to its integer part. */
function toBigInt(decimal: string): bigint {
  const integer = /^-?\d+/.exec(decimal.trim());
  return integer ? BigInt(integer[0]) : 0n;
}
