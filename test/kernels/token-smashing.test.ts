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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProbe } from '../../kernels/probe-client.js';
import { ExportError, exportModel, onnxBytes, type ExportResult } from '../../kernels/export.js';
import * as ort from 'onnxruntime-node';
import { assertClose, idRows, initializer, matvec, maybeInitializer, prefillCacheFill, runChecked } from './helpers.js';
import { CapturedIo } from '../cli/captured-io.js';

const D = 8;
const HEADS = 2;
const HD = D / HEADS;
const F = 16;
const OUT = 12;
/** The tiny model: a pre MLP, two attention layers, `after` (members after the stack) and a head. */
const tiny = (name: string, after = '') => `model ${name} {
  d = ${D}
  block Layer {
    attn = Attention(d, ${HEADS})
    mlp  = MLP(d, ${F}, act: relu)
  }
  embed = Embedding(20, d)
  pre   = MLP(d, ${F}, act: relu)
  body  = Layer * 2${after}
  head  = Linear(d, ${OUT})
}
`;
const TEXT = `${tiny('Tiny')}variant Two of Tiny {
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

// A model whose smashed stack is followed by an unsmashed layer with attention (HAMburger's
// micro-step decoder runs per token, with a cache of its own): the micro steps read that cache.
const TAIL = `${tiny('TinyTail', '\n  post  = Layer')}variant TwoTail of TinyTail {
  smash body: tokens(2)
}
`;

/** All outputs of one run, by name. */
async function runAll(r: ExportResult, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(onnxBytes(r));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

test('token smashing decode: a macro step then a micro step — the smashed members once per group, the token after reads the group\'s state (the macro step\'s output) — equal the prefill where the group\'s tokens bring one state; smashed KV per token 1/r', async () => {
  // r = 2: tokens 4 and 5 form group 2. The macro step of token 4 runs the smashed stack once and
  // writes its entry 2; the micro step of token 5 runs only the unsmashed members (pre, post and
  // head, post over its per-token cache), the smashed stack's state read from the macro step. A
  // prefill's group position is the mean of its tokens' states, so with token 5 = token 4 (one
  // state) the micro step is the 6-token prefill's last position.
  const rows = IDS.map((row) => [...row.slice(0, 5), row[4]!]);
  const prefill = (n: number) => runChecked(exportModel(TAIL, 'TwoTail', { ops: 'standard' }), { input_ids: idRows(rows.map((row) => row.slice(0, n))) });
  const at = (past: number) => ({ seq: past, batch: 2, dtype: 'fp32' as const });
  for (const ops of ['standard', 'fused'] as const) {
    const macro = exportModel(TAIL, 'TwoTail', { ops, fill: (await prefillCacheFill(TAIL, 'TwoTail', rows.map((row) => row.slice(0, 4)))).fill, decode: { batch: 2, past: 4 }, analysis: at(4) });
    const micro = exportModel(TAIL, 'TwoTail', { ops, fill: (await prefillCacheFill(TAIL, 'TwoTail', rows.map((row) => row.slice(0, 5)))).fill, decode: { batch: 2, past: 5, micro: true }, analysis: at(5) });
    for (const r of [macro, micro]) assert.equal(r.initializerElements, r.storedParams, ops); // the micro step's unread smashed stores included
    const m = await runAll(macro, { input_ids: idRows(rows.map((row) => [row[4]!])) });
    assertClose(m.last_token!.data as Float32Array, await prefill(5), 1e-5, `macro ${ops}`);
    const y = await runAll(micro, { input_ids: idRows(rows.map((row) => [row[5]!])), smashed_state: m.smashed_state! });
    assertClose(y.last_token!.data as Float32Array, await prefill(6), 1e-5, `micro ${ops}`);
    // The micro step's token_state is the state it brings to its group: token 5's = token 4's here.
    assert.deepEqual(y.token_state!.dims, [2, D]);
    // The micro step runs no smashed layer: its nodes read none of the body's stores.
    const read = new Set(micro.spec.graph.nodes.flatMap((n) => n.inputs));
    assert.ok(!read.has('body[0].attn.q') && !read.has('body[1].mlp.up') && read.has('post.attn.q'), ops);
    // KV, by hand (2·d per entry, batch 2): the macro step reads the body's ⌈4 / 2⌉ = 2 entries per
    // layer and post's 4 positions; the micro step only post's 5 (no smashed cache is read).
    assert.equal(macro.kvCacheElements, BigInt((2 * 2 + 4) * 2 * D * 2), ops);
    assert.equal(macro.kvCacheElements * 4n, macro.report.kvCacheBytes, ops);
    assert.equal(micro.kvCacheElements, BigInt(5 * 2 * D * 2), ops);
    // The two steps write 2 smashed entries (one per body layer) and 2 of post for 2 tokens: the
    // engine's KV from 4 to 6 tokens grows by exactly that, 1/r entry per token in the smashed layers.
    const kvAt = (seq: number) => exportModel(TAIL, 'TwoTail', { analysis: { seq, batch: 2, dtype: 'fp32' } }).report.kvCacheBytes;
    assert.equal(kvAt(6) - kvAt(4), BigInt((2 * 1 + 1 * 2) * 2 * D * 2 * 4));
  }
  // Members smashed at two factors have no one group state to read.
  assert.throws(() => exportModel(TEXT, 'Mixed', { decode: { batch: 1, past: 5, micro: true } }), (e: unknown) => e instanceof ExportError && /micro step of members smashed at 2 factors/.test(e.message));
});

test('npas export-onnx --decode-past S --micro-step writes the micro step; without --decode-past it is a usage error', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const dir = mkdtempSync(join(tmpdir(), 'npas-micro-step-'));
  try {
    const spec = join(dir, 'm.npas');
    const out = join(dir, 'm.onnx');
    writeFileSync(spec, TAIL);
    const io = new CapturedIo(() => TAIL);
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'TwoTail', '-o', out, '--decode-past', '5', '--batch', '2', '--micro-step'], io), 0, io.err);
    const session = await ort.InferenceSession.create(out);
    try {
      assert.deepEqual([...session.inputNames].sort(), ['input_ids', 'smashed_state']);
      assert.deepEqual([...session.outputNames].sort(), ['last_token', 'token_state']);
    } finally {
      await session.release();
    }
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'TwoTail', '-o', out, '--micro-step'], io), 2);
    assert.match(io.err, /--micro-step applies to a decode graph \(--decode-past S\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
