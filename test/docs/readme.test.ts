// Keeps the README honest: its first fenced block holds the two set-up commands, the spec it
// shows analyses to the numbers it states, and every example file it points at exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../src/core/index.js';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('the first fenced block holds the set-up commands: the main job on an example, then the tests', () => {
  const first = blocks[0]!.trim().split('\n');
  assert.equal(first.length, 2);
  assert.match(first[0]!, /^npm ci && npx npas budget examples\/[\w-]+\.npas$/);
  assert.equal(first[1], 'npm test');
  const example = /examples\/[\w-]+\.npas/.exec(first[0]!)![0];
  assert.ok(existsSync(join(root, example)), `${example} exists`);
});

test('the README spec analyses to the totals the README states', () => {
  const spec = blocks.find((b) => b.includes('model Gemma2B'))!;
  const r = analyze(spec);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  const [base, recursive] = r.models;
  // Gemma-2B's published total; the recursive variant: 9 stored blocks of 110,104,576,
  // the 524,288,000 embedding, the final norm, and LoRA r=64 on 7 matrices of 18 instances
  // (68,096 params per unit rank), less the LoRA on k and v (2048 → 256 each) of the 9 instances
  // that borrow their KV under every(2):
  // 9·110,104,576 + 524,288,000 + 2,048 + 18·64·68,096 − 9·2·64·(2,048 + 256).
  assert.equal(base!.params.stored, 2_506_172_416n);
  assert.equal(recursive!.params.stored, 9n * 110_104_576n + 524_288_000n + 2_048n + 18n * 64n * 68_096n - 9n * 2n * 64n * 2_304n);
  assert.equal(recursive!.params.stored, 1_591_023_616n);
  assert.ok(recursive!.budgets.length === 2 && recursive!.budgets.every((b) => b.ok));
  // CLA every(2) halves the KV cache of the base model.
  assert.equal(recursive!.kvCacheBytes * 2n, base!.kvCacheBytes);
});
