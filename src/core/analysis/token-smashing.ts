// Token smashing (HAMburger; Liu and Zhang, 2025, arXiv:2505.20438): a compositional embedder
// smashes several tokens into one position of the base model, whose stack then runs once and
// caches one KV entry per smashed group, and a micro-step decoder emits the group's tokens again.
// Read after the walk from a model's `smash` statements, as `parallel` is: it changes no stored
// count (the embedder and the micro-step decoder are ordinary members of the spec, counted as
// written) and tells the metrics which top-level members see a sequence of S tokens as
// ⌈S / r⌉ positions:
//
//   smash body: tokens(2)        the stack caches one KV entry per 2 tokens on average
//
// A smashed member's FLOPs, activations and attention run over ⌈S / r⌉ positions (its attention
// is quadratic in positions, not tokens), its KV cache holds ⌈S / r⌉ entries, and a decode step
// runs it — and reads its weights — once per r generated tokens.

import * as Q from '../numbers/rational.js';
import type { ModelMember } from '../model/module-tree.js';
import type { EvalContext } from '../semantics/evaluator.js';
import type { ScopedStatement } from '../sharing/resolve-statements.js';
import { asStatementCall, readStatementArgs, type StatementArgSpec } from '../sharing/statement-args.js';
import type { Path, TextRange } from '../syntax/syntax-tree.js';
import type { Totals } from './totals.js';

/** The most tokens one KV entry may stand for (HAMburger trains with at most 4 per step). */
export const MAX_TOKENS_PER_ENTRY = 65_536;

/** The methods a `smash` statement takes, for completion and hovers. */
export const SMASH_METHODS: readonly { readonly name: string; readonly snippet: string; readonly doc: string; readonly args: readonly (StatementArgSpec & { readonly doc: string })[] }[] = [
  {
    name: 'tokens',
    snippet: 'tokens(${1:2})',
    doc: 'r tokens per KV entry on average (HAMburger: 1 to max_steps = 4 per macro step): the member runs over ⌈S / r⌉ positions and caches one entry per position; a decode step runs it once per r tokens.',
    args: [{ name: 'r', type: 'ratio', required: true, doc: 'Average tokens smashed into one position (≥ 1; may be fractional, e.g. 1.8).' }],
  },
];

/** One smashed top-level member. */
export interface SmashedMember {
  readonly member: string;
  /** r: average tokens per position (per KV entry) of the member. */
  readonly tokensPerEntry: Q.Rational;
  readonly range: TextRange;
}

/**
 * The model's `smash` statements (a variant's add to its base's; a later one on the same member
 * replaces an earlier one), resolved against the top-level members. Returns, per member index,
 * its tokens per KV entry; members not smashed are absent.
 */
export function resolveSmash(
  statements: readonly ScopedStatement[],
  members: readonly ModelMember[],
  memberTotals: readonly Totals[],
  encoders: readonly boolean[],
  declaration: TextRange,
  ctx: EvalContext,
): ReadonlyMap<number, SmashedMember> {
  const out = new Map<number, SmashedMember>();
  const ownSeen = new Set<number>();
  for (const scoped of statements) {
    const s = scoped.statement;
    if (s.keyword !== 'smash') continue;
    const fail = (message: string, range: TextRange): void => ctx.sink.error('npas-smash', message, range);
    const call = s.value ? asStatementCall(s.value) : undefined;
    const method = call ? SMASH_METHODS.find((m) => m.name === call.name) : undefined;
    if (!call || !method) {
      fail('`smash` takes the members and tokens per KV entry: `smash body: tokens(2)`', s.value?.range ?? s.keywordRange);
      continue;
    }
    const args = readStatementArgs(call, method.args, 'npas-smash', scoped.scope, ctx);
    if (!args) continue;
    const r = args.get('r') as Q.Rational;
    if (Q.compare(r, Q.ONE) < 0 || Q.compare(r, Q.fromInt(MAX_TOKENS_PER_ENTRY)) > 0) {
      fail(`tokens(): a KV entry stands for 1 to ${MAX_TOKENS_PER_ENTRY} tokens on average, got ${Q.toDecimalString(r)}`, call.argsRange);
      continue;
    }
    if (s.targets.length === 0) fail('`smash` needs the top-level members that run over smashed positions: `smash body: tokens(2)`', s.keywordRange);
    const own = s.range.start >= declaration.start && s.range.end <= declaration.end;
    for (const target of s.targets) {
      const head = target.segments[0];
      const index = target.segments.length === 1 && head?.kind === 'PathName' ? members.findIndex((m) => m.name === head.name.text) : -1;
      if (index < 0) {
        fail(`'${describePath(target)}' is not a top-level member; smash names whole members (${members.map((m) => m.name).join(', ')}): a stack runs over the smashed positions or it does not`, target.range);
        continue;
      }
      const totals = memberTotals[index]!;
      if (totals.perSample) {
        fail(`'${members[index]!.name}' counts per sample, not per token; smashing merges tokens`, target.range);
        continue;
      }
      if (encoders[index] || [...totals.attention.values()].some((e) => e.info.cross)) {
        fail(`'${members[index]!.name}' is on the encoder side or attends to a source; smash applies to the members of a decoder-only stream`, target.range);
        continue;
      }
      if (own && ownSeen.has(index)) {
        fail(`'${members[index]!.name}' is smashed twice in one declaration`, target.range);
        continue;
      }
      if (own) ownSeen.add(index);
      out.set(index, { member: members[index]!.name, tokensPerEntry: r, range: s.range });
    }
  }
  return out;
}

function describePath(path: Path): string {
  return path.segments.map((s) => (s.kind === 'PathName' ? s.name.text : '[…]')).join('.');
}

/** ⌈s / r⌉: the positions a smashed member runs over for s tokens (a partial group takes a position). */
export function smashedPositions(s: number, r: Q.Rational): number {
  if (s <= 0) return 0;
  return Number(Q.ceil(Q.div(Q.fromInt(s), r)));
}
