// MoA (mixture of attention heads, the Sparse Universal Transformer's attention) in the ONNX
// export (kernels/layers/moa.ts), on the CPU provider: initializer elements = params.stored,
// the KV cache = the engine's, and the graph computes what a plain-JS reference of SUT's
// moa_attention.py computes with the same weights — softmax router (linear or MLP), top-k gates
// renormalised, per-expert W_q and W_o, shared K and V, causal or bidirectional, a window,
// relative-position logits, biases — for a prefill and for a decode step over a cache.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { runProbe } from '../../kernels/probe-client.js';
import { analyze } from '../../src/core/index.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, gelu, idRows, runChecked } from './helpers.js';

const d = 8;
const E = 4;
const K = 2;
const hd = 2;
const ed = 4; // expert_dim: 2 heads per expert
const He = ed / hd;
const spec = (args: string): string => `model TinyMoA {
  d = ${d}
  block Layer {
    ln   = LayerNorm(d)
    attn = MoA(d, ${E}, ${K}, head_dim: ${hd}, expert_dim: ${ed}${args})
  }
  embed = Embedding(20, d)
  body  = Layer * 1
}
`;
const VARIANTS: Record<string, string> = {
  linear: '',
  mlp_router: ', router_hidden: 6',
  biases: ', bias: true',
  relative: ', rel_positions: 2, router_hidden: d',
  bidirectional: ', causal: false, rel_positions: 1',
  window: ', window: 2, bias: true',
};

const run = (r: ExportResult, rows: number[][]): Promise<Float32Array> => runChecked(r, { input_ids: idRows(rows) });

type Weights = (name: string) => Float32Array | undefined;

const weightsOf = (r: ExportResult): Weights => {
  const W = new Map(r.spec.graph.initializers.map((t) => [t.name, new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength))]));
  return (n) => W.get(n);
};
const matvec = (m: Float32Array, rows: number, cols: number, x: number[], offset = 0): number[] => Array.from({ length: rows }, (_, o) => x.reduce((s, v, i) => s + m[offset + o * cols + i]! * v, 0));
const plus = (a: number[], b: Float32Array | undefined, offset = 0) => (b ? a.map((v, i) => v + b[offset + i]!) : a);
const layerNorm = (x: number[], g: Float32Array, b: Float32Array) => {
  const mu = x.reduce((a, v) => a + v, 0) / x.length;
  const va = x.reduce((a, v) => a + (v - mu) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mu) / Math.sqrt(va + 1e-5)) * g[i]! + b[i]!);
};

/**
 * SUT's MoA at `p` (an initializer prefix): the queries of `xq`, keys and values of `xkv`;
 * `visible(i, j)` says whether query i sees key j; `P` the relative-position clamp (0: none);
 * `pos` the rows' places in their sequence for the relative offsets (default: the row indices).
 */
function moaRef(w: Weights, p: string, xq: number[][], xkv: number[][], visible: (i: number, j: number) => boolean, P: number, pos: (i: number) => number = (i) => i): { out: number[][]; k: number[][]; v: number[][] } {
  const must = (n: string) => w(n) ?? assert.fail(`no initializer ${n}`);
  const router = (r0: number[]) => {
    const hidden = w(`${p}.router_hidden`);
    const h = hidden ? plus(matvec(hidden, hidden.length / d, d, r0), must(`${p}.router_hidden_bias`)).map(Math.tanh) : r0;
    const logits = matvec(must(`${p}.router`), E, h.length, h);
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    const z = e.reduce((a, b) => a + b, 0);
    const top = e.map((v, i) => [v / z, i] as const).sort((a, b) => b[0] - a[0]).slice(0, K);
    const sum = top.reduce((a, [v]) => a + v, 0);
    return top.map(([v, i]) => [v / sum, i] as const);
  };
  const k = xkv.map((r0) => plus(matvec(must(`${p}.k`), ed, d, r0), w(`${p}.k_bias`)));
  const v = xkv.map((r0) => plus(matvec(must(`${p}.v`), ed, d, r0), w(`${p}.v_bias`)));
  const rel = w(`${p}.rel_pos`); // [H_e, hd, 2P + 1]
  const out = xq.map((r0, i) => {
    let y = new Array(d).fill(0) as number[];
    for (const [gate, e] of router(r0)) {
      const q = plus(matvec(must(`${p}.q`), ed, d, r0, e * ed * d), w(`${p}.q_bias`), e * ed).map((qv) => qv / Math.sqrt(hd));
      const o: number[] = [];
      for (let h = 0; h < He; h++) {
        const qh = q.slice(h * hd, h * hd + hd);
        const keys = k.map((_, j) => j).filter((j) => visible(i, j));
        const scores = keys.map((j) => {
          let s = qh.reduce((a, qv, c) => a + qv * k[j]![h * hd + c]!, 0);
          if (rel) {
            const off = Math.min(P, Math.max(-P, pos(j) - pos(i))) + P;
            s += qh.reduce((a, qv, c) => a + qv * rel[(h * hd + c) * (2 * P + 1) + off]!, 0);
          }
          return s;
        });
        const m = Math.max(...scores);
        const ex = scores.map((s) => Math.exp(s - m));
        const z = ex.reduce((a, b) => a + b, 0);
        for (let c = 0; c < hd; c++) o.push(keys.reduce((a, j, n) => a + (ex[n]! / z) * v[j]![h * hd + c]!, 0));
      }
      const proj = plus(matvec(must(`${p}.o`), d, ed, o, e * d * ed), w(`${p}.o_bias`), e * d);
      y = y.map((a, c) => a + gate * proj[c]!);
    }
    return y;
  });
  return { out, k, v };
}

/** The reference of TinyMoA: x + MoA(LayerNorm(x)) for every position of one sequence, from the export's initializers. */
function reference(r: ExportResult, args: string, tokens: readonly number[]): { y: number[][]; k: number[][]; v: number[][] } {
  const w = weightsOf(r);
  const must = (n: string) => w(n) ?? assert.fail(`no initializer ${n}`);
  const causal = !args.includes('causal: false');
  const windowMatch = /window: (\d+)/.exec(args);
  const window = windowMatch ? Number(windowMatch[1]) : Infinity;
  const relMatch = /rel_positions: (\d+)/.exec(args);
  const x = tokens.map((t) => Array.from(must('embed.weight').subarray(t * d, t * d + d)));
  const xn = x.map((r0) => layerNorm(r0, must('body[0].ln.weight'), must('body[0].ln.bias')));
  const { out, k, v } = moaRef(w, 'body[0].attn', xn, xn, (i, j) => (!causal || j <= i) && i - j < window, relMatch ? Number(relMatch[1]) : 0);
  return { y: x.map((r0, i) => r0.map((a, c) => a + out[i]![c]!)), k, v };
}

test('MoA: initializers = params.stored, and the prefill computes what the reference computes', async () => {
  const rows = [[7, 2, 13, 5, 11], [3, 3, 9, 0, 17]];
  for (const [name, args] of Object.entries(VARIANTS)) {
    const r = exportModel(spec(args), 'TinyMoA');
    assert.equal(r.initializerElements, r.storedParams, name);
    const got = await run(r, rows);
    const expected = rows.flatMap((tokens) => reference(r, args, tokens).y.at(-1)!);
    assertClose(got, expected, 1e-4, name);
  }
});

test('MoA decode: one step over the shared K/V cache equals the reference at the last position; KV = the engine\'s', async () => {
  const tokens = [7, 2, 13, 5, 11];
  const S = tokens.length - 1;
  for (const [name, args] of Object.entries(VARIANTS)) {
    if (args.includes('causal: false')) continue;
    const prefill = exportModel(spec(args), 'TinyMoA');
    const { y, k, v } = reference(prefill, args, tokens);
    const window = /window: (\d+)/.exec(args);
    const L = Math.min(S, window ? Number(window[1]) : S);
    // The engine's cache layout: k transposed [1, H_e, hd, L], v [1, H_e, L, hd], the last L positions.
    const kT = new Float32Array(He * hd * L);
    const vC = new Float32Array(He * L * hd);
    for (let s = 0; s < L; s++) for (let h = 0; h < He; h++) for (let c = 0; c < hd; c++) {
      kT[(h * hd + c) * L + s] = k[S - L + s]![h * hd + c]!;
      vC[(h * L + s) * hd + c] = v[S - L + s]![h * hd + c]!;
    }
    const fill: WeightFill = (key, shape, dtype, scale, offset) =>
      key === 'kv_cache.body[0].attn.k' ? new Uint8Array(kT.buffer) : key === 'kv_cache.body[0].attn.v' ? new Uint8Array(vC.buffer) : defaultFill(key, shape, dtype, scale, offset);
    const decode = exportModel(spec(args), 'TinyMoA', { decode: { batch: 1, past: S }, fill, analysis: { seq: S, batch: 1, dtype: 'fp32' } });
    assert.equal(decode.initializerElements, decode.storedParams, name);
    assert.equal(decode.kvCacheElements * 4n, decode.report.kvCacheBytes, name);
    assertClose(await run(decode, [[tokens[S]!]]), y[S]!, 1e-4, name);
  }
});

const CROSS = `model XMoA {
  d = ${d}
  block Enc {
    ln   = LayerNorm(d)
    attn = MoA(d, ${E}, ${K}, head_dim: ${hd}, expert_dim: ${ed}, causal: false)
  }
  block Dec {
    ln    = LayerNorm(d)
    cross = MoA(d, ${E}, ${K}, head_dim: ${hd}, expert_dim: ${ed}, cross: true, bias: true)
  }
  embed   = Embedding(20, d)
  encoder = Enc * 1
  tgt     = Embedding(20, d) tied embed
  decoder = Dec * 1
}
`;

test('MoA cross-attention: the decoder\'s experts attend the encoder output, prefill and decode over the source cache', async () => {
  const src = [4, 9, 1, 16, 2, 7];
  const tgt = [3, 11, 5];
  const r = exportModel(CROSS, 'XMoA');
  assert.equal(r.initializerElements, r.storedParams);
  const w = weightsOf(r);
  const must = (n: string) => w(n) ?? assert.fail(`no initializer ${n}`);
  const row = (t: number) => Array.from(must('embed.weight').subarray(t * d, t * d + d));
  const xs = src.map(row);
  const enc = moaRef(w, 'encoder[0].attn', xs.map((x) => layerNorm(x, must('encoder[0].ln.weight'), must('encoder[0].ln.bias'))), xs.map((x) => layerNorm(x, must('encoder[0].ln.weight'), must('encoder[0].ln.bias'))), () => true, 0);
  const memory = xs.map((x, i) => x.map((a, c) => a + enc.out[i]![c]!));
  const xt = tgt.map(row);
  const xtn = xt.map((x) => layerNorm(x, must('decoder[0].ln.weight'), must('decoder[0].ln.bias')));
  const cross = moaRef(w, 'decoder[0].cross', xtn, memory, () => true, 0);
  const expected = xt.at(-1)!.map((a, c) => a + cross.out.at(-1)![c]!);
  assertClose(await runChecked(r, { input_ids: idRows([src]), decoder_input_ids: idRows([tgt]) }), expected, 1e-4);
  // A decode step: the source's K and V are the cache ([1, H_e, hd, S_src] transposed, [1, H_e, S_src, hd]).
  const S = src.length;
  const kT = new Float32Array(He * hd * S);
  const vC = new Float32Array(He * S * hd);
  for (let s = 0; s < S; s++) for (let h = 0; h < He; h++) for (let c = 0; c < hd; c++) {
    kT[(h * hd + c) * S + s] = cross.k[s]![h * hd + c]!;
    vC[(h * S + s) * hd + c] = cross.v[s]![h * hd + c]!;
  }
  const fill: WeightFill = (key, shape, dtype, scale, offset) =>
    key === 'kv_cache.decoder[0].cross.k' ? new Uint8Array(kT.buffer) : key === 'kv_cache.decoder[0].cross.v' ? new Uint8Array(vC.buffer) : defaultFill(key, shape, dtype, scale, offset);
  const decode = exportModel(CROSS, 'XMoA', { decode: { batch: 1, past: 2 }, fill, analysis: { seq: 2, srcSeq: S, batch: 1, dtype: 'fp32' } });
  assert.equal(decode.initializerElements + decode.skippedParams, decode.storedParams);
  assertClose(await runChecked(decode, { decoder_input_ids: idRows([[tgt.at(-1)!]]) }), expected, 1e-4);
});

test('the Sparse Universal Transformer examples export at their exact sizes, SUT_Halting included (relative positions and cross-attention inside halting steps)', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'sparse-universal-transformer.npas'), 'utf8');
  const none: WeightFill = () => new Uint8Array(0);
  for (const name of ['SUT_Unrolled', 'SUT', 'SUT_Halting']) {
    const r = exportModel(text, name, { fill: none });
    assert.equal(r.initializerElements, r.storedParams, name);
  }
  assert.equal(exportModel(text, 'SUT', { fill: none }).storedParams, 107_249_664n);
  // The two halting units, ACTWrapper's Linear(512, 512) + bias, GELU, Linear(512, 2) without bias.
  assert.equal(exportModel(text, 'SUT_Halting', { fill: none }).storedParams, 107_249_664n + 2n * (512n * 512n + 512n + 512n * 2n));
});

// A Sparse Universal Transformer in miniature: MoA with relative positions in both stacks and
// cross-attention in the decoder, each stack one shared step under stick-breaking halting whose
// reach leaves real selections (3/4 and 1/4 of the source, 1/2 of the target, a step nobody reaches).
const TINY_SUT = `model TinySUT {
  d = ${d}
  block Enc {
    ln   = LayerNorm(d)
    attn = MoA(d, ${E}, ${K}, head_dim: ${hd}, expert_dim: ${ed}, router_hidden: d, rel_positions: 2, causal: false)
  }
  block Dec {
    ln    = LayerNorm(d)
    self  = MoA(d, ${E}, ${K}, head_dim: ${hd}, expert_dim: ${ed}, router_hidden: d, rel_positions: 2)
    xln   = LayerNorm(d)
    cross = MoA(d, ${E}, ${K}, head_dim: ${hd}, expert_dim: ${ed}, router_hidden: d, cross: true)
  }
  embed   = Embedding(20, d)
  encoder = Enc * 3
  tgt     = Embedding(20, d) tied embed
  decoder = Dec * 3
}
variant Halting of TinySUT {
  share encoder: all
  share decoder: all
  route encoder: halt(reach: [1, 3/4, 1/4], hidden: d, outputs: 2, out_bias: false)
  route decoder: halt(reach: [1, 1/2, 0], hidden: d, outputs: 2, out_bias: false)
}
`;

/**
 * TinySUT's halting, written from SUT's semantics as the export defines them (docs/probes.md,
 * "Per-token halting"): every token runs step 0; before step r the unit (Linear·GELU·Linear,
 * softmax[1] = continue) scores the tokens that ran step r − 1, the round(c_r·S) most likely to
 * continue run the step — attending one another only, at their true sequence distances — and
 * become x + p·(f(x) − x). Returns each target sequence's last state.
 */
function tinySutReference(r: ExportResult, src: readonly number[], tgt: readonly number[]): number[] {
  const w = weightsOf(r);
  const must = (n: string) => w(n) ?? assert.fail(`no initializer ${n}`);
  const row = (t: number) => Array.from(must('embed.weight').subarray(t * d, t * d + d));
  const ln = (x: number[], p: string) => layerNorm(x, must(`${p}.weight`), must(`${p}.bias`));
  const halting = (stack: string, reach: readonly number[], h: number[][], step: (x: number[][], pos: readonly number[]) => number[][]): number[][] => {
    const cont = (x: number[]) => {
      const hidden = plus(matvec(must(`${stack}.halt.hidden.weight`), d, d, x), must(`${stack}.halt.hidden.bias`)).map(gelu);
      const [halt, go] = matvec(must(`${stack}.halt.out.weight`), 2, d, hidden) as [number, number];
      return 1 / (1 + Math.exp(halt - go));
    };
    let active = h.map((_, p) => p);
    reach.forEach((c, s) => {
      if (s > 0 && c === 0) return;
      const picked = s === 0 ? active.map((p) => ({ p, g: 1 })) : active.map((p) => ({ p, g: cont(h[p]!) })).sort((a, b) => b.g - a.g).slice(0, Math.max(1, Math.round(c * h.length)));
      picked.sort((a, b) => a.p - b.p);
      const pos = picked.map((t) => t.p);
      const y = step(pos.map((p) => h[p]!), pos);
      picked.forEach(({ p, g }, i) => (h[p] = h[p]!.map((v, j) => v + g * (y[i]![j]! - v))));
      active = pos;
    });
    return h;
  };
  const residual = (x: number[][], f: number[][]) => x.map((r0, i) => r0.map((v, j) => v + f[i]![j]!));
  const memory = halting('encoder', [1, 3 / 4, 1 / 4], src.map(row), (x, pos) => {
    const xn = x.map((r0) => ln(r0, 'encoder[0].ln'));
    return residual(x, moaRef(w, 'encoder[0].attn', xn, xn, () => true, 2, (i) => pos[i]!).out);
  });
  const out = halting('decoder', [1, 1 / 2, 0], tgt.map(row), (x, pos) => {
    const xn = x.map((r0) => ln(r0, 'decoder[0].ln'));
    const x1 = residual(x, moaRef(w, 'decoder[0].self', xn, xn, (i, j) => j <= i, 2, (i) => pos[i]!).out);
    return residual(x1, moaRef(w, 'decoder[0].cross', x1.map((r0) => ln(r0, 'decoder[0].xln')), memory, () => true, 0).out);
  });
  return out.at(-1)!;
}

test('SUT halting: MoA\'s relative positions at the selected tokens\' true distances and cross-attention over the whole source, against the reference', async () => {
  const src = [[4, 9, 1, 16, 2, 7, 12, 5], [8, 3, 19, 0, 6, 14, 10, 11]];
  const tgt = [[3, 11, 5, 17, 9, 2], [15, 1, 7, 4, 13, 6]];
  for (const ops of ['standard', 'fused'] as const) {
    const r = exportModel(TINY_SUT, 'Halting', { ops });
    assert.equal(r.initializerElements, r.storedParams, ops);
    const expected = src.flatMap((s, b) => tinySutReference(r, s, tgt[b]!));
    assertClose(await runChecked(r, { input_ids: idRows(src), decoder_input_ids: idRows(tgt) }), expected, 1e-4, ops);
  }
});

test('the CPU probe measures an MoA model, prefill and decode, its decode cache the engine\'s KV', async () => {
  const text = spec(VARIANTS.relative!);
  const out = await runProbe({ specText: text, model: 'TinyMoA', ep: 'cpu', batch: 2, seq: 6, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(__dirname, '..', '..', 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  assert.equal(r.initializerElements, r.storedParams);
  assert.ok(!('unavailable' in r.decode), 'the decode step is measured');
  const engine = analyze(text, { seq: 6, batch: 2, dtype: 'fp32' }).models[0]!;
  assert.equal(String(engine.memory.kvCacheBytes / 4n), String(6 * 2 * ed * 2)); // 6 positions × 2·expert_dim × batch 2
  if (!('unavailable' in r.decode)) assert.equal(r.decode.kvCacheElements, String(engine.memory.kvCacheBytes / 4n));
});
