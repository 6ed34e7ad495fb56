// KV producer maps: which instance's cache each instance reads, checked against the
// definitions in docs/language.md ("Sharing KV producers").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cycleMap, cycleRevMap, everyKv, sequenceMap, tiedKv } from '../../../src/core/sharing/slot-map.js';

const producers = (map: { producerOf(i: number): number }, n: number): number[] => Array.from({ length: n }, (_, i) => map.producerOf(i));

test('every(n): the first of each group of n produces', () => {
  assert.deepEqual(producers(everyKv(2), 6), [0, 0, 2, 2, 4, 4]);
  assert.deepEqual(producers(everyKv(3), 7), [0, 0, 0, 3, 3, 3, 6]);
});

test('tied: each instance reads the first instance that uses its store', () => {
  // cycle(3) over 6: stores 012012 → first users 0,1,2.
  assert.deepEqual(producers(tiedKv(cycleMap(3)), 6), [0, 1, 2, 0, 1, 2]);
  // sequence(3) over 6: stores 001122 → first users 0,2,4.
  assert.deepEqual(producers(tiedKv(sequenceMap(3, 6)), 6), [0, 0, 2, 2, 4, 4]);
  // cycle_rev(3) over 6: stores 012210 → first users 0,1,2.
  assert.deepEqual(producers(tiedKv(cycleRevMap(3, 6)), 6), [0, 1, 2, 2, 1, 0]);
  // Producers are exactly the first users, as the closed-form count says.
  const map = tiedKv(sequenceMap(3, 6));
  assert.equal(producers(map, 6).filter((p, i) => p === i).length, map.producersIn(0, 6));
});
