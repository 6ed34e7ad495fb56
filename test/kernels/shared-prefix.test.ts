// A prompt shared by k continuations in the ONNX prefill (kernels/layers/shared-prefix.ts): each
// row of input_ids is the prompt (P tokens) and the k continuations (C tokens each) end to end,
// positions restart at P per continuation, and the block-sparse mask lets each continuation see
// the prompt and its own earlier tokens only. The proof, on onnxruntime-node's CPU provider: the
// packed graph's output for continuation c equals the unshared graph's on prompt + continuation c
// alone (the same stores, so the same synthetic weights) — for rotary, learned positions, GQA, a
// sliding window and a chunked layer —; changing one continuation leaves the others' outputs
// bit-identical; and a plain causal mask over the packed row (what the graph would be without the
// block-sparse mask) does not match. Initializer elements = params.stored, and the report that
// travels with the export holds the KV of P + k·C positions per layer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExportError, exportModel, onnxBytes, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows, maxRelDiff } from './helpers.js';
import { CapturedIo } from '../cli/captured-io.js';
import { D, tinyLlama } from './tiny-llama.js';

const TEXT = `${tinyLlama('Llama')}${tinyLlama('Windowed', ', window: 3')}${tinyLlama('Chunked', ', chunk: 4')}
model Gpt {
  d = ${D}
  block Layer {
    ln1  = LayerNorm(d)
    attn = Attention(d, 4)
    ln2  = LayerNorm(d)
    mlp  = MLP(d, 64)
  }
  embed = Embedding(61, d)
  pos   = PositionEmbedding(64, d)
  body  = Layer * 2
  head  = Linear(d, 61)
}
model Ssm {
  embed = Embedding(61, 16)
  mix   = Mamba(16)
}
`;

const P = 5;
const C = 4;
const K = 3;
const PROMPTS = [
  [3, 17, 8, 11, 2],
  [40, 6, 0, 14, 9],
];
const CONTINUATIONS = [
  [
    [19, 4, 33, 7],
    [21, 50, 1, 12],
    [5, 5, 60, 28],
  ],
  [
    [12, 1, 44, 30],
    [9, 9, 9, 9],
    [58, 2, 16, 37],
  ],
];

const packed = (conts = CONTINUATIONS) => PROMPTS.map((p, b) => [...p, ...conts[b]!.flat()]);

function shared(model: string, ops: 'fused' | 'standard' = 'fused'): ExportResult {
  // The engine's seq is one sequence's length, the prompt and one continuation: P + C.
  return exportModel(TEXT, model, { ops, analysis: { seq: P + C, sharedPrefix: { tokens: P, continuations: K } } });
}

async function run(r: ExportResult, rows: number[][]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(onnxBytes(r));
  try {
    const y = (await session.run({ input_ids: idRows(rows) })).last_token!;
    return { data: y.data as Float32Array, dims: y.dims };
  } finally {
    await session.release();
  }
}

/** Continuation c's row of a [B, K, w] output, for sequence b. */
const slice = (y: Float32Array, w: number, b: number, c: number): Float32Array => y.subarray((b * K + c) * w, (b * K + c + 1) * w);

for (const model of ['Llama', 'Gpt', 'Windowed', 'Chunked']) {
  test(`${model}: each continuation of the packed prefill equals the prompt and that continuation run alone`, async () => {
    const r = shared(model);
    assert.equal(r.initializerElements, r.storedParams, 'initializer elements = params.stored');
    assert.deepEqual(r.sharedPrefix, { tokens: P, continuations: K });
    const y = await run(r, packed());
    assert.deepEqual(y.dims, [PROMPTS.length, K, r.outputWidth]);
    assert.ok(y.data.every(Number.isFinite));
    // The reference: the model without a shared prompt (same stores, so the same weights) on each
    // prompt + continuation, P + C tokens.
    const alone = exportModel(TEXT, model, { analysis: { seq: P + C } });
    for (let c = 0; c < K; c++) {
      const ref = await run(alone, PROMPTS.map((p, b) => [...p, ...CONTINUATIONS[b]![c]!]));
      for (let b = 0; b < PROMPTS.length; b++) assertClose(ref.data.subarray(b * r.outputWidth, (b + 1) * r.outputWidth), slice(y.data, r.outputWidth, b, c), 1e-5, `${model} sequence ${b}, continuation ${c}`);
    }
  });
}

test('the block-sparse mask is what makes them equal: a plain causal prefill of the packed row differs, and one continuation never reads another', async () => {
  const r = shared('Llama');
  const w = r.outputWidth;
  const y = await run(r, packed());
  // The plain causal graph over the same packed row: continuations 1 and 2 would read the
  // continuations before them (and sit at later positions); its last token is continuation 2's.
  const causal = exportModel(TEXT, 'Llama', { analysis: { seq: P + K * C } });
  const plain = await run(causal, packed());
  assert.ok(maxRelDiff(plain.data.subarray(0, w), slice(y.data, w, 0, K - 1)) > 1e-3, 'a causal mask over the packed row is not the shared-prefix answer');
  // Changing continuation 0's tokens leaves continuations 1 and 2 bit-identical and changes 0's.
  const changed = CONTINUATIONS.map((conts) => conts.map((cont, c) => (c === 0 ? cont.map((t) => (t + 13) % 61) : cont)));
  const z = await run(r, packed(changed));
  for (let b = 0; b < PROMPTS.length; b++) {
    assert.deepEqual(slice(z.data, w, b, 1), slice(y.data, w, b, 1));
    assert.deepEqual(slice(z.data, w, b, 2), slice(y.data, w, b, 2));
    assert.ok(maxRelDiff(slice(z.data, w, b, 0), slice(y.data, w, b, 0)) > 1e-3);
  }
});

test('fused and standard ops give the same packed graph (the block-sparse mask runs on the standard ops)', async () => {
  const fused = shared('Llama', 'fused');
  const standard = shared('Llama', 'standard');
  assert.equal(fused.spec.graph.nodes.some((n) => n.op === 'GroupQueryAttention' || n.op === 'MultiHeadAttention'), false);
  assertClose((await run(standard, packed())).data, (await run(fused, packed())).data, 1e-6);
});

test('the export carries the engine report of the shared prompt: the KV of P + k·C positions per layer', () => {
  const r = shared('Llama');
  // 2 layers × (5 + 3·4 = 17 positions) × 2 (K and V) × 2 KV heads × 8 head dims × 4 bytes (fp32).
  assert.equal(r.report.kvCacheBytes, BigInt(2 * (P + K * C) * 2 * 2 * 8 * 4));
});

test('what the packed prefill cannot keep apart is refused by name', () => {
  const refused = (f: () => unknown, pattern: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof ExportError && pattern.test(e.message));
  refused(() => shared('Ssm'), /mix:.*causal self-Attention only; Mamba would mix the continuations/);
  refused(() => exportModel(TEXT, 'Llama', { analysis: { seq: 8, sharedPrefix: { tokens: 4, continuations: 0 } } }), /continuations ≥ 1/);
});

test('npas export-onnx --shared-prefix P --continuations k writes the packed graph', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const dir = mkdtempSync(join(tmpdir(), 'npas-shared-prefix-'));
  try {
    const spec = join(dir, 'm.npas');
    const out = join(dir, 'm.onnx');
    writeFileSync(spec, TEXT);
    const io = new CapturedIo(() => TEXT);
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'Llama', '-o', out, '--shared-prefix', String(P), '--continuations', String(K)], io), 0, io.err);
    assert.match(io.out, /= params\.stored/);
    assert.match(io.out, new RegExp(`shared prompt: ${P} tokens then ${K} continuations`));
    const session = await ort.InferenceSession.create(out);
    try {
      const y = (await session.run({ input_ids: idRows(packed()) })).last_token!;
      assertClose(y.data as Float32Array, (await run(shared('Llama'), packed())).data, 1e-6);
    } finally {
      await session.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
