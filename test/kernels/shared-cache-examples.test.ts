// The gallery's shared-cache examples in the ONNX export, on the CPU provider:
// examples/hogwild.npas (Hogwild! workers over one KV cache) and examples/dpo-prefix-sharing.npas
// (a DPO pair's prompt shared by its two responses), each exported at full size without weight
// data (initializer elements = params.stored; the one cache, the packed prompt), then the
// example's model scaled down — its constants overridden in a variant — probed on CPU: the
// workers' decode step over one cache, the pair's packed prefill and shared decode step. Every
// figure is derived here from the configuration, not read back from the engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel } from '../../kernels/export.js';
import { runProbe } from '../../kernels/probe-client.js';
import type { WeightFill } from '../../kernels/graph-builder.js';

const host = join(__dirname, '..', '..', 'kernels', 'probe-host.ts');
const example = (name: string) => readFileSync(join(__dirname, '..', '..', 'examples', name), 'utf8');
const none: WeightFill = () => new Uint8Array(0);

test('examples/hogwild.npas exports at its exact size: the prompt once, a decode step of 2 workers over one cache', () => {
  const text = example('hogwild.npas');
  // Qwen/QwQ-32B: 64 layers, 8 KV heads of 128, hidden 5120, intermediate 27648, vocabulary 152,064, untied.
  const perLayer = 5120 * 5120 * 2 + 2 * 5120 * 1024 + 3 * 5120 * 27_648 + 5120 + 2 * 1024 + 2 * 5120;
  const stored = BigInt(152_064 * 5120 * 2 + 64 * perLayer + 5120);
  const prefill = exportModel(text, 'HogwildQwQ32B_2', { fill: none });
  assert.equal(prefill.storedParams, stored);
  assert.equal(prefill.initializerElements, stored);
  const past = 64;
  const decode = exportModel(text, 'HogwildQwQ32B_2', { fill: none, decode: { batch: 1, past }, analysis: { seq: past, batch: 1, dtype: 'bf16' } });
  assert.equal(decode.initializerElements, stored);
  // One cache for the two workers: 64 layers · K and V · 8 · 128 · past positions.
  assert.equal(decode.kvCacheElements, BigInt(64 * 2 * 8 * 128 * past));
  assert.deepEqual(decode.inputs.map((i) => i.decodeTokens), [2]);
});

test('a scaled-down QwQ-32B with Hogwild! workers probes on CPU: prefill once, P tokens per decode step over one cache', async () => {
  // The example's model with its constants scaled down: d 32, 4 heads of 8, 2 KV heads, 2 layers.
  const tiny = `${example('hogwild.npas')}\nvariant Tiny of QwQ32B {\n  vocab = 61\n  d = 32\n  ffn = 48\n  layers = 2\n  heads = 4\n  kv_heads = 2\n}\nvariant TinyWorkers of Tiny {\n  parallel workers(3)\n}\n`;
  const B = 2;
  const S = 6;
  const out = await runProbe({ specText: tiny, model: 'TinyWorkers', ep: 'cpu', batch: B, seq: S, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: host, timeoutMs: 120_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  // Stored: embed and lm_head 61·32 each; per layer q, o 32·32, k, v 32·16, biases 32 + 2·16,
  // GatedMLP 3·32·48, two RMSNorms; the final norm.
  const perLayer = 2 * 32 * 32 + 2 * 32 * 16 + 32 + 2 * 16 + 3 * 32 * 48 + 2 * 32;
  assert.equal(r.storedParams, String(2 * 61 * 32 + 2 * perLayer + 32));
  assert.equal(r.initializerElements, r.storedParams);
  assert.ok(!('unavailable' in r.decode), 'the decode step is measured');
  if ('unavailable' in r.decode) return;
  // One cache per sequence for its three workers: 2 layers · K and V · 2 · 8 · S · B.
  assert.equal(r.decode.kvCacheElements, String(2 * 2 * 2 * 8 * S * B));
  // A decode step: B·3 tokens, each through every matmul and over the S cached keys
  // (2·heads·(8 + 8) FLOPs per key per layer), then lm_head.
  const macs = 2 * (2 * 32 * 32 + 2 * 32 * 16 + 3 * 32 * 48) + 32 * 61;
  assert.equal(r.decode.flops, String(B * 3 * (2 * macs + 2 * 2 * 4 * 16 * S)));
});

test('examples/dpo-prefix-sharing.npas exports at its exact size: Capybara\'s pair packed as one row, the prompt once', () => {
  const text = example('dpo-prefix-sharing.npas');
  // mistralai/Mistral-7B-Instruct-v0.1: 32 layers, 8 KV heads of 128, hidden 4096, intermediate 14336, vocabulary 32,000, untied.
  const stored = BigInt(2 * 32_000 * 4096 + 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14_336 + 2 * 4096) + 4096);
  assert.equal(stored, 7_241_732_096n);
  const share = { tokens: 712, continuations: 2 };
  const r = exportModel(text, 'Mistral7B', { fill: none, analysis: { seq: 1160, batch: 1, dtype: 'bf16', sharedPrefix: share } });
  assert.equal(r.initializerElements, stored);
  assert.deepEqual(r.sharedPrefix, share);
  // The prompt's 712 positions once and each response's 448: 32 layers · K and V · 8 · 128 · bf16.
  assert.equal(r.report.kvCacheBytes, BigInt(32 * 2 * 8 * 128 * (712 + 2 * 448) * 2));
});

test('a scaled-down Mistral-7B probes a DPO pair on CPU: the packed prefill and the shared decode step', async () => {
  const tiny = `${example('dpo-prefix-sharing.npas')}\nvariant Tiny of Mistral7B {\n  vocab = 61\n  d = 32\n  layers = 2\n  heads = 4\n  kv_heads = 2\n  ff = 48\n}\n`;
  const B = 2;
  const S = 9;
  const P = 5;
  const C = S - P;
  const out = await runProbe({ specText: tiny, model: 'Tiny', ep: 'cpu', batch: B, seq: S, dtype: 'fp32', runs: 2, warmup: 1, sharedPrefix: P, continuations: 2 }, { hostPath: host, timeoutMs: 120_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  // Stored: embed and lm_head 61·32 each; per layer q, o 32·32, k, v 32·16, GatedMLP 3·32·48, two RMSNorms; the final norm.
  assert.equal(r.storedParams, String(2 * 61 * 32 + 2 * (2 * 32 * 32 + 2 * 32 * 16 + 3 * 32 * 48 + 2 * 32) + 32));
  assert.equal(r.initializerElements, r.storedParams);
  // Weight MACs per token and attention FLOPs per query and key in a layer (4 heads · (8 + 8)).
  const macs = 2 * (2 * 32 * 32 + 2 * 32 * 16 + 3 * 32 * 48) + 32 * 61;
  const perKey = 2 * 4 * 16;
  const causal = (s: number) => (s * (s + 1)) / 2;
  // The packed row: P + 2C tokens; the prompt causally, each response over the prompt and itself.
  assert.equal(r.prefill.flops, String(B * (2 * macs * (P + 2 * C) + 2 * perKey * (causal(P) + 2 * (causal(S) - causal(P))))));
  assert.ok(!('unavailable' in r.decode), 'the decode step is measured');
  if ('unavailable' in r.decode) return;
  // Each response's next token over the prompt's cache (held once) and its own: B·2 tokens, S keys each.
  assert.equal(r.decode.flops, String(B * 2 * (2 * macs + 2 * perKey * S)));
  assert.equal(r.decode.kvCacheElements, String(2 * 2 * 2 * 8 * B * (P + 2 * C)));
});
