// Magnitude and unit suffixes of numeric literals (`8K`, `4Ki`, `128MiB`, `40ms`) and the
// dimension a value carries. Decimal magnitudes are powers of 10, binary ones powers of 2,
// exactly as in docs/language.md ("Numbers and units").

import { fromBigInt, type Rational } from './rational.js';

/** The physical dimension of a value: a plain count, a size in bytes, or a duration. */
export type Unit = 'count' | 'bytes' | 'seconds';

export interface SuffixMeaning {
  readonly scale: Rational;
  readonly unit: Unit;
}

const p10 = (e: number): Rational => fromBigInt(10n ** BigInt(e));
const p2 = (e: number): Rational => fromBigInt(2n ** BigInt(e));

/** Every suffix a numeric literal may carry. */
export const NUMBER_SUFFIXES: ReadonlyMap<string, SuffixMeaning> = new Map<string, SuffixMeaning>([
  ['', { scale: p10(0), unit: 'count' }],
  ['K', { scale: p10(3), unit: 'count' }],
  ['M', { scale: p10(6), unit: 'count' }],
  ['G', { scale: p10(9), unit: 'count' }],
  ['B', { scale: p10(9), unit: 'count' }],
  ['T', { scale: p10(12), unit: 'count' }],
  ['Ki', { scale: p2(10), unit: 'count' }],
  ['Mi', { scale: p2(20), unit: 'count' }],
  ['Gi', { scale: p2(30), unit: 'count' }],
  ['Ti', { scale: p2(40), unit: 'count' }],
  ['bytes', { scale: p10(0), unit: 'bytes' }],
  ['KB', { scale: p10(3), unit: 'bytes' }],
  ['MB', { scale: p10(6), unit: 'bytes' }],
  ['GB', { scale: p10(9), unit: 'bytes' }],
  ['TB', { scale: p10(12), unit: 'bytes' }],
  ['KiB', { scale: p2(10), unit: 'bytes' }],
  ['MiB', { scale: p2(20), unit: 'bytes' }],
  ['GiB', { scale: p2(30), unit: 'bytes' }],
  ['TiB', { scale: p2(40), unit: 'bytes' }],
  ['s', { scale: p10(0), unit: 'seconds' }],
  ['ms', { scale: { num: 1n, den: 1000n }, unit: 'seconds' }],
  ['us', { scale: { num: 1n, den: 1000000n }, unit: 'seconds' }],
]);

export function describeUnit(unit: Unit): string {
  return unit === 'count' ? 'a count' : unit === 'bytes' ? 'a size in bytes' : 'a duration';
}
