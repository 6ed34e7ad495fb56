// Nemotron 3's latent experts (MoE latent: L) in the ONNX export: the router and the shared
// expert read x; the routed experts run in the latent width, between latent_in (fc1_latent_proj)
// and latent_out (fc2_latent_proj). The reference is written here from the initializers: top-k of
// the router's logits (with its bias), softmax over those k (the exporter's routing, as
// Mixtral's), each chosen expert relu2 or SwiGLU on latent_in·x, their weighted sum through
// latent_out, plus the shared expert on x and the residual x. Prefill and decode; fused ops equal
// standard ops.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows, runChecked } from './helpers.js';

const D = 16;
const L = 6;
const H = 8;
const E = 4;
const K = 2;
const SH = 12;

function initializer(r: ExportResult, name: string): Float32Array | undefined {
  const t = r.spec.graph.initializers.find((i) => i.name === name);
  return t ? new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength)) : undefined;
}

function matvec(W: Float32Array, x: ArrayLike<number>, out: number, bias?: Float32Array): number[] {
  return Array.from({ length: out }, (_, o) => {
    let s = bias ? bias[o]! : 0;
    for (let i = 0; i < x.length; i++) s += W[o * x.length + i]! * x[i]!;
    return s;
  });
}

const ACTS: Record<string, (v: number) => number> = { relu2: (v) => Math.max(0, v) ** 2, silu: (v) => v / (1 + Math.exp(-v)) };

/** Copy `index` of a bank (expert or shared) on x: down(act(up·x)) or down(act(gate·x)·(up·x)). */
function expertOn(r: ExportResult, bank: string, index: number, x: number[], hidden: number, out: number, gated: boolean, act: string): number[] {
  const w = (part: string) => initializer(r, `moe.${bank}_${part}[${index}]`)!;
  const up = matvec(w('up'), x, hidden);
  const h = gated ? matvec(w('gate'), x, hidden).map((v, i) => ACTS[act]!(v) * up[i]!) : up.map(ACTS[act]!);
  return matvec(w('down'), h, out);
}

/** The last token's output of embed → MoE (a residual branch) for token `id`. */
function reference(r: ExportResult, id: number, gated: boolean, act: string): number[] {
  const x = Array.from(initializer(r, 'embed.weight')!.subarray(id * D, (id + 1) * D));
  const logits = matvec(initializer(r, 'moe.router')!, x, E, initializer(r, 'moe.router_bias'));
  const chosen = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]!).slice(0, K);
  const z = chosen.reduce((a, e) => a + Math.exp(logits[e]! - logits[chosen[0]!]!), 0);
  const xl = matvec(initializer(r, 'moe.latent_in')!, x, L);
  const sum = new Array<number>(L).fill(0);
  for (const e of chosen) {
    const weight = Math.exp(logits[e]! - logits[chosen[0]!]!) / z;
    expertOn(r, 'expert', e, xl, H, L, gated, act).forEach((v, i) => (sum[i]! += weight * v));
  }
  const routed = matvec(initializer(r, 'moe.latent_out')!, sum, D);
  const shared = expertOn(r, 'shared', 0, x, SH, D, gated, act);
  return x.map((v, i) => v + routed[i]! + shared[i]!);
}

test('latent experts: the routed experts between latent_in and latent_out, the router and shared expert on x', async () => {
  const rows = [[5, 17, 40, 2, 33], [9, 9, 60, 1, 12]];
  for (const [gated, act] of [[false, 'relu2'], [true, 'silu']] as const) {
    const spec = `model M {\n  embed = Embedding(61, ${D})\n  moe = MoE(${D}, ${H}, ${E}, ${K}, latent: ${L}, gated: ${gated}, act: ${act}, router_bias: true, shared: 1, shared_hidden: ${SH})\n}\n`;
    for (const decode of [undefined, { batch: 2, past: 4 }]) {
      const ids = decode ? rows.map((row) => row.slice(-1)) : rows;
      const outputs: Float32Array[] = [];
      for (const ops of ['standard', 'fused'] as const) {
        const r = exportModel(spec, 'M', { ops, ...(decode ? { decode } : {}) });
        assert.equal(r.initializerElements, r.storedParams);
        outputs.push(await runChecked(r, { input_ids: idRows(ids) }));
        // Fused ops lay a gated bank out as one interleaved gate/up initializer; the same weights.
        if (ops === 'standard') assertClose(outputs[0]!, rows.flatMap((row) => reference(r, row[row.length - 1]!, gated, act)), 1e-5, `${act}${decode ? ' decode' : ''}`);
      }
      assertClose(outputs[1]!, outputs[0]!, 1e-5, `${act} fused = standard${decode ? ' decode' : ''}`);
    }
  }
});
