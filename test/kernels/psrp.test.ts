// PSRP (`adapt body.mlp.down: psrp(rank: r)`, Moment Probing's MP+) in the ONNX export
// (kernels/layers/psrp.ts, kernels/layers/branch-input.ts): initializer elements equal
// params.stored, the graph runs on CPU, and its output equals an independent computation written
// here on the graph's own initializers — mingzeG/Moment-Probing@0ddc040
// models/vision_transformer.py, Block.forward with tuning_mode 'psrp':
//   x = x + attn(norm1(x)); weight, bias = psrp(x); x = x + bias + (weight + 1) * mlp(norm2(x))
// with PSRP.py's psrp(x) = (up_weight(relu(down(x))), up_bias(relu(down(x)))), bias-free Linears.
// The block's first branch here is an MLP (tokens stay independent, so the reference is per
// token), which makes the stream PSRP reads (after that branch's add) differ from the block's
// input and from norm2's output: reading either would fail the comparison.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExportError, exportModel, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, gelu, idRows, initializer, matmulMacs, matvec, runChecked } from './helpers.js';

const V = 29;
const D = 8;
const F = 16;
const LAYERS = 2;
const spec = (adapt: string) => `
block B(d) {
  norm1 = LayerNorm(d)
  fc    = MLP(d, 12)
  norm2 = LayerNorm(d)
  mlp   = MLP(d, ${F}, act: gelu)
}
model M {
  embed = Embedding(${V}, ${D})
  body  = B(${D}) * ${LAYERS}
}
variant P of M { ${adapt} }
`;
const IDS = [[3, 17, 8], [20, 6, 2]];
// The up projections drawn larger than the synthetic 0.01, so PSRP moves the output well past the tolerance.
const fill: WeightFill = (key, shape, dtype, scale, offset) => defaultFill(key, shape, dtype, key.includes('.psrp_up_') ? 0.5 : scale, offset);

const layerNorm = (x: readonly number[], w: Float32Array, b: Float32Array): number[] => {
  const mu = x.reduce((a, v) => a + v, 0) / x.length;
  const variance = x.reduce((a, v) => a + (v - mu) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mu) / Math.sqrt(variance + 1e-5)) * w[i]! + b[i]!);
};

/** Each row's last token through the model, PSRP's factors those of task 0 (the first [r, d] / [d, r] slice). */
function reference(r: ExportResult, rank: number): number[] {
  const table = initializer(r, 'embed.weight');
  return IDS.flatMap((row) => {
    const id = row[row.length - 1]!;
    let x = Array.from(table.subarray(id * D, (id + 1) * D));
    for (let l = 0; l < LAYERS; l++) {
      const w = (name: string) => initializer(r, `body[${l}].${name}`);
      const mlp = (m: string, z: readonly number[], hidden: number) => matvec(w(`${m}.down`), matvec(w(`${m}.up`), z, hidden, w(`${m}.up_bias`)).map(gelu), D, w(`${m}.down_bias`));
      const f = mlp('fc', layerNorm(x, w('norm1.weight'), w('norm1.bias')), 12);
      x = x.map((v, i) => v + f[i]!);
      const y = mlp('mlp', layerNorm(x, w('norm2.weight'), w('norm2.bias')), F);
      const h = matvec(w('mlp.down.psrp_down').subarray(0, rank * D), x, rank).map((v) => Math.max(0, v));
      const scale = matvec(w('mlp.down.psrp_up_weight').subarray(0, D * rank), h, D);
      const shift = matvec(w('mlp.down.psrp_up_bias').subarray(0, D * rank), h, D);
      x = x.map((v, i) => v + shift[i]! + (1 + scale[i]!) * y[i]!);
    }
    return x;
  });
}

test('psrp: the target\'s output rescaled and shifted from its branch\'s residual stream; initializers = params.stored; equals Block.forward (tuning_mode psrp)', async () => {
  const base = exportModel(spec(''), 'M', { ops: 'standard' }).storedParams;
  for (const [adapt, rank, tasks] of [
    ['adapt body.mlp.down: psrp(rank: 3)', 3, 1],
    ['adapt body.mlp.down: psrp(rank: 2, tasks: 3)', 2, 3],
  ] as const) {
    for (const ops of ['standard', 'fused'] as const) {
      const what = `${adapt} ${ops}`;
      const r = exportModel(spec(adapt), 'P', { ops, fill });
      assert.equal(r.initializerElements, r.storedParams, what);
      // PSRP.py: down [r, d], up_weight and up_bias [d, r] per block, per task.
      assert.equal(r.storedParams - base, BigInt(LAYERS * tasks * 3 * D * rank), what);
      assert.deepEqual(r.spec.graph.initializers.find((i) => i.name === 'body[1].mlp.down.psrp_down')?.dims.map(Number), tasks === 1 ? [rank, D] : [tasks, rank, D], what);
      assertClose(await runChecked(r, { input_ids: idRows(IDS) }), reference(r, rank), 1e-5, what);
    }
  }
});

test('psrp: the graph\'s multiply-adds are the engine\'s FLOPs (down run twice, as PSRP.forward does)', async () => {
  const feeds = { input_ids: idRows(IDS) };
  const tokens = BigInt(IDS.length * IDS[0]!.length);
  const plain = exportModel(spec(''), 'M', { ops: 'standard' });
  const adapted = exportModel(spec('adapt body.mlp.down: psrp(rank: 3)'), 'P', { ops: 'standard' });
  const macs = async (r: ExportResult) => (await matmulMacs(r, feeds, () => true)).weights;
  const extra = (await macs(adapted)) - (await macs(plain));
  // Per token and block: down twice (2·d·r), up_weight and up_bias (d·r each).
  assert.equal(extra, tokens * BigInt(LAYERS * 4 * D * 3));
  assert.equal(2n * extra, tokens * (adapted.report.flops.decode - plain.report.flops.decode));
});

test('psrp: refused by name where the reference defines no stream to read or the widths differ', () => {
  const refused = (text: string, name: string, message: RegExp) =>
    assert.throws(() => exportModel(text, name, { ops: 'standard' }), (e: unknown) => e instanceof ExportError && message.test(e.message), text);
  // A Linear applied in sequence is no residual branch.
  refused(`
model M {
  embed = Embedding(${V}, ${D})
  proj  = Linear(${D}, ${D})
}
variant P of M { adapt proj: psrp(rank: 2) }
`, 'P', /^proj\.weight: PSRP .*no residual branch's/);
  // mlp.up's output is F wide, the stream D.
  refused(spec('adapt body.mlp.up: psrp(rank: 2)'), 'P', /^body\[0\]\.mlp\.up: PSRP .*the output is 16 wide, the stream 8/);
});

test('MP+ (examples/moment-probing.npas) exports: 12 PSRP(768, 16) over MP, initializers = params.stored', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'moment-probing.npas'), 'utf8');
  const none: WeightFill = () => new Uint8Array(0);
  const mp = exportModel(text, 'MP', { fill: none });
  const plus = exportModel(text, 'MPPlus', { fill: none });
  for (const r of [mp, plus]) assert.equal(r.initializerElements, r.storedParams, r.modelName);
  // vision_transformer.py Block: PSRP(dim) with PSRP.py's default reduction 16, in each of the 12 blocks of ViT-B (d 768).
  assert.equal(plus.storedParams - mp.storedParams, 12n * 3n * 768n * 16n);
  for (let l = 0; l < 12; l++) assert.ok(plus.spec.graph.nodes.some((n) => n.op === 'Gemm' && n.inputs.includes(`body[${l}].mlp.down.psrp_down`)), `block ${l}`);
});
