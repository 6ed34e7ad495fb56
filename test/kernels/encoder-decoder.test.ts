// Encoder-decoder models (cross-attention, kernels/layers/cross-attention.ts and the data flow's
// two token streams) and T5's relative position bias (kernels/layers/relative-position.ts) on
// ONNX Runtime's CPU provider: initializers = params.stored; two inputs, source and target of
// different lengths; a shared model equals its unshared twin with copied weights; the decoder
// reads the encoder (the output is invariant under permuting a position-free source, and moves
// when a source token changes); a decode step holds the engine's KV cache (self and cross) and,
// with the source's true K/V in its cross cache, equals the prefill's last token; T5's buckets
// match Hugging Face's formula; what cannot be wired is refused by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { analyze, importHfConfig } from '../../src/core/index.js';
import { runProbe } from '../../kernels/probe-client.js';
import type { AttentionInfo } from '../../src/core/index.js';
import { loadModel, type LayerNode } from '../../kernels/engine-bridge.js';
import { ExportError, exportModel, type ExportResult } from '../../kernels/export.js';
import { GraphBuilder, defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import type { EmitContext } from '../../kernels/layers/context.js';
import { relativeScoreBias, setRelativeBias } from '../../kernels/layers/relative-position.js';
import { DataType, concat, encodeModel } from '../../kernels/onnx-writer.js';
import { idRows, maxRelDiff, runChecked } from './helpers.js';

const SPEC = `
model ED(N = 2, d = 16, heads = 4, ffn = 32, vocab = 40) {
  block EncoderLayer {
    attn      = Attention(d, heads, bias: true, causal: false)
    attn_norm = LayerNorm(d)
    mlp       = MLP(d, ffn, act: relu)
    mlp_norm  = LayerNorm(d)
  }
  block DecoderLayer {
    self_attn  = Attention(d, heads, bias: true)
    self_norm  = LayerNorm(d)
    cross_attn = Attention(d, heads, kv_heads: 2, bias: true, cross: true)
    cross_norm = LayerNorm(d)
    mlp        = MLP(d, ffn, act: relu)
    mlp_norm   = LayerNorm(d)
  }
  embed     = Embedding(vocab, d)
  encoder   = EncoderLayer * N
  tgt_embed = Embedding(vocab, d) tied embed
  decoder   = DecoderLayer * N
  lm_head   = Linear(d, vocab) tied embed
}
variant ED4 of ED { N = 4 }
variant Cycle2 of ED {
  N = 4
  share encoder: cycle(2)
  share decoder: cycle(2)
}
variant SharedKv of ED { share kv decoder: every(2) }
model UT(T = 3, d = 16, heads = 4, vocab = 40) {
  block EncoderLayer {
    attn_norm = LayerNorm(d)
    attn      = Attention(d, heads, causal: false)
    mlp_norm  = LayerNorm(d)
    mlp       = MLP(d, 32, act: relu)
  }
  block DecoderLayer {
    self_norm  = LayerNorm(d)
    self_attn  = Attention(d, heads)
    cross_norm = LayerNorm(d)
    cross_attn = Attention(d, heads, cross: true)
    mlp_norm   = LayerNorm(d)
    mlp        = MLP(d, 32, act: relu)
  }
  src_embed = Embedding(vocab, d)
  encoder   = EncoderLayer * T
  enc_norm  = LayerNorm(d)
  tgt_embed = Embedding(vocab, d)
  decoder   = DecoderLayer * T
  dec_norm  = LayerNorm(d)
  lm_head   = Linear(d, vocab) tied tgt_embed
}
variant Universal of UT {
  share encoder: all
  share decoder: all
}
`;

const SRC = [[3, 17, 5, 29, 11, 2, 8], [4, 4, 13, 0, 9, 16, 1]];
const TGT = [[7, 1, 22, 5, 30], [12, 3, 3, 18, 6]];

/** Each input's rows of ids; last-token output checked [batch, outputWidth] and finite. */
const run = (r: ExportResult, feeds: Record<string, number[][]>): Promise<Float32Array> => runChecked(r, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, idRows(v)])));

const prefill = (r: ExportResult, src = SRC, tgt = TGT) => run(r, { input_ids: src, decoder_input_ids: tgt });

for (const name of ['ED', 'Cycle2', 'SharedKv', 'UT', 'Universal']) {
  test(`${name}: two inputs (source 7, target 5 tokens), initializers = params.stored, runs with standard and fused ops`, async () => {
    for (const ops of ['standard', 'fused'] as const) {
      const r = exportModel(SPEC, name, { ops });
      assert.equal(r.initializerElements, r.storedParams, `${name}: ${r.initializerElements} vs ${r.storedParams}`);
      assert.equal(r.skippedParams, 0n);
      assert.deepEqual(r.inputs.map((i) => [i.name, i.length, i.vocab]), [['input_ids', 'src_seq', 40], ['decoder_input_ids', 'seq', 40]]);
      assert.deepEqual(r.spec.graph.inputs.map((i) => i.dims), [['batch', 'src_seq'], ['batch', 'seq']]);
      await prefill(r);
    }
    // Fused: the encoders' bidirectional MHA and the cross-attention with kv_heads = heads (UT) are MultiHeadAttention; GQA cross-attention (ED) stays standard.
    const mha = exportModel(SPEC, name, { ops: 'fused' }).spec.graph.nodes.filter((n) => n.op === 'MultiHeadAttention').length;
    assert.equal(mha, { ED: 2, Cycle2: 4, SharedKv: 2, UT: 6, Universal: 6 }[name]);
    const std = await prefill(exportModel(SPEC, name, { ops: 'standard' }));
    const fused = await prefill(exportModel(SPEC, name, { ops: 'fused' }));
    assert.ok(maxRelDiff(fused, std) < 1e-4);
  });
}

test('a cycle-shared encoder-decoder equals its unshared twin with copied layers', async () => {
  const shared = exportModel(SPEC, 'Cycle2');
  const copy: WeightFill = (key, shape, dtype, scale, offset) =>
    defaultFill(key.replace(/^(encoder|decoder)\[(\d+)\]/, (_, s: string, i: string) => `${s}[${Number(i) % 2}]`), shape, dtype, scale, offset);
  const twin = exportModel(SPEC, 'ED4', { fill: copy });
  assert.ok(twin.initializers > shared.initializers);
  assert.ok(maxRelDiff(await prefill(shared), await prefill(twin)) < 1e-5);
  // Without the copy the twin differs: a model that ignored the sharing would be caught.
  assert.ok(maxRelDiff(await prefill(shared), await prefill(exportModel(SPEC, 'ED4'))) > 1e-3);
});

test('the decoder reads the encoder: a position-free source is a set (permuting it changes nothing), a changed token moves the output', async () => {
  const r = exportModel(SPEC, 'ED', { ops: 'standard' });
  const base = await prefill(r);
  const permuted = SRC.map((s) => [...s].reverse());
  assert.ok(maxRelDiff(await prefill(r, permuted), base) < 1e-5, 'bidirectional encoder and unmasked cross-attention: order-free');
  const changed = SRC.map((s) => [39, ...s.slice(1)]);
  assert.ok(maxRelDiff(await prefill(r, changed), base) > 1e-3, 'the source reaches the output');
  // The target is causal and order matters.
  assert.ok(maxRelDiff(await prefill(r, SRC, TGT.map((t) => [...t.slice(0, 3), t[4]!, t[3]!])), base) > 1e-3);
});

test('decode step: reads the decoder ids only; KV cache = the engine\'s (self + cross); skipped stores = encoder + cross K/V projections', async () => {
  for (const name of ['ED', 'Cycle2', 'SharedKv', 'Universal']) {
    const past = 6;
    const batch = 2;
    const r = exportModel(SPEC, name, { decode: { batch, past }, analysis: { seq: past, batch, dtype: 'fp32' } });
    const engine = r.report.memory.kvCacheBytes / 4n;
    assert.equal(r.kvCacheElements, engine, `${name}: graph ${r.kvCacheElements} vs engine ${engine}`);
    assert.equal(r.initializerElements + r.skippedParams, r.storedParams, name);
    assert.ok(r.skippedParams > 0n);
    assert.deepEqual(r.inputs.map((i) => i.name), ['decoder_input_ids']);
    assert.ok(r.spec.graph.initializers.some((t) => /^kv_cache\.decoder\[1\]\.cross_attn\.k$/.test(t.name)), 'every cross-attention instance has its own cache');
    await run(r, { decoder_input_ids: [[5], [9]] });
  }
});

test('decode step with the source\'s true K/V in the cross cache equals the prefill\'s last token', async () => {
  // Encoder attention's output projection is zero, so the encoder output is the source
  // embedding and its K/V are computable here; the decoder is one cross-attention (GQA 4/2).
  const text = `model X {
  block Enc { a = Attention(16, 4, causal: false) }
  block Dec { x = Attention(16, 4, kv_heads: 2, cross: true, bias: true) }
  embed   = Embedding(40, 16)
  encoder = Enc * 1
  decoder = Dec * 1
}`;
  const zeroO: WeightFill = (key, shape, dtype, scale, offset) => (key === 'encoder[0].a.o' ? new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)) : defaultFill(key, shape, dtype, scale, offset));
  const src = [3, 17, 5, 29, 11];
  const L = src.length;
  const f32 = (key: string, shape: number[], scale: number) => new Float32Array(defaultFill(key, shape, 'fp32', scale, 0).buffer);
  const E = f32('embed.weight', [40, 16], 1);
  const Wk = f32('decoder[0].x.k', [8, 16], Math.sqrt(3 / 16));
  const Wv = f32('decoder[0].x.v', [8, 16], Math.sqrt(3 / 16));
  const bk = f32('decoder[0].x.k_bias', [8], 0.02);
  const bv = f32('decoder[0].x.v_bias', [8], 0.02);
  const kCache = new Float32Array(2 * 4 * L); // [1, KV, hd, L]
  const vCache = new Float32Array(2 * L * 4); // [1, KV, L, hd]
  src.forEach((t, j) => {
    for (let o = 0; o < 8; o++) {
      let k = bk[o]!;
      let v = bv[o]!;
      for (let i = 0; i < 16; i++) {
        k += Wk[o * 16 + i]! * E[t * 16 + i]!;
        v += Wv[o * 16 + i]! * E[t * 16 + i]!;
      }
      const kv = Math.floor(o / 4);
      const d = o % 4;
      kCache[(kv * 4 + d) * L + j] = k;
      vCache[(kv * L + j) * 4 + d] = v;
    }
  });
  const fill: WeightFill = (key, shape, dtype, scale, offset) =>
    key === 'kv_cache.decoder[0].x.k' ? new Uint8Array(kCache.buffer) : key === 'kv_cache.decoder[0].x.v' ? new Uint8Array(vCache.buffer) : zeroO(key, shape, dtype, scale, offset);
  const decode = exportModel(text, 'X', { decode: { batch: 1, past: 3 }, analysis: { srcSeq: L }, fill });
  assert.equal(decode.kvCacheElements, BigInt(2 * 8 * L));
  const full = exportModel(text, 'X', { fill: zeroO, ops: 'standard' });
  const tgt = [7, 1, 22, 5];
  const y = await run(full, { input_ids: [src], decoder_input_ids: [tgt] });
  const step = await run(decode, { decoder_input_ids: [[tgt[3]!]] });
  assert.ok(maxRelDiff(step, y) < 1e-5, `decode ${Array.from(step.slice(0, 3))} vs prefill ${Array.from(y.slice(0, 3))}`);
});

/** A tiny T5 from the t5-small config (same family code path as `npas import-hf`). */
function tinyT5(): string {
  const cfg = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'hf', 't5-small.json'), 'utf8')) as Record<string, unknown>;
  Object.assign(cfg, { d_model: 16, d_kv: 4, num_heads: 4, d_ff: 32, num_layers: 2, vocab_size: 40 });
  const r = importHfConfig(JSON.stringify(cfg));
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.spec;
}

test('T5 (imported config): relative position bias per stream, shared embedding; prefill and decode', async () => {
  const text = tinyT5();
  const name = loadModel(text, undefined).name;
  const std = exportModel(text, name, { ops: 'standard' });
  const fused = exportModel(text, name, { ops: 'fused' });
  for (const r of [std, fused]) {
    assert.equal(r.initializerElements, r.storedParams);
    assert.deepEqual(r.inputs.map((i) => i.name), ['input_ids', 'decoder_input_ids']);
    // Two tables (encoder[0], decoder[0]); every self-attention adds the bias, so none is a contrib
    // op; fused, only the two cross-attentions (no bias) are MultiHeadAttention.
    assert.equal(r.spec.graph.initializers.filter((t) => t.name.endsWith('rel_bias.weight')).length, 2);
    assert.ok(!r.spec.graph.nodes.some((n) => n.op === 'GroupQueryAttention'));
    const mha = r.spec.graph.nodes.filter((n) => n.op === 'MultiHeadAttention');
    assert.equal(mha.length, r === fused ? 2 : 0);
    assert.ok(mha.every((n) => n.outputs[0]!.startsWith('xmha')));
  }
  assert.ok(maxRelDiff(await prefill(fused), await prefill(std)) < 1e-5);
  // fp16 (the GPU probe's dtype) runs on the CPU provider too, close to fp32.
  assert.ok(maxRelDiff(await prefill(exportModel(text, name, { dtype: 'fp16' })), await prefill(fused)) < 0.02);
  const past = 9;
  const d = exportModel(text, name, { decode: { batch: 1, past }, analysis: { seq: past, batch: 1, dtype: 'fp32' } });
  assert.equal(d.kvCacheElements, d.report.memory.kvCacheBytes / 4n);
  assert.equal(d.initializerElements + d.skippedParams, d.storedParams);
  await run(d, { decoder_input_ids: [[4]] });
});

/** Hugging Face's T5Attention._relative_position_bucket. */
function hfBucket(rel: number, bidirectional: boolean, buckets: number, maxDistance = 128): number {
  let ret = 0;
  let n: number;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (rel > 0) ret += buckets;
    n = Math.abs(rel);
  } else n = Math.max(-rel, 0);
  const exact = Math.floor(buckets / 2);
  if (n < exact) return ret + n;
  const large = exact + Math.trunc((Math.log(n / exact) / Math.log(maxDistance / exact)) * (buckets - exact));
  return ret + Math.min(large, buckets - 1);
}

test('T5 buckets: the in-graph bias equals the table rows at Hugging Face\'s buckets (bidirectional, causal, decode)', async () => {
  const text = `model R {
  e   = Embedding(10, 8)
  rel = RelativePositionBias(32, 2)
  a   = Attention(8, 2, causal: false)
}`;
  const model = loadModel(text, 'R');
  const relNode = model.members.find((m) => m.name === 'rel')!.node as LayerNode;
  const steps = [{ kind: 'name' as const, name: 'rel' }];
  const S = 150; // past max_distance (128): the clipped buckets are exercised
  const cases: { causal: boolean; decode: { batch: number; past: number } | undefined }[] = [
    { causal: false, decode: undefined },
    { causal: true, decode: undefined },
    { causal: true, decode: { batch: 1, past: 140 } },
  ];
  for (const { causal, decode } of cases) {
    const g = new GraphBuilder('fp32');
    const idsShape = g.op('Shape', ['input_ids']);
    const seqLen = g.op('Gather', [idsShape, g.ints([1], true)], { axis: { kind: 'int', value: 0 } });
    const ctx: EmitContext = { g, model, ids: 'input_ids', idsShape, seqLen, masks: new Map(), kv: new Map(), decode };
    setRelativeBias(ctx, relNode, steps);
    const info = { causal, cross: false, queryHeads: 2, kvHeads: 1, window: decode ? 100 : undefined } as AttentionInfo;
    const bias = relativeScoreBias(ctx, steps, info)!;
    g.nodes.push({ op: 'Identity', inputs: [bias], outputs: ['bias'], name: 'out' });
    g.inputs.push({ name: 'input_ids', dataType: DataType.INT64, dims: [1, 'seq'] });
    g.outputs.push({ name: 'bias', dataType: DataType.FLOAT, dims: ['one', 'heads', 'queries', 'keys'] });
    const bytes = concat(encodeModel({ graph: { name: 'b', nodes: g.nodes, initializers: g.initializers, inputs: g.inputs, outputs: g.outputs }, opsets: new Map([['', 17]]), producer: 'test' }).model);
    const session = await ort.InferenceSession.create(bytes);
    const out = (await session.run({ input_ids: new ort.Tensor('int64', new BigInt64Array(decode ? 1 : S), [1, decode ? 1 : S]) })).bias!;
    await session.release();
    const table = new Float32Array(g.initializers[0]!.raw.buffer.slice(0));
    const data = out.data as Float32Array;
    if (decode) {
      const L = 100; // window-capped cache: keys past − L … past
      assert.deepEqual(out.dims, [1, 1, 2, L + 1]);
      for (let h = 0; h < 2; h++) for (let j = 0; j <= L; j++) {
        const key: number = decode.past - L + j;
        assert.equal(data[h * (L + 1) + j], table[hfBucket(key - decode.past, false, 32) * 2 + h], `decode head ${h} key ${key}`);
      }
    } else {
      assert.deepEqual(out.dims, [1, 2, S, S]);
      for (let h = 0; h < 2; h++) for (let q = 0; q < S; q++) for (let k = 0; k < S; k++) {
        const want = table[hfBucket(k - q, !causal, 32) * 2 + h];
        if (data[(h * S + q) * S + k] !== want) assert.fail(`${causal ? 'causal' : 'bidirectional'} head ${h} q ${q} k ${k}: ${data[(h * S + q) * S + k]} vs ${want}`);
      }
    }
  }
});

test('encoder-decoder refusals name the layer and the reason', () => {
  const noEncoder = `model N {
  block B { x = Attention(16, 4, cross: true) }
  embed = Embedding(40, 16)
  dec = B * 1
}`;
  assert.throws(() => exportModel(noEncoder, 'N'), (e: unknown) => e instanceof ExportError && /cross-attention but no encoder/.test(e.message));
  const width = `model W {
  block Enc { a = Attention(16, 4, causal: false) }
  block Dec { x = Attention(8, 2, cross: true, kv_dim: 12) }
  embed   = Embedding(40, 16)
  encoder = Enc * 1
  tgt     = Embedding(40, 8)
  decoder = Dec * 1
}`;
  assert.throws(() => exportModel(width, 'W'), (e: unknown) => e instanceof ExportError && /^decoder\[0\]\.x: cross-attention reads keys and values of width 12 but the encoder produces 16/.test(e.message));
  const twoTables = `model T {
  block B {
    a = Attention(16, 4)
    rel = RelativePositionBias(32, 4)
  }
  embed = Embedding(40, 16)
  body  = B * 2
}`;
  assert.throws(() => exportModel(twoTables, 'T'), (e: unknown) => e instanceof ExportError && /^body\[1\]\.rel: a second relative position bias table in one token stream/.test(e.message));
  assert.doesNotThrow(() => exportModel(twoTables.replace('body  = B * 2', 'body  = B * 1'), 'T'));
});

test('the probe host feeds both inputs: an encoder-decoder is measured at source 5 and target 8, prefill and decode, beside the roofline', async () => {
  const out = await runProbe({ specText: SPEC, model: 'Cycle2', ep: 'cpu', batch: 2, seq: 8, srcSeq: 5, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(__dirname, '..', '..', 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.srcSeq, 5);
  assert.ok(r.prefill.medianMs > 0 && r.prefill.roofline.seconds > 0);
  assert.ok(!('unavailable' in r.decode), 'the decode step is measured');
  const engine = analyze(SPEC, { seq: 8, srcSeq: 5, batch: 2, dtype: 'fp32' }).models.find((m) => m.name === 'Cycle2')!;
  // The roofline beside the measurement is the engine's at (seq 8, src_seq 5), the decode cache its KV there (4 layers × (8 self + 5 cross) × 2·16 × batch 2).
  assert.equal(r.prefill.flops, String(engine.latency.prefill.flops));
  assert.equal(String(engine.memory.kvCacheBytes / 4n), String(4 * (8 * 32 + 5 * 16) * 2));
  if (!('unavailable' in r.decode)) assert.equal(r.decode.kvCacheElements, String(engine.memory.kvCacheBytes / 4n));
  assert.ok(r.notes.some((n) => n.startsWith('Encoder-decoder: the prefill runs the encoder over input_ids')));
});
