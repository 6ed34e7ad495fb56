// LoRETTA's tensor-train adapters in the ONNX export (kernels/generated/tt-adapter.ts):
// initializer elements equal params.stored, the graph runs on ONNX Runtime's CPU provider, and its
// output equals a reference written here on the graph's own initializers. The reference forms
// each matrix by the definition of a tensor train — entry (i₁…i_d) of the row-major tensor is
// G₁[:, i₁, :]·…·G_d[:, i_d, :] — and reshapes it to (rows, cols) as the reference code does
// (yifanycc/loretta@c66bbb3, layers.py forward_tt_full_precision), whatever sweep or split the
// graph runs. LoRETTA_rep: y = W·x + (x·A)·B; LoRETTA_adp on h (W·x, or x before W with
// `side: input`): h + up(ReLU(down(h) + b_down)) + b_up.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import type { WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, initializer, matvec, runChecked } from './helpers.js';

const V = 29;
const IDS = [[3, 17, 8], [20, 6, 2]];
const spec = (dIn: number, dOut: number, adapter: string) => `
model M {
  embed = Embedding(${V}, ${dIn})
  proj  = Linear(${dIn}, ${dOut})
}
variant A of M { adapt proj: ${adapter} }
`;

/** The row-major [rows, cols] matrix of a train, entry by entry from the cores' definition. */
function ttMatrix(r: ExportResult, key: string, modes: readonly number[], ttRank: number): Float32Array {
  const d = modes.length;
  const ranks = modes.map((_, k) => (k === 0 ? 1 : ttRank)).concat([1]);
  const cores = modes.map((_, k) => initializer(r, `${key}.core${k + 1}`));
  cores.forEach((c, k) => assert.equal(c.length, ranks[k]! * modes[k]! * ranks[k + 1]!, `${key}.core${k + 1}`));
  const total = modes.reduce((p, n) => p * n, 1);
  const out = new Float32Array(total);
  for (let flat = 0; flat < total; flat++) {
    // Digits of flat in the modes, most significant first.
    const idx: number[] = [];
    let rest = flat;
    for (let k = d - 1; k >= 0; k--) {
      idx[k] = rest % modes[k]!;
      rest = Math.floor(rest / modes[k]!);
    }
    let vec = [1];
    for (let k = 0; k < d; k++) {
      const next = new Array<number>(ranks[k + 1]!).fill(0);
      for (let a = 0; a < ranks[k]!; a++) for (let b = 0; b < ranks[k + 1]!; b++) next[b]! += vec[a]! * cores[k]![(a * modes[k]! + idx[k]!) * ranks[k + 1]! + b]!;
      vec = next;
    }
    out[flat] = vec[0]!;
  }
  return out;
}

/** x·M for M [rows, cols] row-major. */
const times = (x: readonly number[], M: Float32Array, cols: number): number[] =>
  Array.from({ length: cols }, (_, j) => x.reduce((s, v, i) => s + v * M[i * cols + j]!, 0));

const lastEmbeddings = (r: ExportResult, d: number): number[][] => IDS.map((row) => Array.from(initializer(r, 'embed.weight').subarray(row[row.length - 1]! * d, (row[row.length - 1]! + 1) * d)));

function adapterRef(r: ExportResult, key: string, h: number[], b: number, modesDown: readonly number[], modesUp: readonly number[], ttRank: number): number[] {
  const down = ttMatrix(r, `${key}_down`, modesDown, ttRank);
  const up = ttMatrix(r, `${key}_up`, modesUp, ttRank);
  const bDown = initializer(r, `${key}_down_bias`);
  const bUp = initializer(r, `${key}_up_bias`);
  const hidden = times(h, down, b).map((v, i) => Math.max(0, v + bDown[i]!));
  return times(hidden, up, h.length).map((v, i) => h[i]! + v + bUp[i]!);
}

test('loretta_rep: the trains A and B as written; initializers = params.stored; y = W·x + x·A·B on CPU', async () => {
  // A [8 × 2] over [2, 4, 2], B [2 × 12] over [2, 3, 4], TT rank 3: both split only at a cost above
  // their dense products (3·(8 + 2) = 30 > 16, 3·(2 + 12) = 42 > 24), so both are materialised.
  const r = exportModel(spec(8, 12, 'loretta_rep(rank: 2, tt_rank: 3, modes_a: [2, 4, 2], modes_b: [2, 3, 4])'), 'A', { ops: 'standard' });
  assert.equal(r.initializerElements, r.storedParams);
  // Over the base: A 1·2·3 + 3·4·3 + 3·2·1 = 48, B 6 + 3·3·3 + 3·4·1 = 45.
  assert.equal(r.storedParams - exportModel(spec(8, 12, 'lora(rank: 1)'), 'M').storedParams, 93n);
  const W = initializer(r, 'proj.weight');
  const A = ttMatrix(r, 'proj.weight.loretta_rep_a', [2, 4, 2], 3);
  const B = ttMatrix(r, 'proj.weight.loretta_rep_b', [2, 3, 4], 3);
  const expected = lastEmbeddings(r, 8).flatMap((x) => {
    const delta = times(times(x, A, 2), B, 12);
    return matvec(W, x, 12).map((v, i) => v + delta[i]!);
  });
  const out = await runChecked(r, { input_ids: idRows(IDS) });
  assertClose(out, expected, 1e-5, 'rep');
  // The graph's generation is each train's materialisation, as the engine counts it (÷ 6 per step).
  assert.equal(6n * r.generation.macs, r.report.flops.generationPerStep);
});

test('loretta_adp: on the output (both trains split) and on the input (down split, up materialised), biases included', async () => {
  // Output of Linear(64, 32): d = 32, b = 4; down [32 × 4] over [4, 8, 4] splits after 4·8 = 32,
  // up [4 × 32] over [4, 8, 4] after 4: 2·(32 + 4) = 72 < 128 MACs per token, both split.
  const out = exportModel(spec(64, 32, 'loretta_adp(bottleneck: 4, tt_rank: 2, modes_down: [4, 8, 4], modes_up: [4, 8, 4])'), 'A', { ops: 'standard' });
  assert.equal(out.initializerElements, out.storedParams);
  // Cores 1·4·2 + 2·8·2 + 2·4·1 = 48 per train, plus b_down 4 and b_up 32.
  assert.equal(out.storedParams - exportModel(spec(64, 32, 'lora(rank: 1)'), 'M').storedParams, 2n * 48n + 4n + 32n);
  const W = initializer(out, 'proj.weight');
  const expectedOut = lastEmbeddings(out, 64).flatMap((x) => adapterRef(out, 'proj.weight.loretta_adp', matvec(W, x, 32), 4, [4, 8, 4], [4, 8, 4], 2));
  assertClose(await runChecked(out, { input_ids: idRows(IDS) }), expectedOut, 1e-5, 'adp output');
  assert.equal(6n * out.generation.macs, out.report.flops.generationPerStep);
  // Input of Linear(64, 32): d = 64; down [64 × 4] over [8, 8, 4] splits after 64 (2·68 = 136 < 256),
  // up [4 × 64] over [8, 8, 4] has no prefix of 4: materialised. W multiplies the adapted input.
  const input = exportModel(spec(64, 32, 'loretta_adp(bottleneck: 4, tt_rank: 2, side: input, modes_down: [8, 8, 4], modes_up: [8, 8, 4])'), 'A', { ops: 'standard' });
  assert.equal(input.initializerElements, input.storedParams);
  assert.equal(input.storedParams - exportModel(spec(64, 32, 'lora(rank: 1)'), 'M').storedParams, 2n * (16n + 32n + 8n) + 4n + 64n);
  const Wi = initializer(input, 'proj.weight');
  const expectedIn = lastEmbeddings(input, 64).flatMap((x) => matvec(Wi, adapterRef(input, 'proj.weight.loretta_adp', x, 4, [8, 8, 4], [8, 8, 4], 2), 32));
  const got = await runChecked(input, { input_ids: idRows(IDS) });
  assertClose(got, expectedIn, 1e-5, 'adp input');
  assert.equal(6n * input.generation.macs, input.report.flops.generationPerStep);
  // The adapter changes the output: the plain model's differs.
  const plain = await runChecked(exportModel(spec(64, 32, 'lora(rank: 1)'), 'M', { ops: 'standard' }), { input_ids: idRows(IDS) });
  assert.ok(plain.some((v, i) => Math.abs(v - got[i]!) > 1e-4));
});

test('the LoRETTA gallery example (Llama-2-7B) exports at its exact size: initializers = params.stored', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'loretta-llama2.npas'), 'utf8');
  const none: WeightFill = () => new Uint8Array(0);
  // Llama-2-7B's 6,738,415,616 plus 64 rep targets × 3,904, or 96 adapters × 9,600.
  for (const [name, added] of [['Llama2LorettaRep', 64n * 3_904n], ['Llama2LorettaAdp', 96n * 9_600n]] as const) {
    const r = exportModel(text, name, { fill: none });
    assert.equal(r.storedParams, 6_738_415_616n + added, name);
    assert.equal(r.initializerElements, r.storedParams, name);
  }
});
