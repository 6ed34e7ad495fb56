// scripts/gpu-probe-torch.py — the PyTorch side-by-side of the GPU probes — interprets the
// exported graph node by node. Its numpy backend runs here (no torch, no GPU): on graphs with
// embedded weights it must reproduce ONNX Runtime's output, prefill and decode alike, so the
// GPU session's side-by-side runs the same computation. Skipped where python3 or numpy is absent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportModel, onnxBytes, type ExportOptions } from '../../kernels/export.js';
import { graphJson } from '../../kernels/graph-json.js';

const script = join(__dirname, '..', '..', 'scripts', 'gpu-probe-torch.py');
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

const SPEC = `
model Tiny {
  vocab = 50
  d = 24
  block Decoder {
    ln_1 = LayerNorm(d)
    attn = Attention(d, 6, kv_heads: 2, bias: true)
    ln_2 = RMSNorm(d)
    mlp  = GatedMLP(d, 40, act: gelu_tanh)
    ln_3 = RMSNorm(d)
    ffn  = MLP(d, 32, act: gelu)
  }
  embed   = Embedding(vocab, d)
  pos     = PositionEmbedding(32, d)
  body    = Decoder * 2
  norm    = LayerNorm(d)
  lm_head = Linear(d, vocab) tied embed
}
model Vit {
  patch    = Linear(48, 24, bias: true)
  cls      = Embedding(1, 24)
  position = PositionEmbedding(16, 24)
  block B {
    n = LayerNorm(24)
    a = Attention(24, 4, bias: true, causal: false)
    m = LayerNorm(24)
    f = MoE(24, 32, experts: 3, top_k: 1, gated: false, bias: true, act: gelu)
  }
  body = B * 2
  norm = LayerNorm(24)
  head = Linear(24, 10, bias: true)
}
model Moe {
  block B {
    n = RMSNorm(24)
    a = Attention(24, 4)
    m = RMSNorm(24)
    f = MoE(24, 16, experts: 4, top_k: 2, shared: 1)
  }
  embed = Embedding(50, 24)
  body  = B * 2
  head  = Linear(24, 50)
}
variant Shared of Tiny {
  share body: all
  share kv body: every(2)
}
`;

async function compare(name: string, options: ExportOptions, batch: number, seq: number): Promise<void> {
  const r = exportModel(SPEC, name, options);
  const dir = mkdtempSync(join(tmpdir(), 'npas-twin-'));
  try {
    const file = join(dir, 'g.json');
    writeFileSync(file, JSON.stringify(graphJson(r, true)));
    const py = spawnSync('python3', [script, file, '--backend', 'numpy', '--device', 'cpu', '--batch', String(batch), '--seq', String(seq), '--runs', '1', '--warmup', '1', '--ids-mod', '50', '--print-output'], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const out = JSON.parse(py.stdout) as { output: number[]; batch: number; seq: number };
    const n = out.batch * out.seq;
    const ids = new BigInt64Array(n);
    const decode = options.decode !== undefined;
    for (let i = 0; i < n; i++) ids[i] = BigInt(((decode ? i * 7919 + 1 : i * 2654435761) % 50));
    const session = await ort.InferenceSession.create(onnxBytes(r));
    const y = (await session.run({ input_ids: new ort.Tensor('int64', ids, [out.batch, out.seq]) })).last_token!.data as Float32Array;
    await session.release();
    assert.equal(out.output.length, y.length);
    let worst = 0;
    y.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - out.output[i]!) / (1 + Math.abs(v)))));
    assert.ok(worst < 1e-4, `max relative difference ${worst}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the interpreted graph reproduces ONNX Runtime: prefill', { skip: !hasNumpy && 'python3 with numpy is not installed' }, async () => {
  await compare('Tiny', {}, 2, 7);
  await compare('Shared', {}, 1, 5);
  await compare('Moe', {}, 2, 6);
  await compare('Vit', {}, 2, 9);
});

test('the interpreted graph reproduces ONNX Runtime: decode step over a KV cache', { skip: !hasNumpy && 'python3 with numpy is not installed' }, async () => {
  await compare('Tiny', { decode: { batch: 2, past: 6 } }, 2, 1);
  await compare('Shared', { decode: { batch: 1, past: 9 } }, 1, 1);
});
