// Exact rational arithmetic on bigints. Constant evaluation never rounds: `1.2B`, `2/3` and
// `0.1` are exact, so budgets compare exactly and counts derived from them stay integers.

/** An exact rational number, always normalised: den > 0 and gcd(|num|, den) = 1. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/** Builds a normalised rational; `den` must not be zero. */
export function rational(num: bigint, den: bigint = 1n): Rational {
  if (den === 0n) throw new RangeError('rational with zero denominator');
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num, den);
  return g > 1n ? { num: num / g, den: den / g } : { num, den };
}

export const ZERO: Rational = { num: 0n, den: 1n };
export const ONE: Rational = { num: 1n, den: 1n };

export function fromBigInt(n: bigint): Rational {
  return { num: n, den: 1n };
}

export function fromInt(n: number): Rational {
  return { num: BigInt(n), den: 1n };
}

export function add(a: Rational, b: Rational): Rational {
  return a.den === b.den ? rational(a.num + b.num, a.den) : rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

/** The sum of many rationals; integers (the common case) add without a gcd each. */
export function sum(xs: readonly Rational[]): Rational {
  let integer = 0n;
  let fraction = ZERO;
  for (const x of xs) {
    if (x.den === 1n) integer += x.num;
    else fraction = add(fraction, x);
  }
  return fraction === ZERO ? { num: integer, den: 1n } : add(fraction, { num: integer, den: 1n });
}

export function sub(a: Rational, b: Rational): Rational {
  return add(a, neg(b));
}

export function neg(a: Rational): Rational {
  return { num: -a.num, den: a.den };
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

/** Exact division; the caller checks for a zero divisor. */
export function div(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den, a.den * b.num);
}

/** Largest integer ≤ a. */
export function floor(a: Rational): bigint {
  const q = a.num / a.den;
  return a.num < 0n && q * a.den !== a.num ? q - 1n : q;
}

/** Smallest integer ≥ a. */
export function ceil(a: Rational): bigint {
  return -floor(neg(a));
}

/** Nearest integer, halves away from zero. */
export function round(a: Rational): bigint {
  const twice = rational(2n * a.num, a.den);
  return a.num >= 0n ? floor(rational(twice.num + twice.den, 2n * twice.den)) : -floor(rational(-twice.num + twice.den, 2n * twice.den));
}

/** Floor division `a // b` (Python semantics). */
export function floorDiv(a: Rational, b: Rational): Rational {
  return fromBigInt(floor(div(a, b)));
}

/** `a % b` with the sign of b (Python semantics): a − b·⌊a/b⌋. */
export function mod(a: Rational, b: Rational): Rational {
  return sub(a, mul(b, floorDiv(a, b)));
}

/** a^e for an integer exponent (negative allowed when a ≠ 0). */
export function pow(a: Rational, e: bigint): Rational {
  if (e < 0n) return pow(div(ONE, a), -e);
  let result = ONE;
  let base = a;
  let k = e;
  while (k > 0n) {
    if (k & 1n) result = mul(result, base);
    base = mul(base, base);
    k >>= 1n;
  }
  return result;
}

export function compare(a: Rational, b: Rational): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function isZero(a: Rational): boolean {
  return a.num === 0n;
}

export function isInteger(a: Rational): boolean {
  return a.den === 1n;
}

export function toNumber(a: Rational): number {
  return Number(a.num) / Number(a.den);
}

/**
 * Every digit when the expansion terminates (the reduced denominator is 2^a·5^b, as for a count
 * divided by a power-of-two token count), otherwise `toDecimalString(a, digits)`.
 */
export function toExactDecimalString(a: Rational, digits = 6): string {
  let d = a.den < 0n ? -a.den : a.den;
  let places = 0;
  for (const p of [2n, 5n]) {
    let k = 0;
    while (d % p === 0n) {
      d /= p;
      k++;
    }
    places = Math.max(places, k);
  }
  return toDecimalString(a, d === 1n ? Math.max(places, digits) : digits);
}

/**
 * A decimal rendering: exact when the expansion terminates, otherwise rounded to `digits`
 * fractional digits with a trailing `…` so a reader knows it was cut.
 */
export function toDecimalString(a: Rational, digits = 6): string {
  const sign = a.num < 0n ? '-' : '';
  const n = a.num < 0n ? -a.num : a.num;
  const whole = n / a.den;
  let rem = n % a.den;
  if (rem === 0n) return sign + whole.toString();
  let frac = '';
  for (let i = 0; i < digits && rem !== 0n; i++) {
    rem *= 10n;
    frac += (rem / a.den).toString();
    rem %= a.den;
  }
  return `${sign}${whole}.${frac}${rem === 0n ? '' : '…'}`;
}

/**
 * Parses the mantissa of a numeric literal exactly: `256000`, `1.2`, `1e-5`, `2.5E+3`.
 * Returns undefined for malformed text.
 */
export function parseDecimal(text: string): Rational | undefined {
  const m = /^(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^\.(\d+)(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  const intPart = m[1] ?? '0';
  const fracPart = m[2] ?? m[4] ?? '';
  const expText = m[3] ?? m[5];
  const exp = expText === undefined ? 0 : Number(expText);
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 400) return undefined;
  let value = rational(BigInt(intPart + fracPart), 10n ** BigInt(fracPart.length));
  if (exp > 0) value = mul(value, fromBigInt(10n ** BigInt(exp)));
  if (exp < 0) value = div(value, fromBigInt(10n ** BigInt(-exp)));
  return value;
}
