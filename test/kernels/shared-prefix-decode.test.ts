// A shared prompt's decode step (kernels/layers/shared-prefix.ts, attention.ts's decodeCache): the
// k continuations of each sequence decode one token each, input ids [B, k], every attention
// reading the prompt's cache (held once per sequence) and the continuation's own. The proof, on
// onnxruntime-node's CPU provider:
//   - each continuation's output equals a dense twin: the plain model's decode step for that token
//     alone over one cache holding the prompt's positions followed by the continuation's own (the
//     same stores, so the same weights; the twin's cache filled with the same synthetic values);
//   - the cache holds the engine's KV (docs/language.md, "Shared prompts": n − min(C, n) + k·min(C, n)
//     positions per layer and sequence, n = min(S, reach)), derived by hand here per geometry;
//   - its multiply-adds, measured on the graph's MatMuls, are the engine's decode FLOPs / 2 plus
//     each new token's score and value against its own new key (the engine's decode at context S
//     charges S keys; the step reads S cached positions and writes the S + 1-th, as every decode
//     step here does), the weights' part and the attention's derived by hand for the Llama;
//   - initializer elements = params.stored.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExportError, exportModel, onnxBytes, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, matmulMacs, maxRelDiff } from './helpers.js';
import { CapturedIo } from '../cli/captured-io.js';
import { D, H, HD, KV, LAYERS, VOCAB, tinyLlama } from './tiny-llama.js';

const TEXT = `${tinyLlama('Llama')}${tinyLlama('Window6', ', window: 6')}${tinyLlama('Window3', ', window: 3')}${tinyLlama('Chunk4', ', chunk: 4')}
model Gpt {
  d = ${D}
  block Layer {
    ln1  = LayerNorm(d)
    attn = Attention(d, ${H}, kv_heads: ${KV}, head_dim: ${HD})
    ln2  = LayerNorm(d)
    mlp  = MLP(d, 64)
  }
  embed = Embedding(${VOCAB}, d)
  pos   = PositionEmbedding(64, d)
  body  = Layer * ${LAYERS}
  head  = Linear(d, ${VOCAB})
}
model FullReadByWindow {
  wins    = [none, 6]
  block Layer(win = none) {
    attn_norm = RMSNorm(${D})
    attn      = Attention(${D}, ${H}, kv_heads: ${KV}, head_dim: ${HD}, rope: true, window: win)
    mlp_norm  = RMSNorm(${D})
    mlp       = GatedMLP(${D}, 64)
  }
  embed   = Embedding(${VOCAB}, ${D})
  body    = [Layer(win: wins[i]) for i in ${LAYERS}]
  norm    = RMSNorm(${D})
  lm_head = Linear(${D}, ${VOCAB})
  share kv body: every(2)
}
model Ssm {
  embed = Embedding(${VOCAB}, 16)
  mix   = Mamba(16)
}
`;

const P = 5;
const C = 4;
const S = P + C; // the engine's seq: the context each continuation decodes at
const K = 3;
const B = 2;
/** The k continuations' new tokens of each sequence, [B, K]. */
const IDS = [
  [19, 4, 33],
  [12, 9, 58],
];
const SHARE = { tokens: P, continuations: K };

/**
 * Per geometry, the positions a continuation's cache keeps at context S, by hand: n = min(S, reach)
 * (a window's or a chunk's length, or all S; under `share kv` the furthest reach of the layers
 * reading it), of which min(C, n) are its own and the rest the prompt's last ones; the caches (one
 * per layer that writes its K/V); and per layer the cached keys the engine charges a decode token,
 * min(S, W) (a chunk's length for a chunked layer).
 */
const GEOMETRY: Record<string, { prompt: number; own: number; caches: number; keys: readonly number[] }> = {
  Llama: { prompt: 5, own: 4, caches: 2, keys: [9, 9] }, // n = 9
  Gpt: { prompt: 5, own: 4, caches: 2, keys: [9, 9] },
  Window6: { prompt: 2, own: 4, caches: 2, keys: [6, 6] }, // n = 6: the prompt's last 2 and the continuation's 4
  Window3: { prompt: 0, own: 3, caches: 2, keys: [3, 3] }, // n = 3: the continuation's last 3 only
  Chunk4: { prompt: 0, own: 4, caches: 2, keys: [4, 4] }, // n = 4 (the token at 9 sees 9 mod 4 = 1 of them)
  // Layer 1 (window 6) reads layer 0's cache of all 9 positions and masks the oldest 3 — the
  // prompt's first 3 — so the order of the prompt's and the continuation's positions matters.
  FullReadByWindow: { prompt: 5, own: 4, caches: 1, keys: [9, 6] },
};

const decodeStep = (model: string, fill: WeightFill = defaultFill): ExportResult =>
  exportModel(TEXT, model, { ops: 'standard', fill, decode: { batch: B, past: S }, analysis: { seq: S, batch: B, sharedPrefix: SHARE } });

/**
 * The dense twin's cache: each of the B·K rows (row b·K + c) holds the prompt's cached positions of
 * sequence b followed by continuation c's own, drawn as the shared step draws them (by store key).
 */
const denseFill =
  (prompt: number, own: number): WeightFill =>
  (key, shape, dtype, scale, offset) => {
    const m = /^kv_cache\.(.+)\.([kv])$/.exec(key);
    if (!m) return defaultFill(key, shape, dtype, scale, offset);
    const keys = m[2] === 'k';
    const values = (name: string, entries: number, L: number) => new Float32Array(defaultFill(`kv_cache.${m[1]}.${name}`, keys ? [entries, KV, HD, L] : [entries, KV, L, HD], dtype, 1, 0).buffer);
    const promptPart = prompt > 0 ? values(`prompt_${m[2]}`, B, prompt) : new Float32Array(0);
    const ownPart = values(m[2]!, B * K, own);
    const L = prompt + own;
    assert.deepEqual(shape, keys ? [B * K, KV, HD, L] : [B * K, KV, L, HD], key);
    const dst = new Float32Array(B * K * KV * HD * L);
    for (let row = 0; row < B * K; row++)
      for (let h = 0; h < KV; h++)
        for (let j = 0; j < L; j++)
          for (let d = 0; d < HD; d++) {
            // keys [rows, KV, hd, L], values [rows, KV, L, hd]
            const at = (entry: number, length: number, pos: number) => (keys ? ((entry * KV + h) * HD + d) * length + pos : ((entry * KV + h) * length + pos) * HD + d);
            dst[at(row, L, j)] = j < prompt ? promptPart[at(Math.floor(row / K), prompt, j)]! : ownPart[at(row, own, j - prompt)]!;
          }
    return new Uint8Array(dst.buffer);
  };

async function run(r: ExportResult, rows: number[][]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(onnxBytes(r));
  try {
    const y = (await session.run({ input_ids: idRows(rows) })).last_token!;
    return { data: y.data as Float32Array, dims: y.dims };
  } finally {
    await session.release();
  }
}

for (const model of Object.keys(GEOMETRY)) {
  test(`${model}: each continuation's decode step equals the dense step over the prompt's cache and its own`, async () => {
    const { prompt, own, caches } = GEOMETRY[model]!;
    const r = decodeStep(model);
    assert.equal(r.initializerElements, r.storedParams, 'initializer elements = params.stored');
    assert.equal(r.skippedParams, 0n);
    assert.deepEqual(r.inputs.map((i) => i.decodeTokens), [K]);
    // The cache: per layer, K and V of kv_heads · head_dim per position, the prompt's positions
    // once per sequence and each continuation's own: B · (prompt + K · own) positions.
    assert.equal(r.kvCacheElements, BigInt(caches * 2 * KV * HD * B * (prompt + K * own)), 'cache elements by hand');
    assert.equal(r.kvCacheElements * 4n, r.report.kvCacheBytes, "the cache is the engine's KV (fp32)");
    const y = await run(r, IDS);
    assert.deepEqual(y.dims, [B, K, r.outputWidth]);
    assert.ok(y.data.every(Number.isFinite));
    // The dense twin: the plain model (no shared prompt) decoding the B·K tokens at context S over
    // caches of prompt + own positions each.
    const dense = exportModel(TEXT, model, { ops: 'standard', fill: denseFill(prompt, own), decode: { batch: B * K, past: S } });
    assert.equal(dense.kvCacheElements, BigInt(caches * 2 * KV * HD * B * K * (prompt + own)));
    const ref = await run(dense, IDS.flat().map((t) => [t]));
    assertClose(ref.data, y.data, 1e-5, model);
    // What makes them equal is the prompt's cache: the twin over other prompt values differs.
    if (prompt > 0) {
      const other: WeightFill = (key, shape, dtype, scale, offset) => (/\.prompt_[kv]$/.test(key) ? defaultFill(`${key}:other`, shape, dtype, scale, offset) : defaultFill(key, shape, dtype, scale, offset));
      assert.ok(maxRelDiff(ref.data, (await run(decodeStep(model, other), IDS)).data) > 1e-3, `${model}: the prompt's cache is read`);
    }
  });
}

test("the step's multiply-adds are the engine's decode plus each new token's own key; the Llama's by hand", async () => {
  const isWeight = (name: string) => !name.startsWith('kv_cache.');
  for (const model of Object.keys(GEOMETRY)) {
    const r = decodeStep(model);
    const macs = await matmulMacs(r, { input_ids: idRows(IDS) }, isWeight);
    const { prompt, own, keys } = GEOMETRY[model]!;
    // Attention: per row, layer and head, head_dim MACs for the score and head_dim for the value
    // of every cached position (the prompt's and its own; a position masked for the layer is
    // scored all the same) and of its own new key.
    assert.equal(macs.other, BigInt(B * K * LAYERS * H * 2 * HD * (prompt + own + 1)), `${model}: attention MACs`);
    // The engine charges each of the B·K tokens keys[l] keys in layer l at 2·H·(score + value dims) FLOPs:
    // every cached position a layer sees (the cache's n unless a reader masks some), not the new key.
    const engineAttention = BigInt(B * K * 2 * H * 2 * HD) * BigInt(keys.reduce((a, b) => a + b, 0));
    if (model !== 'FullReadByWindow') assert.ok(keys.every((n) => n === prompt + own), `${model}: the cached positions are the keys the engine charges`);
    assert.equal(2n * macs.weights + engineAttention, r.report.flops.decode, `${model}: weight MACs ×2 + the engine's attention = the engine's decode FLOPs`);
  }
  // The Llama by hand: per token q 32·32 + k, v 32·16 each + o 32·32 + GatedMLP 3·32·64 per layer,
  // and the LM head 32·61.
  const perToken = LAYERS * (D * H * HD + 2 * D * KV * HD + H * HD * D + 3 * D * 64) + D * VOCAB;
  assert.equal(perToken, 20_384);
  const llama = await matmulMacs(decodeStep('Llama'), { input_ids: idRows(IDS) }, isWeight);
  assert.equal(llama.weights, BigInt(B * K * perToken));
  assert.equal(decodeStep('Llama').report.flops.decode, BigInt(B * K * 2 * (perToken + LAYERS * H * 2 * HD * S)));
});

test('what the step cannot run is refused by name', () => {
  const refused = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: unknown) => e instanceof ExportError && pattern.test(e.message));
  refused(() => exportModel(TEXT, 'Llama', { decode: { batch: 1, past: P }, analysis: { seq: S, sharedPrefix: SHARE } }), /needs a context \(--decode-past\) above the prompt/);
  refused(() => exportModel(TEXT, 'Ssm', { decode: { batch: 1, past: S }, analysis: { seq: S, sharedPrefix: SHARE } }), /mix:.*causal self-Attention only/);
});

test('npas export-onnx --shared-prefix P --continuations k --decode-past S writes the step, and refuses P ≥ S at the flag', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const dir = mkdtempSync(join(tmpdir(), 'npas-shared-decode-'));
  try {
    const spec = join(dir, 'm.npas');
    const out = join(dir, 'm.onnx');
    writeFileSync(spec, TEXT);
    const io = new CapturedIo(() => TEXT);
    const args = ['export-onnx', spec, '--model', 'Llama', '-o', out, '--shared-prefix', String(P), '--continuations', String(K), '--decode-past', String(S), '--batch', String(B), '--ops', 'standard'];
    assert.equal(await mainAsync(args, io), 0, io.err);
    assert.match(io.out, /= params\.stored/);
    assert.match(io.out, new RegExp(`input_ids int64 \\[${B}, ${K}\\]`));
    assert.match(io.out, /the prompt's cache \(5 positions, held once per sequence\) and their own \(4 each\)/);
    const session = await ort.InferenceSession.create(out);
    try {
      const y = (await session.run({ input_ids: idRows(IDS) })).last_token!;
      assertClose(y.data as Float32Array, (await run(decodeStep('Llama'), IDS)).data, 1e-6);
    } finally {
      await session.release();
    }
    io.err = '';
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'Llama', '-o', out, '--shared-prefix', String(S), '--decode-past', String(S)], io), 2);
    assert.match(io.err, /--shared-prefix 9 must be below --decode-past 9/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
