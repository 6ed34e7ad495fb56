// A Conformer's layers in the ONNX export, run on the CPU provider and checked against plain-JS
// computations from the graph's initializers: relative-position attention (`rel_pos: true`, WeNet's
// RelPositionMultiHeadedAttention: ((q + u)·k_j + (q + v)·p_j)/√hd with p_j = linear_pos of the
// sinusoidal encoding of position j), GLU (`Activation(glu)`) and the causal Conv1d over the token
// sequence (prefill, and decode steps over the carried state); then the gallery's
// parameter-efficient Conformer (examples/conformer-shared-experts.npas) at a small size, whose
// initializers hold exactly params.stored with its group stores and expert pools.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../src/core/index.js';
import { exportModel } from '../../kernels/export.js';
import { ExportError } from '../../kernels/engine-bridge.js';
import { assertClose, chainDecode, idRows, initializer, matvec, runChecked, runSynthetic, sigmoid } from './helpers.js';

const ROWS = [
  [3, 17, 42, 5, 60, 9],
  [11, 0, 33, 33, 7, 58],
];

const embed = (E: Float32Array, d: number, id: number): number[] => Array.from(E.subarray(id * d, (id + 1) * d));

test('rel_pos attention: content and position terms with u and v, against a plain-JS computation; initializers = params.stored', async () => {
  const d = 8;
  const H = 2;
  const hd = d / H;
  const text = `model M {\n  embed = Embedding(61, ${d})\n  attn = Attention(${d}, ${H}, bias: true, causal: false, rel_pos: true)\n}`;
  const r = exportModel(text, 'M', { ops: 'standard' });
  assert.equal(r.initializerElements, r.storedParams);
  // q, k, v, o with biases, linear_pos [d, d] and u, v of d.
  assert.equal(r.storedParams, BigInt(61 * d + 4 * (d * d + d) + d * d + 2 * d));
  const w = (n: string) => initializer(r, n);
  const out = await runChecked(r, { input_ids: idRows(ROWS) });
  const S = ROWS[0]!.length;
  const expected: number[] = [];
  for (const row of ROWS) {
    const x = row.map((id) => embed(w('embed.weight'), d, id));
    const q = x.map((t) => matvec(w('attn.q'), t, d, w('attn.q_bias')));
    const k = x.map((t) => matvec(w('attn.k'), t, d, w('attn.k_bias')));
    const v = x.map((t) => matvec(w('attn.v'), t, d, w('attn.v_bias')));
    // pe[j, 2i] = sin(j·10000^(−2i/d)), pe[j, 2i + 1] = cos(…) (WeNet's RelPositionalEncoding).
    const pe = (j: number) => Array.from({ length: d }, (_, c) => {
      const angle = j * Math.exp(2 * Math.floor(c / 2) * (-Math.log(10000) / d));
      return c % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    });
    const p = Array.from({ length: S }, (_, j) => matvec(w('attn.pos'), pe(j), d));
    const u = w('attn.pos_bias_u');
    const vb = w('attn.pos_bias_v');
    const i = S - 1; // the last token's output
    const merged = new Array<number>(d).fill(0);
    for (let h = 0; h < H; h++) {
      const cols = (t: number[]) => t.slice(h * hd, (h + 1) * hd);
      const qi = cols(q[i]!);
      const scores = Array.from({ length: S }, (_, j) => {
        let s = 0;
        for (let c = 0; c < hd; c++) s += (qi[c]! + u[h * hd + c]!) * cols(k[j]!)[c]! + (qi[c]! + vb[h * hd + c]!) * cols(p[j]!)[c]!;
        return s / Math.sqrt(hd);
      });
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < S; j++) for (let c = 0; c < hd; c++) merged[h * hd + c]! += (e[j]! / z) * cols(v[j]!)[c]!;
    }
    const o = matvec(w('attn.o'), merged, d, w('attn.o_bias'));
    expected.push(...x[i]!.map((xv, c) => xv + o[c]!)); // a bare attention is a residual branch
  }
  assertClose(out, expected, 1e-4, 'rel_pos attention');
  // The position term matters: the same weights without it differ.
  const plain = await runChecked(exportModel(text.replace(', rel_pos: true', ''), 'M', { ops: 'standard' }), { input_ids: idRows(ROWS) });
  assert.ok(plain.some((y, n) => Math.abs(y - out[n]!) > 1e-3));
  // The fused ops keep it on the standard ops, and agree.
  assertClose(await runSynthetic(exportModel(text, 'M', { ops: 'fused' }), 2, 5), await runSynthetic(r, 2, 5), 1e-5, 'fused = standard');
  // A decode step is refused by name, not built without its position term.
  assert.throws(() => exportModel(text.replace('causal: false', 'causal: true'), 'M', { decode: { batch: 1, past: 4 } }), (e: unknown) => e instanceof ExportError && /rel_pos/.test(e.message));
});

test('GLU and the causal Conv1d over the tokens: prefill against a plain-JS computation, decode steps over the carried state equal the prefill', async () => {
  const d = 8;
  for (const conv of ['Conv1d(8, 8, 3, groups: 8)', 'Conv1d(8, 4, 3, dilation: 2, groups: 2)']) {
    const text = `model M {\n  embed = Embedding(61, 16)\n  pw = Linear(16, ${2 * d}, bias: true)\n  glu = Activation(glu)\n  dw = ${conv}\n}`;
    const r = exportModel(text, 'M', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, conv);
    const w = (n: string) => initializer(r, n);
    const [cOut, perGroup, K] = (r.spec.graph.initializers.find((t) => t.name === 'dw.weight')!.dims as number[]).map(Number) as [number, number, number];
    const dilation = conv.includes('dilation') ? 2 : 1;
    const groups = d / perGroup;
    // Token t's GLU output, and the conv's output at token t over the zero-padded past.
    const gluAt = (row: readonly number[], t: number) => {
      const a = matvec(w('pw.weight'), embed(w('embed.weight'), 16, row[t]!), 2 * d, w('pw.bias'));
      return a.slice(0, d).map((x, c) => x * sigmoid(a[d + c]!));
    };
    const convAt = (row: readonly number[], t: number) =>
      Array.from({ length: cOut }, (_, o) => {
        const g = Math.floor(o / (cOut / groups));
        let s = w('dw.bias')[o]!;
        for (let c = 0; c < perGroup; c++) {
          for (let k = 0; k < K; k++) {
            const src = t - dilation * (K - 1 - k);
            if (src >= 0) s += w('dw.weight')[(o * perGroup + c) * K + k]! * gluAt(row, src)[g * perGroup + c]!;
          }
        }
        return s;
      });
    const S = ROWS[0]!.length;
    assertClose(await runChecked(r, { input_ids: idRows(ROWS) }), ROWS.flatMap((row) => convAt(row, S - 1)), 1e-4, `${conv} prefill`);
    // Decode: one token per step from a zero state; step t is the prefill's last token over t + 1 tokens.
    const dec = exportModel(text, 'M', { ops: 'standard', decode: { batch: ROWS.length, past: 4 } });
    const [state] = dec.stateInputs;
    assert.deepEqual(state!.dims, [ROWS.length, d, dilation * (K - 1) + 1], 'the engine\'s state: c_in · (dilation·(kernel − 1) + 1)');
    const steps = await chainDecode(dec, ROWS);
    for (let t = 0; t < S; t++) assertClose(steps[t]!, ROWS.flatMap((row) => convAt(row, t)), 1e-4, `${conv} decode step ${t}`);
  }
  // GLU halves the width: an odd width is refused by name.
  assert.throws(() => exportModel('model M {\n  embed = Embedding(61, 7)\n  g = Activation(glu)\n}', 'M'), (e: unknown) => e instanceof ExportError && /GLU/.test(e.message));
});

test('the parameter-efficient Conformer at a small size: group stores and expert pools, routers and norms per block; initializers = params.stored', async () => {
  const gallery = readFileSync(join(__dirname, '..', '..', 'examples', 'conformer-shared-experts.npas'), 'utf8');
  const small = `${gallery}\nvariant SmallShared of ConformerSharedMoE {\n  d = 16\n  heads = 2\n  hidden = 32\n  kernel = 5\n  mels = 20\n}\nvariant SmallUnshared of ConformerMoE {\n  d = 16\n  heads = 2\n  hidden = 32\n  kernel = 5\n  mels = 20\n}\n`;
  const stored = (name: string) => analyze(small).models.find((m) => m.name === name)!.params.stored;
  const shared = exportModel(small, 'SmallShared', { ops: 'standard' });
  const unshared = exportModel(small, 'SmallUnshared', { ops: 'standard' });
  assert.equal(shared.initializerElements, stored('SmallShared'));
  assert.equal(unshared.initializerElements, stored('SmallUnshared'));
  // By hand at d 16, 2 heads, FFN 32, kernel 5, 20 mel bins (((20 − 1)//2 − 1)//2 = 4 rows):
  // a group's store is attention with linear_pos and u, v, the three convolutions and 2 × 8 experts.
  const d = 16;
  const ffn = 2 * d * 32 + 32 + d;
  const group = 4 * (d * d + d) + d * d + 2 * d + (2 * d * d + 2 * d) + (5 * d + d) + (d * d + d) + 2 * 8 * ffn;
  const own = 5 * 2 * d + 2 * d + 2 * 8 * d; // five LayerNorms, the BatchNorm, two routers
  const front = 9 * d + d + (9 * d * d + d) + (4 * d * d + d) + 2 * d; // and after_norm
  assert.equal(shared.initializerElements, BigInt(front + 4 * group + 12 * own));
  assert.equal(unshared.initializerElements, BigInt(front + 12 * (group + own)));
  // One router per block and feed-forward in both, one bank per pool in the shared graph.
  const named = (r: typeof shared, re: RegExp) => r.spec.graph.initializers.filter((t) => re.test(t.name)).length;
  for (const r of [shared, unshared]) assert.equal(named(r, /\.ff[12]\.router$/), 24);
  for (const r of [shared, unshared]) assert.equal(named(r, /\.final_norm\.weight$/), 12);
  assert.equal(named(shared, /\.attn\.pos$/), 4);
  assert.equal(named(unshared, /\.attn\.pos$/), 12);
  // The graph runs; the fused ops (the experts as one com.microsoft MoE node, QuickGelu for swish)
  // agree to float rounding accumulated over 12 blocks of 24 LayerNorms.
  const fused = exportModel(small, 'SmallShared', { ops: 'fused' });
  assert.equal(fused.initializerElements, shared.initializerElements);
  assertClose(await runSynthetic(fused, 2, 6, 1024), await runSynthetic(shared, 2, 6, 1024), 5e-3, 'fused = standard');
});
