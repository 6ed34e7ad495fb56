// Generated weights on tiny models, run on onnxruntime-node's CPU provider: hashed (ROAST,
// STABLE-RPS), SSN template banks, MASA dictionaries and the LoRA family (tied_lora, aslora,
// vblora, mos). For each: the export loads and runs; its initializer elements equal the engine's
// params.stored; it computes what a dense (or plain-LoRA) twin computes whose weights are the
// generated W — generated here, in the test, from the stored values and the published formulas
// (not read from the graph); and the 'live' graph (generation on every forward) computes what the
// 'materialised' one does, while ONNX Runtime folds only the materialised one at session creation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExportError, exportModel, onnxBytes, type ExportOptions, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { seedOf } from '../../kernels/weights.js';
import { assertClose, runSynthetic } from './helpers.js';
import { CapturedIo } from '../cli/captured-io.js';

const D = 32;
const FFN = 64;
const L = 2;
const VOCAB = 61;
/** Widths of the model under test (ROAST is also checked at widths that are not whole tiles). */
let d = D;
let ffn = FFN;

let tiedHead = false;

const base = (extra: string) => `
block Layer(d, ffn) {
  attn_norm = LayerNorm(d)
  attn      = Attention(d, 4, bias: true)
  mlp_norm  = LayerNorm(d)
  mlp       = MLP(d, ffn)
}
model T(L = ${L}, d = ${d}) {
  embed = Embedding(${VOCAB}, d)
  body  = Layer(d: d, ffn: ${ffn}) * L
  norm  = LayerNorm(d)
  head  = Linear(d, ${VOCAB})${tiedHead ? ' tied embed' : ''}
}
variant G of T { ${extra} }
`;

/** The generated weights of T in the order the graph first reads them, with their shapes. */
function matrices(): { key: string; shape: [number, number] }[] {
  const out: { key: string; shape: [number, number] }[] = [];
  for (let i = 0; i < L; i++) {
    for (const n of ['q', 'k', 'v', 'o']) out.push({ key: `body[${i}].attn.${n}`, shape: [d, d] });
    out.push({ key: `body[${i}].mlp.up`, shape: [ffn, d] }, { key: `body[${i}].mlp.down`, shape: [d, ffn] });
  }
  return out;
}
const MATRICES = matrices();

/** Exports with a fill that records every stored tensor's values (the test's only view of the stored numbers). */
function exportRecorded(text: string, name: string, options: ExportOptions = {}): { r: ExportResult; stored: Map<string, Float32Array> } {
  const stored = new Map<string, Float32Array>();
  const fill: WeightFill = (key, shape, dtype, scale, offset) => {
    const raw = defaultFill(key, shape, dtype, scale, offset);
    stored.set(key, new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    return raw;
  };
  return { r: exportModel(text, name, { ...options, fill }), stored };
}

/** Every graph here runs on the same 2 × 5 synthetic ids. */
const run = (r: ExportResult): Promise<Float32Array> => runSynthetic(r, 2, 5, VOCAB);

function differs(a: Float32Array, b: Float32Array): boolean {
  return a.some((v, i) => Math.abs(v - b[i]!) > 1e-3 * (1 + Math.abs(v)));
}

/** The store a statement keyed by its offset has: the one recorded key with this prefix and suffix. */
function keyLike(stored: Map<string, Float32Array>, prefix: string, suffix = ''): string {
  const keys = [...stored.keys()].filter((k) => k.startsWith(prefix) && k.endsWith(suffix));
  assert.equal(keys.length, 1, `one store ${prefix}…${suffix}: ${keys.join(', ')}`);
  return keys[0]!;
}

/**
 * Checks one generated variant: counts, the dense twin with `weights` copied in (the twin is
 * `twinText`'s model G), and live == materialised. `weights` computes the twin's tensors from the
 * generated model's stored values.
 */
async function check(extra: string, twinExtra: string, weights: (stored: Map<string, Float32Array>) => Map<string, Float32Array>, generates = true): Promise<void> {
  const text = base(extra);
  const { r, stored } = exportRecorded(text, 'G');
  assert.equal(r.initializerElements, r.storedParams, `${extra}: initializer elements == params.stored`);
  const live = exportModel(text, 'G', { generation: 'live' });
  assert.equal(live.initializerElements, r.storedParams);
  assert.equal(live.generation.mode, 'live');
  assert.equal(r.generation.tensors > 0, generates, 'the graph generates tensors');
  const y = await run(r);
  assertClose(y, await run(live), 1e-5);
  const w = weights(stored);
  const twinFill: WeightFill = (key, shape, dtype, scale, offset) => {
    const v = w.get(key);
    if (!v) return defaultFill(key, shape, dtype, scale, offset);
    assert.equal(v.length, shape.reduce((a, b) => a * b, 1), `twin tensor ${key}`);
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  };
  const twinText = base(twinExtra);
  const twin = exportModel(twinText, 'G', { fill: twinFill });
  assertClose(y, await run(twin), 1e-4);
  // Without the generated weights the twin differs: the comparison can fail.
  assert.ok(differs(y, await run(exportModel(twinText, 'G'))), 'the twin with its own synthetic weights differs');
}

// ---- the formulas, written again here -------------------------------------------------------

const P = 2147483647n;

function roast(stored: Map<string, Float32Array>, scales: boolean): Map<string, Float32Array> {
  const M = stored.get(keyLike(stored, 'hash@'))!;
  const m = M.length;
  const out = new Map<string, Float32Array>();
  for (const { key, shape } of matrices()) {
    const [R, C] = shape;
    const salt = BigInt(seedOf(`${key}`) % (1 << 20));
    const bk = Math.min(32, R);
    const bn = Math.min(32, C);
    const TC = Math.ceil(C / bn);
    const lambda = scales ? stored.get(`${key}.hash_scale`)![0]! : 1;
    const W = new Float32Array(R * C);
    for (let r = 0; r < R; r++) {
      for (let c = 0; c < C; c++) {
        const t = BigInt(Math.floor(r / bk) * TC + Math.floor(c / bn));
        const h = Number(((1103515245n * (t + salt) + 12345n) % P) % BigInt(m - bk * bn + 1));
        const o = BigInt((r % bk) * bn + (c % bn));
        const g1 = ((69069n * (t + salt) + 1013904223n) % P) % 2n === 0n ? 1 : -1;
        const g2 = ((48271n * (o + salt) + 11n) % P) % 2n === 0n ? 1 : -1;
        const sign = g1 * g2;
        W[r * C + c] = Math.fround(Math.fround(sign * M[h + (r % bk) * bn + (c % bn)]!) * lambda);
      }
    }
    out.set(key, W);
  }
  return out;
}

function rps(stored: Map<string, Float32Array>, only?: string[]): Map<string, Float32Array> {
  const M = stored.get(keyLike(stored, 'hash@'))!;
  const m = BigInt(M.length);
  const out = new Map<string, Float32Array>();
  let p = 0n; // the statement's weights, flattened one after another in graph order
  for (const { key, shape } of MATRICES.filter((x) => !only || only.includes(x.key))) {
    const W = new Float32Array(shape[0] * shape[1]);
    for (let j = 0; j < W.length; j++, p++) {
      const q = p / m;
      const rot = ((1103515245n * ((q * m) % P) + 12345n) % P) % m;
      W[j] = M[Number(((p % m) + rot) % m)]!;
    }
    out.set(key, W);
  }
  return out;
}

function ssn(stored: Map<string, Float32Array>, params: number, templates: number, keys = MATRICES): Map<string, Float32Array> {
  const theta = stored.get('bank:g')!;
  assert.equal(theta.length, params);
  const out = new Map<string, Float32Array>();
  let cursor = 0;
  for (const { key, shape } of keys) {
    const n = shape[0] * shape[1];
    const K = Math.min(templates, Math.max(1, Math.floor(params / n)));
    const o = cursor + K * n <= params ? cursor : 0;
    cursor = o + K * n;
    const alpha = K >= 2 ? stored.get(`${key}.templates`)! : new Float32Array([1]);
    assert.equal(alpha.length, K);
    const W = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += alpha[k]! * theta[(o + k * n + j) % params]!;
      W[j] = s;
    }
    out.set(key, W);
  }
  return out;
}

function masa(stored: Map<string, Float32Array>, atoms: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const { key, shape } of MATRICES.filter((x) => x.key.includes('.attn.'))) {
    const name = key.slice(key.lastIndexOf('.') + 1);
    const Dk = stored.get(keyLike(stored, 'dict@', `:${name}:${shape.join('x')}`))!;
    const c = stored.get(`${key}.atoms`)!;
    const n = shape[0] * shape[1];
    const W = new Float32Array(n);
    for (let j = 0; j < n; j++) for (let s = 0; s < atoms; s++) W[j] = W[j]! + c[s]! * Dk[s * n + j]!;
    out.set(key, W);
  }
  return out;
}

/** LoRA twin factors: lora_a [r, d_in] and lora_b [d_out, r] from A [r, d_in] and Bᵀ [r, d_out]. */
function loraPair(out: Map<string, Float32Array>, target: string, a: Float32Array, bT: Float32Array, r: number, dOut: number): void {
  const b = new Float32Array(dOut * r);
  for (let i = 0; i < r; i++) for (let o = 0; o < dOut; o++) b[o * r + i] = bT[i * dOut + o]!;
  out.set(`${target}.lora_a`, a);
  out.set(`${target}.lora_b`, b);
}

const ATTN = (names: string[]) => MATRICES.filter((x) => names.some((n) => x.key.endsWith(`.attn.${n}`))).map((x) => x.key);

// ---- tests ---------------------------------------------------------------------------------

test('ROAST: tiles of one hashed memory with hashed signs == the dense twin', async () => {
  await check('hash body: roast(memory: 3000)', '', (s) => roast(s, false));
  await check('hash body: roast(memory: 3000, scales: true)', '', (s) => roast(s, true));
  // Widths that are not whole 32×32 tiles: the padded tile grid is cut to the weight.
  [d, ffn] = [40, 72];
  try {
    await check('hash body: roast(memory: 2500)', '', (s) => roast(s, false));
  } finally {
    [d, ffn] = [D, FFN];
  }
});

test('STABLE-RPS: RANDOMFOLD of the flattened weights into the memory == the dense twin', async () => {
  await check('hash body: rps(memory: 5000)', '', rps);
  // A memory smaller than a weight: the weight spans several partitions (the [Q, m] grid).
  await check('hash body: rps(memory: 700)', '', rps);
  // m ≥ n: every weight is a plain slice of the memory (a bijection).
  // m = n: the attention weights are a permutation of the memory (each slot read once).
  await check('hash body.attn: rps(memory: 8192)', '', (s) => {
    const out = new Map([...rps(s, ATTN(['q', 'k', 'v', 'o']))]);
    const M = s.get(keyLike(s, 'hash@'))!;
    const all = new Float32Array(8192);
    [...out.values()].forEach((w, i) => all.set(w, i * 1024));
    assert.deepEqual(all.sort(), M.slice().sort());
    return out;
  });
});

test('SSN template bank: weighted template averaging from one bank == the dense twin', async () => {
  await check('bank g = body: ssn(params: 9000, templates: 4)', '', (s) => ssn(s, 9000, 4));
  // Below one weight per layer: single templates tiled over the bank (no coefficients).
  await check('bank g = body: ssn(params: 1500, templates: 8)', '', (s) => ssn(s, 1500, 8));
  // A fixed bank (the allocator's plan) generates the embedding too.
  await check('bank g = embed, body: ssn(params: 9000, templates: 2, fixed: true)', '', (s) => ssn(s, 9000, 2, [{ key: 'embed.weight', shape: [VOCAB, D] }, ...MATRICES]));
  // A head tied to the generated embedding reads the generated table.
  tiedHead = true;
  try {
    await check('bank g = embed, body: ssn(params: 9000, templates: 2, fixed: true)', '', (s) => ssn(s, 9000, 2, [{ key: 'embed.weight', shape: [VOCAB, D] }, ...MATRICES]));
  } finally {
    tiedHead = false;
  }
});

test('MASA: each attention projection a mix of shared atoms == the dense twin', async () => {
  await check('dict body.attn: masa(atoms: 2)', '', (s) => masa(s, 2));
});

test('Tied-LoRA: shared A, B with per-target u, v == a LoRA twin with diag(u)·A and diag(v)·B', async () => {
  await check('adapt body.attn.q, body.attn.v: tied_lora(rank: 4)', 'adapt body.attn.q, body.attn.v: lora(rank: 4)', (s) => {
    const out = new Map<string, Float32Array>();
    const A = s.get(keyLike(s, 'tied_lora@', `:A:${D}x${D}`))!;
    const B = s.get(keyLike(s, 'tied_lora@', `:B:${D}x${D}`))!;
    for (const t of ATTN(['q', 'v'])) {
      const u = s.get(`${t}.tied_lora_u`)!;
      const v = s.get(`${t}.tied_lora_v`)!;
      out.set(`${t}.lora_a`, A.map((x, i) => x * u[Math.floor(i / D)]!));
      out.set(`${t}.lora_b`, B.map((x, i) => x * v[Math.floor(i / 4)]!));
    }
    return out;
  }, false);
});

test('AS-LoRA: one A per width, the B groups taken in turn == a LoRA twin', async () => {
  await check('adapt body.attn: aslora(rank: 4, groups: 3)', 'adapt body.attn: lora(rank: 4)', (s) => {
    const out = new Map<string, Float32Array>();
    const A = s.get(keyLike(s, 'aslora@', `:A:${D}`))!;
    const bank = s.get(keyLike(s, 'aslora@', `:B:${D}`))!;
    ATTN(['q', 'k', 'v', 'o']).forEach((t, turn) => {
      const g = turn % 3;
      out.set(`${t}.lora_a`, A);
      out.set(`${t}.lora_b`, bank.slice(g * D * 4, (g + 1) * D * 4));
    });
    return out;
  });
});

test('VB-LoRA: A and B as top-k mixes of one vector bank == a LoRA twin', async () => {
  const r = 4;
  const h = 10;
  const b = 16;
  const k = 2;
  await check(`adapt body.attn.q, body.attn.v: vblora(rank: ${r}, vectors: ${h}, length: ${b}, top_k: ${k})`, `adapt body.attn.q, body.attn.v: lora(rank: ${r})`, (s) => {
    const out = new Map<string, Float32Array>();
    const bank = s.get(keyLike(s, 'vblora@', ':bank'))!;
    for (const t of ATTN(['q', 'v'])) {
      const idx = s.get(`${t}.vblora_idx`)!;
      const w = s.get(`${t}.vblora_w`)!;
      const subs = Math.ceil((r * (D + D)) / b);
      const flat = new Float32Array(subs * b);
      for (let i = 0; i < subs; i++) {
        const w0 = w[i]!;
        const weights = [w0, 1 - w0];
        for (let j = 0; j < k; j++) {
          const row = Math.trunc(idx[i * k + j]!) % h;
          for (let e = 0; e < b; e++) flat[i * b + e] = flat[i * b + e]! + weights[j]! * bank[row * b + e]!;
        }
      }
      loraPair(out, t, flat.slice(0, r * D), flat.slice(r * D, r * 2 * D), r, D);
    }
    return out;
  });
});

test('MoS: vectors concatenated from global and private shards == a LoRA twin', async () => {
  const r = 4;
  const l = 4;
  const n = 6;
  const p = 1;
  await check(`adapt body.attn.q, body.attn.v: mos(rank: ${r}, shards: ${l}, pool: ${n}, private: ${p})`, `adapt body.attn.q, body.attn.v: lora(rank: ${r})`, (s) => {
    const out = new Map<string, Float32Array>();
    const len = D / l;
    const side = (t: string, sd: 'A' | 'B'): Float32Array => {
      const pool = s.get(keyLike(s, 'mos@', `:${sd}:${D}`))!;
      const own = s.get(`${t}.mos_${sd.toLowerCase()}`)!;
      const shards = new Float32Array([...pool, ...own]);
      const seed = seedOf(`${t}.mos:${sd}`);
      const v = new Float32Array(r * D);
      for (let i = 0; i < r * l; i++) {
        const pick = i < p ? n + i : (Math.imul(Math.imul(seed, i + 1), 2654435761) >>> 0) % (n + p);
        v.set(shards.subarray(pick * len, (pick + 1) * len), i * len);
      }
      return v;
    };
    for (const t of ATTN(['q', 'v'])) loraPair(out, t, side(t, 'A'), side(t, 'B'), r, D);
    return out;
  });
});

test('materialised generation is folded by ONNX Runtime at session creation; live generation is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-gen-'));
  try {
    const text = base('hash body: roast(memory: 3000)');
    const optimized = async (generation: 'materialised' | 'live'): Promise<string> => {
      const file = join(dir, `${generation}.onnx`);
      const s = await ort.InferenceSession.create(onnxBytes(exportModel(text, 'G', { generation })), { graphOptimizationLevel: 'all', optimizedModelFilePath: file });
      await s.release();
      return readFileSync(file).toString('latin1');
    };
    // The index arithmetic's node outputs (roast_idx_…) survive only where the subgraph runs.
    assert.doesNotMatch(await optimized('materialised'), /roast_idx_|live_one_/);
    assert.match(await optimized('live'), /roast_idx_/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MoE experts are generated per copy (hash, bank, dict); the router stays stored', async () => {
  const moe = (extra: string) => `
model M {
  embed = Embedding(${VOCAB}, 24)
  block B {
    n = RMSNorm(24)
    a = Attention(24, 4)
    m = RMSNorm(24)
    f = MoE(24, 16, experts: 4, top_k: 2, shared: 1)
  }
  body = B * 2
  head = Linear(24, ${VOCAB})
}
variant G of M { ${extra} }
`;
  for (const extra of ['hash body.f: roast(memory: 1000)', 'bank g = body.f: ssn(params: 3000, templates: 3)', 'dict body.f: masa(atoms: 2)']) {
    const r = exportModel(moe(extra), 'G', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, extra);
    assert.ok(r.generation.tensors >= 2 * 3 * 5, `${extra}: every expert copy generated`);
    assertClose(await run(r), await run(exportModel(moe(extra), 'G', { ops: 'standard', generation: 'live' })), 1e-5);
  }
});

test('fp16 generated graphs run on CPU and stay close to fp32', async () => {
  for (const extra of ['hash body: roast(memory: 3000, scales: true)', 'hash body: rps(memory: 700)', 'bank g = body: ssn(params: 9000, templates: 4)', 'adapt body.attn.q: vblora(rank: 4, vectors: 10, length: 16, top_k: 2)\n  adapt body.attn.v: mos(rank: 4, shards: 4, pool: 6, private: 1)']) {
    for (const generation of ['materialised', 'live'] as const) {
      const half = exportModel(base(extra), 'G', { dtype: 'fp16', generation });
      assert.equal(half.initializerElements, half.storedParams);
      assertClose(await run(exportModel(base(extra), 'G')), await run(half), 5e-2);
    }
  }
});

test('the engine counts generation MACs the graph performs (SSN, MASA)', () => {
  for (const extra of ['bank g = body: ssn(params: 9000, templates: 4)', 'dict body.attn: masa(atoms: 2)']) {
    const r = exportModel(base(extra), 'G');
    assert.equal(r.report.flops.generationPerStep, 6n * r.generation.macs, extra);
  }
});

test('what cannot be generated is refused by name', () => {
  assert.throws(() => exportModel(base('hash body: roast(memory: 100)'), 'G'), (e: unknown) => e instanceof ExportError && /body\[0\]\.attn\.q: a ROAST memory of 100 parameters is smaller than one 32×32 tile/.test(e.message));
  assert.throws(() => exportModel(base('hash body.attn: roast(memory: 3000)\n  dict body.attn: masa(atoms: 2)'), 'G'), (e: unknown) => e instanceof ExportError && /body\[0\]\.attn\.q: hash and dict both generate this weight/.test(e.message));
  tiedHead = true;
  try {
    assert.throws(() => exportModel(base('bank g = embed, head: ssn(params: 9000, templates: 2, fixed: true)'), 'G'), (e: unknown) => e instanceof ExportError && /head\.weight: a tied weight under hash\/bank\/dict\/factorize is not supported/.test(e.message));
  } finally {
    tiedHead = false;
  }
});

test('--generation on npas export-onnx and npas probe: materialised by default, live on request, the probe says which', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const { runProbeCommand } = await import('../../src/cli/commands/probe.js');
  const host = join(__dirname, '..', '..', 'kernels', 'probe-host.ts');
  const dir = mkdtempSync(join(tmpdir(), 'npas-gen-cli-'));
  try {
    const text = base('bank g = body: ssn(params: 9000, templates: 4)');
    const spec = join(dir, 'bank.npas');
    writeFileSync(spec, text);
    const io = new CapturedIo((p: string) => (p === spec ? text : ''));
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'G', '-o', join(dir, 'g.onnx')], io), 0, io.err);
    assert.match(io.out, /generated: 12 tensors built in the graph from the stored ones \(65,536 multiply-adds\); materialised/);
    io.out = '';
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'G', '-o', join(dir, 'g.onnx'), '--generation', 'live'], io), 0, io.err);
    assert.match(io.out, /live: rebuilt on every run/);
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'G', '-o', join(dir, 'g.onnx'), '--generation', 'cached'], io), 2);
    assert.match(io.err, /--generation must be materialised or live; got 'cached'/);
    for (const mode of ['materialised', 'live'] as const) {
      io.out = '';
      io.err = '';
      const args = [spec, '--model', 'G', '--ep', 'cpu', '--seq', '8', '--runs', '1', '--warmup', '0', '--json', ...(mode === 'live' ? ['--generation', 'live'] : [])];
      assert.equal(await runProbeCommand(args, io, { hostPath: host }), 0, io.err);
      const r = JSON.parse(io.out) as { generation?: { mode: string; tensors: number; macs: string; inMeasuredTime: boolean }; notes: string[]; initializerElements: string; storedParams: string };
      assert.deepEqual(r.generation, { mode, tensors: 12, macs: '65536', inMeasuredTime: mode === 'live' });
      assert.equal(r.initializerElements, r.storedParams);
      assert.match(r.notes.join('\n'), mode === 'live' ? /Generation is in every measured run: 12 generated tensors .*the engine counts 65536 generation multiply-adds/ : /Generation is not in the measured time: 12 generated tensors/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
