// MoE layers on ORT's com.microsoft `MoE` contrib op (kernels/layers/moe-fused.ts), on the CPU
// provider: for every configuration the op covers, the fused graph (one MoE node per layer) gives
// the standard graph's output (NonZero → GatherND → expert → ScatterND per expert; Mixtral's
// softmax over the top-k logits), prefill and decode; both hold exactly params.stored in
// initializers (one stacked initializer per expert bank in the fused graph); configurations the
// op does not reproduce exactly keep the standard dispatch in fused mode; and the point of it all:
// a 400-dispatch model opens much faster.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { exportModel, onnxBytes, type ExportOptions, type ExportResult } from '../../kernels/export.js';
import { assertClose, opCounts, runSynthetic } from './helpers.js';

const model = (ffn: string, extra = '') => `
model M {
  embed = Embedding(61, 32)
  block B {
    n = RMSNorm(32)
    f = ${ffn}
  }
  body = B * 2
  norm = RMSNorm(32)
  head = Linear(32, 61)
}
variant G of M { ${extra} }
`;

const count = (r: ExportResult, op: string): number => opCounts(r).get(op) ?? 0;

/** Standard and fused exports of `text`'s model `name`: equal counts and outputs; returns the fused one. */
async function twin(text: string, name: string, options: ExportOptions, b: number, s: number, what: string): Promise<ExportResult> {
  const std = exportModel(text, name, { ...options, ops: 'standard' });
  const fused = exportModel(text, name, { ...options, ops: 'fused' });
  for (const r of [std, fused]) assert.equal(r.initializerElements, r.storedParams, what);
  assert.equal(count(std, 'MoE'), 0, what);
  assertClose(await runSynthetic(std, b, s), await runSynthetic(fused, b, s), 1e-5, what);
  return fused;
}

const COVERED = [
  'MoE(32, 24, experts: 6, top_k: 2)', // Mixtral: SwiGLU experts
  'MoE(32, 24, experts: 6, top_k: 1, bias: true, router_bias: true)', // gated with biases (interleaved), top-1
  'MoE(32, 16, experts: 5, top_k: 3, shared: 2, shared_hidden: 8)', // DeepSeekMoE-like: shared experts as dense branches
  'MoE(32, 24, experts: 4, top_k: 2, gated: false, act: relu, bias: true)',
  'MoE(32, 24, experts: 4, top_k: 4, gated: false, act: silu, shared: 1)', // every expert chosen
];

test('every configuration the MoE op covers equals the standard dispatch, prefill and decode; one MoE node and one initializer per bank', async () => {
  for (const ffn of COVERED) {
    const text = model(ffn);
    const fused = await twin(text, 'M', {}, 2, 5, `${ffn} prefill`);
    assert.equal(count(fused, 'MoE'), 2, ffn);
    assert.equal(count(fused, 'NonZero'), 0, ffn);
    await twin(text, 'M', { decode: { batch: 2, past: 6 } }, 2, 1, `${ffn} decode`);
    // One stacked initializer per routed expert bank, [E, out, in] / [E, out]; none per copy.
    const names = fused.spec.graph.initializers.map((t) => t.name);
    assert.equal(names.filter((n) => /\.expert_[a-z_]+\[\d+\]$/.test(n)).length, 0, ffn);
    const gated = !ffn.includes('gated: false');
    const banks = fused.spec.graph.initializers.filter((t) => t.name.startsWith('body[0].f.expert_'));
    // A gated pair is one interleaved initializer holding both banks (gate row j at 2j, up at 2j+1).
    const fc1 = gated ? 'expert_gate_up' : 'expert_up';
    assert.deepEqual(banks.map((t) => t.name.slice('body[0].f.'.length)).sort(), [fc1, 'expert_down', ...(ffn.includes('bias: true') ? [`${fc1}_bias`, 'expert_down_bias'] : [])].sort(), ffn);
    for (const t of banks) assert.equal(t.dims[1], (gated && t.name.includes('gate_up') ? 2 : 1) * Number(t.name.includes('down') ? 32 : /MoE\(32, (\d+)/.exec(ffn)![1]), `${ffn}: ${t.name}`);
    const experts = Number(/experts: (\d+)/.exec(ffn)![1]);
    for (const t of banks) assert.equal(t.dims[0], experts, `${ffn}: ${t.name}`);
    const moeNode = fused.spec.graph.nodes.find((n) => n.op === 'MoE')!;
    assert.equal(moeNode.domain, 'com.microsoft');
    assert.deepEqual(moeNode.attributes?.activation_type, { kind: 'string', value: gated ? 'swiglu' : /act: (\w+)/.exec(ffn)![1] });
  }
});

test('fp16: the fused MoE runs on CPU and stays close to fp32', async () => {
  const text = model(COVERED[0]!);
  const half = exportModel(text, 'M', { dtype: 'fp16' });
  assert.equal(half.initializerElements, half.storedParams);
  assert.equal(count(half, 'MoE'), 2);
  assertClose(await runSynthetic(exportModel(text, 'M'), 1, 6), await runSynthetic(half, 1, 6), 5e-2, 'fp16 vs fp32');
});

test('generated experts (hash, bank, dict) are generated per copy and stacked: fused equals standard', async () => {
  for (const extra of ['hash body.f: roast(memory: 1000)', 'hash body.f: rps(memory: 1000)', 'bank g = body.f: ssn(params: 3000, templates: 3)', 'dict body.f: masa(atoms: 2)']) {
    const text = model('MoE(32, 16, experts: 4, top_k: 2, shared: 1)', extra);
    const fused = await twin(text, 'G', {}, 2, 5, extra);
    assert.equal(count(fused, 'MoE'), 2, extra);
    assert.ok(fused.generation.tensors >= 2 * 3 * 5, `${extra}: every expert copy generated`);
    await twin(text, 'G', { generation: 'live' }, 2, 5, `${extra} live`);
  }
});

test('configurations the op does not reproduce exactly keep the standard dispatch in fused mode', async () => {
  // gelu: the op's CPU gelu is the tanh form (2.8e-4 off the erf gelu); gated non-SiLU: the
  // op's only gated form is SwiGLU.
  for (const ffn of ['MoE(32, 24, experts: 4, top_k: 2, gated: false, act: gelu)', 'MoE(32, 24, experts: 4, top_k: 2, gated: false, act: gelu_tanh)', 'MoE(32, 24, experts: 3, top_k: 2, act: gelu)', 'MoE(32, 24, experts: 3, top_k: 1, act: relu, shared: 1)']) {
    const fused = await twin(model(ffn), 'M', {}, 2, 5, ffn);
    assert.equal(count(fused, 'MoE'), 0, ffn);
    assert.equal(count(fused, 'NonZero'), 2 * Number(/experts: (\d+)/.exec(ffn)![1]), ffn);
  }
});

test('session creation: a 400-dispatch MoE model opens in milliseconds on the MoE op, faster than a quarter of it on the standard dispatch', async () => {
  // 4 layers × 100 experts: the standard graph has 400 data-dependent dispatches, whose session
  // creation ONNX Runtime spends quadratic time on (docs/probes.md: 12.9 s here for this model);
  // the fused graph has 4 MoE nodes. The standard side is timed on one layer (100 dispatches,
  // about 1 s) to keep the test short: even that opens far slower than the fused 400.
  const text = (layers: number) => `
model Many {
  embed = Embedding(61, 16)
  block B {
    n = RMSNorm(16)
    f = MoE(16, 8, experts: 100, top_k: 2)
  }
  body = B * ${layers}
}`;
  const std = exportModel(text(1), 'Many', { ops: 'standard' });
  const fused = exportModel(text(4), 'Many', { ops: 'fused' });
  assert.equal(count(std, 'NonZero'), 100);
  assert.equal(count(exportModel(text(4), 'Many', { ops: 'standard' }), 'NonZero'), 400);
  assert.equal(count(fused, 'MoE'), 4);
  assert.equal(fused.initializerElements, fused.storedParams);
  const open = async (r: ExportResult): Promise<number> => {
    const bytes = onnxBytes(r);
    const t0 = performance.now();
    const s = await ort.InferenceSession.create(bytes);
    const ms = performance.now() - t0;
    await s.release();
    return ms;
  };
  const stdMs = await open(std);
  const fusedMs = Math.min(await open(fused), await open(fused));
  assert.ok(fusedMs * 3 < stdMs, `fused (400 dispatches) ${fusedMs.toFixed(0)} ms vs standard (100) ${stdMs.toFixed(0)} ms`);
  assert.ok(fusedMs < 2000, `fused session creation took ${fusedMs.toFixed(0)} ms`);
});

// MoEUT (kernels/layers/switch-head.ts): the σ-MoE FFN on the op (router_probs log σ(l), output
// times Σσ(l)); SwitchHead's V/O experts keep their per-head dispatch.
const MOEUT = `
model TinyMoEUT(L = 2) {
  d = 16
  block Layer {
    ln1        = LayerNorm(d)
    attn       = Attention(d, 2, head_dim: 8)
    vo_experts = MoE(d, 8, experts: 4, top_k: 2, gated: false, act: relu)
    selections = Linear(d, 8)
    ln2        = LayerNorm(d)
    ffn        = MoE(d, 12, experts: 6, top_k: 3, gated: false, act: relu)
  }
  embed = Embedding(61, d)
  body  = Layer * L
}
variant Cycle of TinyMoEUT {
  L = 4
  share body: cycle(2)
}
`;

test('MoEUT σ-MoE: sigmoid gates without renormalisation on the MoE op equal the standard dispatch, prefill and decode', async () => {
  for (const name of ['TinyMoEUT', 'Cycle']) {
    const fused = await twin(MOEUT, name, {}, 2, 6, `${name} prefill`);
    const layers = name === 'Cycle' ? 4 : 2;
    assert.equal(count(fused, 'MoE'), layers, name);
    // SwitchHead's V/O experts are gathered per token in fused ops (switch-head.ts): no dispatch left.
    assert.equal(count(fused, 'NonZero'), 0, name);
    assert.equal(fused.spec.graph.nodes.find((n) => n.op === 'MoE')!.attributes?.normalize_routing_weights?.value, 0, name);
    await twin(MOEUT, name, { decode: { batch: 2, past: 5 } }, 2, 1, `${name} decode`);
  }
});
