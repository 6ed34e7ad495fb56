// The independent PyTorch check of factorised weights: test/torch/factorized_check.py writes
// FedPara (a matrix and a convolution kernel) and a tensor-train matrix as plain PyTorch modules
// from the papers, counts their parameters and, with a __torch_dispatch__ matrix-product counter,
// the FLOPs of materialising W (the cheaper merge order) and of applying the factors to one
// vector; it checks both executions compute W·x and FedPara's W reaches rank R². The engine's
// stored counts, generation and factor-chain costs of the same weights must agree exactly.
//
// Needs Debian's python3-torch (`apt-get install -y python3-torch`), run by /usr/bin/python3.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, type ModelReport } from '../../src/core/index.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(__dirname, 'factorized_check.py');

interface Counts {
  readonly fedpara: { readonly params: number; readonly chainFlops: number };
  readonly fedparaConv: { readonly params: number };
  readonly tt: { readonly params: number; readonly reconstructFlops: number; readonly chainFlops: number };
}

function torchCounts(): Counts {
  const hint = 'the independent PyTorch check needs Debian\'s python3-torch: apt-get install -y python3-torch (run as /usr/bin/python3)';
  assert.ok(existsSync(PYTHON), hint);
  const r = spawnSync(PYTHON, [SCRIPT], { encoding: 'utf8', timeout: 300_000, cwd: __dirname });
  if (r.status !== 0 && /No module named 'torch'/.test(r.stderr)) assert.fail(hint);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Counts;
}

const model = (text: string): ModelReport => {
  const r = analyze(text);
  assert.deepEqual(r.diagnostics.map((d) => d.message), []);
  return r.models[0]!;
};

test('factorised weights agree exactly with plain PyTorch modules: stored factors, materialising W, the factor chain', () => {
  const t = torchCounts();
  const fed = model('model F {\n  lin = Linear(40, 48)\n  factorize lin: fedpara(rank: 3)\n}\n');
  assert.equal(fed.params.stored, BigInt(t.fedpara.params));
  assert.equal(2n * fed.factorized![0]!.chainMacsPerToken!, BigInt(t.fedpara.chainFlops));
  const conv = model('model C {\n  conv = Conv2d(6, 10, 3, size: 8, bias: false)\n  factorize conv: fedpara(rank: 2)\n}\n');
  assert.equal(conv.params.stored, BigInt(t.fedparaConv.params));
  const tt = model('model T {\n  lin = Linear(40, 24)\n  factorize lin: tensor_train(ranks: [3, 2], modes_out: [4, 3, 2], modes_in: [2, 5, 4])\n}\n');
  assert.equal(tt.params.stored, BigInt(t.tt.params));
  const row = tt.factorized![0]!;
  assert.equal(2n * row.reconstructMacs, BigInt(t.tt.reconstructFlops));
  // The roofline counts the cheaper execution: the chain when PyTorch's chain costs less than the
  // dense 40·24 matmul per token (no setup, so cheaper per step too), else W materialised every
  // step (forward and twice that backward).
  const chainCheaper = BigInt(t.tt.chainFlops) < 2n * 40n * 24n;
  assert.equal(row.execution, chainCheaper ? 'factors' : 'dense');
  assert.equal(tt.flops.generationPerStep, chainCheaper ? 0n : 3n * BigInt(t.tt.reconstructFlops), 'training: forward and twice that backward');
  assert.equal(BigInt(tt.flops.prefillPerToken), chainCheaper ? BigInt(t.tt.chainFlops) : 2n * 40n * 24n);
  assert.equal(2n * row.chainMacsPerToken!, BigInt(t.tt.chainFlops));
});
