// Decode steps of today's hybrid models, imported from their official configs with every size
// shrunk: Jamba (Mamba-1 + attention + MoE), Nemotron-H (Mamba-2 + attention + relu² MLP),
// Qwen3-Next (Gated DeltaNet + gated attention + MoE) and Llama 4 Scout (chunked and full
// attention, no-rope layers). Each exports one decode step, with standard and fused ops, whose
// initializers are params.stored, whose KV-cache initializers are the engine's KV cache and whose
// recurrent-state inputs are the engine's recurrent state — both derived here from the config by
// formula — and chained steps run on CPU. The probe measures their decode step.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportModel } from '../../kernels/export.js';
import { runProbe } from '../../kernels/probe-client.js';
import { importHfConfig } from '../../src/core/index.js';
import { chainDecode } from './helpers.js';
import { CapturedIo } from '../cli/captured-io.js';

const fixture = (name: string) => JSON.parse(readFileSync(join(process.cwd(), 'test', 'fixtures', 'hf', name), 'utf8')) as Record<string, unknown>;
const BATCH = 2;
const PAST = 6;

interface Case {
  readonly name: string;
  readonly config: Record<string, unknown>;
  /** KV elements per sequence at context PAST, from the shrunk config. */
  readonly kv: number;
  /** Recurrent-state elements per sequence, from the shrunk config. */
  readonly state: number;
}

const CASES: readonly Case[] = [
  (() => {
    // Jamba: attention every 4th layer from 2 (one of 4), Mamba-1 elsewhere: I = 2·32, N 4, conv 3.
    const config = { ...fixture('jamba-v0-1.json'), hidden_size: 32, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 48, mamba_d_state: 4, mamba_d_conv: 3, mamba_dt_rank: 4, num_experts: 4, num_hidden_layers: 4, attn_layer_period: 4, attn_layer_offset: 2, vocab_size: 97 };
    const I = 64;
    return { name: 'Jamba', config, kv: 1 * 2 * 2 * 8 * PAST, state: 3 * (I * 3 + I * 4) };
  })(),
  (() => {
    // Nemotron-H: pattern M-M*: three Mamba-2 layers (8 heads × 8, 2 groups, N 4, conv 4), one attention.
    const config = { ...fixture('nemotron-h-8b-base-8k.json'), hidden_size: 32, attention_head_dim: 8, num_attention_heads: 4, num_key_value_heads: 2, mamba_head_dim: 8, mamba_num_heads: 8, n_groups: 2, ssm_state_size: 4, conv_kernel: 4, intermediate_size: 48, vocab_size: 97, num_hidden_layers: 5, hybrid_override_pattern: 'M-M*M' };
    const I = 64;
    const conv = I + 2 * 2 * 4;
    return { name: 'NemotronH', config, kv: 1 * 2 * 2 * 8 * PAST, state: 3 * (conv * 4 + I * 4) };
  })(),
  (() => {
    // Qwen3-Next: full attention every 4th layer; Gated DeltaNet (2 key heads × 4, 4 value heads × 4, conv 4) elsewhere.
    const config = { ...fixture('qwen3-next-80b-a3b-instruct.json'), hidden_size: 32, head_dim: 8, num_attention_heads: 4, num_key_value_heads: 2, linear_num_key_heads: 2, linear_num_value_heads: 4, linear_key_head_dim: 4, linear_value_head_dim: 4, linear_conv_kernel_dim: 4, num_experts: 4, num_experts_per_tok: 2, moe_intermediate_size: 12, shared_expert_intermediate_size: 12, intermediate_size: 48, num_hidden_layers: 4, vocab_size: 97 };
    const conv = 2 * 2 * 4 + 4 * 4;
    return { name: 'Qwen3Next', config, kv: 1 * 2 * 2 * 8 * PAST, state: 3 * (conv * 4 + 4 * 4 * 4) };
  })(),
  (() => {
    // Llama 4: chunks of 4 on the rope layers, full attention on the no-rope 4th; 2 KV heads × 8.
    const full = fixture('llama-4-scout-17b-16e.json');
    const text = full.text_config as Record<string, unknown>;
    const config = { ...full, text_config: { ...text, hidden_size: 32, head_dim: 8, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 24, intermediate_size_mlp: 48, num_local_experts: 4, attention_chunk_size: 4, num_hidden_layers: 4, moe_layers: [0, 1, 2, 3], no_rope_layers: [1, 1, 1, 0], vocab_size: 97, max_position_embeddings: 64 } };
    return { name: 'Llama4', config, kv: 2 * 2 * 8 * (3 * Math.min(PAST, 4) + PAST), state: 0 };
  })(),
];

function imported(c: Case): { spec: string; model: string } {
  const r = importHfConfig(JSON.stringify(c.config));
  if (!r.ok) assert.fail(`${c.name}: ${r.message}`);
  return { spec: r.spec, model: r.modelName };
}

test('hybrid decode steps: initializers = params.stored, KV and recurrent state = the engine\'s and the config\'s, chained steps run', async () => {
  for (const c of CASES) {
    const { spec, model } = imported(c);
    for (const ops of ['standard', 'fused'] as const) {
      const what = `${c.name} ${ops}`;
      const r = exportModel(spec, model, { ops, decode: { batch: BATCH, past: PAST }, analysis: { seq: PAST, batch: BATCH, dtype: 'fp32' } });
      assert.equal(r.initializerElements, r.storedParams, what);
      assert.equal(r.kvCacheElements, BigInt(BATCH * c.kv), `${what}: KV cache`);
      assert.equal(r.kvCacheElements * 4n, r.report.kvCacheBytes, `${what}: the engine's KV cache`);
      assert.equal(r.recurrentStateElements, BigInt(BATCH * c.state), `${what}: recurrent state`);
      assert.equal(r.recurrentStateElements * 4n, r.report.recurrentStateBytes, `${what}: the engine's recurrent state`);
      const steps = await chainDecode(r, [[1, 50, 9], [4, 70, 2]]);
      assert.equal(steps.length, 3);
      for (const y of steps) assert.equal(y.length, BATCH * 97, what);
    }
  }
});

test('the probe measures the decode step of hybrid models on CPU and reports the state it carries', async () => {
  const host = join(process.cwd(), 'kernels', 'probe-host.ts');
  for (const c of CASES.filter((x) => x.state > 0)) {
    const { spec, model } = imported(c);
    const out = await runProbe({ specText: spec, model, ep: 'cpu', batch: BATCH, seq: PAST, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: host, timeoutMs: 60_000 });
    assert.ok(out.ok, out.ok ? '' : `${c.name}: ${out.kind}: ${out.message}`);
    const d = out.result.decode;
    assert.ok(!('unavailable' in d), `${c.name}: ${'unavailable' in d ? d.unavailable : ''}`);
    if ('unavailable' in d) continue;
    assert.ok(d.medianMs > 0);
    assert.equal(d.kvCacheElements, String(BATCH * c.kv));
    assert.equal(d.recurrentStateElements, String(BATCH * c.state));
    assert.ok(out.result.notes.some((n) => n.includes(`recurrent layers' states (${BATCH * c.state} elements`)), c.name);
  }
});

test('npas export-onnx --decode-past writes a hybrid decode step whose inputs are the token ids and the recurrent states', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const jamba = CASES[0]!;
  const { spec, model } = imported(jamba);
  const dir = mkdtempSync(join(tmpdir(), 'npas-hybrid-decode-'));
  try {
    const file = join(dir, 'jamba.npas');
    const out = join(dir, 'jamba.onnx');
    writeFileSync(file, spec);
    const io = new CapturedIo(() => spec);
    assert.equal(await mainAsync(['export-onnx', file, '--model', model, '--decode-past', String(PAST), '--batch', String(BATCH), '-o', out], io), 0, io.err);
    // Three Mamba layers, a conv and an SSM state each.
    assert.match(io.out, new RegExp(`recurrent state: 6 inputs state\\.<layer>\\.<part> \\(${(BATCH * jamba.state).toLocaleString('en-US')} elements\\)`));
    const session = await ort.InferenceSession.create(out);
    try {
      assert.equal(session.inputNames[0], 'input_ids');
      assert.equal(session.inputNames.filter((n) => n.startsWith('state.')).length, 6);
      assert.equal(session.outputNames.filter((n) => n.startsWith('next_state.')).length, 6);
    } finally {
      await session.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
