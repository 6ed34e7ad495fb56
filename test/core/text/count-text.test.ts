// parseParameterCount: the one reader of a typed parameter count (npas allocate --params and the
// editor's budget box). Values by hand: 3.65M = 3,650,000; 4Mi = 4·2^20 = 4,194,304; 12.5% of
// 3,651,883 = 456,485.375, rounded down to 456,485.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseParameterCount } from '../../../src/core/numbers/count-text.js';

const stored = 3_651_883n;

test('counts: whole numbers with separators, decimal and binary magnitudes, percentages rounded down', () => {
  const count = (t: string): bigint | string => {
    const r = parseParameterCount(t, stored);
    return r.ok ? r.count : r.problem;
  };
  assert.equal(count('3651883'), 3_651_883n);
  assert.equal(count('3_651_883'), 3_651_883n);
  assert.equal(count(' 3,651,883 '), 3_651_883n);
  assert.equal(count('3.65M'), 3_650_000n);
  assert.equal(count('7B'), 7_000_000_000n);
  assert.equal(count('4Mi'), 4_194_304n);
  assert.equal(count('2Ki'), 2_048n);
  assert.equal(count('12.5%'), 456_485n);
  assert.equal(count('100%'), stored);
  assert.equal(count(''), 'empty');
  assert.equal(count('1.5'), 'fraction');
  assert.equal(count('1.0005K'), 'fraction');
  assert.equal(count('3.65 Q'), 'format');
  assert.equal(count('-5'), 'format');
  assert.equal(count('1e6'), 'format');
  const pct = parseParameterCount('10%', stored);
  assert.ok(pct.ok && pct.percent && pct.count === 365_188n);
  const plain = parseParameterCount('10', stored);
  assert.ok(plain.ok && !plain.percent);
});
