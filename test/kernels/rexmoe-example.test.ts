// The ReXMoE gallery example (examples/rexmoe.npas) in the ONNX export and the CPU probe: each
// group of r adjacent layers is one expert pool, read by the r layers' own routers [r·E, d], so
// the initializers hold exactly params.stored — at the example's full size, and for a small
// model of the same shape probed on CPU.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel } from '../../kernels/export.js';
import { runProbe } from '../../kernels/probe-client.js';
import type { WeightFill } from '../../kernels/graph-builder.js';

const root = join(__dirname, '..', '..');
const text = readFileSync(join(root, 'examples', 'rexmoe.npas'), 'utf8');

test('the ReXMoE example exports at its exact size: REX-2.3BA0.3B-R4 holds 2,396,291,584 initializer elements, one bank per group of 4', () => {
  const none: WeightFill = () => new Uint8Array(0);
  const r = exportModel(text, 'Rex_2_3B_R4', { fill: none });
  // 32 layers of attention (2·512² + 2·512·64), norms and a router [256, 512]; 8 pools of 256
  // SwiGLU experts of 3·512·744; two tables of 32,000 × 512 and the final norm.
  const layer = 2n * 512n * 512n + 2n * 512n * 64n + 2n * 512n + 256n * 512n;
  const stored = 32n * layer + 8n * 256n * 3n * 512n * 744n + 2n * 32_000n * 512n + 512n;
  assert.equal(r.storedParams, stored);
  assert.equal(r.initializerElements, stored);
  // A router per layer, each [256, 512].
  const routers = r.spec.graph.initializers.filter((i) => /\.moe\.router$/.test(i.name));
  assert.equal(routers.length, 32);
  for (const i of routers) assert.deepEqual(i.dims.map(Number), [256, 512], i.name);
});

test('the probe runs a small ReXMoE (R4 over 8 layers: 2 pools of 4·8 experts) on CPU, initializers = params.stored', async () => {
  const small = `${text}\nvariant TinyRex of Rex_2_3B_R4 {\n  L = 8\n  d = 32\n  ffn = 16\n  heads = 4\n  E = 8\n  k = 2\n  vocab = 100\n}\n`;
  const r = exportModel(small, 'TinyRex', { ops: 'standard' });
  assert.equal(r.initializerElements, r.storedParams);
  // The same model without the pools stores every layer's 32 candidates: 6 banks of 32 experts
  // more (3·32·16 each), and the same 8 routers [32, 32].
  const unpooled = exportModel(small.replace('variant TinyRex of Rex_2_3B_R4 {', 'variant TinyRex of MoE_2_3B {\n  r = 4'), 'TinyRex', { ops: 'standard' });
  assert.equal(unpooled.storedParams - r.storedParams, 6n * 32n * 3n * 32n * 16n);
  const out = await runProbe({ specText: small, model: 'TinyRex', ep: 'cpu', batch: 2, seq: 8, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: join(root, 'kernels', 'probe-host.ts'), timeoutMs: 60_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  assert.equal(out.result.initializerElements, out.result.storedParams);
  assert.equal(BigInt(out.result.storedParams), r.storedParams);
  assert.ok(out.result.prefill.medianMs > 0);
});
