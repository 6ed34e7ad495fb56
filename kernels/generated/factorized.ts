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
import { cached, remember, source, tally } from './state.js';
import { attr } from '../onnx-writer.js';

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

/** A factorised weight's layout and its stored factors as graph tensors (initializers, or live reads of them). */
interface Factors {
  readonly shape: { readonly dOut: number; readonly dIn: number; readonly kernel: readonly number[] };
  readonly layout: FactorLayout;
  /** Factor `index`'s tensor (its initializer created on first read). */
  factor(index: number): string;
}

function factorsOf(ctx: EmitContext, where: string, w: WeightSpec, key: string, f: FactorizeStatement, bank: string | undefined): Factors {
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
    return source(ctx, ctx.g.weight(factorKey(f, layout, w, key, i, bank), t.shape, scale).name);
  };
  return { shape, layout, factor };
}

/** Emits the materialised W of store `key`; returns the [d_out, d_in] tensor. */
export function factorizedWeight(ctx: EmitContext, where: string, w: WeightSpec, key: string, f: FactorizeStatement, bank?: string): string {
  const g = ctx.g;
  const { shape, layout, factor } = factorsOf(ctx, where, w, key, f, bank);
  tally(ctx, layout.reconstructMacs);
  if (f.method.kind === 'fedpara' && shape.kernel.length > 0) {
    // Each half T ×₁ X ×₂ Y: Xᵀ [O, R] · T [R, R·K] → [O, R, K] → [O·K, R] · Y [R, I] → [O, K, I] → [O, I, K].
    const [O, I, R] = [shape.dOut, shape.dIn, layout.ranks[0]!];
    const K = shape.kernel.reduce((a, b) => a * b, 1);
    const half = (t: number, x: number, y: number): string => {
      const tx = g.op('MatMul', [g.op('Transpose', [factor(x)], { perm: attr.ints([1, 0]) }), g.op('Reshape', [factor(t), g.ints([R, R * K])])], undefined, { hint: `${w.name}_tx` });
      const rows = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [tx, g.ints([O, R, K])])], { perm: attr.ints([0, 2, 1]) }), g.ints([O * K, R])]);
      const full = g.op('MatMul', [rows, factor(y)], undefined, { hint: `${w.name}_txy` });
      return g.op('Transpose', [g.op('Reshape', [full, g.ints([O, K, I])])], { perm: attr.ints([0, 2, 1]) });
    };
    return g.op('Reshape', [g.op('Mul', [half(0, 1, 2), half(3, 4, 5)]), g.ints(w.shape)], undefined, { hint: w.name });
  }
  if (f.method.kind === 'fedpara') {
    const transB = { transB: attr.int(1) };
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
  const grouped = g.op('Transpose', [interleaved], { perm: attr.ints(perm) });
  return g.op('Reshape', [grouped, g.ints([shape.dOut, shape.dIn])], undefined, { hint: w.name });
}

/**
 * y = x·Wᵀ [T, d_out] for x [T, d_in] through the factors, W never formed — the execution the
 * engine counts when it is the cheaper (factorization.ts `factorExecution`), with its costs:
 * - FedPara: W = (X₁ • X₂)(Y₁ • Y₂)ᵀ, • the face-splitting product (row i of X₁ • X₂ is
 *   X₁[i] ⊗ X₂[i]), so y = (x·(Y₁ • Y₂))·(X₁ • X₂)ᵀ: R²·(d_in + d_out) MACs per token, after the
 *   two Khatri–Rao factors, R²·(d_in + d_out) multiplies once (tallied as the setup, once per store);
 * - TT / MPO: x reshaped to its modes n₁…n_d and contracted with one core at a time in the sweep
 *   the engine counts (`chainOrder`), each core one MatMul of exactly the MACs it states.
 */
export function factorChain(ctx: EmitContext, where: string, w: WeightSpec, key: string, f: FactorizeStatement, x: string, bank?: string): string {
  const g = ctx.g;
  const { shape, layout, factor } = factorsOf(ctx, where, w, key, f, bank);
  if (shape.kernel.length > 0 || layout.chainMacsPerToken === undefined) throw new ExportError(`${where}: a convolution kernel's factors are not applied per token`);
  const { dOut, dIn } = shape;
  if (f.method.kind === 'fedpara') {
    const R = layout.ranks[0]!;
    // Row-wise Khatri–Rao of two [rows, R] factors: [rows, R, 1]·[rows, 1, R] → [rows, R²].
    const khatriRao = (a: number, b: number, rows: number, hint: string): string => {
      const setupKey = `${key}#${hint}`;
      const hit = cached(ctx, setupKey);
      if (hit) return hit.name;
      const outer = g.op('Mul', [g.op('Unsqueeze', [factor(a), g.ints([2])]), g.op('Unsqueeze', [factor(b), g.ints([1])])]);
      return remember(ctx, setupKey, { name: g.op('Reshape', [outer, g.ints([rows, R * R])], undefined, { hint: `${w.name}_${hint}` }), shape: [rows, R * R] }).name;
    };
    if (!cached(ctx, `${key}#kr_y`)) tally(ctx, layout.chainSetupMacs);
    const ky = khatriRao(1, 3, dIn, 'kr_y'); // Y₁ • Y₂ [d_in, R²]
    const kx = khatriRao(0, 2, dOut, 'kr_x'); // X₁ • X₂ [d_out, R²]
    const inner = g.op('MatMul', [x, ky], undefined, { hint: `${w.name}_fedpara_in` });
    return g.op('Gemm', [inner, kx], { transB: attr.int(1) }, { hint: `${w.name}_fedpara_out` });
  }
  const d = layout.factors.length;
  const mo = layout.modesOut;
  const mi = layout.modesIn;
  const r = layout.ranks;
  const prod = (xs: readonly number[], from: number, to: number): number => xs.slice(from, to).reduce((a, b) => a * b, 1);
  if (layout.chainOrder === 'left') {
    // State [T, P_k, n_k, Q_k, r_{k−1}]: P_k = ∏_{l<k} m_l outputs made, n_k·Q_k = ∏_{l≥k} n_l inputs left.
    let state = g.op('Reshape', [x, g.ints([-1, 1, mi[0]!, prod(mi, 1, d), 1])]);
    for (let k = 0; k < d; k++) {
      const P = prod(mo, 0, k);
      const Q = prod(mi, k + 1, d);
      // G_k [r_{k−1}, m_k, n_k, r_k] → [r_{k−1}·n_k, m_k·r_k].
      const core = g.op('Reshape', [g.op('Transpose', [factor(k)], { perm: attr.ints([0, 2, 1, 3]) }), g.ints([r[k]! * mi[k]!, mo[k]! * r[k + 1]!])]);
      const rows = g.op('Reshape', [g.op('Transpose', [state], { perm: attr.ints([0, 1, 3, 4, 2]) }), g.ints([-1, P, Q, r[k]! * mi[k]!])]);
      const z = g.op('MatMul', [rows, core], undefined, { hint: `${w.name}_tt_apply` }); // [T, P, Q, m_k·r_k]
      if (k === d - 1) return g.op('Reshape', [z, g.ints([-1, dOut])], undefined, { hint: w.name });
      // [T, P, n_{k+1}, Q_{k+1}, m_k, r_k] → [T, P·m_k, n_{k+1}, Q_{k+1}, r_k].
      const split = g.op('Reshape', [z, g.ints([-1, P, mi[k + 1]!, prod(mi, k + 2, d), mo[k]!, r[k + 1]!])]);
      state = g.op('Reshape', [g.op('Transpose', [split], { perm: attr.ints([0, 1, 4, 2, 3, 5]) }), g.ints([-1, P * mo[k]!, mi[k + 1]!, prod(mi, k + 2, d), r[k + 1]!])]);
    }
  }
  // Right to left. State [T, A_k, B_k, n_k, r_k]: A_k = ∏_{l<k} n_l inputs left, B_k = ∏_{l>k} m_l outputs made.
  let state = g.op('Reshape', [x, g.ints([-1, prod(mi, 0, d - 1), 1, mi[d - 1]!, 1])]);
  for (let k = d - 1; k >= 0; k--) {
    const A = prod(mi, 0, k);
    const B = prod(mo, k + 1, d);
    // G_k [r_{k−1}, m_k, n_k, r_k] → [n_k·r_k, r_{k−1}·m_k].
    const core = g.op('Reshape', [g.op('Transpose', [factor(k)], { perm: attr.ints([2, 3, 0, 1]) }), g.ints([mi[k]! * r[k + 1]!, r[k]! * mo[k]!])]);
    const z = g.op('MatMul', [g.op('Reshape', [state, g.ints([-1, A, B, mi[k]! * r[k + 1]!])]), core], undefined, { hint: `${w.name}_tt_apply` }); // [T, A, B, r_{k−1}·m_k]
    if (k === 0) {
      // r₀ = 1: [T, B₁, m₁] → [T, m₁, B₁], rows (i₁, …, i_d).
      return g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [z, g.ints([-1, B, mo[0]!])])], { perm: attr.ints([0, 2, 1]) }), g.ints([-1, dOut])], undefined, { hint: w.name });
    }
    // [T, A_{k−1}, n_{k−1}, B, r_{k−1}, m_k] → [T, A_{k−1}, m_k·B, n_{k−1}, r_{k−1}].
    const split = g.op('Reshape', [z, g.ints([-1, prod(mi, 0, k - 1), mi[k - 1]!, B, r[k]!, mo[k]!])]);
    state = g.op('Reshape', [g.op('Transpose', [split], { perm: attr.ints([0, 1, 5, 3, 2, 4]) }), g.ints([-1, prod(mi, 0, k - 1), mo[k]! * B, mi[k - 1]!, r[k]!])]);
  }
  throw new ExportError(`${where}: a tensor train without cores`);
}
