// The independent PyTorch check: test/torch/independent_check.py builds six small models as
// plain PyTorch modules written from the papers (not generated from the engine, not the probe
// twin), counts their parameters, their matrix-product FLOPs with a __torch_dispatch__ counter
// and the KV cache a decode step keeps; the same architectures are written below as `.npas`
// specs and `npas budget --json` (the CLI, run in process) must agree exactly: GPT-2 (learned positions, biases, a tied
// head), a Llama-style GQA decoder with rotary embeddings, a sliding-window decoder, a
// Mixtral-style MoE, DeepSeek-V2's MLA (decode in the absorbed form) and a token mixer made of a
// depthwise causal Conv1d over the sequence (per-token FLOPs, its last inputs as decode state).
//
// Needs Debian's python3-torch (`apt-get install -y python3-torch`), run by /usr/bin/python3.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../src/core/index.js';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(__dirname, 'independent_check.py');
const SEQ = 16;

const SPECS = `
model TinyGPT2 {
  d = 32
  block Layer {
    ln_1 = LayerNorm(d)
    attn = Attention(d, 4, bias: true)
    ln_2 = LayerNorm(d)
    mlp  = MLP(d, 4 * d, act: gelu_tanh)
  }
  wte     = Embedding(101, d)
  wpe     = PositionEmbedding(64, d)
  h       = Layer * 2
  ln_f    = LayerNorm(d)
  lm_head = Linear(d, 101) tied wte
}

model TinyLlamaGQA {
  d = 32
  block Layer { n1 = RMSNorm(d); attn = Attention(d, 4, kv_heads: 2, rope: true); n2 = RMSNorm(d); mlp = GatedMLP(d, 48) }
  embed  = Embedding(101, d)
  layers = Layer * 2
  norm   = RMSNorm(d)
  head   = Linear(d, 101)
}

model TinyWindowed {
  d = 32
  block Layer { n1 = RMSNorm(d); attn = Attention(d, 4, kv_heads: 2, rope: true, window: 6); n2 = RMSNorm(d); mlp = GatedMLP(d, 48) }
  embed  = Embedding(101, d)
  layers = Layer * 2
  norm   = RMSNorm(d)
  head   = Linear(d, 101)
}

model TinyMoE {
  d = 32
  block Layer { n1 = RMSNorm(d); attn = Attention(d, 4, kv_heads: 2, rope: true); n2 = RMSNorm(d); moe = MoE(d, 24, experts: 4, top_k: 2) }
  embed  = Embedding(101, d)
  layers = Layer * 2
  norm   = RMSNorm(d)
  head   = Linear(d, 101)
}

model TinyConvMixer {
  d = 32
  block Layer { n1 = RMSNorm(d); mix_in = Linear(d, d); conv = Conv1d(d, d, 4, groups: d); mix_out = Linear(d, d); n2 = RMSNorm(d); mlp = GatedMLP(d, 48) }
  embed  = Embedding(101, d)
  layers = Layer * 2
  norm   = RMSNorm(d)
  head   = Linear(d, 101)
}

model TinyMLA {
  d = 32
  block Layer { n1 = RMSNorm(d); attn = MLA(d, 2, kv_rank: 16, rope_dim: 4, nope_dim: 8, v_dim: 8); n2 = RMSNorm(d); mlp = GatedMLP(d, 48) }
  embed  = Embedding(101, d)
  layers = Layer * 2
  norm   = RMSNorm(d)
  head   = Linear(d, 101)
}
`;

interface TorchCounts {
  readonly params: number;
  readonly prefill: number;
  readonly decode: number;
  readonly kvBytes: number;
}

function torchCounts(): Record<string, TorchCounts> {
  const hint = 'the independent PyTorch check needs Debian\'s python3-torch: apt-get install -y python3-torch (run as /usr/bin/python3)';
  assert.ok(existsSync(PYTHON), hint);
  const r = spawnSync(PYTHON, [SCRIPT], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0 && /No module named 'torch'/.test(r.stderr)) assert.fail(hint);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, TorchCounts>;
}

/** `npas budget --json --seq 16` of the specs above, run in process as the CLI runs it. */
function npasBudgetJson(): { models: { name: string; params: { stored: number }; flops: { prefill: number; decode: number }; kvCacheBytes: number; recurrentStateBytes: number }[] } {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readFile: () => SPECS, writeFile: () => {} };
  const code = main(['budget', 'torch-check.npas', '--json', '--seq', String(SEQ)], io);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout);
}

test('npas budget --json agrees exactly with plain PyTorch modules: params, prefill and decode FLOPs, KV bytes', () => {
  const counts = torchCounts();
  const result = analyze(SPECS, { seq: SEQ });
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  const budget = npasBudgetJson();
  assert.deepEqual(Object.keys(counts).sort(), budget.models.map((m) => m.name).sort());
  for (const m of budget.models) {
    const t = counts[m.name]!;
    assert.deepEqual(
      // The cache a decode step keeps: attention's KV, or a sequence convolution's last inputs.
      { params: m.params.stored, prefill: m.flops.prefill, decode: m.flops.decode, kvBytes: m.kvCacheBytes + m.recurrentStateBytes },
      { params: t.params, prefill: t.prefill, decode: t.decode, kvBytes: t.kvBytes },
      m.name,
    );
  }
});
