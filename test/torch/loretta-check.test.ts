// The independent PyTorch check of LoRETTA's adapters: test/torch/loretta_check.py writes the
// reference code's TensorTrain, TensorizedLinear_module, LoRETTA_rep and LoRETTA_adp layers as
// plain PyTorch modules at Llama-2's width 4096 with the reference's default modes (r = 8,
// b = 64) and TT ranks 5 (its README) and 8 (its LLaMA runs), counts their trainable parameters
// and, with a __torch_dispatch__ matrix-product counter, the FLOPs of materialising each matrix
// (the cheaper sweep) and of the split form where one exists. The engine's stored and trainable
// counts, per-token FLOPs and generation per step must agree exactly, with each train executed
// the way the engine's rule picks from these costs (split when it is no dearer per token and per
// step, one of them strictly).
//
// Needs Debian's python3-torch (`apt-get install -y python3-torch`), run by /usr/bin/python3.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, type ModelReport } from '../../src/core/index.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(__dirname, 'loretta_check.py');

interface Train {
  readonly reconstructFlops: number;
  readonly denseFlopsPerToken: number;
  readonly chainSetupFlops?: number;
  readonly chainFlopsPerToken?: number;
}
interface AtRank {
  readonly rep: { readonly params: number; readonly a: Train; readonly b: Train };
  readonly adp: { readonly params: number; readonly down: Train; readonly up: Train };
}

function torchCounts(): Record<string, AtRank> {
  const hint = 'the independent PyTorch check needs Debian\'s python3-torch: apt-get install -y python3-torch (run as /usr/bin/python3)';
  assert.ok(existsSync(PYTHON), hint);
  const r = spawnSync(PYTHON, [SCRIPT], { encoding: 'utf8', timeout: 300_000, cwd: __dirname });
  if (r.status !== 0 && /No module named 'torch'/.test(r.stderr)) assert.fail(hint);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, AtRank>;
}

const model = (text: string, name: string): ModelReport => {
  const r = analyze(text);
  assert.deepEqual(r.diagnostics.map((d) => d.message), []);
  return r.models.find((m) => m.name === name)!;
};

/** The FLOPs per token and per step (forward) of a train run as the engine's rule picks. */
function executed(t: Train): { perToken: bigint; perStep: bigint } {
  const dense = { perToken: BigInt(t.denseFlopsPerToken), perStep: BigInt(t.reconstructFlops) };
  if (t.chainFlopsPerToken === undefined) return dense;
  const chain = { perToken: BigInt(t.chainFlopsPerToken), perStep: BigInt(t.chainSetupFlops!) };
  const dominates = chain.perToken <= dense.perToken && chain.perStep <= dense.perStep && (chain.perToken < dense.perToken || chain.perStep < dense.perStep);
  return dominates ? chain : dense;
}

test('LoRETTA_rep and LoRETTA_adp agree exactly with plain PyTorch modules of the reference\'s layers', () => {
  const counts = torchCounts();
  for (const t of [5, 8]) {
    const c = counts[`t${t}`]!;
    const text = `
model M {
  embed = Embedding(10, 4096)
  p = Linear(4096, 4096)
}
variant Rep of M { adapt p: loretta_rep(rank: 8, tt_rank: ${t}) }
variant Adp of M { adapt p: loretta_adp(bottleneck: 64, tt_rank: ${t}) }
`;
    const base = model(text, 'M');
    for (const [name, params, trains] of [
      ['Rep', c.rep.params, [c.rep.a, c.rep.b]],
      ['Adp', c.adp.params, [c.adp.down, c.adp.up]],
    ] as const) {
      const m = model(text, name);
      assert.equal(m.params.stored - base.params.stored, BigInt(params), `${name} t=${t}: stored`);
      assert.equal(m.params.trainable, BigInt(params), `${name} t=${t}: trainable`);
      const runs = trains.map(executed);
      assert.equal(BigInt(m.flops.prefillPerToken) - BigInt(base.flops.prefillPerToken), runs.reduce((s, r) => s + r.perToken, 0n), `${name} t=${t}: FLOPs per token`);
      // Generation per step: forward and twice that backward, 3 × the forward FLOPs.
      assert.equal(m.flops.generationPerStep, 3n * runs.reduce((s, r) => s + r.perStep, 0n), `${name} t=${t}: generation per step`);
    }
  }
});
