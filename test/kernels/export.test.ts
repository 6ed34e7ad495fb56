// ONNX export on tiny models, run on onnxruntime-node's CPU provider: the file validates (ORT
// loads it) and runs; its initializer elements equal the engine's params.stored under every
// supported sharing scheme; a tied or shared model computes what its untied twin computes when
// the twin's weights are copies; models past the protobuf limit go to external data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExportError, exportModel, onnxBytes, writeOnnx, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, runChecked, syntheticIds } from './helpers.js';

const GPT = readFileSync(join(__dirname, '..', 'fixtures', 'specs', 'tiny-gpt.npas'), 'utf8');

const LLAMA = `
model TinyLlama(L = 4) {
  vocab = 101
  d = 48
  block Decoder {
    attn_norm = RMSNorm(d)
    attn      = Attention(d, 6, kv_heads: 2, head_dim: 8)
    mlp_norm  = RMSNorm(d)
    mlp       = GatedMLP(d, 96)
  }
  embed   = Embedding(vocab, d)
  body    = Decoder * L
  norm    = RMSNorm(d)
  lm_head = Linear(d, vocab)
}
variant Cycle2 of TinyLlama { share body: cycle(2) }
variant All of TinyLlama { share body: all }
variant Sequence2 of TinyLlama { share body: sequence(2) }
variant CycleRev2 of TinyLlama { share body: cycle_rev(2) }
variant SharedAttn of TinyLlama { share body.attn: all }
variant SharedMlpCycle of TinyLlama { share body.mlp: cycle(2) }
variant TieLayers of TinyLlama { tie body[3] = body[0] }
variant Cla2 of TinyLlama { share kv body: every(2) }
variant ClaMap of TinyLlama { share kv body: map([0, 0, 2, 0]) }
variant ClaMapKept of TinyLlama { share kv body: map([0, 0, 2, 0], keep_weights: true) }
variant RelaxedCycle of TinyLlama { share body: cycle(2) relax lora(rank: 4) }
variant LoraAttn of TinyLlama { adapt body.attn: lora(rank: 2) }
variant LoraOneWeight of TinyLlama { adapt body[1].mlp.down: lora(rank: 3) }
variant CycleCla of TinyLlama {
  share body: cycle(2)
  share kv body: every(2)
}
variant RelaxedCycleCla of TinyLlama {
  share body: cycle(2) relax lora(rank: 4)
  share kv body: every(2)
}
`;

const ENCODER = `
block EncoderLayer(d, heads, ffn) {
  attn      = Attention(d, heads, bias: true, causal: false)
  attn_norm = LayerNorm(d)
  mlp       = MLP(d, ffn, act: gelu)
  mlp_norm  = LayerNorm(d)
}
model TinyAlbert(L = 3, H = 32, A = 4, E = 16, vocab = 50) {
  word     = Embedding(vocab, E)
  position = PositionEmbedding(32, E)
  segment  = Embedding(2, E)
  emb_norm = LayerNorm(E)
  emb_proj = Linear(E, H, bias: true)
  body     = EncoderLayer(d: H, heads: A, ffn: 4 * H) * L
  pooler   = Linear(H, H, bias: true)
}
variant TinyAlbertShared of TinyAlbert { share body: all }
`;

/** Synthetic ids [b, s], last-token output checked [b, outputWidth] and finite. */
const run = (result: ExportResult, b = 2, s = 5, vocab = 97): Promise<Float32Array> => runChecked(result, { input_ids: syntheticIds(b, s, vocab) });

test('a GPT-2-style model with a tied head exports, validates and runs; initializers = params.stored', async () => {
  const r = exportModel(GPT, 'TinyGPT');
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.outputWidth, 97);
  assert.equal(r.maxSeq, 64);
  // The head reads the embedding table: no initializer is named after lm_head.
  assert.ok(!r.spec.graph.initializers.some((t) => t.name.startsWith('lm_head')));
  await run(r);
});

for (const name of ['TinyLlama', 'Cycle2', 'All', 'Sequence2', 'CycleRev2', 'SharedAttn', 'SharedMlpCycle', 'TieLayers', 'Cla2', 'ClaMap', 'ClaMapKept', 'CycleCla', 'RelaxedCycle', 'RelaxedCycleCla', 'LoraAttn', 'LoraOneWeight']) {
  test(`${name}: initializer elements equal params.stored and the graph runs`, async () => {
    const r = exportModel(LLAMA, name);
    assert.equal(r.initializerElements, r.storedParams, `${name}: ${r.initializerElements} initializer elements vs ${r.storedParams} stored`);
    await run(r, 2, 5, 101);
  });
}

// Stacks inside the instances of a stack: the exporter's stores (the core's store resolver) and the
// engine's count (the walk) follow one rule for which strategies an instance follows. Per Inner:
// RMSNorm 32 + MLP(32, 64) 32·64 + 64 + 64·32 + 32 = 4,224; embedding and head 97·32 each.
const NESTED = `model M {
  d = 32
  block Inner {
    norm = RMSNorm(d)
    mlp = MLP(d, 64)
  }
  block Outer { layers = Inner * 2 }
  embed = Embedding(97, d)
  body = Outer * 3
  head = Linear(d, 97)
}
variant OneInstance of M { share body[1].layers: all }
variant Every of M { share body.layers: all }
variant Frozen of Every { freeze body[2] }
variant Adapted of Every { adapt body[1].layers.mlp: lora(rank: 2) }
`;

test('nested stacks: a strategy through one instance, and instances a declaration isolates, export the stores the engine counts', async () => {
  const inner = 32n + (32n * 64n + 64n + 64n * 32n + 32n);
  const ends = 2n * 97n * 32n;
  // LoRA rank 2 on MLP's up (32→64) and down (64→32): 2·(32 + 64) each, on body[1]'s two Inner instances.
  const lora = 2n * 2n * (2n * (32n + 64n));
  const expected: Record<string, bigint> = { M: 6n * inner + ends, OneInstance: 5n * inner + ends, Every: 3n * inner + ends, Frozen: 3n * inner + ends, Adapted: 3n * inner + ends + lora };
  for (const [name, stored] of Object.entries(expected)) {
    const r = exportModel(NESTED, name);
    assert.equal(r.storedParams, stored, name);
    assert.equal(r.initializerElements, stored, name);
  }
  await run(exportModel(NESTED, 'OneInstance'), 1, 4, 97);
});

test('an ALBERT-style encoder (post-norm, bidirectional, factorised embedding) shared across depth', async () => {
  for (const name of ['TinyAlbert', 'TinyAlbertShared']) {
    const r = exportModel(ENCODER, name);
    assert.equal(r.initializerElements, r.storedParams, name);
    await run(r, 1, 6, 50);
  }
  const shared = exportModel(ENCODER, 'TinyAlbertShared');
  const full = exportModel(ENCODER, 'TinyAlbert');
  assert.ok(shared.initializers < full.initializers);
});

test('a tied model computes the same output as its untied twin with copied weights', async () => {
  const tied = exportModel(GPT, 'TinyGPT');
  const untiedText = GPT.replace('lm_head = Linear(d, vocab) tied wte', 'lm_head = Linear(d, vocab)');
  const copy: WeightFill = (key, shape, dtype, scale, offset) =>
    key === 'lm_head.weight' ? defaultFill('wte.weight', shape, dtype, 1, 0) : defaultFill(key, shape, dtype, scale, offset);
  const untied = exportModel(untiedText, 'TinyGPT', { fill: copy });
  assert.equal(untied.initializerElements - tied.initializerElements, 97n * 32n);
  assertClose(await run(tied), await run(untied), 1e-4);
  // Without the copy the twin differs: the test would notice a head that ignored the tie.
  const fresh = exportModel(untiedText, 'TinyGPT');
  const a = await run(tied);
  const b = await run(fresh);
  assert.ok(a.some((v, i) => Math.abs(v - b[i]!) > 1e-3));
});

test('a cycle-shared stack computes what the unshared stack computes with copied layers', async () => {
  const shared = exportModel(LLAMA, 'Cycle2');
  const copy: WeightFill = (key, shape, dtype, scale, offset) =>
    defaultFill(key.replace(/^body\[(\d+)\]/, (_, i: string) => `body[${Number(i) % 2}]`), shape, dtype, scale, offset);
  const twin = exportModel(LLAMA, 'TinyLlama', { fill: copy });
  assert.ok(twin.initializers > shared.initializers);
  assertClose(await run(shared, 2, 5, 101), await run(twin, 2, 5, 101), 1e-4);
});

const attnModel = (extra: string): string => `
model A {
  e = Embedding(40, 24)
  block B {
    n = RMSNorm(24)
    a = Attention(24, 6, ${extra})
  }
  body = B * 2
}`;

test('the causal mask and sliding window: with window 1 the last token ignores its prefix', async () => {
  const seqs = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
  const input = seqs([[1, 2, 3, 9], [5, 6, 7, 9]]);
  const lastRows = async (text: string): Promise<[number[], number[]]> => {
    const r = exportModel(text, 'A');
    const session = await ort.InferenceSession.create(onnxBytes(r));
    const y = (await session.run({ input_ids: input })).last_token!.data as Float32Array;
    await session.release();
    return [Array.from(y.slice(0, 24)), Array.from(y.slice(24))];
  };
  const [a1, b1] = await lastRows(attnModel('kv_heads: 2, window: 1'));
  assertClose(Float32Array.from(a1), Float32Array.from(b1), 1e-6);
  const [a2, b2] = await lastRows(attnModel('kv_heads: 2'));
  assert.ok(a2.some((v, i) => Math.abs(v - b2[i]!) > 1e-4), 'full attention sees the prefix');
});

test('grouped-query attention equals multi-head attention with repeated K/V heads', async () => {
  const gqa = exportModel(attnModel('kv_heads: 2'), 'A');
  // heads 6, kv_heads 2, head_dim 4: KV head j serves query heads 3j..3j+2.
  const repeat: WeightFill = (key, shape, dtype, scale, offset) => {
    if (!/\.(k|v)$/.test(key)) return defaultFill(key, shape, dtype, scale, offset);
    const small = new Float32Array(defaultFill(key, [8, 24], dtype, Math.sqrt(3 / 24), 0).buffer);
    const big = new Float32Array(24 * 24);
    for (let h = 0; h < 6; h++) big.set(small.subarray(Math.floor(h / 3) * 4 * 24, (Math.floor(h / 3) + 1) * 4 * 24), h * 4 * 24);
    return new Uint8Array(big.buffer);
  };
  const mha = exportModel(attnModel('kv_heads: 6'), 'A', { fill: repeat });
  assertClose(await run(gqa, 2, 5, 40), await run(mha, 2, 5, 40), 1e-5);
});

test('a decode step over a KV cache computes what the prefill computes for the last token', async () => {
  const text = `model D {
  e = Embedding(40, 16)
  block B {
    n = RMSNorm(16)
    a = Attention(16, 4, kv_heads: 2)
  }
  body = B * 1
}`;
  const tokens = [3, 17, 5, 29, 11];
  const S = tokens.length - 1;
  const f32 = (key: string, shape: number[], scale: number, offset = 0) => new Float32Array(defaultFill(key, shape, 'fp32', scale, offset).buffer);
  const E = f32('e.weight', [40, 16], 1);
  const w = f32('body[0].n.weight', [16], 0.1, 1);
  const Wk = f32('body[0].a.k', [8, 16], Math.sqrt(3 / 16));
  const Wv = f32('body[0].a.v', [8, 16], Math.sqrt(3 / 16));
  const kCache = new Float32Array(2 * 4 * S);
  const vCache = new Float32Array(2 * S * 4);
  tokens.slice(0, S).forEach((t, j) => {
    const x = E.subarray(t * 16, t * 16 + 16);
    const r = 1 / Math.sqrt(x.reduce((a, b) => a + b * b, 0) / 16 + 1e-6);
    const xn = Array.from(x, (v, i) => v * r * w[i]!);
    for (let o = 0; o < 8; o++) {
      let k = 0;
      let v = 0;
      for (let i = 0; i < 16; i++) {
        k += Wk[o * 16 + i]! * xn[i]!;
        v += Wv[o * 16 + i]! * xn[i]!;
      }
      const kv = Math.floor(o / 4);
      const d = o % 4;
      kCache[(kv * 4 + d) * S + j] = k; // [1, KV, hd, S]
      vCache[(kv * S + j) * 4 + d] = v; // [1, KV, S, hd]
    }
  });
  const fill: WeightFill = (key, shape, dtype, scale, offset) =>
    key === 'kv_cache.body[0].a.k' ? new Uint8Array(kCache.buffer) : key === 'kv_cache.body[0].a.v' ? new Uint8Array(vCache.buffer) : defaultFill(key, shape, dtype, scale, offset);
  const decode = exportModel(text, 'D', { decode: { batch: 1, past: S }, fill });
  assert.equal(decode.initializerElements, decode.storedParams);
  assert.equal(decode.kvCacheElements, BigInt(2 * 8 * S));
  const prefill = exportModel(text, 'D');
  const runIds = async (r: ExportResult, ids: number[]) => {
    const session = await ort.InferenceSession.create(onnxBytes(r));
    const y = (await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) })).last_token!.data as Float32Array;
    await session.release();
    return y;
  };
  assertClose(await runIds(decode, [tokens[S]!]), await runIds(prefill, tokens), 1e-5);
});

test('cross-layer KV sharing: the decode graph holds the engine\'s KV cache, borrowers read their producer\'s', async () => {
  for (const name of ['TinyLlama', 'Cla2', 'ClaMap', 'ClaMapKept', 'CycleCla', 'RelaxedCycle', 'LoraAttn', 'LoraOneWeight']) {
    const r = exportModel(LLAMA, name, { decode: { batch: 2, past: 7 }, analysis: { seq: 7, batch: 2, dtype: 'fp32' } });
    assert.equal(r.initializerElements, r.storedParams, name);
    assert.equal(r.kvCacheElements * 4n, r.report.kvCacheBytes, name);
    const session = await ort.InferenceSession.create(onnxBytes(r));
    const y = (await session.run({ input_ids: syntheticIds(2, 1, 101) })).last_token!.data as Float32Array;
    await session.release();
    assert.ok(y.every(Number.isFinite));
  }
});

const moeModel = (ffn: string): string => `
model M {
  e = Embedding(30, 16)
  block B {
    n = RMSNorm(16)
    f = ${ffn}
  }
  body = B * 2
  h = Linear(16, 30)
}`;

test('MoE: sparse dispatch over top-k experts; initializers = params.stored; one expert equals a GatedMLP', async () => {
  for (const ffn of ['MoE(16, 24, experts: 4, top_k: 2)', 'MoE(16, 24, experts: 6, top_k: 2, shared: 1, router_bias: true)', 'MoE(16, 8, experts: 5, top_k: 3, gated: false, bias: true, act: relu)']) {
    const r = exportModel(moeModel(ffn), 'M');
    assert.equal(r.initializerElements, r.storedParams, ffn);
    await run(r, 3, 7, 30);
  }
  const one = exportModel(moeModel('MoE(16, 24, experts: 1, top_k: 1)'), 'M');
  const copy: WeightFill = (key, shape, dtype, scale, offset) => defaultFill(key.replace(/\.f\.(gate|up|down)$/, '.f.expert_$1[0]'), shape, dtype, scale, offset);
  const dense = exportModel(moeModel('GatedMLP(16, 24)'), 'M', { fill: copy });
  assertClose(await run(one, 2, 5, 30), await run(dense, 2, 5, 30), 1e-5);
});

test('a ViT-style model (first layer a Linear on patches) gets its features from the ids, on the device', async () => {
  const vit = `model V {
  patch    = Linear(48, 16, bias: true)
  cls      = Embedding(1, 16)
  position = PositionEmbedding(20, 16)
  block B {
    n = LayerNorm(16)
    a = Attention(16, 2, bias: true, causal: false)
  }
  body = B * 2
  head = Linear(16, 7)
}`;
  for (const dtype of ['fp32', 'fp16'] as const) {
    const r = exportModel(vit, 'V', { dtype });
    assert.equal(r.initializerElements, r.storedParams);
    assert.equal(r.inputVocab, 1024);
    await run(r, 2, 20, 1024);
  }
});

test('a block member tied to a sibling, transposed (down tied up), reads the sibling\'s table with Gemm transB = 0', async () => {
  const text = `model T {
  e = Embedding(20, 8)
  block B {
    up   = Linear(8, 16)
    act  = Activation(relu)
    down = Linear(16, 8) tied up
  }
  body = B * 2
}`;
  const r = exportModel(text, 'T');
  assert.equal(r.initializerElements, r.storedParams);
  assert.ok(!r.spec.graph.initializers.some((t) => t.name.endsWith('.down.weight')));
  assert.ok(r.spec.graph.nodes.some((n) => n.op === 'Gemm' && n.attributes?.transB?.kind === 'int' && n.attributes.transB.value === 0));
  await run(r, 1, 3, 20);
});

test('fp16 export runs on CPU and stays close to fp32', async () => {
  const r32 = exportModel(GPT, 'TinyGPT');
  const r16 = exportModel(GPT, 'TinyGPT', { dtype: 'fp16' });
  assert.equal(r16.initializerElements, r16.storedParams);
  const a = await run(r32);
  const b = await run(r16);
  const norm = Math.sqrt(a.reduce((s, v) => s + v * v, 0));
  const diff = Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
  assert.ok(diff / norm < 2e-2, `relative L2 ${diff / norm}`);
});

test('past the size threshold the weights go to external data, and ORT loads them from the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-onnx-'));
  try {
    const r = exportModel(LLAMA, 'TinyLlama');
    const path = join(dir, 'tiny.onnx');
    const w = writeOnnx(r, path, { externalThresholdBytes: 1024, externalMinBytes: 256 });
    assert.equal(w.externalPath, `${path}.data`);
    assert.ok(existsSync(w.externalPath!) && statSync(w.externalPath!).size === w.externalBytes);
    assert.ok(statSync(path).size < w.externalBytes);
    const session = await ort.InferenceSession.create(path);
    const out = await session.run({ input_ids: syntheticIds(2, 5, 101) });
    await session.release();
    assertClose(out.last_token!.data as Float32Array, await run(r, 2, 5, 101), 1e-6);
    // Below the threshold: one self-contained file.
    const inline = writeOnnx(r, join(dir, 'inline.onnx'));
    assert.equal(inline.externalPath, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unsupported schemes and layers are refused by name, not exported wrong', () => {
  // Every adapter method exports now (test/kernels/generated-weights.test.ts), VB-LoRA included.
  const adapters = `${LLAMA}\nvariant V of TinyLlama { adapt body: vblora(rank: 4, vectors: 8, length: 8) }`;
  const vb = exportModel(adapters, 'V');
  assert.equal(vb.initializerElements, vb.storedParams);
  const route = `${LLAMA}\nvariant R of TinyLlama {\n share body: cycle(2)\n route body: mor(recursions: 2) }`;
  // Routing exports for a prefill and a decode step (test/kernels/mor-routing.test.ts).
  const routed = exportModel(route, 'R', { decode: { batch: 1, past: 4 } });
  assert.equal(routed.initializerElements, routed.storedParams);
  const conv = `model M { e = Embedding(10, 64)\n c = Conv1d(64, 64, 3, length: 8) }`;
  assert.throws(() => exportModel(conv, 'M'), (e: unknown) => e instanceof ExportError && /c: Conv1d on a token stream is not supported/.test(e.message));
  // Qwen3-Next's parts and Nemotron 3's latent experts export (attention-gate, gated-deltanet, shared-expert-gate, moe-latent tests).
  // RMoE's recurrent router exports (test/kernels/recurrent-router.test.ts); it needs its cell
  // before it, which the spec's check says (npas-router-cell) before the exporter is reached.
  const rmoe = `model R { e = Embedding(10, 16)\n m = MoE(16, 8, 4, 2, router_rnn: 4) }`;
  assert.throws(() => exportModel(rmoe, 'R'), (e: unknown) => e instanceof Error && /npas-router-cell: 'm' \(router_rnn: 4\) reads a recurrent router state/.test(e.message));
  // FISH masks and Polytropon inventories export (test/kernels/poly-sparse-adapters.test.ts).
  for (const adapter of ['sparse(elements: 4)', 'poly(rank: 2, skills: 2)']) {
    const r = exportModel(`${LLAMA}\nvariant F of TinyLlama { adapt body.attn.q: ${adapter} }`, 'F');
    assert.equal(r.initializerElements, r.storedParams, adapter);
  }
  const cell = `model C { e = Embedding(10, 16)\n c = RecurrentRouter(4) }`;
  assert.throws(() => exportModel(cell, 'C'), (e: unknown) => e instanceof Error && /npas-router-cell: the RecurrentRouter cell 'c' has no MoE/.test(e.message));
  // The recurrent mixers' decode steps export (mamba, mamba2, gated-deltanet, hybrid-decode tests).
  assert.throws(() => exportModel(LLAMA, 'Nope'), (e: unknown) => e instanceof ExportError && /no model or variant named 'Nope'/.test(e.message));
});
