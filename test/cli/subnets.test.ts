// `npas subnets`: the supernet's space, the filter, the best by a metric, the Pareto front,
// `--emit` and the exit codes — the numbers checked against the layer formulas written out here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../src/core/index.js';
import { runInProcess } from './run-in-process.js';
import { elasticDecoderSpec } from '../fixtures/supernet-spec.js';

const SPEC = elasticDecoderSpec({
  vocab: 1000,
  d: 64,
  headDim: 16,
  depth: 8,
  model: 'Net',
  choices: 'expand: [2, 3, 4], heads: [2, 4]',
  depths: '[6, 7, 8]',
  after: 'model Plain {\n  a = Linear(4, 4)\n}\n',
});

// docs/layers.md: RMSNorm d + Attention 4·(16H)·d + GatedMLP 3·d·(e·d); the rest: embedding, final norm, head.
const instance = (e: number, h: number): bigint => BigInt(64 + 4 * 16 * h * 64 + 3 * 64 * e * 64);
const REST = BigInt(1000 * 64 + 64 + 64 * 1000);

const dir = mkdtempSync(join(tmpdir(), 'npas-subnets-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const specPath = join(dir, 'net.npas');
writeFileSync(specPath, SPEC);

const run = runInProcess;

test('npas subnets --json: the space, the supernet\'s stored parameters, the feasible count and the front', () => {
  const limit = REST + 6n * instance(2, 2) + 2n * instance(3, 2);
  const r = run('subnets', specPath, '--where', `params.stored <= ${limit}`, '--by', 'params.stored', '--top', '3', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.model, 'Net');
  assert.equal(j.subnets, 6 ** 6 + 6 ** 7 + 6 ** 8);
  assert.equal(BigInt(j.stored), REST + 8n * instance(4, 4));
  // Below the limit: depth 6 with at most 2 of the next-cheapest step (expand 2 → 3 adds 12,288; heads 2 → 4 adds 8,192).
  // Brute force over ordered depth-6..8 subnets from the formulas:
  const options = [2, 3, 4].flatMap((e) => [2, 4].map((h) => instance(e, h)));
  let feasible = 0;
  const count = (depth: number, sum: bigint): void => {
    if (depth === 0) {
      if (sum <= limit) feasible++;
      return;
    }
    for (const o of options) if (sum + o <= limit) count(depth - 1, sum + o);
  };
  for (const d of [6, 7, 8]) count(d, REST);
  assert.equal(j.feasible.subnets, feasible);
  assert.equal(BigInt(j.top[0].params.stored), REST + 6n * instance(2, 2));
  assert.equal(BigInt(j.front[j.front.length - 1].params.active) <= limit, true);
});

test('npas subnets: the table, --emit as a variant that compiles, exit 1 when nothing is feasible', () => {
  const table = run('subnets', specPath, '--top', '2');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /subnets +2,006,208/);
  assert.match(table.stdout, /Pareto front/);
  const emitted = run('subnets', specPath, '--by', 'params.stored', '--top', '2', '--emit', '1');
  assert.equal(emitted.code, 0, emitted.stderr);
  assert.match(emitted.stdout, /variant NetSubnet1 of Net \{\n {2}body = Decoder\(expand: 2, heads: 2\) \* 6\n\}/);
  const c = compile(SPEC + emitted.stdout);
  assert.deepEqual(c.diagnostics.map((d) => d.message), []);
  assert.equal(c.analysis().models.find((m) => m.name === 'NetSubnet1')!.params.stored, REST + 6n * instance(2, 2));
  assert.equal(run('subnets', specPath, '--where', 'params.stored < 1K').code, 1);
});

test('npas subnets refuses bad flags and models without a supernet (exit 2)', () => {
  assert.equal(run('subnets').code, 2);
  assert.match(run('subnets', specPath, '--by', 'speed').stderr, /--by is one of/);
  assert.match(run('subnets', specPath, '--where', 'kv <= 5').stderr, /--where: .*bytes/);
  assert.match(run('subnets', specPath, '--model', 'Plain').stderr, /declares no supernet/);
  assert.match(run('subnets', specPath, '--model', 'Nope').stderr, /no model or variant named 'Nope'/);
  assert.match(run('subnets', specPath, '--top', '1', '--emit', '3').stderr, /--emit 3: the listing has 1 subnet/);
});

test('npas subnets with a model-wide width: the table and JSON name the global value, --emit writes it as an override', () => {
  // A 2-layer model, width d in [64, 128] for every layer (embedding and head included), expand in [2, 4] per layer.
  const text = `model Wide(d = 128) {
  block Decoder(expand = 4) {
    mlp = MLP(d, expand * d, bias: false)
  }
  embed = Embedding(1000, d)
  body = Decoder * 2
  head = Linear(d, 1000)
  elastic d: [64, 128]
  elastic body: Decoder(expand: [2, 4])
}
`;
  const path = join(dir, 'wide.npas');
  writeFileSync(path, text);
  // MLP(d, e·d) without biases: 2·e·d²; embedding and head (no bias) 1000·d each.
  const params = (d: number, e0: number, e1: number): bigint => BigInt(2000 * d + 2 * e0 * d * d + 2 * e1 * d * d);
  // 2 widths × 2² per-layer choices = 8 subnets; at most 400,000 parameters: the 4 at d = 64 (128,000 + at most 65,536)
  // and (2, 2) at d = 128 (256,000 + 131,072 = 387,072), not (2, 4) at d = 128 (256,000 + 65,536 + 131,072 = 452,608).
  const r = run('subnets', path, '--where', 'params.stored <= 400K', '--by', 'params.stored', '--top', '10', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.subnets, 8);
  assert.deepEqual(j.globals, [{ name: 'd', values: ['64', '128'] }]);
  assert.equal(BigInt(j.stored), params(128, 4, 4));
  assert.equal(j.feasible.subnets, 5);
  assert.deepEqual(j.top.map((c: { globals: { d: string }; params: { stored: number } }) => [c.globals.d, BigInt(c.params.stored)]), [
    ['64', params(64, 2, 2)],
    ['64', params(64, 2, 4)],
    ['64', params(64, 4, 4)],
    ['128', params(128, 2, 2)],
  ]);
  const table = run('subnets', path, '--by', 'params.stored');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /d {9}2 model-wide values: 64, 128 \(every layer using d follows\)/);
  assert.match(table.stdout, /subnets {3}8 \(2 combinations of model-wide values; 6 classes/);
  assert.match(table.stdout, /d: 64; body depth 2: expand: 2 ×2/);
  const emitted = run('subnets', path, '--by', 'params.stored', '--emit', '2');
  assert.equal(emitted.code, 0, emitted.stderr);
  assert.match(emitted.stdout, /^# d: 64; body depth 2: expand: 2 ×1 \+ expand: 4 ×1\nvariant WideSubnet2 of Wide \{\n  d = 64\n  body = Decoder\(expand: 2\) \* 1 \+ Decoder\(expand: 4\) \* 1\n\}\n$/);
  const back = compile(text + emitted.stdout);
  assert.deepEqual(back.diagnostics.map((d) => d.message), []);
  assert.equal(back.analysis().models.find((m) => m.name === 'WideSubnet2')!.params.stored, params(64, 2, 4));
});

test('npas subnets: per-layer choices and depths written with a model-wide value are listed at each value, in the table and in JSON', () => {
  // The block's width, its expand choices and the depths all follow d: at d = 64 the instances are
  // Decoder(64, expand: 1 or 2) and the stack holds 1 or 2 of them; at d = 128, Decoder(128, expand: 2 or 4) × 2 or 4.
  const text = `model Follow(d = 128) {
  block Decoder(c, expand = 1) {
    mlp = MLP(c, expand * c, bias: false)
  }
  embed = Embedding(10, d)
  body = Decoder(d) * 2
  elastic d: [64, 128]
  elastic body: Decoder(d, expand: [d / 64, d / 32]) * [d / 64, d / 32]
}
`;
  const path = join(dir, 'follow.npas');
  writeFileSync(path, text);
  // MLP(c, e·c) without biases: 2·e·c²; Embedding(10, d): 10·d.
  const inst = (c: number, e: number): bigint => BigInt(2 * e * c * c);
  // Subnets: at d = 64, 2¹ + 2² = 6; at d = 128, 2² + 2⁴ = 20. Stored at each value: the deepest stack of the largest choice.
  const r = run('subnets', path, '--by', 'params.stored', '--top', '30', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.subnets, 26);
  const stacksAt = (p: number) => j.points[p].stacks.map((st: { stack: string; choices: string[]; depths: number[]; subnets: number; stored: number }) => [st.stack, st.choices, st.depths, BigInt(st.subnets), BigInt(st.stored)]);
  assert.deepEqual(stacksAt(0), [['body', ['Decoder(64, expand: 1)', 'Decoder(64, expand: 2)'], [1, 2], 6n, 2n * inst(64, 2)]]);
  assert.deepEqual(stacksAt(1), [['body', ['Decoder(128, expand: 2)', 'Decoder(128, expand: 4)'], [2, 4], 20n, 4n * inst(128, 4)]]);
  assert.deepEqual(j.points.map((p: { stored: number }) => BigInt(p.stored)), [640n + 2n * inst(64, 2), 1280n + 4n * inst(128, 4)]);
  // Every listed subnet's choices are among its own value's, never another value's.
  assert.equal(j.top.length, 2 + 3 + 3 + 5);
  for (const c of j.top) {
    const own = j.points.find((p: { globals: { d: string } }) => p.globals.d === c.globals.d).stacks[0].choices;
    for (const call of Object.keys(c.stacks[0].counts)) assert.ok(own.includes(call), `${call} at d = ${c.globals.d}`);
  }
  const table = run('subnets', path, '--by', 'params.stored', '--top', '30');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /elastic stacks at d: 128 \(the largest subnet's values\):\n {2}body {6}2 choices per instance, depths 2, 4: 20 subnets\n {4}Decoder\(128, expand: 2\)\n {4}Decoder\(128, expand: 4\)\n/);
  assert.match(table.stdout, /elastic stacks at d: 64:\n {2}body {6}2 choices per instance, depths 1, 2: 6 subnets\n {4}Decoder\(64, expand: 1\)\n {4}Decoder\(64, expand: 2\)\n/);
  // d = 64, one instance of each choice: 640 + 8,192 + 16,384 = 25,216.
  assert.match(table.stdout, /25,216 +25,216 .*d: 64; body depth 2: expand: 1 ×1 \+ expand: 2 ×1/);
});
