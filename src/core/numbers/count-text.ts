// A parameter count as a person types it — `3651883`, `3_651_883`, `3,651,883`, `3.65M`, `7B`,
// `4Mi`, or `10%` of a model's stored parameters (rounded down) — read exactly, with bigints. One
// reader for the CLI's `npas allocate --params/--sweep` and the editor's budget input box; each
// words its own refusals. Pure and import-free, so the extension imports it without the engine.

/** Decimal (K M B G T: powers of 10, as in the spec language) and binary (Ki Mi Gi) magnitudes. */
const MAGNITUDES: Readonly<Record<string, bigint>> = { K: 10n ** 3n, M: 10n ** 6n, B: 10n ** 9n, G: 10n ** 9n, T: 10n ** 12n, Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n };

export type ParameterCountText =
  | { readonly ok: true; readonly count: bigint; readonly percent: boolean }
  /** empty: nothing typed; format: not a count; fraction: a fraction of a parameter (`1.5K` is, `1.5` is not whole). */
  | { readonly ok: false; readonly problem: 'empty' | 'format' | 'fraction' };

/** Reads `text` as a whole number of parameters; a percentage is of `stored`. */
export function parseParameterCount(text: string, stored: bigint): ParameterCountText {
  const t = text.replace(/[_,\s]/g, '');
  if (t === '') return { ok: false, problem: 'empty' };
  const pct = /^(\d+)(?:\.(\d+))?%$/.exec(t);
  if (pct) {
    const frac = pct[2] ?? '';
    return { ok: true, count: (BigInt(`${pct[1]}${frac}`) * stored) / (100n * 10n ** BigInt(frac.length)), percent: true };
  }
  const m = /^(\d+)(?:\.(\d+))?(K|M|B|G|T|Ki|Mi|Gi)?$/.exec(t);
  if (!m) return { ok: false, problem: 'format' };
  const frac = m[2] ?? '';
  const num = BigInt(`${m[1]}${frac}`) * (m[3] ? MAGNITUDES[m[3]]! : 1n);
  const den = 10n ** BigInt(frac.length);
  if (num % den !== 0n) return { ok: false, problem: 'fraction' };
  return { ok: true, count: num / den, percent: false };
}
