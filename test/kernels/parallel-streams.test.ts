// Parallel streams (ParScale, `parallel streams(P, prefix: m, merge: NAME)`) in the ONNX export
// (kernels/layers/parallel-streams.ts), on the CPU provider: the ids tiled P times, each stream's
// m learned prefix keys and values in front of every causal self-attention, the streams merged by
// ParScale's aggregator (or averaged) before the merge member. Initializer elements =
// params.stored (prefixes and aggregator included); the graph computes what a plain-JS
// reference of the P streams computes with the same weights, prefill and a decode step whose
// cache holds each stream's prefix and past (the engine's KV: P·(S + m) positions per layer).

import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { ExportError, exportModel, onnxBytes, type ExportResult } from '../../kernels/export.js';
import { runProbe } from '../../kernels/probe-client.js';
import { analyze } from '../../src/core/index.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, runChecked } from './helpers.js';

const d = 8;
const H = 2;
const KV = 1;
const hd = 4;
const V = 20;
const L = 2;
const SPEC = `model TinyPar {
  d = ${d}
  block Layer {
    ln   = LayerNorm(d)
    attn = Attention(d, ${H}, kv_heads: ${KV})
  }
  embed = Embedding(${V}, d)
  body  = Layer * ${L}
  norm  = LayerNorm(d)
  head  = Linear(d, ${V})
}
variant Par of TinyPar {
  parallel streams(2, prefix: 3, merge: head)
}
variant ParMean of TinyPar {
  parallel streams(3, prefix: 2, merge: norm, aggregate: mean)
}
variant Plain of TinyPar {
  parallel 2
}
variant Workers of TinyPar {
  parallel workers(2)
}
`;
const PLANS: Record<string, { P: number; m: number; merge: 'head' | 'norm' | 'end'; mlp: boolean }> = {
  Par: { P: 2, m: 3, merge: 'head', mlp: true },
  ParMean: { P: 3, m: 2, merge: 'norm', mlp: false },
  Plain: { P: 2, m: 0, merge: 'end', mlp: false },
};

const weightsOf = (r: ExportResult) => {
  const W = new Map(r.spec.graph.initializers.map((t) => [t.name, new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength))]));
  return (n: string): Float32Array => W.get(n) ?? assert.fail(`no initializer ${n}`);
};
const matvec = (m: Float32Array, rows: number, cols: number, x: number[]): number[] => Array.from({ length: rows }, (_, o) => x.reduce((s, v, i) => s + m[o * cols + i]! * v, 0));
const layerNorm = (x: number[], g: Float32Array, b: Float32Array) => {
  const mu = x.reduce((a, v) => a + v, 0) / x.length;
  const va = x.reduce((a, v) => a + (v - mu) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mu) / Math.sqrt(va + 1e-5)) * g[i]! + b[i]!);
};

/**
 * The reference: per stream p, the layers with stream p's prefix rows in front of the keys and
 * values; the streams merged as the plan says; the head. Returns the last position's output and,
 * per stream and layer, the keys and values a decode step's cache holds (prefix, then past).
 */
function reference(r: ExportResult, name: string, tokens: readonly number[]): { out: number[]; caches: { k: number[][]; v: number[][] }[][] } {
  const w = weightsOf(r);
  const { P, m, merge, mlp } = PLANS[name]!;
  const G = H / KV;
  const caches: { k: number[][]; v: number[][] }[][] = [];
  const streams = Array.from({ length: P }, (_, p) => {
    let x = tokens.map((t) => Array.from(w('embed.weight').subarray(t * d, t * d + d)));
    caches.push([]);
    for (let l = 0; l < L; l++) {
      const at = `body[${l}]`;
      const xn = x.map((row) => layerNorm(row, w(`${at}.ln.weight`), w(`${at}.ln.bias`)));
      const prefix = (which: string) => Array.from({ length: m }, (_, j) => Array.from(w(`parallel.${at}.attn.${which}`).subarray((p * m + j) * KV * hd, (p * m + j + 1) * KV * hd)));
      const k = [...(m > 0 ? prefix('prefix_k') : []), ...xn.map((row) => matvec(w(`${at}.attn.k`), KV * hd, d, row))];
      const v = [...(m > 0 ? prefix('prefix_v') : []), ...xn.map((row) => matvec(w(`${at}.attn.v`), KV * hd, d, row))];
      caches[p]!.push({ k, v });
      x = x.map((row, i) => {
        const q = matvec(w(`${at}.attn.q`), H * hd, d, xn[i]!);
        const o: number[] = [];
        for (let h = 0; h < H; h++) {
          const kvh = Math.floor(h / G);
          const visible = Array.from({ length: m + i + 1 }, (_, j) => j); // the prefix, then positions 0..i
          const s = visible.map((j) => q.slice(h * hd, h * hd + hd).reduce((a, qv, c) => a + qv * k[j]![kvh * hd + c]!, 0) / Math.sqrt(hd));
          const mx = Math.max(...s);
          const e = s.map((z) => Math.exp(z - mx));
          const sum = e.reduce((a, b) => a + b, 0);
          for (let c = 0; c < hd; c++) o.push(visible.reduce((a, j, n) => a + (e[n]! / sum) * v[j]![kvh * hd + c]!, 0));
        }
        return row.map((a, c) => a + matvec(w(`${at}.attn.o`), d, H * hd, o)[c]!);
      });
    }
    return x.at(-1)!;
  });
  const norm = (x: number[]) => layerNorm(x, w('norm.weight'), w('norm.bias'));
  const head = (x: number[]) => matvec(w('head.weight'), V, d, x);
  const mean = (rows: number[][]) => rows[0]!.map((_, c) => rows.reduce((a, row) => a + row[c]!, 0) / rows.length);
  if (merge === 'end') return { out: mean(streams.map((x) => head(norm(x)))), caches };
  if (merge === 'norm') return { out: head(norm(mean(streams))), caches };
  const hs = streams.map(norm);
  if (!mlp) return { out: head(mean(hs)), caches };
  // ParScale's aggregator over the stream-major concatenation [h_0 | … | h_{P−1}].
  const z = matvec(w('parallel.aggregate.w1'), d, P * d, hs.flat()).map((u, i) => u + w('parallel.aggregate.b1')[i]!);
  const silu = z.map((u) => u / (1 + Math.exp(-u)));
  const logits = matvec(w('parallel.aggregate.w2'), P, d, silu).map((u, i) => u + w('parallel.aggregate.b2')[i]!);
  const mx = Math.max(...logits);
  const e = logits.map((u) => Math.exp(u - mx));
  const sum = e.reduce((a, b) => a + b, 0);
  const merged = hs[0]!.map((_, c) => hs.reduce((a, h, p) => a + (e[p]! / sum) * h[c]!, 0));
  return { out: head(merged), caches };
}

test('ParScale streams: initializers = params.stored (prefixes and aggregator), the prefill computes the reference', async () => {
  const rows = [[7, 2, 13, 5], [3, 3, 9, 0]];
  for (const name of Object.keys(PLANS)) {
    for (const ops of ['fused', 'standard'] as const) {
      const r = exportModel(SPEC, name, { ops });
      assert.equal(r.initializerElements, r.storedParams, `${name} ${ops}`);
      const got = await runChecked(r, { input_ids: idRows(rows) });
      assertClose(got, rows.flatMap((tokens) => reference(r, name, tokens).out), 1e-4, `${name} ${ops}`);
    }
  }
  // The prefixes and the aggregator are what the variant adds: 2 layers · 2·P·m·kv·hd + P·d² + d + d·P + P.
  assert.equal(exportModel(SPEC, 'Par').storedParams - exportModel(SPEC, 'TinyPar').storedParams, 2n * 2n * 2n * 3n * 1n * 4n + 2n * 64n + 8n + 16n + 2n);
});

test('ParScale decode: a step over each stream\'s cache of prefix and past equals the reference; KV = the engine\'s', async () => {
  const tokens = [7, 2, 13, 5, 11];
  const S = tokens.length - 1;
  for (const name of Object.keys(PLANS)) {
    const { P, m } = PLANS[name]!;
    const prefill = exportModel(SPEC, name);
    const whole = reference(prefill, name, tokens);
    // Cache rows p·B + b (B = 1): k transposed [P, KV, hd, m + S], v [P, KV, m + S, hd], the prefix then the past.
    const n = m + S;
    const layout = (l: number) => {
      const kT = new Float32Array(P * KV * hd * n);
      const vC = new Float32Array(P * KV * n * hd);
      for (let p = 0; p < P; p++) for (let s = 0; s < n; s++) for (let h = 0; h < KV; h++) for (let c = 0; c < hd; c++) {
        kT[((p * KV + h) * hd + c) * n + s] = whole.caches[p]![l]!.k[s]![h * hd + c]!;
        vC[((p * KV + h) * n + s) * hd + c] = whole.caches[p]![l]!.v[s]![h * hd + c]!;
      }
      return { kT, vC };
    };
    const caches = Array.from({ length: L }, (_, l) => layout(l));
    const fill: WeightFill = (key, shape, dtype, scale, offset) => {
      const hit = /^kv_cache\.body\[(\d)\]\.attn\.(k|v)$/.exec(key);
      if (!hit) return defaultFill(key, shape, dtype, scale, offset);
      const c = caches[Number(hit[1])]!;
      return new Uint8Array((hit[2] === 'k' ? c.kT : c.vC).buffer);
    };
    const decode = exportModel(SPEC, name, { decode: { batch: 1, past: S }, fill, analysis: { seq: S, batch: 1, dtype: 'fp32' }, ops: 'standard' });
    assert.equal(decode.initializerElements + decode.skippedParams, decode.storedParams, name);
    assert.equal(decode.skippedParams, BigInt(L * 2 * P * m * KV * hd), name); // the prefixes: the cache holds them
    assert.equal(decode.kvCacheElements * 4n, decode.report.kvCacheBytes, name);
    assertClose(await runChecked(decode, { input_ids: idRows([[tokens[S]!]]) }), reference(prefill, name, tokens).out, 1e-4, name);
  }
});

test('Hogwild! workers: the prompt prefilled once, and a decode step runs the P workers\' tokens [B, P] over each sequence\'s one cache', async () => {
  const S = 4;
  // The prompt is prefilled once: the Workers graph computes what the plain model computes.
  const prefill = exportModel(SPEC, 'Workers', { ops: 'standard' });
  assert.equal(prefill.initializerElements, prefill.storedParams);
  const prompt = { input_ids: idRows([[1, 5, 9, 13]]) };
  assertClose(await runChecked(prefill, prompt), await runChecked(exportModel(SPEC, 'TinyPar', { ops: 'standard' }), prompt), 1e-6, 'prefill');
  const ids = [[5, 9], [11, 3]]; // [B = 2 sequences, P = 2 workers]
  for (const ops of ['standard', 'fused'] as const) {
    const dec = exportModel(SPEC, 'Workers', { ops, decode: { batch: 2, past: S }, analysis: { seq: S, batch: 2, dtype: 'fp32' } });
    assert.equal(dec.initializerElements, dec.storedParams, ops);
    // One cache per sequence, not per worker: L layers · K and V · kv_heads · head_dim · S · B, the engine's.
    assert.equal(dec.kvCacheElements, BigInt(L * 2 * KV * hd * S * 2), ops);
    assert.equal(dec.kvCacheElements * 4n, dec.report.kvCacheBytes, ops);
    assert.deepEqual(dec.inputs.map((i) => i.decodeTokens), [2]);
    const session = await ort.InferenceSession.create(onnxBytes(dec));
    const out = (await session.run({ input_ids: idRows(ids) })).last_token!;
    await session.release();
    assert.deepEqual(out.dims, [4, V]);
    // Worker p of sequence b (row b·P + p) computes the plain model's decode step on its own token
    // over the same cache (same store keys and shapes: the same synthetic keys and values).
    const plain = exportModel(SPEC, 'TinyPar', { ops: 'standard', decode: { batch: 2, past: S } });
    for (let p = 0; p < 2; p++) {
      const single = await runChecked(plain, { input_ids: idRows(ids.map((row) => [row[p]!])) });
      for (let b = 0; b < 2; b++) assertClose((out.data as Float32Array).subarray((b * 2 + p) * V, (b * 2 + p + 1) * V), single.subarray(b * V, (b + 1) * V), 1e-5, `${ops}: worker ${p} of sequence ${b}`);
    }
  }
  // The engine's decode FLOPs are P times the plain model's; the cache stays one.
  const base = analyze(SPEC, { seq: S, batch: 2 }).models;
  const workers = base.find((m) => m.name === 'Workers')!;
  const plainReport = base.find((m) => m.name === 'TinyPar')!;
  assert.equal(workers.flops.decode, 2n * plainReport.flops.decode);
  assert.equal(workers.kvCacheBytes, plainReport.kvCacheBytes);
  // Another cache or a recurrent state under workers would be per worker: refused by name.
  const mamba = `model M { e = Embedding(${V}, ${d})\n m = Mamba(${d}, state: 2, conv: 2) }\nvariant W of M { parallel workers(2) }`;
  assert.throws(() => exportModel(mamba, 'W', { decode: { batch: 1, past: 2 } }), (e: unknown) => e instanceof ExportError && /^m: a decode step of Hogwild! workers/.test(e.message));
});

test('the ParScale-1.8B examples export at their exact sizes (P = 2, 8: prefixes and aggregator as initializers)', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'parscale.npas'), 'utf8');
  const none: WeightFill = () => new Uint8Array(0);
  for (const name of ['ParScale1_8B_P2', 'ParScale1_8B_P8']) {
    const r = exportModel(text, name, { fill: none });
    assert.equal(r.initializerElements, r.storedParams, name);
  }
  assert.equal(exportModel(text, 'ParScale1_8B_P8', { fill: none }).storedParams, 1_829_042_696n);
});

test('the CPU probe measures a ParScale variant, prefill and decode, its decode cache the engine\'s KV (prefixes included)', async () => {
  const out = await runProbe({ specText: SPEC, model: 'Par', ep: 'cpu', batch: 2, seq: 6, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(__dirname, '..', '..', 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  assert.equal(r.initializerElements, r.storedParams);
  assert.ok(!('unavailable' in r.decode), 'the decode step is measured');
  const engine = analyze(SPEC, { seq: 6, batch: 2, dtype: 'fp32' }).models.find((m) => m.name === 'Par')!;
  // 2 streams × 2 layers × (6 + 3 prefix) positions × 2·kv·hd × batch 2.
  assert.equal(String(engine.memory.kvCacheBytes / 4n), String(2 * 2 * (6 + 3) * 8 * 2));
  if (!('unavailable' in r.decode)) assert.equal(r.decode.kvCacheElements, String(engine.memory.kvCacheBytes / 4n));
  assert.ok(r.notes.some((n) => n.startsWith('Parallel streams (ParScale)')));
});
