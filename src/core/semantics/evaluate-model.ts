// Evaluates every model and variant of a file into its list of top-level modules and its
// sharing statements. A variant re-evaluates its base model with overridden bindings (so
// `d = 512` changes every layer that uses d) and appends its statements to the base's.

import type {
  Binding,
  ModelDeclaration,
  SourceFile,
  Statement,
  TextRange,
  VariantDeclaration,
} from '../syntax/syntax-tree.js';
import type { ModelMember } from '../model/module-tree.js';
import { asModule, evaluate, type EvalContext } from './evaluator.js';
import { declareMembers } from './declare-members.js';
import { Scope } from './scope.js';

export interface EvaluatedModel {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  readonly base: string | undefined;
  readonly declaration: ModelDeclaration | VariantDeclaration;
  readonly nameRange: TextRange;
  readonly members: readonly ModelMember[];
  readonly statements: readonly { statement: Statement; scope: Scope }[];
  /** The model scope (constants), used by budgets and hovers. */
  readonly scope: Scope;
}

export interface EvaluatedFile {
  readonly fileScope: Scope;
  readonly models: readonly EvaluatedModel[];
  /** Model and variant declarations by name. */
  readonly declarations: ReadonlyMap<string, ModelDeclaration | VariantDeclaration>;
}

export function evaluateFile(file: SourceFile, ctx: EvalContext): EvaluatedFile {
  const fileScope = new Scope(undefined, 'file');
  declareMembers(
    file.items.filter((i): i is Binding | import('../syntax/syntax-tree.js').BlockDeclaration => i.kind === 'Binding' || i.kind === 'Block'),
    fileScope,
    ctx,
    'this file',
  );
  const declarations = new Map<string, ModelDeclaration | VariantDeclaration>();
  for (const item of file.items) {
    if (item.kind !== 'Model' && item.kind !== 'Variant') continue;
    const name = item.name.text;
    if (name === '') continue;
    if (declarations.has(name) || fileScope.entries.has(name)) {
      ctx.sink.error('npas-name-duplicate', `'${name}' is defined twice in this file`, item.name.range);
      continue;
    }
    declarations.set(name, item);
  }
  // Top-level constants are evaluated once even if no model uses them, for their diagnostics.
  for (const item of file.items) if (item.kind === 'Binding') evaluate({ kind: 'Name', name: item.name, range: item.name.range }, fileScope, ctx);

  const models: EvaluatedModel[] = [];
  for (const item of file.items) {
    if ((item.kind !== 'Model' && item.kind !== 'Variant') || declarations.get(item.name.text) !== item) continue;
    ctx.currentModel = item.name.text;
    const m = evaluateDeclaration(item, declarations, fileScope, ctx);
    ctx.currentModel = undefined;
    if (m) models.push(m);
  }
  return { fileScope, models, declarations };
}

/** The chain from a variant down to its model: [model, variant1, …, this]. */
function chainOf(
  decl: ModelDeclaration | VariantDeclaration,
  declarations: ReadonlyMap<string, ModelDeclaration | VariantDeclaration>,
  ctx: EvalContext,
): [ModelDeclaration, ...VariantDeclaration[]] | undefined {
  const variants: VariantDeclaration[] = [];
  let cur: ModelDeclaration | VariantDeclaration | undefined = decl;
  const seen = new Set<string>();
  while (cur && cur.kind === 'Variant') {
    if (seen.has(cur.name.text)) {
      ctx.sink.error('npas-name-cycle', `variant ${decl.name.text} derives from itself`, decl.name.range);
      return undefined;
    }
    seen.add(cur.name.text);
    variants.unshift(cur);
    const baseName: string = cur.base.text;
    const next = declarations.get(baseName);
    if (!next) {
      if (cur === decl) ctx.sink.error('npas-model-unknown', `'${baseName}' is not a model or variant of this file`, cur.base.range);
      return undefined;
    }
    cur = next;
  }
  return cur ? [cur, ...variants] : undefined;
}

function evaluateDeclaration(
  decl: ModelDeclaration | VariantDeclaration,
  declarations: ReadonlyMap<string, ModelDeclaration | VariantDeclaration>,
  fileScope: Scope,
  ctx: EvalContext,
): EvaluatedModel | undefined {
  const chain = chainOf(decl, declarations, ctx);
  if (!chain) return undefined;
  const [model, ...variants] = chain;
  const scope = new Scope(fileScope, `model ${model.name.text}`);
  // Model parameters are constants with defaults that variants may override.
  for (const p of model.parameters) {
    if (scope.entries.has(p.name.text)) {
      ctx.sink.error('npas-name-duplicate', `parameter '${p.name.text}' is declared twice`, p.name.range);
      continue;
    }
    const value = p.defaultValue ?? { kind: 'Missing' as const, range: p.name.range };
    scope.entries.set(p.name.text, { kind: 'binding', binding: { kind: 'Binding', name: p.name, value, tiedTo: undefined, range: p.range }, state: 'pending', value: undefined });
  }
  declareMembers(model.members, scope, ctx, `model ${model.name.text}`);
  const statements: { statement: Statement; scope: Scope }[] = [];
  for (const m of model.members) if (m.kind === 'Statement') statements.push({ statement: m, scope });
  /** Binding currently defining each top-level name (overrides replace them). */
  const bindings = new Map<string, Binding>();
  for (const m of model.members) if (m.kind === 'Binding') bindings.set(m.name.text, m);

  for (const v of variants) {
    for (const m of v.members) {
      if (m.kind === 'Statement') {
        statements.push({ statement: m, scope });
        continue;
      }
      const name = m.name.text;
      if (m.kind === 'Block') {
        scope.entries.set(name, { kind: 'block', decl: m });
        continue;
      }
      const existing = scope.entries.get(name);
      if (!existing || existing.kind !== 'binding') {
        // Report only in the variant that wrote it (base variants report their own).
        if (v === decl) ctx.sink.error('npas-override-unknown', `${model.name.text} has no constant, parameter or module named '${name}' to override`, m.name.range);
        continue;
      }
      scope.entries.set(name, { kind: 'binding', binding: m, state: 'pending', value: undefined });
      if (bindings.has(name)) bindings.set(name, m);
    }
  }

  const members: ModelMember[] = [];
  for (const m of model.members) {
    if (m.kind !== 'Binding') continue;
    const binding = bindings.get(m.name.text) ?? m;
    const value = evaluate({ kind: 'Name', name: binding.name, range: binding.name.range }, scope, ctx);
    const node = value.kind === 'module' || value.kind === 'block' ? asModule(value, binding.value.range, ctx) : undefined;
    if (!node) {
      if (binding.tiedTo) ctx.sink.error('npas-module-expected', `only a layer can be tied, '${binding.name.text}' is not one`, binding.tiedTo.range);
      continue;
    }
    members.push({ name: binding.name.text, node, range: binding.range, tiedTo: binding.tiedTo ?? m.tiedTo });
  }
  // Parameters without defaults that no variant set.
  for (const p of model.parameters) {
    if (!p.defaultValue) {
      const e = scope.entries.get(p.name.text);
      if (e && e.kind === 'binding' && e.binding.value.kind === 'Missing' && decl === model) {
        ctx.sink.error('npas-block-arg', `model parameter '${p.name.text}' needs a default value`, p.name.range);
      }
    }
  }
  if (members.length === 0 && decl === model) ctx.sink.warning('npas-model-empty', `model ${model.name.text} has no layers`, model.name.range);
  return {
    name: decl.name.text,
    kind: decl.kind === 'Model' ? 'model' : 'variant',
    base: decl.kind === 'Variant' ? decl.base.text : undefined,
    declaration: decl,
    nameRange: decl.name.range,
    members,
    statements,
    scope,
  };
}
