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
