// The words of the language that are not layer kinds, as the editor shows them: statement
// methods and keywords. Statements come from the scheme registry (schemes/registry.ts), which
// is also what the engine resolves them with, so completion offers and hovers explain exactly
// what the engine accepts; the structural keywords (model, block, variant, …) are listed here.

import { SHARING_SCHEMES } from '../schemes/registry.js';
import { findScheme, type SchemeMethod } from '../sharing/scheme.js';
import type { ShareModifier } from '../syntax/token.js';

/** A strategy or method written after `:` (or after `relax`) in a statement. */
export type StatementMethod = SchemeMethod;

/**
 * Where a method is written: after `share …:`, `share kv …:`, `adapt …:` (a keyword and its
 * modifier, as the registry names schemes), or after `relax`, which takes an adapter.
 */
export interface MethodSlot {
  readonly keyword: string;
  readonly modifier?: string | undefined;
  readonly relax?: boolean;
}

/** The methods a slot accepts, from the scheme registry (an adapter after `relax`). */
export function methodsAt(slot: MethodSlot): readonly StatementMethod[] {
  const scheme = slot.relax ? findScheme(SHARING_SCHEMES, 'adapt', undefined) : findScheme(SHARING_SCHEMES, slot.keyword, slot.modifier);
  return scheme?.methods ?? [];
}

/**
 * A method of a statement by name, with its description (for hovers and argument completion):
 * the statement's own scheme's first (`sparse` after `train …:` is the pooled mask, after
 * `adapt …:` the per-target adapter), else the first scheme that has one (an adapter after `relax`).
 */
export function findStatementMethod(name: string, keyword?: string, modifier?: string): StatementMethod | undefined {
  const own = keyword === undefined ? undefined : methodsAt({ keyword, modifier }).find((m) => m.name === name);
  if (own) return own;
  for (const scheme of SHARING_SCHEMES) {
    const m = scheme.methods.find((x) => x.name === name);
    if (m) return m;
  }
  return undefined;
}

/** Keywords that start a member, with what they declare: `block`, then every scheme. */
export const MEMBER_KEYWORDS: readonly { readonly keyword: string; readonly snippet: string; readonly doc: string }[] = [
  { keyword: 'block', snippet: 'block ${1:Name} {\n  $0\n}', doc: 'A reusable group of members, optionally with parameters.' },
  ...SHARING_SCHEMES.map((s) => ({ keyword: s.modifier ? `${s.keyword} ${s.modifier}` : s.keyword, snippet: s.snippet, doc: s.summary })),
];

/** Keywords that start a top-level declaration. */
export const TOP_LEVEL_KEYWORDS: readonly { readonly keyword: string; readonly snippet: string; readonly doc: string }[] = [
  { keyword: 'model', snippet: 'model ${1:Name} {\n  $0\n}', doc: 'A model: constants, blocks and modules, analysed for its budget report.' },
  { keyword: 'block', snippet: 'block ${1:Name} {\n  $0\n}', doc: 'A reusable group of members visible in every model.' },
  { keyword: 'variant', snippet: 'variant ${1:Name} of ${2:Base} {\n  $0\n}', doc: 'A model or variant with overrides and sharing statements.' },
  { keyword: 'budget', snippet: 'budget ${1:Model} {\n  params.stored <= ${2:1B}\n}', doc: 'Constraints a model or variant must meet.' },
];

/** What each word after `share` (docs/language.md, "Sharing") shares: the hover of the modifier. */
export const SHARE_MODIFIER_DOCS: Readonly<Record<ShareModifier, string>> = {
  kv: '`share kv STACK: every(n) | map([…]) | tied` — layers that borrow another layer\'s KV keep their queries but drop their K and V projections and cache.',
  heads: '`share heads PATH: pairs(n, qkvo)` — n query/key head slices of the attention layers reuse another layer\'s.',
  experts:
    '`share experts STACK.moe: strategy` — the routed experts of the MoE layers mapped to one store are one pool (Megrez2, ReXMoE); routers, norms and shared experts stay per layer. ' +
    'A decode step of B tokens touches E·(1 − (1 − k/E)^(g·B)) experts of a pool g layers read, and the layers read g·E·(1 − (1 − k/E)^B).',
};

/** What each keyword does, for hovers (a statement keyword's text is its scheme's). */
export const KEYWORD_DOCS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(SHARING_SCHEMES.flatMap((s): [string, string][] => (s.hover ? [[s.keyword, s.hover]] : []))),
  model: 'Declares a model: constants, blocks and modules; every module is a child in the order written.',
  block: 'Declares a reusable group of members (`block Decoder(window = none) { … }`); `Decoder` alone means `Decoder()`.',
  variant: 'Declares a variant: a model or variant with overridden constants or modules and added sharing statements.',
  of: 'Names the model or variant a variant derives from.',
  budget: 'Attaches constraints (`params.stored <= 1.2B`, `kv(seq: 8K) <= 128MiB`) to a model or variant.',
  tied: '`tied PATH`: this layer\'s main weight is the same store as the main weight at PATH; in `share kv X: tied`, instances sharing a store share its KV.',
  relax: '`relax adapter`: adds a separate adapter to every instance of a shared stack (Relaxed Recursive Transformers).',
};
