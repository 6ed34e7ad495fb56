// A prompt shared by k continuations (the analysis setting `sharedPrefix: { tokens: P,
// continuations: k }`, docs/language.md "Shared prompts") in a prefill graph: each row of the
// input ids is the prompt's P tokens followed by the k continuations, C = (S − P) / k tokens each,
// laid end to end ([B, P + k·C]), as prefix-shared DPO packs a prompt with its chosen and rejected
// responses.
//   - positions: the prompt's are 0…P−1; every continuation's restart at P (token P + c·C + t is
//     at position P + t), so each continuation sees the positions it would alone after the prompt
//     (rotary, learned tables, windows, chunks and relative biases read these);
//   - the mask (attention.ts's `mask`): besides the causal, window and chunk rules on positions, a
//     key of a continuation is blocked for every query outside that continuation — each
//     continuation attends to the prompt and to its own earlier tokens only, the prompt to itself;
//   - the output: each continuation's last token, [B, k, width].
// So every continuation computes what the prompt followed by it alone computes, while the prompt's
// tokens are computed once: the engine's P + k·C tokens and f(P) + k·(f(S) − f(P)) keys.
//
// A decode step (`decode: { past: S }`, S the engine's seq = P + C) runs the k continuations'
// new tokens, input ids [B, k], as B·k rows (row b·k + c is continuation c of sequence b) at
// position S. Each attention reads the cache a prefill left, as the engine counts it
// (model-metrics.ts, `promptSharing`): of the n = min(S, reach) positions a continuation keeps,
// its own min(C, n), one cache per continuation, and the prompt's last n − min(C, n), held once
// per sequence and broadcast over its continuations (attention.ts's decodeCache), so the step's
// cache holds n − own + k·own positions per sequence and layer — the engine's KV — and its
// weights run on k tokens per sequence, the engine's decode.

import type { SharedPrefix } from '../../src/core/index.js';
import { ExportError } from '../engine-bridge.js';
import { tokenRowsContext, type EmitContext } from './context.js';

/** The shared prompt's settings, checked: P ≥ 0 tokens and k ≥ 1 continuations, both integers. */
export function checkedSharedPrefix(share: SharedPrefix): SharedPrefix {
  const integer = (v: number, min: number) => Number.isSafeInteger(v) && v >= min;
  if (!integer(share.tokens, 0) || !integer(share.continuations, 1)) throw new ExportError(`a shared prompt needs an integer count of tokens ≥ 0 and of continuations ≥ 1 (got ${share.tokens} tokens, ${share.continuations} continuations)`, 'spec');
  return share;
}

/** Index facts of the packed sequence, int64 [S] each: the index, whether it is a continuation's, and its continuation (−1 in the prompt). */
interface Packing {
  readonly index: string;
  readonly inContinuation: string;
  readonly continuation: string;
  /** Index − P, int64 [S]. */
  readonly offset: string;
  /** C, an int64 scalar (at least 1, so no division by zero for a sequence of only the prompt). */
  readonly length: string;
}

const packings = new WeakMap<object, Packing>();

function packing(ctx: EmitContext, share: SharedPrefix): Packing {
  const hit = packings.get(ctx.g);
  if (hit) return hit;
  const g = ctx.g;
  const P = g.ints([share.tokens], true);
  const index = g.op('Range', [g.ints([0], true), ctx.seqLen, g.ints([1], true)], undefined, { hint: 'packed_index' });
  const length = g.op('Max', [g.op('Div', [g.op('Sub', [ctx.seqLen, P]), g.ints([share.continuations], true)]), g.ints([1], true)], undefined, { hint: 'continuation_length' });
  const offset = g.op('Sub', [index, P], undefined, { hint: 'continuation_offset' });
  const inContinuation = g.op('GreaterOrEqual', [index, P], undefined, { hint: 'in_continuation' });
  const continuation = g.op('Where', [inContinuation, g.op('Div', [offset, length]), g.ints([-1], true)], undefined, { hint: 'continuation' });
  const p: Packing = { index, inContinuation, continuation, offset, length };
  packings.set(ctx.g, p);
  return p;
}

/** Positions of the packed sequence, int64 [S]: the prompt's own, each continuation's restarting at P. */
export function sharedPrefixPositions(ctx: EmitContext, share: SharedPrefix): string {
  const g = ctx.g;
  const p = packing(ctx, share);
  const restarted = g.op('Add', [g.ints([share.tokens], true), g.op('Mod', [p.offset, p.length])]);
  return g.op('Where', [p.inContinuation, restarted, p.index], undefined, { hint: 'shared_prefix_pos' });
}

/** bool [S, S]: query i may not see key j because j belongs to a continuation other than i's (the prompt's keys are everyone's). */
export function otherContinuations(ctx: EmitContext, share: SharedPrefix): string {
  const g = ctx.g;
  const p = packing(ctx, share);
  const rows = g.op('Unsqueeze', [p.continuation, g.ints([1])]);
  const cols = g.op('Unsqueeze', [p.continuation, g.ints([0])]);
  const keyInContinuation = g.op('Unsqueeze', [p.inContinuation, g.ints([0])]);
  return g.op('And', [keyInContinuation, g.op('Not', [g.op('Equal', [rows, cols])])], undefined, { hint: 'other_continuation' });
}

/** Indices of each continuation's last token in the packed sequence, int64 [k]: P − 1 + C·(c + 1). */
export function continuationEnds(ctx: EmitContext, share: SharedPrefix): string {
  const g = ctx.g;
  const p = packing(ctx, share);
  const ordinals = g.ints(Array.from({ length: share.continuations }, (_, c) => c + 1));
  return g.op('Add', [g.ints([share.tokens - 1], true), g.op('Mul', [p.length, ordinals])], undefined, { hint: 'continuation_ends' });
}

/**
 * The context of a shared prompt's decode step: the input ids [B, k] are the k continuations' new
 * tokens of each sequence, run as B·k rows, each one position (past) long.
 */
export function continuationsContext(ctx: EmitContext, share: SharedPrefix): EmitContext {
  return tokenRowsContext(ctx, share.continuations, 'continuation_ids');
}

/**
 * How a continuation's `cached` positions at context `past` (= P + C) split between the prompt's
 * (held once per sequence) and its own (C of them at most): its last `cached` positions, the
 * engine's n − min(C, n) and min(C, n).
 */
export function continuationCache(share: SharedPrefix, past: number, cached: number): { readonly prompt: number; readonly own: number } {
  const own = Math.min(past - share.tokens, cached);
  return { prompt: cached - own, own };
}
