// PERFT's PEFT experts inside an MoE layer (Liu et al., arXiv:2411.08212; the reference's
// PERFT-MoE olmoe_modification/modeling_olmoe.py) in the ONNX export, against the reference's
// forward written out here from the exported initializers, for every token of a small vocabulary:
//  - PERFT-E (`MoE(…, expert_adapter: r)`, embedded_routing_adapter): each chosen expert's output
//    plus its own unit B_e·A_e·x, weighted together by the frozen router:
//    y = x + Σ_chosen w_e·(down_e(silu(gate_e·x)·(up_e·x)) + B_e·(A_e·x));
//  - PERFT-R (a second, ungated MoE of LoRA-type units with `act: identity`,
//    shared_routing_adapter): y = x + Σ_chosen w_n·B_n·(A_n·x) over its own router's top-K;
//  - PERFT-D (N always-on units as `MLP(d, N·r, act: identity, bias: false)`): y = x + B·(A·x).
// Standard and fused ops (the fused MoE op has no second branch per expert, so PERFT-E stays on
// the dispatch); initializer elements = params.stored, the units included. The gallery example's
// PERFT variants export at their exact size, and its probe-sized PERFT-E runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import type { WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, initializer, matvec, maxRelDiff, runChecked, runSynthetic, silu } from './helpers.js';

const V = 37;
const D = 16;
const F = 6;
const E = 6;
const R = 3;
const TOKENS = Array.from({ length: V }, (_, i) => [i]);

/** Softmax over `logits`, the top `k` (the lower index first on a tie), renormalised or not. */
function topK(logits: readonly number[], k: number, normalize: boolean): { chosen: number[]; weights: number[] } {
  const m = Math.max(...logits);
  const z = logits.reduce((a, l) => a + Math.exp(l - m), 0);
  const p = logits.map((l) => Math.exp(l - m) / z);
  const chosen = [...p.keys()].sort((a, b) => p[b]! - p[a]! || a - b).slice(0, k);
  const sum = chosen.reduce((a, e) => a + p[e]!, 0);
  return { chosen, weights: chosen.map((e) => (normalize ? p[e]! / sum : p[e]!)) };
}

const row = (ex: ExportResult, id: number) => Array.from(initializer(ex, 'embed.weight').subarray(id * D, (id + 1) * D));
/** B·(A·x) for A [r, d] and B [d, r] (torch.nn.Linear layouts). */
const unit = (A: Float32Array, B: Float32Array, x: readonly number[], r: number) => matvec(B, matvec(A, x, r), D);

/** x plus the frozen MoE's output (top-2, weights renormalised): every chosen expert with its PERFT-E unit when `units`. */
function moeResidual(ex: ExportResult, x: readonly number[], units = false): number[] {
  const { chosen, weights } = topK(matvec(initializer(ex, 'moe.router'), x, E), 2, true);
  const y = [...x];
  chosen.forEach((e, j) => {
    const w = (part: string) => initializer(ex, `moe.expert_${part}[${e}]`);
    const up = matvec(w('up'), x, F);
    const expert = matvec(w('down'), matvec(w('gate'), x, F).map((v, i) => silu(v) * up[i]!), D);
    const adapter = units ? unit(w('adapter_down'), w('adapter_up'), x, R) : undefined;
    expert.forEach((v, i) => (y[i]! += weights[j]! * (v + (adapter?.[i] ?? 0))));
  });
  return y;
}

test('PERFT-E: every chosen expert runs with its own unit, weighted together by the frozen router; standard and fused ops', async () => {
  const spec = `model M {\n  embed = Embedding(${V}, ${D})\n  moe = MoE(${D}, ${F}, experts: ${E}, top_k: 2, expert_adapter: ${R})\n}\n`;
  const std = exportModel(spec, 'M', { ops: 'standard' });
  // Stored: the table, the router [E, D], E SwiGLU experts and E units of 2·D·R.
  assert.equal(std.storedParams, BigInt(V * D + E * D + E * 3 * D * F + E * 2 * D * R));
  const want = TOKENS.flatMap(([id]) => moeResidual(std, row(std, id!), true));
  for (const ops of ['standard', 'fused'] as const) {
    const ex = ops === 'standard' ? std : exportModel(spec, 'M', { ops });
    assert.equal(ex.initializerElements, ex.storedParams, ops);
    assertClose(await runChecked(ex, { input_ids: idRows(TOKENS) }), want, 1e-5, `PERFT-E, ${ops}`);
  }
  // The units change the output: the same weights without them do not give it.
  const without = TOKENS.flatMap(([id]) => moeResidual(std, row(std, id!)));
  assert.ok(maxRelDiff(want, without) > 1e-4, 'the units contribute');
});

test('PERFT-R and PERFT-D: LoRA-type units (act: identity) routed by their own router, or always on, beside a frozen MoE', async () => {
  const spec = (perft: string) => `model M {\n  embed = Embedding(${V}, ${D})\n  moe = MoE(${D}, ${F}, experts: ${E}, top_k: 2)\n  perft = ${perft}\n}\n`;
  // PERFT-R: 4 units of rank R and their router [4, D], top-2, weights not renormalised (OLMoE's norm_topk_prob false).
  const routed = spec(`MoE(${D}, ${R}, experts: 4, top_k: 2, gated: false, act: identity, normalize: false)`);
  const r = exportModel(routed, 'M', { ops: 'standard' });
  assert.equal(r.storedParams, BigInt(V * D + E * D + E * 3 * D * F + 4 * D + 4 * 2 * D * R));
  const wantR = TOKENS.flatMap(([id]) => {
    const h = moeResidual(r, row(r, id!));
    const { chosen, weights } = topK(matvec(initializer(r, 'perft.router'), h, 4), 2, false);
    const y = [...h];
    chosen.forEach((n, j) => unit(initializer(r, `perft.expert_up[${n}]`), initializer(r, `perft.expert_down[${n}]`), h, R).forEach((v, i) => (y[i]! += weights[j]! * v)));
    return y;
  });
  // PERFT-D: 3 always-on units of rank R are one of rank 3·R.
  const dense = spec(`MLP(${D}, ${3 * R}, act: identity, bias: false)`);
  const dd = exportModel(dense, 'M', { ops: 'standard' });
  assert.equal(dd.storedParams, BigInt(V * D + E * D + E * 3 * D * F + 3 * 2 * D * R));
  const wantD = TOKENS.flatMap(([id]) => {
    const h = moeResidual(dd, row(dd, id!));
    return unit(initializer(dd, 'perft.up'), initializer(dd, 'perft.down'), h, 3 * R).map((v, i) => h[i]! + v);
  });
  for (const [name, text, std, want] of [['PERFT-R', routed, r, wantR], ['PERFT-D', dense, dd, wantD]] as const) {
    for (const ops of ['standard', 'fused'] as const) {
      const ex = ops === 'standard' ? std : exportModel(text, 'M', { ops });
      assert.equal(ex.initializerElements, ex.storedParams, `${name} ${ops}`);
      assertClose(await runChecked(ex, { input_ids: idRows(TOKENS) }), want, 1e-5, `${name}, ${ops}`);
    }
  }
});

test('the PERFT gallery example exports at its exact size (initializers = params.stored) and its probe-sized PERFT-E runs', async () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'perft.npas'), 'utf8');
  const none: WeightFill = () => new Uint8Array(0);
  // OLMoE-1B-7B's 6,919,161,856 plus each variant's units (test/core/examples/perft.test.ts derives them).
  for (const [name, added] of [['PERFT_R', 4_325_376n], ['PERFT_E', 67_108_864n], ['PERFT_D', 4_194_304n], ['PERFT_S', 1_048_576n]] as const) {
    const ex = exportModel(text, name, { fill: none });
    assert.equal(ex.storedParams, 6_919_161_856n + added, name);
    assert.equal(ex.initializerElements, ex.storedParams, name);
  }
  for (const ops of ['standard', 'fused'] as const) {
    const small = exportModel(text, 'PERFTESmall', { ops });
    assert.equal(small.storedParams, 181_824n);
    assert.equal(small.initializerElements, small.storedParams, ops);
    const y = await runSynthetic(small, 2, 5, 128);
    assert.equal(y.length, 2 * 128);
  }
});
