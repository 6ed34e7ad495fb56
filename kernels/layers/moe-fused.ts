// Mixture of experts on ORT's com.microsoft `MoE` contrib op (fused ops mode): the router's
// logits go in as `router_probs` and the whole routed bank runs in ONE node, instead of one
// data-dependent NonZero → GatherND → expert → ScatterND dispatch per expert (moe.ts), which
// makes ONNX Runtime's session creation quadratic in the number of experts (docs/probes.md).
//
// What the op computes (ORT 1.29, contrib_ops/cpu/moe/moe_cpu.cc, and CUDA): softmax over all
// experts' logits, the top k of them, with normalize_routing_weights = 1 divided by their sum —
// exactly Mixtral's softmax over the k largest logits, which moe.ts computes; per chosen expert
// fc2(act(fc1·x + b1)) + b2 with fc1 [E, f, d] and fc2 [E, d, f] (rows are output features, the
// layout of our per-expert [out, in] weights, so a bank stacks as it is stored). Checked against
// the standard dispatch on ORT's CPU provider in test/kernels/moe-fused.test.ts. Covered:
//   - ungated experts with relu or silu (the op's own activations, elementwise and exact);
//   - gated experts with silu: activation_type swiglu with interleaved fc1 (swiglu_fusion = 1,
//     the only layout the CPU kernel accepts): row 2j is gate j, row 2j+1 is up j, and with
//     activation_alpha 1, activation_beta 0 and swiglu_limit = FLT_MAX the op's
//     min(g, limit)·σ(alpha·g)·(clamp(u, ±limit) + beta) is exactly silu(g)·u;
//   - biases on every expert projection (the gate and up biases interleaved like their rows).
// Not covered (moe.ts keeps the standard dispatch, see `fusedMoeCovers`): gelu and gelu_tanh
// (the CPU kernel's gelu is the tanh approximation: 2.8e-4 off our erf gelu, 1.4e-7 off
// gelu_tanh — measured — but the CUDA kernel's gelu form is not checked here, so neither is
// fused), gated experts with an activation other than silu (swiglu is the op's only gated
// form), and adapters on experts (refused on both paths).
//
// Stored elements: each expert weight bank is ONE initializer under the bank's store key
// (`<store>.expert_up` [E, f, d]) holding exactly its E·f·d stored elements, each copy drawn as
// moe.ts draws `<store>.expert_up[e]` (GraphBuilder.weight's `compose`), so the fused and standard
// graphs of a model carry the same weights. A gated pair is one interleaved initializer
// `<store>.expert_gate_up` [E, 2f, d] holding both banks' elements: laid out in the file, not by
// a Concat in the graph, which ORT would fold into a second copy (measured: host RSS +320 MB
// instead of +136 MB for a 93 MB Mixtral-like model). A generated bank (hash, bank, dict) is
// generated per copy exactly as in moe.ts and stacked (and interleaved) by Concat in the graph.

import { ExportError, adapterModifiersFor, pathText, storePath, type LayerNode, type PathStep, type WeightSpec } from '../engine-bridge.js';
import { copyKey, generatedCopy, generatorsFor } from '../generated/resolve.js';
import type { AttributeValue } from '../onnx-writer.js';
import { boolArg, numberArg, scaleOf, textArg, weightNamed, type EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

/** ORT's MoE activation for an ungated expert act, or undefined when the op has no exact twin of it. */
const UNGATED: Readonly<Record<string, string>> = { relu: 'relu', silu: 'silu' };

/** Why the op cannot reproduce this MoE exactly, or undefined when it can. */
export function fusedMoeCovers(node: LayerNode): string | undefined {
  const gated = boolArg(node, 'gated', true);
  const act = textArg(node, 'act', 'silu');
  if (gated && act !== 'silu') return `gated experts with ${act} (the op's only gated form is SwiGLU)`;
  if (node.args.get('glu_limit') !== undefined) return 'clamped gated experts (glu_limit) are left on the dispatch';
  // The op weights the experts' outputs; Llama-4 weights their input, which a nonlinear expert does not commute with.
  if (boolArg(node, 'weight_input', false)) return "weights on the experts' input (weight_input) are left on the dispatch";
  // PERFT-E's adapters run beside each chosen expert: the op has no second branch per expert.
  if (node.args.get('expert_adapter') !== undefined) return 'adapters beside the experts (expert_adapter) are left on the dispatch';
  if (!gated && UNGATED[act] === undefined) return `ungated experts with ${act} (${act === 'gelu' || act === 'gelu_tanh' ? "the op's gelu is not the exact erf form, and its form on CUDA is unchecked" : "the op's activations are relu, gelu, silu, identity"})`;
  return undefined;
}

const FLT_MAX = 3.4028234663852886e38;

/**
 * The routed experts of `node` as one com.microsoft MoE node over the router's logits [T, E];
 * returns [T, d]. The caller adds the shared experts and has checked `fusedMoeCovers`.
 */
export function fusedMoe(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, logits: string, normalize = true): string {
  const g = ctx.g;
  const topK = numberArg(node, 'top_k');
  const gated = boolArg(node, 'gated', true);
  const act = textArg(node, 'act', 'silu');
  // A generator that lays its weights out in the order the graph first reads them (RPS) must see
  // the copies in moe.ts's order (expert by expert: gate, up, down) to give the same weights.
  const names = [...(gated ? ['expert_gate'] : []), 'expert_up', 'expert_down'];
  const ws = names.map((n) => weightNamed(node, n)!);
  if (generated(ctx, steps, ...ws)) {
    for (let e = 0; e < ws[0]!.copies; e++) for (const w of ws) generatedCopy(ctx, steps, w, `${storePath(ctx.model, steps, w.name)}.${w.name}`, e);
  }
  const fc1 = gated ? gateUp(ctx, node, steps, 'expert_gate', 'expert_up', 'expert_gate_up') : bank(ctx, node, steps, 'expert_up');
  const down = bank(ctx, node, steps, 'expert_down');
  const fc1Bias = !weightNamed(node, 'expert_up_bias') ? undefined : gated ? gateUp(ctx, node, steps, 'expert_gate_bias', 'expert_up_bias', 'expert_gate_up_bias') : biasBank(ctx, node, steps, 'expert_up_bias');
  const downBias = biasBank(ctx, node, steps, 'expert_down_bias');
  const attributes: Record<string, AttributeValue> = {
    k: attr.int(topK),
    activation_type: attr.string(gated ? 'swiglu' : UNGATED[act]!),
    normalize_routing_weights: attr.int(normalize ? 1 : 0),
    ...(gated
      ? {
          swiglu_fusion: attr.int(1),
          activation_alpha: attr.float(1),
          activation_beta: attr.float(0),
          swiglu_limit: attr.float(FLT_MAX),
        }
      : {}),
  };
  // An absent optional input is an empty name; trailing ones are left off.
  const inputs = [x, logits, fc1.name, fc1Bias?.name ?? '', down.name, downBias?.name ?? ''];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  return g.op('MoE', inputs, attributes, { domain: 'com.microsoft', hint: 'moe' });
}

/**
 * MoEUT's σ-MoE (switch-head.ts) on the same op: gates σ(l_j) of the top-k logits, not
 * renormalised. Given router_probs r = log σ(l), the op (normalize_routing_weights 0) weights
 * expert j by softmax(r)_j = σ(l_j) / S with S = Σ_i σ(l_i) over all experts, and picks the same
 * top k (log σ is increasing); multiplying its output by S gives Σ_topk σ(l_j)·expert_j(x)
 * exactly (to fp32 rounding; only exactly tied logits could pick differently: TopK keeps the
 * lower index, the op the higher). Returns [T, d].
 */
export function fusedSigmaMoe(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, logits: string): string {
  const g = ctx.g;
  const sig = g.op('Sigmoid', [logits], undefined, { hint: 'sigma_gates' });
  const routed = fusedMoe(ctx, node, steps, x, g.op('Log', [sig], undefined, { hint: 'log_sigma' }), false);
  const total = g.op('ReduceSum', [sig, g.ints([1])], { keepdims: attr.int(1) }, { hint: 'sigma_sum' }); // [T, 1]
  return g.op('Mul', [routed, total], undefined, { hint: 'sigma_moe' });
}

/** Bytes of one element of the model's float type. */
const bytesOf = (ctx: EmitContext) => (ctx.g.dtype === 'fp16' ? 2 : 4);

/**
 * Gated fc1 [E, 2f, d] (or its bias [E, 2f]) interleaving the gate and up banks: row 2j is gate
 * row j, row 2j+1 is up row j. A stored pair is ONE initializer `<store>.expert_gate_up` holding
 * exactly the two banks' elements, each copy drawn as moe.ts draws `<store>.expert_gate[e]` and
 * `<store>.expert_up[e]`; a generated pair is interleaved in the graph (Unsqueeze, Concat, Reshape).
 */
function gateUp(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], gateName: string, upName: string, fusedName: string): { name: string; shape: readonly number[] } {
  const g = ctx.g;
  const gw = weightNamed(node, gateName)!;
  const uw = weightNamed(node, upName)!;
  const isBias = gw.role !== 'matmul';
  if (isBias || !generated(ctx, steps, gw, uw)) {
    const [f, ...rest] = gw.shape as [number, ...number[]];
    const shape = [gw.copies, 2 * f, ...rest];
    const store = storePath(ctx.model, steps, gw.name);
    const row = rest.reduce((a, b) => a * b, 1) * bytesOf(ctx);
    const { scale, offset } = isBias ? { scale: 0.02, offset: 0 } : scaleOf(gw);
    const compose = (fill: (key: string, shape: readonly number[]) => Uint8Array): Uint8Array => {
      let out = new Uint8Array(0);
      for (let e = 0; e < gw.copies; e++) {
        const gate = fill(copyKey(`${store}.${gw.name}`, e), gw.shape);
        const up = fill(copyKey(`${store}.${uw.name}`, e), uw.shape);
        if (gate.length === 0) return out; // a fill that draws no values (an export without weights)
        if (e === 0) out = new Uint8Array(gw.copies * 2 * f * row);
        const base = e * 2 * f * row;
        for (let j = 0; j < f; j++) {
          out.set(gate.subarray(j * row, (j + 1) * row), base + 2 * j * row);
          out.set(up.subarray(j * row, (j + 1) * row), base + (2 * j + 1) * row);
        }
      }
      return out;
    };
    const key = `${store}.${fusedName}`;
    return { name: g.weight(key, shape, scale, offset, { compose }).name, shape };
  }
  const a = bank(ctx, node, steps, gateName);
  const b = bank(ctx, node, steps, upName);
  const two = g.op('Concat', [g.op('Unsqueeze', [a.name, g.ints([2])]), g.op('Unsqueeze', [b.name, g.ints([2])])], { axis: attr.int(2) });
  const shape = [a.shape[0]!, 2 * a.shape[1]!, ...a.shape.slice(2)];
  return { name: g.op('Reshape', [two, g.ints(shape)], undefined, { hint: 'fc1' }), shape };
}

/** Whether a generator (hash, bank, dict) makes either weight's copies; adapters on experts are refused. */
function generated(ctx: EmitContext, steps: readonly PathStep[], ...ws: readonly WeightSpec[]): boolean {
  for (const w of ws) if (adapterModifiersFor(ctx.model, steps, w.name).length > 0) throw new ExportError(`${pathText(steps)}.${w.name}: adapters on MoE experts are not supported by the ONNX exporter`);
  return ws.some((w) => generatorsFor(ctx.model, steps, w).length > 0);
}

/** The copies of a bank, each drawn as moe.ts draws `<store>.<name>[e]`, one after another. */
function stacked(key: string, w: WeightSpec): (fill: (key: string, shape: readonly number[]) => Uint8Array) => Uint8Array {
  return (fill) => {
    const parts = Array.from({ length: w.copies }, (_, e) => fill(copyKey(key, e), w.shape));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.forEach((p, e) => out.set(p, e * p.length));
    return out;
  };
}

/**
 * One expert weight bank [E, out, in]: the bank's store as one initializer, or, when a generator
 * (hash, bank, dict) makes the copies, each copy generated as moe.ts generates it, stacked.
 */
export function bank(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], name: string): { name: string; shape: readonly number[] } {
  const g = ctx.g;
  const w = weightNamed(node, name)!;
  const { scale, offset } = scaleOf(w);
  const key = `${storePath(ctx.model, steps, w.name)}.${w.name}`;
  const shape = [w.copies, ...w.shape];
  if (!generated(ctx, steps, w)) return { name: g.weight(key, shape, scale, offset, { compose: stacked(key, w) }).name, shape };
  const copies: string[] = [];
  for (let e = 0; e < w.copies; e++) {
    const copy = generatedCopy(ctx, steps, w, key, e) ?? g.weight(copyKey(key, e), w.shape, scale, offset);
    if (copy.shape.join() !== w.shape.join()) throw new ExportError(`${pathText(steps)}.${w.name}[${e}]: a generated expert of shape [${copy.shape.join(', ')}] where [${w.shape.join(', ')}] is stored`);
    copies.push(g.op('Unsqueeze', [copy.name, g.ints([0])]));
  }
  return { name: g.op('Concat', copies, { axis: attr.int(0) }, { hint: `${name}_bank` }), shape };
}

/** An expert bias bank [E, out] as one initializer (biases are never generated: moe.ts reads them as stored). */
export function biasBank(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], name: string): { name: string; shape: readonly number[] } | undefined {
  const b = weightNamed(node, name);
  if (!b) return undefined;
  const key = `${storePath(ctx.model, steps, b.name)}.${b.name}`;
  const shape = [b.copies, ...b.shape];
  return { name: ctx.g.weight(key, shape, 0.02, 0, { compose: stacked(key, b) }).name, shape };
}
