// The gallery's shared-cache examples in the ONNX export, on the CPU provider:
// examples/hogwild.npas (Hogwild! workers over one KV cache) exported at full size without
// weight data (initializer elements = params.stored, the decode step's cache the one cache),
// then a scaled-down QwQ-32B — the example's model with its constants overridden — probed on
// CPU: the prompt prefilled once, a decode step of the workers' tokens over one cache. Every
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
