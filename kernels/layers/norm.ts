// LayerNorm and RMSNorm over the last axis (also the q/k norms of attention).
//
// Standard ops: LayerNormalization, and RMSNorm as Pow → ReduceMean → Add → Sqrt → Div → Mul
// (the pattern ORT's optimiser fuses itself). Fused ops: RMSNorm is SimplifiedLayerNormalization
// (registered by ORT in the ai.onnx domain), and a norm that reads a residual sum replaces the
// residual Add by SkipSimplifiedLayerNormalization / SkipLayerNormalization (com.microsoft),
// which output both the norm and the sum (residual.ts). CPU and CUDA implement all three.

import type { LayerNode, PathStep } from '../engine-bridge.js';
import { storeFor, weightNamed, type EmitContext } from './context.js';
import { fuseIntoSkip } from './residual.js';
import { attr } from '../onnx-writer.js';

const LN_EPS = 1e-5;
const RMS_EPS = 1e-6;

/** Norm over the last axis of `x` with the layer's weights (RMSNorm or LayerNorm). */
export function norm(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string, width: number, scaleName = 'weight', biasName = 'bias'): string {
  const g = ctx.g;
  const scaleW = weightNamed(node, scaleName);
  const biasW = weightNamed(node, biasName);
  const scale = scaleW ? storeFor(ctx, node, steps, scaleW).name : undefined;
  const bias = biasW ? storeFor(ctx, node, steps, biasW).name : undefined;
  // MLA's q_a_norm and kv_a_norm are RMSNorms (DeepseekV2RMSNorm).
  const rms = node.layerKind === 'RMSNorm' || node.layerKind === 'MLA' || (node.layerKind === 'Attention' && !bias);
  const fused = ctx.ops === 'fused';
  // A norm without a scale would need a Constant of ones, which cannot sit at the residual
  // Add's earlier position in the node list; such norms (affine: false) are not skip-fused.
  if (fused && scale) {
    const skip = rms ? fuseIntoSkip(ctx, x, 'SkipSimplifiedLayerNormalization', [scale], RMS_EPS) : fuseIntoSkip(ctx, x, 'SkipLayerNormalization', bias ? [scale, bias] : [scale], LN_EPS);
    if (skip) return skip;
  }
  if (!rms) {
    const inputs = [x, scale ?? g.float(1, width)];
    if (bias) inputs.push(bias);
    return g.op('LayerNormalization', inputs, { axis: attr.int(-1), epsilon: attr.float(LN_EPS) }, { hint: 'ln' });
  }
  if (fused) return g.op('SimplifiedLayerNormalization', [x, scale ?? g.float(1, width)], { axis: attr.int(-1), epsilon: attr.float(RMS_EPS) }, { hint: 'rms' });
  return rmsNormLastAxis(ctx, x, scale);
}

/**
 * RMSNorm over the last axis on standard ops, times `scale` when given: Pow → ReduceMean → Add →
 * Sqrt → Div → Mul, the pattern ORT fuses into SimplifiedLayerNormalization. Also the norms
 * inside the recurrent mixers (Jamba's dt/B/C norms, Mamba-2's grouped gated norm, Gated
 * DeltaNet's per-head norm), at the same ε.
 */
export function rmsNormLastAxis(ctx: EmitContext, x: string, scale: string | undefined): string {
  const g = ctx.g;
  const ms = g.op('ReduceMean', [g.op('Pow', [x, g.float(2)])], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  const y = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.float(RMS_EPS)])])], undefined, { hint: 'rms' });
  return scale ? g.op('Mul', [y, scale], undefined, { hint: 'rms' }) : y;
}
