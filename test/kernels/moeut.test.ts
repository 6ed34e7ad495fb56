// MoEUT in the ONNX export (kernels/layers/switch-head.ts), on the CPU provider: the spec's
// Attention + MoE + Linear encoding of SwitchHead and the norm + MoE σ-MoE export with
// initializer elements = params.stored (cycle-shared too), run, and compute what a plain-JS
// reference of SwitchHead and σ-MoE computes with the same weights; the decode step over the KV
// cache equals the prefill's last position; the examples export at their exact sizes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExportError, exportModel, onnxBytes, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows, runChecked } from './helpers.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';

// H 2, head_dim 4, N_A = (2 + 4)/2 = 3 experts per head, k_A = (2 + 2)/2 = 2, selections 2·2·3 − 4 = 8.
const SPEC = `
model TinyMoEUT(L = 2) {
  d = 8
  block Layer {
    ln1        = LayerNorm(d)
    attn       = Attention(d, 2, head_dim: 4)
    vo_experts = MoE(d, 4, experts: 4, top_k: 2, gated: false, act: relu)
    selections = Linear(d, 8)
    ln2        = LayerNorm(d)
    ffn        = MoE(d, 6, experts: 5, top_k: 2, gated: false, act: relu)
  }
  embed = Embedding(20, d)
  body  = Layer * L
}
variant Cycle of TinyMoEUT {
  L = 4
  share body: cycle(2)
}
`;

const run = (r: ExportResult, rows: number[][]): Promise<Float32Array> => runChecked(r, { input_ids: idRows(rows) });

test('MoEUT (SwitchHead + σ-MoE): initializers = params.stored, prefill and decode run; KV = the engine\'s', async () => {
  for (const name of ['TinyMoEUT', 'Cycle']) {
    const r = exportModel(SPEC, name);
    assert.equal(r.initializerElements, r.storedParams, name);
    assert.ok((await run(r, [[1, 2, 3], [4, 5, 6]])).every(Number.isFinite));
    const d = exportModel(SPEC, name, { decode: { batch: 2, past: 5 }, analysis: { seq: 5, batch: 2, dtype: 'fp32' } });
    assert.equal(d.initializerElements, d.storedParams);
    assert.equal(d.kvCacheElements * 4n, d.report.kvCacheBytes);
    assert.ok((await run(d, [[3], [9]])).every(Number.isFinite));
  }
});

test('SwitchHead and σ-MoE compute what a plain reference computes with the same weights', async () => {
  for (const ops of ['fused', 'standard'] as const) await reference(ops);
});

async function reference(ops: 'fused' | 'standard'): Promise<void> {
  const one = exportModel(SPEC.split('variant')[0]!.replace('body  = Layer * L', 'body  = Layer * 1'), 'TinyMoEUT', { ops });
  const W = new Map(one.spec.graph.initializers.map((t) => [t.name, new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength))]));
  // A bank on the fused MoE op (σ-MoE, kernels/layers/moe-fused.ts) is one stacked initializer
  // [E, ...]: copy e of `<bank>[e]` is its e-th slice.
  const dims = new Map(one.spec.graph.initializers.map((t) => [t.name, t.dims]));
  const copy = (n: string) => {
    const m = /^(.*)\[(\d+)\]$/.exec(n);
    const bank = m ? W.get(m[1]!) : undefined;
    if (!m || !bank) return undefined;
    const size = bank.length / dims.get(m[1]!)![0]!;
    return bank.subarray(Number(m[2]) * size, (Number(m[2]) + 1) * size);
  };
  const w = (n: string) => W.get(n) ?? copy(n) ?? assert.fail(`no initializer ${n}`);
  const d = 8;
  const H = 2;
  const hd = 4;
  const nA = 3;
  const tokens = [7, 2, 13, 5];
  const S = tokens.length;
  const matvec = (m: Float32Array, rows: number, cols: number, x: number[], colOffset = 0, stride = cols): number[] =>
    Array.from({ length: rows }, (_, o) => x.reduce((s, v, i) => s + m[o * stride + colOffset + i]! * v, 0));
  const ln = (x: number[], g: Float32Array, b: Float32Array) => {
    const mu = x.reduce((a, v) => a + v, 0) / x.length;
    const varr = x.reduce((a, v) => a + (v - mu) ** 2, 0) / x.length;
    return x.map((v, i) => ((v - mu) / Math.sqrt(varr + 1e-5)) * g[i]! + b[i]!);
  };
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const top = (s: number[], k: number) => s.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k);
  const add = (a: number[], b: number[]) => a.map((v, i) => v + b[i]!);
  const scaleAdd = (a: number[], b: number[], g: number) => a.map((v, i) => v + g * b[i]!);
  const p = 'body[0]';
  const x = tokens.map((t) => Array.from(w('embed.weight').subarray(t * d, t * d + d)));
  const xn = x.map((r) => ln(r, w(`${p}.ln1.weight`), w(`${p}.ln1.bias`)));
  const sel = xn.map((r) => [...matvec(w(`${p}.vo_experts.router`), 4, d, r), ...matvec(w(`${p}.selections.weight`), 8, d, r)]);
  // V expert (h, j) applied to a d-vector; O expert (h, j) applied to an hd-vector.
  const vExp = (h: number, j: number, v: number[]) => (j === 0 ? matvec(w(`${p}.attn.v`).subarray(h * hd * d), hd, d, v) : matvec(w(`${p}.vo_experts.expert_up[${h * (nA - 1) + j - 1}]`), hd, d, v));
  const oExp = (h: number, j: number, v: number[]) => (j === 0 ? matvec(w(`${p}.attn.o`), d, hd, v, h * hd, H * hd) : matvec(w(`${p}.vo_experts.expert_down[${h * (nA - 1) + j - 1}]`), d, hd, v));
  const q = xn.map((r) => matvec(w(`${p}.attn.q`), H * hd, d, r));
  const k = xn.map((r) => matvec(w(`${p}.attn.k`), H * hd, d, r));
  const v = x.map((r, t) => Array.from({ length: H }, (_, h) => top(sel[t]!.slice(h * nA, h * nA + nA), 2).reduce((acc, [s, j]) => scaleAdd(acc, vExp(h, j, r), sig(s)), new Array(hd).fill(0) as number[])));
  const y = x.map((r, t) => {
    let out = new Array(d).fill(0) as number[];
    for (let h = 0; h < H; h++) {
      const qs = q[t]!.slice(h * hd, h * hd + hd);
      const sc = Array.from({ length: t + 1 }, (_, u) => qs.reduce((a, qv, i) => a + qv * k[u]![h * hd + i]!, 0) / Math.sqrt(hd));
      const m = Math.max(...sc);
      const e = sc.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      const head = e.reduce((acc, ev, u) => scaleAdd(acc, v[u]![h]!, ev / z), new Array(hd).fill(0) as number[]);
      const so = sel[t]!.slice(H * nA + h * nA, H * nA + h * nA + nA);
      for (const [s, j] of top(so, 2)) out = scaleAdd(out, oExp(h, j, head), sig(s));
    }
    return add(r, out);
  });
  const last = y[S - 1]!;
  const yn = ln(last, w(`${p}.ln2.weight`), w(`${p}.ln2.bias`));
  let ffn = new Array(d).fill(0) as number[];
  for (const [s, e] of top(matvec(w(`${p}.ffn.router`), 5, d, yn), 2)) {
    const hidden = matvec(w(`${p}.ffn.expert_up[${e}]`), 6, d, last).map((u) => Math.max(u, 0));
    ffn = scaleAdd(ffn, matvec(w(`${p}.ffn.expert_down[${e}]`), d, 6, hidden), sig(s));
  }
  assertClose(await run(one, [tokens]), add(last, ffn), 1e-4);
}

test('the MoEUT decode step over the KV cache equals the prefill\'s last position', async () => {
  const text = SPEC.split('variant')[0]!.replace('body  = Layer * L', 'body  = Layer * 1');
  const tokens = [7, 2, 13, 5, 11];
  const S = tokens.length - 1;
  for (const ops of ['fused', 'standard'] as const) {
    const prefix = exportModel(text, 'TinyMoEUT', { ops });
    // k and v of the prefix: the Gemm named k, and the per-head values (the Concat of the standard
    // dispatch's heads; in fused ops the ReduceSum over each head's gathered experts).
    const kOut = prefix.spec.graph.nodes.find((n) => n.op === 'Gemm' && n.outputs[0]!.startsWith('k_'))!.outputs[0]!;
    const vOut = prefix.spec.graph.nodes.find((n) => (n.op === 'Concat' || n.op === 'ReduceSum') && n.outputs[0]!.startsWith('v_'))!.outputs[0]!;
    const spec = { ...prefix.spec, graph: { ...prefix.spec.graph, outputs: [...prefix.spec.graph.outputs, { name: kOut, dataType: 1 as const, dims: ['t', 'k'] }, { name: vOut, dataType: 1 as const, dims: ['t', 'h', 'd'] }] } };
    const session = await ort.InferenceSession.create(onnxBytes({ ...prefix, spec }));
    const outs = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.slice(0, S).map(BigInt)), [1, S]) }, [kOut, vOut]);
    await session.release();
    const k = outs[kOut]!.data as Float32Array; // [S, H·hd]
    const v = outs[vOut]!.data as Float32Array; // [S, H, hd]
    const kT = new Float32Array(2 * 4 * S); // [1, H, hd, S]
    const vC = new Float32Array(2 * S * 4); // [1, H, S, hd]
    for (let s = 0; s < S; s++) for (let h = 0; h < 2; h++) for (let i = 0; i < 4; i++) {
      kT[(h * 4 + i) * S + s] = k[s * 8 + h * 4 + i]!;
      vC[(h * S + s) * 4 + i] = v[(s * 2 + h) * 4 + i]!;
    }
    const fill: WeightFill = (key, shape, dtype, scale, offset) =>
      key === 'kv_cache.body[0].attn.k' ? new Uint8Array(kT.buffer) : key === 'kv_cache.body[0].attn.v' ? new Uint8Array(vC.buffer) : defaultFill(key, shape, dtype, scale, offset);
    const decode = exportModel(text, 'TinyMoEUT', { decode: { batch: 1, past: S }, fill, ops });
    assertClose(await run(decode, [[tokens[S]!]]), await run(exportModel(text, 'TinyMoEUT', { ops }), [tokens]), 1e-4);
  }
});

test('fused SwitchHead (gathered experts) equals the standard dispatch, prefill and decode, with a node count constant in the experts', async () => {
  for (const name of ['TinyMoEUT', 'Cycle']) {
    const fused = exportModel(SPEC, name, { ops: 'fused' });
    const standard = exportModel(SPEC, name, { ops: 'standard' });
    assert.equal(fused.initializerElements, fused.storedParams, name);
    // No data-dependent dispatch is left in the fused graph (the σ-MoE is on the MoE op).
    assert.ok(!fused.spec.graph.nodes.some((n) => n.op === 'NonZero'), name);
    assert.ok(standard.spec.graph.nodes.some((n) => n.op === 'NonZero'), name);
    const rows = [[1, 2, 3, 9], [4, 5, 6, 0]];
    assertClose(await run(fused, rows), await run(standard, rows), 1e-4);
    const opts = { decode: { batch: 2, past: 5 } };
    const fd = exportModel(SPEC, name, { ...opts, ops: 'fused' });
    assert.equal(fd.initializerElements, fd.storedParams, name);
    assertClose(await run(fd, [[3], [9]]), await run(exportModel(SPEC, name, { ...opts, ops: 'standard' }), [[3], [9]]), 1e-4);
  }
  // Twice the experts per head (N_A 3 → 5: E 8, selections 2·2·5 − 8 = 12): the same nodes.
  const wide = SPEC.replace('experts: 4, top_k: 2', 'experts: 8, top_k: 2').replace('selections = Linear(d, 8)', 'selections = Linear(d, 12)');
  const count = (text: string, ops: 'fused' | 'standard') => exportModel(text, 'TinyMoEUT', { ops }).spec.graph.nodes.length;
  assert.equal(count(wide, 'fused'), count(SPEC, 'fused'));
  assert.ok(count(wide, 'standard') > count(SPEC, 'standard'));
  const w = exportModel(wide, 'TinyMoEUT', { ops: 'fused' });
  assert.equal(w.initializerElements, w.storedParams);
  assertClose(await run(w, [[1, 2, 3, 9]]), await run(exportModel(wide, 'TinyMoEUT', { ops: 'standard' }), [[1, 2, 3, 9]]), 1e-4);
});

test('the MoEUT examples export at their exact sizes', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'moeut.npas'), 'utf8');
  const none: WeightFill = () => new Uint8Array(0);
  const shared = exportModel(text, 'MoEUT244M', { fill: none });
  assert.equal(shared.initializerElements, shared.storedParams);
  assert.equal(shared.storedParams, 243_326_784n);
  const arch = exportModel(text, 'MoEUTArch', { fill: none });
  assert.equal(arch.initializerElements, arch.storedParams);
});

test('a near-SwitchHead the rule does not recognise is refused by width, not wired', () => {
  // 44 → 43 selection rows: not 2·H·N_A − E, so the triple is not SwitchHead.
  const text = SPEC.replace('selections = Linear(d, 8)', 'selections = Linear(d, 7)');
  assert.throws(() => exportModel(text, 'TinyMoEUT'), (e: unknown) => e instanceof ExportError && /body\[0\]\.ln2: LayerNorm reads width 8 but the layers before it produce 7/.test(e.message));
});
