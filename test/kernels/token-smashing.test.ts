// Token smashing (`smash MEMBERS: tokens(r)`, HAMburger) in the ONNX prefill
// (kernels/layers/token-smashing.ts): initializer elements = params.stored, and the graph's output
// on CPU equals a reference written here — the unsmashed members per token; token t in group
// ⌊t·n / S⌋ of n = ⌈S / r⌉; each position the mean of its group; the smashed members over the n
// positions (attention causal among them); each token back to its group's position. The engine's
// KV cache of the smashed stack (n entries per layer) is derived by hand. The decode step is the
// macro step writing entry ⌈S / r⌉ (checked against the prefill where the new token is alone in its
// group); the probe measures both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runProbe } from '../../kernels/probe-client.js';
import { ExportError, exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows, initializer, matvec, maybeInitializer, prefillCacheFill, runChecked } from './helpers.js';

const D = 8;
const HEADS = 2;
const HD = D / HEADS;
const F = 16;
const OUT = 12;
const TEXT = `model Tiny {
  d = ${D}
  block Layer {
    attn = Attention(d, ${HEADS})
    mlp  = MLP(d, ${F}, act: relu)
  }
  embed = Embedding(20, d)
  pre   = MLP(d, ${F}, act: relu)
  body  = Layer * 2
  head  = Linear(d, ${OUT})
}
variant Two of Tiny {
  smash body: tokens(2)
}
variant Frac of Tiny {
  smash body: tokens(5/3)
}
variant Tail of Tiny {
  smash body, head: tokens(3)
}
variant Mixed of Tiny {
  smash pre: tokens(2)
  smash body: tokens(3)
}
`;

const IDS = [
  [3, 17, 8, 11, 2, 19, 4],
  [5, 6, 0, 14, 9, 12, 1],
];

type Vec = number[];

/** The reference: per sequence, the last token's output; r of pre and body (1: not smashed). */
function reference(r: ExportResult, rPre: number, rBody: number): number[] {
  const w = (name: string) => initializer(r, name);
  const mlp = (s: string, x: Vec): Vec => {
    const up = matvec(w(`${s}.up`), x, F, maybeInitializer(r, `${s}.up_bias`)).map((v) => Math.max(0, v));
    const down = matvec(w(`${s}.down`), up, D, maybeInitializer(r, `${s}.down_bias`));
    return x.map((v, j) => v + down[j]!);
  };
  const attention = (s: string, xs: Vec[]): Vec[] => {
    const q = xs.map((x) => matvec(w(`${s}.q`), x, D));
    const k = xs.map((x) => matvec(w(`${s}.k`), x, D));
    const v = xs.map((x) => matvec(w(`${s}.v`), x, D));
    return xs.map((x, i) => {
      const ctx = new Array<number>(D).fill(0);
      for (let h = 0; h < HEADS; h++) {
        const logits = Array.from({ length: i + 1 }, (_, j) => {
          let dot = 0;
          for (let e = 0; e < HD; e++) dot += q[i]![h * HD + e]! * k[j]![h * HD + e]!;
          return dot / Math.sqrt(HD);
        });
        const top = Math.max(...logits);
        const ex = logits.map((l) => Math.exp(l - top));
        const total = ex.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= i; j++) for (let e = 0; e < HD; e++) ctx[h * HD + e]! += (ex[j]! / total) * v[j]![h * HD + e]!;
      }
      const o = matvec(w(`${s}.o`), ctx, D);
      return x.map((val, e) => val + o[e]!);
    });
  };
  /** Runs f over the states smashed at r (groups ⌊t·n/S⌋, means), then back to the tokens. */
  const smashed = (xs: Vec[], rr: number, f: (ps: Vec[]) => Vec[]): Vec[] => {
    if (rr === 1) return f(xs);
    const S = xs.length;
    const n = Math.ceil(S / rr - 1e-12);
    const group = xs.map((_, t) => Math.floor((t * n) / S));
    const means = Array.from({ length: n }, (_, j) => {
      const members = xs.filter((_, t) => group[t] === j);
      return Array.from({ length: D }, (_, e) => members.reduce((s, m) => s + m[e]!, 0) / members.length);
    });
    const ys = f(means);
    return xs.map((_, t) => ys[group[t]!]!);
  };
  return IDS.flatMap((ids) => {
    let xs = ids.map((t) => Array.from(w('embed.weight').subarray(t * D, (t + 1) * D)));
    xs = smashed(xs, rPre, (ps) => ps.map((x) => mlp('pre', x)));
    xs = smashed(xs, rBody, (ps) => {
      for (let l = 0; l < 2; l++) ps = attention(`body[${l}].attn`, ps).map((x) => mlp(`body[${l}].mlp`, x));
      return ps;
    });
    return matvec(w('head.weight'), xs[xs.length - 1]!, OUT, maybeInitializer(r, 'head.bias'));
  });
}

test('token smashing: the smashed members run over ⌈S / r⌉ positions; initializers = params.stored; the graph equals the reference', async () => {
  const plain = exportModel(TEXT, 'Tiny', { ops: 'standard' });
  for (const [name, rPre, rBody] of [
    ['Two', 1, 2],
    ['Frac', 1, 5 / 3],
    ['Tail', 1, 3],
    ['Mixed', 2, 3],
  ] as const) {
    for (const ops of ['standard', 'fused'] as const) {
      const r = exportModel(TEXT, name, { ops });
      assert.equal(r.initializerElements, r.storedParams, `${name} ${ops}`);
      assert.equal(r.storedParams, plain.storedParams, `${name}: smashing stores nothing`);
      assertClose(await runChecked(r, { input_ids: idRows(IDS) }), reference(r, rPre, rBody), 1e-5, `${name} ${ops}`);
    }
  }
  // Without the statement the same reference at r = 1 holds (the reference is not fitted to smashing).
  assertClose(await runChecked(plain, { input_ids: idRows(IDS) }), reference(plain, 1, 1), 1e-5, 'Tiny');
  // The engine's KV cache at S = 7 (fp32): 2 layers × n × 2·d × 4 B, n = ⌈7 / r⌉ — 4 at r = 2, 5 at r = 5/3, 3 at r = 3.
  const kv = (name: string) => exportModel(TEXT, name, { analysis: { seq: 7, batch: 1, dtype: 'fp32' } }).report.kvCacheBytes;
  assert.equal(kv('Tiny'), 2n * 7n * 2n * 8n * 4n);
  assert.equal(kv('Two'), 2n * 4n * 2n * 8n * 4n);
  assert.equal(kv('Frac'), 2n * 5n * 2n * 8n * 4n);
  assert.equal(kv('Tail'), 2n * 3n * 2n * 8n * 4n);
});

test('token smashing decode: the macro step writing entry ⌈S / r⌉ — the smashed members once on the new token, over the cached entries; = the prefill\'s last position when that token is alone in its group', async () => {
  // r = 2: a prefill of 5 tokens groups {0, 1}, {2, 3}, {4}; its prefix of 4 caches 2 entries per
  // smashed layer, and the step of token 4 writes the third, as the prefill's last position does.
  const rows = IDS.map((row) => row.slice(0, 5));
  const expected = await runChecked(exportModel(TEXT, 'Two', { ops: 'standard' }), { input_ids: idRows(rows) });
  const { fill, caches } = await prefillCacheFill(TEXT, 'Two', rows.map((row) => row.slice(0, 4)));
  assert.equal(caches, 2);
  const decode = exportModel(TEXT, 'Two', { ops: 'standard', fill, decode: { batch: 2, past: 4 }, analysis: { seq: 4, batch: 2, dtype: 'fp32' } });
  assert.equal(decode.initializerElements, decode.storedParams);
  assertClose(await runChecked(decode, { input_ids: idRows(rows.map((row) => [row[4]!])) }), expected, 1e-5);
  // The caches of the smashed layers hold ⌈S / r⌉ entries, the engine's KV, derived by hand:
  // 2 layers × ⌈7 / r⌉ entries × 2·d per sequence, batch 2.
  for (const [model, entries] of [['Two', 4], ['Frac', 5], ['Tail', 3], ['Mixed', 3]] as const) {
    for (const ops of ['standard', 'fused'] as const) {
      const step = exportModel(TEXT, model, { ops, decode: { batch: 2, past: 7 }, analysis: { seq: 7, batch: 2, dtype: 'fp32' } });
      assert.equal(step.initializerElements, step.storedParams, `${model} ${ops}`);
      assert.equal(step.kvCacheElements, BigInt(2 * entries * 2 * D * 2), `${model} ${ops}`);
      assert.equal(step.kvCacheElements * 4n, step.report.kvCacheBytes, `${model} ${ops}`);
      assert.equal((await runChecked(step, { input_ids: idRows([[4], [9]]) })).length, 2 * OUT, `${model} ${ops}`);
    }
  }
});

test('token smashing: a smashed embedding is refused by name; the probe measures the prefill and the decode step on CPU', async () => {
  assert.throws(() => exportModel(`${TEXT}\nvariant Embedded of Tiny { smash embed, pre, body: tokens(2) }\n`, 'Embedded'), (e: unknown) => e instanceof ExportError && /'embed': a smashed member/.test(e.message));
  const out = await runProbe({ specText: TEXT, model: 'Frac', ep: 'cpu', batch: 2, seq: 9, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(process.cwd(), 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  assert.equal(out.result.initializerElements, out.result.storedParams);
  assert.ok(out.result.prefill.medianMs > 0);
  assert.ok(!('unavailable' in out.result.decode), 'the decode step is measured');
  // ⌈9 / (5/3)⌉ = 6 entries per smashed layer: 2 layers × 6 × 2·d, batch 2.
  if (!('unavailable' in out.result.decode)) assert.equal(out.result.decode.kvCacheElements, String(2 * 6 * 2 * D * 2));
});
