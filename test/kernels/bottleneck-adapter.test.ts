// Regular bottleneck adapters (`adapt PATHS: bottleneck_adapter(…)`) in the ONNX export
// (kernels/layers/bottleneck-adapter.ts): initializer elements equal params.stored — with
// `tasks: T` every task's adapter ([T, …]) — and the graph's output on CPU equals fairseq's
// BottleneckAdapter.forward (facebookresearch/fairseq@1ecbb80,
// fairseq/modules/bottleneck_adapter_block.py), pre-norm and post-norm, written out here on the
// graph's own initializers for task 0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows, initializer, matvec, runChecked } from './helpers.js';

const V = 23;
const D = 8;
const LAYERS = 2;
const spec = (statement: string) => `
model M {
  block Layer {
    a = Linear(${D}, ${D})
  }
  embed = Embedding(${V}, ${D})
  body  = Layer * ${LAYERS}
}
variant A of M {
  ${statement}
}
`;
const IDS = [[3, 17, 8], [20, 6, 2]];

interface Config { readonly r: number; readonly tasks: number; readonly norm: boolean; readonly postNorm: boolean }
const args = (c: Config) => `bottleneck_adapter(bottleneck: ${c.r}, norm: ${c.norm}, post_norm: ${c.postNorm}${c.tasks > 1 ? `, tasks: ${c.tasks}` : ''})`;

const layerNorm = (x: readonly number[], w?: ArrayLike<number>, b?: ArrayLike<number>): number[] => {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * (w ? w[i]! : 1) + (b ? b[i]! : 0));
};
const relu = (v: number) => Math.max(0, v);
const row = (t: Float32Array, i: number, n: number) => t.subarray(i * n, (i + 1) * n); // task i's slice of a [T, …] store

/** BottleneckAdapter.forward on y, task 0's stores. */
function adapted(r: ExportResult, key: string, c: Config, y: number[]): number[] {
  const w = (part: string, n: number) => row(initializer(r, `${key}.${part}`), 0, n);
  const norm = (v: readonly number[]) => (c.norm ? layerNorm(v, w('layer_norm.weight', D), w('layer_norm.bias', D)) : [...v]);
  const x = c.postNorm ? y : norm(y); // if self.normalize_before: x = self.layer_norm(x)
  const h = matvec(w('fc1.weight', c.r * D), x, c.r, w('fc1.bias', c.r)).map(relu);
  const sum = matvec(w('fc2.weight', D * c.r), h, D, w('fc2.bias', D)).map((v, i) => v + y[i]!); // x += residual
  return c.postNorm ? norm(sum) : sum;
}

function reference(r: ExportResult, c: Config): number[] {
  return IDS.flatMap((ids) => {
    let x = Array.from(row(initializer(r, 'embed.weight'), ids[ids.length - 1]!, D));
    for (let l = 0; l < LAYERS; l++) x = adapted(r, `body[${l}].a.weight.adapter`, c, matvec(initializer(r, `body[${l}].a.weight`), x, D));
    return x;
  });
}

test('bottleneck_adapter: every task\'s adapter stored, initializers = params.stored; output equals fairseq\'s BottleneckAdapter for task 0', async () => {
  const base = exportModel(spec(''), 'M').storedParams;
  for (const c of [
    { r: 3, tasks: 1, norm: true, postNorm: false },
    { r: 2, tasks: 4, norm: true, postNorm: false },
    { r: 3, tasks: 3, norm: true, postNorm: true },
    { r: 2, tasks: 2, norm: false, postNorm: false },
  ]) {
    const r = exportModel(spec(`adapt body.a: ${args(c)}`), 'A', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, args(c));
    // Per layer and task: LayerNorm(d), Linear(d, r), Linear(r, d).
    const one = (c.norm ? 2 * D : 0) + (D * c.r + c.r) + (c.r * D + D);
    assert.equal(r.storedParams - base, BigInt(LAYERS * c.tasks * one), args(c));
    const out = await runChecked(r, { input_ids: idRows(IDS) });
    assertClose(out, reference(r, c), 1e-4, args(c));
  }
});
