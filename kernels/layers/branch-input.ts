// The residual stream a residual branch reads: x in x + f(norm(x)) (pre-norm), norm(x + f(x))
// (post-norm) or x + f(x), as the data flow wires it (kernels/data-flow.ts). What runs inside f
// sees only f's own input, norm(x); a construct that also reads x itself asks here. PSRP (Moment
// Probing's MP+) is one: mingzeG/Moment-Probing@0ddc040 models/vision_transformer.py,
// Block.forward with tuning_mode 'psrp', computes `weight, bias = self.psrp(x)` on the stream
// after the attention's residual add and before norm2, then
// `x = x + bias + (weight + 1) * self.mlp(self.norm2(x))`.
//
// Keyed by the context the branch's layer is emitted with (as the cross-attention's source is),
// set for the branch's one layer and restored after it, so a layer emitted outside any branch
// (a top-level Linear, a member of a convolutional block, MoEUT's composed layer, AltUp's
// decoder layer) has none.

import { pathText, type PathStep } from '../engine-bridge.js';
import type { EmitContext } from './context.js';

/** The residual stream x [T, width] the branch running the layer at `layer` adds to. */
export interface BranchInput {
  readonly x: string;
  readonly width: number;
  /** The path of the layer that is the branch's f. */
  readonly layer: readonly PathStep[];
}

const inputs = new WeakMap<EmitContext, BranchInput>();

/** Runs `emit` (the branch's layer, emitted with `ctx`) with `input` as the stream it may read. */
export function inBranch<T>(ctx: EmitContext, input: BranchInput, emit: () => T): T {
  const outer = inputs.get(ctx);
  inputs.set(ctx, input);
  try {
    return emit();
  } finally {
    if (outer) inputs.set(ctx, outer);
    else inputs.delete(ctx);
  }
}

/**
 * The residual stream of the branch whose layer is the one at `steps`, emitted with `ctx`;
 * undefined when that layer is no residual branch's f (or a builder runs it in a context of its own).
 */
export function branchInputOf(ctx: EmitContext, steps: readonly PathStep[]): BranchInput | undefined {
  const input = inputs.get(ctx);
  return input && pathText(input.layer) === pathText(steps) ? input : undefined;
}
