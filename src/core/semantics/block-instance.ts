// Instantiates a block declaration with arguments: binds parameters (positional or named,
// defaults evaluated left to right), evaluates the members in a fresh scope, and hash-conses
// the result. Instantiations with equal argument values are evaluated once per analysis,
// which is what makes `[Decoder(window: …) for i in 0..10000]` cheap.

import type { BlockMember, BlockNode, ModuleNode } from '../model/module-tree.js';
import type { Argument, BlockDeclaration, TextRange } from '../syntax/syntax-tree.js';
import { mainWeight, tieCompatible } from '../model/main-weight.js';
import { LIMITS, asModule, evaluate, type EvalContext } from './evaluator.js';
import { bindArguments } from './layer-call.js';
import { declareMembers } from './declare-members.js';
import { checkRouterCells } from './router-cells.js';
import { Scope } from './scope.js';
import type { Value } from './values.js';

/** A memo key for a value, or undefined when the value cannot be keyed (errors). */
export function valueKey(v: Value, ctx: EvalContext): string | undefined {
  switch (v.kind) {
    case 'number':
      return `n${v.value.num}/${v.value.den}${v.unit[0]}`;
    case 'bool':
      return v.value ? 'T' : 'F';
    case 'string':
      return JSON.stringify(v.value);
    case 'symbol':
      return `$${v.name}`;
    case 'none':
      return '~';
    case 'list': {
      const parts: string[] = [];
      for (const item of v.items) {
        const k = valueKey(item, ctx);
        if (k === undefined) return undefined;
        parts.push(k);
      }
      return `[${parts.join(',')}]`;
    }
    case 'module':
      return `m${v.node.id}`;
    case 'block':
      return `b${ctx.idOf(v.decl)}@${ctx.scopeId(v.scope)}`;
    case 'layerKind':
      return `k${v.layer.name}`;
    case 'builtin':
      return `f${v.name}`;
    case 'device':
      return `d${JSON.stringify([v.profile.peakFlops, v.profile.bandwidth, String(v.profile.memoryBytes), v.profile.source])}`;
    case 'error':
      return undefined;
  }
}

export function instantiateBlock(
  decl: BlockDeclaration,
  declScope: Scope,
  args: readonly Argument[],
  callRange: TextRange,
  argsRange: TextRange,
  callerScope: Scope | undefined,
  ctx: EvalContext,
): BlockNode | undefined {
  const name = decl.name.text;
  const params = decl.parameters.map((p) => ({ name: p.name.text, positional: true }));
  const bound = bindArguments(args, params, name, argsRange, ctx);
  if (!bound) return undefined;

  const scope = new Scope(declScope, `block ${name}`);
  const keyParts: string[] = [];
  let ok = true;
  for (const p of decl.parameters) {
    const arg = bound.get(p.name.text);
    let value: Value;
    if (arg && callerScope) value = evaluate(arg.value, callerScope, ctx);
    else if (p.defaultValue) value = evaluate(p.defaultValue, scope, ctx);
    else {
      ctx.sink.error('npas-block-arg', `${name} needs a value for '${p.name.text}'`, argsRange);
      ok = false;
      continue;
    }
    const k = valueKey(value, ctx);
    if (k === undefined) {
      ok = false;
      continue;
    }
    keyParts.push(k);
    scope.entries.set(p.name.text, { kind: 'value', value, name: p.name });
  }
  if (!ok) return undefined;

  const memoKey = `${ctx.idOf(decl)}@${ctx.scopeId(declScope)}(${keyParts.join(',')})`;
  if (ctx.blockMemo.has(memoKey)) return ctx.blockMemo.get(memoKey) as BlockNode | undefined;

  if (ctx.instantiating.includes(decl)) {
    ctx.sink.error('npas-name-cycle', `block ${name} contains itself`, callRange);
    return undefined;
  }
  if (ctx.instantiating.length >= LIMITS.instantiationDepth) {
    ctx.sink.error('npas-eval-too-large', `blocks are nested more than ${LIMITS.instantiationDepth} deep`, callRange);
    return undefined;
  }
  if (!ctx.spend(LIMITS.instanceSteps, callRange)) return undefined;
  ctx.instantiating.push(decl);
  // An instance is built once (memoised): loops in its body do not multiply with the caller's.
  const nesting = ctx.nesting;
  ctx.nesting = 1;
  try {
    const node = buildBlock(decl, scope, ctx);
    ctx.blockMemo.set(memoKey, node);
    return node;
  } finally {
    ctx.instantiating.pop();
    ctx.nesting = nesting;
  }
}

function buildBlock(decl: BlockDeclaration, scope: Scope, ctx: EvalContext): BlockNode | undefined {
  declareMembers(decl.members, scope, ctx, `block ${decl.name.text}`);
  const members: BlockMember[] = [];
  const byName = new Map<string, ModuleNode>();
  for (const m of decl.members) {
    if (m.kind === 'Statement') {
      ctx.sink.error('npas-share-target', 'sharing statements belong in a model or a variant, not in a block', m.keywordRange);
      continue;
    }
    if (m.kind !== 'Binding') continue;
    const entry = scope.entries.get(m.name.text);
    if (!entry || entry.kind !== 'binding' || entry.binding !== m) continue;
    const value = entry.state === 'done' ? (entry.value ?? { kind: 'error' as const }) : evaluateEntry(m.name.text, scope, ctx);
    const node = value.kind === 'module' || value.kind === 'block' ? asModule(value, m.value.range, ctx) : undefined;
    if (!node) {
      if (m.tiedTo) ctx.sink.error('npas-module-expected', `only a layer can be tied, '${m.name.text}' is not one`, m.tiedTo.range);
      continue;
    }
    byName.set(m.name.text, node);
    members.push({ name: m.name.text, node, range: m.range, tiedTo: undefined });
  }
  // Ties inside a block name a sibling; they are resolved after all members exist.
  for (let i = 0; i < members.length; i++) {
    const binding = decl.members.find((b) => b.kind === 'Binding' && b.name.text === members[i]!.name);
    if (!binding || binding.kind !== 'Binding' || !binding.tiedTo) continue;
    const path = binding.tiedTo;
    const first = path.segments[0];
    if (path.segments.length !== 1 || !first || first.kind !== 'PathName') {
      ctx.sink.error('npas-share-target', 'inside a block, `tied` names a sibling member', path.range);
      continue;
    }
    const target = byName.get(first.name.text);
    if (!target) {
      ctx.sink.error('npas-share-target', `'${first.name.text}' is not a module of block ${decl.name.text}`, path.range);
      continue;
    }
    const a = mainWeight(members[i]!.node);
    const b = mainWeight(target);
    if (!a || !b || !tieCompatible(a.shape, b.shape)) {
      ctx.sink.error('npas-tie-shape', `cannot tie '${members[i]!.name}' to '${first.name.text}': ${a ? a.shape.join('×') : 'no weight'} vs ${b ? b.shape.join('×') : 'no weight'}`, path.range);
      continue;
    }
    members[i] = { ...members[i]!, tiedTo: first.name.text };
  }
  untieCycles(decl, members, ctx);
  checkRouterCells(members, ctx);
  const idParts = members.map((m) => `${m.name}=${m.node.id}${m.tiedTo ? `~${m.tiedTo}` : ''}`);
  const sigParts = members.map((m) => `${m.name}=${m.node.weightSignature}${m.tiedTo ? `~${m.tiedTo}` : ''}`);
  return {
    kind: 'block',
    id: ctx.interner.intern(`B${ctx.idOf(decl)}{${idParts.join(',')}}`),
    weightSignature: ctx.interner.intern(`BW{${sigParts.join(',')}}`),
    range: decl.range,
    blockName: decl.name.text,
    members,
    declarationRange: decl.range,
  };
}

function evaluateEntry(name: string, scope: Scope, ctx: EvalContext): Value {
  return evaluate({ kind: 'Name', name: { kind: 'Identifier', text: name, range: { start: 0, end: 0 } }, range: { start: 0, end: 0 } }, scope, ctx);
}

/**
 * A chain of sibling ties that comes back to where it started (`a tied b`, `b tied a`; `a tied
 * a`) leaves no member holding the store: each member on it is reported (`npas-tie-cycle`) and
 * untied, so the counts stay those of a spec that stores its weights.
 */
function untieCycles(decl: BlockDeclaration, members: BlockMember[], ctx: EvalContext): void {
  const tiedTo = new Map(members.map((m) => [m.name, m.tiedTo]));
  const onCycle = members.filter((m) => {
    let at = m.tiedTo;
    for (let hops = 0; at !== undefined && at !== m.name && hops < members.length; hops++) at = tiedTo.get(at);
    return at === m.name;
  });
  for (const m of onCycle) {
    const binding = decl.members.find((b) => b.kind === 'Binding' && b.name.text === m.name);
    const range = binding?.kind === 'Binding' && binding.tiedTo ? binding.tiedTo.range : m.range;
    ctx.sink.error('npas-tie-cycle', `'${m.name}' is tied to '${m.tiedTo}', and the chain of \`tied\` comes back to '${m.name}': no member of it holds the store`, range);
    members[members.indexOf(m)] = { ...m, tiedTo: undefined };
  }
}
