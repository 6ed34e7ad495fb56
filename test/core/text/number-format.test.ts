// The shared formatters never print NaN: a per-token decimal string from the core may end in '…'
// where the exact quotient does not terminate (toDecimalString), and it still has a magnitude.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFlops } from '../../../src/core/text/number-format.js';
import * as Q from '../../../src/core/numbers/rational.js';

test('formatFlops reads a truncated decimal by its magnitude', () => {
  const third = Q.toDecimalString(Q.div(Q.fromInt(2_361_373_481), Q.fromInt(3000)), 3); // 787124.493…
  assert.ok(third.endsWith('…'), third);
  assert.equal(formatFlops(third), '787.12 KFLOP');
  assert.equal(formatFlops('787124'), '787.12 KFLOP');
  assert.equal(formatFlops(262_656n), '262.66 KFLOP');
});
