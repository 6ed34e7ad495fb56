// LBDN sandwich layers (`SandwichLinear`; Wang & Manchester, ICML 2023, as acfr/LBDN's
// `SandwichFc` / `SandwichLin`): the Cayley transform built in-graph from exactly the stored free
// weight W [n, m + n] (n = d_out, m = d_in), gain α, ψ and bias (src/core/layers/lbdn.ts counts
// them), so initializer elements equal params.stored:
//   W̃ = α·W/‖W‖_F;  U = W̃[:, :n]ᵀ (n×n), V = W̃[:, n:]ᵀ (m×n);  Â = U − Uᵀ + VᵀV;
//   Q_A = (I + Â)⁻¹(I − Â) (n×n),  Q_B = −2·V(I + Â)⁻¹ (m×n)   — `cayley` of acfr/LBDN;
//   h ↦ √2 · (Ψ·relu(√2·Ψ⁻¹·(h Q_B) + b)) Q_Aᵀ,  Ψ = exp(ψ)   (`last: true`: h ↦ h Q_B + b).
// The inverse is com.microsoft's `Inverse`. The generation costs what the engine counts,
// 2·n²·(m + n) multiply-adds (lbdn.ts `cayleyMacs`), tallied with the other generated weights.
// SandwichConv2d (the same per spatial frequency, in the Fourier domain) is sandwich-conv.ts.

import { cayleyMacs } from '../../src/core/index.js';
import type { LayerNode, PathStep } from '../engine-bridge.js';
import { source, tally } from '../generated/state.js';
import { boolArg, storeFor, weightNamed, type EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

export function sandwichLinear(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): { y: string; width: number } {
  const g = ctx.g;
  const read = (name: string): string | undefined => {
    const w = weightNamed(node, name);
    return w ? source(ctx, storeFor(ctx, node, steps, w).name) : undefined;
  };
  const weight = weightNamed(node, 'weight')!;
  const [n, total] = weight.shape as [number, number];
  const m = total - n;
  const W = read('weight')!;
  const alpha = read('alpha')!;
  const psi = read('psi');
  const bias = read('bias');
  // W̃ = α·W/‖W‖_F.
  const norm = g.op('ReduceL2', [W], { keepdims: attr.int(0) }, { hint: 'w_norm' });
  const scaled = g.op('Mul', [W, g.op('Div', [alpha, norm])], undefined, { hint: 'w_tilde' });
  const wa = g.op('Slice', [scaled, g.ints([0]), g.ints([n]), g.ints([1])], undefined, { hint: 'w_u' }); // Uᵀ [n, n]
  const wb = g.op('Slice', [scaled, g.ints([n]), g.ints([n + m]), g.ints([1])], undefined, { hint: 'w_v' }); // Vᵀ [n, m]
  // Â = U − Uᵀ + VᵀV = Waᵀ − Wa + Wb·Wbᵀ.
  const transpose = (t: string): string => g.op('Transpose', [t], { perm: attr.ints([1, 0]) });
  const vtv = g.op('Gemm', [wb, wb], { transB: attr.int(1) }, { hint: 'vtv' });
  const a = g.op('Add', [g.op('Sub', [transpose(wa), wa]), vtv], undefined, { hint: 'cayley_a' });
  const eye = g.op('EyeLike', [a], undefined, { hint: 'eye' });
  const inv = g.op('Inverse', [g.op('Add', [eye, a])], undefined, { domain: 'com.microsoft', hint: 'inv_ipa' });
  const qa = g.op('MatMul', [inv, g.op('Sub', [eye, a])], undefined, { hint: 'q_a' }); // [n, n]
  const qb = g.op('Mul', [g.op('MatMul', [transpose(wb), inv]), g.float(-2)], undefined, { hint: 'q_b' }); // [m, n]
  tally(ctx, cayleyMacs(BigInt(n), BigInt(m)));
  // B·h: the rows of x times Q_B.
  let y = g.op('MatMul', [x, qb], undefined, { hint: 'sandwich_b' });
  if (boolArg(node, 'last', false)) return { y: bias ? g.op('Add', [y, bias]) : y, width: n };
  const expPsi = g.op('Exp', [psi!]);
  y = g.op('Mul', [y, g.op('Mul', [g.op('Reciprocal', [expPsi]), g.float(Math.SQRT2)])], undefined, { hint: 'psi_inv' });
  if (bias) y = g.op('Add', [y, bias]);
  y = g.op('Mul', [g.op('Relu', [y]), expPsi], undefined, { hint: 'psi_z' });
  y = g.op('Gemm', [y, qa], { transB: attr.int(1), alpha: attr.float(Math.SQRT2) }, { hint: 'sandwich_a' });
  return { y, width: n };
}
