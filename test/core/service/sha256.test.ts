// The core's SHA-256 (src/core/text/sha256.ts), which the model fingerprint of probe results is
// made with, against node:crypto: every length across the padding boundaries, multi-byte UTF-8,
// astral characters and a lone surrogate (encoded as U+FFFD, as TextEncoder and Node do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sha256Hex } from '../../../src/core/text/sha256.js';

const node = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

test('sha256Hex equals node:crypto on the FIPS vector and every length 0..200', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  for (let n = 0; n <= 200; n++) {
    const s = 'model M { d = 64 }\n'.repeat(20).slice(0, n);
    assert.equal(sha256Hex(s), node(s), `length ${n}`);
  }
});

test('sha256Hex hashes the UTF-8 bytes: accents, CJK, emoji, a lone surrogate', () => {
  for (const s of ['σ-MoE · Σσ(l) → ⌊i·R/N⌋', '模型', 'budget 🚀 ok', 'x\ud800y', '\u0000nul']) assert.equal(sha256Hex(s), node(s), JSON.stringify(s));
});
