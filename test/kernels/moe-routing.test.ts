// MoE routing functions in the ONNX export (src/core/layers/moe-routing.ts), against a reference
// written here from the exported initializers, for every token of a small vocabulary:
//  - DeepSeek-V3's router (DeepSeek's inference/model.py Gate, Transformers' DeepseekV3TopkRouter):
//    sigmoid scores; e_score_correction_bias added to choose, not to weight; experts in n_group
//    groups, each scored by the sum of its two best biased scores, the topk_group best groups kept,
//    the top_k experts among those; the chosen unbiased scores divided by their sum
//    (norm_topk_prob) and multiplied by routed_scaling_factor;
//  - DeepSeek-V2's group_limited_greedy (softmax scores, a group scored by its best expert, no
//    renormalisation, a scale) and Qwen2-MoE's softmax without renormalisation;
//  - Llama-4's Llama4TextMoe: σ of the top-k logits multiplying each chosen expert's input
//    (y = x + Σ expert_e(σ(l_e)·x)), which a gated expert does not commute with.
// The layer is a residual branch: y = x + Σ_chosen w_e·down(silu(gate·x)·(up·x)). Standard ops
// (the dispatch) and fused ops (com.microsoft MoE fed log-weights, rescaled) both; initializer
// elements = params.stored, with the selection bias counted once per layer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { defaultFill, type WeightFill } from '../../kernels/graph-builder.js';
import { assertClose, idRows, initializer, matvec, maxRelDiff, runChecked, sigmoid, silu } from './helpers.js';

const V = 41;
const D = 16;
const F = 6;
const E = 8;

interface Routing {
  readonly scoring: 'softmax' | 'sigmoid';
  readonly bias: boolean;
  readonly groups: number;
  readonly topGroups: number;
  readonly groupScore: 'top2_sum' | 'max';
  readonly normalize: boolean;
  readonly scale: number;
  readonly topK: number;
  /** Llama-4: the weight scales the expert's input, not its output. */
  readonly onInput?: boolean;
}

/** Indices of `values` from largest to smallest (stable: the lower index first on a tie). */
const ranked = (values: readonly number[], among: readonly number[] = [...values.keys()]): number[] => [...among].sort((a, b) => values[b]! - values[a]! || a - b);

/** The experts a token with router logits `logits` runs, and their weights: the routing rule written out. */
function route(logits: readonly number[], bias: Float32Array | undefined, r: Routing): { chosen: number[]; weights: number[] } {
  const m = Math.max(...logits);
  const z = logits.reduce((a, l) => a + Math.exp(l - m), 0);
  const scores = logits.map((l) => (r.scoring === 'sigmoid' ? sigmoid(l) : Math.exp(l - m) / z));
  const choice = scores.map((s, e) => s + (bias ? bias[e]! : 0));
  const size = E / r.groups;
  const groupScore = (g: number): number => {
    const members = choice.slice(g * size, (g + 1) * size).sort((a, b) => b - a);
    return r.groupScore === 'max' ? members[0]! : members[0]! + members[1]!;
  };
  const groupScores = Array.from({ length: r.groups }, (_, g) => groupScore(g));
  const keptGroups = ranked(groupScores).slice(0, r.topGroups);
  const eligible = [...choice.keys()].filter((e) => keptGroups.includes(Math.floor(e / size)));
  const chosen = ranked(choice, eligible).slice(0, r.topK);
  const picked = chosen.map((e) => scores[e]!);
  const sum = picked.reduce((a, b) => a + b, 0);
  return { chosen, weights: picked.map((w) => (r.normalize ? w / sum : w) * r.scale) };
}

/** y = x + Σ w_e·expert_e(x) for token `id`, every weight read from the standard export. */
function reference(ex: ExportResult, id: number, r: Routing): { y: number[]; chosen: number[] } {
  const x = Array.from(initializer(ex, 'embed.weight').subarray(id * D, (id + 1) * D));
  const logits = matvec(initializer(ex, 'moe.router'), x, E);
  const { chosen, weights } = route(logits, r.bias ? initializer(ex, 'moe.selection_bias') : undefined, r);
  const y = [...x];
  chosen.forEach((e, j) => {
    const w = (part: string) => initializer(ex, `moe.expert_${part}[${e}]`);
    const input = r.onInput ? x.map((v) => weights[j]! * v) : x;
    const up = matvec(w('up'), input, F);
    const h = matvec(w('gate'), input, F).map((v, i) => silu(v) * up[i]!);
    matvec(w('down'), h, D).forEach((v, i) => (y[i]! += (r.onInput ? 1 : weights[j]!) * v));
  });
  return { y, chosen };
}

/** A selection bias as large as the spread of the scores, so that it changes choices. */
const strongBias: WeightFill = (key, shape, dtype, scale, offset) => defaultFill(key, shape, dtype, key.endsWith('selection_bias') ? 0.3 : scale, offset);

function specOf(call: string): string {
  return `model M {\n  embed = Embedding(${V}, ${D})\n  moe = MoE(${D}, ${F}, experts: ${E}, ${call})\n}\n`;
}

const CASES: readonly { readonly name: string; readonly call: string; readonly routing: Routing }[] = [
  {
    name: 'DeepSeek-V3 (sigmoid, correction bias, 4 groups keep 2, top-3, normalised, ×2.5)',
    call: 'top_k: 3, scoring: sigmoid, selection_bias: true, groups: 4, top_groups: 2, route_scale: 2.5',
    routing: { scoring: 'sigmoid', bias: true, groups: 4, topGroups: 2, groupScore: 'top2_sum', normalize: true, scale: 2.5, topK: 3 },
  },
  {
    name: 'DeepSeek-V2 group_limited_greedy (softmax, group max, 2 groups keep 1, top-2, ×16, not normalised)',
    call: 'top_k: 2, groups: 2, top_groups: 1, group_score: max, normalize: false, route_scale: 16',
    routing: { scoring: 'softmax', bias: false, groups: 2, topGroups: 1, groupScore: 'max', normalize: false, scale: 16, topK: 2 },
  },
  {
    name: "Llama-4 (σ of the top-2 logits scaling each chosen expert's input)",
    call: 'top_k: 2, scoring: sigmoid, normalize: false, weight_input: true',
    routing: { scoring: 'sigmoid', bias: false, groups: 1, topGroups: 1, groupScore: 'top2_sum', normalize: false, scale: 1, topK: 2, onInput: true },
  },
  {
    name: 'Qwen2-MoE (softmax over all experts, top-2 not normalised)',
    call: 'top_k: 2, normalize: false',
    routing: { scoring: 'softmax', bias: false, groups: 1, topGroups: 1, groupScore: 'top2_sum', normalize: false, scale: 1, topK: 2 },
  },
];

const TOKENS = Array.from({ length: V }, (_, i) => [i]);

for (const c of CASES) {
  test(`MoE routing, ${c.name}: every token's output as the routing rule written out, standard and fused ops`, async () => {
    const spec = specOf(c.call);
    const std = exportModel(spec, 'M', { ops: 'standard', fill: strongBias });
    // Stored: embedding, router [E, D], the selection bias [E] when present, E gated experts.
    const expected = BigInt(V * D + E * D + (c.routing.bias ? E : 0) + E * 3 * D * F);
    assert.equal(std.storedParams, expected);
    const refs = TOKENS.map(([id]) => reference(std, id!, c.routing));
    const want = refs.flatMap((r) => r.y);
    for (const ops of ['standard', 'fused'] as const) {
      const ex = ops === 'standard' ? std : exportModel(spec, 'M', { ops, fill: strongBias });
      assert.equal(ex.initializerElements, ex.storedParams, ops);
      assertClose(await runChecked(ex, { input_ids: idRows(TOKENS) }), want, 1e-5, `${c.name}, ${ops}`);
    }
  });
}

test('the DeepSeek-V3 routing differs from plain top-k: the bias and the group limit each change some choices', () => {
  const v3 = CASES[0]!.routing;
  const ex = exportModel(specOf(CASES[0]!.call), 'M', { ops: 'standard', fill: strongBias });
  const bias = initializer(ex, 'moe.selection_bias');
  let biasChanged = 0;
  let groupsChanged = 0;
  for (let id = 0; id < V; id++) {
    const x = Array.from(initializer(ex, 'embed.weight').subarray(id * D, (id + 1) * D));
    const logits = matvec(initializer(ex, 'moe.router'), x, E);
    const chosen = route(logits, bias, v3).chosen.join();
    if (route(logits, undefined, v3).chosen.join() !== chosen) biasChanged++;
    if (route(logits, bias, { ...v3, groups: 1, topGroups: 1 }).chosen.join() !== chosen) groupsChanged++;
  }
  assert.ok(biasChanged > 0, 'the correction bias changes some token’s experts');
  assert.ok(groupsChanged > 0, 'the group limit changes some token’s experts');
});

test("weight_input differs from weighting the output: Llama-4's routing is not the output-weighted one", async () => {
  const llama = CASES.find((c) => c.routing.onInput)!;
  const ex = exportModel(specOf(llama.call), 'M', { ops: 'standard' });
  const onOutput = TOKENS.flatMap(([id]) => reference(ex, id!, { ...llama.routing, onInput: false }).y);
  const measured = await runChecked(ex, { input_ids: idRows(TOKENS) });
  assert.ok(maxRelDiff(measured, onOutput) > 1e-3, 'the input-weighted graph is not the output-weighted rule');
});
