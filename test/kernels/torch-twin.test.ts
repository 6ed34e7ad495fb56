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
model MoeBias {
  block B {
    n = RMSNorm(24)
    f = MoE(24, 16, experts: 4, top_k: 1, bias: true)
    m = RMSNorm(24)
    g = MoE(24, 12, experts: 5, top_k: 3, gated: false, bias: true, act: relu, shared: 1)
  }
  embed = Embedding(50, 24)
  body  = B * 2
  head  = Linear(24, 50)
}
model Gqa {
  block Pre {
    n1 = RMSNorm(32)
    a  = Attention(32, 4, kv_heads: 2, head_dim: 8, qk_norm: rms, window: 4)
    n2 = RMSNorm(32)
    f  = GatedMLP(32, 48)
  }
  block Post {
    a  = Attention(32, 4, kv_heads: 1, head_dim: 8, bias: true)
    n1 = RMSNorm(32)
    f  = MLP(32, 40, act: silu)
    n2 = RMSNorm(32)
  }
  embed = Embedding(50, 32)
  pre   = Pre * 2
  post  = Post * 1
  norm  = RMSNorm(32)
  head  = Linear(32, 50)
}
model Bert {
  embed = Embedding(50, 32)
  pos   = PositionEmbedding(16, 32)
  block L {
    a  = Attention(32, 4, bias: true, causal: false)
    n1 = LayerNorm(32)
    f  = MLP(32, 64, act: gelu)
    n2 = LayerNorm(32)
  }
  body  = L * 2
}
variant Shared of Tiny {
  share body: all
  share kv body: every(2)
}
model T5ish {
  block Enc {
    n1  = RMSNorm(24)
    a   = Attention(24, 4, head_dim: 8, causal: false)
    rel = RelativePositionBias(8, 4)
    n2  = RMSNorm(24)
    f   = MLP(24, 40, act: relu, bias: false)
  }
  block Dec {
    n1  = RMSNorm(24)
    a   = Attention(24, 4, head_dim: 8)
    rel = RelativePositionBias(8, 4)
    n2  = RMSNorm(24)
    x   = Attention(24, 4, kv_heads: 2, head_dim: 8, cross: true)
    m   = RMSNorm(24)
    y   = Attention(24, 4, head_dim: 8, cross: true)
    n3  = LayerNorm(24)
    f   = GatedMLP(24, 40)
  }
  embed   = Embedding(50, 24)
  encoder = Enc * 1
  enc_n   = RMSNorm(24)
  decoder = Dec * 1
  head    = Linear(24, 50) tied embed
}
model Rec {
  block B {
    n = RMSNorm(24)
    a = Attention(24, 4, kv_heads: 2)
    m = RMSNorm(24)
    f = GatedMLP(24, 40)
  }
  embed = Embedding(50, 24)
  first = B
  mid   = B * 4
  head  = Linear(24, 50)
}
variant Mor of Rec {
  share mid: cycle(2)
  route mid: mor(recursions: 2, capacity: [2/3, 1/3])
  share kv mid: tied
}
`;

/** Op types of every graph compared, to check that the fused contrib ops are all covered. */
const seen = new Set<string>();

/** `srcSeq`: an encoder-decoder's source length (input_ids), when it differs from the target's. */
async function compare(name: string, options: ExportOptions, batch: number, seq: number, text = SPEC, srcSeq?: number): Promise<void> {
  const r = exportModel(text, name, options);
  for (const n of r.spec.graph.nodes) seen.add(n.op);
  const dir = mkdtempSync(join(tmpdir(), 'npas-twin-'));
  try {
    const file = join(dir, 'g.json');
    writeFileSync(file, JSON.stringify(graphJson(r, true)));
    const py = spawnSync('python3', [script, file, '--backend', 'numpy', '--device', 'cpu', '--batch', String(batch), '--seq', String(seq), ...(srcSeq ? ['--src-seq', String(srcSeq)] : []), '--runs', '1', '--warmup', '1', '--ids-mod', '50', '--print-output'], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const out = JSON.parse(py.stdout) as { output: number[]; batch: number; seq: number };
    // Every graph input (an encoder-decoder's source and target), as the script draws them.
    const decode = options.decode !== undefined;
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of r.inputs) {
      const length = input.length === 'src_seq' && srcSeq && !decode ? srcSeq : out.seq;
      const ids = new BigInt64Array(out.batch * length);
      for (let i = 0; i < ids.length; i++) ids[i] = BigInt(((decode ? i * 7919 + 1 : i * 2654435761) % 50));
      feeds[input.name] = new ort.Tensor('int64', ids, [out.batch, length]);
    }
    const session = await ort.InferenceSession.create(onnxBytes(r));
    const y = (await session.run(feeds)).last_token!.data as Float32Array;
    await session.release();
    assert.equal(out.output.length, y.length);
    let worst = 0;
    y.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - out.output[i]!) / (1 + Math.abs(v)))));
    assert.ok(worst < 1e-4, `${name} ${options.ops ?? ""} ${options.decode ? "decode" : "prefill"}: max relative difference ${worst}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MODES = ['standard', 'fused'] as const;

test('the interpreted graph reproduces ONNX Runtime: prefill', { skip: !hasNumpy && 'python3 with numpy is not installed' }, async () => {
  for (const ops of MODES) {
    await compare('Tiny', { ops }, 2, 7);
    await compare('Shared', { ops }, 1, 5);
    await compare('Moe', { ops }, 2, 6);
    await compare('MoeBias', { ops }, 2, 6);
    await compare('Vit', { ops }, 2, 9);
    await compare('Gqa', { ops }, 2, 7);
    await compare('Bert', { ops }, 2, 6);
    await compare('T5ish', { ops }, 2, 6, SPEC, 9);
    await compare('Mor', { ops }, 2, 7);
  }
});

test('the interpreted graph reproduces ONNX Runtime: decode step over a KV cache', { skip: !hasNumpy && 'python3 with numpy is not installed' }, async () => {
  for (const ops of MODES) {
    await compare('Tiny', { ops, decode: { batch: 2, past: 6 } }, 2, 1);
    await compare('Shared', { ops, decode: { batch: 1, past: 9 } }, 1, 1);
    await compare('Gqa', { ops, decode: { batch: 2, past: 6 } }, 2, 1);
    await compare('T5ish', { ops, decode: { batch: 2, past: 7 } }, 2, 1);
  }
});

test('the interpreter is checked on the ops of encoder-decoders, T5 buckets and MoR routing', { skip: !hasNumpy && 'python3 with numpy is not installed' }, () => {
  for (const op of ['GatherElements', 'TopK', 'GatherND', 'ScatterND', 'Abs', 'Log', 'Max', 'Min', 'Where', 'Sigmoid', 'Div']) {
    assert.ok(seen.has(op), `no compared graph has ${op}`);
  }
});

test('the interpreter is checked on every contrib op the fused graphs emit', { skip: !hasNumpy && 'python3 with numpy is not installed' }, () => {
  for (const op of ['GroupQueryAttention', 'MultiHeadAttention', 'SimplifiedLayerNormalization', 'SkipSimplifiedLayerNormalization', 'SkipLayerNormalization', 'QuickGelu', 'Gelu', 'FastGelu', 'MoE']) {
    assert.ok(seen.has(op), `no compared graph has ${op}`);
  }
});

// Generated weights (kernels/generated): hashed index arithmetic (Range, Mod, int64 Mul/Add),
// gathers from a memory, bank or shard pool, template and atom mixes, VB-LoRA's stored indices
// (Cast to int64) and, in live mode, the runtime scalars (ReduceMin, Less, GreaterOrEqual, Cast).
const GENERATED = `
block Layer {
  n1   = LayerNorm(24)
  attn = Attention(24, 6, kv_heads: 2, bias: true)
  n2   = RMSNorm(24)
  mlp  = GatedMLP(24, 40)
}
model Gen {
  embed = Embedding(50, 24)
  body  = Layer * 2
  head  = Linear(24, 50)
}
variant Roast of Gen { hash body: roast(memory: 2000, scales: true) }
variant Rps of Gen { hash body: rps(memory: 3000) }
variant Ssn of Gen { bank g = embed, body: ssn(params: 5000, templates: 3, fixed: true) }
variant Masa of Gen { dict body.attn: masa(atoms: 2) }
variant Adapters of Gen {
  adapt body.attn.q: vblora(rank: 2, vectors: 6, length: 8, top_k: 2)
  adapt body.attn.v: mos(rank: 2, shards: 4, pool: 5, private: 1)
  adapt body.mlp.up: tied_lora(rank: 2)
  adapt body.mlp.down: aslora(rank: 2, groups: 2)
}
`;

test('the interpreted graph reproduces ONNX Runtime: generated weights, materialised and live', { skip: !hasNumpy && 'python3 with numpy is not installed' }, async () => {
  for (const name of ['Roast', 'Rps', 'Ssn', 'Masa', 'Adapters']) {
    for (const generation of ['materialised', 'live'] as const) await compare(name, { generation, ops: 'standard' }, 2, 5, GENERATED);
  }
});

// Layer kinds beyond attention stacks: convolutions, BatchNorm and pooling on a device-made image
// (with a WRN residual and projection-shortcut block), MLA (prefill and the absorbed decode over
// the latent cache) and MoEUT's SwitchHead + σ-MoE.
const LAYERS = `
block Down {
  bn1      = BatchNorm(4)
  conv1    = Conv2d(4, 6, 3, stride: 2, padding: 1, bias: false, size: 8)
  bn2      = BatchNorm(6)
  conv2    = Conv2d(6, 6, 3, padding: 1, bias: false, size: 4)
  shortcut = Conv2d(4, 6, 1, stride: 2, bias: false, size: 8)
}
model Cnn {
  stem = Conv2d(3, 4, 3, padding: 1, size: 8)
  down = Down
  p    = Pool(max, kernel: 2)
  c    = Conv2d(6, 6, 1, size: 2, groups: 2)
  a    = Pool(avg, kernel: 2)
  flat = Flatten()
  fc   = Linear(6, 5)
}
model Cnn1d {
  c1 = Conv1d(2, 4, 3, length: 12, dilation: 2)
  bn = BatchNorm(4, affine: false)
  g  = GlobalPool(max)
  fc = Linear(4, 3, bias: true)
}
model Cnn2 {
  c1 = Conv2d(3, 4, 3, size: 6)
  g  = GlobalPool(avg)
}
model Mla {
  embed = Embedding(50, 24)
  block B {
    n = RMSNorm(24)
    a = MLA(24, 3, kv_rank: 8, rope_dim: 4, nope_dim: 4, v_dim: 5, q_rank: 6, bias: true)
    m = RMSNorm(24)
    f = GatedMLP(24, 32)
  }
  body = B * 2
}
model Moeut {
  embed = Embedding(50, 8)
  block L {
    ln1 = LayerNorm(8)
    attn = Attention(8, 2, head_dim: 4)
    vo = MoE(8, 4, experts: 4, top_k: 2, gated: false, act: relu)
    sel = Linear(8, 8)
    ln2 = LayerNorm(8)
    ffn = MoE(8, 6, experts: 5, top_k: 2, gated: false, act: relu)
  }
  body = L * 2
}
`;

test('the interpreted graph reproduces ONNX Runtime: convolutions, pooling, MLA and MoEUT', { skip: !hasNumpy && 'python3 with numpy is not installed' }, async () => {
  for (const name of ['Cnn', 'Cnn1d', 'Cnn2', 'Mla', 'Moeut']) await compare(name, {}, 2, 5, LAYERS);
  await compare('Mla', { decode: { batch: 2, past: 6 } }, 2, 1, LAYERS);
  await compare('Moeut', { decode: { batch: 2, past: 6 } }, 2, 1, LAYERS);
  // Fused SwitchHead gathers each token's chosen experts (TopK, Range, Gather, batched MatMul);
  // the standard graphs keep the per-expert dispatch.
  await compare('Moeut', { ops: 'standard' }, 2, 5, LAYERS);
  await compare('Moeut', { ops: 'standard', decode: { batch: 2, past: 6 } }, 2, 1, LAYERS);
  for (const op of ['Conv', 'BatchNormalization', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Flatten', 'Identity', 'TopK', 'Range', 'NonZero', 'ScatterND']) assert.ok(seen.has(op), `no compared graph has ${op}`);
});

// Rotary position embeddings (kernels/layers/rotary.ts): standard rotate-half (Cos, Sin, Slice,
// Concat), GroupQueryAttention's do_rotary with cos/sin caches (full and partial rotary; a
// windowed decode cache shorter than the position), RotaryEmbedding where GQA cannot rotate
// (rope_dim 8) and before MultiHeadAttention, and borrowed K/V.
const ROPE = `
block Pre(hd, rd, window) {
  n1 = RMSNorm(32)
  a  = Attention(32, 4, kv_heads: 2, head_dim: hd, window: window, rope: true, rope_dim: rd, rope_theta: 500_000)
  n2 = RMSNorm(32)
  f  = GatedMLP(32, 48)
}
model Rope {
  embed = Embedding(50, 32)
  full  = Pre(hd: 16, rd: 16, window: 3) * 1
  part  = Pre(hd: 32, rd: 16, window: none) * 1
  small = Pre(hd: 16, rd: 8, window: none) * 2
  share kv small: every(2)
  norm  = RMSNorm(32)
  head  = Linear(32, 50)
}
model RopeMor {
  block B {
    n = RMSNorm(32)
    a = Attention(32, 4, kv_heads: 2, head_dim: 16, rope: true)
    m = RMSNorm(32)
    f = GatedMLP(32, 48)
  }
  embed = Embedding(50, 32)
  first = B
  mid   = B * 4
  head  = Linear(32, 50)
  share mid: cycle(2)
  route mid: mor(recursions: 2, capacity: [1, 1/2])
  share kv mid: tied
}
model RopeEnc {
  embed = Embedding(50, 32)
  block L {
    a  = Attention(32, 2, head_dim: 16, rope: true, rope_dim: 8, causal: false)
    n1 = LayerNorm(32)
    f  = MLP(32, 48, act: gelu)
    n2 = LayerNorm(32)
  }
  body = L * 2
}
`;

test('the interpreted graph reproduces ONNX Runtime: rotary (do_rotary, RotaryEmbedding, standard rotate-half)', { skip: !hasNumpy && 'python3 with numpy is not installed' }, async () => {
  for (const ops of MODES) {
    await compare('Rope', { ops }, 2, 7, ROPE);
    await compare('Rope', { ops, decode: { batch: 2, past: 6 } }, 2, 1, ROPE);
    await compare('RopeEnc', { ops }, 2, 6, ROPE);
    await compare('RopeMor', { ops }, 2, 8, ROPE); // rotary at a routed recursion's selected positions
  }
  for (const op of ['RotaryEmbedding', 'GroupQueryAttention', 'Cos', 'Sin']) assert.ok(seen.has(op), `no compared graph has ${op}`);
  const gqa = exportModel(ROPE, 'Rope', { ops: 'fused' }).spec.graph.nodes.filter((n) => n.op === 'GroupQueryAttention');
  assert.equal(gqa.filter((n) => n.attributes?.do_rotary !== undefined).length, 2, 'full and part rotate inside GroupQueryAttention');
});
