// Arrow (Ostapenko et al. 2024) in the ONNX export: a library of E frozen rank-r LoRAs on one
// target, routed per token with no trained router, exactly the numbers the engine counts
// (src/core/analysis/layer-totals.ts, arrowCost).
//   stored   A [E, r, d_in] and the prototypes [E, d_in] at the target holding A (the target
//            itself, or the first name of `tie`, whose siblings read the same input and the same
//            A), B [E, d_out, r] per target: initializer elements = params.stored.
//   setup    each prototype is the top right singular vector of B_e·A_e (for tied targets, of the
//            stacked [B_q; B_k; B_v]·A_e), computed here when the initializers are laid out, by
//            PEFT's power iteration v ← Aᵀ(BᵀB)(A·v) / ‖·‖ (15 steps, from v = 1/√d_in: PEFT
//            starts from a seeded random vector; the sign is irrelevant, the score takes |·|).
//   per token  s = |x·Pᵀ| [T, E]; the top-k scores and their experts (TopK); c = softmax over
//            those k (PEFT's softmax over E with −∞ outside the top-k); the k chosen A's and B's
//            gathered, Δy = Σ_j c_j·B_j·(A_j·x) (the coefficient scales the rank-r projection).
//            No lora_alpha/r scaling, as for every adapter here.

import { pathText, type PathStep } from '../engine-bridge.js';
import { toHalf as toHalfBits } from '../weights.js';
import type { EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

/** Power-iteration steps per prototype (PEFT, src/peft/tuners/lora/arrow.py: iters=15); the engine counts the same. */
export const ARROW_ITERATIONS = 15;

export interface ArrowTarget {
  readonly rank: number;
  readonly experts: number;
  readonly topK: number;
  readonly tie: readonly string[];
  /** The statement's position: keys one library per statement. */
  readonly statement: number;
}

/** The initializer keys of a target's library: A and prototypes at the holder, B at the target. */
export function arrowKeys(steps: readonly PathStep[], name: string, a: ArrowTarget): { readonly a: string; readonly protos: string; readonly b: (target: string) => string } {
  const holder = a.tie.includes(name) ? a.tie[0]! : name;
  const at = (w: string) => `${pathText(steps)}.${w}.arrow@${a.statement}`;
  return { a: `${at(holder)}_a`, protos: `${at(holder)}_protos`, b: (target) => `${at(target)}_b` };
}

/** Δy [T, d_out] of target `name` for tokens x [T, d_in]. `widths` gives each tied sibling's d_out (for the prototypes). */
export function arrowDelta(ctx: EmitContext, steps: readonly PathStep[], name: string, a: ArrowTarget, x: string, dIn: number, dOut: number, widths: (target: string) => number): string {
  const g = ctx.g;
  const { rank: r, experts: e, topK: k } = a;
  const keys = arrowKeys(steps, name, a);
  const A = g.weight(keys.a, [e, r, dIn], Math.sqrt(3 / dIn));
  const B = g.weight(keys.b(name), [e, dOut, r], 0.01);
  const group = a.tie.includes(name) ? a.tie : [name];
  const P = g.weight(keys.protos, [e, dIn], 1, 0, {
    compose: (fill) => prototypes(fill(keys.a, [e, r, dIn]), group.map((t) => ({ raw: fill(keys.b(t), [e, widths(t), r]), dOut: widths(t) })), e, r, dIn, g.dtype === 'fp16'),
  });
  const axis = (value: number) => ({ axis: attr.int(value) });
  const scores = g.op('Abs', [g.op('Gemm', [x, P.name], { transB: attr.int(1) }, { hint: `${name}_arrow_scores` })]);
  const top = g.op('TopK', [scores, g.ints([k])], axis(-1), { outputs: 2, hint: `${name}_arrow_topk` });
  const chosen = g.nodes[g.nodes.length - 1]!.outputs[1]!; // [T, k]
  const coeff = g.op('Softmax', [top], axis(-1), { hint: `${name}_arrow_coeff` }); // [T, k]
  const as = g.op('Gather', [A.name, chosen], axis(0), { hint: `${name}_arrow_a` }); // [T, k, r, d_in]
  const low = g.op('MatMul', [as, g.op('Unsqueeze', [x, g.ints([1, 3])])], undefined, { hint: `${name}_arrow_low` }); // [T, k, r, 1]
  const mixed = g.op('Mul', [low, g.op('Unsqueeze', [coeff, g.ints([2, 3])])], undefined, { hint: `${name}_arrow_mix` });
  const bs = g.op('Gather', [B.name, chosen], axis(0), { hint: `${name}_arrow_b` }); // [T, k, d_out, r]
  const out = g.op('MatMul', [bs, mixed], undefined, { hint: `${name}_arrow_out` }); // [T, k, d_out, 1]
  return g.op('ReduceSum', [out, g.ints([1, 3])], { keepdims: attr.int(0) }, { hint: `${name}_arrow` });
}

/**
 * The prototypes [E, d_in] of one A [E, r, d_in] and its B's [E, d_out, r], as raw bytes of the
 * graph's float type: per expert, 15 power iterations on Aᵀ(ΣBᵀB)A. Empty when the weights are
 * (an export without values, for counting).
 */
export function prototypes(aRaw: Uint8Array, bs: readonly { readonly raw: Uint8Array; readonly dOut: number }[], e: number, r: number, dIn: number, half: boolean): Uint8Array {
  if (aRaw.length === 0 || bs.some((b) => b.raw.length === 0)) return new Uint8Array(0);
  const A = decode(aRaw, half);
  const Bs = bs.map((b) => ({ v: decode(b.raw, half), dOut: b.dOut }));
  const out = new Float32Array(e * dIn);
  for (let x = 0; x < e; x++) {
    // C = Σ over the group's B's of BᵀB [r, r].
    const C = new Float64Array(r * r);
    for (const { v, dOut } of Bs) {
      const base = x * dOut * r;
      for (let o = 0; o < dOut; o++) for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) C[i * r + j]! += v[base + o * r + i]! * v[base + o * r + j]!;
    }
    const aBase = x * r * dIn;
    let v = new Float64Array(dIn).fill(1 / Math.sqrt(dIn));
    for (let it = 0; it < ARROW_ITERATIONS; it++) {
      const u = new Float64Array(r);
      for (let i = 0; i < r; i++) for (let d = 0; d < dIn; d++) u[i]! += A[aBase + i * dIn + d]! * v[d]!;
      const w = new Float64Array(r);
      for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) w[i]! += C[i * r + j]! * u[j]!;
      const z = new Float64Array(dIn);
      for (let i = 0; i < r; i++) for (let d = 0; d < dIn; d++) z[d]! += A[aBase + i * dIn + d]! * w[i]!;
      const norm = Math.sqrt(z.reduce((s, t) => s + t * t, 0)) + 1e-8;
      v = z.map((t) => t / norm);
    }
    for (let d = 0; d < dIn; d++) out[x * dIn + d] = v[d]!;
  }
  if (!half) return new Uint8Array(out.buffer);
  const halves = new Uint16Array(out.length);
  for (let i = 0; i < out.length; i++) halves[i] = toHalfBits(out[i]!);
  return new Uint8Array(halves.buffer);
}

function decode(raw: Uint8Array, half: boolean): Float32Array {
  const bytes = raw.slice();
  if (!half) return new Float32Array(bytes.buffer);
  const h = new Uint16Array(bytes.buffer);
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = fromHalf(h[i]!);
  return out;
}

/** A float of IEEE half bits. */
function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const man = bits & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 31) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}
