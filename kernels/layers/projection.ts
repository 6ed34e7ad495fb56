// A projection y = x·Wᵀ (+ b) on the [T, d] hidden state, with the adapters the spec puts on it.
// The weight comes from the one resolver, storeFor: a stored initializer (own, shared or tied)
// or a generated tensor (hash, bank, dict: kernels/generated), read the same way.

import { weightStoreKey, type LayerNode, type PathStep } from '../engine-bridge.js';
import { factorChainFor } from '../generated/resolve.js';
import { hasSparseMask, inputAdapters, sparseMerged, withAdapters } from './adapters.js';
import { appliesTiedChain, storeFor, tiedOwner, weightNamed, type EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

/**
 * y = x · Wᵀ (+ b) for a [d_out, d_in] weight (or its transposed tie); a factorised W whose
 * factors the engine counts applied is applied through them, never formed (factorChainFor).
 */
export function projection(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], input: string, name: string, biasName: string | undefined): { y: string; width: number } {
  const w = weightNamed(node, name)!;
  const [dOut, dIn] = w.shape as [number, number];
  // Adapters that sit before the matmul (LoRETTA_adp on the input) change what W multiplies.
  const x = inputAdapters(ctx, steps, name, input, dIn, dOut);
  const b = biasName ? weightNamed(node, biasName) : undefined;
  // A tied weight runs as its factorised store runs (the core's tied-factors.ts): its owner's
  // chain when the owner applies its factors and this is the same projection; else W is read.
  const owner = tiedOwner(ctx, node, steps, w);
  const chained = hasSparseMask(ctx, steps, name) ? undefined : owner ? (appliesTiedChain(ctx, node, steps, w, owner) ? factorChainFor(ctx, owner.node, owner.steps, owner.w, owner.key, x) : undefined) : factorChainFor(ctx, node, steps, w, weightStoreKey(ctx.model, steps, node, w), x);
  if (chained) {
    const y = b ? ctx.g.op('Add', [chained, storeFor(ctx, node, steps, b).name], undefined, { hint: name }) : chained;
    return { y: withAdapters(ctx, steps, name, x, y, dIn, dOut, node), width: dOut };
  }
  const stored = storeFor(ctx, node, steps, w);
  const transB = stored.shape[0] === dOut && stored.shape[1] === dIn ? 1 : 0;
  // FISH's sparse masks are merged into the weight (adapters.ts, sparseMerged).
  const inputs = [x, sparseMerged(ctx, steps, name, stored.name, dOut, dIn, transB === 0)];
  if (b) inputs.push(storeFor(ctx, node, steps, b).name);
  const y = ctx.g.op('Gemm', inputs, { transB: attr.int(transB) }, { hint: name });
  return { y: withAdapters(ctx, steps, name, x, y, dIn, dOut, node), width: dOut };
}
