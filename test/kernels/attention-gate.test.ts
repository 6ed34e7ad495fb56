// Qwen3-Next's attention output gate in the ONNX export: q projects the query and then its gate
// per head; the attention output times sigmoid(gate) goes into o. With every gate row of q at
// zero the gate is sigmoid(0) = ½, so the gated branch adds exactly half of what the same
// layer without a gate adds to the residual stream (o is linear), in prefill and decode, on standard and fused ops; stored
// elements are the initializers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, maxRelDiff, runSynthetic } from './helpers.js';

const H = 2;
const HD = 8;
const SPECS = `
model Gated {
  embed = Embedding(61, 16)
  attn  = Attention(16, ${H}, kv_heads: 1, head_dim: ${HD}, qk_norm: rms, gate: true, rope: true)
}
variant Plain of Gated { attn = Attention(16, ${H}, kv_heads: 1, head_dim: ${HD}, qk_norm: rms, rope: true) }
variant Bare of Gated { attn = Identity() }
`;

/** q of the gated layer: per head the plain layer's query rows, then head_dim zero gate rows. */
const zeroGates: WeightFill = (key, shape, dtype, scale, offset) => {
  if (!key.endsWith('attn.q') || shape[0] !== 2 * H * HD) return defaultFill(key, shape, dtype, scale, offset);
  const d = shape[1]!;
  const bytes = defaultFill(key, [H * HD, d], dtype, scale, offset);
  const plain = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Float32Array(2 * H * HD * d);
  for (let h = 0; h < H; h++) out.set(plain.subarray(h * HD * d, (h + 1) * HD * d), 2 * h * HD * d);
  return new Uint8Array(out.buffer);
};

test('attention output gate: a zero gate halves the ungated layer, in prefill and decode, standard and fused', async () => {
  for (const ops of ['standard', 'fused'] as const) {
    for (const decode of [undefined, { batch: 2, past: 5 }]) {
      const options = { ops, ...(decode ? { decode } : {}) };
      const gated = exportModel(SPECS, 'Gated', { ...options, fill: zeroGates });
      const plain = exportModel(SPECS, 'Plain', options);
      assert.equal(gated.initializerElements, gated.storedParams);
      assert.equal(gated.storedParams - plain.storedParams, BigInt(H * HD * 16), 'the gate rows of q');
      const s = decode ? 1 : 6;
      // A bare attention is a residual branch: x + o(a) plain, x + o(a)/2 with a zero gate.
      const x = await runSynthetic(exportModel(SPECS, 'Bare', options), 2, s);
      const half = Array.from(await runSynthetic(plain, 2, s), (v, i) => x[i]! + (v - x[i]!) / 2);
      assertClose(await runSynthetic(gated, 2, s), half, 1e-5, `${ops}${decode ? ' decode' : ''}`);
      // A live gate is not ½ everywhere.
      const live = exportModel(SPECS, 'Gated', options);
      assert.ok(maxRelDiff(await runSynthetic(live, 2, s), half) > 1e-4, 'the gate acts');
    }
  }
});
