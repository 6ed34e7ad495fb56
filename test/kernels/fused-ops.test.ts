// The 'fused' ops mode (ORT com.microsoft contrib ops) against the 'standard' one (ai.onnx ops
// only), on onnxruntime-node's CPU provider: for each small model the two graphs give the same
// last-token output, prefill and decode step; both hold exactly params.stored in initializers
// and the engine's KV cache in cache initializers; the fused graph really contains the contrib
// ops (and the standard one none of them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, fusedTwin as twin, opCounts, runSynthetic } from './helpers.js';
import { CapturedIo } from '../cli/captured-io.js';

const GPT = readFileSync(join(__dirname, '..', 'fixtures', 'specs', 'tiny-gpt.npas'), 'utf8');

const SPECS = `
block Pre(d, heads, kv, window) {
  attn_norm = RMSNorm(d)
  attn      = Attention(d, heads, kv_heads: kv, head_dim: 8, window: window)
  mlp_norm  = RMSNorm(d)
  mlp       = GatedMLP(d, 2 * d)
}
model Llama(L = 3) {
  embed   = Embedding(61, 32)
  body    = Pre(d: 32, heads: 4, kv: 2, window: none) * L
  norm    = RMSNorm(32)
  lm_head = Linear(32, 61)
}
variant Mqa of Llama { body = Pre(d: 32, heads: 4, kv: 1, window: none) * L }
variant Window of Llama { body = Pre(d: 32, heads: 4, kv: 2, window: 3) * L }
variant Cla of Llama { share kv body: every(2) }
variant RelaxedCycle of Llama { share body: cycle(2) relax lora(rank: 4) }
model Moe {
  block B {
    n = RMSNorm(32)
    a = Attention(32, 4, kv_heads: 2)
    m = RMSNorm(32)
    f = MoE(32, 24, experts: 3, top_k: 2, shared: 1)
  }
  embed = Embedding(61, 32)
  body  = B * 2
  head  = Linear(32, 61) tied embed
}
model Mixed {
  embed   = Embedding(61, 32)
  local   = Pre(d: 32, heads: 4, kv: 2, window: 3) * 1
  global  = Pre(d: 32, heads: 4, kv: 1, window: none) * 1
  norm    = RMSNorm(32)
}
variant WindowCla of Window { share kv body: map([0, 0, 0]) }
model Qwen3 {
  block B {
    n1 = RMSNorm(32)
    a  = Attention(32, 4, kv_heads: 2, head_dim: 8, qk_norm: rms, bias: true, o_bias: false)
    n2 = RMSNorm(32)
    f  = MLP(32, 48, act: silu)
  }
  embed = Embedding(61, 32)
  body  = B * 2
  norm  = RMSNorm(32)
  head  = Linear(32, 61)
}
model LayerQk {
  block B {
    n1 = LayerNorm(32)
    a  = Attention(32, 2, kv_heads: 1, head_dim: 16, qk_norm: layer, window: 4)
    n2 = LayerNorm(32, affine: false)
    f  = GatedMLP(32, 40, act: gelu)
  }
  embed = Embedding(61, 32)
  body  = B * 2
  norm  = LayerNorm(32)
}
model RmsPost {
  block B {
    a  = Attention(32, 4, kv_heads: 2, head_dim: 8)
    n1 = RMSNorm(32)
    f  = GatedMLP(32, 48)
    n2 = RMSNorm(32)
  }
  embed = Embedding(61, 32)
  body  = B * 2
}
block EncoderLayer(d, heads, kv) {
  attn      = Attention(d, heads, kv_heads: kv, bias: true, causal: false)
  attn_norm = LayerNorm(d)
  mlp       = MLP(d, 2 * d, act: gelu)
  mlp_norm  = LayerNorm(d)
}
model Albert {
  word     = Embedding(61, 16)
  position = PositionEmbedding(32, 16)
  emb_norm = LayerNorm(16)
  emb_proj = Linear(16, 32, bias: true)
  body     = EncoderLayer(d: 32, heads: 4, kv: 4) * 3
}
variant AlbertShared of Albert { share body: all }
variant AlbertGqa of Albert { body = EncoderLayer(d: 32, heads: 4, kv: 2) * 3 }
`;

const decode = { batch: 2, past: 6 };

test('GQA, MQA and MHA: GroupQueryAttention, SkipSimplifiedLayerNormalization and QuickGelu equal the standard graph', async () => {
  for (const name of ['Llama', 'Mqa', 'Qwen3']) {
    const p = await twin(SPECS, name, {}, 2, 5);
    const layers = name === 'Qwen3' ? 2 : 3;
    assert.equal(p.get('GroupQueryAttention'), layers, name);
    // Every norm but the first reads a residual sum: one plain SimplifiedLayerNormalization (plus
    // the q/k norms), the rest skip-fused.
    assert.equal(p.get('SkipSimplifiedLayerNormalization'), 2 * layers, name);
    assert.equal(p.get('SimplifiedLayerNormalization'), 1 + (name === 'Qwen3' ? 2 * layers : 0), name);
    assert.equal(p.get('QuickGelu'), layers, name);
    assert.equal(p.get('MatMul'), undefined, name);
    assert.equal(p.get('Softmax'), undefined, name);
    const d = await twin(SPECS, name, { decode }, 2, 1);
    assert.equal(d.get('GroupQueryAttention'), layers, name);
  }
  const gpt = await twin(GPT, 'TinyGPT', {}, 2, 7);
  assert.equal(gpt.get('GroupQueryAttention'), 2);
  // Every LayerNorm but the first ln_1 (which reads embedding + position, not a residual sum).
  assert.equal(gpt.get('SkipLayerNormalization'), 4);
  assert.equal(gpt.get('LayerNormalization'), 1);
  await twin(GPT, 'TinyGPT', { decode: { batch: 1, past: 9 } }, 1, 1);
});

test('sliding windows: local_window_size masks what the standard mask masks, prefill and decode', async () => {
  const p = await twin(SPECS, 'Window', {}, 2, 7);
  const gqa = (r: ExportResult) => r.spec.graph.nodes.filter((n) => n.op === 'GroupQueryAttention');
  const prefill = exportModel(SPECS, 'Window', { ops: 'fused' });
  assert.deepEqual(gqa(prefill).map((n) => n.attributes?.local_window_size), Array(3).fill({ kind: 'int', value: 3 }));
  assert.equal(p.get('GroupQueryAttention'), 3);
  // The decode cache holds the window's positions only, so the step attends all of them.
  await twin(SPECS, 'Window', { decode }, 2, 1);
  // Windowed and full layers in one decode graph cache different lengths (3 and 6 positions):
  // each GroupQueryAttention gets the lengths of its own cache.
  await twin(SPECS, 'Mixed', {}, 2, 7);
  await twin(SPECS, 'Mixed', { decode }, 2, 1);
  // q/k LayerNorms, MQA with head size 16, a norm without affine (not skip-fused), GatedMLP with gelu.
  const q = await twin(SPECS, 'LayerQk', {}, 2, 6);
  assert.equal(q.get('GroupQueryAttention'), 2);
  assert.equal(q.get('SkipLayerNormalization'), 2); // the next block's n1 and the final norm; n2 has no scale
  await twin(SPECS, 'LayerQk', { decode }, 2, 1);
});

test('borrowed KV (share kv): the borrower reads the producer K/V in a prefill and its cache in a decode step', async () => {
  for (const name of ['Cla', 'WindowCla']) {
    const p = await twin(SPECS, name, {}, 2, 5);
    assert.equal(p.get('GroupQueryAttention'), 3, name);
    const d = await twin(SPECS, name, { decode }, 2, 1);
    assert.equal(d.get('GroupQueryAttention'), 3, name);
    const r = exportModel(SPECS, name, { ops: 'fused', decode });
    const caches = r.spec.graph.initializers.filter((t) => t.name.startsWith('kv_cache.')).map((t) => t.name);
    assert.deepEqual(caches, name === 'Cla' ? ['kv_cache.body[0].attn.k', 'kv_cache.body[0].attn.v', 'kv_cache.body[2].attn.k', 'kv_cache.body[2].attn.v'] : ['kv_cache.body[0].attn.k', 'kv_cache.body[0].attn.v'], name);
    // Every borrower's GroupQueryAttention reads its producer's cache.
    const past = r.spec.graph.nodes.filter((n) => n.op === 'GroupQueryAttention').map((n) => n.inputs[3]);
    assert.deepEqual(past, name === 'Cla' ? ['kv_cache.body[0].attn.k', 'kv_cache.body[0].attn.k', 'kv_cache.body[2].attn.k'] : Array(3).fill('kv_cache.body[0].attn.k'), name);
  }
});

test('with the rest of the exporter: store sharing with LoRA relaxation, MoE experts (QuickGelu), a tied head', async () => {
  const r = await twin(SPECS, 'RelaxedCycle', {}, 2, 5);
  assert.equal(r.get('GroupQueryAttention'), 3);
  await twin(SPECS, 'RelaxedCycle', { decode }, 2, 1);
  const m = await twin(SPECS, 'Moe', {}, 2, 6);
  assert.equal(m.get('QuickGelu'), 2 * 1); // the shared expert; the 3 routed ones are one MoE node per layer (moe-fused.ts)
  assert.equal(m.get('MoE'), 2);
  assert.equal(m.get('GroupQueryAttention'), 2);
  await twin(SPECS, 'Moe', { decode }, 2, 1);
});

test('post-norm: RMSNorm and LayerNorm (ALBERT, bidirectional MultiHeadAttention) fuse the residual add into the norm', async () => {
  const r = await twin(SPECS, 'RmsPost', {}, 2, 5);
  assert.equal(r.get('SkipSimplifiedLayerNormalization'), 4);
  assert.equal(r.get('GroupQueryAttention'), 2);
  await twin(SPECS, 'RmsPost', { decode }, 2, 1);
  for (const name of ['Albert', 'AlbertShared']) {
    const a = await twin(SPECS, name, {}, 2, 6);
    assert.equal(a.get('MultiHeadAttention'), 3, name);
    assert.equal(a.get('SkipLayerNormalization'), 6, name);
    assert.equal(a.get('Gelu'), 3, name);
  }
  // Bidirectional GQA has no contrib op: standard attention, fused norms.
  const g = await twin(SPECS, 'AlbertGqa', {}, 2, 6);
  assert.equal(g.get('MultiHeadAttention'), undefined);
  assert.equal(g.get('Softmax'), 3);
  assert.equal(g.get('SkipLayerNormalization'), 6);
});

test('standard ops keep the graph the exporter built before the option existed; fused is the default', () => {
  const std = exportModel(SPECS, 'Llama', { ops: 'standard' });
  const ops = opCounts(std);
  assert.equal(ops.get('Softmax'), 3);
  assert.equal(ops.get('Pow'), 7);
  assert.equal(ops.get('Sigmoid'), 3);
  const byDefault = exportModel(SPECS, 'Llama');
  assert.equal(opCounts(byDefault).get('GroupQueryAttention'), 3);
  // fp16: the contrib ops take the model's dtype.
  const half = exportModel(SPECS, 'Llama', { dtype: 'fp16' });
  assert.equal(half.initializerElements, half.storedParams);
});

test('fp16 fused graphs run on CPU and stay close to fp32', async () => {
  const a = await runSynthetic(exportModel(SPECS, 'Qwen3', { ops: 'fused' }), 1, 6);
  const h = await runSynthetic(exportModel(SPECS, 'Qwen3', { ops: 'fused', dtype: 'fp16' }), 1, 6);
  assertClose(a, h, 5e-2, 'fp16 vs fp32');
});

test('--ops on npas export-onnx and npas probe: fused by default, standard on request, anything else a usage error', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const { runProbeCommand } = await import('../../src/cli/commands/probe.js');
  const host = join(__dirname, '..', '..', 'kernels', 'probe-host.ts');
  const dir = mkdtempSync(join(tmpdir(), 'npas-ops-'));
  try {
    const spec = join(dir, 'llama.npas');
    writeFileSync(spec, SPECS);
    const io = new CapturedIo((p: string) => (p === spec ? SPECS : ''));
    const ops = async (args: string[]): Promise<Map<string, number>> => {
      const json = join(dir, 'g.json');
      io.out = '';
      assert.equal(await mainAsync(['export-onnx', spec, '--model', 'Llama', '--graph-json', json, ...args], io), 0, io.err);
      const nodes = (JSON.parse(readFileSync(json, 'utf8')) as { nodes: { op: string }[] }).nodes;
      const m = new Map<string, number>();
      for (const n of nodes) m.set(n.op, (m.get(n.op) ?? 0) + 1);
      return m;
    };
    assert.equal((await ops([])).get('GroupQueryAttention'), 3);
    assert.match(io.out, /fused ops/);
    assert.equal((await ops(['--ops', 'standard'])).get('GroupQueryAttention'), undefined);
    assert.match(io.out, /standard ops/);
    io.err = '';
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'Llama', '-o', join(dir, 'x.onnx'), '--ops', 'flash'], io), 2);
    assert.match(io.err, /--ops must be fused or standard; got 'flash'/);
    io.err = '';
    assert.equal(await mainAsync(['probe', spec, '--model', 'Llama', '--ep', 'cpu', '--ops', 'fast'], io), 2);
    assert.match(io.err, /--ops must be fused or standard; got 'fast'/);

    // The probe carries the choice to the host, which says what the graph's attention is.
    for (const mode of ['fused', 'standard'] as const) {
      io.out = '';
      io.err = '';
      const args = [spec, '--model', 'Mixed', '--ep', 'cpu', '--seq', '8', '--runs', '1', '--warmup', '0', '--json', ...(mode === 'standard' ? ['--ops', 'standard'] : [])];
      assert.equal(await runProbeCommand(args, io, { hostPath: host }), 0, io.err);
      const r = JSON.parse(io.out) as { ops: string; notes: string[]; decode: { medianMs?: number } };
      assert.equal(r.ops, mode);
      assert.ok(r.decode.medianMs !== undefined, mode);
      const notes = r.notes.join('\n');
      if (mode === 'fused') {
        assert.match(notes, /GroupQueryAttention \(2 layers\)/);
        assert.doesNotMatch(notes, /S×S score matrix/);
      } else {
        assert.match(notes, /standard ops .* full S×S score matrix/);
        assert.doesNotMatch(notes, /GroupQueryAttention/);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
