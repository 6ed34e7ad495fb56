// Factorised weights (`factorize PATHS: fedpara | tensor_train | mpo`): the dense W [d_out, d_in]
// built in-graph from exactly the stored factors the engine counts (src/core/sharing/
// factorization.ts is the one source of their shapes and costs):
// - FedPara: W = (X₁Y₁ᵀ) ⊙ (X₂Y₂ᵀ), two Gemms and a Mul; a convolution kernel
//   (T₁ ×₁ X₁ ×₂ Y₁) ⊙ (T₂ ×₁ X₂ ×₂ Y₂) by MatMuls in the order the engine counts;
// - TT / MPO: the cores G_k [r_{k−1}, m_k, n_k, r_k] merged by MatMuls in the sweep the engine
//   counts, the result [m₁, n₁, …, m_d, n_d] transposed to [m₁…m_d, n₁…n_d] and reshaped to W.
// Each factor is one initializer keyed by the weight's store (so shared layers read one set); an
// MPO's central tensor is keyed once per statement, weight name and shape (`central: layers`,
// the engine's global key) or once per layer instance (`experts`: the copies of an MoE bank).

import { factorLayout, factorShape, type FactorLayout, type FactorMethod } from '../../src/core/index.js';
import { ExportError, type WeightSpec } from '../engine-bridge.js';
import type { EmitContext } from '../layers/context.js';
import { scaleOf } from '../layers/context.js';
import { source, tally } from './state.js';

export interface FactorizeStatement {
  readonly method: FactorMethod;
  /** The engine's label of the statement (keys a central tensor shared across layers). */
  readonly label: string;
}

/**
 * The initializer key of factor `index` of the weight read through store `key`; `bank` is the
 * expert bank's store key when the weight is one copy of a bank.
 */
function factorKey(f: FactorizeStatement, layout: FactorLayout, w: WeightSpec, key: string, index: number, bank: string | undefined): string {
  const name = layout.factors[index]!.name;
  if (f.method.kind !== 'fedpara' && index === layout.centralIndex) {
    if (f.method.central === 'layers') return `${f.label}:${w.name}:${w.shape.join('x')}`;
    // `experts`: one per layer instance, shared by the bank's copies.
    if (f.method.central === 'experts') return `${bank ?? key}.${name}`;
  }
  return `${key}.${name}`;
}

/** Emits the materialised W of store `key`; returns the [d_out, d_in] tensor. */
export function factorizedWeight(ctx: EmitContext, where: string, w: WeightSpec, key: string, f: FactorizeStatement, bank?: string): string {
  const g = ctx.g;
  const shape = factorShape(f.method, w);
  if (!shape) throw new ExportError(`${where}: ${f.method.kind} does not factorise a ${w.role} weight`);
  const result = factorLayout(f.method, shape.dOut, shape.dIn, shape.kernel);
  if (!result.ok) throw new ExportError(`${where}: ${result.message}`);
  const layout = result.layout;
  // Factors drawn so that W's entries keep about the dense weight's scale: each entry is a sum over
  // ranks of products of `depth` factor entries (FedPara: 4, a tensor train: its cores), so each
  // factor takes the depth-th root of the scale, divided by √rank.
  const target = scaleOf(w).scale;
  const depth = f.method.kind === 'fedpara' ? 4 : layout.factors.length;
  const factor = (i: number): string => {
    const t = layout.factors[i]!;
    const rank = f.method.kind === 'fedpara' ? layout.ranks[0]! : Math.max(t.shape[0]!, t.shape[3]!);
    const scale = Math.pow(target, 1 / depth) / Math.sqrt(rank);
    return source(ctx, g.weight(factorKey(f, layout, w, key, i, bank), t.shape, scale).name);
  };
  tally(ctx, layout.reconstructMacs);
  if (f.method.kind === 'fedpara' && shape.kernel.length > 0) {
    // Each half T ×₁ X ×₂ Y: Xᵀ [O, R] · T [R, R·K] → [O, R, K] → [O·K, R] · Y [R, I] → [O, K, I] → [O, I, K].
    const [O, I, R] = [shape.dOut, shape.dIn, layout.ranks[0]!];
    const K = shape.kernel.reduce((a, b) => a * b, 1);
    const half = (t: number, x: number, y: number): string => {
      const tx = g.op('MatMul', [g.op('Transpose', [factor(x)], { perm: { kind: 'ints', value: [1, 0] } }), g.op('Reshape', [factor(t), g.ints([R, R * K])])], undefined, { hint: `${w.name}_tx` });
      const rows = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [tx, g.ints([O, R, K])])], { perm: { kind: 'ints', value: [0, 2, 1] } }), g.ints([O * K, R])]);
      const full = g.op('MatMul', [rows, factor(y)], undefined, { hint: `${w.name}_txy` });
      return g.op('Transpose', [g.op('Reshape', [full, g.ints([O, K, I])])], { perm: { kind: 'ints', value: [0, 2, 1] } });
    };
    return g.op('Reshape', [g.op('Mul', [half(0, 1, 2), half(3, 4, 5)]), g.ints(w.shape)], undefined, { hint: w.name });
  }
  if (f.method.kind === 'fedpara') {
    const transB = { transB: { kind: 'int' as const, value: 1 } };
    const a = g.op('Gemm', [factor(0), factor(1)], transB, { hint: `${w.name}_fedpara1` });
    const b = g.op('Gemm', [factor(2), factor(3)], transB, { hint: `${w.name}_fedpara2` });
    return g.op('Mul', [a, b], undefined, { hint: w.name });
  }
  const cores = layout.factors.length;
  const ranks = layout.ranks;
  const mn = (k: number): number => layout.modesOut[k]! * layout.modesIn[k]!;
  let merged: string;
  if (layout.reconstructOrder === 'left') {
    // [P_k, r_k] · [r_k, m_{k+1}n_{k+1}r_{k+1}] → [P_{k+1}, r_{k+1}], P_k = ∏_{l≤k} m_l n_l.
    merged = g.op('Reshape', [factor(0), g.ints([mn(0), ranks[1]!])]);
    let prefix = mn(0);
    for (let k = 1; k < cores; k++) {
      const core = g.op('Reshape', [factor(k), g.ints([ranks[k]!, mn(k) * ranks[k + 1]!])]);
      prefix *= mn(k);
      merged = g.op('Reshape', [g.op('MatMul', [merged, core], undefined, { hint: `${w.name}_tt` }), g.ints([prefix, ranks[k + 1]!])]);
    }
  } else {
    // [r_{k−1}·m_k n_k, r_k] · [r_k, S_{k+1}] → [r_{k−1}, m_k n_k·S_{k+1}], S_k = ∏_{l≥k} m_l n_l.
    merged = g.op('Reshape', [factor(cores - 1), g.ints([ranks[cores - 1]!, mn(cores - 1)])]);
    let suffix = mn(cores - 1);
    for (let k = cores - 2; k >= 0; k--) {
      const core = g.op('Reshape', [factor(k), g.ints([ranks[k]! * mn(k), ranks[k + 1]!])]);
      suffix *= mn(k);
      merged = g.op('Reshape', [g.op('MatMul', [core, merged], undefined, { hint: `${w.name}_tt` }), g.ints([ranks[k]!, suffix])]);
    }
  }
  // (i₁, j₁, …, i_d, j_d) → (i₁…i_d, j₁…j_d) → [d_out, d_in].
  const interleaved = g.op('Reshape', [merged, g.ints(layout.modesOut.flatMap((m, k) => [m, layout.modesIn[k]!]))]);
  const perm = [...Array.from({ length: cores }, (_, k) => 2 * k), ...Array.from({ length: cores }, (_, k) => 2 * k + 1)];
  const grouped = g.op('Transpose', [interleaved], { perm: { kind: 'ints', value: perm } });
  return g.op('Reshape', [grouped, g.ints([shape.dOut, shape.dIn])], undefined, { hint: w.name });
}
