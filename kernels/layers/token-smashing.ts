// Token smashing (`smash MEMBERS: tokens(r)`, HAMburger) in the ONNX prefill: the smashed
// top-level members run over n = ⌈S / r⌉ positions, as the engine counts them
// (src/core/analysis/token-smashing.ts) — their matmuls on n rows, their attention causal over
// the n positions (rotary and position tables by position), their K/V n entries per layer.
//
// What crosses a boundary (the data movement between the members, which the engine does not count
// and the spec's own members — HAMburger's compositional embedder, its micro-step decoder — would
// do with weights): token t belongs to group ⌊t·n / S⌋, so the groups are consecutive, each of
// ⌊r⌋ or ⌈r⌉ tokens (exactly r for an r that divides S, a partial group last); entering smashed
// members, position j is the mean of its group's states (a CumSum over the tokens, differenced at
// the group bounds b_j = ⌈j·S / n⌉: O(S·width), no quadratic pooling matrix); leaving them, token
// t reads its group's position. Members smashed at another r leave through the tokens. The
// smashed members' attention runs on the standard ops (the fused attention's sequence lengths
// are made once per graph, for the tokens; context.ts's `subsequence`).
//
// A decode step is HAMburger's macro step, the one that writes a KV entry: after S tokens the
// smashed members' caches hold n = ⌈S / r⌉ entries (the engine's KV), and the next entry, n, is
// written by the step whose new token opens a group (⌈(S' + 1) / r⌉ > ⌈S' / r⌉ for S' tokens
// before it: once per r tokens, streaming). That step runs the smashed members once, on one new
// position holding the new token's state (its group so far: itself), at position n, attending the
// n cached entries and itself; the token reads that position back. The decode graph at past S is
// the macro step writing entry n = ⌈S / r⌉ (the next one a generation from S tokens performs), and
// it outputs `smashed_state` [B, width], the state leaving the smashed members at that position.
// A micro step (`decode.micro`: a token joining the group a macro step opened) runs the unsmashed
// members only: before the smashed ones on the new token (their output is `token_state`, the state
// the token brings to its group), then, as in the prefill where a token reads its group's position,
// the members after the smashed ones on the graph input `smashed_state` — the macro step's output —
// over their per-token caches. The smashed members' stores are initializers no node of a micro
// step reads, and it reads no smashed cache. So a decode sequence of one macro step and r − 1 micro
// steps computes r·U + M (U the unsmashed members, M the smashed ones), the engine's U + M/r per
// generated token, and writes one smashed KV entry per r tokens. data-flow.ts's microStep and
// macroOutput; a micro step needs the smashed members consecutive and at one r.

import { attr, DataType } from '../onnx-writer.js';
import type { EmitContext } from './context.js';

/** r = num / den tokens per position (the engine's exact rational). */
export interface TokensPerPosition {
  readonly num: bigint;
  readonly den: bigint;
}

/** A smashed stream: its context (positions as its sequence) and the token context it came from. */
export interface SmashedStream {
  readonly r: TokensPerPosition;
  readonly ctx: EmitContext;
  readonly tokens: EmitContext;
  /** Each token's position, ⌊t·n / S⌋, int64 [S] (a prefill's; empty in a decode step, which moves no data). */
  readonly group: string;
  /** The group bounds b_0 … b_n, ⌈j·S / n⌉, int64 [n + 1] (a prefill's; empty in a decode step). */
  readonly bounds: string;
}

export const sameR = (a: TokensPerPosition | undefined, b: TokensPerPosition | undefined): boolean => (a === undefined ? b === undefined : b !== undefined && a.num * b.den === b.num * a.den);

/**
 * The context of the positions a token context smashes at r, with the groups that map one onto
 * the other. In a decode step (the macro step above) the new token is the new position: the
 * context caches ⌈past / r⌉ entries, and no data moves between tokens and positions.
 */
export function smashedStream(tokens: EmitContext, r: TokensPerPosition): SmashedStream {
  const g = tokens.g;
  if (tokens.decode) {
    const entries = Number((BigInt(tokens.decode.past) * r.den + r.num - 1n) / r.num); // ⌈past / r⌉
    return { r, ctx: { ...tokens, decode: { batch: tokens.decode.batch, past: entries }, masks: new Map(), positions: undefined, subsequence: true }, tokens, group: '', bounds: '' };
  }
  const num = Number(r.num);
  const den = Number(r.den);
  const S = tokens.seqLen;
  // n = ⌈S / r⌉ = ⌊(S·den + num − 1) / num⌋ on the shape's integers.
  const n = g.op('Div', [g.op('Add', [g.op('Mul', [S, g.ints([den], true)]), g.ints([num - 1], true)]), g.ints([num], true)], undefined, { hint: 'smashed_n' });
  const t = g.op('Range', [g.ints([0], true), S, g.ints([1], true)], undefined, { hint: 'token' });
  const group = g.op('Div', [g.op('Mul', [t, n]), S], undefined, { hint: 'smash_group' });
  const j = g.op('Range', [g.ints([0], true), g.op('Add', [n, g.ints([1], true)]), g.ints([1], true)]);
  const bounds = g.op('Div', [g.op('Add', [g.op('Mul', [j, S]), g.op('Sub', [n, g.ints([1], true)])]), n], undefined, { hint: 'smash_bounds' });
  const batch = g.op('Gather', [tokens.idsShape, g.ints([0])], { axis: attr.int(0) });
  const idsShape = g.op('Concat', [batch, g.op('Unsqueeze', [n, g.ints([0])])], { axis: attr.int(0) }, { hint: 'smashed_shape' });
  const ctx: EmitContext = { ...tokens, idsShape, seqLen: n, masks: new Map(), positions: undefined, subsequence: true };
  return { r, ctx, tokens, group, bounds };
}

/** [B·S, w] token states → [B·n, w]: each position the mean of its group. */
export function smashStates(s: SmashedStream, x: string, width: number): string {
  const g = s.tokens.g;
  const fp16 = g.floatType !== DataType.FLOAT;
  const shape = g.op('Concat', [s.tokens.idsShape, g.ints([width])], { axis: attr.int(0) });
  let x3 = g.op('Reshape', [x, shape]); // [B, S, w]
  // ORT's CPU CumSum has no float16 kernel: sum in float32.
  if (fp16) x3 = g.op('Cast', [x3], { to: attr.int(DataType.FLOAT) });
  const sums = g.op('Pad', [g.op('CumSum', [x3, g.ints([1], true)], undefined, { hint: 'smash_cumsum' }), g.ints([0, 1, 0, 0, 0, 0])], undefined, { hint: 'smash_prefix' }); // [B, S + 1, w], row 0 zero
  const at = (from: number, to: number) => g.op('Slice', [s.bounds, g.ints([from]), g.ints([to])]);
  const upper = at(1, 2 ** 31 - 1);
  const lower = at(0, -1);
  const groupSums = g.op('Sub', [g.op('Gather', [sums, upper], { axis: attr.int(1) }), g.op('Gather', [sums, lower], { axis: attr.int(1) })]); // [B, n, w]
  const counts = g.op('Cast', [g.op('Unsqueeze', [g.op('Sub', [upper, lower]), g.ints([1])])], { to: attr.int(DataType.FLOAT) }, { hint: 'smash_counts' }); // [n, 1]
  let mean = g.op('Div', [groupSums, counts], undefined, { hint: 'smashed' });
  if (fp16) mean = g.op('Cast', [mean], { to: attr.int(g.floatType) });
  return g.op('Reshape', [mean, g.ints([-1, width])]);
}

/** [B·n, w] position states → [B·S, w]: each token its group's position. */
export function unsmashStates(s: SmashedStream, y: string, width: number): string {
  const g = s.tokens.g;
  const shape = g.op('Concat', [s.ctx.idsShape, g.ints([width])], { axis: attr.int(0) });
  const perToken = g.op('Gather', [g.op('Reshape', [y, shape]), s.group], { axis: attr.int(1) }, { hint: 'unsmashed' }); // [B, S, w]
  return g.op('Reshape', [perToken, g.ints([-1, width])]);
}
