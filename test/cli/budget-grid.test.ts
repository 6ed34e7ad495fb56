// `npas budget` over a grid (several files, comma lists and ranges of the settings), through
// main(argv, io). The numbers are derived here from the fixture's one attention layer, not read
// back from a single report: Att = Attention(64, heads: 4), bf16 (2 bytes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInProcess } from './run-in-process.js';

const TINY = 'test/fixtures/specs/tiny.npas';
const VIOLATED = 'test/fixtures/specs/violated.npas';
const BROKEN = 'test/fixtures/specs/broken.npas';

const run = runInProcess;

// One attention layer of width d = 64: K and V of every position (2 × d values, 2 bytes each), and
// a decode step per sequence of 4 d² multiply-adds for the projections plus 2 × S × d for the
// scores and the weighted sum over S cached positions (a multiply-add = 2 FLOPs).
const D = 64n;
const kvBytes = (s: bigint, b: bigint): bigint => 2n * D * 2n * s * b;
const decodeFlops = (s: bigint, b: bigint): bigint => b * 2n * (4n * D * D + 2n * s * D);

interface Row {
  file: string;
  model: string;
  options: { seq: number; batch: number };
  params: { stored: number };
  flops: { decode: number };
  kvCacheBytes: number;
}

test('budget: comma lists make the grid of every combination, in flag order, each exact', () => {
  const r = run('budget', TINY, '--model', 'Att', '--seq', '1000,2000', '--batch', '1,4', '--json');
  assert.equal(r.code, 0, r.stderr);
  const rows = (JSON.parse(r.stdout) as { rows: Row[] }).rows;
  assert.deepEqual(
    rows.map((x) => [x.options.seq, x.options.batch]),
    [
      [1000, 1],
      [1000, 4],
      [2000, 1],
      [2000, 4],
    ],
  );
  for (const x of rows) {
    const s = BigInt(x.options.seq);
    const b = BigInt(x.options.batch);
    assert.equal(x.params.stored, 4 * 64 * 64);
    assert.equal(BigInt(x.kvCacheBytes), kvBytes(s, b), `KV at seq ${s}, batch ${b}`);
    assert.equal(BigInt(x.flops.decode), decodeFlops(s, b), `decode at seq ${s}, batch ${b}`);
  }
});

test('budget: a range doubles (FROM..TO) or steps (FROM..TO:STEP); CSV cells are exact integers', () => {
  const doubled = run('budget', TINY, '--model', 'Att', '--seq', '1024..4096', '--format', 'csv');
  assert.equal(doubled.code, 0, doubled.stderr);
  const lines = doubled.stdout.trim().split('\n');
  const header = lines[0]!.split(',');
  assert.deepEqual(header.slice(0, 3), ['model', 'seq', 'batch']);
  const at = (line: string, column: string): string => line.split(',')[header.indexOf(column)]!;
  assert.deepEqual(lines.slice(1).map((l) => at(l, 'seq')), ['1024', '2048', '4096']);
  for (const l of lines.slice(1)) {
    const s = BigInt(at(l, 'seq'));
    assert.equal(at(l, 'KV cache'), kvBytes(s, 1n).toString());
    assert.equal(at(l, 'decode FLOPs/step'), decodeFlops(s, 1n).toString());
  }
  const stepped = run('budget', TINY, '--model', 'Att', '--seq', '1000..3000:1000', '--format', 'csv');
  assert.equal(stepped.stdout.trim().split('\n').length, 4, 'a header and three rows');
});

test('budget: several files make one table with a file column, every model of each', () => {
  const r = run('budget', TINY, VIOLATED, '--format', 'markdown');
  assert.equal(r.code, 1, 'a violated budget in one file exits 1');
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^\| file \| model \| seq \|/);
  assert.match(lines[1]!, /^\|---\|---\|---:\|/);
  const files = lines.slice(2).map((l) => l.split('|')[1]!.trim());
  assert.deepEqual([...new Set(files)], [TINY, VIOLATED]);
  assert.equal(files.filter((f) => f === TINY).length, 3, 'Toy, Att and the variant ToyShared');
  assert.ok(lines.some((l) => l.includes('FAIL')), 'the violated budget is named in its row');
});

test('budget grid: a bad value in a list and a spec error are refused with their place', () => {
  const badValue = run('budget', TINY, '--seq', '1000,lots');
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /--seq/);
  const broken = run('budget', TINY, BROKEN, '--seq', '1000,2000');
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, new RegExp(`^${BROKEN.replace(/[./]/g, '\\$&')}:\\d+:\\d+: error npas-`, 'm'));
  assert.equal(broken.stdout, '', 'no partial table');
  const unknown = run('budget', TINY, '--model', 'Nope', '--batch', '1,2');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no model or variant named 'Nope'/);
});

test('budget: one file and no sweep keeps the per-model report; --format asks for the table', () => {
  const plain = run('budget', TINY, '--model', 'Att');
  assert.match(plain.stdout, /^Att \(model\)\n {2}params {4}stored 16,384/);
  const table = run('budget', TINY, '--model', 'Att', '--format', 'table');
  assert.equal(table.stdout.trim().split('\n').length, 2, 'a header and one row');
});

test("budget: a spec's warnings go to stderr as `npas check` prints them; the numbers and the exit code stay", () => {
  const CTX = 'test/fixtures/specs/context.npas';
  const within = run('budget', CTX, '--seq', '4096', '--json');
  assert.equal(within.code, 0, within.stderr);
  assert.equal(within.stderr, '');
  const past = run('budget', CTX, '--seq', '8192', '--json');
  assert.equal(past.code, 0);
  assert.match(past.stderr, /^test\/fixtures\/specs\/context\.npas:3:7: warning npas-seq-beyond-context: /);
  assert.equal(past.stderr.trim().split('\n').length, 1);
  // Every number is still computed: K and V of 8,192 positions of width 64 in bf16.
  const kv = (JSON.parse(past.stdout) as { models: { kvCacheBytes: string | number }[] }).models[0]!.kvCacheBytes;
  assert.equal(BigInt(kv), kvBytes(8192n, 1n));
  // A grid says each warning once, however many combinations repeat it.
  const grid = run('budget', CTX, '--seq', '8192,8192', '--batch', '1,2');
  assert.equal(grid.code, 0);
  assert.equal(grid.stderr.trim().split('\n').length, 1, grid.stderr);
  assert.match(grid.stderr, /warning npas-seq-beyond-context/);
});

test('budget --model M: a warning about another model (GPT-2 past its 1,024 positions) is not said; one about M is, alone or in a grid', () => {
  const LLMS = 'examples/reference-llms.npas';
  const gpt2Past = /reference-llms\.npas:\d+:\d+: warning npas-seq-beyond-positions: seq 8192 exceeds the 1024 positions of GPT2's/;
  assert.match(run('budget', LLMS, '--seq', '8192', '--json').stderr, gpt2Past);
  for (const argv of [['--seq', '8192', '--json'], ['--seq', '4096,8192']]) {
    const other = run('budget', LLMS, '--model', 'Llama2_7B', ...argv);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(other.stderr, '', argv.join(' '));
  }
  assert.match(run('budget', LLMS, '--seq', '8192', '--model', 'GPT2', '--json').stderr, gpt2Past);
  assert.match(run('budget', LLMS, '--seq', '4096,8192', '--model', 'GPT2').stderr, gpt2Past);
});
