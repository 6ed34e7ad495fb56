// Per-token halting on a recurrent stack (`route STACK: halt(…)`: the Universal Transformer's ACT,
// the Sparse Universal Transformer's stick-breaking halting) in the ONNX graph.
//
// What the graph computes: the engine's expected depth, made static. Step r of the T steps
// (instances ⌊i·T/N⌋ = r) runs on k_r = max(1, round(c_r·S)) tokens per sequence, c_r the
// probability of reaching it (c_r = clamp(D − r, 0, 1) for an expected depth D), chosen by the
// halting unit: every token runs step 0; before step r ≥ 1 the unit scores the tokens that ran
// step r − 1 and the k_r most likely to continue run step r (routing.ts's selection: TopK,
// sorted back into sequence order, attention among the selected tokens, their K/V cached), their
// update weighed by that probability, x + p·(f(x) − x) — the expected state of a token that
// continues with probability p, ACT's halting-weighted mix one step at a time. A step nobody
// reaches (c_r = 0) does not run; its stores are still initializers (no node reads them when no
// reached step shares them), so initializer elements = params.stored.
//
// Why not ACT itself: ACT and stick-breaking decide per token at run time, so a token's depth,
// and the graph's work, depend on the data; the engine counts the expectation (compute and KV ×
// c_r per step). Running every step for every token with the halting weights applied would
// measure the full depth, 1/D times what the engine counts. The static selection measures the
// engine's count: c_r·S tokens through step r's layers, c_r·S positions of KV per layer, and the
// unit on the tokens that reached the step before (Σ_{r ≥ 1, c_r > 0} c_{r−1} applications per
// token; the engine also counts the unit before the first step nobody reaches, c_{r−1} more,
// whose answer halts everyone and so has nothing to compute here). Rounding k_r to whole tokens
// is the other difference.
//
// A decode step (routing.ts's decodeStep) is that rule for a sequence of one token: the new
// token runs every step some token reaches (k = max(1, round(c_r·1)) = 1 wherever c_r > 0), its
// update weighed by the unit's continue probability, and step r's layers attend the cache a
// prefill of the `past` tokens left them, max(1, round(c_r·past)) positions. So the decode graph's
// KV cache is the engine's (Σ_r c_r·past positions per layer, up to rounding), while its compute is
// the steps any token reaches in full: the engine's expected-depth decode Σ_r c_r·F_r when every
// reach is 0 or 1 (an integer expected depth, SUT_Halting's D = 3 of 6), ⌈D⌉ steps where the engine
// counts D otherwise. docs/probes.md, "Per-token halting".
//
// The unit (initializers `<stack>.halt.*`, the engine's stored halting unit): Linear(w, o) (+ o
// biases with `out_bias`), or Linear(w, h) + bias, GELU (SUT's ACTWrapper), Linear(h, o). With one
// output the continue probability is 1 − σ(logit) (ACT's halting probability σ(logit)); with two,
// softmax(logits)[1] (SUT's stick-breaking: [halt, continue]).

import { ExportError, pathText, storePath, type PathStep, type StackRoute } from '../engine-bridge.js';
import type { EmitContext } from './context.js';
import { attr } from '../onnx-writer.js';

type Unit = NonNullable<StackRoute['halting']>;

/** The unit's stores, created up front (read or not); returns its scorer: continue probabilities [B·n, 1] of rows [B·n, w]. */
export function haltingScorer(ctx: EmitContext, stackSteps: readonly PathStep[], unit: Unit): (active: string) => string {
  const g = ctx.g;
  const key = `${storePath(ctx.model, stackSteps)}.halt`;
  const w = unit.width;
  const o = unit.outputs;
  if (o !== 1 && o !== 2) throw new ExportError(`${pathText(stackSteps)}: a halting unit of ${o} outputs is not exported (1: ACT's sigmoid, 2: stick-breaking)`);
  const T = { transB: attr.int(1) };
  const hidden = unit.hidden === undefined ? undefined : { weight: g.weight(`${key}.hidden.weight`, [unit.hidden, w], Math.sqrt(3 / w)).name, bias: g.weight(`${key}.hidden.bias`, [unit.hidden], 0.1).name };
  const inWidth = unit.hidden ?? w;
  const outWeight = g.weight(unit.hidden === undefined ? `${key}.weight` : `${key}.out.weight`, [o, inWidth], Math.sqrt(3 / inWidth)).name;
  const outBias = unit.outBias ? g.weight(unit.hidden === undefined ? `${key}.bias` : `${key}.out.bias`, [o], 0.1).name : undefined;
  return (active) => {
    g.parts.halting = true;
    const x = hidden ? g.op('Gelu', [g.op('Gemm', [active, hidden.weight, hidden.bias], T, { hint: 'halt_hidden' })], undefined, { domain: 'com.microsoft' }) : active;
    const logits = g.op('Gemm', outBias ? [x, outWeight, outBias] : [x, outWeight], T, { hint: 'halt_logits' }); // [B·n, o]
    if (o === 1) return g.op('Sigmoid', [g.op('Neg', [logits])], undefined, { hint: 'halt_continue' });
    const probs = g.op('Softmax', [logits], { axis: attr.int(-1) });
    return g.op('Slice', [probs, g.ints([1]), g.ints([2]), g.ints([1])], undefined, { hint: 'halt_continue' });
  };
}
