// What the kernel tests share: synthetic token ids, runs of an exported graph on
// onnxruntime-node's CPU provider, the relative difference two outputs are compared by, op
// counts, and the "fused ops == standard ops" twin (export both ways, exact counts, same
// output). One copy, so every test compares graphs the same way.

import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { exportModel, onnxBytes, type ExportOptions, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';

/** Token ids [b, s]: (i·7 + 3) mod vocab, deterministic and spread over the vocabulary. */
export function syntheticIds(b: number, s: number, vocab = 61): ort.Tensor {
  const data = new BigInt64Array(b * s).map((_, i) => BigInt((i * 7 + 3) % vocab));
  return new ort.Tensor('int64', data, [b, s]);
}

/** Runs the graph on synthetic ids [b, s] and returns its last-token output. */
export async function runSynthetic(r: ExportResult, b: number, s: number, vocab = 61): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnxBytes(r));
  try {
    return (await session.run({ input_ids: syntheticIds(b, s, vocab) })).last_token!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** A batch of token-id rows as an int64 tensor [rows, length]. */
export const idRows = (rows: readonly (readonly number[])[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

/** Runs the graph on `feeds` and returns its last-token output, checked to be [batch, outputWidth] and finite. */
export async function runChecked(r: ExportResult, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnxBytes(r));
  try {
    const y = (await session.run(feeds)).last_token!;
    assert.deepEqual(y.dims, [Object.values(feeds)[0]!.dims[0], r.outputWidth]);
    const data = y.data as Float32Array;
    assert.ok(data.every(Number.isFinite), 'finite outputs');
    return data;
  } finally {
    await session.release();
  }
}

/** The largest |a − b| / (1 + |a|) over the two outputs (which must have the same length). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, what = ''): number {
  assert.equal(a.length, b.length, what);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(a[i]!)));
  return worst;
}

/** Asserts the two outputs agree: maxRelDiff below tol. */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = ''): void {
  const worst = maxRelDiff(a, b, what);
  assert.ok(worst < tol, `${what ? `${what}: ` : ''}max relative difference ${worst}`);
}

/** How many nodes of each op the graph holds. */
export function opCounts(r: ExportResult): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of r.spec.graph.nodes) m.set(n.op, (m.get(n.op) ?? 0) + 1);
  return m;
}

/**
 * The standard graph stores keys transposed ([B, KV, hd, L], for q·kᵀ), GroupQueryAttention in
 * [B, KV, L, hd]: the fused cache gets the transpose of the standard one, so both hold the same
 * keys. Everything else is the default fill.
 */
export const transposedKeys: WeightFill = (key, shape, dtype, scale, offset) => {
  if (!(key.startsWith('kv_cache.') && key.endsWith('.k')) || shape.length !== 4) return defaultFill(key, shape, dtype, scale, offset);
  const [B, KV, L, hd] = shape as [number, number, number, number];
  const std = new Float32Array(defaultFill(key, [B, KV, hd, L], dtype, scale, offset).buffer);
  const out = new Float32Array(std.length);
  for (let bk = 0; bk < B * KV; bk++) for (let l = 0; l < L; l++) for (let d = 0; d < hd; d++) out[(bk * L + l) * hd + d] = std[(bk * hd + d) * L + l]!;
  return new Uint8Array(out.buffer);
};

/** The contrib ops only the fused mode emits (the standard graph uses com.microsoft Gelu and FastGelu too). */
export const FUSED_ONLY_OPS: readonly string[] = [
  'GroupQueryAttention',
  'MultiHeadAttention',
  'RotaryEmbedding',
  'SimplifiedLayerNormalization',
  'SkipSimplifiedLayerNormalization',
  'SkipLayerNormalization',
  'QuickGelu',
  'MoE',
];

/**
 * Exports `name` with standard and with fused ops (the fused cache filled with transposedKeys),
 * checks both hold exactly params.stored in initializers and the engine's KV cache in cache
 * initializers, that the standard graph holds none of FUSED_ONLY_OPS, runs `checkStandard` on
 * it, runs both on synthetic ids [b, s] and asserts they agree within 1e-4; returns the fused
 * graph's op counts.
 */
export async function fusedTwin(
  text: string,
  name: string,
  options: ExportOptions,
  b: number,
  s: number,
  checkStandard?: (std: ExportResult, what: string) => void,
): Promise<Map<string, number>> {
  const analysis = { seq: options.decode?.past ?? s, batch: b, dtype: 'fp32' as const };
  const std = exportModel(text, name, { ...options, ops: 'standard', analysis });
  const fused = exportModel(text, name, { ...options, ops: 'fused', analysis, fill: transposedKeys });
  const what = `${name} ${options.decode ? 'decode' : 'prefill'}`;
  for (const r of [std, fused]) {
    assert.equal(r.initializerElements, r.storedParams, what);
    assert.equal(r.kvCacheElements * 4n, options.decode ? r.report.kvCacheBytes : 0n, what);
  }
  const stdOps = opCounts(std);
  for (const op of FUSED_ONLY_OPS) assert.equal(stdOps.get(op), undefined, `${what}: the standard graph has ${op}`);
  checkStandard?.(std, what);
  assertClose(await runSynthetic(std, b, s), await runSynthetic(fused, b, s), 1e-4, what);
  return opCounts(fused);
}

// What the recurrent mixers' tests (Mamba, Mamba-2, Gated DeltaNet) share: the exported weights
// read back by initializer name, the scalar functions and the matrix-vector product their
// token-by-token references are written with, and the export-and-compare run.

/** An initializer's values by its full name, or undefined where the graph has none of that name. */
export function maybeInitializer(r: ExportResult, name: string): Float32Array | undefined {
  const t = r.spec.graph.initializers.find((i) => i.name === name);
  return t ? new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength)) : undefined;
}

/** An initializer's values by its full name; the test fails where the graph has none. */
export function initializer(r: ExportResult, name: string): Float32Array {
  const w = maybeInitializer(r, name);
  assert.ok(w, `no initializer ${name}`);
  return w;
}

export const softplus = (v: number): number => Math.log1p(Math.exp(v));
export const silu = (v: number): number => v / (1 + Math.exp(-v));
export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
/** Exact GELU, x·Φ(x), with erf summed from its series (Abramowitz–Stegun 7.1.26 is too coarse for 1e-5). */
export const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
function erf(x: number): number {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 60; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** y = W·x (+ bias) for W [out, in] stored row-major. */
export function matvec(W: Float32Array, x: ArrayLike<number>, out: number, bias?: Float32Array): number[] {
  const inn = x.length;
  return Array.from({ length: out }, (_, o) => {
    let s = bias ? bias[o]! : 0;
    for (let i = 0; i < inn; i++) s += W[o * inn + i]! * x[i]!;
    return s;
  });
}

/**
 * Exports `name` with standard ops, checks every stored element is an initializer, and for each
 * batch of token-id rows runs the graph and compares its last-token outputs with `reference`
 * (one sequence's last-token output, written independently in the test) within 1e-4.
 */
export async function assertMatchesRecurrence(
  text: string,
  name: string,
  batches: readonly (readonly (readonly number[])[])[],
  reference: (r: ExportResult, ids: readonly number[]) => number[],
  what = '',
): Promise<ExportResult> {
  const r = exportModel(text, name, { ops: 'standard' });
  assert.equal(r.initializerElements, r.storedParams, what);
  for (const rows of batches) {
    const out = await runChecked(r, { input_ids: idRows(rows) });
    assertClose(out, rows.flatMap((ids) => reference(r, ids)), 1e-4, `${what ? `${what}, ` : ''}ids ${JSON.stringify(rows)}`);
  }
  return r;
}

/**
 * Runs a decode graph (exported with decode: { batch: rows.length, … }) one token per row and
 * step over `rows`, its recurrent states starting at zero and each step's next_state.* fed back
 * as the next step's state.*; returns every step's last_token. From zero states a recurrent
 * layer's steps compute what its prefill computes over the same prefix (the conv's left padding
 * is zeros), so each step's output can be checked against the token-by-token reference.
 */
export async function chainDecode(r: ExportResult, rows: readonly (readonly number[])[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(onnxBytes(r));
  try {
    let states: Record<string, ort.Tensor> = {};
    for (const s of r.stateInputs) states[s.name] = new ort.Tensor('float32', new Float32Array(s.dims.reduce((a, b) => a * b, 1)), s.dims);
    const outputs: Float32Array[] = [];
    for (let t = 0; t < rows[0]!.length; t++) {
      const out = await session.run({ input_ids: idRows(rows.map((row) => [row[t]!])), ...states });
      const y = out.last_token!.data as Float32Array;
      assert.ok(y.every(Number.isFinite), 'finite outputs');
      outputs.push(y);
      states = Object.fromEntries(r.stateInputs.map((s) => [s.name, out[`next_${s.name}`]!]));
      for (const s of r.stateInputs) assert.deepEqual(states[s.name]!.dims, s.dims, `next_${s.name}`);
    }
    return outputs;
  } finally {
    await session.release();
  }
}

/**
 * The prefill's own cache for a decode step: runs the standard-ops prefill of `model` over
 * `rows` (the prefix, S tokens per row) with every attention's named K and V
 * (`cache.<path>.k|v`, [B, S, kv_heads, head_dim]) as extra outputs, and returns a fill that
 * gives each decode cache initializer `kv_cache.<path>.k` [B, kv_heads, head_dim, L] and `.v`
 * [B, kv_heads, L, head_dim] the last L positions the layer cached, whatever L the decode graph holds
 * (its cache reach); other weights are drawn as by default. Also returns how many caches it read.
 */
export async function prefillCacheFill(text: string, model: string, rows: readonly (readonly number[])[]): Promise<{ fill: WeightFill; caches: number }> {
  const prefill = exportModel(text, model, { ops: 'standard' });
  const taps = new Map<string, string>(); // `<path>.k|v` → tensor name
  for (const n of prefill.spec.graph.nodes) {
    const m = n.op === 'Identity' ? /^cache\.(.+\.[kv])_\d+$/.exec(n.outputs[0]!) : null;
    if (m) taps.set(m[1]!, n.outputs[0]!);
  }
  // Each tap its own length name: layers may cache different lengths (smashed positions, routed tokens).
  const names = [...taps.values()];
  const spec = { ...prefill.spec, graph: { ...prefill.spec.graph, outputs: [...prefill.spec.graph.outputs, ...names.map((name, i) => ({ name, dataType: 1 as const, dims: ['b', `s${i}`, 'h', 'd'] }))] } };
  const session = await ort.InferenceSession.create(onnxBytes({ ...prefill, spec }));
  let out: Record<string, ort.Tensor>;
  try {
    out = await session.run({ input_ids: idRows(rows) }, names);
  } finally {
    await session.release();
  }
  const S = rows[0]!.length;
  const fill: WeightFill = (key, shape, dtype, scale, offset) => {
    const m = /^kv_cache\.(.+)\.([kv])$/.exec(key);
    const tap = m ? taps.get(`${m[1]}.${m[2]}`) : undefined;
    if (!m || !tap) return defaultFill(key, shape, dtype, scale, offset);
    const t = out[tap]!;
    // S positions, or fewer for a layer that ran over fewer (smashed positions: ⌈S / r⌉).
    const [B, S2, KV, hd] = t.dims as number[];
    assert.ok(S2! <= S, key);
    const keys = m[2] === 'k';
    const L = keys ? shape[3]! : shape[2]!;
    assert.deepEqual(shape, keys ? [B, KV, hd, L] : [B, KV, L, hd], key);
    const src = t.data as Float32Array;
    const dst = new Float32Array(B! * KV! * hd! * L);
    for (let b = 0; b < B!; b++)
      for (let h = 0; h < KV!; h++)
        for (let j = 0; j < L; j++)
          for (let d = 0; d < hd!; d++) {
            const v = src[((b * S2! + (S2! - L + j)) * KV! + h) * hd! + d]!;
            dst[keys ? ((b * KV! + h) * hd! + d) * L + j : ((b * KV! + h) * L + j) * hd! + d] = v;
          }
    return new Uint8Array(dst.buffer);
  };
  return { fill, caches: taps.size / 2 };
}

/**
 * The multiply-adds a graph's MatMul and Gemm nodes do on `feeds`, split by whether the node reads
 * a weight (an initializer `isWeight` accepts) or only activations and caches (attention's scores
 * and values). Shapes are measured, not inferred by hand: a `Shape` of every operand is fetched
 * from one unoptimised run. MatMul [..., M, K] × [..., K, N] does (broadcast batch) · M·K·N.
 */
export async function matmulMacs(r: ExportResult, feeds: Record<string, ort.Tensor>, isWeight: (initializer: string) => boolean): Promise<{ weights: bigint; other: bigint }> {
  const graph = r.spec.graph;
  const initializers = new Map(graph.initializers.map((t) => [t.name, t.dims]));
  const products = graph.nodes.filter((n) => n.op === 'MatMul' || n.op === 'Gemm');
  const operands = [...new Set(products.flatMap((n) => n.inputs.slice(0, 2)))].filter((name) => !initializers.has(name));
  const shapeOf = new Map(operands.map((name, i) => [name, `macs_shape_${i}`]));
  const spec = {
    ...r.spec,
    graph: {
      ...graph,
      nodes: [...graph.nodes, ...operands.map((name) => ({ op: 'Shape', inputs: [name], outputs: [shapeOf.get(name)!], name: `n_${shapeOf.get(name)!}` }))],
      outputs: [...graph.outputs, ...operands.map((name) => ({ name: shapeOf.get(name)!, dataType: 7 as const, dims: [undefined] }))],
    },
  };
  const session = await ort.InferenceSession.create(onnxBytes({ ...r, spec }), { graphOptimizationLevel: 'disabled' });
  let out: Record<string, ort.Tensor>;
  try {
    out = await session.run(feeds, [...shapeOf.values()]);
  } finally {
    await session.release();
  }
  const dims = (name: string): number[] => initializers.get(name)?.map(Number) ?? Array.from(out[shapeOf.get(name)!]!.data as BigInt64Array, Number);
  let weights = 0n;
  let other = 0n;
  for (const n of products) {
    const a = dims(n.inputs[0]!);
    const b = dims(n.inputs[1]!);
    let macs: bigint;
    if (n.op === 'Gemm') {
      const attr = (name: string) => (n.attributes?.[name]?.kind === 'int' ? Number(n.attributes[name].value) : 0);
      const [M, K] = attr('transA') ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
      macs = BigInt(M * K * (attr('transB') ? b[0]! : b[1]!));
    } else {
      assert.ok(a.length >= 2 && b.length >= 2, `${n.name}: a MatMul of vectors`);
      const batchA = a.slice(0, -2);
      const batchB = b.slice(0, -2);
      const rank = Math.max(batchA.length, batchB.length);
      let batch = 1;
      for (let i = 0; i < rank; i++) batch *= Math.max(batchA[batchA.length - rank + i] ?? 1, batchB[batchB.length - rank + i] ?? 1);
      macs = BigInt(batch * a[a.length - 2]! * a[a.length - 1]! * b[b.length - 1]!);
    }
    if (n.inputs.slice(0, 2).some((name) => initializers.has(name) && isWeight(name))) weights += macs;
    else other += macs;
  }
  return { weights, other };
}
