// Hyper-Adapters (`adapt PATHS: hyper_lang(…)`) in the ONNX export
// (kernels/generated/language-hypernetwork.ts): initializer elements equal params.stored — one
// hypernetwork per statement, its layer embeddings numbering the encoder's layers and then the
// decoder's — and the graph's output on CPU equals fairseq's HyperNetwork written out here on the
// graph's own initializers, for the language pair (0, 1): pre-norm (normalize_before) and, with
// `post_norm: true`, post-norm (ResidualBlock.forward and HyperNetwork.forward normalising after
// the residual add, fairseq/modules/hyper_adapter.py at facebookresearch/fairseq@1ecbb80).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows, initializer, matvec, maybeInitializer, runChecked } from './helpers.js';

const V = 23;
const D = 8;
const ENC = 2;
const DEC = 3;
const spec = (statement: string) => `
model M {
  block Layer {
    a = Linear(${D}, ${D})
  }
  embed   = Embedding(${V}, ${D})
  encoder = Layer * ${ENC}
  decoder = Layer * ${DEC}
}
variant H of M {
  ${statement}
}
`;
const IDS = [[3, 17, 8], [20, 6, 2]];

interface Config {
  readonly r: number;
  readonly n: number; // languages
  readonly e: number;
  readonly h: number;
  readonly blocks: number;
  readonly norm: boolean;
  readonly tied: boolean;
  readonly inputNorm: boolean;
  readonly outputNorm: boolean;
  readonly postNorm?: boolean;
}

const args = (c: Config) => `hyper_lang(bottleneck: ${c.r}, languages: ${c.n}, embedding: ${c.e}, hidden: ${c.h}, encoder_layers: ${c.blocks}, norm: ${c.norm}, tied_languages: ${c.tied}, input_norm: ${c.inputNorm}, output_norm: ${c.outputNorm}${c.postNorm ? ', post_norm: true' : ''})`;

/** The hypernetwork's parameters, module by module (fairseq/modules/hyper_adapter.py), for L layer embeddings and adapters of width d. */
function hypernetworkParams(c: Config, layers: number, d: number): number {
  const { r, n, e, h } = c;
  const embeddings = (c.tied ? 1 : 2) * n * e + layers * e; // src_lang_emb, tgt_lang_emb, layer_emb
  const encoder = (c.inputNorm ? 2 * 3 * e : 0) + (3 * e * h + h) + c.blocks * (2 * h + 2 * (h * h + h)) + (c.outputNorm ? 2 * h : 0);
  const heads = (h * d * r + d * r) + (h * r + r) + (h * r * d + r * d) + (h * d + d) + (c.norm ? 2 * (h * d + d) : 0);
  return embeddings + encoder + heads;
}

const layerNorm = (x: readonly number[], w: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined): number[] => {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * (w ? w[i]! : 1) + (b ? b[i]! : 0));
};
const relu = (v: number) => Math.max(0, v);
const row = (table: Float32Array, i: number, width: number): number[] => Array.from(table.subarray(i * width, (i + 1) * width));

/** HyperNetwork.forward for (src 0, tgt 1, layer), applied to y: pre-norm, or post-norm with c.postNorm. */
function adapted(r: ExportResult, net: string, c: Config, layer: number, y: number[]): number[] {
  const w = (part: string) => initializer(r, `${net}.${part}.weight`);
  const b = (part: string) => initializer(r, `${net}.${part}.bias`);
  const linear = (x: readonly number[], part: string, out: number) => matvec(w(part), x, out, b(part));
  const tgt = initializer(r, `${net}.tgt_lang_emb`);
  const src = c.tied ? tgt : initializer(r, `${net}.src_lang_emb`);
  let x = [...row(src, 0, c.e), ...row(tgt, 1, c.e), ...row(initializer(r, `${net}.layer_emb`), layer, c.e)];
  if (c.inputNorm) x = layerNorm(x, w('encoder.norm_input'), b('encoder.norm_input'));
  x = linear(x, 'encoder.fc_input', c.h).map(relu);
  for (let k = 0; k < c.blocks; k++) {
    // ResidualBlock.forward: LayerNorm before fc1 (pre-norm) or after the residual add (post-norm).
    const norm = (v: readonly number[]) => layerNorm(v, w(`encoder.layers.${k}.norm`), b(`encoder.layers.${k}.norm`));
    const inner = linear(c.postNorm ? x : norm(x), `encoder.layers.${k}.fc1`, c.h).map(relu);
    const sum = linear(inner, `encoder.layers.${k}.fc2`, c.h).map((v, i) => v + x[i]!);
    x = c.postNorm ? norm(sum) : sum;
  }
  if (c.outputNorm) x = layerNorm(x, w('encoder.norm_output'), b('encoder.norm_output'));
  const root = Math.sqrt(c.h);
  const head = (part: string, out: number) => linear(x, part, out).map((v) => v / root);
  const downW = Float32Array.from(head('head_down_weights', D * c.r)); // view(r, d)
  const downB = Float32Array.from(head('head_down_bias', c.r));
  const upW = Float32Array.from(head('head_up_weights', c.r * D)); // view(d, r)
  const upB = Float32Array.from(head('head_up_bias', D));
  const gamma = c.norm ? head('head_layer_norm_gamma', D).map((v) => v + 1) : undefined;
  const beta = c.norm ? head('head_layer_norm_beta', D) : undefined;
  // HyperNetwork.forward: F.layer_norm(x, (d,), ln_g, ln_b) before the down projection, or after `x += residual`.
  const middle = matvec(downW, c.postNorm ? y : layerNorm(y, gamma, beta), c.r, downB).map(relu);
  const out = matvec(upW, middle, D, upB);
  const sum = y.map((v, i) => v + out[i]!);
  return c.postNorm ? layerNorm(sum, gamma, beta) : sum;
}

/** The last token through the encoder's then the decoder's layers, each Linear then its adapter (layer ids 0..ENC−1, then ENC..). */
function reference(r: ExportResult, net: string, c: Config): number[] {
  return IDS.flatMap((ids) => {
    let x = row(initializer(r, 'embed.weight'), ids[ids.length - 1]!, D);
    for (const [stack, count, offset] of [['encoder', ENC, 0], ['decoder', DEC, ENC]] as const) {
      for (let l = 0; l < count; l++) {
        const weight = maybeInitializer(r, `${stack}[${l}].a.weight`) ?? initializer(r, `${stack}[0].a.weight`);
        x = adapted(r, net, c, offset + l, matvec(weight, x, D));
      }
    }
    return x;
  });
}

test('hyper_lang (Hyper-Adapters): one hypernetwork over the encoder and decoder layers; initializers = params.stored; output equals fairseq\'s HyperNetwork', async () => {
  const base = exportModel(spec(''), 'M').storedParams;
  for (const c of [
    { r: 2, n: 3, e: 4, h: 6, blocks: 2, norm: false, tied: false, inputNorm: false, outputNorm: false },
    { r: 3, n: 4, e: 3, h: 5, blocks: 1, norm: true, tied: true, inputNorm: true, outputNorm: true },
    { r: 2, n: 2, e: 2, h: 4, blocks: 0, norm: false, tied: false, inputNorm: true, outputNorm: false },
    // Post-norm, as the reference runs on fairseq's default (post-norm) Transformer: its encoder's
    // norm on the output; with and without generated LayerNorm parameters.
    { r: 2, n: 3, e: 4, h: 6, blocks: 2, norm: true, tied: false, inputNorm: false, outputNorm: true, postNorm: true },
    { r: 3, n: 4, e: 3, h: 5, blocks: 1, norm: false, tied: true, inputNorm: true, outputNorm: false, postNorm: true },
  ]) {
    const r = exportModel(spec(`adapt encoder.a, decoder.a: ${args(c)}`), 'H', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, args(c));
    // L = ENC + DEC layer embeddings: one table for both stacks.
    assert.equal(r.storedParams - base, BigInt(hypernetworkParams(c, ENC + DEC, D)), args(c));
    assert.equal(r.report.params.trainable, r.storedParams - base, 'only the hypernetwork trains');
    const net = r.spec.graph.initializers.find((i) => i.name.endsWith(':hypernetwork.layer_emb'))!.name.slice(0, -'.layer_emb'.length);
    const out = await runChecked(r, { input_ids: idRows(IDS) });
    assertClose(out, reference(r, net, c), 1e-4, args(c));
    const plain = await runChecked(exportModel(spec(''), 'M', { ops: 'standard' }), { input_ids: idRows(IDS) });
    assert.ok(plain.some((v, i) => Math.abs(v - out[i]!) > 1e-3), `${args(c)}: the adapters change the output`);
  }
});
