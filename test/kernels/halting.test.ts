// Per-token halting (`route STACK: halt(…)`, kernels/layers/halting.ts) on ONNX Runtime's CPU
// provider: initializers = params.stored (the halting unit included, and the stores of a step
// nobody reaches), and the graph computes what the reference written here computes — every token
// through step 0; before step r ≥ 1 the unit's continue probability p of the tokens that ran step
// r − 1 (1 − σ(l) for ACT's one logit, softmax(l)[1] for stick-breaking's two), the top
// round(c_r·S) of them per sequence through step r, updated to x + p·(f(x) − x); steps with
// c_r = 0 not run. The decode step is that rule for one token over the caches a prefill left each
// step (equal to the prefill's last position where every reach is 0 or 1); under `share kv` a
// borrowing step reads the producer's K/V of every token, a halted token's last K/V copied forward;
// the probe measures both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runProbe } from '../../kernels/probe-client.js';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, gelu, idRows, initializer, matvec, maybeInitializer, prefillCacheFill, runChecked, sigmoid } from './helpers.js';

const D = 8;
const F = 16;
const N = 4;
const SPEC = `
model Rec {
  block B {
    f = MLP(${D}, ${F}, act: relu)
  }
  embed = Embedding(20, ${D})
  mid   = B * ${N}
}
variant Act of Rec {
  share mid: all
  route mid: halt(expected_depth: 5/2)
}
variant StickBreaking of Rec {
  route mid: halt(reach: [1, 3/4, 1/2, 1/4], hidden: 6, outputs: 2, out_bias: false)
}
variant Shallow of Rec {
  route mid: halt(expected_depth: 2)
}
variant TwoSteps of Rec {
  route mid: halt(steps: 2, expected_depth: 3/2)
}
`;

const IDS = [
  [3, 17, 8, 11, 2, 19],
  [5, 6, 0, 14, 9, 12],
];

interface Case {
  readonly name: string;
  /** Reach of each step as [num, den]. */
  readonly reach: readonly [number, number][];
  readonly steps: number;
  readonly slot: (i: number) => number;
  readonly unit: 'act' | 'stick';
  /** The unit's stored parameters, derived by hand. */
  readonly unitParams: number;
}

const CASES: readonly Case[] = [
  // D = 5/2 over 4 steps: reach [1, 1, 1/2, 0]; ACT's unit Linear(8, 1) + bias.
  { name: 'Act', reach: [[1, 1], [1, 1], [1, 2], [0, 1]], steps: 4, slot: () => 0, unit: 'act', unitParams: D + 1 },
  // Stick-breaking: Linear(8, 6) + bias, GELU, Linear(6, 2) without bias.
  { name: 'StickBreaking', reach: [[1, 1], [3, 4], [1, 2], [1, 4]], steps: 4, slot: (i) => i, unit: 'stick', unitParams: D * 6 + 6 + 6 * 2 },
  // D = 2: the last two instances are never run, but stored.
  { name: 'Shallow', reach: [[1, 1], [1, 1], [0, 1], [0, 1]], steps: 4, slot: (i) => i, unit: 'act', unitParams: D + 1 },
  // Two steps of two instances each; D = 3/2: half the tokens run the second.
  { name: 'TwoSteps', reach: [[1, 1], [1, 2]], steps: 2, slot: (i) => i, unit: 'act', unitParams: D + 1 },
];

/** The last token's state of each sequence, as the halting semantics above say. */
function reference(r: ExportResult, c: Case): number[] {
  const embed = initializer(r, 'embed.weight');
  const mlp = (i: number, x: number[]): number[] => {
    const s = `mid[${c.slot(i)}].f`;
    const up = matvec(initializer(r, `${s}.up`), x, F, maybeInitializer(r, `${s}.up_bias`)).map((v) => Math.max(0, v));
    const down = matvec(initializer(r, `${s}.down`), up, D, maybeInitializer(r, `${s}.down_bias`));
    return x.map((v, j) => v + down[j]!); // the block's residual MLP
  };
  const cont = (x: number[]): number => {
    if (c.unit === 'act') return 1 - sigmoid(matvec(initializer(r, 'mid.halt.weight'), x, 1, initializer(r, 'mid.halt.bias'))[0]!);
    const hidden = matvec(initializer(r, 'mid.halt.hidden.weight'), x, 6, initializer(r, 'mid.halt.hidden.bias')).map(gelu);
    const [halt, go] = matvec(initializer(r, 'mid.halt.out.weight'), hidden, 2) as [number, number];
    return Math.exp(go) / (Math.exp(halt) + Math.exp(go));
  };
  const ranges = Array.from({ length: c.steps }, (_, k) => [Math.ceil((k * N) / c.steps), Math.ceil(((k + 1) * N) / c.steps)] as const);
  return IDS.flatMap((ids) => {
    const S = ids.length;
    const h = ids.map((t) => Array.from(embed.subarray(t * D, (t + 1) * D)));
    let active = ids.map((_, p) => p);
    ranges.forEach(([start, end], step) => {
      const [num, den] = c.reach[step]!;
      if (step === 0) {
        for (const p of active) for (let i = start; i < end; i++) h[p] = mlp(i, h[p]!);
        return;
      }
      if (num === 0) return;
      const k = Math.max(1, Math.floor((2 * num * S + den) / (2 * den)));
      const scored = active.map((p) => ({ p, g: cont(h[p]!) })).sort((a, b) => b.g - a.g).slice(0, k);
      for (const { p, g } of scored) {
        let y = h[p]!;
        for (let i = start; i < end; i++) y = mlp(i, y);
        h[p] = h[p]!.map((v, j) => v + g * (y[j]! - v));
      }
      active = scored.map((s) => s.p).sort((a, b) => a - b);
    });
    return h[S - 1]!;
  });
}

test('halting: initializers = params.stored (the unit, unreached steps); the graph equals the reference of the expected-depth selection', async () => {
  for (const c of CASES) {
    for (const ops of ['standard', 'fused'] as const) {
      const r = exportModel(SPEC, c.name, { ops });
      assert.equal(r.initializerElements, r.storedParams, `${c.name} ${ops}`);
      assertClose(await runChecked(r, { input_ids: idRows(IDS) }), reference(r, c), 1e-5, `${c.name} ${ops}`);
    }
    // Stored: the model without the route (its sharing kept) plus the unit.
    const base = exportModel(SPEC.replace(/route mid: halt\([^)]*\)/g, ''), c.name).storedParams;
    assert.equal(exportModel(SPEC, c.name).storedParams - base, BigInt(c.unitParams), c.name);
  }
  // The unreached instances of Shallow are initializers no node reads.
  const shallow = exportModel(SPEC, 'Shallow', { ops: 'standard' });
  const read = new Set(shallow.spec.graph.nodes.flatMap((n) => n.inputs));
  assert.ok(!read.has('mid[2].f.up') && !read.has('mid[3].f.down'));
  assert.ok(read.has('mid[1].f.up'));
});

// Halting steps with attention (rotary), for the decode step: Whole reaches its first two steps
// with every token and never the third (every reach 0 or 1: the decode graph is the prefill's last
// position); Half reaches the third with half the tokens (reach [1, 1, 1/2]).
const ATTN = `
model RecAttn {
  block B {
    n = RMSNorm(${D})
    a = Attention(${D}, 2, head_dim: 4, rope: true)
    m = RMSNorm(${D})
    f = MLP(${D}, ${F})
  }
  embed = Embedding(20, ${D})
  mid   = B * 3
}
variant Whole of RecAttn {
  route mid: halt(expected_depth: 2, hidden: 4, outputs: 2)
}
variant Half of RecAttn {
  share mid: all
  route mid: halt(expected_depth: 5/2)
}
`;

test('halting decode: one token through every step some token reaches, over the caches the prefill left each step; = the prefill\'s last position when every reach is 0 or 1', async () => {
  const rows = [[3, 17, 8, 11, 2, 19], [5, 6, 0, 14, 9, 12]];
  const S = rows[0]!.length - 1;
  const prefill = exportModel(ATTN, 'Whole', { ops: 'standard' });
  const expected = await runChecked(prefill, { input_ids: idRows(rows) });
  const { fill, caches } = await prefillCacheFill(ATTN, 'Whole', rows.map((r) => r.slice(0, S)));
  assert.equal(caches, 2); // steps 0 and 1; step 2 is reached by nobody
  const decode = exportModel(ATTN, 'Whole', { ops: 'standard', fill, decode: { batch: 2, past: S }, analysis: { seq: S, batch: 2, dtype: 'fp32' } });
  assert.equal(decode.initializerElements, decode.storedParams); // step 2's stores too, read by no node
  // KV: steps 0 and 1 cache the S positions, 2 · (2 heads · 4) per position, per sequence; step 2 none.
  assert.equal(decode.kvCacheElements, 2n * BigInt(2 * S) * 2n * 8n);
  assert.equal(decode.kvCacheElements * 4n, decode.report.kvCacheBytes);
  assertClose(await runChecked(decode, { input_ids: idRows(rows.map((r) => [r[S]!])) }), expected, 1e-4);
  for (const ops of ['standard', 'fused'] as const) {
    // Reach [1, 1, 1/2] at past 8: the third step's cache holds round(8/2) = 4 positions, the
    // engine's c·past; the new token runs all three steps (the engine counts 5/2 of them).
    const half = exportModel(ATTN, 'Half', { ops, decode: { batch: 2, past: 8 }, analysis: { seq: 8, batch: 2, dtype: 'fp32' } });
    assert.equal(half.initializerElements, half.storedParams, ops);
    assert.equal(half.kvCacheElements, BigInt(2 * (8 + 8 + 4)) * 2n * 8n, ops);
    assert.equal(half.kvCacheElements * 4n, half.report.kvCacheBytes, ops);
    const y = await runChecked(half, { input_ids: idRows([[4], [7]]) });
    assert.equal(y.length, 2 * D, ops);
  }
});

// A halting stack whose later steps read the first step's K/V (`share kv mid: tied` after
// `share mid: all`): reach [1, 1, 1/2]. A token that halted after step 0 has no K/V of its own at
// a deeper step; a borrowing layer reads the producer's cache of every token, so a halted token
// stays a key with the K/V it wrote at step 0 — its last state copied forward, as ACT and SUT carry
// a halted token's state, at the cache the stack shares.
const SHARED_KV = `
model RecKv {
  block B {
    a = Attention(${D}, 2, head_dim: 4)
    f = MLP(${D}, ${F}, act: relu)
  }
  embed = Embedding(20, ${D})
  mid   = B * 3
}
variant HaltKv of RecKv {
  share mid: all
  share kv mid: tied
  route mid: halt(expected_depth: 5/2)
}
`;

/**
 * The last token's state under SHARED_KV's semantics, per sequence: step 0 on every token (its
 * K/V cached), then at step r the round(c_r·S) tokens with the highest continue probability run
 * the block, attending the step-0 K/V of every token at or before them, updated x + p·(f(x) − x).
 * `decodeLast`: the last token is a decode step's — it runs every step, the others are selected
 * among the first S − 1 as a prefill of them selects them.
 */
function sharedKvReference(r: ExportResult, rows: readonly (readonly number[])[], decodeLast: boolean): number[] {
  const embed = initializer(r, 'embed.weight');
  const w = (n: string) => initializer(r, `mid[0].${n}`);
  const reach: [number, number][] = [[1, 1], [1, 1], [1, 2]];
  return rows.flatMap((ids) => {
    const n = ids.length;
    const S = decodeLast ? n - 1 : n;
    const h = ids.map((t) => Array.from(embed.subarray(t * D, (t + 1) * D)));
    const keys: { k: number[]; v: number[] }[] = [];
    const block = (p: number, x: number[], produce: boolean): number[] => {
      if (produce) keys[p] = { k: matvec(w('a.k'), x, D), v: matvec(w('a.v'), x, D) };
      const q = matvec(w('a.q'), x, D);
      const o = new Array<number>(D).fill(0);
      for (let hh = 0; hh < 2; hh++) {
        const logits = keys.slice(0, p + 1).map((e) => e.k.slice(hh * 4, hh * 4 + 4).reduce((a, kk, c) => a + kk * q[hh * 4 + c]!, 0) / 2);
        const m = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - m));
        const z = e.reduce((a, b) => a + b, 0);
        keys.slice(0, p + 1).forEach((kv, u) => {
          for (let c = 0; c < 4; c++) o[hh * 4 + c]! += (e[u]! / z) * kv.v[hh * 4 + c]!;
        });
      }
      const y = x.map((v, j) => v + matvec(w('a.o'), o, D)[j]!);
      const up = matvec(w('f.up'), y, F, initializer(r, 'mid[0].f.up_bias')).map((v) => Math.max(0, v));
      const down = matvec(w('f.down'), up, D, initializer(r, 'mid[0].f.down_bias'));
      return y.map((v, j) => v + down[j]!);
    };
    // Step 0: every token, in order (each produces its K/V before the later ones attend it).
    for (let p = 0; p < n; p++) h[p] = block(p, h[p]!, true);
    let active = Array.from({ length: S }, (_, p) => p);
    for (let step = 1; step < 3; step++) {
      const [num, den] = reach[step]!;
      const k = Math.max(1, Math.floor((2 * num * S + den) / (2 * den)));
      const cont = (p: number) => 1 - sigmoid(matvec(initializer(r, 'mid.halt.weight'), h[p]!, 1, initializer(r, 'mid.halt.bias'))[0]!);
      const chosen = active.map((p) => ({ p, g: cont(p) })).sort((a, b) => b.g - a.g).slice(0, k);
      if (decodeLast) chosen.push({ p: S, g: cont(S) });
      const next = chosen.map(({ p, g }) => {
        const y = block(p, h[p]!, false);
        return { p, x: h[p]!.map((v, j) => v + g * (y[j]! - v)) };
      });
      for (const { p, x } of next) h[p] = x;
      active = chosen.map((c) => c.p).filter((p) => p < S).sort((a, b) => a - b);
    }
    return h[n - 1]!;
  });
}

test('halting with `share kv`: a borrowing step reads the producer\'s K/V of every token (a halted token\'s last K/V copied forward), prefill and decode over the prefill\'s cache; KV = the engine\'s', async () => {
  const rows = [[3, 17, 8, 11, 2, 19, 7], [5, 6, 0, 14, 9, 12, 1]];
  const S = rows[0]!.length - 1;
  for (const ops of ['standard', 'fused'] as const) {
    const prefill = exportModel(SHARED_KV, 'HaltKv', { ops });
    assert.equal(prefill.initializerElements, prefill.storedParams, ops);
    assertClose(await runChecked(prefill, { input_ids: idRows(rows) }), sharedKvReference(prefill, rows, false), 1e-4, `prefill ${ops}`);
  }
  const { fill, caches } = await prefillCacheFill(SHARED_KV, 'HaltKv', rows.map((r) => r.slice(0, S)));
  assert.equal(caches, 1); // the producer's; the two later steps borrow it
  for (const ops of ['standard', 'fused'] as const) {
    const decode = exportModel(SHARED_KV, 'HaltKv', { ops, fill, decode: { batch: 2, past: S }, analysis: { seq: S, batch: 2, dtype: 'fp32' } });
    assert.equal(decode.initializerElements, decode.storedParams, ops);
    // One cache, the producer's: S positions × K and V of 2 heads × 4, per sequence.
    assert.equal(decode.kvCacheElements, BigInt(2 * S * 2 * D), ops);
    assert.equal(decode.kvCacheElements * 4n, decode.report.kvCacheBytes, ops);
    assertClose(await runChecked(decode, { input_ids: idRows(rows.map((r) => [r[S]!])) }), sharedKvReference(decode, rows, true), 1e-4, `decode ${ops}`);
  }
});

test('halting: the probe measures the prefill and the decode step on CPU', async () => {
  const out = await runProbe({ specText: SPEC, model: 'StickBreaking', ep: 'cpu', batch: 2, seq: 8, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(process.cwd(), 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  assert.equal(out.result.initializerElements, out.result.storedParams);
  assert.ok(out.result.prefill.medianMs > 0);
  assert.ok(!('unavailable' in out.result.decode), 'the decode step is measured');
  assert.ok(out.result.notes.some((n) => n.startsWith('Per-token halting:')));
});
