// Factorised weights exported to ONNX and run on onnxruntime-node's CPU provider: FedPara, a
// tensor train and an MPO whose central tensor is shared across layers. For each: the export
// loads and runs; its initializer elements equal the engine's params.stored; it computes what a
// dense twin computes whose weights are W rebuilt here, in the test, from the stored factors by
// the papers' formulas element by element (not read from the graph); the live graph computes what
// the materialised one does; and the graph's generation MACs are the materialisation the engine
// states per weight.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../src/core/index.js';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, runSynthetic } from './helpers.js';

const D = 32;
const FFN = 64;
const L = 2;
const VOCAB = 61;

const base = (extra: string): string => `
block Layer(d, ffn) {
  attn_norm = LayerNorm(d)
  attn      = Attention(d, 4, bias: true)
  mlp_norm  = LayerNorm(d)
  mlp       = MLP(d, ffn)
}
model T(L = ${L}, d = ${D}) {
  embed = Embedding(${VOCAB}, d)
  body  = Layer(d: d, ffn: ${FFN}) * L
  norm  = LayerNorm(d)
  head  = Linear(d, ${VOCAB})
}
variant G of T { ${extra} }
`;

/** The matmul weights of the body with their [d_out, d_in]. */
const MATRICES: { key: string; shape: [number, number] }[] = [];
for (let i = 0; i < L; i++) {
  for (const n of ['q', 'k', 'v', 'o']) MATRICES.push({ key: `body[${i}].attn.${n}`, shape: [D, D] });
  MATRICES.push({ key: `body[${i}].mlp.up`, shape: [FFN, D] }, { key: `body[${i}].mlp.down`, shape: [D, FFN] });
}

function exportRecorded(text: string, options: { generation?: 'live' } = {}): { r: ExportResult; stored: Map<string, Float32Array> } {
  const stored = new Map<string, Float32Array>();
  const fill: WeightFill = (key, shape, dtype, scale, offset) => {
    const raw = defaultFill(key, shape, dtype, scale, offset);
    stored.set(key, new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    return raw;
  };
  return { r: exportModel(text, 'G', { ...options, fill }), stored };
}

const run = (r: ExportResult): Promise<Float32Array> => runSynthetic(r, 2, 5, VOCAB);

async function check(extra: string, rebuild: (stored: Map<string, Float32Array>) => Map<string, Float32Array>, expectApplied: number): Promise<void> {
  const text = base(extra);
  const { r, stored } = exportRecorded(text);
  assert.equal(r.initializerElements, r.storedParams, `${extra}: initializer elements == params.stored`);
  const engine = analyze(text).models.find((m) => m.name === 'G')!;
  assert.equal(r.storedParams, engine.params.stored);
  // The graph executes each W as the engine's FLOPs count it (docs/language.md, "Factorised
  // weights"): materialised from its factors, or applied through them (`execution: factors`,
  // W never formed: a tensor train one MatMul per core, FedPara one through Y₁ • Y₂), so its
  // generation MACs are each matrix's materialisation or the chain's setup, and 6 × them is the
  // engine's generation per step.
  const rows = engine.factorized!;
  const row = (shape: [number, number]) => rows.find((x) => x.dOut === shape[0] && x.dIn === shape[1])!;
  const generated = (shape: [number, number]): bigint => (row(shape).execution === 'factors' ? row(shape).chainSetupMacs : row(shape).reconstructMacs);
  assert.equal(r.generation.macs, MATRICES.reduce((sum, m) => sum + generated(m.shape), 0n), 'the graph generates each W as the engine executes it');
  assert.equal(6n * r.generation.macs, engine.flops.generationPerStep, 'the graph generates what the engine counts');
  const applied = MATRICES.filter((m) => row(m.shape).execution === 'factors');
  const chainNodes = r.spec.graph.nodes.filter((n) => n.op === 'MatMul' && /_(tt_apply|fedpara_in)_\d+$/.test(n.outputs[0]!)).length;
  assert.equal(chainNodes, applied.reduce((sum, m) => sum + (extra.includes('fedpara') ? 1 : row(m.shape).factors.length), 0), 'one chain per weight applied through its factors');
  assert.equal(applied.length, expectApplied, `${extra}: weights applied through their factors`);
  const live = exportModel(text, 'G', { generation: 'live' });
  assert.equal(live.initializerElements, r.storedParams);
  const y = await run(r);
  assertClose(y, await run(live), 1e-5, 'live == materialised');
  const w = rebuild(stored);
  assert.equal(w.size, MATRICES.length);
  const twinFill: WeightFill = (key, shape, dtype, scale, offset) => {
    const v = w.get(key);
    if (!v) return defaultFill(key, shape, dtype, scale, offset);
    assert.equal(v.length, shape.reduce((a, b) => a * b, 1), `twin tensor ${key}`);
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  };
  const twin = exportModel(base(''), 'G', { fill: twinFill });
  assertClose(y, await run(twin), 1e-4, 'the dense twin with the rebuilt W');
  const plain = await run(exportModel(base(''), 'G'));
  assert.ok(y.some((v, i) => Math.abs(v - plain[i]!) > 1e-3 * (1 + Math.abs(v))), 'the twin with its own synthetic weights differs');
}

// ---- the formulas, written again here -------------------------------------------------------

/** FedPara: W_ij = (Σ_k X₁[i,k]·Y₁[j,k]) · (Σ_k X₂[i,k]·Y₂[j,k]). */
function fedpara(stored: Map<string, Float32Array>, R: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const { key, shape: [m, n] } of MATRICES) {
    const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map((f) => stored.get(`${key}.${f}`)!);
    assert.deepEqual([x1!.length, y1!.length], [m * R, n * R]);
    const W = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let a = 0;
        let b = 0;
        for (let k = 0; k < R; k++) {
          a += x1![i * R + k]! * y1![j * R + k]!;
          b += x2![i * R + k]! * y2![j * R + k]!;
        }
        W[i * n + j] = a * b;
      }
    }
    out.set(key, W);
  }
  return out;
}

/**
 * A tensor train: W[(i₁…i_d), (j₁…j_d)] = G₁[0, i₁, j₁, :] · G₂[:, i₂, j₂, :] ⋯ G_d[:, i_d, j_d, 0],
 * rows and columns row-major in their modes; `coreOf(key, k)` is core k's stored values.
 */
function tensorTrain(modesOut: number[], modesIn: number[], ranks: number[], coreOf: (key: string, k: number) => Float32Array, matrices = MATRICES): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const d = modesOut.length;
  const digits = (x: number, modes: number[]): number[] => {
    const ds = new Array<number>(d);
    for (let k = d - 1; k >= 0; k--) {
      ds[k] = x % modes[k]!;
      x = Math.floor(x / modes[k]!);
    }
    return ds;
  };
  for (const { key, shape: [m, n] } of matrices) {
    if (m !== modesOut.reduce((a, b) => a * b) || n !== modesIn.reduce((a, b) => a * b)) continue;
    const cores = Array.from({ length: d }, (_, k) => coreOf(key, k));
    const W = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      const is = digits(i, modesOut);
      for (let j = 0; j < n; j++) {
        const js = digits(j, modesIn);
        // v ← v · G_k[:, i_k, j_k, :], v starting as [1].
        let v = [1];
        for (let k = 0; k < d; k++) {
          const [r0, r1, mk, nk] = [ranks[k]!, ranks[k + 1]!, modesOut[k]!, modesIn[k]!];
          const next = new Array<number>(r1).fill(0);
          for (let a = 0; a < r0; a++) for (let b = 0; b < r1; b++) next[b] = next[b]! + v[a]! * cores[k]![((a * mk + is[k]!) * nk + js[k]!) * r1 + b]!;
          v = next;
        }
        W[i * n + j] = v[0]!;
      }
    }
    out.set(key, W);
  }
  return out;
}

// ---- tests ---------------------------------------------------------------------------------

test('FedPara: W = (X₁Y₁ᵀ) ⊙ (X₂Y₂ᵀ) built in-graph == the dense twin', async () => {
  // Applied through the factors, all 12: R²·(m + n) = 9·64 = 576 < 32·32 per token, 9·96 = 864 < 64·32,
  // and the setup 576 (864) below materialising, m·n·(2R + 1) = 7168 (14336).
  await check('factorize body: fedpara(rank: 3)', (s) => fedpara(s, 3), 12);
});

test('tensor train: the cores merged in-graph, or applied to the input one by one, == the dense twin (32 = 4·8, 64 = 8·8)', async () => {
  // 32×32 (q, k, v, o) as [8, 4] × [8, 4]; 64×32 (up) as [8, 8] × [8, 4]; 32×64 (down) as [8, 4] × [8, 8].
  // Applying the cores per token, left to right core k costs (∏_{l<k} m_l)(∏_{l>k} n_l)·r_{k−1}m_k n_k r_k,
  // right to left (∏_{l<k} n_l)(∏_{l>k} m_l)·(the same):
  //   q, k, v, o: 4·192 + 8·48 = 1152 either way > 32·32 = 1024: W materialised;
  //   up: left 4·192 + 8·96 = 1536 < 2048 (right 2304): applied left to right;
  //   down: right 8·96 + 4·192 = 1536 < 2048 (left 2304): applied right to left — both sweeps, in 2 layers: 4.
  await check('factorize body: tensor_train(rank: 3, cores: 2)', (s) => {
    const all = new Map<string, Float32Array>();
    const core = (key: string, k: number): Float32Array => s.get(`${key}.core${k + 1}`)!;
    for (const [mo, mi] of [[[8, 4], [8, 4]], [[8, 8], [8, 4]], [[8, 4], [8, 8]]] as const) {
      for (const [k, v] of tensorTrain([...mo], [...mi], [1, 3, 1], core)) all.set(k, v);
    }
    return all;
  }, 4);
});

test('MPO: three cores, the central one shared across layers, the auxiliary ones per layer == the dense twin', async () => {
  // 32 = 4·4·2 and 64 = 4·4·4, ranks [1, 2, 3, 1]: central core 2 keyed per statement, weight name and shape.
  // Per token, 32×32 left to right: 1·8·(1·4·4·2) + 4·2·(2·4·4·3) + 16·1·(3·2·2·1) = 256 + 768 + 192 = 1216 > 1024
  // (right to left the same): materialised; up (64×32) and down (32×64) apply their cores (1408 < 2048): 4.
  await check('factorize body: mpo(ranks: [2, 3], cores: 3)', (s) => {
    const all = new Map<string, Float32Array>();
    const centralOf = (key: string, shape: [number, number]): Float32Array => {
      const name = key.slice(key.lastIndexOf('.') + 1);
      const keys = [...s.keys()].filter((k) => k.startsWith('factorize@') && k.endsWith(`:${name}:${shape.join('x')}`));
      assert.equal(keys.length, 1, `one central tensor for ${name} ${shape.join('x')}: ${keys.join(', ')}`);
      return s.get(keys[0]!)!;
    };
    for (const [mo, mi, shape] of [[[4, 4, 2], [4, 4, 2], [D, D]], [[4, 4, 4], [4, 4, 2], [FFN, D]], [[4, 4, 2], [4, 4, 4], [D, FFN]]] as const) {
      const core = (key: string, k: number): Float32Array => (k === 1 ? centralOf(key, [...shape]) : s.get(`${key}.core${k + 1}`)!);
      for (const [k, v] of tensorTrain([...mo], [...mi], [1, 2, 3, 1], core)) all.set(k, v);
    }
    // Both layers read the same central tensors.
    assert.equal([...s.keys()].filter((k) => k.startsWith('factorize@')).length, 6);
    return all;
  }, 4);
});

test('MPO with a truncation number: each weight\'s full-rank bonds capped at max_rank, built in-graph == the dense twin', async () => {
  // cores: 3 balances 32 into [4, 4, 2] and 64 into [4, 4, 4]. Bond k is min(6, ∏_{l≤k} m_l·n_l, ∏_{l>k} m_l·n_l):
  //   32×32 (pairs 16, 16, 4): min(6, 16, 64) = 6, min(6, 256, 4) = 4 → [1, 6, 4, 1];
  //   64×32 and 32×64 (pairs 16, 16, 8): [1, 6, 6, 1].
  // Per token every chain costs more than its dense matmul (32×32: 768 + 3072 + 256 = 4096 > 1024 either way;
  // 64×32: 768 + 4608 + … > 2048), so all are materialised: 0 applied.
  await check('factorize body: mpo(max_rank: 6, cores: 3)', (s) => {
    const all = new Map<string, Float32Array>();
    const centralOf = (key: string, shape: [number, number]): Float32Array => {
      const name = key.slice(key.lastIndexOf('.') + 1);
      const keys = [...s.keys()].filter((k) => k.startsWith('factorize@') && k.endsWith(`:${name}:${shape.join('x')}`));
      assert.equal(keys.length, 1, `one central tensor for ${name} ${shape.join('x')}`);
      return s.get(keys[0]!)!;
    };
    for (const [mo, mi, shape, ranks] of [[[4, 4, 2], [4, 4, 2], [D, D], [1, 6, 4, 1]], [[4, 4, 4], [4, 4, 2], [FFN, D], [1, 6, 6, 1]], [[4, 4, 2], [4, 4, 4], [D, FFN], [1, 6, 6, 1]]] as const) {
      const core = (key: string, k: number): Float32Array => (k === 1 ? centralOf(key, [...shape]) : s.get(`${key}.core${k + 1}`)!);
      for (const [k, v] of tensorTrain([...mo], [...mi], [...ranks], core)) all.set(k, v);
    }
    return all;
  }, 0);
});

test('MPO over MoE experts: the central tensor once per layer (experts) or per model (layers); initializer elements == params.stored', async () => {
  for (const central of ['experts', 'layers', 'own']) {
    const text = `model E {
  block Layer { n = RMSNorm(32); moe = MoE(32, 64, 4, 2, gated: false) }
  embed = Embedding(${VOCAB}, 32)
  body = Layer * 2
  head = Linear(32, ${VOCAB})
}
variant G of E { factorize body.moe: mpo(rank: 2, cores: 2, central: ${central}) }
`;
    const r = exportModel(text, 'G');
    assert.equal(r.initializerElements, r.storedParams, central);
    assert.equal(r.storedParams, analyze(text).models.find((m) => m.name === 'G')!.params.stored);
    const y = await runSynthetic(r, 2, 5, VOCAB);
    assert.ok(y.every(Number.isFinite));
  }
});

test('MPO over MoE experts, applied through the cores per expert (sparse dispatch) == the dense twin with every expert rebuilt', async () => {
  // expert_up [64, 32] as [8, 8] × [8, 4], expert_down [32, 64] as [8, 4] × [8, 8], ranks [1, 2, 1]; core 2 is
  // the central tensor, one per layer shared by its 4 experts. Per token: up left to right 4·128 + 8·64 = 1024,
  // down right to left 4·128 + 8·64 = 1024, each below the dense 2048 (and no setup): applied, W never formed.
  const text = `model E {
  block Layer { n = RMSNorm(32); moe = MoE(32, 64, 4, 2, gated: false) }
  embed = Embedding(${VOCAB}, 32)
  body = Layer * 2
  head = Linear(32, ${VOCAB})
}
variant G of E { factorize body.moe: mpo(rank: 2, cores: 2, central: experts) }
`;
  const { r, stored } = (() => {
    const rec = new Map<string, Float32Array>();
    const fill: WeightFill = (key, shape, dtype, scale, offset) => {
      const raw = defaultFill(key, shape, dtype, scale, offset);
      rec.set(key, new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
      return raw;
    };
    return { r: exportModel(text, 'G', { fill }), stored: rec };
  })();
  const engine = analyze(text).models.find((m) => m.name === 'G')!;
  assert.equal(r.initializerElements, engine.params.stored);
  assert.ok(engine.factorized!.every((row) => row.execution === 'factors'));
  assert.equal(r.generation.macs, 0n, 'nothing materialised');
  assert.equal(engine.flops.generationPerStep, 0n);
  // 2 layers × 4 experts × 2 weights × 2 cores.
  assert.equal(r.spec.graph.nodes.filter((n) => n.op === 'MatMul' && /_tt_apply_\d+$/.test(n.outputs[0]!)).length, 32);
  const experts: { key: string; shape: [number, number] }[] = [];
  for (let l = 0; l < 2; l++) for (let e = 0; e < 4; e++) experts.push({ key: `body[${l}].moe.expert_up[${e}]`, shape: [64, 32] }, { key: `body[${l}].moe.expert_down[${e}]`, shape: [32, 64] });
  const core = (key: string, k: number): Float32Array => (k === 1 ? stored.get(`${key.slice(0, key.lastIndexOf('['))}.core2`)! : stored.get(`${key}.core1`)!);
  const w = new Map([...tensorTrain([8, 8], [8, 4], [1, 2, 1], core, experts), ...tensorTrain([8, 4], [8, 8], [1, 2, 1], core, experts)]);
  assert.equal(w.size, 16);
  const twinFill: WeightFill = (key, shape, dtype, scale, offset) => {
    const v = w.get(key);
    return v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : defaultFill(key, shape, dtype, scale, offset);
  };
  const y = await runSynthetic(r, 2, 5, VOCAB);
  assertClose(y, await runSynthetic(exportModel(text, 'G', { generation: 'live' }), 2, 5, VOCAB), 1e-5, 'live == materialised');
  assertClose(y, await runSynthetic(exportModel(text, 'E', { fill: twinFill }), 2, 5, VOCAB), 1e-4, 'the dense twin with the rebuilt experts');
});

test('FedPara on convolution kernels: (T₁ ×₁ X₁ ×₂ Y₁) ⊙ (T₂ ×₁ X₂ ×₂ Y₂) built in-graph == the dense twin', async () => {
  const text = (extra: string): string => `model C {
  conv1 = Conv2d(3, 8, 3, padding: 1, size: 8)
  act   = Activation(relu)
  conv2 = Conv2d(8, 8, 3, padding: 1, size: 8)
  pool  = GlobalPool(avg)
  fc    = Linear(8, 5, bias: true)
}
variant G of C { ${extra} }
`;
  const R = 2;
  const stored = new Map<string, Float32Array>();
  const fill: WeightFill = (key, shape, dtype, scale, offset) => {
    const raw = defaultFill(key, shape, dtype, scale, offset);
    stored.set(key, new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    return raw;
  };
  const factorized = text(`factorize conv1, conv2: fedpara(rank: ${R})`);
  const r = exportModel(factorized, 'G', { fill });
  const engine = analyze(factorized).models.find((m) => m.name === 'G')!;
  assert.equal(r.initializerElements, engine.params.stored);
  assert.equal(6n * r.generation.macs, engine.flops.generationPerStep);
  const run1 = async (e: ExportResult): Promise<Float32Array> => runSynthetic(e, 2, 1, VOCAB);
  const y = await run1(r);
  assertClose(y, await run1(exportModel(factorized, 'G', { generation: 'live' })), 1e-5, 'live == materialised');
  // W[o, i, a, b] = (Σ_{x,y} T₁[x, y, a, b]·X₁[x, o]·Y₁[y, i]) · (the same with T₂, X₂, Y₂).
  const rebuilt = new Map<string, Float32Array>();
  for (const [key, O, I] of [['conv1.weight', 8, 3], ['conv2.weight', 8, 8]] as const) {
    const p = key.slice(0, -'.weight'.length);
    const half = (t: string, x: string, y: string, o: number, i: number, k: number): number => {
      const [T, X, Y] = [stored.get(`${key}.${t}`)!, stored.get(`${key}.${x}`)!, stored.get(`${key}.${y}`)!];
      let s = 0;
      for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) s += T[(a * R + b) * 9 + k]! * X[a * O + o]! * Y[b * I + i]!;
      return s;
    };
    const W = new Float32Array(O * I * 9);
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let k = 0; k < 9; k++) W[(o * I + i) * 9 + k] = half('t1', 'x1', 'y1', o, i, k) * half('t2', 'x2', 'y2', o, i, k);
    rebuilt.set(`${p}.weight`, W);
  }
  const twinFill: WeightFill = (key, shape, dtype, scale, offset) => {
    const v = rebuilt.get(key);
    return v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : defaultFill(key, shape, dtype, scale, offset);
  };
  assertClose(y, await run1(exportModel(text(''), 'G', { fill: twinFill })), 1e-4, 'the dense twin with the rebuilt kernels');
});

test('FedPara under a sparse mask (FISH): the masked W is materialised (the mask writes entries of W), the others apply their factors; initializer elements == params.stored', async () => {
  // R = 3. Applied through the factors: q, k, v, o (32×32) with the Khatri–Rao setup R²(m + n) =
  // 9·64 = 576 MACs each, down (32×64) 9·96 = 864; up (64×32) carries the mask, so it is built:
  // m·n·(2R + 1) = 2048·7 = 14336 MACs. Per layer 4·576 + 864 + 14336 = 17504; two layers 35008.
  const text = base('factorize body: fedpara(rank: 3)\n  adapt body.mlp.up: sparse(elements: 40)');
  const { r } = exportRecorded(text);
  const engine = analyze(text).models.find((m) => m.name === 'G')!;
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.storedParams, engine.params.stored);
  assert.equal(r.generation.macs, 2n * (4n * 576n + 864n + 14336n));
  assert.equal(6n * r.generation.macs, engine.flops.generationPerStep);
  const up = engine.factorized!.find((x) => x.path === 'body.mlp.up')!;
  assert.equal(up.execution, 'dense');
  assert.equal(up.materialisedBecause, 'sparse mask');
  const chains = r.spec.graph.nodes.filter((n) => n.op === 'MatMul' && /_fedpara_in_\d+$/.test(n.outputs[0]!)).length;
  assert.equal(chains, 2 * 5, 'q, k, v, o and down applied through their factors in both layers');
  assert.ok(r.spec.graph.nodes.some((n) => n.op === 'ScatterND'), 'the mask writes its entries into the materialised W');
  const live = exportModel(text, 'G', { generation: 'live' });
  assertClose(await run(r), await run(live), 1e-5, 'live == materialised');
});

// ---- tied factorised stores -----------------------------------------------------------------

const TIES = (statements: string, tie: 'main' | 'all' | 'sibling' | 'embed'): string => `
block Pair(d) {
  p = Linear(d, d)
  q = Linear(d, d)${tie === 'sibling' ? ' tied p' : ''}
}
model T {
  embed = Embedding(${tie === 'embed' ? D : VOCAB}, ${D})${tie === 'embed' ? ' tied head' : ''}
  a     = Pair(${D})
  b     = Pair(${D})
  ${tie === 'main' ? `c     = Linear(${D}, ${D}) tied a.p` : ''}
  head  = Linear(${D}, ${tie === 'embed' ? D : VOCAB})
  ${tie === 'all' ? 'tie b = a' : ''}
}
variant G of T { ${statements} }
`;

/** Exports G and its dense twin T (W rebuilt from G's stored cores, by the formula, for `keys`); both run, and agree. */
async function checkTied(tie: 'main' | 'all' | 'sibling' | 'embed', statements: string, keys: string[], expect: { chains: number; generation: bigint }): Promise<void> {
  const text = TIES(statements, tie);
  const { r, stored } = exportRecorded(text);
  const engine = analyze(text).models.find((m) => m.name === 'G')!;
  assert.equal(r.initializerElements, r.storedParams, `${tie}: initializer elements == params.stored`);
  assert.equal(r.storedParams, engine.params.stored);
  assert.equal(r.generation.macs, expect.generation, `${tie}: generation MACs in the graph`);
  assert.equal(6n * r.generation.macs, engine.flops.generationPerStep, `${tie}: the graph generates what the engine counts`);
  const chains = r.spec.graph.nodes.filter((n) => n.op === 'MatMul' && /_tt_apply_\d+$/.test(n.outputs[0]!)).length;
  assert.equal(chains, expect.chains, `${tie}: MatMuls applying cores`);
  // 32 = 8·4 both ways at rank 2: W rebuilt here from the two stored cores.
  const w = tensorTrain([8, 4], [8, 4], [1, 2, 1], (key, k) => stored.get(`${key}.core${k + 1}`)!, keys.map((key) => ({ key, shape: [D, D] as [number, number] })));
  assert.equal(w.size, keys.length);
  const twinFill: WeightFill = (key, shape, dtype, scale, offset) => {
    const v = w.get(key);
    return v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : defaultFill(key, shape, dtype, scale, offset);
  };
  const twin = exportModel(text, 'T', { fill: twinFill });
  const y = await runSynthetic(r, 2, 5, tie === 'embed' ? D : VOCAB);
  assertClose(y, await runSynthetic(twin, 2, 5, tie === 'embed' ? D : VOCAB), 1e-4, `${tie}: the dense twin with the rebuilt W`);
}

const TT32 = 'tensor_train(rank: 2, modes_out: [8, 4], modes_in: [8, 4])';

test('tied to a factorised weight: the reader applies the owner\'s cores (x = … tied y, block siblings, tie a = b); nothing is materialised', async () => {
  // 32×32 as [8, 4] × [8, 4] at rank 2: left to right 4·(1·8·8·2) + 8·(2·4·4·1) = 512 + 256 = 768
  // MACs per token (right to left 8·(2·4·4) + 4·(8·8·2)·… the same sum), below the dense 1024:
  // applied, two MatMuls per application, no setup.
  await checkTied('main', `factorize a.p: ${TT32}`, ['a.p.weight'], { chains: 2 * 2, generation: 0n });
  await checkTied('sibling', `factorize a.p: ${TT32}`, ['a.p.weight'], { chains: 2 * 2, generation: 0n });
  await checkTied('all', `factorize a: ${TT32}`, ['a.p.weight', 'a.q.weight'], { chains: 4 * 2, generation: 0n });
});

test('an embedding tied to a factorised head reads W: materialised once per step (the head still applies its cores)', async () => {
  // The head applies its cores (2 MatMuls); the embedding gathers rows of W, which the chain never
  // forms: W is built, 32·2·32 = 2048 MACs (the 32 × 2 by 2 × 32 product of the merged cores).
  const text = TIES(`factorize head: ${TT32}`, 'embed');
  const { r } = exportRecorded(text);
  const engine = analyze(text).models.find((m) => m.name === 'G')!;
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.storedParams, engine.params.stored);
  assert.equal(r.generation.macs, 2048n);
  assert.equal(6n * r.generation.macs, engine.flops.generationPerStep);
  await runSynthetic(r, 2, 5, D);
});

test('several users needing W from an owner that applies its factors: the graph builds W once, as the engine counts', async () => {
  // The head applies its cores; two embeddings gather rows of W: one W, built once per step,
  // 32·2·32 = 2048 MACs, read by both tables.
  const text = `
model T {
  e1   = Embedding(${D}, ${D}) tied head
  e2   = Embedding(${D}, ${D}) tied head
  head = Linear(${D}, ${D})
}
variant G of T { factorize head: ${TT32} }
`;
  const { r } = exportRecorded(text);
  const engine = analyze(text).models.find((m) => m.name === 'G')!;
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.storedParams, engine.params.stored);
  assert.equal(r.generation.macs, 2048n);
  assert.equal(6n * r.generation.macs, engine.flops.generationPerStep);
});

test('a transposed sibling tie in a stack: each instance builds its own W for the reader, as the engine counts', async () => {
  // p = Linear(32, 64) as [8, 8] × [8, 4] at rank 2 applies its cores; q reads Wᵀ, built per
  // instance: (64 × 2) by (2 × 32) = 4096 MACs each, 2 instances.
  const text = `
block B(d) {
  p = Linear(d, 64)
  q = Linear(64, d) tied p
}
model T {
  e    = Embedding(${VOCAB}, ${D})
  body = B(${D}) * 2
  head = Linear(${D}, ${VOCAB})
}
variant G of T { factorize body.p: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 4]) }
`;
  const { r } = exportRecorded(text);
  const engine = analyze(text).models.find((m) => m.name === 'G')!;
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.storedParams, engine.params.stored);
  assert.equal(r.generation.macs, 2n * 4096n);
  assert.equal(6n * r.generation.macs, engine.flops.generationPerStep);
  assert.equal(r.spec.graph.nodes.filter((n) => n.op === 'MatMul' && /_tt_apply_\d+$/.test(n.outputs[0]!)).length, 2 * 2, 'p applies its two cores in each instance');
  await run(r);
});

test('a chain of ties (tie c = b, tie b = a) over a factorize naming one instance (a[1].up): one store, applied by a[1], b[1] and c[1]', async () => {
  // up = Linear(32, 64) under FedPara R = 4: stored 2R(m + n) = 8·96 = 768 (for 2048); applied
  // through Y₁ • Y₂ (one MatMul per application) by the three instances reading it; the setup,
  // R²(m + n) = 1536 multiplies, once for the store. c[1] once got a dense initializer of its
  // own (2048 elements more than stored) and c's count ran it dense.
  const text = `
block L(d) {
  up   = Linear(d, 64)
  down = Linear(64, d)
}
model T {
  e    = Embedding(${VOCAB}, ${D})
  a    = L(${D}) * 3
  b    = L(${D}) * 3
  c    = L(${D}) * 3
  head = Linear(${D}, ${VOCAB})
  tie b = a
  tie c = b
}
variant G of T { factorize a[1].up: fedpara(rank: 4) }
`;
  const { r } = exportRecorded(text);
  const engine = analyze(text).models.find((m) => m.name === 'G')!;
  const plain = analyze(text).models.find((m) => m.name === 'T')!;
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.storedParams, engine.params.stored);
  assert.equal(engine.params.stored, plain.params.stored - (2048n - 768n));
  assert.equal(r.generation.macs, 1536n);
  assert.equal(6n * r.generation.macs, engine.flops.generationPerStep);
  assert.equal(r.spec.graph.nodes.filter((n) => n.op === 'MatMul' && /_fedpara_in_\d+$/.test(n.outputs[0]!)).length, 3, 'a[1], b[1] and c[1] apply the factors');
  assert.equal(BigInt(engine.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 3n * 2n * (2048n - 1536n), 'and the engine counts those three');
  await run(r);
});

// Instances reading one factorised store under `share` form its W once per step, as the graph
// does: the engine counted one materialisation per instance (4 × 32,768 MACs for `share all`,
// against the graph's one).
test('a factorised weight in a shared stack is formed once per store: share all, cycle(2), none', () => {
  const spec = (share: string): string => `model S {
  d = 64
  block B {
    up = Linear(d, d, bias: false)
  }
  body = B * 4
  ${share}
  factorize body.up: tensor_train(rank: 8, cores: 2)
}
`;
  // Modes 8·8 each side, rank 8: cores [1, 8, 8, 8] and [8, 8, 8, 1], 512 numbers each; W is
  // formed with 64·64·8 = 32,768 MACs (the chain, 2 × 64·64·8 per token, costs more than the
  // dense 64·64: materialised).
  for (const [share, stores] of [['share body: all', 1n], ['share body: cycle(2)', 2n], ['', 4n]] as const) {
    const text = spec(share);
    const engine = analyze(text).models.find((m) => m.name === 'S')!;
    assert.equal(engine.params.stored, stores * 1024n, share);
    assert.equal(engine.flops.generationPerStep, 6n * stores * 32_768n, `${share}: one W per store`);
    const r = exportModel(text, 'S', { fill: () => new Uint8Array(0) });
    assert.equal(r.initializerElements, engine.params.stored);
    assert.equal(6n * r.generation.macs, engine.flops.generationPerStep, `${share}: the graph forms what the engine counts`);
  }
});
