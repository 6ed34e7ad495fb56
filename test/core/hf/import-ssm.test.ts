// State-space families (issue 14): Mamba and Mamba-2 configs import, count their published
// totals (derived below from the configs with Transformers' MambaMixer and Mamba2Mixer shapes),
// keep no KV cache and a recurrent state that does not grow with the sequence; a hybrid of
// Mamba and attention layers charges KV to its attention layers alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import { importHfConfig } from '../../../src/core/hf/import-hf.js';
import { parseJsonText } from '../../../src/core/hf/json-text.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'hf');
/** A fixture through the importer's parser (Mamba-2's time_step_limit holds Infinity, which JSON.parse refuses). */
function config(name: string): Record<string, number> {
  const parsed = parseJsonText(readFileSync(join(FIXTURES, name), 'utf8'));
  if (!parsed.ok) assert.fail(parsed.message);
  return parsed.value as unknown as Record<string, number>;
}

function specOf(c: object): string {
  const r = importHfConfig(JSON.stringify(c));
  if (!r.ok) assert.fail(r.message);
  return r.spec;
}

test('Mamba-130M: 129,135,360 parameters, no KV, conv + SSM state of 24 · 1536 · (4 + 16) elements', () => {
  const c = config('mamba-130m-hf.json');
  const d = BigInt(c['hidden_size']!);
  const I = BigInt(c['expand']!) * d;
  const N = BigInt(c['state_size']!);
  const K = BigInt(c['conv_kernel']!);
  const R = BigInt(c['time_step_rank']!);
  // in_proj, conv (+bias), x_proj, dt_proj (+bias), A_log, D, out_proj, the layer's RMSNorm.
  const layer = d * 2n * I + I * K + I + I * (R + 2n * N) + R * I + I + I * N + I + I * d + d;
  const stored = BigInt(c['vocab_size']!) * d + BigInt(c['num_hidden_layers']!) * layer + d;
  assert.equal(stored, 129_135_360n);
  const spec = specOf(c);
  for (const seq of [8192, 65_536]) {
    const m = analyze(spec, { seq, dtype: 'bf16', batch: 2 }).models[0]!;
    assert.equal(m.params.stored, stored);
    assert.equal(m.kvCacheBytes, 0n);
    assert.equal(m.recurrentStateBytes, 2n * 2n * BigInt(c['num_hidden_layers']!) * (I * K + I * N), `state at seq ${seq}`);
  }
});

test('Mamba-Codestral-7B (Mamba-2): 7,285,403,648 parameters and its recurrent state', () => {
  const c = config('mamba-codestral-7b-v0-1.json');
  const d = BigInt(c['hidden_size']!);
  const I = BigInt(c['expand']!) * d;
  const N = BigInt(c['state_size']!);
  const G = BigInt(c['n_groups']!);
  const H = BigInt(c['num_heads']!);
  const K = BigInt(c['conv_kernel']!);
  const conv = I + 2n * G * N;
  // in_proj (z, x, B, C, dt), conv (+bias), dt_bias, A_log, D, gated norm, out_proj, RMSNorm.
  const layer = d * (2n * I + 2n * G * N + H) + conv * K + conv + 3n * H + I + I * d + d;
  const stored = 2n * BigInt(c['vocab_size']!) * d + BigInt(c['num_hidden_layers']!) * layer + d;
  assert.equal(stored, 7_285_403_648n);
  const m = analyze(specOf(c), { seq: 8192, dtype: 'bf16', batch: 1 }).models[0]!;
  assert.equal(m.params.stored, stored);
  assert.equal(m.kvCacheBytes, 0n);
  assert.equal(m.recurrentStateBytes, 2n * BigInt(c['num_hidden_layers']!) * (conv * K + I * N));
  // The state counts in memory.inference beside the weights.
  assert.equal(m.memory.inferenceBytes, m.memory.weightBytes + m.recurrentStateBytes);
});

test('a hybrid of Mamba and attention layers at 8Ki: KV from the attention layers, state from the Mamba layers, state in its own dtype', () => {
  const spec = `
model Hybrid {
  d = 512
  block M {
    norm  = RMSNorm(d)
    mixer = Mamba(d, state_dtype: fp32)
  }
  block A {
    norm = RMSNorm(d)
    attn = Attention(d, 8, kv_heads: 2)
  }
  embed = Embedding(1000, d)
  body  = [if i % 4 == 3 then A else M for i in 8]
}
budget Hybrid {
  state(batch: 1) <= 2MiB
  kv(seq: 8Ki, batch: 1, dtype: bf16) <= 8MiB
}
`;
  const m = analyze(spec, { seq: 8192, dtype: 'bf16', batch: 1 }).models[0]!;
  // Two attention layers: 2 · kv_heads · head_dim = 2 · 2 · 64 elements per token, bf16, 8,192 tokens.
  assert.equal(m.kvCacheBytes, 2n * 8192n * (2n * 2n * 64n) * 2n);
  // Six Mamba layers: inner 1,024 × (conv 4 + state 16) elements in fp32, whatever the analysis dtype.
  assert.equal(m.recurrentStateBytes, 6n * 1024n * 20n * 4n);
  assert.deepEqual(m.budgets.map((b) => b.ok), [true, true]);
  const fp32 = analyze(spec, { seq: 8192, dtype: 'fp32', batch: 1 }).models[0]!;
  assert.equal(fp32.recurrentStateBytes, m.recurrentStateBytes);
});

test('Mamba configs: mismatched sizes are refused on their key', () => {
  const m2 = config('mamba-codestral-7b-v0-1.json');
  const bad = importHfConfig(JSON.stringify({ ...m2, num_heads: 100 }));
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.key, 'num_heads');
  const inner = importHfConfig(JSON.stringify({ ...config('mamba-130m-hf.json'), intermediate_size: 1000 }));
  assert.equal(inner.ok, false);
  if (!inner.ok) assert.equal(inner.key, 'intermediate_size');
  // A Mamba config relabelled as Llama loses its state-space layers: refused.
  const relabelled = importHfConfig(JSON.stringify({ ...config('mamba-130m-hf.json'), model_type: 'llama', architectures: [] }));
  assert.equal(relabelled.ok, false);
  if (!relabelled.ok) assert.match(relabelled.message, /state_size/);
});

/**
 * A Nemotron-H config's layer counts by pattern letter and, from NemotronHMamba2Mixer's shapes
 * (inner width mamba_num_heads · mamba_head_dim), its Mamba-2 mixer's parameters and recurrent
 * state per layer, and its attention's parameters and KV elements per token.
 */
function nemotronParts(c: Record<string, number> & { hybrid_override_pattern: string }, headDimKey: string) {
  const pattern = c.hybrid_override_pattern;
  const count = (ch: string) => BigInt([...pattern].filter((x) => x === ch).length);
  const d = BigInt(c['hidden_size']!);
  const H = BigInt(c['mamba_num_heads']!);
  const I = H * BigInt(c['mamba_head_dim']!);
  const N = BigInt(c['ssm_state_size']!);
  const G = BigInt(c['n_groups']!);
  const K = BigInt(c['conv_kernel']!);
  const conv = I + 2n * G * N;
  const hd = BigInt(c[headDimKey]!);
  const kv = BigInt(c['num_key_value_heads']!);
  return {
    pattern,
    count,
    d,
    mamba: d * (2n * I + 2n * G * N + H) + conv * K + conv + 3n * H + I + I * d,
    mambaState: conv * K + I * N,
    attention: 2n * d * BigInt(c['num_attention_heads']!) * hd + 2n * d * kv * hd,
    kvPerToken: 2n * kv * hd,
  };
}

test('Nemotron-H-8B: the hybrid pattern as a chain; KV from its 4 attention layers, state from its 24 Mamba-2 layers', () => {
  const c = config('nemotron-h-8b-base-8k.json') as unknown as Record<string, number> & { hybrid_override_pattern: string };
  const { pattern, count, d, mamba, mambaState, attention, kvPerToken } = nemotronParts(c, 'attention_head_dim');
  const [mambaLayers, attentionLayers, mlpLayers] = [count('M'), count('*'), count('-')];
  assert.deepEqual([mambaLayers, attentionLayers, mlpLayers], [24n, 4n, 24n]);
  const mlp = 2n * d * BigInt(c['intermediate_size']!);
  // Every layer has its RMSNorm; embedding and head untied; norm_f.
  const stored = 2n * BigInt(c['vocab_size']!) * d + mambaLayers * mamba + attentionLayers * attention + mlpLayers * mlp + 52n * d + d;
  const m = analyze(specOf(c), { seq: 8192, dtype: 'bf16', batch: 1 }).models[0]!;
  assert.equal(m.params.stored, stored);
  assert.equal(m.kvCacheBytes, attentionLayers * 8192n * kvPerToken * 2n);
  assert.equal(m.recurrentStateBytes, mambaLayers * mambaState * 2n);
  // An unknown letter is refused on the pattern, naming the layer.
  const bad = importHfConfig(JSON.stringify({ ...c, hybrid_override_pattern: `${pattern.slice(0, 51)}X` }));
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.message, /hybrid_override_pattern\[51\] is "X"/);
});

test('Nemotron-3-Nano-30B-A3B: 31,577,940,288 stored ("31.6B"), 3,580,076,352 active ("3.6B with embeddings"); MoE layers (E) keep neither KV nor state', () => {
  const c = config('nemotron-3-nano-30b-a3b.json') as unknown as Record<string, number> & { hybrid_override_pattern: string };
  // The Mamba-2 inner width is 64 · 64 = 4096, not a multiple of d = 2688.
  const { pattern, count, d, mamba, mambaState, attention, kvPerToken } = nemotronParts(c, 'head_dim');
  const [mambaLayers, attentionLayers, moeLayers] = [count('M'), count('*'), count('E')];
  assert.deepEqual([mambaLayers, attentionLayers, moeLayers], [23n, 6n, 23n]);
  // NemotronHMoE: the router and its e_score_correction_bias, up/down experts, one shared MLP.
  const E = BigInt(c['n_routed_experts']!);
  const expert = 2n * d * BigInt(c['moe_intermediate_size']!);
  const shared = 2n * d * BigInt(c['moe_shared_expert_intermediate_size']!);
  const moeStored = E * d + E + E * expert + shared;
  const moeActive = E * d + E + BigInt(c['num_experts_per_tok']!) * expert + shared;
  const outer = 2n * BigInt(c['vocab_size']!) * d + 52n * d + d; // embedding, head, 52 block norms, norm_f
  const stored = outer + mambaLayers * mamba + attentionLayers * attention + moeLayers * moeStored;
  const active = outer + mambaLayers * mamba + attentionLayers * attention + moeLayers * moeActive;
  assert.equal(stored, 31_577_940_288n); // model card: 31.6B total
  assert.equal(active, 3_580_076_352n); // model card: 3.6B active including embeddings
  const m = analyze(specOf(c), { seq: 8192, dtype: 'bf16', batch: 1 }).models[0]!;
  assert.deepEqual([m.params.stored, m.params.active], [stored, active]);
  assert.equal(m.kvCacheBytes, attentionLayers * 8192n * kvPerToken * 2n);
  assert.equal(m.recurrentStateBytes, mambaLayers * mambaState * 2n);
  // The v5 list spelling gives the same model; a latent expert width adds its two projections
  // and shrinks the experts; mlp_bias with MoE layers is refused.
  const names: Record<string, string> = { M: 'mamba', '*': 'attention', E: 'moe', '-': 'mlp' };
  const { hybrid_override_pattern: _pattern, ...rest } = c;
  const listed = analyze(specOf({ ...rest, layers_block_type: [...pattern].map((ch) => names[ch]) })).models[0]!;
  assert.equal(listed.params.stored, stored);
  const latent = 1024n;
  const withLatent = analyze(specOf({ ...c, moe_latent_size: Number(latent) })).models[0]!;
  assert.equal(withLatent.params.stored, stored + moeLayers * (2n * d * latent + E * (expert / d) * (latent - d)));
  const biased = importHfConfig(JSON.stringify({ ...c, mlp_bias: true }));
  assert.equal(biased.ok, false);
  if (!biased.ok) assert.equal(biased.key, 'mlp_bias');
  // Multi-token-prediction layers are named in the header and warned about, not counted.
  const mtp = importHfConfig(JSON.stringify({ ...c, num_nextn_predict_layers: 1 }));
  assert.ok(mtp.ok);
  if (mtp.ok) assert.ok(mtp.warnings.some((w) => w.includes('num_nextn_predict_layers')), mtp.warnings.join('\n'));
});

test('Jamba-v0.1: 51.6B stored, 12.1B active; KV on its 4 attention layers, state on its 28 Mamba layers', () => {
  const c = config('jamba-v0-1.json');
  const d = BigInt(c['hidden_size']!);
  const I = BigInt(c['mamba_expand']!) * d;
  const N = BigInt(c['mamba_d_state']!);
  const K = BigInt(c['mamba_d_conv']!);
  const R = BigInt(c['mamba_dt_rank']!);
  // MambaMixer with Jamba's dt, B and C RMSNorms (R + 2N).
  const mamba = d * 2n * I + I * K + I + I * (R + 2n * N) + R * I + I + I * N + I + I * d + R + 2n * N;
  const kv = BigInt(c['num_key_value_heads']!);
  const hd = d / BigInt(c['num_attention_heads']!);
  const attention = 2n * d * d + 2n * d * kv * hd;
  const mlp = 3n * d * BigInt(c['intermediate_size']!);
  const experts = BigInt(c['num_experts']!);
  const layers = Number(c['num_hidden_layers']!);
  const isAttention = (i: number) => i % c['attn_layer_period']! === c['attn_layer_offset']!;
  const isMoe = (i: number) => i % c['expert_layer_period']! === c['expert_layer_offset']!;
  let stored = 2n * BigInt(c['vocab_size']!) * d + d;
  let active = stored;
  for (let i = 0; i < layers; i++) {
    const mixer = (isAttention(i) ? attention : mamba) + 2n * d;
    stored += mixer + (isMoe(i) ? experts * d + experts * mlp : mlp);
    active += mixer + (isMoe(i) ? experts * d + BigInt(c['num_experts_per_tok']!) * mlp : mlp);
  }
  assert.equal(stored, 51_570_323_328n); // "52B total"
  assert.equal(active, 12_110_311_296n); // "12B active"
  const m = analyze(specOf(c), { seq: 8192, dtype: 'bf16', batch: 1 }).models[0]!;
  assert.deepEqual([m.params.stored, m.params.active], [stored, active]);
  assert.equal(m.kvCacheBytes, 4n * 8192n * 2n * kv * hd * 2n);
  assert.equal(m.recurrentStateBytes, 28n * I * (K + N) * 2n);
});

test('Qwen3-Next-80B-A3B: 79,674,391,296 stored (Gated DeltaNet, gated attention, MoE with a gated shared expert); KV on its 12 attention layers, state on its 36 linear layers', () => {
  const c = config('qwen3-next-80b-a3b-instruct.json');
  const d = BigInt(c['hidden_size']!);
  const layers = Number(c['num_hidden_layers']!);
  const interval = c['full_attention_interval']!;
  // Qwen3NextConfig: layer i is full attention when (i + 1) % full_attention_interval == 0.
  const full = BigInt(Array.from({ length: layers }, (_, i) => (i + 1) % interval === 0).filter(Boolean).length);
  const linear = BigInt(layers) - full;
  // Qwen3NextGatedDeltaNet: in_proj_qkvz, in_proj_ba, a bias-free depthwise conv over q, k and v,
  // dt_bias and A_log per value head, the gated RMSNorm of one value head, out_proj.
  const kw = BigInt(c['linear_num_key_heads']!) * BigInt(c['linear_key_head_dim']!);
  const vHeads = BigInt(c['linear_num_value_heads']!);
  const vDim = BigInt(c['linear_value_head_dim']!);
  const vw = vHeads * vDim;
  const K = BigInt(c['linear_conv_kernel_dim']!);
  const convWidth = 2n * kw + vw;
  const deltaNet = d * (2n * kw + 2n * vw) + d * 2n * vHeads + convWidth * K + 2n * vHeads + vDim + vw * d;
  // Qwen3NextAttention: q_proj of 2·heads·head_dim (query and gate), k, v, o, q_norm and k_norm of head_dim.
  const hd = BigInt(c['head_dim']!);
  const heads = BigInt(c['num_attention_heads']!);
  const kv = BigInt(c['num_key_value_heads']!);
  const attention = d * 2n * heads * hd + 2n * d * kv * hd + heads * hd * d + 2n * hd;
  // Qwen2MoeSparseMoeBlock: router, experts (gate_up and down), shared expert, shared_expert_gate.
  const experts = BigInt(c['num_experts']!);
  const expert = 3n * d * BigInt(c['moe_intermediate_size']!);
  const shared = 3n * d * BigInt(c['shared_expert_intermediate_size']!);
  const moeStored = experts * d + experts * expert + shared + d;
  const moeActive = experts * d + BigInt(c['num_experts_per_tok']!) * expert + shared + d;
  const outer = 2n * BigInt(c['vocab_size']!) * d + d; // embedding, untied head, final norm
  const stored = outer + linear * deltaNet + full * attention + BigInt(layers) * (moeStored + 2n * d);
  const active = outer + linear * deltaNet + full * attention + BigInt(layers) * (moeActive + 2n * d);
  // The safetensors count of the architecture's checkpoints without their mtp.* weights, which
  // Transformers does not load (Qwen3-Coder-Next has the same shapes: 79,674,391,296).
  assert.equal(stored, 79_674_391_296n);
  assert.equal(active, 3_874_929_408n);
  const m = analyze(specOf(c), { seq: 8192, dtype: 'bf16', batch: 1 }).models[0]!;
  assert.deepEqual([m.params.stored, m.params.active], [stored, active]);
  assert.equal(m.kvCacheBytes, full * 8192n * 2n * kv * hd * 2n);
  assert.equal(m.recurrentStateBytes, linear * (convWidth * K + vHeads * BigInt(c['linear_key_head_dim']!) * vDim) * 2n);
});

test('Qwen3-Next configs: an explicit layer_types list, dense layers and a bad head ratio', () => {
  const c = config('qwen3-next-80b-a3b-instruct.json');
  const types = ['linear_attention', 'full_attention', 'linear_attention', 'linear_attention'];
  const small = { ...c, num_hidden_layers: 4, layer_types: types, mlp_only_layers: [0], vocab_size: 1000 };
  const spec = specOf(small);
  assert.match(spec, /linear_layers += \[true, false, true, true\]/);
  assert.match(spec, /routed += \[false, true, true, true\]/);
  assert.match(spec, /\[Layer\(linear: linear_layers\[i\], moe: routed\[i\]\) for i in layers\]/);
  const m = analyze(spec, { seq: 8192, dtype: 'bf16', batch: 1 }).models[0]!;
  assert.equal(m.kvCacheBytes, 8192n * 2n * 2n * 256n * 2n, 'one full-attention layer keeps KV');
  const bad = importHfConfig(JSON.stringify({ ...c, linear_num_key_heads: 12 }));
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.key, 'linear_num_key_heads');
  const badType = importHfConfig(JSON.stringify({ ...small, layer_types: ['linear_attention', 'sliding_attention', 'linear_attention', 'full_attention'] }));
  assert.equal(badType.ok, false);
  if (!badType.ok) assert.equal(badType.key, 'layer_types');
  // Transformers v5 keeps partial_rotary_factor in rope_parameters.
  const { partial_rotary_factor: _p, rope_theta: _t, ...v5 } = c as Record<string, unknown>;
  assert.match(specOf({ ...v5, rope_parameters: { rope_type: 'default', rope_theta: 10_000_000, partial_rotary_factor: 0.25 } }), /rope_dim += 64/);
});
