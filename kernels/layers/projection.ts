// A projection y = x·Wᵀ (+ b) on the [T, d] hidden state, with the LoRA adapters the spec puts on it.

import { adaptersFor, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { storeFor, weightNamed, type EmitContext, type TieTarget } from './context.js';

/** y = x · Wᵀ (+ b) for a [d_out, d_in] weight (or its transposed tie). */
export function projection(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, name: string, biasName: string | undefined, tie?: TieTarget): { y: string; width: number } {
  const w = weightNamed(node, name)!;
  const [dOut, dIn] = w.shape as [number, number];
  const stored = storeFor(ctx, node, steps, w, tie);
  const transB = stored.shape[0] === dOut && stored.shape[1] === dIn ? 1 : 0;
  const inputs = [x, stored.name];
  const b = biasName ? weightNamed(node, biasName) : undefined;
  if (b) inputs.push(storeFor(ctx, node, steps, b, undefined).name);
  let y = ctx.g.op('Gemm', inputs, { transB: { kind: 'int', value: transB } }, { hint: name });
  // LoRA adapters, applied unmerged: y += (x·Aᵀ)·Bᵀ with A [r, d_in], B [d_out, r] owned by this
  // instance (the engine stores r·(d_in + d_out) per adapted weight per instance).
  for (const [i, lora] of adaptersFor(ctx.model, steps, name).entries()) {
    const key = `${pathText(steps)}.${name}.lora${i === 0 ? '' : i}`;
    const a = ctx.g.weight(`${key}_a`, [lora.rank, dIn], Math.sqrt(3 / dIn));
    const bw = ctx.g.weight(`${key}_b`, [dOut, lora.rank], 0.01);
    const low = ctx.g.op('Gemm', [x, a.name], { transB: { kind: 'int', value: 1 } }, { hint: `${name}_lora_a` });
    y = ctx.g.op('Add', [y, ctx.g.op('Gemm', [low, bw.name], { transB: { kind: 'int', value: 1 } }, { hint: `${name}_lora_b` })]);
  }
  return { y, width: dOut };
}

