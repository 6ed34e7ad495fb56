// SSN template banks (`bank NAME = PATHS: ssn(params: P, templates: K)`, Shapeshifter Networks,
// weighted template averaging): the weights under the paths are generated from one bank θ of P
// parameters (one initializer per bank label, as the engine counts it). Weight ℓ uses
// K_ℓ = clamp(⌊P/|W_ℓ|⌋, 1, K) templates (exactly K for a `fixed` bank) and owns K_ℓ coefficients
// α when K_ℓ ≥ 2 (one initializer per store; none for a single template):
//   W_ℓ = Σ_k α_k · θ[(o_ℓ + k·|W_ℓ| + j) mod P]   for j = 0 … |W_ℓ|−1,
// which costs K_ℓ·|W_ℓ| multiply-adds (the engine's generation MACs). Placement (SSN's round
// robin): weights take successive K·|W| blocks of θ in the order the graph first reads them,
// wrapping to 0 when a block would run past the end; a weight larger than the bank (the
// low-budget regime) tiles θ (SSN's `repeat` upsampler: the mod P above).

import type { WeightSpec } from '../engine-bridge.js';
import type { EmitContext } from '../layers/context.js';
import { scaleOf } from '../layers/context.js';
import { generationState, iota, source, tally } from './state.js';
import { attr } from '../onnx-writer.js';

export interface BankStatement {
  readonly label: string;
  readonly params: number;
  readonly templates: number;
  readonly fixed: boolean;
}

/** K_ℓ as the engine computes it (src/core/analysis/layer-totals.ts). */
export function templateCount(b: BankStatement, elements: number): number {
  if (b.fixed) return b.templates;
  let k = elements === 0 ? 1 : Math.floor(b.params / elements);
  if (k < 1) k = 1;
  if (k > b.templates) k = b.templates;
  return k;
}

export function bankKey(b: BankStatement): string {
  return `bank:${b.label}`;
}

/** Where weight blocks of `span` elements start in a bank of P: successive, wrapping to 0. */
function place(ctx: EmitContext, b: BankStatement, span: number): number {
  const cursors = generationState(ctx.g).cursors;
  const key = `bank:${b.label}`;
  const at = cursors.get(key) ?? 0;
  const o = at + span <= b.params ? at : 0;
  cursors.set(key, o + span);
  return o;
}

/** Emits the generated weight of store `key`; returns the [shape] tensor. */
export function templateWeight(ctx: EmitContext, w: WeightSpec, key: string, b: BankStatement): string {
  const g = ctx.g;
  const n = w.shape.reduce((x, y) => x * y, 1);
  const K = templateCount(b, n);
  const bank = g.weight(bankKey(b), [b.params], scaleOf(w).scale);
  const theta = source(ctx, bank.name);
  const o = place(ctx, b, K * n);
  let idx = iota(ctx, o, o + K * n);
  if (o + K * n > b.params) idx = g.op('Mod', [idx, g.ints([b.params], true)], undefined, { hint: 'bank_wrap' });
  const templates = g.op('Gather', [theta, idx], { axis: attr.int(0) }, { hint: `${w.name}_templates` }); // [K·|W|]
  let W: string;
  if (K >= 2) {
    const alpha = g.weight(`${key}.templates`, [K], 0.5 / K, 1 / Math.sqrt(K));
    const mix = g.op('MatMul', [g.op('Reshape', [source(ctx, alpha.name), g.ints([1, K])]), g.op('Reshape', [templates, g.ints([K, n])])], undefined, { hint: `${w.name}_mix` }); // [1, |W|]
    W = g.op('Reshape', [mix, g.ints(w.shape)], undefined, { hint: w.name });
  } else {
    W = g.op('Reshape', [templates, g.ints(w.shape)], undefined, { hint: w.name });
  }
  tally(ctx, BigInt(K) * BigInt(n));
  return W;
}
