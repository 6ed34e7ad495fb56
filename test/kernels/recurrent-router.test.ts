// RMoE's layer-wise recurrent router in the ONNX export (kernels/layers/recurrent-router.ts):
// initializer elements equal params.stored (one cell with `share body.cell: all`, one per layer
// without), the graph runs on CPU, and its output equals an independent computation written here
// on the graph's own initializers — per token, through the stack: x + MoE(rmsnorm(x)) with the
// router u = router_in·x̂, the GRU cell (torch nn.GRUCell: r, z, n) or tanh RNN cell on the
// state the previous layer left (zero before the first), logits = router·h, Mixtral's top-k
// softmax and gated SiLU experts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows, initializer, matvec, runChecked, sigmoid, silu } from './helpers.js';

const D = 8;
const F = 6;
const E = 4;
const K = 2;
const P = 4;
const L = 3;
const V = 29;
const spec = (cell: string) => `
model R {
  block Decoder {
    moe_norm = RMSNorm(${D})
    cell     = RecurrentRouter(${P}${cell})
    moe      = MoE(${D}, ${F}, experts: ${E}, top_k: ${K}, router_rnn: ${P})
  }
  embed = Embedding(${V}, ${D})
  body  = Decoder * ${L}
}
variant Shared of R { share body.cell: all }
`;

/** The last token's output of the stack, token by token (nothing mixes tokens). */
function reference(r: ExportResult, id: number, shared: boolean, gru: boolean): number[] {
  const w = (name: string) => initializer(r, name);
  let x = Array.from(w('embed.weight').subarray(id * D, (id + 1) * D));
  let h = new Array<number>(P).fill(0);
  for (let l = 0; l < L; l++) {
    const at = `body[${l}]`;
    const cell = `body[${shared ? 0 : l}].cell`;
    const norm = w(`${at}.moe_norm.weight`);
    const rms = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / D + 1e-6);
    const xn = x.map((v, i) => (v / rms) * norm[i]!);
    const u = matvec(w(`${at}.moe.router_in`), xn, P);
    const gi = matvec(w(`${cell}.input`), u, (gru ? 3 : 1) * P, w(`${cell}.input_bias`));
    const gh = matvec(w(`${cell}.state`), h, (gru ? 3 : 1) * P, w(`${cell}.state_bias`));
    h = gru
      ? h.map((prev, j) => {
          const rg = sigmoid(gi[j]! + gh[j]!);
          const zg = sigmoid(gi[P + j]! + gh[P + j]!);
          const n = Math.tanh(gi[2 * P + j]! + rg * gh[2 * P + j]!);
          return (1 - zg) * n + zg * prev;
        })
      : gi.map((v, j) => Math.tanh(v + gh[j]!));
    const logits = matvec(w(`${at}.moe.router`), h, E);
    const top = logits.map((v, e) => [v, e] as const).sort((a, b) => b[0] - a[0]).slice(0, K);
    const denom = top.reduce((a, [v]) => a + Math.exp(v - top[0]![0]), 0);
    const y = new Array<number>(D).fill(0);
    for (const [v, e] of top) {
      const gateW = Math.exp(v - top[0]![0]) / denom;
      const gate = matvec(w(`${at}.moe.expert_gate[${e}]`), xn, F);
      const up = matvec(w(`${at}.moe.expert_up[${e}]`), xn, F);
      const out = matvec(w(`${at}.moe.expert_down[${e}]`), gate.map((g, i) => silu(g) * up[i]!), D);
      out.forEach((o, i) => (y[i]! += gateW * o));
    }
    x = x.map((v, i) => v + y[i]!);
  }
  return x;
}

test('RMoE recurrent router (GRU and RNN cells, shared or per layer): initializers = params.stored; output equals the router state carried through the stack', async () => {
  const rows = [[3, 17, 8], [20, 6, 11]];
  for (const [cell, gru] of [['', true], [', cell: rnn', false]] as const) {
    for (const [model, shared] of [['R', false], ['Shared', true]] as const) {
      const what = `${model}${cell}`;
      const r = exportModel(spec(cell), model, { ops: 'standard' });
      assert.equal(r.initializerElements, r.storedParams, what);
      // The cell: G·p·p twice and G·p biases twice, once (shared) or per layer.
      const cellParams = BigInt(2 * (gru ? 3 : 1) * (P * P + P));
      const copies = shared ? 1n : BigInt(L);
      const noCells = BigInt(V * D) + BigInt(L) * BigInt(D + P * D + E * P + E * 3 * F * D);
      assert.equal(r.storedParams, noCells + copies * cellParams, what);
      const out = await runChecked(r, { input_ids: idRows(rows) });
      assertClose(out, rows.flatMap((ids) => reference(r, ids[ids.length - 1]!, shared, gru)), 1e-5, what);
      // Fused ops (com.microsoft MoE for the experts) compute the same.
      assertClose(await runChecked(exportModel(spec(cell), model, { ops: 'fused' }), { input_ids: idRows(rows) }), out, 1e-5, `${what} fused`);
    }
  }
  // A decode step carries no router state between tokens: it runs like the prefill's last token.
  const dec = exportModel(spec(''), 'Shared', { ops: 'standard', decode: { batch: 2, past: 3 } });
  assertClose(await runChecked(dec, { input_ids: idRows([[8], [11]]) }), [8, 11].flatMap((id) => reference(dec, id, true, true)), 1e-5, 'decode');
});

test('a router that reads a cell declared after it, or a cell of another width, is refused by the spec check before the export', () => {
  const after = `model R { e = Embedding(10, 8)\n m = MoE(8, 6, 4, 2, router_rnn: 4)\n c = RecurrentRouter(4) }`;
  assert.throws(() => exportModel(after, 'R'), (e: unknown) => e instanceof Error && /npas-router-cell: 'm' \(router_rnn: 4\) reads a recurrent router state, and no RecurrentRouter\(4\) cell is declared before it/.test(e.message));
  const other = `model R { e = Embedding(10, 8)\n c = RecurrentRouter(2)\n m = MoE(8, 6, 4, 2, router_rnn: 4) }`;
  assert.throws(() => exportModel(other, 'R'), (e: unknown) => e instanceof Error && /npas-router-cell: 'm' \(router_rnn: 4\) reads the cell 'c' of width 2/.test(e.message));
});
