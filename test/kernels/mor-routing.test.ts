// Mixture-of-Recursions routing (`route STACK: mor(…)`, kernels/layers/routing.ts) on ONNX
// Runtime's CPU provider: initializers = params.stored (the routers included); the graph computes
// what an independent reference computes — per recursion, the router's sigmoid scores of the
// still-active tokens, the top round(c·S) of them per sequence, the recursion's layers on those
// tokens only (attention among them, causal in sequence order; a borrower reads every token its
// producer cached, causal by position), and the gated update x + g·(f(x) − x) — with capacities 1 (every token,
// so the routed model is the plain recursive model with its gate) and below 1. The decode step is
// the reference code's (raymin0223/mixture_of_recursions@82c97f2, expert_choice_router.py: top_k =
// max(1, int(c·seq_len)) keeps the one token of a step): the new token through every recursion,
// gated, over the caches the prefill left each recursion; what a routed recursion cannot run is
// refused by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyze } from '../../src/core/index.js';
import { runProbe } from '../../kernels/probe-client.js';
import { ExportError, exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows, prefillCacheFill, runChecked } from './helpers.js';

const SPEC = `
model Rec {
  block B {
    a = Attention(8, 2)
    f = MLP(8, 16, act: relu)
  }
  embed = Embedding(20, 8)
  mid   = B * 4
}
variant Full of Rec {
  share mid: cycle(2)
  route mid: mor(recursions: 2, capacity: [1, 1])
}
variant Half of Rec {
  share mid: cycle(2)
  route mid: mor(recursions: 2, capacity: [1, 1/2])
}
variant Thirds of Rec {
  route mid: mor(recursions: 4, capacity: [1, 2/3, 1/2, 1/3])
}
variant FullKv of Rec {
  share mid: cycle(2)
  route mid: mor(recursions: 2, capacity: [1, 1])
  share kv mid: tied
}
variant HalfKv of Rec {
  share mid: cycle(2)
  route mid: mor(recursions: 2, capacity: [2/3, 1/3])
  share kv mid: tied
}
`;

const D = 8;
const HEADS = 2;
const HD = 4;

type Vec = Float64Array;

/** The initializers of an export, by name, as float64 arrays. */
function weights(r: ExportResult): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const t of r.spec.graph.initializers) out.set(t.name, Float64Array.from(new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength))));
  return out;
}

/** y = W·x (+ b) for W [out, in]. */
function linear(w: Float64Array, x: Vec, out: number, b?: Float64Array): Vec {
  const n = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < n; i++) s += w[o * n + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

interface Spec {
  readonly n: number;
  readonly capacities: readonly [number, number][];
  /** Store slot of instance i. */
  readonly slot: (i: number) => number;
  /** The instance whose K/V instance i reads (itself when it produces). */
  readonly producer: (i: number) => number;
}

/**
 * The reference: one sequence of token ids → the last token's hidden state. `decodeLast`: the last
 * token is a decode step's — the recursions select among the others as a prefill of them does,
 * and keep the last token too (a step's top_k of its one token).
 */
function reference(w: Map<string, Float64Array>, tokens: readonly number[], spec: Spec, decodeLast = false): Vec {
  const get = (k: string) => {
    const v = w.get(k);
    assert.ok(v, `initializer ${k}`);
    return v;
  };
  const S = tokens.length - (decodeLast ? 1 : 0);
  const E = get('embed.weight');
  const h: Vec[] = tokens.map((t) => E.slice(t * D, t * D + D));
  const R = spec.capacities.length;
  let active = Array.from({ length: S }, (_, i) => i);
  const gateOf = (router: Float64Array, p: number) => 1 / (1 + Math.exp(-h[p]!.reduce((s, x, i) => s + x * router[i]!, 0)));
  /** K/V per producing instance, by sequence position. */
  const kvOf = new Map<number, Map<number, { pos: number; k: Vec; v: Vec }>>();
  for (let r = 0; r < R; r++) {
    const router = get(`mid.router[${r}]`);
    const scores = active.map((p) => gateOf(router, p));
    const [num, den] = spec.capacities[r]!;
    const k = Math.max(1, Math.floor((2 * num * S + den) / (2 * den)));
    const top = scores.map((s, j) => [s, j] as const).sort((a, b) => b[0] - a[0]).slice(0, k);
    const chosen = top.map(([s, j]) => ({ pos: active[j]!, gate: s })).sort((a, b) => a.pos - b.pos);
    if (decodeLast) chosen.push({ pos: S, gate: gateOf(router, S) });
    const x = chosen.map((c) => h[c.pos]!);
    let y = x.map((v) => v.slice());
    const start = Math.ceil((r * spec.n) / R);
    const end = Math.ceil(((r + 1) * spec.n) / R);
    for (let i = start; i < end; i++) {
      const s = `mid[${spec.slot(i)}]`;
      // Attention (2 heads of 4, causal among the selected tokens), residual.
      const q = y.map((v) => linear(get(`${s}.a.q`), v, D));
      const prod = spec.producer(i);
      /** Keys of the selected tokens: their own (a producer), or the producer's cache whole, by position. */
      let kv: { pos: number; k: Vec; v: Vec }[];
      if (prod === i) {
        kv = y.map((v, j) => ({ pos: chosen[j]!.pos, k: linear(get(`${s}.a.k`), v, D), v: linear(get(`${s}.a.v`), v, D) }));
        kvOf.set(i, new Map(kv.map((e) => [e.pos, e])));
      } else {
        // A borrower reads every token its producer cached (recursive KV sharing): one that left
        // after the producer's recursion keeps the K/V it wrote there.
        kv = [...kvOf.get(prod)!.values()].sort((a, b) => a.pos - b.pos);
      }
      const att = y.map((_, t) => {
        const o = new Float64Array(D);
        const seen = kv.filter((e) => e.pos <= chosen[t]!.pos); // causal by true position
        for (let hh = 0; hh < HEADS; hh++) {
          const logits: number[] = [];
          for (const e of seen) {
            let dot = 0;
            for (let c = 0; c < HD; c++) dot += q[t]![hh * HD + c]! * e.k[hh * HD + c]!;
            logits.push(dot / Math.sqrt(HD));
          }
          const m = Math.max(...logits);
          const p = logits.map((l) => Math.exp(l - m));
          const z = p.reduce((a, b) => a + b, 0);
          seen.forEach((e, u) => {
            for (let c = 0; c < HD; c++) o[hh * HD + c]! += (p[u]! / z) * e.v[hh * HD + c]!;
          });
        }
        return linear(get(`${s}.a.o`), o, D);
      });
      y = y.map((v, t) => v.map((a, e) => a + att[t]![e]!));
      // MLP (ReLU, biases), residual.
      y = y.map((v) => {
        const up = linear(get(`${s}.f.up`), v, 16, get(`${s}.f.up_bias`)).map((a) => Math.max(a, 0));
        const down = linear(get(`${s}.f.down`), up, D, get(`${s}.f.down_bias`));
        return v.map((a, e) => a + down[e]!);
      });
    }
    chosen.forEach((c, j) => {
      h[c.pos] = x[j]!.map((a, e) => a + c.gate * (y[j]![e]! - a));
    });
    active = chosen.map((c) => c.pos).filter((p) => p < S);
  }
  return h[tokens.length - 1]!;
}

const runOrt = (r: ExportResult, batch: number[][]): Promise<Float32Array> => runChecked(r, { input_ids: idRows(batch) });

const cycle2: Pick<Spec, 'n' | 'slot'> = { n: 4, slot: (i) => i % 2 };
const CASES: Record<string, Spec> = {
  Full: { ...cycle2, capacities: [[1, 1], [1, 1]], producer: (i) => i },
  Half: { ...cycle2, capacities: [[1, 1], [1, 2]], producer: (i) => i },
  Thirds: { n: 4, slot: (i) => i, capacities: [[1, 1], [2, 3], [1, 2], [1, 3]], producer: (i) => i },
  // `share kv mid: tied`: the first instance using a store produces, later ones borrow.
  HalfKv: { ...cycle2, capacities: [[2, 3], [1, 3]], producer: (i) => i % 2 },
};

const BATCH = [
  [3, 17, 5, 19, 11, 2, 8],
  [4, 4, 13, 0, 9, 16, 1],
];

for (const [name, spec] of Object.entries(CASES)) {
  test(`MoR ${name}: initializers = params.stored (routers included) and ONNX Runtime matches the reference routing`, async () => {
    for (const ops of ['fused', 'standard'] as const) {
      const r = exportModel(SPEC, name, { ops });
      assert.equal(r.initializerElements, r.storedParams, `${name}: ${r.initializerElements} vs ${r.storedParams}`);
      const routers = r.spec.graph.initializers.filter((t) => /^mid\.router\[\d+\]$/.test(t.name));
      assert.equal(routers.length, spec.capacities.length);
      const y = await runOrt(r, BATCH);
      const w = weights(r);
      BATCH.forEach((seq, b) => {
        const ref = reference(w, seq, spec);
        for (let e = 0; e < D; e++) {
          const got = y[b * D + e]!;
          assert.ok(Math.abs(got - ref[e]!) <= 1e-4 * (1 + Math.abs(ref[e]!)), `${name} (${ops}) batch ${b} element ${e}: ONNX ${got}, reference ${ref[e]}`);
        }
      });
    }
  });
}

test('MoR: capacity is honoured — the same stores with capacity 1/2 in the second recursion give another output', async () => {
  // Same stores for Full and Half (cycle(2), routers mid.router[0..1]): only the capacity differs.
  const full = await runOrt(exportModel(SPEC, 'Full'), BATCH);
  const half = await runOrt(exportModel(SPEC, 'Half'), BATCH);
  let diff = 0;
  full.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - half[i]!))));
  assert.ok(diff > 1e-3, 'capacity 1/2 changes the output');
});

test('MoR: an fp16 graph runs on the CPU provider and stays close to fp32', async () => {
  const half = await runOrt(exportModel(SPEC, 'HalfKv', { dtype: 'fp16' }), BATCH);
  const full = await runOrt(exportModel(SPEC, 'HalfKv', { dtype: 'fp32' }), BATCH);
  full.forEach((v, i) => assert.ok(Math.abs(v - half[i]!) <= 0.02 * (1 + Math.abs(v)), `element ${i}: fp16 ${half[i]} vs fp32 ${v}`));
});

test('MoR: the examples export their prefill with initializers = params.stored', () => {
  const text = `
model SmolTiny(L = 8) {
  block Decoder {
    attn_norm = RMSNorm(24)
    attn      = Attention(24, heads: 6, kv_heads: 2, head_dim: 4)
    mlp_norm  = RMSNorm(24)
    mlp       = GatedMLP(24, 40)
  }
  embed   = Embedding(50, 24)
  first   = Decoder
  middle  = Decoder * (L - 2)
  last    = Decoder
  norm    = RMSNorm(24)
  lm_head = Linear(24, 50) tied embed
}
variant MoR3 of SmolTiny {
  share middle: cycle(2)
  route middle: mor(recursions: 3)
}
variant MoR3KVShare of SmolTiny {
  share middle: cycle(2)
  route middle: mor(recursions: 3)
  share kv middle: tied
}`;
  for (const name of ['MoR3', 'MoR3KVShare']) {
    const r = exportModel(text, name);
    assert.equal(r.initializerElements, r.storedParams, name);
    const engine = analyze(text, {}).models.find((m) => m.name === name)!;
    assert.equal(r.storedParams, engine.params.stored);
  }
});

test('MoR decode: the new token through every recursion, gated, over the caches the prefill left each recursion (recursion-wise caching, recursive KV sharing); KV = the engine\'s, initializers = params.stored', async () => {
  const past = BATCH[0]!.length - 1;
  const prefix = BATCH.map((r) => r.slice(0, past));
  for (const name of ['Full', 'FullKv', 'Half', 'Thirds', 'HalfKv']) {
    const spec = CASES[name] ?? { ...cycle2, capacities: [[1, 1], [1, 1]], producer: (i: number) => i % 2 };
    const { fill } = await prefillCacheFill(SPEC, name, prefix);
    // KV by hand: each producing instance i of recursion r caches max(1, round(c_r·past)) positions,
    // K and V of 2 heads × 4 per position, per sequence; a borrower caches none.
    let kv = 0n;
    const R = spec.capacities.length;
    for (let i = 0; i < spec.n; i++) {
      if (spec.producer(i) !== i) continue;
      const [num, den] = spec.capacities[Math.floor((i * R) / spec.n)]!;
      kv += BigInt(Math.max(1, Math.floor((2 * num * past + den) / (2 * den)))) * 2n * BigInt(D) * BigInt(BATCH.length);
    }
    for (const ops of ['standard', 'fused'] as const) {
      const what = `${name} (${ops})`;
      const r = exportModel(SPEC, name, { ops, fill, decode: { batch: BATCH.length, past }, analysis: { seq: past, batch: BATCH.length, dtype: 'fp32' } });
      assert.equal(r.initializerElements, r.storedParams, what);
      assert.equal(r.kvCacheElements, kv, what);
      assert.equal(r.kvCacheElements * 4n, r.report.kvCacheBytes, what);
      const y = await runOrt(r, BATCH.map((row) => [row[past]!]));
      const w = weights(r);
      BATCH.forEach((seq, b) => {
        const ref = reference(w, seq, spec, true);
        for (let e = 0; e < D; e++) assert.ok(Math.abs(y[b * D + e]! - ref[e]!) <= 1e-4 * (1 + Math.abs(ref[e]!)), `${what} batch ${b} element ${e}: ONNX ${y[b * D + e]}, reference ${ref[e]}`);
      });
      // Capacity 1 everywhere: every token ran every recursion in the prefill too, so the step is
      // the prefill's last position.
      if (name === 'Full' || name === 'FullKv') assertClose(y, await runOrt(exportModel(SPEC, name, { ops: 'standard' }), BATCH), 1e-4, what);
    }
  }
});

test('MoR: what a routed recursion cannot run is refused by name', () => {
  const windowed = `model W {
  block B { a = Attention(8, 2, window: 4) }
  embed = Embedding(20, 8)
  mid = B * 2
}
variant R of W { route mid: mor(recursions: 2) }`;
  assert.throws(() => exportModel(windowed, 'R'), (e: unknown) => e instanceof ExportError && /^mid\[0\]\.a: a sliding window inside a routed recursion/.test(e.message));
});

test('the probe measures a routed model\'s prefill and its decode step on CPU', async () => {
  const out = await runProbe({ specText: SPEC, model: 'HalfKv', ep: 'cpu', batch: 1, seq: 12, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(__dirname, '..', '..', 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  assert.equal(r.initializerElements, r.storedParams);
  assert.ok(r.prefill.medianMs > 0 && r.prefill.roofline.seconds > 0);
  assert.ok(!('unavailable' in r.decode), 'the decode step is measured');
  assert.ok(r.notes.some((n) => n.startsWith('MoR routing: each of the 2 recursions')));
});
