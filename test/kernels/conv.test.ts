// Convolutional models in the ONNX export, on the CPU provider: Conv1d/Conv2d, BatchNorm, Pool,
// GlobalPool and Flatten; the image made on the device from the ids; WRN-style residual blocks with
// and without a projection shortcut (the residual convention of kernels/layers/conv-block.ts,
// checked against a hand-computed twin); initializer elements equal params.stored; refusals by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExportError, exportModel, type ExportResult } from '../../kernels/export.js';
import { idRows, runChecked } from './helpers.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';

const SPEC = `
block WideDown(c_in, c_out, stride, size) {
  bn1      = BatchNorm(c_in)
  conv1    = Conv2d(c_in, c_out, 3, stride: stride, padding: 1, bias: false, size: size)
  bn2      = BatchNorm(c_out)
  conv2    = Conv2d(c_out, c_out, 3, padding: 1, bias: false, size: size // stride)
  shortcut = Conv2d(c_in, c_out, 1, stride: stride, bias: false, size: size)
}
block Wide(c, size) {
  bn1   = BatchNorm(c)
  conv1 = Conv2d(c, c, 3, padding: 1, bias: false, size: size)
  bn2   = BatchNorm(c)
  conv2 = Conv2d(c, c, 3, padding: 1, bias: false, size: size)
}
model TinyWrn {
  stem   = Conv2d(3, 4, 3, padding: 1, bias: false, size: 8)
  group1 = WideDown(c_in: 4, c_out: 8, stride: 1, size: 8) + Wide(c: 8, size: 8)
  group2 = WideDown(c_in: 8, c_out: 12, stride: 2, size: 8) + Wide(c: 12, size: 4)
  bn     = BatchNorm(12)
  relu   = Activation(relu)
  pool   = GlobalPool(avg)
  fc     = Linear(12, 10, bias: true)
}
model Lenet {
  c1   = Conv2d(1, 6, 5, padding: 2, size: 12)
  a1   = Activation(relu)
  p1   = Pool(max, kernel: 2)
  c2   = Conv2d(6, 8, 3, size: 6, groups: 2)
  p2   = Pool(avg, kernel: 2, stride: 2)
  flat = Flatten()
  fc   = Linear(32, 7)
}
model Audio {
  c1   = Conv1d(2, 6, 3, length: 20, padding: 1, dilation: 1)
  bn   = BatchNorm(6, affine: false)
  c2   = Conv1d(6, 6, 5, length: 20, stride: 2, padding: 2)
  pool = GlobalPool(max)
  fc   = Linear(6, 3)
}
`;

const run = (r: ExportResult, rows: number[][]): Promise<Float32Array> => runChecked(r, { input_ids: idRows(rows) });

test('CNNs (WRN blocks, LeNet with pooling and groups, Conv1d with BatchNorm without affine) export and run; initializers = params.stored', async () => {
  for (const [name, width] of [['TinyWrn', 10], ['Lenet', 7], ['Audio', 3]] as const) {
    const r = exportModel(SPEC, name);
    assert.equal(r.initializerElements, r.storedParams, name);
    assert.equal(r.outputWidth, width);
    // One image per sequence, seeded by its first id: the rest of the sequence does not matter.
    const a = await run(r, [[5, 1, 2], [9, 1, 2]]);
    const b = await run(r, [[5, 7, 7], [9, 3, 3]]);
    assert.deepEqual(a, b);
    assert.ok(a.slice(0, width).some((v, i) => Math.abs(v - a[width + i]!) > 1e-6), `${name}: two ids give two images`);
  }
  // The batch is B images; the engine counts a CNN per sample.
  const wrn = exportModel(SPEC, 'TinyWrn', { analysis: { batch: 2, seq: 3 } });
  assert.equal(wrn.report.flops.unit, 'sample');
});

test('WRN-28-10 exports (36,536,884 stored elements) with its 28 convolutions and 12 shortcut or residual adds', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'ssn-wrn-28-10.npas'), 'utf8');
  const r = exportModel(text, 'WRN28_10', { fill: () => new Uint8Array(0) });
  assert.equal(r.initializerElements, r.storedParams);
  assert.equal(r.storedParams, 36_536_884n);
  const nodes = r.spec.graph.nodes;
  assert.equal(nodes.filter((n) => n.op === 'Conv').length, 28); // the stem, 3 × (3 in WideDown + 3 × 2 in Wide)
  assert.equal(nodes.filter((n) => n.op === 'Add' && n.outputs[0]!.startsWith('res')).length, 12);
});

/** y = x + conv2(bn2(conv1(bn1(x)))) and the projection-shortcut block, computed in plain JS. */
test('the residual convention: a block equals main(x) + x, and main(x) + shortcut(x) when the shape changes', async () => {
  // The same WideDown/Wide blocks as single-block models, against twins with the sum written out:
  // a model whose block has no residual (only a stem) must differ, the wired one must match a
  // reference that runs the members with the same weights.
  const one = (block: string) => `
${SPEC.split('model TinyWrn')[0]}
model M {
  stem = Conv2d(3, 4, 3, padding: 1, bias: false, size: 8)
  b    = ${block}
  pool = GlobalPool(avg)
}`;
  // Reference: the same layers as top-level members (applied in sequence, no residual), whose
  // outputs we combine by hand through linearity of the pool: pool(a + b) = pool(a) + pool(b).
  const seqText = (members: string) => `
model M {
  stem = Conv2d(3, 4, 3, padding: 1, bias: false, size: 8)
${members}
  pool = GlobalPool(avg)
}`;
  const rename: WeightFill = (key, shape, dtype, scale, offset) => defaultFill(key.replace(/^(bn1|conv1|bn2|conv2|shortcut)\./, 'b.$1.'), shape, dtype, scale, offset);
  const ids = [[4], [11]];
  // Wide: same shape → x + main(x).
  const wired = await run(exportModel(one('Wide(c: 4, size: 8)'), 'M'), ids);
  const main = await run(exportModel(seqText('  bn1 = BatchNorm(4)\n  conv1 = Conv2d(4, 4, 3, padding: 1, bias: false, size: 8)\n  bn2 = BatchNorm(4)\n  conv2 = Conv2d(4, 4, 3, padding: 1, bias: false, size: 8)'), 'M', { fill: rename }), ids);
  const stem = await run(exportModel(seqText(''), 'M'), ids);
  const close = (a: Float32Array, b: Float32Array) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-5, `${v} vs ${b[i]}`));
  close(wired, main.map((v, i) => v + stem[i]!));
  // WideDown: the shape changes → main(x) + shortcut(x), the shortcut reading the block's input.
  const down = await run(exportModel(one('WideDown(c_in: 4, c_out: 6, stride: 2, size: 8)'), 'M'), ids);
  const dMain = await run(exportModel(seqText('  bn1 = BatchNorm(4)\n  conv1 = Conv2d(4, 6, 3, stride: 2, padding: 1, bias: false, size: 8)\n  bn2 = BatchNorm(6)\n  conv2 = Conv2d(6, 6, 3, padding: 1, bias: false, size: 4)'), 'M', { fill: rename }), ids);
  const dShort = await run(exportModel(seqText('  shortcut = Conv2d(4, 6, 1, stride: 2, bias: false, size: 8)'), 'M', { fill: rename }), ids);
  close(down, dMain.map((v, i) => v + dShort[i]!));
  assert.ok(down.some((v, i) => Math.abs(v - dMain[i]!) > 1e-4), 'the shortcut contributes');
});

test('convolutional wiring the exporter cannot read is refused by name', () => {
  const bad = (members: string, re: RegExp) =>
    assert.throws(() => exportModel(`model M {\n${members}\n}`, 'M'), (e: unknown) => e instanceof ExportError && re.test(e.message), members);
  bad('  c = Conv2d(3, 4, 3, size: 8)\n  d = Conv2d(4, 4, 3, size: 8)\n  p = GlobalPool()', /^d: Conv2d declares an input of 8×8 but the layers before it produce 6×6/);
  bad('  c = Conv2d(3, 4, 3, size: 8)\n  d = Conv2d(5, 4, 3, size: 6)\n  p = GlobalPool()', /^d: Conv2d reads 5 channels but the layers before it produce 4/);
  bad('  c = Conv2d(3, 4, 3, size: 8)', /ends on a feature map \[batch, 4, 6, 6\]/);
  bad('  c = Conv2d(3, 4, 3, size: 8)\n  f = Linear(4, 2)', /^f: Linear cannot read a feature map/);
  bad('  e = Embedding(10, 4)\n  c = Conv1d(4, 4, 3, length: 8)', /^c: Conv1d on a token stream is not supported/);
  bad('  c = Conv2d(3, 4, 3, size: 8)\n  p = Pool(max)\n  g = GlobalPool()', /^p: Pool without a kernel/);
  assert.throws(() => exportModel(SPEC, 'Lenet', { decode: { batch: 1, past: 4 } }), (e: unknown) => e instanceof ExportError && /^c1: a model that begins with a convolution reads one image per sample and has no decode step/.test(e.message));
  // A shortcut whose shape does not meet the main path's.
  const text = `
block B {
  a = Conv2d(4, 6, 3, padding: 1, size: 8)
  s = Conv2d(4, 5, 1, size: 8)
}
model M {
  stem = Conv2d(3, 4, 3, padding: 1, size: 8)
  b    = B
  p    = GlobalPool()
}`;
  assert.throws(() => exportModel(text, 'M'), (e: unknown) => e instanceof ExportError && /^b: the shortcut from s ends in \[5, 8×8\] but the block's main path in \[6, 8×8\]/.test(e.message));
});
