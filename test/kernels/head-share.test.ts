// Head-wise sharing (`share heads PATH: pairs(n)`) in the ONNX export (kernels/layers/head-share.ts):
// initializer elements equal params.stored for n within a layer, across layers and with qkvo; the
// shared model computes what its unshared twin computes when the twin's shared head slices are
// copies of instance 0's; what the exporter does not combine is refused by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExportError, exportModel, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { idRows, runChecked } from './helpers.js';

const SPEC = `
model Base {
  embed = Embedding(40, 16)
  block B {
    n = RMSNorm(16)
    a = Attention(16, 4, bias: true)
    m = RMSNorm(16)
    f = MLP(16, 32)
  }
  body = B * 3
  head = Linear(16, 40)
}
variant Two of Base { share heads body.a: pairs(2) }
variant Six of Base { share heads body.a: pairs(6) }
variant All of Base { share heads body.a: pairs(8, qkvo: true) }
variant Qkvo of Base { share heads body.a: pairs(3, qkvo: true) }
`;

const run = (r: ExportResult): Promise<Float32Array> => runChecked(r, { input_ids: idRows([[3, 9, 1, 22], [5, 17, 8, 30]]) });

test('head-wise sharing: initializer elements = params.stored (within a layer, across layers, qkvo)', async () => {
  const base = exportModel(SPEC, 'Base');
  for (const [name, saved] of [['Two', 2n * 4n * 32n], ['Six', 6n * 4n * 32n], ['All', 8n * 4n * 64n], ['Qkvo', 3n * 4n * 64n]] as const) {
    const r = exportModel(SPEC, name);
    assert.equal(r.initializerElements, r.storedParams, name);
    assert.equal(base.storedParams - r.storedParams, saved, name);
    assert.ok((await run(r)).every(Number.isFinite));
    const d = exportModel(SPEC, name, { decode: { batch: 1, past: 4 } });
    assert.equal(d.initializerElements, d.storedParams, name);
  }
});

test('a head-shared model equals its unshared twin with the shared slices copied', async () => {
  // Six: instance 1 shares heads 0-3 (all) and instance 2 heads 0-1 of q and k with instance 0.
  // All: every head of instances 1 and 2, q, k, v and o. Head dim 4, d 16.
  for (const [name, sharedOf] of [['Six', [0, 4, 2]], ['All', [0, 4, 4]], ['Qkvo', [0, 3, 0]]] as const) {
    const shared = exportModel(SPEC, name);
    const qkvo = name !== 'Six';
    const copy: WeightFill = (key, shape, dtype, scale, offset) => {
      const m = /^body\[(\d)\]\.a\.(q|k|v|o)$/.exec(key);
      const r = m ? sharedOf[Number(m[1])]! : 0;
      if (!m || r === 0 || (!qkvo && (m[2] === 'v' || m[2] === 'o'))) return defaultFill(key, shape, dtype, scale, offset);
      const src = new Float32Array(defaultFill(`body[0].a.${m[2]}`, shape, dtype, scale, offset).buffer);
      if (r === 4) return new Uint8Array(src.buffer);
      const own = new Float32Array(defaultFill(`${key}.heads[${r}:4]`, m[2] === 'o' ? [16, (4 - r) * 4] : [(4 - r) * 4, 16], dtype, scale, offset).buffer);
      const out = new Float32Array(256);
      for (let i = 0; i < 16; i++) {
        for (let j = 0; j < 16; j++) {
          const [row, col] = [i, j];
          const head = Math.floor((m[2] === 'o' ? col : row) / 4);
          out[i * 16 + j] = head < r ? src[i * 16 + j]! : m[2] === 'o' ? own[row * (4 - r) * 4 + (col - r * 4)]! : own[(row - r * 4) * 16 + col]!;
        }
      }
      return new Uint8Array(out.buffer);
    };
    const twin = exportModel(SPEC, 'Base', { fill: copy });
    const a = await run(shared);
    const b = await run(twin);
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-4, `${name}: ${v} vs ${b[i]}`));
    const fresh = await run(exportModel(SPEC, 'Base'));
    assert.ok(a.some((v, i) => Math.abs(v - fresh[i]!) > 1e-3), `${name}: sharing changes the output`);
  }
});

test('head-wise sharing the exporter does not combine is refused by name', () => {
  const gqa = SPEC.replace('Attention(16, 4, bias: true)', 'Attention(16, 4, kv_heads: 2)');
  assert.throws(() => exportModel(gqa, 'Two'), (e: unknown) => e instanceof ExportError && /share heads body\.a: head-wise sharing of grouped-query attention/.test(e.message));
  const both = `${SPEC}\nvariant Both of Base {\n  share body: cycle(2)\n  share heads body.a: pairs(2)\n}`;
  assert.throws(() => exportModel(both, 'Both'), (e: unknown) => e instanceof ExportError && /instances share stores/.test(e.message));
});

test('head-wise sharing over nested stacks is refused, not exported with the wrong count', () => {
  const nested = `
model N {
  embed = Embedding(40, 16)
  block Inner {
    n = RMSNorm(16)
    a = Attention(16, 4)
  }
  block Outer {
    inner = Inner * 2
  }
  body = Outer * 2
}
variant S of N { share heads body.inner.a: pairs(2) }`;
  assert.throws(() => exportModel(nested, 'S'), (e: unknown) => e instanceof ExportError && /share heads .*: the ONNX exporter shares heads across the instances of one stack/.test(e.message));
});
