// Turns the sharing statements of a model (and its variant chain) into resolved declarations:
// each statement is resolved by the scheme it is written with (`SharingScheme`, registered in
// `src/core/schemes/registry.ts`), which checks its paths against the evaluated tree and its
// arguments against the method's typed specs. Every problem is a located diagnostic; a bad
// statement is dropped so the rest of the model still gets numbers.

import { mainWeight, tieCompatible } from '../model/main-weight.js';
import type { ModelMember } from '../model/module-tree.js';
import type { EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import type { Statement } from '../syntax/syntax-tree.js';
import type { HeadShare, Modifier, PatternStep, ResolvedSharing, StackStrategy, TieSource } from './declarations.js';
import { resolvePath, type ResolvedPath } from './resolve-path.js';
import { findScheme, type SchemeContext, type SharingScheme } from './scheme.js';

export interface ScopedStatement {
  readonly statement: Statement;
  readonly scope: Scope;
}

/** Resolves a model's `tied` bindings and its statements with the given schemes. */
export function resolveSharing(members: readonly ModelMember[], statements: readonly ScopedStatement[], ctx: EvalContext, schemes: readonly SharingScheme[]): ResolvedSharing {
  const modifiers: Modifier[] = [];
  const stacks = new Map<string, StackStrategy[]>();
  const stackPatterns = new Map<string, readonly PatternStep[]>();
  const headShares: HeadShare[] = [];
  let nextId = 1;
  const model: SchemeContext = {
    members,
    ctx,
    statements,
    modifiers,
    schemeOf: (s) => findScheme(schemes, s.keyword, s.modifier?.text),
    addModifier: (m) => void modifiers.push({ ...m, id: nextId++ }),
    strategiesOf: (key) => stacks.get(key) ?? [],
    addStrategy: ({ key, pattern }, strategy) => {
      stacks.set(key, [...(stacks.get(key) ?? []), strategy]);
      stackPatterns.set(key, pattern);
    },
    addHeadShare: (share) => void headShares.push(share),
    nextNumber: () => nextId,
  };
  resolveTiedBindings(model, statements);
  // Weight sharing first, so `share kv …: tied` can find the slots of its stack.
  const order = (s: Statement): number => model.schemeOf(s)?.order ?? 1;
  const ordered = [...statements].sort((x, y) => order(x.statement) - order(y.statement));
  for (const { statement, scope } of ordered) {
    const scheme = model.schemeOf(statement);
    if (scheme) scheme.resolve(statement, scope, model);
    else reportUnknownModifier(statement, schemes, ctx);
  }
  const hasAdapters = modifiers.some((m) => m.effect.kind === 'adapter' && !m.effect.relax);
  return { modifiers, stacks, stackPatterns, headShares, hasAdapters };
}

/**
 * Top-level `name = Layer(…) tied PATH` bindings: the main weight is another module's store. A tie
 * that would close a chain of ties back on itself (`a tied b`, `b tied a`; `a tied a`) leaves no
 * module holding the store: it is reported (`npas-tie-cycle`) and not made.
 */
function resolveTiedBindings(model: SchemeContext, statements: readonly ScopedStatement[]): void {
  const { members, ctx } = model;
  // Each member whose main weight is tied to another top-level member's main weight: that member.
  const tiedToMember = new Map<string, string>();
  for (const m of members) {
    if (!m.tiedTo) continue;
    // Paths in `tied` only contain literal indices; any scope evaluates them.
    const target = resolvePath(m.tiedTo, members, statements[0]?.scope ?? (undefined as unknown as Scope), ctx);
    if (!target) continue;
    const a = mainWeight(m.node);
    const t = target.weight && target.node.kind === 'layer' ? target.node.cost.weights.find((w) => w.name === target.weight) : mainWeight(target.node);
    if (!a || !t || !tieCompatible(a.shape, t.shape)) {
      ctx.sink.error('npas-tie-shape', `cannot tie '${m.name}' (${a ? a.shape.join('×') : 'no weight'}) to '${target.key}' (${t ? t.shape.join('×') : 'no weight'})`, m.tiedTo.range);
      continue;
    }
    const head = target.pattern[0];
    const owner = head?.kind === 'name' ? members.find((x) => x.name === head.name) : undefined;
    const ownersMain = owner && (target.pattern.length === 1 || (target.pattern.length === 2 && target.weight !== undefined && target.weight === mainWeight(owner.node)?.name)) ? owner.name : undefined;
    if (ownersMain !== undefined) {
      let at: string | undefined = ownersMain;
      for (let hops = 0; at !== undefined && at !== m.name && hops <= members.length; hops++) at = tiedToMember.get(at);
      if (at === m.name) {
        ctx.sink.error('npas-tie-cycle', `'${m.name}' is tied to '${target.key}', and the chain of \`tied\` comes back to '${m.name}': no module of it holds the store`, m.tiedTo.range);
        continue;
      }
      tiedToMember.set(m.name, ownersMain);
    }
    model.addModifier({ pattern: [{ kind: 'name', name: m.name }], effect: { kind: 'tie-main', source: tieSource(target) }, range: m.tiedTo.range });
  }
}

/** What a tie reads, as resolved. */
export function tieSource(r: ResolvedPath): TieSource {
  return { pattern: r.pattern, key: r.key, weight: r.weight, fansOut: r.fanOut !== undefined };
}

function reportUnknownModifier(s: Statement, schemes: readonly SharingScheme[], ctx: EvalContext): void {
  if (!s.modifier) return;
  const known = schemes.filter((x) => x.keyword === s.keyword && x.modifier !== undefined).map((x) => `'${x.modifier}'`);
  const list = known.length > 1 ? `${known.slice(0, -1).join(', ')} or ${known.at(-1)}` : known.join('');
  ctx.sink.error('npas-share-strategy', `unknown ${s.keyword} modifier '${s.modifier.text}' (use ${list})`, s.modifier.range);
}
