// Rotary position embeddings in the exported graph (kernels/layers/rotary.ts), on
// onnxruntime-node's CPU provider (a bare Attention after the embedding is a residual branch):
// - against an independent reference: numpy's transcription of Transformers' LlamaAttention
//   (inv_freq, cat(freqs, freqs), rotate_half, apply_rotary_pos_emb, partial rotary as
//   GPTNeoXAttention / PhiAttention) run by python3 on the very weights and cache the graph
//   holds, prefill and a decode step at position `past` (the rotated keys are what the cache
//   holds); and the same model without rope, which must differ;
// - fused ops (GroupQueryAttention do_rotary with cos/sin caches, RotaryEmbedding) against
//   standard ops: full and partial rotary, GQA, windows whose decode cache is shorter than the
//   position, borrowed K/V (share kv) including a borrower whose rope differs from its
//   producer's, a bidirectional MultiHeadAttention encoder, and another theta;
// - exact counts: initializer elements = params.stored with rope as without.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportModel, onnxBytes, type ExportOptions, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, fusedTwin, maxRelDiff, opCounts, runSynthetic, transposedKeys } from './helpers.js';

const SPECS = `
model Full {
  embed = Embedding(61, 32)
  attn  = Attention(32, 4, kv_heads: 2, head_dim: 16, rope: true)
}
model Plain {
  embed = Embedding(61, 32)
  attn  = Attention(32, 4, kv_heads: 2, head_dim: 16)
}
model Partial {
  embed = Embedding(61, 64)
  attn  = Attention(64, 4, kv_heads: 2, head_dim: 32, rope: true, rope_dim: 16, rope_theta: 500_000, bias: true)
}
model QkNorm {
  embed = Embedding(61, 32)
  attn  = Attention(32, 2, kv_heads: 1, head_dim: 16, rope: true, rope_dim: 8, qk_norm: rms)
}
block Pre(d, heads, kv, hd, rd, window) {
  attn_norm = RMSNorm(d)
  attn      = Attention(d, heads, kv_heads: kv, head_dim: hd, window: window, rope: true, rope_dim: rd)
  mlp_norm  = RMSNorm(d)
  mlp       = GatedMLP(d, 2 * d)
}
model Llama(L = 3) {
  embed   = Embedding(61, 32)
  body    = Pre(d: 32, heads: 4, kv: 2, hd: 16, rd: 16, window: none) * L
  norm    = RMSNorm(32)
  lm_head = Linear(32, 61)
}
variant PartialGqa of Llama { body = Pre(d: 32, heads: 4, kv: 2, hd: 32, rd: 16, window: none) * L }
variant SmallRope of Llama { body = Pre(d: 32, heads: 4, kv: 2, hd: 16, rd: 8, window: none) * L }
variant Head8 of Llama { body = Pre(d: 32, heads: 4, kv: 1, hd: 8, rd: 8, window: none) * L }
variant Window of Llama { body = Pre(d: 32, heads: 4, kv: 2, hd: 16, rd: 16, window: 3) * L }
variant Cla of Llama { share kv body: every(2) }
variant WindowCla of Window { share kv body: map([0, 0, 0]) }
model MixedRope {
  rds   = [8, 16, 16, 8]
  embed = Embedding(61, 32)
  body  = [Pre(d: 32, heads: 4, kv: 2, hd: 16, rd: rds[i], window: none) for i in 4]
  share kv body: map([0, 0, 2, 2])
}
model Routed {
  block B {
    n = RMSNorm(32)
    a = Attention(32, 4, kv_heads: 2, head_dim: 16, rope: true)
    m = RMSNorm(32)
    f = GatedMLP(32, 48)
  }
  embed = Embedding(61, 32)
  first = B
  mid   = B * 4
  head  = Linear(32, 61)
  share mid: cycle(2)
  route mid: mor(recursions: 2, capacity: [1, 1/2])
  share kv mid: tied
}
block Enc(d) {
  attn      = Attention(d, 2, head_dim: 16, rope: true, rope_dim: 8, causal: false, bias: true)
  attn_norm = LayerNorm(d)
  mlp       = MLP(d, 2 * d, act: gelu)
  mlp_norm  = LayerNorm(d)
}
model Encoder {
  embed = Embedding(61, 32)
  body  = Enc(d: 32) * 2
}
`;

/** Fused == standard (test/kernels/helpers.ts's fusedTwin), and the standard graph rotates. */
async function twin(name: string, options: ExportOptions, b: number, s: number): Promise<Map<string, number>> {
  return fusedTwin(SPECS, name, options, b, s, (std, what) => assert.ok((opCounts(std).get('Cos') ?? 0) >= 1, `${what}: the standard graph rotates`));
}

const decode = { batch: 2, past: 6 };
const gqaRotary = (r: ExportResult) => r.spec.graph.nodes.filter((n) => n.op === 'GroupQueryAttention' && n.attributes?.do_rotary !== undefined);

test('fused equals standard: full rotary inside GroupQueryAttention (do_rotary, cos/sin caches), prefill and decode', async () => {
  const p = await twin('Llama', {}, 2, 5);
  assert.equal(p.get('GroupQueryAttention'), 3);
  assert.equal(p.get('RotaryEmbedding'), undefined);
  const r = exportModel(SPECS, 'Llama', { ops: 'fused' });
  const nodes = gqaRotary(r);
  assert.equal(nodes.length, 3);
  for (const n of nodes) {
    assert.deepEqual(n.attributes?.do_rotary, { kind: 'int', value: 1 });
    assert.deepEqual(n.attributes?.rotary_interleaved, { kind: 'int', value: 0 });
    assert.equal(n.inputs.length, 9);
  }
  const d = await twin('Llama', { decode }, 2, 1);
  assert.equal(d.get('GroupQueryAttention'), 3);
  assert.equal(gqaRotary(exportModel(SPECS, 'Llama', { ops: 'fused', decode })).length, 3);
});

test('fused equals standard: partial rotary in GroupQueryAttention, and RotaryEmbedding where GQA cannot rotate', async () => {
  // head_dim 32, rope_dim 16: GQA's cos_cache [S, 8] rotates the first 16 dims.
  const p = await twin('PartialGqa', {}, 2, 5);
  assert.equal(gqaRotary(exportModel(SPECS, 'PartialGqa', { ops: 'fused' })).length, 3);
  assert.equal(p.get('RotaryEmbedding'), undefined);
  await twin('PartialGqa', { decode }, 2, 1);
  // rope_dim 8 (GQA needs rope_dim/2 a multiple of 8) and head_dim 8 (GQA rotary needs 16):
  // RotaryEmbedding on q and k, GroupQueryAttention without do_rotary.
  for (const name of ['SmallRope', 'Head8']) {
    const s = await twin(name, {}, 2, 5);
    assert.equal(s.get('RotaryEmbedding'), 6, name);
    assert.equal(s.get('GroupQueryAttention'), 3, name);
    assert.equal(gqaRotary(exportModel(SPECS, name, { ops: 'fused' })).length, 0, name);
    await twin(name, { decode }, 2, 1);
  }
});

test('fused equals standard: a window whose decode cache (3) is shorter than the position (6)', async () => {
  await twin('Window', {}, 2, 7);
  await twin('Window', { decode }, 2, 1);
});

test('borrowed K/V: borrowers attend the producer rotated K, also under another rope than their own', async () => {
  for (const name of ['Cla', 'WindowCla']) {
    await twin(name, {}, 2, 5);
    await twin(name, { decode }, 2, 1);
  }
  // Layer 0 (rope_dim 8: K rotated by RotaryEmbedding) lends to 1 (rope_dim 16, GQA-capable):
  // 1's q rotates alone and its GQA does not rotate; 2 (16: its GQA rotates its raw K) lends to
  // 3 (8), which rotates 2's K with 2's rope and its q with its own.
  const m = await twin('MixedRope', {}, 2, 5);
  assert.equal(m.get('GroupQueryAttention'), 4);
  assert.equal(gqaRotary(exportModel(SPECS, 'MixedRope', { ops: 'fused' })).length, 1); // layer 2 only
  await twin('MixedRope', { decode }, 2, 1);
  // In the standard graph a borrower with the producer's rope rotates no K of its own.
  const std = exportModel(SPECS, 'Cla', { ops: 'standard' });
  assert.equal(std.spec.graph.nodes.filter((n) => n.op === 'Concat' && n.outputs[0]!.startsWith('roped')).length, 3 + 2);
});

test('MoR routing: a routed recursion rotates its tokens at their sequence positions and reads recursion 0\'s rotated K', async () => {
  // The first layer runs unrouted (fused: its GroupQueryAttention rotates); both recursions run
  // on standard ops inside their routed contexts, recursion 1 (half the tokens, rotated at their
  // positions in the sequence) borrowing recursion 0's rotated K rows (share kv tied).
  await twin('Routed', {}, 2, 8);
  for (const ops of ['standard', 'fused'] as const) {
    const r = exportModel(SPECS, 'Routed', { ops });
    if (ops === 'fused') assert.equal(gqaRotary(r).length, 1, 'the unrouted first layer rotates inside GroupQueryAttention');
    // The routed recursion's angles are taken at the selected tokens' positions (routing.ts's
    // sorted selection, sel1), not at the context's own 0..k−1.
    const selected = r.spec.graph.nodes.find((n) => n.op === 'GatherElements' && n.outputs[0]!.startsWith('sel1'))!.outputs[0]!;
    assert.ok(r.spec.graph.nodes.some((n) => n.op === 'Cast' && n.inputs[0] === selected), `${ops}: rotary of the routed recursion reads the selected positions`);
  }
});

test('bidirectional encoder: RotaryEmbedding before MultiHeadAttention equals the standard graph', async () => {
  const e = await twin('Encoder', {}, 2, 6);
  assert.equal(e.get('MultiHeadAttention'), 2);
  assert.equal(e.get('RotaryEmbedding'), 4);
});

test('rope adds no initializer and keeps the graph exact; fp16 runs on CPU close to fp32', async () => {
  const rope = exportModel(SPECS, 'Full', { ops: 'standard' });
  const plain = exportModel(SPECS, 'Plain', { ops: 'standard' });
  assert.equal(rope.initializerElements, plain.initializerElements);
  assert.equal(rope.storedParams, plain.storedParams);
  for (const ops of ['standard', 'fused'] as const) {
    const a = await runSynthetic(exportModel(SPECS, 'Llama', { ops }), 1, 6);
    const h = await runSynthetic(exportModel(SPECS, 'Llama', { ops, dtype: 'fp16' }), 1, 6);
    assertClose(a, h, 5e-2, `fp16 vs fp32 (${ops})`);
  }
});

/**
 * numpy's transcription of Transformers' attention with rotary embeddings: the graph's own
 * weights (recorded from the fill) go in, the last token's output comes out.
 */
const REFERENCE = String.raw`
import json, sys
import numpy as np
cfg = json.load(open(sys.argv[1]))
W = {k: np.array(v['data'], dtype=np.float32).reshape(v['shape']) for k, v in cfg['weights'].items()}
def w(suffix):
    hits = [k for k in W if k.endswith(suffix)]
    assert len(hits) == 1, (suffix, list(W))
    return W[hits[0]]
def opt(suffix):
    hits = [k for k in W if k.endswith(suffix)]
    return W[hits[0]] if hits else None
H, KV, hd, rd, theta = cfg['heads'], cfg['kv_heads'], cfg['head_dim'], cfg['rope_dim'], cfg['theta']
ids = np.array(cfg['ids'], dtype=np.int64)            # [B, S]
B, S = ids.shape
past = cfg['past']                                     # 0 for a prefill
x = w('embed.weight')[ids]                             # [B, S, d]
def proj(name, x):
    y = x @ w('attn.' + name).T
    b = opt('attn.' + name + '_bias')
    return y if b is None else y + b
q = proj('q', x).reshape(B, S, H, hd).transpose(0, 2, 1, 3)
k = proj('k', x).reshape(B, S, KV, hd).transpose(0, 2, 1, 3)
v = proj('v', x).reshape(B, S, KV, hd).transpose(0, 2, 1, 3)
qn = opt('attn.q_norm')
if qn is not None:  # Qwen3RMSNorm on head_dim, before the rotation
    rms = lambda t, g: t / np.sqrt((t * t).mean(-1, keepdims=True) + cfg['eps']) * g
    q, k = rms(q, qn), rms(k, w('attn.k_norm'))
# LlamaRotaryEmbedding: inv_freq = 1 / theta^(arange(0, rd, 2) / rd); emb = cat(freqs, freqs).
inv_freq = 1.0 / (theta ** (np.arange(0, rd, 2, dtype=np.int64).astype(np.float32) / rd))
position_ids = np.arange(past, past + S, dtype=np.float32)
freqs = position_ids[:, None] * inv_freq[None, :]
emb = np.concatenate([freqs, freqs], axis=-1)
cos, sin = np.cos(emb)[None, None], np.sin(emb)[None, None]
def rotate_half(t):
    t1, t2 = t[..., : t.shape[-1] // 2], t[..., t.shape[-1] // 2 :]
    return np.concatenate([-t2, t1], axis=-1)
def apply_rotary_pos_emb(t):
    # GPTNeoXAttention / PhiAttention: rotate the first rotary_ndims, pass the rest.
    t_rot, t_pass = t[..., :rd], t[..., rd:]
    return np.concatenate([t_rot * cos + rotate_half(t_rot) * sin, t_pass], axis=-1)
q, k = apply_rotary_pos_emb(q), apply_rotary_pos_emb(k)
if past:
    kc = np.array(cfg['cache_k'], dtype=np.float32).reshape(B, KV, hd, past).transpose(0, 1, 3, 2)
    vc = np.array(cfg['cache_v'], dtype=np.float32).reshape(B, KV, past, hd)
    k, v = np.concatenate([kc, k], axis=2), np.concatenate([vc, v], axis=2)
G = H // KV
k, v = np.repeat(k, G, axis=1), np.repeat(v, G, axis=1)
scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd)
T = k.shape[2]
blocked = np.arange(T)[None, :] > (np.arange(S)[:, None] + T - S)
scores = np.where(blocked, -np.inf, scores)
p = np.exp(scores - scores.max(-1, keepdims=True))
p /= p.sum(-1, keepdims=True)
ctx = (p @ v).transpose(0, 2, 1, 3).reshape(B, S, H * hd)
# A bare Attention is a residual branch (kernels/data-flow.ts): x + attention(x).
out = (x + proj('o', ctx))[:, -1, :]
print(json.dumps(out.reshape(-1).astype(float).tolist()))
`;

async function againstReference(name: string, geometry: { heads: number; kv_heads: number; head_dim: number; rope_dim: number; theta: number }, past: number, ops: 'standard' | 'fused'): Promise<number> {
  const B = 2;
  const S = past ? 1 : 5;
  const weights: Record<string, { shape: readonly number[]; data: number[] }> = {};
  const record: WeightFill = (key, shape, dtype, scale, offset) => {
    const raw = (ops === 'fused' ? transposedKeys : defaultFill)(key, shape, dtype, scale, offset);
    // The reference reads the standard layout of the cache (fused: the same keys, transposed).
    const std = key.startsWith('kv_cache.') && key.endsWith('.k') && ops === 'fused' ? defaultFill(key, [shape[0]!, shape[1]!, shape[3]!, shape[2]!], dtype, scale, offset) : raw;
    weights[key] = { shape, data: Array.from(new Float32Array(std.buffer, std.byteOffset, std.byteLength / 4)) };
    return raw;
  };
  const r = exportModel(SPECS, name, { ops, fill: record, ...(past ? { decode: { batch: B, past } } : {}) });
  const got = await runSynthetic(r, B, S);
  const ids = Array.from({ length: B }, (_, b) => Array.from({ length: S }, (_, s) => ((b * S + s) * 7 + 3) % 61));
  const cache = (suffix: string) => Object.entries(weights).find(([k]) => k.startsWith('kv_cache.') && k.endsWith(suffix))?.[1].data;
  const dir = mkdtempSync(join(tmpdir(), 'npas-rope-'));
  try {
    const file = join(dir, 'cfg.json');
    const script = join(dir, 'ref.py');
    const plain: Record<string, { shape: readonly number[]; data: number[] }> = {};
    for (const [k, v] of Object.entries(weights)) if (!k.startsWith('kv_cache.')) plain[k] = v;
    writeFileSync(file, JSON.stringify({ ...geometry, eps: 1e-6, ids, past, weights: plain, cache_k: cache('.k'), cache_v: cache('.v') }));
    writeFileSync(script, REFERENCE);
    const expected = Float32Array.from(JSON.parse(execFileSync('python3', [script, file], { encoding: 'utf8' })) as number[]);
    return maxRelDiff(got, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the graph's rotated attention equals numpy's transcription of Transformers' apply_rotary_pos_emb (prefill and decode at position past)", async () => {
  const full = { heads: 4, kv_heads: 2, head_dim: 16, rope_dim: 16, theta: 10_000 };
  const partial = { heads: 4, kv_heads: 2, head_dim: 32, rope_dim: 16, theta: 500_000 };
  const qk = { heads: 2, kv_heads: 1, head_dim: 16, rope_dim: 8, theta: 10_000 };
  for (const ops of ['standard', 'fused'] as const) {
    for (const past of [0, 7]) {
      assert.ok((await againstReference('Full', full, past, ops)) < 1e-4, `Full ${ops} past ${past}`);
      assert.ok((await againstReference('Partial', partial, past, ops)) < 1e-4, `Partial ${ops} past ${past}`);
      assert.ok((await againstReference('QkNorm', qk, past, ops)) < 1e-4, `QkNorm ${ops} past ${past}`);
    }
  }
  // The reference can fail: the same weights without rope, or rotated at the wrong position, differ.
  assert.ok((await againstReference('Plain', full, 0, 'standard')) > 1e-3, 'an unrotated graph must not match the rotary reference');
});

// MoEUT's SwitchHeadRope (moeut.py) rotates q and k inside SwitchHead (kernels/layers/switch-head.ts).
const MOEUT = `
model TinyMoEUT {
  d = 8
  block Layer {
    ln1        = LayerNorm(d)
    attn       = Attention(d, 2, head_dim: 4, rope: true, rope_dim: 2)
    vo_experts = MoE(d, 4, experts: 4, top_k: 2, gated: false, act: relu)
    selections = Linear(d, 8)
    ln2        = LayerNorm(d)
    ffn        = MoE(d, 6, experts: 5, top_k: 2, gated: false, act: relu)
  }
  embed = Embedding(20, d)
  body  = Layer * 1
}
`;

test("SwitchHead with rope: the decode step over the prefix's rotated keys equals the prefill's last position; rope changes the output", async () => {
  const tokens = [7, 2, 13, 5, 11];
  const S = tokens.length - 1;
  const runIds = async (r: ExportResult, ids: number[], outputs?: string[]) => {
    const session = await ort.InferenceSession.create(onnxBytes(r));
    try {
      return await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) }, outputs ?? ['last_token']);
    } finally {
      await session.release();
    }
  };
  const prefix = exportModel(MOEUT, 'TinyMoEUT', { ops: 'standard' });
  // The rotated q and k ([1, S, H, hd], Concats named roped…) and the per-head values [S, H, hd].
  const roped = prefix.spec.graph.nodes.filter((n) => n.op === 'Concat' && n.outputs[0]!.startsWith('roped')).map((n) => n.outputs[0]!);
  assert.equal(roped.length, 2);
  const kOut = roped[1]!;
  const vOut = prefix.spec.graph.nodes.find((n) => n.op === 'Concat' && n.outputs[0]!.startsWith('v_'))!.outputs[0]!;
  const spec = { ...prefix.spec, graph: { ...prefix.spec.graph, outputs: [...prefix.spec.graph.outputs, { name: kOut, dataType: 1 as const, dims: ['b', 's', 'h', 'd'] }, { name: vOut, dataType: 1 as const, dims: ['t', 'h', 'd'] }] } };
  const outs = await runIds({ ...prefix, spec }, tokens.slice(0, S), [kOut, vOut]);
  const k = outs[kOut]!.data as Float32Array;
  const v = outs[vOut]!.data as Float32Array;
  const kT = new Float32Array(2 * 4 * S); // [1, H, hd, S]
  const vC = new Float32Array(2 * S * 4); // [1, H, S, hd]
  for (let s = 0; s < S; s++) for (let h = 0; h < 2; h++) for (let i = 0; i < 4; i++) {
    kT[(h * 4 + i) * S + s] = k[(s * 2 + h) * 4 + i]!;
    vC[(h * S + s) * 4 + i] = v[(s * 2 + h) * 4 + i]!;
  }
  const fill: WeightFill = (key, shape, dtype, scale, offset) =>
    key === 'kv_cache.body[0].attn.k' ? new Uint8Array(kT.buffer) : key === 'kv_cache.body[0].attn.v' ? new Uint8Array(vC.buffer) : defaultFill(key, shape, dtype, scale, offset);
  const full = (await runIds(exportModel(MOEUT, 'TinyMoEUT', { ops: 'standard' }), tokens)).last_token!.data as Float32Array;
  for (const ops of ['standard', 'fused'] as const) {
    const decode = exportModel(MOEUT, 'TinyMoEUT', { ops, decode: { batch: 1, past: S }, fill });
    assert.equal(decode.initializerElements, decode.storedParams);
    assertClose((await runIds(decode, [tokens[S]!])).last_token!.data as Float32Array, full, 1e-4, `SwitchHead rope decode (${ops})`);
  }
  const plain = (await runIds(exportModel(MOEUT.replace(', rope: true, rope_dim: 2', ''), 'TinyMoEUT', { ops: 'standard' }), tokens)).last_token!.data as Float32Array;
  assert.ok(maxRelDiff(full, plain) > 1e-3, 'rope must change what SwitchHead computes');
});
